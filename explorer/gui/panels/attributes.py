"""Attribute arithmetic: the difference of two groups' mean codes as a direction, and a slider that
walks the point at the cursor along it, with a strip of decodes across the slider's range.

A group is a digit (the map's points of that label), a group kept from the Selection panel (A or B),
or the current selection. The maths is explorer.latent.geometry.direction and walk; `Attributes` wires the
panel to the view state: the slider sets the state's cursor to the walked code (decoded like any
other, the newest wins, placed where the code projects); the strip is decoded on its own worker.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from explorer.gui import last_folder
from explorer.gui.docks import Docks
from explorer.gui.feedback import Feedback
from explorer.gui.map.latent_map import LatentMap
from explorer.gui.state import ViewState
from explorer.gui.threads.tasks import Tasks
from explorer.gui.threads.workers import Workers
from explorer.gui.widgets.filmstrip import STRIP_SCALE, Strip
from explorer.gui.widgets.wrapped_label import WrappedLabel
from explorer.latent import export, geometry, selection, worker_jobs
from explorer.utils.errors import ExplorerError

TICKS = 100  # slider steps per unit of t
DEFAULT_RANGE = 1.5
DEFAULT_FRAMES = 9
MAX_FRAMES = 33
SLIDER_MIN_WIDTH = 120  # pixels: room to pick t to a tenth over ±1.5
COMBO_CHARS = 9  # a group combo shrinks to "digit 4 (…" before the row overflows its dock
DEFAULT_GROUPS = ("digit:4", "digit:9")
EXPLAIN = ("Adds t × (mean code of <i>To</i> − mean code of <i>From</i>) to the point at the cursor: t = 0 is the "
           "point itself, t = 1 moves it as far as the average <i>From</i> lies from the average <i>To</i>.")
MORE = ("Pick the point by clicking the map, a thumbnail in the Selection panel, or Decode mean. The strip shows "
        "t across the whole range (click a frame to go there); the dashed line on the map is where it lies.")


class AttributePanel(QWidget):
    groups_chosen = Signal()
    amount_changed = Signal(float)
    strip_changed = Signal()  # the range or the number of frames
    export_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        explain = WrappedLabel(EXPLAIN)
        explain.setTextFormat(Qt.RichText)
        explain.setToolTip(MORE)
        self._groups: list[tuple[str, str, bool]] = []
        self.source, self.target = QComboBox(), QComboBox()
        for combo, tip in ((self.source, "The group the direction starts from"),
                           (self.target, "The group the direction points to")):
            combo.setToolTip(tip + ": a digit, a group kept in the Selection panel, or the current selection")
            combo.activated.connect(lambda _: self.groups_chosen.emit())
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(COMBO_CHARS)
        self.slider = QSlider(Qt.Horizontal)
        self.slider.setToolTip("How far to walk along the direction: 0 is the point at the cursor")
        self.slider.valueChanged.connect(self._slid)
        self.value = QLabel()
        self.value.setMinimumWidth(self.value.fontMetrics().horizontalAdvance("+0.00 "))
        self.range = QDoubleSpinBox()
        self.range.setRange(0.1, 5.0)
        self.range.setSingleStep(0.5)
        self.range.setDecimals(1)
        self.range.setPrefix("t up to ±")
        self.range.setToolTip("The slider's and the strip's range of t")
        self.frames = QSpinBox()
        self.frames.setRange(2, MAX_FRAMES)
        self.frames.setValue(DEFAULT_FRAMES)
        self.frames.setPrefix("Strip ")
        self.frames.setToolTip("How many decodes the strip shows, evenly spaced over the range of t")
        self.export = QPushButton("Export…")
        self.export.setToolTip("Save the strip as a PNG (or the walk as a GIF)")
        self.export.clicked.connect(lambda: self.export_requested.emit())
        self.strip = Strip()
        self.strip.clicked.connect(lambda k: self.set_amount(float(self.amounts()[k])))
        self.status = WrappedLabel()
        self.range.valueChanged.connect(self._range_changed)
        self.frames.valueChanged.connect(lambda _: self.strip_changed.emit())
        self.range.setValue(DEFAULT_RANGE)

        # two rows: in one, a narrow dock (the timeline's beside it) squeezed the slider to nothing; each
        # row asks for about 330 px, and the combos give way before anything else
        groups, walk = QHBoxLayout(), QHBoxLayout()
        for w in (QLabel("From"), self.source, QLabel("To"), self.target):
            groups.addWidget(w)
        groups.addStretch(1)
        groups.addWidget(self.export)
        self.slider.setMinimumWidth(SLIDER_MIN_WIDTH)
        for w, stretch in ((QLabel("t"), 0), (self.slider, 1), (self.value, 0), (self.range, 0), (self.frames, 0)):
            walk.addWidget(w, stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(explain)
        layout.addLayout(groups)
        layout.addLayout(walk)
        layout.addWidget(self.status)
        layout.addWidget(self.strip, 1)

    def set_groups(self, items: list[tuple[str, str, bool]]) -> None:
        """Offer these groups: (text, key, usable) each; the choices made stay where they still exist."""
        if items == self._groups:
            return
        self._groups = items
        for combo, default in zip((self.source, self.target), DEFAULT_GROUPS):
            chosen = combo.currentData() or default
            combo.blockSignals(True)
            combo.clear()
            for text, key, usable in items:
                combo.addItem(text, key)
                combo.model().item(combo.count() - 1).setEnabled(bool(usable))
            k = combo.findData(chosen)
            combo.setCurrentIndex(k if k >= 0 else 0)
            combo.blockSignals(False)

    def choose(self, source: str, target: str) -> None:
        """Pick the groups by key (digit:3, group:A, selection), as a user would."""
        self.source.setCurrentIndex(self.source.findData(source))
        self.target.setCurrentIndex(self.target.findData(target))
        self.groups_chosen.emit()

    def names(self) -> str:
        """'To − From', by the groups' names."""
        return " − ".join(combo.currentText().split(" (")[0] for combo in (self.target, self.source))

    def amount(self) -> float:
        return self.slider.value() / TICKS

    def set_amount(self, t: float, quiet: bool = False) -> None:
        self.slider.blockSignals(quiet)
        self.slider.setValue(round(t * TICKS))
        self.slider.blockSignals(False)
        self._show_value()

    def amounts(self) -> np.ndarray:
        """The strip's values of t: evenly spaced over the range, ends included."""
        r = self.slider.maximum() / TICKS
        return np.linspace(-r, r, self.frames.value())

    def _slid(self, value: int) -> None:
        self._show_value()
        self.amount_changed.emit(value / TICKS)

    def _show_value(self) -> None:
        self.value.setText(f"{self.amount():+.2f}")
        amounts = self.amounts()
        near = np.flatnonzero(np.isclose(amounts, self.amount(), atol=0.5 / TICKS))
        self.strip.set_current(int(near[0]) if len(near) else -1)

    def _range_changed(self, r: float) -> None:
        ticks = round(r * TICKS)
        self.slider.blockSignals(True)
        self.slider.setRange(-ticks, ticks)
        self.slider.blockSignals(False)
        self._show_value()
        self.strip_changed.emit()


