"""Compare 2 to 8 models as small multiples: their latent maps in a grid that fits the window, one
shared cursor, pan and zoom linked between the models of one latent size. A click or drag on any map
decodes the same map point with every model, each decode under its map, so the autoencoder's gaps,
the VAE's continuity, or a ladder's steps in beta show at a glance, each over the decoded background
of its own model."""

from __future__ import annotations

import collections

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QGridLayout, QHBoxLayout, QLabel, QPushButton, QSpinBox, QVBoxLayout, QWidget

from explorer.data.datasets import classes
from explorer.engine.ladder import natural_order, rung_order
from explorer.gui.dialogs.compare_cell import MAX_MODELS, MIN_MODELS, Cell, grid_shape
from explorer.gui.dialogs.compare_export import CompareExports
from explorer.gui.dialogs.tradeoff import TradeoffWindow
from explorer.gui.feedback import Feedback
from explorer.gui.models import ModelRegistry
from explorer.gui.panels.neighbours import show_hovered
from explorer.gui.threads.tasks import Tasks
from explorer.gui.threads.workers import Workers
from explorer.latent import worker_jobs

DEFAULTS = ("ae-2d-mlp", "vae-2d-mlp")  # the lecture's pair: first, second
MANIFOLD_CELLS = 20
ASKER = "compare"
INTRO = ("Click or drag on any map: every model decodes the same point, under its map. Pan and zoom move the "
         "maps of one latent size together.")


