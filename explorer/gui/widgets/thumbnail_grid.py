"""One grid of small images for every panel that shows some: the selection (tens of thousands, in a
scroll area), the neighbours, every digit at the cursor and the hover card.

Images go in rows, each with an optional caption under it and an optional label chip in its corner
(in its class colour). Only the rows in view are painted, and their images are fetched as they are
painted when given as a function, so a selection of 70,000 images costs one widget and a few
milliseconds per scroll. With a fixed number of columns the images take the largest whole
enlargement that fits the widget; without, as many columns fit as the width allows and the widget
is as tall as its rows (for a scroll area).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from explorer.gui.widgets.images import to_qimage

CAPTION = 14  # pixels of text under each image
HIGHLIGHT = QColor("#ffd54a")
BACKGROUND = QColor("#202124")
SIDE = 28  # pixels of an image before enlarging


class ThumbnailGrid(QWidget):
    clicked = Signal(int)  # position in the grid

    def __init__(self, columns: int | None = None, scale: int | None = None, min_scale: int = 1, gap: int = 4,
                 palette: tuple[str, ...] = (), parent=None):
        super().__init__(parent)
        self.fixed_columns, self.scale, self.min_scale, self.gap = columns, scale, min_scale, gap
        self.palette_colours = palette  # label chips in these colours; none: no chips
        self.count = 0
        self.images: np.ndarray | None = None  # when given as an array
        self._fetch: Callable[[np.ndarray], np.ndarray] = lambda ks: self.images[ks]
        self.captions: list[str] = []
        self.labels = np.zeros(0, dtype=np.int64)
        self._tooltips: list[str] | Callable[[int], str] = []
        self.current = -1
        self.painted = 0  # thumbnails drawn by the last paint (only the rows in view are)
        self.setMouseTracking(True)
        if columns is None:
            self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        elif scale is None:
            self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_items(self, images, captions=(), tooltips=(), labels=None, count: int | None = None) -> None:
        """Images (n, h, w) uint8, or a function of grid positions giving theirs (with `count`); a caption
        under each; tooltips (a list, or a function of the position); labels (n,) for the chips."""
        before = self.count
        if callable(images):
            self.images, self._fetch, self.count = None, images, int(count)
        else:
            self.images = None if images is None else np.ascontiguousarray(images, dtype=np.uint8)
            self._fetch = lambda ks: self.images[ks]
            self.count = 0 if self.images is None else len(self.images)
        self.captions, self._tooltips = list(captions), tooltips
        self.labels = np.zeros(self.count, dtype=np.int64) if labels is None else np.asarray(labels)
        self.current = -1
        if self.fixed_columns is None:
            self._fit_height()
        elif self.count != before:
            self.updateGeometry()  # only then: a new size hint re-lays out the whole window
        self.update()

    def images_at(self, positions: np.ndarray) -> np.ndarray:
        """The images (k, h, w) at these grid positions."""
        return self._fetch(np.asarray(positions, dtype=np.int64))

    def set_current(self, k: int) -> None:
        self.current = k
        self.update()

    def __len__(self) -> int:
        return self.count

    # --- geometry ---------------------------------------------------------------------------------
    def _side(self) -> int:
        """Side of one enlarged image in pixels."""
        if self.scale is not None or self.fixed_columns is None:
            return SIDE * (self.scale or self.min_scale)
        fit_w = (self.width() - self.gap) // self.fixed_columns - self.gap
        fit_h = (self.height() - self.gap) // self._rows(self.fixed_columns) - self.gap - self._caption()
        return SIDE * max(self.min_scale, min(fit_w, fit_h) // SIDE)

    def _caption(self) -> int:
        """Room for a caption under each image: a grid of a few (fixed columns) keeps it, captions or not,
        so its size stays put; the selection's scrolling grid has none."""
        return CAPTION if self.fixed_columns is not None else 0

    @property
    def cell(self) -> int:
        return self._side() + self.gap

    def columns(self) -> int:
        if self.fixed_columns is not None:
            return self.fixed_columns
        return max(1, (self.width() - self.gap) // self.cell)

    def _rows(self, columns: int) -> int:
        return max(1, -(-self.count // columns))

    def _left(self) -> int:
        """Where the first column starts: a grid that fills the width is centred in it."""
        if self.fixed_columns is not None:
            return self.gap
        return (self.width() - self.columns() * self.cell + self.gap) // 2

    def rect_of(self, k: int) -> QRect:
        side, (row, col) = self._side(), divmod(k, self.columns())
        return QRect(self._left() + col * (side + self.gap), self.gap + row * (side + self.gap + self._caption()),
                     side, side)

    def index_at(self, x: float, y: float) -> int:
        side, caption = self._side(), self._caption()
        col, row = int((x - self._left()) // (side + self.gap)), int((y - self.gap) // (side + self.gap + caption))
        k = row * self.columns() + col
        inside = 0 <= col < self.columns() and 0 <= k < self.count and x >= self._left() and y >= self.gap
        return k if inside and self.rect_of(k).adjusted(0, 0, 0, caption).contains(int(x), int(y)) else -1

    def _size(self, scale: int) -> QSize:
        side, columns = SIDE * scale, min(self.fixed_columns or 8, max(1, self.count))
        return QSize(self.gap + columns * (side + self.gap),
                     self.gap + self._rows(self.columns()) * (side + self.gap + self._caption()))

    def sizeHint(self) -> QSize:
        return self._size(self.scale or max(2, self.min_scale))

    def minimumSizeHint(self) -> QSize:
        if self.fixed_columns is None:  # in a scroll area: one column, never wider than the viewport
            return QSize(self.cell + self.gap, self.cell + self.gap)
        return self._size(self.scale or self.min_scale)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self.fixed_columns is None:
            self._fit_height()

    def _fit_height(self) -> None:
        height = -(-self.count // self.columns()) * (self.cell + self._caption()) + self.gap
        if self.height() != height:
            self.setFixedHeight(height)

    # --- painting and the mouse --------------------------------------------------------------------
    def paintEvent(self, event):
        painter = QPainter(self)
        if self.fixed_columns is None:
            painter.fillRect(event.rect(), BACKGROUND)
        row_height = self.cell + self._caption()
        first = max(0, (event.rect().top() - self.gap) // row_height) * self.columns()
        last = min(self.count, (event.rect().bottom() // row_height + 1) * self.columns())
        self.painted = max(0, last - first)
        if last <= first:
            return
        painter.setRenderHint(QPainter.SmoothPixmapTransform, False)  # nearest neighbour: pixels stay crisp
        positions = np.arange(first, last)
        images = np.ascontiguousarray(self.images_at(positions), dtype=np.uint8)
        font = QFont(self.font())
        font.setPixelSize(CAPTION - 3)
        painter.setFont(font)
        for k, image in zip(positions, images):
            rect = self.rect_of(int(k))
            painter.drawImage(rect, to_qimage(image))
            if self.palette_colours:
                self._chip(painter, rect, int(self.labels[k]))
            if k == self.current:
                painter.setPen(QPen(HIGHLIGHT, 2))
                painter.drawRect(rect.adjusted(-1, -1, 1, 1) if self.captions else rect.adjusted(1, 1, -1, -1))
            if k < len(self.captions):
                painter.setPen(HIGHLIGHT if k == self.current else self.palette().color(self.foregroundRole()))
                width = rect.width() + self.gap
                text = painter.fontMetrics().elidedText(self.captions[k], Qt.ElideMiddle, width)  # never into the next
                painter.drawText(QRect(rect.left() - self.gap // 2, rect.bottom() + 1, width, CAPTION),
                                 Qt.AlignHCenter | Qt.AlignTop, text)

    def _chip(self, painter: QPainter, rect: QRect, label: int) -> None:
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        chip = QRect(rect.left(), rect.top(), 12, 13)
        painter.fillRect(chip, QColor(0, 0, 0, 170))
        painter.setPen(QColor(self.palette_colours[label % len(self.palette_colours)]).lighter(130))
        painter.drawText(chip, Qt.AlignCenter, str(label))
        font.setBold(False)
        painter.setFont(font)

    def tooltip(self, k: int) -> str:
        if callable(self._tooltips):
            return self._tooltips(k) if 0 <= k < self.count else ""
        return self._tooltips[k] if 0 <= k < len(self._tooltips) else ""

    def mouseMoveEvent(self, event):
        text = self.tooltip(self.index_at(event.position().x(), event.position().y()))
        if text:
            QToolTip.showText(event.globalPosition().toPoint(), text, self)
        else:
            QToolTip.hideText()

    def mousePressEvent(self, event):
        k = self.index_at(event.position().x(), event.position().y())
        if k >= 0 and event.button() == Qt.LeftButton:
            self.set_current(k)
            self.clicked.emit(k)