class Attributes:
    """The panel's wiring: groups from the map's points and the selection, the direction between them,
    the walk decoded at the cursor, the strip on its own worker, and the walk drawn on the map."""

    def __init__(self, state: ViewState, latent_map: LatentMap, workers: Workers, docks: Docks, tasks: Tasks,
                 feedback: Feedback):
        self.state, self.tasks, self.feedback = state, tasks, feedback
        self.panel = AttributePanel()
        self.dock = docks.add("Attribute arithmetic", self.panel, Qt.BottomDockWidgetArea)
        path_dock = docks.find("Interpolation path")
        if path_dock is not None:
            docks.tabify_when_shown(path_dock, self.dock)  # the same shape: a row of controls, a strip
        self.dock.hide()
        self.worker = workers.add(worker_jobs.call, True, "attribute strip", self._strip_ready,
                                  lambda r, message: self.panel.status.setText(message))
        self.direction: np.ndarray | None = None
        self.start: np.ndarray | None = None  # the code at t = 0; None: the mean of From
        self.frames: np.ndarray | None = None
        self.strip_walk: tuple | None = None  # (start, direction, amounts, label) the strip shown decodes
        self._strip_walk = None
        self._session = None
        self.line = pg.PlotCurveItem(pen=pg.mkPen("#ff9e40", width=2, style=Qt.DashLine))
        self.dots = pg.ScatterPlotItem(size=6, pen=pg.mkPen("#202020"), brush=pg.mkBrush("#ff9e40"))
        for z, item in enumerate((self.line, self.dots)):
            item.setZValue(8 + z)
            latent_map.addItem(item)

        p = self.panel
        p.groups_chosen.connect(self.update_direction)
        p.amount_changed.connect(self.walk)
        p.strip_changed.connect(self.request_strip)
        p.export_requested.connect(self.ask_export)
        state.decoded.connect(self._decoded)
        state.label_changed.connect(lambda label: self._label_changed())
        state.selection_changed.connect(self.refresh)
        state.points_changed.connect(self.refresh)
        self.dock.visibilityChanged.connect(lambda visible: self.request_strip())
        self.refresh()

    # --- groups and direction -----------------------------------------------------------------------
    def groups(self) -> list[tuple[str, str, bool]]:
        """(text, key, usable) for every group on offer now."""
        s, points = self.state, self.state.points
        counts = np.bincount(points.labels, minlength=10) if points is not None else np.zeros(10, dtype=int)
        names = points.splits[0].classes if points is not None else [str(d) for d in range(10)]
        items = [(f"digit {name} ({counts[d]:,})" if name.isdigit() else f"{name} ({counts[d]:,})", f"digit:{d}",
                  bool(counts[d] > 0)) for d, name in enumerate(names)]
        for name in ("A", "B"):
            n = s.selection.group_size(name)
            items.append((f"group {name} ({n:,})" if n else f"group {name} (keep a selection as {name})",
                          f"group:{name}", n > 0))
        n = len(s.selected)
        items.append((f"current selection ({n:,})", "selection", n > 0))
        return items

    def codes_of(self, key: str) -> np.ndarray:
        """The full codes of a group, by the current model."""
        s, points = self.state, self.state.points
        if points is None:
            return np.zeros((0, s.session.model.latent_dim if s.session else 2))
        if key.startswith("digit:"):
            return points.codes[points.labels == int(key[6:])]
        if key.startswith("group:"):
            return selection.pick(s.selection.groups.get(key[6:], {}), s.session.codes)
        return points.codes[s.selection_mask()]

    def update_direction(self) -> None:
        """The direction between the groups picked; when it changed with the slider off 0, walk again."""
        p, before = self.panel, self.direction
        self.direction = None
        if self.state.points is not None:
            try:
                self.direction = geometry.direction(self.codes_of(p.source.currentData()),
                                                  self.codes_of(p.target.currentData()))
            except ExplorerError:
                pass
        self._show_status()
        self.request_strip()
        changed = (before is None) != (self.direction is None) or (
            before is not None and not np.array_equal(before, self.direction))
        if changed and self.direction is not None and p.amount() != 0:
            self.walk(p.amount())

    def _show_status(self) -> None:
        p = self.panel
        if self.state.points is None:
            text = "This model places no real images on its map, so there are no groups to compare."
        elif self.direction is None:
            text = "Pick two groups with images in them: keep a selection as A or B in the Selection panel (S)."
        else:
            start = ("t = 0 is the point last decoded." if self.start is not None else
                     "No point decoded yet: t = 0 is the mean of From.")
            text = f"Direction: {p.names()}, length {np.linalg.norm(self.direction):.3g}. {start}"
        p.status.setText(text)

    def start_code(self) -> np.ndarray:
        if self.start is not None:
            return self.start
        return selection.mean_code(self.codes_of(self.panel.source.currentData()))

    # --- walking ------------------------------------------------------------------------------------
    def walk(self, t: float) -> None:
        """Decode start + t * direction at the cursor, through the state's cursor (the newest decode wins)."""
        if self.direction is None or self.state.session is None:
            return
        z = geometry.walk(self.start_code(), self.direction, [t])[0]
        self.state.set_code(z, "attribute", f"Attribute walk: start {t:+.2f} × ({self.panel.names()})")

    def _decoded(self, result) -> None:
        """A decode the walk did not ask for (a click, a thumbnail, a mean) is the new point at t = 0."""
        if result.request.origin == "attribute":
            return
        self.start = np.asarray(result.request.z[0], dtype=np.float32)
        self.panel.set_amount(0.0, quiet=True)
        self._show_status()
        self.request_strip()

    def _label_changed(self) -> None:
        """A conditional model draws another digit: the strip, and the walk shown, again."""
        self.request_strip()
        if self.panel.amount() != 0:
            self.walk(self.panel.amount())

    def refresh(self) -> None:
        """The points, the selection or a kept group changed: offer the groups again, recompute the direction."""
        s = self.state
        if s.session is not self._session:  # another model: codes and the cursor's code no longer apply
            self._session, self.start = s.session, None
            self.panel.set_amount(0.0, quiet=True)  # no walk on the new model until the slider is moved
        self.panel.set_groups(self.groups())
        self.update_direction()

    # --- the strip ------------------------------------------------------------------------------------
    def request_strip(self) -> None:
        """Decode the strip across the range (while the panel is shown) and draw where it lies on the map."""
        s = self.state
        if self.direction is None or s.session is None or not self.dock.isVisible():
            if len(self.dots.data):
                self.line.setData([], [])
                self.dots.setData([], [])
            if self.direction is None:
                self.frames = self.strip_walk = None
                self.panel.strip.set_frames(None)
                self.panel.export.setEnabled(False)
            return
        start, amounts = self.start_code(), self.panel.amounts()
        codes = geometry.walk(start, self.direction, amounts)
        uv = s.plane.project(codes)
        self.line.setData(uv[[0, -1], 0], uv[[0, -1], 1])
        self.dots.setData(uv[:, 0], uv[:, 1])
        self._strip_walk = (start, self.direction, amounts, s.label)
        self.worker.submit((export.walk_frames, s.session.model, *self._strip_walk), "attributes")

    def _strip_ready(self, r: int, frames: np.ndarray) -> None:
        if not self.worker.is_newest(r):
            return
        self.frames, self.strip_walk = frames, self._strip_walk
        self.panel.strip.set_frames(frames)
        self.panel.set_amount(self.panel.amount(), quiet=True)  # mark the frame at the slider
        self.panel.export.setEnabled(True)

    def ask_export(self) -> None:
        if self.frames is None:
            self.feedback.show_message("Nothing to export", "Pick two groups first: the strip is empty.")
            return
        path, _ = last_folder.getSaveFileName(self.panel.window(), "Export attribute strip",
                                              last_folder.named(self.state.session, "attribute", ".png"),
                                              "PNG strip (*.png);;GIF animation (*.gif)")
        if path:
            self.export(path)

    def export(self, path: str, scale: int = STRIP_SCALE) -> None:
        self.tasks.run((export.save_strip, path, self.frames, scale))
