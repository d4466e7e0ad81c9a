"""Neighbours: the k images on the map nearest the decoded point in the full latent space, as
thumbnails with labels and distances, ringed on the map; and the hover card for points drawn on the
same spot, which shows several of them at once."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QSpinBox, QVBoxLayout, QWidget

from explorer.gui.docks import Docks
from explorer.gui.feedback import Feedback
from explorer.gui.map.latent_map import LatentMap
from explorer.gui.state import ViewState
from explorer.gui.threads.workers import Workers
from explorer.gui.widgets.thumbnail_grid import CAPTION, SIDE, ThumbnailGrid
from explorer.gui.widgets.wrapped_label import WrappedLabel
from explorer.latent import worker_jobs

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
        self.caption = WrappedLabel(HINT, lines=3)  # what a 2-d model's caption takes beside k, 280 px wide
        self.grid = ThumbnailGrid(COLUMNS, min_scale=2)
        self.grid.setToolTip("Click an image to decode its code")
        # rows that do not fit scroll: a larger k never grows the window, and no row is cut off
        scroll = QScrollArea()
        scroll.setWidget(self.grid)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        # one whole row of 56 px images with its captions, whatever k (the rest scrolls): the dock takes that
        # room from the decode above instead of cutting the row off; two rows made the window 777 px tall
        scroll.setMinimumHeight(2 * SIDE + CAPTION + 2 * self.grid.gap)
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.k, 0, Qt.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)

    def clear(self, text: str = HINT) -> None:
        self.grid.set_items(None)
        self.caption.setText(text)


class Neighbours(QObject):
    """Keeps the panel (a dock under the decoded image) on the neighbours of the point last decoded."""

    shown = Signal()  # the panel now shows `indices` (into the state's points), closest first

    def __init__(self, state: ViewState, latent_map: LatentMap, workers: Workers, docks: Docks, feedback: Feedback,
                 parent=None):
        super().__init__(parent)
        self.state = state
        self.panel = NeighboursPanel()
        self.dock = docks.add("Neighbours", self.panel, Qt.RightDockWidgetArea)  # under the decoded image
        decoded = docks.find("Decoded")
        if decoded is not None:
            docks.resize([decoded, self.dock], [500, 300], Qt.Vertical)
        self.query: np.ndarray | None = None  # (d,) the code last decoded
        self.indices: np.ndarray | None = None
        self.distances: np.ndarray | None = None
        self.rings = pg.ScatterPlotItem(symbol="o", size=12, brush=None, pen=pg.mkPen("#ffffff", width=1.5))
        self.rings.setZValue(9)  # over the points, under the path and cursor
        latent_map.addItem(self.rings)
        self.worker = workers.add(worker_jobs.neighbours, True, "neighbours", self._ready,
                                  lambda r, message: feedback.show_message("Cannot find the neighbours", message))
        state.decoded.connect(self._decoded)
        state.decode_failed.connect(self._decode_failed)
        state.points_changed.connect(self._points_changed)
        self.panel.k.valueChanged.connect(lambda _: self._request())
        self.panel.grid.clicked.connect(self._picked)
        self.dock.visibilityChanged.connect(self._visibility_changed)

    def _decoded(self, result: worker_jobs.Decoded) -> None:
        self.query = result.z[0]  # the code decoded: a draw from q(z|x), not the mean it was drawn around
        self._request()

    def _decode_failed(self, _why) -> None:
        """The cursor moved but its decode failed: its neighbours are found from its code alone, so they
        follow it (those of the last good decode would be of another point); a draw never made has none."""
        cursor = self.state.cursor
        self.query = None if cursor is None or cursor.draw is not None else cursor.code
        self._request()

    def _points_changed(self) -> None:
        shown = self.state.shown_decode
        self.query = None if shown is None else shown.z[0]
        self._request()

    def _visibility_changed(self, visible: bool) -> None:
        self.rings.setVisible(visible)
        if visible:
            self._request()

    def _request(self) -> None:
        points = self.state.points
        if self.query is None or points is None or len(self.query) != points.codes.shape[1]:
            self.indices = self.distances = None
            self.rings.setData([], [])
            self.panel.clear(HINT if points is not None else "No images on the map to compare with")
            return
        if self.dock.isVisible():
            self.worker.submit(worker_jobs.NeighboursRequest(points.codes, self.query, self.panel.k.value()), "neighbours")

    def _ready(self, r: int, result) -> None:
        req, idx, dist = result
        points = self.state.points
        if not self.worker.is_newest(r) or points is None or req.codes is not points.codes:
            return  # asked for before the points changed
        self.indices, self.distances = idx, dist
        sources = [points.source(int(k)) for k in idx]
        images = np.stack([split.images[i].numpy() for split, i in sources])
        names = [split.classes[int(split.labels[i])] for split, i in sources]
        tips = [f"{name} · {split.describe(i)}\nlatent distance {d:.4g}\nClick to decode its code"
                for name, (split, i), d in zip(names, sources, dist)]
        self.panel.grid.set_items(images, [f"{name} · {d:.2f}" for name, d in zip(names, dist)], tips)
        d, model = len(req.query), self.state.session.model
        searched = " and ".join(name for name, _ in points.sizes())  # what Show puts on the map
        text = (f"The {len(idx)} nearest of the {len(points):,} {searched} images on the map, by distance in the "
                f"{d}-d latent space")
        if d > 2:
            text += " (full codes: near in latent space need not be near on the map)"
        if model.conditional:
            text += ". The code holds the style only: neighbours share it, whatever their digit"
        self.panel.caption.setText(text + "; ringed on the map.")
        uv = self.state.points_uv[idx]  # where the map shows them: no projection on this thread
        self.rings.setData(uv[:, 0], uv[:, 1])
        self.shown.emit()

    def _picked(self, k: int) -> None:
        points = self.state.points
        if self.indices is None or points is None or k >= len(self.indices):
            return
        i = int(self.indices[k])
        split, index = points.source(i)
        self.state.set_code(points.codes[i], "neighbour", f"neighbour {k + 1}: {split.describe(index)}")
