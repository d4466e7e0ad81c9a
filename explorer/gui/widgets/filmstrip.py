"""The decodes along an interpolation path, side by side, with controls to resample, play and export."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.engine.config import MAX_STEPS
from explorer.gui.widgets.images import to_pixmap
from explorer.gui.widgets.wrapped_label import WrappedLabel
from explorer.latent.export import tile

DEFAULT_STEPS = 10
PLAY_FPS = 8
STRIP_SCALE = 4  # exported filmstrip pixels per image pixel: 112 px frames for a slide
STRIP_FPS = 10.0
HINT = "Draw a path on the map: L for a straight line, F for freehand, W to click waypoints"


class Strip(QLabel):
    """The frames in as many rows as show them largest (one row in a short dock, more in a tall one),
    enlarged by a whole factor where they fit, else scaled down: however many frames, the strip never
    asks the window for more room. Frames may be any size, grey or colour. Click a frame to pick it."""

    clicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.frames: np.ndarray | None = None
        self.current = -1
        self.setMinimumSize(60, 60)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Expanding)  # the pixmap's width is no size hint
        self.setAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        self.cols = 1
        self.cell = 0.0  # a frame's width in pixels as shown
        self.cell_height = 0.0

    def sizeHint(self) -> QSize:
        return QSize(400, 90)

    def minimumSizeHint(self) -> QSize:
        return QSize(60, 60)

    def set_frames(self, frames: np.ndarray | None) -> None:
        self.frames = frames
        self.current = -1
        self._render()

    def set_current(self, k: int) -> None:
        self.current = k
        self._render()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._render()

    def frame_at(self, x: float, y: float) -> int | None:
        """The frame under widget point (x, y), or None."""
        if self.frames is None or not self.cell:
            return None
        rows = -(-len(self.frames) // self.cols)
        top = (self.height() - rows * self.cell_height) / 2  # the pixmap is centred vertically
        row, col = int((y - top) // self.cell_height), int(x // self.cell)
        k = row * self.cols + col
        return k if 0 <= row < rows and 0 <= col < self.cols and k < len(self.frames) else None

    def mousePressEvent(self, event):
        k = self.frame_at(event.position().x(), event.position().y())
        if k is not None and event.button() == Qt.LeftButton:
            self.clicked.emit(k)

    def _render(self) -> None:
        if self.frames is None or len(self.frames) == 0:
            self.clear()
            self.cell = 0.0
            return
        n, h, w = self.frames.shape[:3]
        self.cols, fit = strip_layout(n, h, w, self.width(), self.height() - 4)
        scale = max(1, int(fit))
        pix = to_pixmap(tile(self.frames, self.cols), scale)
        if 0 <= self.current < n:
            row, col = divmod(self.current, self.cols)
            painter = QPainter(pix)
            painter.setPen(QPen(QColor("#ffd54a"), max(2, scale // 2)))
            painter.drawRect(QRect(col * w * scale + 1, row * h * scale + 1, w * scale - 2, h * scale - 2))
            painter.end()
        if fit < 1:  # too many frames for whole pixels each: shrink them to fit
            pix = pix.scaled(max(1, int(self.cols * w * fit)), max(1, int(pix.height() * fit)), Qt.IgnoreAspectRatio,
                             Qt.SmoothTransformation)
        self.cell, self.cell_height = pix.width() / self.cols, pix.height() / -(-n // self.cols)
        self.setPixmap(pix)


def strip_layout(n: int, h: int, w: int, width: int, height: int) -> tuple[int, float]:
    """(columns, scale) that show n frames of h x w pixels largest within width x height. A scale of 1 or
    more counts in whole steps (frames are enlarged crisply); ties go to fewer rows."""
    best_cols, best = n, 0.0
    for rows in range(1, n + 1):
        cols = -(-n // rows)
        if (rows - 1) * cols >= n:  # this many rows would leave the last one empty
            continue
        fit = min(max(height, 1) / (rows * h), max(width, 1) / (cols * w))
        if (int(fit) if fit >= 1 else fit) > (int(best) if best >= 1 else best):
            best_cols, best = cols, fit
    return best_cols, best


class Filmstrip(QWidget):
    settings_changed = Signal()  # steps or interpolation changed: decode the path again
    frame_selected = Signal(int)  # the user picked a frame, or the animation moved to it
    export_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.strip = Strip()
        self.strip.clicked.connect(self.show_frame)
        self.caption = WrappedLabel(HINT)  # never widens the window; wraps where the controls leave little room
        self.steps = QSpinBox()
        self.steps.setRange(2, MAX_STEPS)
        self.steps.setValue(DEFAULT_STEPS)
        self.steps.setPrefix("Steps ")
        self.steps.setToolTip("How many decodes, evenly spaced along the path")
        self.steps.valueChanged.connect(self.settings_changed)
        self.interpolation = QComboBox()
        self.interpolation.addItems(["Linear", "Spherical"])
        self.interpolation.setToolTip("Spherical (slerp) walks between the full codes of each segment's ends,\n"
                                      "keeping the norm typical of the prior; for latent dimensions above 2")
        self.interpolation.currentIndexChanged.connect(self._interpolation_changed)
        self.smooth = QCheckBox("Smooth")
        self.smooth.setToolTip("A smooth curve through the waypoints (Catmull-Rom) instead of straight segments")
        self.smooth.toggled.connect(self.settings_changed)
        self.play = QPushButton("Play")
        self.play.setCheckable(True)
        self.play.setToolTip("Play the path as an animation (Space)")
        self.play.toggled.connect(self._toggle_play)
        self.export = QPushButton("Export…")
        self.export.setToolTip("Save the strip as PNG or the animation as GIF")
        self.export.clicked.connect(self.export_requested)
        self.timer = QTimer(self)
        self.timer.setInterval(1000 // PLAY_FPS)
        self.timer.timeout.connect(self._advance)

        controls = QHBoxLayout()
        controls.addWidget(self.caption, 1)
        for w in (self.steps, self.smooth, self.interpolation, self.play, self.export):
            controls.addWidget(w, 0, Qt.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(controls)
        layout.addWidget(self.strip, 1)
        self.set_frames(None)

    @property
    def frames(self) -> np.ndarray | None:
        return self.strip.frames

    def spherical(self) -> bool:
        return self.interpolation.isEnabled() and self.interpolation.currentIndex() == 1

    def allow_spherical(self, allowed: bool) -> None:
        self.interpolation.setEnabled(allowed)
        if not allowed:
            self.interpolation.setToolTip("Spherical interpolation needs a latent dimension above 2")
        self.smooth.setEnabled(not self.spherical())

    def show_settings(self, steps: int, smooth: bool, spherical: bool) -> None:
        """Show a path's own settings (an opened file's) without asking for a decode for each."""
        for w in (self.steps, self.smooth, self.interpolation):
            w.blockSignals(True)
        self.steps.setValue(steps)
        self.smooth.setChecked(smooth)
        if self.interpolation.isEnabled():
            self.interpolation.setCurrentIndex(int(spherical))
        self.smooth.setEnabled(not self.spherical())
        for w in (self.steps, self.smooth, self.interpolation):
            w.blockSignals(False)

    def _interpolation_changed(self) -> None:
        self.smooth.setEnabled(not self.spherical())  # a spherical path slerps between waypoints: no curve
        self.settings_changed.emit()

    def set_frames(self, frames: np.ndarray | None, caption: str = "") -> None:
        self.strip.set_frames(frames)
        has = frames is not None and len(frames) > 0
        self.play.setEnabled(has)
        self.export.setEnabled(has)
        if not has:
            self.play.setChecked(False)
        if caption:
            self.caption.setText(caption)

    def show_frame(self, k: int) -> None:
        self.strip.set_current(k)
        self.frame_selected.emit(k)

    def stop(self) -> None:
        self.play.setChecked(False)

    def _toggle_play(self, playing: bool) -> None:
        self.play.setText("Pause" if playing else "Play")
        if playing:
            self.timer.start()
        else:
            self.timer.stop()

    def _advance(self) -> None:
        if self.frames is None or len(self.frames) == 0:
            self.stop()
            return
        self.show_frame((self.strip.current + 1) % len(self.frames))
