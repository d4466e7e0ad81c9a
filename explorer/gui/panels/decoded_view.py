"""The decoded image at the cursor, large and crisp, and the nearest real image for comparison."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from explorer.data.datasets import classes
from explorer.gui.state import ViewState
from explorer.gui.widgets.images import to_pixmap

HINT = "Click or drag on the map to decode a point"


class PixelImage(QLabel):
    """A small grey image scaled by a whole factor to fill the label, nearest neighbour, never blurred."""

    def __init__(self, minimum: int, parent=None):
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self.setMinimumSize(minimum, minimum)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setAlignment(Qt.AlignCenter)
        self.setStyleSheet("background: #000000;")

    def set_image(self, image: np.ndarray | None) -> None:
        self.image = None if image is None else np.array(image, dtype=np.uint8)
        self._render()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._render()

    def sizeHint(self) -> QSize:
        return QSize(self.minimumWidth(), self.minimumHeight())

    def _render(self) -> None:
        if self.image is None:
            self.setPixmap(QPixmap())
            return
        h, w = self.image.shape[:2]
        scale = max(1, min(self.width() // w, self.height() // h))
        self.setPixmap(to_pixmap(self.image, scale))


class DecodedView(QWidget):
    """Shows the state's decode: the image, where it is and what it is, and the nearest real image; where
    a decode failed, why, with the details (the user's own traceback) a click away, until the next one."""

    details_requested = Signal(object)  # the failure whose details the user asked to see

    def __init__(self, state: ViewState, parent=None):
        super().__init__(parent)
        self.state = state
        self.failure = None  # the failure said in place of the decode, until the next decode
        # 4x and 2x at least, larger where the dock has room: the decode, its caption, the nearest image and
        # the neighbours' first row fit the right column of a 1280 x 720 screen (at 7x and 3x, and two rows of
        # neighbours, the column asked 670 px and the window 777)
        self.decoded = PixelImage(112)
        self.where = QLabel(HINT)
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextSelectableByMouse)
        # room for the longest caption, so a caption changing its length never moves the docks below
        self.where.setMinimumHeight(5 * self.where.fontMetrics().lineSpacing())
        self.where.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.details = QPushButton("Details…")
        self.details.setToolTip("The traceback of the error, from your model's code")
        self.details.clicked.connect(lambda: self.failure is not None and self.details_requested.emit(self.failure))
        self.details.hide()
        self.nearest_title = QLabel("<b>Nearest real image</b>")
        self.nearest = PixelImage(56)
        self.nearest.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.nearest_caption = QLabel("")
        self.nearest_caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        for w, stretch in ((self.decoded, 3), (self.where, 0), (self.details, 0), (self.nearest_title, 0),
                           (self.nearest, 1), (self.nearest_caption, 0)):
            layout.addWidget(w, stretch)
        state.decoded.connect(self._decoded)
        state.decode_failed.connect(self._failed)
        state.session_changed.connect(lambda session: state.shown_decode is None and self.clear())

    def _decoded(self, result) -> None:
        s = self.state
        req, d = result.request, s.session.model.latent_dim
        where = s.describe_place(s.cursor.uv if req.draw is not None and s.cursor else req.uv, result.z[0])
        if d > 2:
            where += f"\nthe full {d}-d code is decoded"
        if req.source:
            where += f"\n{req.source[0].upper()}{req.source[1:]}"
        if req.label is not None:
            name = classes(s.session.dataset)[req.label]
            where += f"\ndrawn as {'digit ' + name if name.isdigit() else name}"
        self.show_decode(result.image, where)
        if result.nearest is None:
            self.show_nearest(None, "No real images to compare with")
        else:
            name, i, distance = result.nearest
            split = s.session.splits[name]
            # searched among the train images where they are embedded (Neighbours: the images on the map)
            self.nearest_title.setText("<b>Nearest point given</b>" if split.split == "codes" else
                                       f"<b>Nearest {split.split} image</b>")  # one line: the docks below stay put
            self.show_nearest(split.images[i].numpy(), f"{split.classes[int(split.labels[i])]} "
                                                       f"({split.describe(i)}), latent distance {distance:.3g}")

    def _failed(self, message) -> None:
        self.clear(f"Cannot decode here: {message}")
        self.failure = message
        self.details.setVisible(bool(getattr(message, "details", "")))

    def show_decode(self, image: np.ndarray, where: str) -> None:
        self.decoded.set_image(image)
        self.where.setText(where)
        self.failure = None
        self.details.hide()

    def show_nearest(self, image: np.ndarray | None, caption: str) -> None:
        self.nearest.set_image(image)
        self.nearest_caption.setText(caption)

    def clear(self, message: str = HINT) -> None:
        self.failure = None
        self.details.hide()
        self.decoded.set_image(None)
        self.nearest.set_image(None)
        self.where.setText(message)
        self.nearest_caption.setText("")
