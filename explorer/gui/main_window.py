"""The explorer window: docks and status bar, the current model, and the wiring between panels and workers.

Panels emit what the user did; the window turns it into requests for the workers (each carries the
model and plane it is for, so a request stays valid whatever happens next) and shows their results.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar

from explorer import checkpoint, jobs, latent, trained, training
from explorer.data import classes
from explorer.gui import actions
from explorer.gui.dialogs.compare import CompareWindow
from explorer.gui.dialogs.exports import Exports
from explorer.gui.dialogs.train import TrainDialog
from explorer.gui.map.decodability import Decodability
from explorer.gui.map.map_panel import MapPanel
from explorer.gui.map.path_editor import PathEditor
from explorer.gui.panels.attributes import Attributes
from explorer.gui.panels.code_panel import CodePanel
from explorer.gui.panels.decoded_view import DecodedView
from explorer.gui.panels.digits_row import DigitsRow
from explorer.gui.panels.filmstrip import Filmstrip
from explorer.gui.panels.model_list import ModelList
from explorer.gui.panels.neighbours import Neighbours, show_hovered
from explorer.gui.panels.selection import Selecting
from explorer.gui.threads.workers import Worker
from explorer.gui.undo import UndoStack
from explorer.session import Session, open_session

MANIFOLD_CELLS = 20  # decodes per side of the background layer
ON_PLANE = 1e-4  # a code this close to the map plane is on it (float32 rounding)


class MainWindow(QMainWindow):
    session_changed = Signal(object)  # Session now shown
    models_listed = Signal()  # the shipped models are in the model list
    trained_ready = Signal(object)  # Session of a finished training run, placed with both splits
    decoded = Signal(object)  # jobs.Decoded now shown
    points_changed = Signal()  # window.points (or where they lie on the map) changed
    path_decoded = Signal(object)  # jobs.PathDecoded now in the filmstrip
    background_rendered = Signal()
    exported = Signal(str)  # a file was written
    message_shown = Signal(str, str)  # title, text of a message box

    def __init__(self, data_dir=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Latent Explorer")
        self.data_dir = data_dir
        self.session: Session | None = None
        self.key: str | None = None  # the current model's row in the model list
        self.sessions: dict[str, Session] = {}  # key -> models opened, trained or picked
        self.catalog: dict[str, checkpoint.Checkpoint] = {}  # key -> shipped models listed, not opened yet
        self.points = None  # session.Points on the map
        self.points_uv: np.ndarray | None = None  # (N, 2) where those points lie on the map
        self.plane: latent.Plane | None = None
        self.axes = (0, 1)
        self.cursor: tuple[float, float] | None = None  # the map point decoded, when the code is one
        self.cursor_code: np.ndarray | None = None  # (d,) the full code at the cursor, wherever it came from
        self._picked_code: np.ndarray | None = None  # the code last picked on the map (the sliders' Reset)
        self._draws = 0  # seeds of the draws from q(z|x), one per request
        self.shown_decode: jobs.Decoded | None = None
        self.undo_stack = UndoStack(parent=self)
        self.path_editor = PathEditor(self)
        self.training_key: str | None = None
        self.last_trained_key: str | None = None
        self._before_training: tuple = (None, None)  # (session, key) shown when the run started
        self._trained_count = 0
        self._fit_each_epoch = True
        self._fallback = None  # the default model, if the one asked for at start fails to open
        self._latest: dict[str, int] = {}  # worker name -> latest request id
        self._loading_key: str | None = None
        self._decode_floor = 0  # decodes up to this id were for an earlier model
        self._job_callbacks: dict[int, tuple] = {}
        self._warmed_up = False

        self.map_panel = MapPanel()
        self.map = self.map_panel.map
        self.decoded_view = DecodedView()
        self.code_panel = CodePanel()
        self.filmstrip = Filmstrip()
        self.model_list = ModelList()
        self.train_dialog = TrainDialog(data_dir, self)
        self.exports = Exports(self)
        self.label_combo = QComboBox()
        self.label_combo.setToolTip("A conditional model decodes a code together with a label: which digit to draw")
        self.setCentralWidget(self.map_panel)
        docks = [self._dock("Models", self.model_list, Qt.LeftDockWidgetArea),
                 self._dock("Decoded", self.decoded_view, Qt.RightDockWidgetArea)]
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)  # the decode and its neighbours: full height
        self.filmstrip_dock = self._dock("Interpolation path", self.filmstrip, Qt.BottomDockWidgetArea)
        self.resizeDocks([self.filmstrip_dock], [190], Qt.Vertical)
        self.code_dock = self._dock("Latent code", self.code_panel, Qt.RightDockWidgetArea)
        self.coords = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy, without a percentage
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.coords)

        self.decoder = self._worker(jobs.decode, True, "decode", self._decoded)
        self.manifold = self._worker(jobs.manifold, True, "manifold", self._manifold_ready)
        self.pather = self._worker(jobs.path, True, "path", self.path_editor.ready)
        self.loader = self._worker(jobs.open_model, True, "load", self._session_ready, self._load_failed)
        self.jobs = self._worker(jobs.call, False, "jobs", self._job_done, self._job_failed)
        self.loader.progress.connect(lambda r, text: self._busy(text))
        self.neighbours = Neighbours(self)
        self.tabifyDockWidget(self.code_dock, self.neighbours.dock)  # under the decode, a tab each
        self.neighbours.dock.raise_()
        self.resizeDocks([docks[1], self.code_dock], [450, 300], Qt.Vertical)
        self.digits = DigitsRow(self)
        self.decodability = Decodability(self)
        self.compare: CompareWindow | None = None  # made when first asked for
        self.selecting = Selecting(self)
        self.attributes = Attributes(self)
        self.resizeDocks(docks, [300, 300], Qt.Horizontal)  # now that every dock is in place
        actions.install(self)
        self.selecting.refresh()  # now that its actions exist
        self._connect()
        self._show_session_state()

    def _dock(self, title: str, widget, area) -> QDockWidget:
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

    def _connect(self) -> None:
        self.map.decode_requested.connect(self.decode_at)
        self.map.path_changed.connect(self.path_editor.map_changed)
        self.map.point_hovered.connect(self._hovered)
        self.map.region_settled.connect(lambda bounds: self._request_manifold())
        self.map.view.sigRangeChangedManually.connect(self._user_moved_view)
        self.map_panel.split_changed.connect(lambda _: self._show_points(fit=False))
        self.map_panel.axes_changed.connect(self.set_axes)
        self.label_combo.currentIndexChanged.connect(lambda _: self._redecode())
        self.filmstrip.settings_changed.connect(self.path_editor.settings_changed)
        self.code_panel.code_edited.connect(lambda z: self.decode_code(z, "set with the sliders"))
        self.code_panel.reset_requested.connect(self._reset_code)
        self.filmstrip.frame_selected.connect(self._frame_selected)
        self.filmstrip.export_requested.connect(self.exports.ask_strip)
        self.model_list.chosen.connect(self.choose_model)
        self.train_dialog.epoch_snapshot.connect(self._training_snapshot)
        self.train_dialog.run_ended.connect(self._training_ended)
        self.train_dialog.nothing_trained.connect(self._training_discarded)
        self.train_dialog.message.connect(self.show_message)
        self.train_dialog.save_requested.connect(lambda: self.ask_save(self.last_trained_key))

    # --- opening models -----------------------------------------------------------------------
    def start(self, checkpoint_path=None) -> None:
        """Open the given checkpoint, else the shipped default, and list the shipped models."""
        self.run_job((jobs.catalog,), self._catalog_ready, report=False)
        path = checkpoint_path or trained.default_checkpoint()
        if path is None:
            self.show_message("No model yet", f"No checkpoint was found in {trained.trained_dir()}. Train a model "
                                              f"(Ctrl+T) or open a checkpoint (Ctrl+O).")
            return
        self._fallback = trained.default_checkpoint() if checkpoint_path else None
        self.open_path(str(path))

    def open_path(self, path: str) -> None:
        self._load(jobs.model_key(path), path)  # one row per file, however its path was written

    def choose_model(self, key: str) -> None:
        if key in self.sessions:
            if key != self.key:
                self.show_session(self.sessions[key], key)
        elif key in self.catalog:
            self._load(key, self.catalog[key])

    def _load(self, key: str, source) -> None:
        self._busy(f"Opening {key}…")
        self._loading_key = key
        self._submit(self.loader, "load", jobs.OpenRequest(source, self.data_dir))

    def _submit(self, worker: Worker, name: str, request) -> int:
        self._latest[name] = worker.submit(request)
        return self._latest[name]

    def _session_ready(self, r: int, session: Session) -> None:
        if r != self._latest.get("load"):
            return  # the user has asked for another model since
        self._idle()
        key = self._loading_key
        self.adopt(key, session)
        self.show_session(session, key)
        problems = "; ".join(f"{split}: {e}" for split, e in session.data_errors.items())
        if "test" in session.data_errors:
            self.show_message("Data not available", f"The model is open, but its images could not be read, so the "
                                                    f"map shows the decoded background only.\n\n{problems}")
        elif problems:
            self.statusBar().showMessage(f"Only the test images are on the map ({problems})", 15000)

    def adopt(self, key: str, session: Session) -> None:
        """An opened model joins the list (opened elsewhere too, as in the compare view)."""
        self.sessions[key] = session
        self.catalog.pop(key, None)
        self.model_list.put(key, session.ckpt, session.name)

    def _load_failed(self, r: int, message: str) -> None:
        if r == self._latest.get("load"):
            self._idle()
        self.show_message("Cannot open the model", message)
        fallback, self._fallback = self._fallback, None
        if self.session is None and fallback:
            self.open_path(str(fallback))

    def _catalog_ready(self, found) -> None:
        for key, ckpt in found:
            if key not in self.sessions:
                self.catalog[key] = ckpt
                self.model_list.put(key, ckpt, ckpt.name)
        self.model_list.mark_current(self.key)
        self.models_listed.emit()

    # --- the current model on the map -----------------------------------------------------------
    def show_session(self, session: Session, key: str | None) -> None:
        """Make `session` the current model: map, plane, layers; the cursor and path start afresh."""
        self.session, self.key = session, key
        self._decode_floor = self._latest.get("decode", 0)
        self.model_list.mark_current(key)
        self.axes = (0, 1)
        self.plane = session.stats.plane(*self.axes)
        self.cursor = self.cursor_code = self._picked_code = self.shown_decode = None
        self.map.hide_cursor()
        self.decoded_view.clear()
        self.code_panel.set_code(None)
        self.clear_path()
        self.undo_stack.clear()  # the edits were on another model's map
        self._show_session_state()
        self._show_points(fit=True)
        self.session_changed.emit(session)

    def _show_session_state(self) -> None:
        """Enable what makes sense for the current model, and say what the map shows."""
        s = self.session
        for action in (self.save_action, self.export_grid_action, self.export_map_action):
            action.setEnabled(s is not None)
        conditional = s is not None and s.model.conditional
        self.label_text.setVisible(conditional)
        self.label_widget.setVisible(conditional)
        if conditional:
            names = [f"digit {c}" if c.isdigit() else c for c in classes(s.dataset)]
            if names != [self.label_combo.itemText(k) for k in range(self.label_combo.count())]:
                self.label_combo.blockSignals(True)
                self.label_combo.clear()
                self.label_combo.addItems(names)
                self.label_combo.blockSignals(False)
        has_prior = s is not None and s.model.kind != "ae"
        self.prior_action.setEnabled(has_prior)
        if not has_prior:
            self.prior_action.setChecked(False)
        self.filmstrip.allow_spherical(s is not None and s.model.latent_dim > 2)
        self.code_panel.allow_sampling(s is not None and s.model.kind in ("vae", "cvae"))
        for action in (self.save_path_action, self.open_path_action):
            action.setEnabled(s is not None)
        if s is None:
            self.map_panel.note.setText("No model open: train one (Ctrl+T) or open a checkpoint (Ctrl+O).")
            self.setWindowTitle("Latent Explorer")
            return
        self.setWindowTitle(f"Latent Explorer — {s.name}{'' if s.saved else ' (unsaved)'}")
        self.map_panel.set_dimensions(s.model.latent_dim, self.axes)
        self.code_panel.set_space(*s.stats.ranges(prior=s.model.kind != "ae"))
        self.map_panel.note.setText(s.map_note(self.axes))
        i, j = self.axes
        self.map.set_axis_labels(*((f"PC{i + 1}", f"PC{j + 1}") if s.model.latent_dim > 2 else ("z₁", "z₂")))

    def _show_points(self, fit: bool) -> None:
        s = self.session
        self.points = s.points(self.map_panel.split.currentText()) if s else None
        self.points_uv = None if self.points is None else self.plane.project(self.points.codes)
        if self.points is None:
            self.map.set_points(None, None)
            if s is not None and not self.manifold_action.isChecked():
                self.manifold_action.setChecked(True)  # nothing else to see: show what the model draws
        else:
            self.map.set_points(self.points_uv, self.points.labels)
            self.map_panel.legend.set_classes(self.points.splits[0].classes,
                                              np.bincount(self.points.labels, minlength=10))
        if s is not None:
            self.map.set_prior(*self.plane.prior_circles())
        self.points_changed.emit()
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
        if self.cursor_code is not None:  # the same code, seen on the new plane
            self.cursor = None
            self._place_cursor(self.cursor_code)

    def reset_view(self) -> None:
        if self.session is None:
            return
        if self.axes == (0, 1) or self.points is None:
            bounds = self.session.stats.bounds
        else:
            bounds = latent.bounds_of(self.points_uv)
        self.map.show_range(bounds)
        self._fit_each_epoch = True

    def _user_moved_view(self, *args) -> None:
        self._fit_each_epoch = False  # the user is looking somewhere: training must not move the view

    def show_layer(self, layer: str, shown: bool) -> None:
        self.map.set_layer_visible(layer, shown)
        if layer == "manifold" and shown:
            self._request_manifold()

    def _request_manifold(self) -> None:
        if self.session is None or not self.manifold_action.isChecked():
            return
        self._submit(self.manifold, "manifold", jobs.ManifoldRequest(
            self.session.model, self.plane, self.map.covering_square(), MANIFOLD_CELLS, self.label()))

    def _manifold_ready(self, r: int, result) -> None:
        if r == self._latest.get("manifold"):
            self.map.set_background(*result)
            self.background_rendered.emit()

    def _hovered(self, k: int) -> None:
        if k >= 0:
            show_hovered(self.map, self.points)
            if self.code_panel.sampling():
                self.decode_draw(k)

    # --- decoding -----------------------------------------------------------------------------
    def label(self) -> int | None:
        """The label a conditional model decodes with; None for the others."""
        return self.label_combo.currentIndex() if self.session and self.session.model.conditional else None

    def decode_at(self, u: float, v: float) -> None:
        """Decode map point (u, v): the cursor moves now, the image follows from the worker. Sampling
        from the encoder, a click on a real point decodes a draw from its q(z|x) instead."""
        if self.session is None:
            return
        if self.code_panel.sampling() and self.map.hovered_point >= 0:
            self.decode_draw(self.map.hovered_point)
        else:
            self._decode_map_point(u, v)

    def _decode_map_point(self, u: float, v: float) -> None:
        self.cursor = (u, v)
        self._picked_code = self.plane.to_latent([u, v])[0]
        self._place_cursor(self._picked_code, (u, v))
        self._request_decode(self._picked_code[None], (u, v))

    def decode_code(self, z: np.ndarray, source: str = "", uv=None) -> jobs.DecodeRequest | None:
        """Decode a full code (d,) that may lie off the map's plane (the sliders, a path frame, a neighbour,
        a selection's mean, an attribute walk); the cursor goes to uv (default: the code's projection) and
        the decoded view says what the code is (`source`)."""
        if self.session is None:
            return None
        z = np.asarray(z, dtype=np.float32).reshape(1, -1)
        self.cursor = None  # a code, not a map point: what a new plane or model decodes is this code
        return self._request_decode(z, self._place_cursor(z[0], uv), source=source)

    def decode_draw(self, k: int) -> None:
        """Decode a draw z ~ q(z|x) for point k's image (a fresh seed each time); placed once drawn."""
        split, i = self.points.source(k)
        self._draws += 1
        draw = jobs.Draw(split.images[i].numpy(), int(split.labels[i]), self._draws)
        z = self.points.codes[k : k + 1]
        self._request_decode(z, self._map_point(z), draw, f"a draw from q(z|x) for {split.split} image #{i:,} "
                                                          f"({split.classes[draw.label]}), seed {draw.seed}")

    def _reset_code(self) -> None:
        if self.session is not None:
            self.decode_code(self.session.stats.mean if self._picked_code is None else self._picked_code,
                             "the code last picked on the map" if self._picked_code is not None else "the data's mean")

    def _place_cursor(self, z: np.ndarray, uv=None) -> tuple[float, float]:
        """Make z (d,) the cursor's code: the cursor goes to uv (default: z's projection on the map) and
        the sliders show z. Returns uv."""
        self.cursor_code = np.asarray(z, dtype=np.float32).reshape(-1)
        uv = self._map_point(self.cursor_code) if uv is None else uv
        self.map.set_cursor(*uv)
        where = self._where(uv, self.cursor_code)
        self.code_panel.set_code(self.cursor_code, where)
        self.coords.setText(where)
        return uv

    def _map_point(self, z: np.ndarray) -> tuple[float, float]:
        """Where one code (d,) or (1, d) projects onto the map plane."""
        return tuple(float(x) for x in self.plane.project(np.reshape(z, (1, -1)))[0])

    def _request_decode(self, z: np.ndarray, uv, draw: jobs.Draw | None = None,
                        source: str = "") -> jobs.DecodeRequest:
        s = self.session
        request = jobs.DecodeRequest(s.model, z, uv, self.label(), s.nearest_codes(), draw, source)
        self._submit(self.decoder, "decode", request)
        return request

    def _where(self, uv, z: np.ndarray) -> str:
        """Where a code is shown on the map, and for d > 2 how far off the plane it lies."""
        d = self.session.model.latent_dim
        u, v = ("u", "v") if d > 2 else ("z₁", "z₂")
        text = f"{u} = {uv[0]:.3f}   {v} = {uv[1]:.3f}"
        if d > 2:
            gap = float(self.plane.distance(z)[0])
            text += f"   distance from the map plane: {gap:.2f}" if gap > ON_PLANE else "   on the map plane"
        return text

    def _decoded(self, r: int, result: jobs.Decoded) -> None:
        if self.session is None or r <= self._decode_floor:
            return  # asked for before another model was opened
        req, d = result.request, self.session.model.latent_dim
        if req.draw is not None and r != self._latest.get("decode"):
            return  # the user has moved on: placing this draw now would pull the cursor back
        self.shown_decode = result
        uv = self._place_cursor(result.z[0]) if req.draw is not None else req.uv  # a draw is placed once drawn
        where = self._where(uv, result.z[0])
        if d > 2:
            where += f"\nthe full {d}-d code is decoded"
        if req.source:
            where += f"\n{req.source[0].upper()}{req.source[1:]}"
        if req.label is not None:
            where += f"\ndrawn as {self.label_combo.itemText(req.label)}"
        self.decoded_view.show_decode(result.image, where)
        if result.nearest is None:
            self.decoded_view.show_nearest(None, "No real images to compare with")
        else:
            name, i, distance = result.nearest
            split = self.session.splits[name]
            self.decoded_view.show_nearest(split.images[i].numpy(), f"{split.classes[int(split.labels[i])]} "
                                                                    f"({name} image #{i:,}), latent distance {distance:.3g}")
        self.decoded.emit(result)

    def _redecode(self) -> None:
        """The model, label or plane changed under the cursor and path: decode them again."""
        if self.session is not None:
            if self.cursor is not None:
                self._decode_map_point(*self.cursor)
            elif self.cursor_code is not None:
                self.decode_code(self.cursor_code, self.shown_decode.request.source if self.shown_decode else "")
            self.path_editor.request()
            self._request_manifold()

    # --- paths --------------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        self.map.set_tool(tool)
        getattr(self, f"{tool}_action").setChecked(True)
        hints = {"explore": "Click or drag on the map to decode", "line": "Drag from A to B to draw a path",
                 "freehand": "Hold the button and draw a path",
                 "select": f"Drag a {self.map.select_tool.shape} to select (S switches box and lasso); Shift adds, "
                           "Ctrl or Alt takes away, a click on empty map clears",
                 "waypoint": "Click to add waypoints (on the line: between two), drag one to move it, right-click "
                             "or Del to delete it"}
        self.statusBar().showMessage(hints[tool], 5000)

    @property
    def path(self):
        """The interpolation path (interpolation.Path), None when there is none."""
        return self.path_editor.path

    @property
    def path_result(self) -> jobs.PathDecoded | None:
        return self.path_editor.result

    def set_path(self, waypoints: np.ndarray) -> None:
        """Decode along waypoints (k, 2) on the map; while the user draws, each change replaces the last."""
        self.path_editor.set_waypoints(waypoints)

    def clear_path(self) -> None:
        self.path_editor.clear()

    def _frame_selected(self, k: int) -> None:
        result = self.path_result
        if result is None or k >= len(result.frames) or self.session is None:
            return
        self.decode_code(result.codes[k], f"frame {k + 1} of {len(result.frames)} on the path",
                         uv=result.positions[k])

    def show_compare(self) -> None:
        if self.compare is None:
            self.compare = CompareWindow(self)
            self.compare.resize(1300, 900)
            self.compare.list_models()
        self.compare.show()
        self.compare.raise_()
        self.compare.activateWindow()

    # --- training -----------------------------------------------------------------------------
    def show_train_dialog(self) -> None:
        if not self._warmed_up:  # while the form is filled in, not in the first epoch: see training.warm_up
            self._warmed_up = True
            self.run_job((training.warm_up,), report=False, failure="Could not prepare training")
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
        session = Session(checkpoint.Checkpoint(model, meta), snap.stats, saved=False,
                          title=f"{model.kind}-{model.latent_dim}d-{model.config.arch} (training, epoch {snap.epoch})")
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
        self.last_trained_key = key
        model = run.model
        meta = dict(run.meta, kind=model.kind, model=model.config.to_dict())
        title = f"{model.kind}-{model.latent_dim}d-{model.config.arch} ({run.result.epochs_done} epochs)"
        if self.key == key:
            self._busy("Placing the images with the trained model…")
        self.run_job((open_session, checkpoint.Checkpoint(model, meta), self.data_dir),
                     lambda session: self._trained_ready(key, title, session), report=False,
                     failure="Cannot place the images with the trained model")

    def _trained_ready(self, key: str, title: str, session: Session) -> None:
        session.title = title
        self.sessions[key] = session
        self.model_list.put(key, session.ckpt, session.name)
        if self.key == key:
            self._idle()
            self.show_session(session, key)
        self.trained_ready.emit(session)

    def _training_discarded(self) -> None:
        """A run that produced no complete epoch leaves no model behind: back to the one shown before."""
        key, self.training_key = self.training_key, None
        if key is None:
            return
        self.sessions.pop(key, None)
        self.model_list.remove(key)
        session, previous_key = self._before_training
        if self.key == key and session is not None:
            self.show_session(session, previous_key)
        elif self.key == key:
            self.session = self.key = self.points = self.points_uv = None
            self.map.set_points(None, None)
            self._show_session_state()

    # --- files --------------------------------------------------------------------------------
    def ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", str(trained.trained_dir()),
                                              "Checkpoints (*.safetensors);;All files (*)")
        if path:
            self.open_path(path)

    def ask_save(self, key: str | None = None) -> None:
        session = self.sessions.get(key or self.key)
        if session is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save model", f"{session.name.split(' (')[0]}.safetensors",
                                              "Checkpoints (*.safetensors)")
        if path:
            self.save_model(path, key)

    def save_model(self, path: str, key: str | None = None) -> None:
        """Write a model (default: the current one) with its latent statistics; it then goes by the file's name."""
        key = key or self.key
        session = self.sessions[key]

        def saved(written):
            session.ckpt.path = written
            session.saved = True
            self.model_list.put(key, session.ckpt, session.name)
            if session is self.session:
                self._show_session_state()
        self.run_job((jobs.save_model, path, session), saved)

    def run_job(self, job: tuple, on_done=None, report: bool = True, failure="Could not write the file") -> int:
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
            self.wrote(result)

    def _job_failed(self, r: int, message: str) -> None:
        _, _, failure = self._job_callbacks.pop(r)
        self._idle()
        self.show_message(failure, message)

    def wrote(self, path) -> None:
        self.statusBar().showMessage(f"Wrote {path}", 8000)
        self.exported.emit(str(path))

    # --- messages, progress, closing ------------------------------------------------------------
    def show_message(self, title: str, text: str) -> None:
        """A message the user must see, without blocking the window."""
        box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, self)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.setModal(False)
        box.show()
        self.statusBar().showMessage(text.splitlines()[0], 10000)
        self.message_shown.emit(title, text)

    def _busy(self, text: str) -> None:
        self.progress.show()
        self.statusBar().showMessage(text)

    def _idle(self) -> None:
        self.progress.hide()
        self.statusBar().clearMessage()

    def workers(self) -> list[Worker]:
        extras = [self.neighbours, self.digits, self.decodability, self.attributes] + ([self.compare] if self.compare else [])
        return [self.decoder, self.manifold, self.pather, self.loader, self.jobs,
                *(worker for extra in extras for worker in extra.workers())]

    def closeEvent(self, event) -> None:
        """Stop every thread and timer before the window goes: a running QThread destroyed aborts the process."""
        self.filmstrip.stop()
        self.map.stop_timers()
        self.statusBar().clearMessage()  # a timed message runs a timer
        self.train_dialog.shutdown()
        self.train_dialog.close()
        self.decodability.stop()
        if self.compare is not None:
            self.compare.close()
        for worker in self.workers():
            worker.stop()
        super().closeEvent(event)
