"""The explorer window: menus, docks and status bar, and the wiring between panels and workers.

Panels emit what the user did; this window turns it into requests for the workers (with a snapshot
of the model and plane, so requests stay valid whatever happens next) and shows their results.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QBuffer, QIODevice, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (QComboBox, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QProgressBar, QWidget)

from explorer import checkpoint, export, latent, trained
from explorer.data import classes
from explorer.errors import ExplorerError
from explorer.files import atomic_write
from explorer.gui import jobs
from explorer.gui.decoded_view import DecodedView
from explorer.gui.export_dialog import GridExportDialog
from explorer.gui.filmstrip import Filmstrip
from explorer.gui.map_panel import MapPanel
from explorer.gui.model_list import ModelList
from explorer.gui.session import Session, open_session
from explorer.gui.train_dialog import TrainDialog
from explorer.gui.workers import Worker

MANIFOLD_CELLS = 20  # decodes per side of the background layer
STRIP_SCALE = 4  # exported filmstrip pixels per image pixel
ZOOM_STEP = 0.8

SHORTCUTS = (  # (action attribute, keys, what it does): the menus and the README's table
    ("open_action", "Ctrl+O", "Open a checkpoint"),
    ("save_action", "Ctrl+S", "Save the current model"),
    ("train_action", "Ctrl+T", "Train a new model"),
    ("export_grid_action", "Ctrl+E", "Export a decoded grid"),
    ("export_strip_action", "Ctrl+Shift+E", "Export the filmstrip (PNG or GIF)"),
    ("export_map_action", "Ctrl+Shift+M", "Export the map as PNG"),
    ("explore_action", "Esc", "Explore tool: click or drag to decode"),
    ("line_action", "L", "Path tool: drag a straight line"),
    ("freehand_action", "F", "Path tool: draw a freehand path"),
    ("clear_path_action", "Del", "Clear the path"),
    ("play_action", "Space", "Play or pause the path animation"),
    ("manifold_action", "B", "Show the decoded manifold behind the points"),
    ("prior_action", "N", "Show the prior N(0, I) contours"),
    ("points_action", "D", "Show the data points"),
    ("reset_action", "Home", "Reset the view to the data"),
    ("zoom_in_action", "+", "Zoom in"),
    ("zoom_out_action", "-", "Zoom out"),
    ("help_action", "F1", "Show the keyboard shortcuts"),
    ("quit_action", "Ctrl+Q", "Quit"),
)


class MainWindow(QMainWindow):
    session_changed = Signal(object)  # Session now shown
    models_listed = Signal()  # the shipped models are in the model list
    trained_ready = Signal(object)  # Session of a finished training run, placed with both splits
    decoded = Signal(object)  # jobs.Decoded now shown
    path_decoded = Signal(object)  # jobs.PathDecoded now in the filmstrip
    background_rendered = Signal()
    exported = Signal(str)  # a file was written
    message_shown = Signal(str, str)  # title, text of a message box

    def __init__(self, data_dir=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Latent Explorer")
        self.data_dir = data_dir
        self.session: Session | None = None
        self.sessions: dict[str, Session] = {}  # key -> loaded session (models opened, trained or shipped)
        self.catalog: dict[str, checkpoint.Checkpoint] = {}  # key -> checkpoint listed but not opened yet
        self.key: str | None = None  # the current model's key in the list
        self.points = None  # session.Points on the map
        self.plane: latent.Plane | None = None
        self.axes = (0, 1)
        self.path: np.ndarray | None = None  # waypoints (k, 2)
        self.path_result: jobs.PathDecoded | None = None
        self.cursor: tuple[float, float] | None = None
        self.shown_decode: jobs.Decoded | None = None
        self.training_key: str | None = None
        self._before_training: tuple = (None, None)  # (session, key) shown when the run started
        self._trained_count = 0
        self._fit_each_epoch = True
        self._latest = {}  # worker name -> latest request id
        self._decode_floor = 0  # decodes up to this id were for an earlier model

        self.map_panel = MapPanel()
        self.map = self.map_panel.map
        self.decoded_view = DecodedView()
        self.filmstrip = Filmstrip()
        self.model_list = ModelList()
        self.train_dialog = TrainDialog(data_dir, self)
        self.setCentralWidget(self.map_panel)
        docks = [self._dock("Models", self.model_list, Qt.LeftDockWidgetArea),
                 self._dock("Decoded", self.decoded_view, Qt.RightDockWidgetArea)]
        strip = self._dock("Interpolation path", self.filmstrip, Qt.BottomDockWidgetArea)
        self.resizeDocks(docks, [300, 300], Qt.Horizontal)
        self.resizeDocks([strip], [190], Qt.Vertical)

        self.decoder = self._worker(jobs.decode, True, "decode", self._decoded)
        self.manifold = self._worker(jobs.manifold, True, "manifold", self._manifold_ready)
        self.pather = self._worker(jobs.path, True, "path", self._path_ready)
        self.loader = self._worker(jobs.open_model, True, "load", self._session_ready, self._load_failed)
        self.jobs = self._worker(jobs.call, False, "jobs", self._job_done, self._job_failed)
        self._job_callbacks = {}  # request id -> (on_done(result), report)
        self.loader.progress.connect(lambda r, text: self._busy(text))

        self._build_status_bar()
        self._build_actions()
        self._connect()
        self._show_session_state()

    # --- construction -------------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable |
                         QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _worker(self, fn, latest_only, name, on_done, on_failed=None) -> Worker:
        worker = Worker(fn, latest_only, name, parent=self)
        worker.done.connect(on_done)
        worker.failed.connect(on_failed or (lambda r, message: self.show_message("Something went wrong", message)))
        return worker

    def _build_status_bar(self) -> None:
        self.coords = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.coords)

    def _action(self, name: str, text: str, slot, checkable=False, checked=False) -> QAction:
        keys = {attr: k for attr, k, _ in SHORTCUTS}.get(name)
        action = QAction(text, self)
        if keys:
            action.setShortcut(QKeySequence(keys))
            action.setToolTip(f"{text} ({keys})")
        action.setCheckable(checkable)
        action.setChecked(checked)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        setattr(self, name, action)
        return action

    def _build_actions(self) -> None:
        a = self._action
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(a("open_action", "&Open checkpoint…", self.ask_open))
        file_menu.addAction(a("save_action", "&Save model as…", self.ask_save))
        file_menu.addAction(a("train_action", "&Train new model…", self.show_train_dialog))
        file_menu.addSeparator()
        file_menu.addAction(a("export_grid_action", "Export decoded &grid…", self.ask_export_grid))
        file_menu.addAction(a("export_strip_action", "Export &filmstrip…", self.ask_export_strip))
        file_menu.addAction(a("export_map_action", "Export &map image…", self.ask_export_map))
        file_menu.addAction(a("export_codes_action", "Export &embeddings…", self.ask_export_codes))
        file_menu.addSeparator()
        file_menu.addAction(a("quit_action", "&Quit", self.close))

        view = self.menuBar().addMenu("&View")
        view.addAction(a("points_action", "Data &points", lambda on: self._layer("points", on), True, True))
        view.addAction(a("manifold_action", "Decoded &manifold", lambda on: self._layer("manifold", on), True))
        view.addAction(a("prior_action", "Prior N(0, I) &contours", lambda on: self._layer("prior", on), True))
        view.addSeparator()
        view.addAction(a("reset_action", "&Reset view", self.reset_view))
        view.addAction(a("zoom_in_action", "Zoom &in", lambda: self.map.view.scaleBy((ZOOM_STEP, ZOOM_STEP))))
        view.addAction(a("zoom_out_action", "Zoom &out", lambda: self.map.view.scaleBy((1 / ZOOM_STEP,) * 2)))
        self.zoom_in_action.setShortcuts([QKeySequence("+"), QKeySequence("="), QKeySequence.ZoomIn])
        self.zoom_out_action.setShortcuts([QKeySequence("-"), QKeySequence.ZoomOut])
        view.addSeparator()
        for dock in self.findChildren(QDockWidget):
            view.addAction(dock.toggleViewAction())

        tools = self.menuBar().addMenu("&Tools")
        group = QActionGroup(self)
        for name, text, tool in (("explore_action", "&Explore (decode)", "explore"),
                                 ("line_action", "Straight &line path", "line"),
                                 ("freehand_action", "&Freehand path", "freehand")):
            action = a(name, text, lambda on, tool=tool: on and self.set_tool(tool), True, tool == "explore")
            group.addAction(action)
            tools.addAction(action)
        tools.addSeparator()
        tools.addAction(a("clear_path_action", "&Clear path", self.clear_path))
        tools.addAction(a("play_action", "&Play / pause path", lambda: self.filmstrip.play.toggle()))

        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction(a("help_action", "&Keyboard shortcuts", self.show_shortcuts))

        self.label_combo = QComboBox()
        self.label_combo.setToolTip("A conditional model decodes a code together with a label: which digit to draw")
        self.label_combo.currentIndexChanged.connect(lambda _: self._redecode())
        self.label_box = QWidget()
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("main toolbar")
        toolbar.setMovable(False)
        for action in (self.open_action, self.train_action, None, self.explore_action, self.line_action,
                       self.freehand_action, None, self.points_action, self.manifold_action, self.prior_action,
                       self.reset_action, None):
            toolbar.addAction(action) if action else toolbar.addSeparator()
        self.label_text = toolbar.addWidget(QLabel(" Decode as "))
        self.label_widget = toolbar.addWidget(self.label_combo)

    def _connect(self) -> None:
        self.map.decode_requested.connect(self.decode_at)
        self.map.path_changed.connect(self.set_path)
        self.map.point_hovered.connect(self._hovered)
        self.map.region_settled.connect(lambda bounds: self._request_manifold())
        self.map.view.sigRangeChangedManually.connect(self._user_moved_view)
        self.map_panel.split_changed.connect(lambda _: self._show_points(fit=False))
        self.map_panel.axes_changed.connect(self.set_axes)
        self.filmstrip.settings_changed.connect(self._request_path)
        self.filmstrip.frame_selected.connect(self._frame_selected)
        self.filmstrip.export_requested.connect(self.ask_export_strip)
        self.model_list.chosen.connect(self.choose_model)
        self.train_dialog.epoch_snapshot.connect(self._training_snapshot)
        self.train_dialog.run_ended.connect(self._training_ended)
        self.train_dialog.nothing_trained.connect(self._training_discarded)
        self.train_dialog.message.connect(self.show_message)
        self.train_dialog.save_requested.connect(self._save_trained)

    # --- opening models -----------------------------------------------------------------------
    def start(self, checkpoint_path=None) -> None:
        """Open the given checkpoint, else the shipped default, and list the shipped models."""
        path = checkpoint_path or trained.default_checkpoint()
        self._run_job((jobs.catalog,), self._catalog_ready, report=False)
        if path is None:
            self.show_message("No model yet", f"No checkpoint was found in {trained.trained_dir()}. Train a model "
                                              f"(Ctrl+T) or open a checkpoint (Ctrl+O).")
            return
        self._fallback = checkpoint_path is not None and trained.default_checkpoint()
        self.open_path(str(path))

    def open_path(self, path: str) -> int:
        self._busy(f"Opening {path}…")
        key = jobs.model_key(path)  # one row per file, however its path was written
        return self._submit(self.loader, "load", jobs.OpenRequest(path, self.data_dir), key=key)

    def choose_model(self, key: str) -> None:
        if key == self.key:
            return
        if key in self.sessions:
            self.show_session(self.sessions[key], key)
        elif key in self.catalog:
            self._busy(f"Opening {key}…")
            self._submit(self.loader, "load", jobs.OpenRequest(self.catalog[key], self.data_dir), key=key)

    def _submit(self, worker: Worker, name: str, request, key=None) -> int:
        r = worker.submit(request)
        self._latest[name] = r
        if key is not None:
            self._pending_key = key
        return r

    def _session_ready(self, r: int, session: Session) -> None:
        if r != self._latest.get("load"):
            return  # the user has asked for another model since
        self._idle()
        key = self._pending_key
        self.sessions[key] = session
        self.catalog.pop(key, None)
        self.model_list.put(key, session.ckpt, session.name if session.saved else f"{session.name} (unsaved)")
        self.show_session(session, key)
        if session.data_errors:
            missing = "; ".join(f"{split}: {e}" for split, e in session.data_errors.items())
            if "test" in session.data_errors:
                self.show_message("Data not available",
                                  f"The model is open, but its images could not be read, so the map shows the "
                                  f"decoded background only.\n\n{missing}")
            else:
                self.statusBar().showMessage(f"Only the test images are on the map ({missing})", 15000)

    def _load_failed(self, r: int, message: str) -> None:
        if r == self._latest.get("load"):
            self._idle()
        self.show_message("Cannot open the model", message)
        fallback = getattr(self, "_fallback", None)
        self._fallback = None
        if self.session is None and fallback:
            self.open_path(str(fallback))

    def show_session(self, session: Session, key: str | None) -> None:
        """Make `session` the current model: map, plane, layers, decoded view."""
        self.session, self.key = session, key
        self._decode_floor = self._latest.get("decode", 0)
        self.model_list.mark_current(key)
        self.axes = (0, 1)
        self.plane = session.stats.plane(*self.axes)
        self.path, self.path_result, self.cursor, self.shown_decode = None, None, None, None
        self.map.set_path(None)
        self.map.hide_cursor()
        self.filmstrip.set_frames(None, "Draw a path on the map: L for a straight line, F for freehand")
        self.decoded_view.clear()
        self._show_session_state()
        self._show_points(fit=True)
        self.session_changed.emit(session)

    def _show_session_state(self) -> None:
        """Enable what makes sense for the current model, and say what the map is."""
        s = self.session
        has = s is not None
        for action in (self.save_action, self.export_grid_action, self.export_map_action):
            action.setEnabled(has)
        conditional = has and s.model.conditional
        self.label_text.setVisible(conditional)
        self.label_widget.setVisible(conditional)
        if conditional:
            names = [f"digit {c}" if c.isdigit() else c for c in classes(s.dataset)]
            if names != [self.label_combo.itemText(k) for k in range(self.label_combo.count())]:
                self.label_combo.blockSignals(True)
                self.label_combo.clear()
                self.label_combo.addItems(names)
                self.label_combo.blockSignals(False)
        has_prior = has and s.model.kind != "ae"
        self.prior_action.setEnabled(has_prior)
        if not has_prior:
            self.prior_action.setChecked(False)
        self.filmstrip.allow_spherical(has and s.model.latent_dim > 2)
        if not has:
            self.map_panel.note.setText("No model open: train one (Ctrl+T) or open a checkpoint (Ctrl+O).")
            self.setWindowTitle("Latent Explorer")
            return
        self.setWindowTitle(f"Latent Explorer — {s.name}{'' if s.saved else ' (unsaved)'}")
        self.map_panel.set_dimensions(s.model.latent_dim, self.axes)
        notes = [f"<b>{s.name}</b>: {s.ckpt.describe()}"]
        if s.model.latent_dim > 2:
            i, j = self.axes
            notes.append(f"Map: the plane through the mean of the test embeddings spanned by principal axes "
                         f"{i + 1} and {j + 1} ({s.stats.explained(i, j):.0%} of their variance); every point is "
                         f"a full {s.model.latent_dim}-d code on that plane")
        if s.model.kind == "gan":
            notes.append("Map: the generator's latent plane" + (
                "; real images placed by its inversion encoder" if s.model.has_encoder else
                ". This GAN has no inversion encoder, so real images cannot be placed: the background shows "
                "what it draws"))
        if s.model.kind == "ae":
            notes.append("No prior holds this space together: turn on the decoded manifold (B) to see the gaps "
                         "between the clusters that decode to nothing")
        if s.model.conditional:
            notes.append("The decoder also gets the label, so the map holds the style; the digit drawn is the "
                         "one picked in Decode as")
        if "test" in s.data_errors:
            notes.append("No images could be read (see the message); the background shows the decoded space")
        self.map_panel.note.setText(". ".join(notes) + ".")
        i, j = self.axes
        self.map.set_axis_labels(*((f"PC{i + 1}", f"PC{j + 1}") if s.model.latent_dim > 2 else ("z₁", "z₂")))

    def _show_points(self, fit: bool) -> None:
        s = self.session
        self.points = s.points(self.map_panel.split.currentText()) if s else None
        if self.points is None:
            self.map.set_points(None, None)
            if s is not None and not self.manifold_action.isChecked():
                self.manifold_action.setChecked(True)  # nothing else to see: show what the model draws
        else:
            uv = self.plane.project(self.points.codes)
            self.map.set_points(uv, self.points.labels)
            counts = np.bincount(self.points.labels, minlength=10)
            classes = self.points.splits[0].classes
            self.map_panel.legend.set_classes(classes, counts)
        if s is not None:
            centre, circles = self.plane.prior_circles()
            self.map.set_prior(centre, circles)
        if fit:
            self.reset_view()
        self._request_manifold()

    def set_axes(self, i: int, j: int) -> None:
        if self.session is None:
            return
        self.axes = (i, j)
        self.plane = self.session.stats.plane(i, j)
        self.clear_path()
        self._show_session_state()
        self._show_points(fit=True)

    def reset_view(self) -> None:
        if self.session is None:
            return
        if self.axes == (0, 1) or self.points is None:
            bounds = self.session.stats.bounds
        else:
            bounds = latent.bounds_of(self.plane.project(self.points.codes))
        self.map.show_range(bounds)
        self._fit_each_epoch = True

    def _user_moved_view(self, *args) -> None:
        self._fit_each_epoch = False  # the user is looking somewhere: training must not move the view

    # --- decoding -----------------------------------------------------------------------------
    def label(self) -> int | None:
        return self.label_combo.currentIndex() if self.session and self.session.model.conditional else None

    def decode_at(self, u: float, v: float) -> None:
        """Decode map point (u, v): the cursor moves now, the image follows from the worker."""
        if self.session is None:
            return
        self.cursor = (u, v)
        self.map.set_cursor(u, v)
        self._request_decode(self.plane.to_latent([u, v]), (u, v))

    def _request_decode(self, z: np.ndarray, uv) -> None:
        s = self.session
        self._submit(self.decoder, "decode", jobs.DecodeRequest(s.model, z, uv, self.label(), s.nearest_codes()))
        self.coords.setText(self._where(uv))

    def _where(self, uv) -> str:
        text = f"u = {uv[0]:.3f}   v = {uv[1]:.3f}" if self.session.model.latent_dim > 2 else \
            f"z₁ = {uv[0]:.3f}   z₂ = {uv[1]:.3f}"
        return text

    def _decoded(self, r: int, result: jobs.Decoded) -> None:
        req = result.request
        if self.session is None or r <= self._decode_floor:
            return  # asked for before another model was opened
        self.shown_decode = result
        where = self._where(req.uv)
        if self.session.model.latent_dim > 2:
            where += f"\non the plane; the full {self.session.model.latent_dim}-d code is decoded"
        if req.label is not None:
            where += f"\ndrawn as {self.label_combo.itemText(req.label)}"
        self.decoded_view.show_decode(result.image, where)
        if result.nearest is not None:
            split_name, i, distance = result.nearest
            split = self.session.splits[split_name]
            label = split.classes[int(split.labels[i])]
            self.decoded_view.show_nearest(split.images[i].numpy(),
                                           f"{label} ({split_name} image #{i:,}), latent distance {distance:.3g}")
        else:
            self.decoded_view.show_nearest(None, "No real images to compare with")
        self.decoded.emit(result)

    def _redecode(self) -> None:
        """The model, label or plane changed under the cursor and path: decode them again."""
        if self.session is None:
            return
        if self.cursor is not None:
            self.decode_at(*self.cursor)
        self._request_path()
        self._request_manifold()

    def _hovered(self, k: int) -> None:
        if k < 0 or self.points is None:
            return
        split, i = self.points.source(k)
        label = split.classes[int(split.labels[i])]
        self.map.show_inset(split.images[i].numpy(), f"{label} · {split.split} #{i:,}")

    # --- layers -------------------------------------------------------------------------------
    def _layer(self, layer: str, on: bool) -> None:
        self.map.set_layer_visible(layer, on)
        if layer == "manifold" and on:
            self._request_manifold()

    def _request_manifold(self) -> None:
        if self.session is None or not self.manifold_action.isChecked():
            return
        xmin, xmax, ymin, ymax = self.map.visible_bounds()
        # a square around the view (cells stay square, digits undistorted) that also covers it
        cx, cy, half = (xmin + xmax) / 2, (ymin + ymax) / 2, max(xmax - xmin, ymax - ymin) / 2
        bounds = (cx - half, cx + half, cy - half, cy + half)
        self._submit(self.manifold, "manifold",
                     jobs.ManifoldRequest(self.session.model, self.plane, bounds, MANIFOLD_CELLS, self.label()))

    def _manifold_ready(self, r: int, result) -> None:
        if r != self._latest.get("manifold"):
            return
        image, bounds = result
        self.map.set_background(image, bounds)
        self.background_rendered.emit()

    # --- paths --------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        self.map.set_tool(tool)
        {"explore": self.explore_action, "line": self.line_action, "freehand": self.freehand_action}[tool].setChecked(True)
        hints = {"explore": "Click or drag on the map to decode", "line": "Drag from A to B to draw a path",
                 "freehand": "Hold the button and draw a path"}
        self.statusBar().showMessage(hints[tool], 5000)

    def set_path(self, waypoints: np.ndarray, finished: bool = True) -> None:
        self.path = np.asarray(waypoints, dtype=np.float64)
        self.map.set_path(self.path)
        self._request_path()

    def clear_path(self) -> None:
        self.path, self.path_result = None, None
        self.filmstrip.set_frames(None, "Draw a path on the map: L for a straight line, F for freehand")
        self.map.set_path(None)

    def _request_path(self) -> None:
        if self.session is None or self.path is None:
            return
        self._submit(self.pather, "path", jobs.PathRequest(
            self.session.model, self.plane, self.path, self.filmstrip.steps.value(), self.filmstrip.spherical(),
            self.label()))

    def _path_ready(self, r: int, result: jobs.PathDecoded) -> None:
        if r != self._latest.get("path") or self.path is None:
            return
        self.path_result = result
        req = result.request
        start, end = req.waypoints[0], req.waypoints[-1]
        shape = "straight line" if len(req.waypoints) == 2 else f"freehand path ({len(req.waypoints)} points)"
        how = "spherical" if req.spherical else "linear"
        self.filmstrip.set_frames(result.frames, f"{req.steps} decodes, {how}, along a {shape} from "
                                                 f"({start[0]:.2f}, {start[1]:.2f}) to ({end[0]:.2f}, {end[1]:.2f})")
        self.map.set_path(req.waypoints, result.positions)
        self.path_decoded.emit(result)

    def _frame_selected(self, k: int) -> None:
        result = self.path_result
        if result is None or k >= len(result.frames) or self.session is None:
            return
        uv = tuple(float(x) for x in result.positions[k])
        self.cursor = None  # a frame may lie off the plane: re-decoding its map point would differ
        self.map.set_cursor(*uv)
        self._request_decode(result.codes[k : k + 1], uv)

    # --- training -----------------------------------------------------------------------------
    def show_train_dialog(self) -> None:
        self.train_dialog.show()
        self.train_dialog.raise_()
        self.train_dialog.activateWindow()

    def _training_snapshot(self, snap) -> None:
        """After each epoch the map shows the model in training, so the space is seen organising."""
        model = snap.model
        if snap.epoch == 0:
            self._trained_count += 1
            self.training_key = f"trained:{self._trained_count}"
            self._before_training = (self.session, self.key)
        meta = {"kind": model.kind, "model": model.config.to_dict(), "epochs": snap.epoch,
                "dataset": self.train_dialog.dataset.currentText(), "train_images": snap.train_images}
        if snap.progress is not None:
            meta["final_losses"] = snap.progress.losses
        title = f"{model.kind}-{model.latent_dim}d-{model.config.arch}"
        session = Session(checkpoint.Checkpoint(model, meta), snap.stats, saved=False,
                          title=f"{title} (training, epoch {snap.epoch})")
        if snap.codes is not None:
            session.splits["test"], session.codes["test"] = snap.split, snap.codes
        key = self.training_key
        self.sessions[key] = session
        self.model_list.put(key, session.ckpt, session.name)
        if snap.epoch == 0:
            self.show_session(session, key)
        elif self.key == key:  # still watching this run: keep the view, cursor and path; decode them again
            self.session = session
            self.plane = session.stats.plane(*self.axes)
            self._show_session_state()
            self._show_points(fit=self._fit_each_epoch)
            self._redecode()
            self.session_changed.emit(session)

    def _training_ended(self, run) -> None:
        """The run's model (its last complete epoch) is placed with both splits and becomes current."""
        key, self.training_key = self.training_key, None
        model = run.model
        meta = dict(run.meta, kind=model.kind, model=model.config.to_dict())
        title = f"{model.kind}-{model.latent_dim}d-{model.config.arch} ({run.result.epochs_done} epochs)"
        if self.key == key:
            self._busy("Placing the images with the trained model…")
        self._run_job((open_session, checkpoint.Checkpoint(model, meta), self.data_dir),
                      lambda session: self._trained_ready(key, title, session), report=False,
                      failure="Cannot place the images with the trained model")

    def _training_discarded(self) -> None:
        """A run that produced no complete epoch leaves no model behind: back to the one shown before."""
        key, self.training_key = self.training_key, None
        if key is None:
            return
        self.sessions.pop(key, None)
        self.model_list.remove(key)
        session, previous_key = self._before_training
        if self.key == key:
            if session is not None:
                self.show_session(session, previous_key)
            else:
                self.session = self.key = None
                self.map.set_points(None, None)
                self._show_session_state()

    def _trained_ready(self, key: str, title: str, session: Session) -> None:
        session.title = title
        self.sessions[key] = session
        self.model_list.put(key, session.ckpt, session.name)
        if self.key == key:
            self._idle()
            self.show_session(session, key)
        self.trained_ready.emit(session)

    def _save_trained(self) -> None:
        if self.session is not None and not self.session.saved:
            self.ask_save()

    # --- files --------------------------------------------------------------------------------
    def ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", str(trained.trained_dir()),
                                              "Checkpoints (*.safetensors);;All files (*)")
        if path:
            self.open_path(path)

    def ask_save(self) -> None:
        if self.session is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save model", f"{self.session.name}.safetensors",
                                              "Checkpoints (*.safetensors)")
        if path:
            self.save_model(path)

    def save_model(self, path: str) -> None:
        session, key = self.session, self.key

        def saved(written):
            session.ckpt.path = written
            session.saved = True
            self.model_list.put(key, session.ckpt, session.name)
            if session is self.session:
                self._show_session_state()
        self._run_job((jobs.save_model, path, session), saved)

    def ask_export_grid(self) -> None:
        if self.session is None:
            return
        dialog = GridExportDialog(self.map.visible_bounds(), f"{self.session.name}-grid.png", self)
        if dialog.exec():
            self.export_grid(dialog.path.text(), dialog.n.value(), dialog.bounds(), dialog.scale.value())

    def export_grid(self, path: str, n: int, bounds, scale: int = 1) -> None:
        """n x n decodes over bounds as one PNG, exactly as `explorer grid` writes it."""
        model, plane, label = self.session.model, self.plane, self.label()

        def write():
            return export.save_png(path, export.grid_image(model, plane, n, bounds, label), scale)
        self._run_job((write,))

    def ask_export_strip(self) -> None:
        if self.path_result is None:
            self.show_message("Nothing to export", "Draw a path on the map first (L or F).")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export filmstrip", "path.png",
                                              "PNG strip (*.png);;GIF animation (*.gif)")
        if path:
            self.export_strip(path)

    def export_strip(self, path: str, scale: int = STRIP_SCALE) -> None:
        frames = self.path_result.frames
        self._run_job((export.save_strip, path, frames, scale))

    def ask_export_map(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export map image", "map.png", "PNG image (*.png)")
        if path:
            self.export_map(path)

    def export_map(self, path: str) -> None:
        """The map as it is on screen (Qt must render it on this thread; writing is atomic)."""
        buffer = QBuffer()
        buffer.open(QIODevice.WriteOnly)
        self.map.grab().save(buffer, "PNG")
        data = bytes(buffer.data())
        try:
            written = atomic_write(path, lambda f: f.write(data), (".png",))
        except ExplorerError as e:
            self.show_message("Export failed", str(e))
            return
        self.statusBar().showMessage(f"Wrote {written}", 8000)
        self.exported.emit(str(written))

    def ask_export_codes(self) -> None:
        if self.points is None:
            self.show_message("Nothing to export", "There are no embedded images on the map.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export embeddings", "embeddings.csv",
                                              "CSV table (*.csv);;NumPy arrays (*.npz)")
        if path:
            self.export_codes(path)

    def export_codes(self, path: str) -> None:
        p = self.points
        self._run_job((export.save_codes, path, p.codes, p.labels, self.plane.project(p.codes), p.split_names()))

    def _run_job(self, job: tuple, on_done=None, report: bool = True, failure="Could not write the file") -> int:
        """Run fn(*args) on the jobs thread (exports, saves): then on_done(result), and with `report`
        say which file was written. A failure shows its message under the title `failure`."""
        r = self.jobs.submit(job)
        self._job_callbacks[r] = (on_done, report, failure)
        return r

    def _job_done(self, r: int, result) -> None:
        on_done, report, _ = self._job_callbacks.pop(r)
        if on_done:
            on_done(result)
        if report:
            self.statusBar().showMessage(f"Wrote {result}", 8000)
            self.exported.emit(str(result))

    def _job_failed(self, r: int, message: str) -> None:
        _, _, failure = self._job_callbacks.pop(r)
        self._idle()
        self.show_message(failure, message)

    def _catalog_ready(self, found) -> None:
        for path, ckpt in found:
            if path not in self.sessions:
                self.catalog[path] = ckpt
                self.model_list.put(path, ckpt, ckpt.name)
        self.model_list.mark_current(self.key)
        self.models_listed.emit()

    # --- messages, progress, closing ------------------------------------------------------------
    def show_message(self, title: str, text: str) -> None:
        """A message the user must see, without blocking the window."""
        box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.setModal(False)
        box.show()
        self.statusBar().showMessage(text.splitlines()[0], 10000)
        self.message_shown.emit(title, text)

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td><b>{keys}</b></td><td>{what}</td></tr>" for _, keys, what in SHORTCUTS)
        mouse = ("<tr><td><b>Click / drag</b></td><td>Decode (Explore tool) or draw a path (path tools)</td></tr>"
                 "<tr><td><b>Wheel</b></td><td>Zoom</td></tr>"
                 "<tr><td><b>Shift+drag, middle drag</b></td><td>Pan</td></tr>"
                 "<tr><td><b>Right drag</b></td><td>Zoom</td></tr>")
        box = QMessageBox(QMessageBox.Information, "Keyboard shortcuts", f"<table>{rows}{mouse}</table>",
                          QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()

    def _busy(self, text: str) -> None:
        self.progress.show()
        self.statusBar().showMessage(text)

    def _idle(self) -> None:
        self.progress.hide()
        self.statusBar().clearMessage()

    def workers(self) -> list:
        return [self.decoder, self.manifold, self.pather, self.loader, self.jobs]

    def closeEvent(self, event) -> None:
        """Stop every thread before the window goes: a running QThread destroyed aborts the process."""
        self.filmstrip.stop()
        self.map.stop_timers()
        self.statusBar().clearMessage()  # a timed message runs a timer
        self.train_dialog.shutdown()
        self.train_dialog.close()
        for worker in self.workers():
            worker.stop()
        super().closeEvent(event)