class CompareWindow(QWidget):
    """A window of its own (Ctrl+Shift+C in the main window). Models come from the main window's list;
    one opened here is opened there too."""

    decoded = Signal()  # every cell shown now shows its decode at `cursor`
    background_rendered = Signal(int)  # the cell whose decoded background was redrawn
    model_shown = Signal(int)  # the cell whose model changed

    def __init__(self, registry: ModelRegistry, workers: Workers, feedback: Feedback, parent=None,
                 path_source=lambda: None):
        super().__init__(parent, Qt.Window)
        self.setWindowTitle("Compare models — Latent Explorer")
        self.registry = registry
        self.workers = workers
        self.feedback = feedback
        self.tasks = Tasks(workers, feedback, self)
        self.exports = CompareExports(self, self.tasks, path_source)
        self.tradeoff: TradeoffWindow | None = None  # made when first asked for
        self.cells: list[Cell] = []  # made as they are first shown; those past `count` are hidden
        self.cursor: tuple[float, float] | None = None
        self._syncing = False
        self._fitted = False
        self._loading: dict[int, tuple[Cell, str]] = {}  # load request -> (cell, key)
        self._asked: collections.OrderedDict[int, tuple[float, float]] = collections.OrderedDict()
        self._shown_request = 0  # the decode request whose images are shown: an older one never replaces them
        self._shape: tuple[int, int] | None = None

        self._failed = lambda r, message: feedback.show_message("Cannot compare", message)  # noqa: E731
        self.decoder = workers.add(worker_jobs.decode_each, True, "compare decode", self._decoded, self._failed)
        self.loader = workers.add(worker_jobs.open_model, False, "compare load", self._loaded, self._load_failed)
        self.manifolds = []  # one latest-request-wins worker per cell

        self.models = QSpinBox()
        self.models.setRange(MIN_MODELS, MAX_MODELS)
        self.models.setPrefix("Models: ")
        self.models.setToolTip(f"How many models to show side by side ({MIN_MODELS} to {MAX_MODELS})")
        self.background = QCheckBox("Decoded background (B)")
        self.background.setChecked(True)
        self.background.setToolTip("Tile each map with what its model decodes there")
        self.background.toggled.connect(self._show_background)
        self.show_points = QCheckBox("Points (D)")
        self.show_points.setChecked(True)
        self.show_points.setToolTip("The test images, placed by each model's encoder")
        self.show_points.toggled.connect(lambda on: [c.map.set_layer_visible("points", on) for c in self.cells])
        reset = QPushButton("Reset view")
        reset.setToolTip("Fit every model's data (Home)")
        reset.clicked.connect(self.reset_view)
        trade = QPushButton("Trade-off…")
        trade.setToolTip("Each model's reconstruction against its KL (the rate-distortion curve a beta ladder "
                         "walks), with its test −ELBO, 5-NN accuracy and decodability, and its reconstructions "
                         "of the same test digits")
        trade.clicked.connect(self.show_tradeoff)
        intro = QLabel(INTRO)
        intro.setWordWrap(True)
        self.top = QHBoxLayout()
        self.top.addWidget(intro, 1)
        for w in (self.models, self.background, self.show_points, reset, trade, self.exports.button):
            self.top.addWidget(w)
        self.grid_area = QWidget()  # the small multiples, exported as one picture
        self.grid = QGridLayout(self.grid_area)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        layout = QVBoxLayout(self)
        layout.addLayout(self.top)
        layout.addWidget(self.grid_area, 1)
        self.set_count(MIN_MODELS)
        self.models.valueChanged.connect(self.set_count)

        for keys, slot in (("B", self.background.toggle), ("D", self.show_points.toggle), ("Home", self.reset_view),
                           ("Ctrl+W", self.close), ("Esc", self.close)):
            QShortcut(QKeySequence(keys), self, slot)
        registry.listed.connect(self.list_models)
        registry.added.connect(lambda key: self.list_models())

    @property
    def shown(self) -> list[Cell]:
        """The cells on screen, in order."""
        return self.cells[: self.models.value()]

    @property
    def left(self) -> Cell:
        return self.cells[0]

    @property
    def right(self) -> Cell:
        return self.cells[1]

    def stop_timers(self) -> None:
        for cell in self.cells:
            cell.map.stop_timers()

    def closeEvent(self, event) -> None:
        self.stop_timers()
        if self.tradeoff is not None:
            self.tradeoff.close()
        super().closeEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._lay_out()

    def show_tradeoff(self) -> None:
        """Measure the models shown (on a worker) in the trade-off window."""
        if self.tradeoff is None:
            self.tradeoff = TradeoffWindow(self.workers, self.tasks, self.feedback, self)
            self.tradeoff.resize(900, 640)
        self.tradeoff.show()
        self.tradeoff.raise_()
        sessions = [c.session for c in self.shown if c.session is not None]
        self.tradeoff.measure(sorted(sessions, key=lambda s: rung_order(s.ckpt.meta, s.name)))

    # --- the grid -----------------------------------------------------------------------------------
    def set_count(self, n: int) -> None:
        """Show the first n cells (made when first needed); a new cell takes a model not shown yet."""
        n = max(MIN_MODELS, min(MAX_MODELS, int(n)))
        if self.models.value() != n:
            self.models.setValue(n)  # comes back here through valueChanged
            return
        while len(self.cells) < n:
            self._add_cell()
        self.decoder.forget(ASKER)  # an answer for the cells shown before would not line up with these
        again = [c for c in self.cells[:n] if c.isHidden() and c.session is not None]  # hidden, now shown
        for k, cell in enumerate(self.cells):
            cell.setVisible(k < n)
        self._lay_out(force=True)
        self._pick_missing()
        self._describe_planes()
        for cell in again:  # the view of the others of its size, and its background for it
            self._join_group(cell)
            self._request_manifold(cell)
        if self.cursor is not None:
            self.decode_at(*self.cursor)

    def show_models(self, keys: list[str]) -> None:
        """Show exactly these models (2 to 8 of the registry's keys), in this order."""
        keys = list(keys)[:MAX_MODELS]
        while len(self.cells) < len(keys):
            self._add_cell()
        for cell, key in zip(self.cells, keys):  # chosen first, so no cell opens a model of its own choice
            if cell.wanted != key:
                self.choose(cell, key)
        self.set_count(len(keys))

    def _add_cell(self) -> None:
        cell = Cell(len(self.cells), self.grid_area)
        cell.hide()  # until set_count shows it in its place in the grid
        k = cell.index
        self.cells.append(cell)
        self.manifolds.append(self.workers.add(worker_jobs.manifold, True, f"compare manifold {k + 1}",
                                               lambda r, result, k=k: self._manifold_ready(k, r, result),
                                               self._failed))
        cell.map.set_layer_visible("manifold", self.background.isChecked())
        cell.map.set_layer_visible("points", self.show_points.isChecked())
        cell.map.decode_requested.connect(self.decode_at)
        cell.map.view.sigRangeChanged.connect(lambda *_, cell=cell: self._follow(cell))
        cell.map.region_settled.connect(lambda bounds, cell=cell: self._request_manifold(cell))
        cell.map.point_hovered.connect(lambda i, cell=cell: i >= 0 and show_hovered(cell.map, cell.points))
        cell.map.scene().sigMouseMoved.connect(lambda pos, cell=cell: self._pointer(cell, pos))
        cell.picker.activated.connect(lambda index, cell=cell: self.choose(cell, cell.picker.itemData(index)))
        cell.state.label_changed.connect(lambda label, cell=cell: self._label_changed(cell))
        self._fill_picker(cell, self.registry.names())

    def _lay_out(self, force: bool = False) -> None:
        """Place the shown cells in the grid that gives their maps the largest side in this window."""
        area = self.size()
        shape = grid_shape(len(self.shown), area.width(), max(1, area.height() - self.top.sizeHint().height()))
        if shape == self._shape and not force:
            return
        self._shape = shape
        for cell in self.cells:
            self.grid.removeWidget(cell)
        rows, cols = shape
        for k, cell in enumerate(self.shown):
            self.grid.addWidget(cell, k // cols, k % cols)
        for i in range(MAX_MODELS):  # equal columns and rows, none left over from a larger grid
            self.grid.setColumnStretch(i, 1 if i < cols else 0)
            self.grid.setRowStretch(i, 1 if i < rows else 0)

    # --- models -----------------------------------------------------------------------------------
    def list_models(self) -> None:
        """Offer every model the main window lists, by name; pick the defaults the first time."""
        names = self.registry.names()
        for cell in self.cells:
            self._fill_picker(cell, names)
        self._pick_missing()

    def _pick_missing(self) -> None:
        """A shown cell with no model yet takes the lecture's pair (first two cells), else one not shown."""
        names = self.registry.names()
        keys = sorted(names, key=lambda k: natural_order(names[k]))  # a ladder's rungs in order of value
        if not keys:
            return
        for cell, default in zip(self.shown, DEFAULTS):
            key = next((k for k in keys if names[k] == default), None)
            if cell.wanted is None and key is not None:
                self.choose(cell, key)
        for cell in self.shown:
            if cell.wanted is None:
                taken = {c.wanted for c in self.shown}
                self.choose(cell, next((k for k in keys if k not in taken), keys[0]))

    @staticmethod
    def _fill_picker(cell: Cell, names: dict) -> None:
        cell.picker.blockSignals(True)
        cell.picker.clear()
        for k, name in names.items():
            cell.picker.addItem(name, k)
        cell.picker.setCurrentIndex(cell.picker.findData(cell.wanted))
        cell.picker.blockSignals(False)

    def choose(self, cell: Cell, key: str) -> None:
        reg = self.registry
        cell.wanted = key
        cell.picker.setCurrentIndex(cell.picker.findData(key))
        if key in reg.sessions:
            self._show_model(cell, key, reg.sessions[key])
        elif key in reg.catalog:
            cell.note.setText(f"Opening {reg.catalog[key].name}…")
            request = worker_jobs.OpenRequest(reg.catalog[key], reg.data_dir, key)
            self._loading[self.loader.submit(request, f"compare {cell.index}")] = (cell, key)

    def _loaded(self, r: int, opened: worker_jobs.Opened) -> None:
        cell, key = self._loading.pop(r)
        session = self.registry.add(opened.session, key)
        if cell.wanted == key:  # still the one wanted there
            self._show_model(cell, key, session)

    def _load_failed(self, r: int, message: str) -> None:
        cell, key = self._loading.pop(r)
        cell.note.setText(f"Cannot open this model: {message}")

    def _show_model(self, cell: Cell, key: str, session) -> None:
        cell.state.set_session(session, key)
        model, d = session.model, session.model.latent_dim
        if cell.points is None:
            cell.map.set_points(None, None)
        else:
            cell.map.set_points(cell.state.points_uv, cell.points.labels)
        cell.map.set_axis_labels(*(("PC1", "PC2") if d > 2 else ("z₁", "z₂")))
        cell.label.setVisible(model.conditional)
        if model.conditional and cell.label.count() == 0:
            cell.label.addItems([f"digit {c}" if c.isdigit() else c for c in classes(session.dataset)])
        self._describe_planes()
        if not self._fitted and all(c.session is not None for c in self.shown):
            self.reset_view()
        else:
            self._join_group(cell)
        self._request_manifold(cell)
        self.decoder.forget(ASKER)  # decodes asked of the model it showed before no longer count
        if self.cursor is not None:
            self.decode_at(*self.cursor)
        self.model_shown.emit(cell.index)

    def _describe_planes(self) -> None:
        dims = [c.latent_dim for c in self.shown]
        sizes = len({d for d in dims if d is not None})
        for cell in self.shown:
            if cell.session is not None:
                cell.describe_plane(dims.count(cell.latent_dim) - 1, sizes)

    def _label_changed(self, cell: Cell) -> None:
        self._request_manifold(cell)
        if self.cursor is not None:
            self.decode_at(*self.cursor)

    # --- the linked views ---------------------------------------------------------------------------
    def linked(self, cell: Cell) -> list[Cell]:
        """The other shown cells whose models share this one's latent size: their views move together."""
        return [c for c in self.shown if c is not cell and c.session is not None and c.latent_dim == cell.latent_dim]

    def reset_view(self) -> None:
        """Fit the data of the models of each latent size (each model's bounds on its own map)."""
        groups: dict[int, list[Cell]] = {}
        for cell in self.shown:
            if cell.session is not None:
                groups.setdefault(cell.latent_dim, []).append(cell)
        for cells in groups.values():
            b = np.array([c.session.stats.bounds for c in cells])
            self._fitted = True
            bounds = (b[:, 0].min(), b[:, 1].max(), b[:, 2].min(), b[:, 3].max())
            for cell in cells:
                self._syncing = True
                try:
                    cell.map.show_range(bounds)
                finally:
                    self._syncing = False

    def _join_group(self, cell: Cell) -> None:
        """A model newly shown takes the view of the others of its size, or fits its own data."""
        others = self.linked(cell)
        if others:
            self._follow(others[0])
        else:
            cell.map.show_range(cell.session.stats.bounds)

    def _follow(self, source: Cell) -> None:
        """Linked pan/zoom: the models of the same latent size show the same region."""
        if self._syncing or source.session is None:
            return
        self._syncing = True
        try:
            (xmin, xmax), (ymin, ymax) = source.map.view.viewRange()
            for other in self.linked(source):
                other.map.view.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0)
        finally:
            self._syncing = False

    def _pointer(self, cell: Cell, scene_pos) -> None:
        """Mark on every other map where the pointer is on this one."""
        cell.ghost.setData([], [])
        inside = cell.map.view.sceneBoundingRect().contains(scene_pos)
        p = cell.map.view.mapSceneToView(scene_pos) if inside else None
        for other in self.shown:
            if other is not cell:
                other.ghost.setData(*(([p.x()], [p.y()]) if p is not None else ([], [])))

    def _show_background(self, on: bool) -> None:
        for cell in self.cells:
            cell.map.set_layer_visible("manifold", on)
            if on:
                self._request_manifold(cell)

    def _request_manifold(self, cell: Cell) -> None:
        if cell.session is None or not self.background.isChecked() or not cell.isVisibleTo(self):
            return
        self.manifolds[cell.index].submit(worker_jobs.ManifoldRequest(
            cell.session.model, cell.plane, cell.map.covering_square(), MANIFOLD_CELLS, cell.decode_label()), ASKER)

    def _manifold_ready(self, k: int, r: int, result) -> None:
        if self.manifolds[k].is_newest(r):
            self.cells[k].map.set_background(*result)
            self.background_rendered.emit(k)

    # --- the shared cursor ------------------------------------------------------------------------------
    def decode_at(self, u: float, v: float) -> None:
        """Decode map point (u, v) with every model shown; the cursor moves on every map now."""
        self.cursor = (u, v)
        for cell in self.shown:
            cell.map.set_cursor(u, v)
        parts = tuple(None if c.session is None else (c.session.model, c.code(u, v), c.decode_label())
                      for c in self.shown)
        r = self.decoder.submit(worker_jobs.DecodeEach(parts, (u, v)), ASKER)
        self._asked[r] = (u, v)
        while len(self._asked) > 64:  # answered (or passed over) long ago
            self._asked.popitem(last=False)

    def _decoded(self, r: int, images: list) -> None:
        # during a drag every answer for the models shown is drawn, not only the newest (which would
        # leave the decodes still until the pointer rests); an older answer never replaces a newer one
        if not self.decoder.is_current(r) or r < self._shown_request or r not in self._asked:
            return
        self._shown_request = r
        u, v = self._asked[r]
        for cell, image in zip(self.shown, images):
            cell.image = None if image is None else image[0]
            cell.decoded.set_image(cell.image)
            if cell.session is not None:
                cell.caption.setText(f"({u:.2f}, {v:.2f})" + (" on its own plane" if cell.latent_dim > 2 else ""))
        self.decoded.emit()
