"""A grid of small images with a caption under each: neighbours, every digit at a point, the hover card."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

GAP = 4
CAPTION = 14  # pixels of text under each image
HIGHLIGHT = QColor("#ffd54a")


class ThumbGrid(QWidget):
    """Images (n, 28, 28) in rows of `columns`, enlarged by a whole factor: `scale` if given, else the
    largest that fits the widget, at least `min_scale` (room for a caption such as "5 · 0.03").
    Click an image to pick it; `current` is outlined."""

    clicked = Signal(int)

    def __init__(self, columns: int, scale: int | None = None, min_scale: int = 1, parent=None):
        super().__init__(parent)
        self.columns = columns
        self.scale = scale
        self.min_scale = min_scale
        self.images: np.ndarray | None = None
        self.captions: list[str] = []
        self.tooltips: list[str] = []
        self.current = -1
        if scale is None:
            self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_items(self, images: np.ndarray | None, captions: list[str] = (), tooltips: list[str] = ()) -> None:
        count = len(self)
        self.images = None if images is None else np.ascontiguousarray(images, dtype=np.uint8)
        self.captions, self.tooltips = list(captions), list(tooltips)
        if len(self) != count:
            self.updateGeometry()  # only then: a new size hint re-lays out the whole window
        self.update()

    def set_current(self, k: int) -> None:
        self.current = k
        self.update()

    def __len__(self) -> int:
        return 0 if self.images is None else len(self.images)

    def _rows(self) -> int:
        return max(1, -(-len(self) // self.columns))

    def _cell(self) -> int:
        """Side of one enlarged image in pixels."""
        if self.scale is not None:
            return 28 * self.scale
        fit_w = (self.width() - GAP) // self.columns - GAP
        fit_h = (self.height() - GAP) // self._rows() - GAP - CAPTION
        return 28 * max(self.min_scale, min(fit_w, fit_h) // 28)

    def _rect(self, k: int) -> QRect:
        cell = self._cell()
        r, c = divmod(k, self.columns)
        return QRect(GAP + c * (cell + GAP), GAP + r * (cell + GAP + CAPTION), cell, cell)

    def sizeHint(self) -> QSize:
        return self._size(self.scale or max(2, self.min_scale))

    def minimumSizeHint(self) -> QSize:
        return self._size(self.scale or self.min_scale)

    def _size(self, scale: int) -> QSize:
        cell = 28 * scale
        columns = min(self.columns, max(1, len(self)))
        return QSize(GAP + columns * (cell + GAP), GAP + self._rows() * (cell + GAP + CAPTION))

    def index_at(self, x: int, y: int) -> int:
        for k in range(len(self)):
            if self._rect(k).adjusted(0, 0, 0, CAPTION).contains(x, y):
                return k
        return -1

    def mousePressEvent(self, event):
        k = self.index_at(int(event.position().x()), int(event.position().y()))
        if k >= 0 and event.button() == Qt.LeftButton:
            self.clicked.emit(k)

    def event(self, event):
        if event.type() == event.Type.ToolTip:
            k = self.index_at(event.pos().x(), event.pos().y())
            self.setToolTip(self.tooltips[k] if 0 <= k < len(self.tooltips) else "")
        return super().event(event)

    def paintEvent(self, event):
        if not len(self):
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.SmoothPixmapTransform, False)  # nearest neighbour: pixels stay crisp
        font = p.font()
        font.setPixelSize(CAPTION - 3)
        p.setFont(font)
        for k, image in enumerate(self.images):
            rect = self._rect(k)
            h, w = image.shape
            p.drawImage(rect, QImage(image.data, w, h, w, QImage.Format_Grayscale8))
            if k == self.current:
                p.setPen(QPen(HIGHLIGHT, 2))
                p.drawRect(rect.adjusted(-1, -1, 1, 1))
            if k < len(self.captions):
                p.setPen(HIGHLIGHT if k == self.current else self.palette().color(self.foregroundRole()))
                width = rect.width() + GAP
                text = p.fontMetrics().elidedText(self.captions[k], Qt.ElideMiddle, width)  # never into the next
                p.drawText(QRect(rect.left() - GAP // 2, rect.bottom() + 1, width, CAPTION),
                           Qt.AlignHCenter | Qt.AlignTop, text)
        p.end()
