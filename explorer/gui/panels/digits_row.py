"""Every digit at the cursor: a conditional VAE's decoder takes a code and a label, so the code at the
cursor is drawn once per label, side by side. The row shows that the code holds the style (slant,
stroke, width) and the label only says which digit."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from explorer.data.datasets import classes
from explorer.gui.docks import Docks
from explorer.gui.feedback import Feedback
from explorer.gui.state import ViewState
from explorer.gui.threads.workers import Workers
from explorer.gui.widgets.thumbnail_grid import ThumbnailGrid
from explorer.gui.widgets.wrapped_label import WrappedLabel
from explorer.latent import worker_jobs

ROW_HEIGHT = 160  # pixels: digits enlarged three times, with the caption above
EXPLAINED = ("One latent point, every digit: the code holds the style (slant, stroke, width), the label "
             "only says which digit. Drag on the map to change the style; click a digit to decode with it.")


class DigitsRow(QObject):
    """The dock under the map for conditional models, kept on the code last decoded."""

    shown = Signal()  # the row now shows `images` for `code`
    available = Signal(bool)  # whether the open model is conditional (the row has something to show)

    def __init__(self, state: ViewState, workers: Workers, docks: Docks, feedback: Feedback, parent=None):
        super().__init__(parent)
        self.state, self.docks = state, docks
        self.caption = WrappedLabel(EXPLAINED)
        self.grid = ThumbnailGrid(columns=10)
        self.grid.setToolTip("Click a digit to decode with it")
        panel = QWidget()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.caption)
        layout.addWidget(self.grid, 1)
        self.dock = docks.add("Every digit at the cursor", panel, Qt.BottomDockWidgetArea)
        path_dock = docks.find("Interpolation path")
        if path_dock is not None:
            docks.split(self.dock, path_dock, Qt.Vertical)  # the row above the filmstrip
        self.dock.hide()
        self.code: np.ndarray | None = None  # (1, d) decoded with every label
        self._uv = None  # its map point
        self.images: np.ndarray | None = None
        self._conditional = False
        self.worker = workers.add(worker_jobs.decode_each, True, "every digit", self._ready,
                                  lambda r, message: feedback.show_message("Cannot decode every digit", message))
        state.decoded.connect(lambda result: self._request(result.request.z, result.request.uv))
        state.session_changed.connect(self._session_changed)
        state.label_changed.connect(lambda label: self.grid.set_current(-1 if label is None else label))
        self.grid.clicked.connect(state.set_label)
        self.dock.visibilityChanged.connect(lambda visible: visible and self.code is not None and
                                            self._request(self.code, self._uv))

    def _session_changed(self, session) -> None:
        conditional = session is not None and session.model.conditional
        self.available.emit(conditional)
        if conditional and not self._conditional:  # a conditional model just opened: show what it does
            self.dock.show()
            self.docks.resize([self.dock], [ROW_HEIGHT], Qt.Vertical)
        elif not conditional:
            self.dock.hide()
        self._conditional = conditional
        if conditional and self.state.cursor is None and self.state.shown_decode is None:
            # nothing decoded yet: start at the map's origin, where the prior is densest for a 2-d code
            self._request(self.state.plane.to_latent([0.0, 0.0]), (0.0, 0.0))

    def _request(self, code: np.ndarray, uv) -> None:
        s = self.state.session
        if s is None or not s.model.conditional:
            return
        self.code, self._uv = code, uv
        if self.dock.isVisible():
            n = s.model.config.num_classes
            self.worker.submit(worker_jobs.DecodeEach(((s.model, np.repeat(code, n, axis=0), np.arange(n)),), uv), "digits")

    def _ready(self, r: int, result: list) -> None:
        s = self.state.session
        if not self.worker.is_newest(r) or s is None or not s.model.conditional:
            return
        self.images = result[0]
        names = list(classes(s.dataset))[: len(self.images)]
        self.grid.set_items(self.images, names)
        self.grid.set_current(-1 if self.state.label is None else self.state.label)
        u, v = self._uv
        self.caption.setText(f"<b>At ({u:.2f}, {v:.2f})</b>: {EXPLAINED}")
        self.shown.emit()
