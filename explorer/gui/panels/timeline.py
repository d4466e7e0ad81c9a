"""The training timeline under the map: the test sample's map after each epoch of the run, scrubbed
with a slider or played, and exported as a GIF with its legend. Shown for models whose file (or run in
this window) recorded one (explorer.timeline)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

from explorer.engine import coding, timeline
from explorer.gui import last_folder
from explorer.gui.docks import Docks
from explorer.gui.map.point_cloud import PointCloud
from explorer.gui.state import ViewState
from explorer.gui.threads.tasks import Tasks
from explorer.latent import replay

TIMELINE_WIDTH = 420  # pixels: its controls whole beside the filmstrip's under a 1280 px wide window's map
PLAY_MS = 250  # per epoch while playing: a 12-epoch run replays in 3 s


class TimelinePanel(QWidget):
    def __init__(self, state: ViewState, docks: Docks, tasks: Tasks, parent=None):
        super().__init__(parent)
        self.state, self.tasks, self.docks = state, tasks, docks
        self._sized = False
        self.recorded: timeline.Timeline | None = None
        self.positions: np.ndarray | None = None  # (E, K, 2)
        self.plane = None  # the model's plane the codes are projected on (None for a 2-d model)
        self.labels: np.ndarray | None = None
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(80)  # the dock under the map is short on a laptop's screen
        self.plot.disableAutoRange()  # one frame of reference for every epoch, set with the run
        self.cloud = PointCloud(size=4)
        self.plot.addItem(self.cloud)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setMinimum(1)
        self.slider.setMinimumWidth(60)
        self.slider.valueChanged.connect(self.show_epoch)
        self.caption = QLabel()
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.toggle_play)
        self.export_button = QPushButton("Export GIF…")
        self.export_button.clicked.connect(self.ask_export)
        self.timer = QTimer(self)
        self.timer.setInterval(PLAY_MS)
        self.timer.timeout.connect(self._advance)
        controls = QHBoxLayout()
        for w in (self.play_button, self.slider, self.caption, self.export_button):
            controls.addWidget(w, 1 if w is self.slider else 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.plot, 1)
        layout.addLayout(controls)
        self.dock = docks.add("Training timeline", self, Qt.BottomDockWidgetArea)
        self.dock.hide()
        state.session_changed.connect(self.show_session)

    def show_session(self, session) -> None:
        """The session's recorded run, or nothing (the dock hides) when it has none."""
        self.stop()
        recorded = getattr(getattr(session, "ckpt", None), "timeline", None)
        test = session.splits.get("test") if session is not None else None
        if recorded is None or test is None or recorded.index.max() >= len(test):
            self.recorded = None
            self.dock.hide()
            return
        self.recorded = recorded
        self.labels = test.labels.numpy()[recorded.index]
        self.plane = session.stats.plane() if recorded.codes.shape[2] > 2 else None  # a 2-d run is its own plane
        self.positions = recorded.positions(self.plane)
        xmin, xmax, ymin, ymax = (float(b) for b in coding.bounds_of(self.positions.reshape(-1, 2)))
        self.plot.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0)
        self.slider.blockSignals(True)
        self.slider.setMaximum(recorded.epochs)
        self.slider.setValue(recorded.epochs)
        self.slider.blockSignals(False)
        self.show_epoch(recorded.epochs)
        self.dock.show()
        if not self._sized:  # the first time: room for its controls beside the filmstrip (each asks ~400 px)
            self._sized = True
            self.docks.resize([self.dock], [TIMELINE_WIDTH], Qt.Horizontal)

    def show_epoch(self, epoch: int) -> None:
        if self.recorded is None:
            return
        self.cloud.set_points(self.positions[epoch - 1], self.labels)
        self.caption.setText(f"epoch {epoch} of {self.recorded.epochs}")
        self.caption.setToolTip(f"{len(self.labels):,} test images as the model placed them after epoch {epoch}")

    def toggle_play(self) -> None:
        if self.timer.isActive():
            self.stop()
            return
        if self.slider.value() == self.slider.maximum():
            self.slider.setValue(1)
        self.play_button.setText("Pause")
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")

    def _advance(self) -> None:
        if self.slider.value() >= self.slider.maximum():
            self.stop()
        else:
            self.slider.setValue(self.slider.value() + 1)

    def ask_export(self) -> None:
        s = self.state.session
        if self.recorded is None or s is None:
            return
        path, _ = last_folder.getSaveFileName(self.window(), "Export the training replay",
                                              last_folder.named(s, "timeline", ".gif"), "GIF animation (*.gif)")
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        """Write the replay (every epoch, with its legend) on the jobs thread."""
        s = self.state.session
        self.tasks.run((replay.save, path, self.recorded, self.labels, s.name, self.plane, 480, 4.0,
                        s.splits["test"].classes))
