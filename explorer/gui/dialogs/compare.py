"""Compare two models on one map: two latent maps side by side with linked pan/zoom and one shared
cursor. A click or drag on either decodes the same map point with both models, so the autoencoder's
gaps and the VAE's continuity show at a glance, each over the decoded background of its own model."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from explorer import jobs
from explorer.data import classes
from explorer.gui.feedback import Feedback
from explorer.gui.map.latent_map import LatentMap
from explorer.gui.models import ModelRegistry
from explorer.gui.panels.decoded_view import PixelImage
from explorer.gui.panels.neighbours import show_hovered
from explorer.gui.state import ViewState
from explorer.gui.threads.workers import Workers

DEFAULTS = ("ae-2d-mlp", "vae-2d-mlp")  # the lecture's pair: left, right
MANIFOLD_CELLS = 20
SIDES = ("left", "right")
INTRO = ("Click or drag on either map: both models decode the same map point, shown below. Pan and zoom move "
         "both maps. The backgrounds show what each model decodes everywhere: where one has gaps, the other "
         "may not.")


class Side:
    """One half of the view: a model picker, its map and the decode at the shared cursor. What it shows
    (model, plane, points, label) is a ViewState of its own, as in the main window."""

    def __init__(self, name: str):
        self.name = name
        self.state = ViewState()
        self.picker = QComboBox()
        self.picker.setToolTip(f"The model on the {name}")
        self.label = QComboBox()
        self.label.setToolTip("A conditional model decodes a code together with a label: which digit to draw")
        self.label.hide()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.RichText)
        self.map = LatentMap()
        self.map.set_layer_visible("manifold", True)
        self.ghost = pg.ScatterPlotItem(symbol="+", size=14, pen=pg.mkPen("#ffffff", width=1.5))
        self.ghost.setZValue(12)  # where the pointer is on the other map
        self.map.addItem(self.ghost)
        self.decoded = PixelImage(140)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignCenter)
        self.caption.setWordWrap(True)
        self.wanted: str | None = None  # the model picked (shown once it has opened)
        self.image: np.ndarray | None = None  # the decode shown
        self.label.currentIndexChanged.connect(lambda k: self.session is not None and k >= 0 and
                                               self.state.set_label(k))

    @property
    def session(self):
        return self.state.session

    @property
    def plane(self):
        return self.state.plane

    @property
    def points(self):
        return self.state.points

    def code(self, u: float, v: float) -> np.ndarray:
        return self.plane.to_latent([u, v])

    def decode_label(self) -> int | None:
        return self.state.label


class CompareWindow(QWidget):
    """A window of its own (Ctrl+Shift+C in the main window). Models come from the main window's list;
    one opened here is opened there too."""

    decoded = Signal()  # both sides now show the decodes at `cursor`
    background_rendered = Signal(str)  # the side whose decoded background was redrawn
    model_shown = Signal(str)  # the side whose model changed

    def __init__(self, registry: ModelRegistry, workers: Workers, feedback: Feedback, parent=None):
        super().__init__(parent, Qt.Window)
        self.setWindowTitle("Compare models — Latent Explorer")
        self.registry = registry
        self.sides = {name: Side(name) for name in SIDES}
        self.left, self.right = self.sides["left"], self.sides["right"]
        self.cursor: tuple[float, float] | None = None
        self._syncing = False
        self._fitted = False
        self._loading: dict[int, tuple[Side, str]] = {}  # load request -> (side, key)

        failed = lambda r, message: feedback.show_message("Cannot compare", message)  # noqa: E731
        self.decoder = workers.add(jobs.decode_each, True, "compare decode", self._decoded, failed)
        self.loader = workers.add(jobs.open_model, False, "compare load", self._loaded, self._load_failed)
        self.manifolds = {name: workers.add(jobs.manifold, True, f"compare manifold {name}",
                                            lambda r, result, name=name: self._manifold_ready(name, r, result), failed)
                          for name in SIDES}

        self.background = QCheckBox("Decoded background (B)")
        self.background.setChecked(True)
        self.background.setToolTip("Tile each map with what its model decodes there")
        self.background.toggled.connect(self._show_background)
        self.show_points = QCheckBox("Points (D)")
        self.show_points.setChecked(True)
        self.show_points.setToolTip("The test images, placed by each model's encoder")
        self.show_points.toggled.connect(lambda on: [s.map.set_layer_visible("points", on) for s in self.sides.values()])
        reset = QPushButton("Reset view")
        reset.setToolTip("Fit both models' data (Home)")
        reset.clicked.connect(self.reset_view)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(intro, 1)
        for w in (self.background, self.show_points, reset):
            top.addWidget(w)

        grid = QGridLayout(self)  # one grid for both sides: rows line up, so both maps get the same size
        grid.addLayout(top, 0, 0, 1, 2)
        for column, side in enumerate(self.sides.values()):
            pick = QHBoxLayout()
            pick.addWidget(QLabel(f"<b>{side.name.capitalize()}</b>"))
            pick.addWidget(side.picker, 1)
            pick.addWidget(side.label)
            grid.addLayout(pick, 1, column)
            grid.addWidget(side.note, 2, column, Qt.AlignTop)
            grid.addWidget(side.map, 3, column)
            grid.addWidget(side.decoded, 4, column)
            grid.addWidget(side.caption, 5, column)
            grid.setColumnStretch(column, 1)
        grid.setRowStretch(3, 3)
        grid.setRowStretch(4, 1)

        for side in self.sides.values():
            other = self.right if side is self.left else self.left
            side.map.decode_requested.connect(self.decode_at)
            side.map.view.sigRangeChanged.connect(lambda *_, side=side, other=other: self._follow(side, other))
            side.map.region_settled.connect(lambda bounds, side=side: self._request_manifold(side))
            side.map.point_hovered.connect(lambda k, side=side: k >= 0 and show_hovered(side.map, side.points))
            side.map.scene().sigMouseMoved.connect(lambda pos, side=side, other=other: self._pointer(side, other, pos))
            side.picker.activated.connect(lambda index, side=side: self.choose(side, side.picker.itemData(index)))
            side.state.label_changed.connect(lambda label, side=side: self._label_changed(side))
        for keys, slot in (("B", self.background.toggle), ("D", self.show_points.toggle), ("Home", self.reset_view),
                           ("Ctrl+W", self.close), ("Esc", self.close)):
            QShortcut(QKeySequence(keys), self, slot)
        registry.listed.connect(self.list_models)
        registry.added.connect(lambda key: self.list_models())

    def stop_timers(self) -> None:
        for side in self.sides.values():
            side.map.stop_timers()

    def closeEvent(self, event) -> None:
        self.stop_timers()
        super().closeEvent(event)

    # --- models -----------------------------------------------------------------------------------
    def list_models(self) -> None:
        """Offer every model the main window lists, by name; pick the defaults the first time."""
        names = self.registry.names()
        keys = list(names)
        for side in self.sides.values():
            side.picker.blockSignals(True)
            side.picker.clear()
            for k in keys:
                side.picker.addItem(names[k], k)
            side.picker.setCurrentIndex(side.picker.findData(side.wanted))
            side.picker.blockSignals(False)
        for side, default in zip(self.sides.values(), DEFAULTS):
            key = next((k for k in keys if names[k] == default), None)
            if side.wanted is None and key is not None:
                self.choose(side, key)

    def choose(self, side: Side, key: str) -> None:
        reg = self.registry
        side.wanted = key
        side.picker.setCurrentIndex(side.picker.findData(key))
        if key in reg.sessions:
            self._show_model(side, key, reg.sessions[key])
        elif key in reg.catalog:
            side.note.setText(f"Opening {reg.catalog[key].name}…")
            request = jobs.OpenRequest(reg.catalog[key], reg.data_dir, key)
            self._loading[self.loader.submit(request, f"compare {side.name}")] = (side, key)

    def _loaded(self, r: int, opened: jobs.Opened) -> None:
        side, key = self._loading.pop(r)
        session = self.registry.add(opened.session, key)
        if side.wanted == key:  # still the one wanted there
            self._show_model(side, key, session)

    def _load_failed(self, r: int, message: str) -> None:
        side, key = self._loading.pop(r)
        side.note.setText(f"Cannot open this model: {message}")

    def _show_model(self, side: Side, key: str, session) -> None:
        side.state.set_session(session, key)
        model, d = session.model, session.model.latent_dim
        if side.points is None:
            side.map.set_points(None, None)
        else:
            side.map.set_points(side.state.points_uv, side.points.labels)
        side.map.set_axis_labels(*(("PC1", "PC2") if d > 2 else ("z₁", "z₂")))
        side.label.setVisible(model.conditional)
        if model.conditional and side.label.count() == 0:
            side.label.addItems([f"digit {c}" if c.isdigit() else c for c in classes(session.dataset)])
        note = f"<b>{session.name}</b>: {session.ckpt.describe()}"
        if d > 2:
            note += (f"<br><b>Coordinates are this model's own principal plane</b> (PC1 × PC2 of its {d}-d test "
                     f"codes, {session.stats.explained(0, 1):.0%} of their variance), not the other side's space")
        elif model.kind == "ae":
            note += "<br>No prior holds this space together: look for the gaps that decode to nothing"
        elif model.kind in ("vae", "cvae"):
            note += ("<br>The KL term packs the codes around 0 (the prior N(0, I)): there, every point decodes to a "
                     "digit; far out, where no code was pulled, it need not")
        side.note.setText(note)
        if not self._fitted and all(s.session is not None for s in self.sides.values()):
            self.reset_view()
        self._request_manifold(side)
        if self.cursor is not None:
            self.decode_at(*self.cursor)
        self.model_shown.emit(side.name)

    def _label_changed(self, side: Side) -> None:
        self._request_manifold(side)
        if self.cursor is not None:
            self.decode_at(*self.cursor)

    # --- the shared view ------------------------------------------------------------------------------
    def reset_view(self) -> None:
        """Fit the data of both models (each model's bounds on its own map)."""
        bounds = [s.session.stats.bounds for s in self.sides.values() if s.session is not None]
        if bounds:
            b = np.array(bounds)
            self._fitted = True
            self.left.map.show_range((b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max()))

    def _follow(self, source: Side, other: Side) -> None:
        """Linked pan/zoom: the other map shows the same region."""
        if self._syncing:
            return
        self._syncing = True
        try:
            (xmin, xmax), (ymin, ymax) = source.map.view.viewRange()
            other.map.view.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0)
        finally:
            self._syncing = False

    def _pointer(self, side: Side, other: Side, scene_pos) -> None:
        """Mark on the other map where the pointer is on this one."""
        side.ghost.setData([], [])
        if side.map.view.sceneBoundingRect().contains(scene_pos):
            p = side.map.view.mapSceneToView(scene_pos)
            other.ghost.setData([p.x()], [p.y()])
        else:
            other.ghost.setData([], [])

    def _show_background(self, on: bool) -> None:
        for side in self.sides.values():
            side.map.set_layer_visible("manifold", on)
            if on:
                self._request_manifold(side)

    def _request_manifold(self, side: Side) -> None:
        if side.session is None or not self.background.isChecked():
            return
        self.manifolds[side.name].submit(jobs.ManifoldRequest(
            side.session.model, side.plane, side.map.covering_square(), MANIFOLD_CELLS, side.decode_label()), side.name)

    def _manifold_ready(self, name: str, r: int, result) -> None:
        if self.manifolds[name].is_newest(r):
            self.sides[name].map.set_background(*result)
            self.background_rendered.emit(name)

    # --- the shared cursor ------------------------------------------------------------------------------
    def decode_at(self, u: float, v: float) -> None:
        """Decode map point (u, v) with both models; the cursor moves on both maps now."""
        self.cursor = (u, v)
        for side in self.sides.values():
            side.map.set_cursor(u, v)
        parts = tuple(None if s.session is None else (s.session.model, s.code(u, v), s.decode_label())
                      for s in self.sides.values())
        self.decoder.submit(jobs.DecodeEach(parts, (u, v)), "compare")

    def _decoded(self, r: int, images: list) -> None:
        if not self.decoder.is_newest(r):
            return
        u, v = self.cursor
        for side, image in zip(self.sides.values(), images):
            side.image = None if image is None else image[0]
            side.decoded.set_image(side.image)
            if side.session is not None:
                where = f"({u:.2f}, {v:.2f})" + (" on its principal plane" if side.session.model.latent_dim > 2 else "")
                side.caption.setText(f"{side.session.name} decodes {where}")
        self.decoded.emit()
