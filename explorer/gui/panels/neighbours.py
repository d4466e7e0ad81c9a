"""Neighbours: the k images on the map nearest the decoded point in the full latent space, as
thumbnails with labels and distances, ringed on the map; and the hover card for points drawn on the
same spot, which shows several of them at once."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from explorer import jobs
from explorer.gui.threads.workers import Worker
from explorer.gui.widgets.thumbnail_grid import ThumbGrid

DEFAULT_K = 8
MAX_K = 32
COLUMNS = 4
HOVER_MAX = 6  # images on the hover card when points overlap
HINT = "Click or drag on the map: the images nearest that point in latent space appear here"


def show_hovered(latent_map, points) -> None:
    """The hover card for the points under the pointer: one image with its label and place, or, where
    several are drawn on the same spot, up to HOVER_MAX of them side by side, nearest first."""
    group = latent_map.hovered_group
    if points is None or not len(group):
        return
    sources = [points.source(int(k)) for k in group[:HOVER_MAX]]
    split, i = sources[0]
    nearest = f"{split.classes[int(split.labels[i])]} · {split.split} #{i:,}"
    if len(group) == 1:
        latent_map.show_inset(split.images[i].numpy(), nearest)
        return
    images = np.stack([split.images[i].numpy() for split, i in sources])
    captions = [split.classes[int(split.labels[i])] for split, i in sources]
    count = f"{len(sources)} of {len(group)}" if len(group) > len(sources) else str(len(group))
    latent_map.show_inset_group(images, captions, f"{count} points here, nearest first: {nearest}")


class NeighboursPanel(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.k = QSpinBox()
        self.k.setRange(1, MAX_K)
        self.k.setValue(DEFAULT_K)
        self.k.setPrefix("k = ")
        self.k.setToolTip("How many neighbours to show")
        self.caption = QLabel(HINT)
        self.caption.setWordWrap(True)
        self.caption.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.grid = ThumbGrid(COLUMNS, min_scale=2)
        self.grid.setToolTip("Click an image to decode its code")
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.k, 0, Qt.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(top)
        layout.addWidget(self.grid, 1)

    def clear(self, text: str = HINT) -> None:
        self.grid.set_items(None)
        self.caption.setText(text)


class Neighbours(QObject):
    """Keeps the panel (a dock under the decoded image) on the neighbours of the point last decoded."""

    shown = Signal()  # the panel now shows `indices` (into the window's points), closest first

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.panel = NeighboursPanel()
        self.dock = window._dock("Neighbours", self.panel, Qt.RightDockWidgetArea)  # under the decoded image
        decoded = window.findChild(QDockWidget, "Decoded")
        if decoded is not None:
            window.resizeDocks([decoded, self.dock], [500, 300], Qt.Vertical)
        self.query: np.ndarray | None = None  # (d,) the code last decoded
        self.indices: np.ndarray | None = None
        self.distances: np.ndarray | None = None
        self._latest = 0
        self.rings = pg.ScatterPlotItem(symbol="o", size=12, brush=None, pen=pg.mkPen("#ffffff", width=1.5))
        self.rings.setZValue(9)  # over the points, under the path and cursor
        window.map.addItem(self.rings)
        self.worker = Worker(jobs.neighbours, True, "neighbours", parent=self)
        self.worker.done.connect(self._ready)
        self.worker.failed.connect(lambda r, message: window.show_message("Cannot find the neighbours", message))
        window.decoded.connect(self._decoded)
        window.map.cloud.points_set.connect(self._points_changed)
        self.panel.k.valueChanged.connect(lambda _: self._request())
        self.panel.grid.clicked.connect(self._picked)
        self.dock.visibilityChanged.connect(self._visibility_changed)

    def workers(self) -> list[Worker]:
        return [self.worker]

    def _decoded(self, result: jobs.Decoded) -> None:
        self.query = result.request.z[0]
        self._request()

    def _points_changed(self) -> None:
        shown = self.window.shown_decode
        self.query = None if shown is None else shown.request.z[0]
        self._request()

    def _visibility_changed(self, visible: bool) -> None:
        self.rings.setVisible(visible)
        if visible:
            self._request()

    def _request(self) -> None:
        points = self.window.points
        if self.query is None or points is None:
            self.indices = self.distances = None
            self.rings.setData([], [])
            self.panel.clear(HINT if points is not None else "No images on the map to compare with")
            return
        if self.dock.isVisible():
            self._latest = self.worker.submit(jobs.NeighboursRequest(points.codes, self.query, self.panel.k.value()))

    def _ready(self, r: int, result) -> None:
        req, idx, dist = result
        points = self.window.points
        if r != self._latest or points is None or req.codes is not points.codes:
            return  # asked for before the points changed
        self.indices, self.distances = idx, dist
        sources = [points.source(int(k)) for k in idx]
        images = np.stack([split.images[i].numpy() for split, i in sources])
        names = [split.classes[int(split.labels[i])] for split, i in sources]
        tips = [f"{name} · {split.split} image #{i:,}\nlatent distance {d:.4g}\nClick to decode its code"
                for name, (split, i), d in zip(names, sources, dist)]
        self.panel.grid.set_items(images, [f"{name} · {d:.2f}" for name, d in zip(names, dist)], tips)
        d, model = len(req.query), self.window.session.model
        text = f"The {len(idx)} nearest of {len(points):,} images on the map, by distance in the {d}-d latent space"
        if d > 2:
            text += " (full codes: near in latent space need not be near on the map's plane)"
        if model.conditional:
            text += ". The code holds the style only: neighbours share it, whatever their digit"
        self.panel.caption.setText(text + "; ringed on the map.")
        uv = self.window.plane.project(req.codes[idx])
        self.rings.setData(uv[:, 0], uv[:, 1])
        self.shown.emit()

    def _picked(self, k: int) -> None:
        points = self.window.points
        if self.indices is None or points is None or k >= len(self.indices):
            return
        code = points.codes[self.indices[k] : self.indices[k] + 1]
        self.window.decode_code(code)
