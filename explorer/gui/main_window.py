"""The explorer window: it assembles the view state, the services and the panels, lays out the docks,
and shows what the feedback channel says. It holds no state of its own that a panel reads.

How one click flows: the map's click -> `decode_at` -> state.set_cursor(uv) -> cursor_changed ->
the decode service's worker -> state.show_decoded -> decoded -> the decoded view, the neighbours, the
every-digit row. The map marker, the sliders and the status line follow cursor_changed.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QMessageBox, QProgressBar

from explorer.data.datasets import classes
from explorer.engine import coding, trained
from explorer.gui import actions, decoding, fields, last_folder
from explorer.gui.decoding import DecodeService
from explorer.gui.dialogs.compare import CompareWindow
from explorer.gui.dialogs.compare_cell import MAX_MODELS, MIN_MODELS
from explorer.gui.dialogs.exports import Exports
from explorer.gui.dialogs.train import TrainDialog
from explorer.gui.docks import Docks
from explorer.gui.feedback import Feedback
from explorer.gui.map.decodability import Decodability
from explorer.gui.map.learned_maps import LearnedMaps
from explorer.gui.map.manifold import ManifoldLayer
from explorer.gui.map.map_panel import MapPanel
from explorer.gui.map.path_editor import PathEditor
from explorer.gui.models import ModelRegistry
from explorer.gui.panels.attributes import Attributes
from explorer.gui.panels.code_panel import CodePanel
from explorer.gui.panels.decoded_view import DecodedView
from explorer.gui.panels.digits_row import DigitsRow
from explorer.gui.panels.model_list import ModelList
from explorer.gui.panels.neighbours import Neighbours, show_hovered
from explorer.gui.panels.selection import Selecting
from explorer.gui.panels.timeline import TimelinePanel
from explorer.gui.saving import ModelSaving
from explorer.gui.state import ViewState
from explorer.gui.threads.tasks import Tasks
from explorer.gui.threads.workers import Workers
from explorer.gui.training_link import TrainingLink
from explorer.gui.widgets.filmstrip import Filmstrip
from explorer.latent.maps import NAMES

TOOL_HINTS = {"explore": "Click or drag on the map to decode", "line": "Drag from A to B to draw a path",
              "freehand": "Hold the button and draw a path",
              "select": "Drag a {shape} to select (S switches box and lasso); Shift adds, Ctrl or Alt takes away, "
                        "a click on empty map clears",
              "waypoint": "Click to add waypoints (on the line: between two), drag one to move it, right-click or "
                          "Del to delete it"}

NO_MODEL = "No model open: train one (Ctrl+T) or open a checkpoint (Ctrl+O)."


class MainWindow(QMainWindow):
    def __init__(self, data_dir=None, parent=None):
        super().__init__(parent)
        fields.install()  # before any field is made: the wheel and the keys of every field in the app
        self.setWindowTitle("Latent Explorer")
        self.data_dir = data_dir
        self.state = ViewState(self)
        self.feedback = Feedback(self)
        self.workers = Workers(self)
        self.tasks = Tasks(self.workers, self.feedback, self)
        self.docks = Docks(self)
        self.compare: CompareWindow | None = None  # made when first asked for
        self._ladder_keys: list[str] = []  # the finished rungs of the ladder the training panel runs
        self._fit_each_epoch = True  # training moves the view until the user does
        s, w, f = self.state, self.workers, self.feedback

        self.map_panel = MapPanel()
        self.map = self.map_panel.map
        self.setCentralWidget(self.map_panel)
        s.points_changed.connect(self._show_points)  # first: the panels that mark points find them drawn
        self.model_list = ModelList()
        self.decoded_view = DecodedView(s)
        self.code_panel = CodePanel(s)
        self.filmstrip = Filmstrip()
        self.label_combo = QComboBox()
        self.label_combo.setToolTip("A conditional model decodes a code together with a label: which digit to draw")
        left = self.docks.add("Models", self.model_list, Qt.LeftDockWidgetArea)
        right = self.docks.add("Decoded", self.decoded_view, Qt.RightDockWidgetArea)
        self.setCorner(Qt.BottomRightCorner, Qt.RightDockWidgetArea)  # the decode and its neighbours: full height
        self.filmstrip_dock = self.docks.add("Interpolation path", self.filmstrip, Qt.BottomDockWidgetArea)
        self.resizeDocks([self.filmstrip_dock], [190], Qt.Vertical)
        self.code_dock = self.docks.add("Latent code", self.code_panel, Qt.RightDockWidgetArea)
        self.coords = QLabel()
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)  # busy, without a percentage
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.coords)

        self.models = ModelRegistry(s, self.model_list, w, f, data_dir, self)
        self.decoding = DecodeService(s, w, f, self)
        self.manifold = ManifoldLayer(s, self.map, w, f, self)
        self.path_editor = PathEditor(s, self.map, self.filmstrip, w, self.tasks, f, self)
        self.train_dialog = TrainDialog(data_dir)
        self.train_dock = self.docks.add("Training", self.train_dialog, Qt.LeftDockWidgetArea)
        self.train_dock.hide()
        self.docks.tabify_when_shown(left, self.train_dock)  # beside the map, a tab by the models; shown by Ctrl+T
        self.training = TrainingLink(s, self.models, self.train_dialog, self.tasks, f, data_dir, self)
        self.exports = Exports(s, self.map_panel, self.tasks, f)
        self.saving = ModelSaving(self, self.models, self.training, self.tasks, f)
        self.neighbours = Neighbours(s, self.map, w, self.docks, f, self)
        self.tabifyDockWidget(self.code_dock, self.neighbours.dock)  # under the decode, a tab each
        self.neighbours.dock.raise_()
        self.resizeDocks([right, self.code_dock], [450, 300], Qt.Vertical)
        self.digits = DigitsRow(s, w, self.docks, f, self)
        self.decodability = Decodability(s, self.map_panel, w, self.tasks, f, self)
        self.learned_maps = LearnedMaps(s, self.map_panel, w, f, self)
        self.selecting = Selecting(s, self.map, self.docks, self.tasks, f, self)
        self.attributes = Attributes(s, self.map, w, self.docks, self.tasks, f)
        self.timeline = TimelinePanel(s, self.docks, self.tasks, self)
        # now that every dock is in place; the map takes the rest, and more of a larger screen
        self.resizeDocks([left, right], [240, 280], Qt.Horizontal)
        self.actions = actions.install(self)
        self._connect()
        self._show_session(None)

    def _connect(self) -> None:
        s, f = self.state, self.feedback
        self.map.decode_requested.connect(self.decode_at)
        self.map.point_hovered.connect(self._hovered)
        # the user is looking somewhere: training must not move the view
        self.map.view.sigRangeChangedManually.connect(lambda *_: setattr(self, "_fit_each_epoch", False))
        self.map_panel.split_changed.connect(s.set_split)
        self.map_panel.axes_changed.connect(self.set_axes)
        self.learned_maps.shown.connect(lambda learned: self.reset_view())
        self.label_combo.currentIndexChanged.connect(lambda k: s.session is not None and k >= 0 and s.set_label(k))
        self.filmstrip.export_requested.connect(self.exports.ask_strip)
        self.train_dialog.save_requested.connect(lambda: self.saving.ask_save(self.training.last_trained_key))
        self.train_dialog.ladder_started.connect(lambda rungs: self._ladder_keys.clear())
        self.training.rung_ready.connect(self._rung_ready)
        self.train_dialog.save_ladder_requested.connect(lambda: self.saving.ask_save_ladder(self._ladder_keys))
        self.selecting.tool_requested.connect(self.set_tool)
        s.session_changed.connect(self._show_session)
        s.plane_changed.connect(lambda plane: self._show_plane())
        s.cursor_changed.connect(self._show_cursor)
        s.label_changed.connect(lambda label: label is not None and self.label_combo.setCurrentIndex(label))
        self.models.loading.connect(lambda name: s.session is None and self.map_panel.note.setText(
            f"Loading {name}…" if name else NO_MODEL))
        f.message_shown.connect(self._show_message)
        self.workers.unanswered.connect(lambda text: f.say(text, 0))  # until the next line replaces it (no timer)
        self.decoded_view.details_requested.connect(lambda failure: f.show_message(decoding.FAILED, failure))
        self.decoding.recovered.connect(lambda: self.close_messages(decoding.FAILED))
        f.status.connect(lambda text, ms: self.statusBar().showMessage(text, ms))
        f.busy.connect(lambda text: (self.progress.show(), self.statusBar().showMessage(text)))
        f.idle.connect(lambda: (self.progress.hide(), self.statusBar().clearMessage()))

    def start(self, checkpoint_path=None) -> None:
        """Open the given checkpoint, else the shipped default, and list the shipped models."""
        self.models.start(None if checkpoint_path is None else str(checkpoint_path))

    # --- what the state shows ----------------------------------------------------------------------
    def _show_session(self, session) -> None:
        """Enable what makes sense for the current model, and say what the map shows."""
        a, s = self.actions, session
        for action in (a.save, a.export_grid, a.export_map, a.save_path, a.open_path):
            action.setEnabled(s is not None)
        conditional = s is not None and s.model.conditional
        a.label_text.setVisible(conditional)
        a.label_picker.setVisible(conditional)
        if conditional:
            names = [f"digit {c}" if c.isdigit() else c for c in classes(s.dataset)]
            if names != [self.label_combo.itemText(k) for k in range(self.label_combo.count())]:
                self.label_combo.blockSignals(True)
                self.label_combo.clear()
                self.label_combo.addItems(names)
                self.label_combo.blockSignals(False)
            self.label_combo.setCurrentIndex(self.state.label)
        has_prior = s is not None and s.model.kind != "ae"
        a.prior.setEnabled(has_prior)
        a.prior.setChecked(a.prior.isChecked() and has_prior)
        self.filmstrip.allow_spherical(s is not None and s.model.latent_dim > 2)
        if s is None:
            self.map_panel.note.setText(NO_MODEL)
            self.setWindowTitle("Latent Explorer")
            self.coords.setText("")
            return
        self.setWindowTitle(f"Latent Explorer — {s.name}{'' if s.saved else ' (unsaved)'}")
        if self.state.points is None and not a.manifold.isChecked():
            a.manifold.setChecked(True)  # nothing else to see: show what the model draws
        self._show_plane()
        if self._fit_each_epoch or self.state.key != self.training.training_key:  # an epoch on: until the user moves
            self.reset_view()

    def set_axes(self, i: int, j: int) -> None:
        """Map principal axes i and j, fitted to the view."""
        self.state.set_axes(i, j)
        self.reset_view()

    def _show_plane(self) -> None:
        s = self.state.session
        if s is None:
            return
        self.map_panel.set_dimensions(s.model.latent_dim, self.state.axes)
        learned, (i, j) = self.state.learned, self.state.axes
        self.map_panel.note.setText(s.map_note(self.state.axes, learned))
        self.map.set_axis_labels(*((f"{NAMES[learned.method]} 1", f"{NAMES[learned.method]} 2") if learned else
                                   (f"PC{i + 1}", f"PC{j + 1}") if s.model.latent_dim > 2 else ("z₁", "z₂")))
        self.map.set_prior(*(self.state.plane.prior_circles() if learned is None else ((0.0, 0.0), [])))

    def _show_points(self) -> None:
        points = self.state.points
        if points is None:
            self.map.set_points(None, None)
            return
        classes = points.splits[0].classes
        self.map.set_points(self.state.points_uv, points.labels, len(classes))
        self.map_panel.legend.set_classes(classes, np.bincount(points.labels, minlength=len(classes)))

    def _show_cursor(self, cursor) -> None:
        if cursor is None:
            self.map.hide_cursor()
            self.coords.setText("")
            return
        self.map.set_cursor(*cursor.uv)
        self.coords.setText(self.state.describe_place(cursor.uv, cursor.code))

    def reset_view(self) -> None:
        s = self.state
        if s.session is None:
            return
        self.map.show_range(s.session.stats.bounds if (s.axes == (0, 1) and s.learned is None) or s.points is None
                            else coding.bounds_of(s.points_uv))
        self._fit_each_epoch = True

    def show_layer(self, layer: str, shown: bool) -> None:
        if layer == "manifold":
            self.manifold.set_shown(shown)
        else:
            self.map.set_layer_visible(layer, shown)

    # --- the pointer and the tools --------------------------------------------------------------------
    def decode_at(self, u: float, v: float) -> None:
        """The map was clicked or dragged at (u, v): decode it. Sampling from the encoder, a click on a
        real point decodes a draw from its q(z|x) instead."""
        if self.state.session is None:
            return
        if self.code_panel.sampling() and self.map.hovered_point >= 0:
            self.decoding.draw(self.map.hovered_point)
        else:
            self.state.set_cursor((u, v))

    def _hovered(self, k: int) -> None:
        if k >= 0:
            show_hovered(self.map, self.state.points)
            if self.code_panel.sampling():
                self.decoding.draw(k)

    def set_tool(self, tool: str) -> None:
        self.map.set_tool(tool)
        self.actions.by_name[tool].setChecked(True)
        self.statusBar().showMessage(TOOL_HINTS[tool].format(shape=self.map.select_tool.shape), 5000)

    def show_compare(self) -> None:
        if self.compare is None:
            self.compare = CompareWindow(self.models, self.workers, self.feedback, self, lambda: self.state.path)
            screen = self.screen().availableGeometry()  # 1300 x 900 where it fits; a laptop's screen at most
            self.compare.resize(min(1300, screen.width()), min(900, screen.height()))
            self.compare.list_models()
        self.compare.show()
        self.compare.raise_()
        self.compare.activateWindow()

    def _rung_ready(self, key: str) -> None:
        """A ladder's finished rung joins the compare view's small multiples (shown from the second rung)."""
        self._ladder_keys.append(key)
        if len(self._ladder_keys) == MIN_MODELS:
            self.show_compare()
        if self.compare is not None and len(self._ladder_keys) >= MIN_MODELS:
            self.compare.show_models(self._ladder_keys[-MAX_MODELS:])

    # --- files --------------------------------------------------------------------------------
    def ask_open(self) -> None:
        path, _ = last_folder.getOpenFileName(self, "Open checkpoint", str(trained.trained_dir()),
                                              "Checkpoints (*.safetensors);;All files (*)")
        if path:
            self.models.open_path(path)

    # --- messages, progress, closing ------------------------------------------------------------
    def _show_message(self, title: str, text: str) -> None:
        """A message the user must see, without blocking the window."""
        box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Ok, self)
        if details := getattr(text, "details", ""):  # an error in the user's model: their traceback
            box.setDetailedText(details)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.setModal(False)
        box.show()
        self.statusBar().showMessage(text.splitlines()[0], 10000)

    def close_messages(self, title: str) -> None:
        """Close the messages of that title still open (what they said is over)."""
        for box in self.findChildren(QMessageBox):
            if box.windowTitle() == title and box.isVisible():
                box.close()

    def closeEvent(self, event) -> None:
        """Stop every thread and timer before the window goes: a running QThread destroyed aborts the process.
        With a trained model unsaved, or a run under way, ask first (see saving.py)."""
        if not self.saving.may_close():
            event.ignore()
            return
        self.filmstrip.stop()
        self.timeline.stop()
        self.map.stop_timers()
        self.statusBar().clearMessage()  # a timed message runs a timer
        self.train_dialog.shutdown()
        self.train_dialog.close()
        self.decodability.stop()
        self.learned_maps.stop()
        if self.compare is not None:
            self.compare.close()
        self.workers.stop()
        super().closeEvent(event)
