"""The Latent code dock: one slider per latent dimension for the code at the cursor, and, for a VAE,
whether a real point decodes as the encoder's mean or as a draw from q(z|x).

The panel shows the state's cursor code; a slider moved sets the state's cursor to the edited code,
and Reset goes back to the code last picked on the map (the data's mean if none).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from explorer.gui.state import ViewState

SLIDER_STEPS = 1000  # positions per slider
HINT = "Click the map to pick a code"


class CodePanel(QWidget):
    code_edited = Signal(object)  # (d,) float64: the code after the user moved a slider
    reset_requested = Signal()

    def __init__(self, state: ViewState, parent=None):
        super().__init__(parent)
        self.state = state
        self.picked: np.ndarray | None = None  # the code last picked on the map (what Reset returns to)
        self.low = self.high = self.code = np.zeros(0)
        self.sliders: list[QSlider] = []
        self.values: list[QLabel] = []
        self.note = QLabel(HINT)
        self.note.setWordWrap(True)
        self.note.setMinimumHeight(2 * self.note.fontMetrics().lineSpacing())  # the sliders stay put as it wraps
        self.note.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.scroll = QScrollArea()  # 16 or more sliders scroll
        self.scroll.setWidgetResizable(True)
        self.scroll.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Expanding)
        self._build(0)
        self.reset = QPushButton("Reset")
        self.reset.setToolTip("Back to the code last picked on the map (the data's mean if none)")
        self.reset.clicked.connect(self.reset_requested)
        self.sample = QCheckBox("Sample from the encoder")
        self.sample.setToolTip("A VAE's encoder gives each image a distribution q(z|x); a point on the map is its\n"
                               "mean. On: hovering or clicking a real point decodes a fresh draw z ~ q(z|x) for\n"
                               "its image instead, and the cursor shows where that draw falls")
        buttons = QHBoxLayout()
        buttons.addWidget(self.sample, 1)
        buttons.addWidget(self.reset)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.note)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(buttons)
        self.set_code(None)
        self.sample.toggled.connect(self._sampling_toggled)
        self.code_edited.connect(lambda z: state.set_code(z, "slider", "set with the sliders"))
        self.reset_requested.connect(self._reset)
        # the sliders follow the plane, not session_changed: another model's plane is set, and the
        # point picked on the map decoded by it, before session_changed is emitted
        state.plane_changed.connect(self._plane_changed)
        state.cursor_changed.connect(self._cursor_changed)
        state.session_changed.connect(self._session_changed)

    def _plane_changed(self, plane) -> None:
        session = self.state.session
        if session is not None:
            self.set_space(*session.stats.ranges(prior=session.model.kind != "ae"))

    def _session_changed(self, session) -> None:
        self.picked = None
        self.allow_sampling(session is not None and session.model.kind in ("vae", "cvae"))

    def _cursor_changed(self, cursor) -> None:
        if cursor is None:
            self.set_code(None)
            return
        if cursor.on_map:
            self.picked = cursor.code
        self.set_code(cursor.code, self.state.describe_place(cursor.uv, cursor.code))

    def _sampling_toggled(self, on: bool) -> None:
        """Sampling off: a draw shown becomes the map point where it fell ("a draw from q(z|x)…" no longer holds)."""
        cursor = self.state.cursor
        if not on and cursor is not None and cursor.origin == "draw" and self.state.session is not None:
            self.state.set_cursor(cursor.uv)

    def _reset(self) -> None:
        s = self.state.session
        if s is not None:
            self.state.set_code(s.stats.mean if self.picked is None else self.picked, "code",
                                "the code last picked on the map" if self.picked is not None else "the data's mean")

    def set_space(self, low: np.ndarray, high: np.ndarray) -> None:
        """The range of each slider (one per dimension)."""
        self.low, self.high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
        if len(self.sliders) != len(self.low):
            self._build(len(self.low))
            self.set_code(None)  # a code of the old size means nothing here
        for k, slider in enumerate(self.sliders):
            slider.setToolTip(f"z{k + 1}: from {self.low[k]:.2f} to {self.high[k]:.2f} "
                              f"(the data's mean ± 4 standard deviations, and for a model with a prior, ± 4)")

    def set_code(self, z: np.ndarray | None, note: str = HINT) -> None:
        """Show a code (d,) on the sliders without it counting as an edit; None: no code yet."""
        if z is not None and np.size(z) != len(self.sliders):
            raise ValueError(f"a code of {np.size(z)} numbers for {len(self.sliders)} sliders")
        self.note.setText(note)
        self.rows.setEnabled(z is not None)
        self.code = np.zeros(0) if z is None else np.asarray(z, dtype=np.float64).reshape(-1).copy()
        for k, slider in enumerate(self.sliders):  # no code: centred and blank, not the last code's values
            slider.blockSignals(True)
            slider.setValue(SLIDER_STEPS // 2 if z is None else self._position(k, self.code[k]))
            slider.blockSignals(False)
            self.values[k].setText("" if z is None else f"{self.code[k]:+.3f}")

    def allow_sampling(self, allowed: bool) -> None:
        """Only a VAE's encoder has a distribution to sample."""
        self.sample.setVisible(allowed)
        if not allowed:
            self.sample.setChecked(False)

    def sampling(self) -> bool:
        return self.sample.isChecked()

    def _build(self, d: int) -> None:
        self.rows = QWidget()  # the scroll area deletes the old rows
        self.grid = QGridLayout(self.rows)
        self.grid.setContentsMargins(2, 2, 2, 2)
        self.grid.setVerticalSpacing(2)
        self.sliders, self.values = [], []
        for k in range(d):
            slider = QSlider(Qt.Horizontal)
            slider.setRange(0, SLIDER_STEPS)
            slider.valueChanged.connect(lambda position, k=k: self._moved(k, position))
            value = QLabel()
            value.setMinimumWidth(value.fontMetrics().horizontalAdvance("+00.000"))
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            self.grid.addWidget(QLabel(f"z{k + 1}"), k, 0)
            self.grid.addWidget(slider, k, 1)
            self.grid.addWidget(value, k, 2)
            self.sliders.append(slider)
            self.values.append(value)
        self.grid.setRowStretch(d, 1)
        self.scroll.setWidget(self.rows)

    def _position(self, k: int, value: float) -> int:
        t = (value - self.low[k]) / (self.high[k] - self.low[k])
        return int(round(float(np.clip(t, 0, 1)) * SLIDER_STEPS))

    def _moved(self, k: int, position: int) -> None:
        if len(self.code) != len(self.sliders):
            return
        self.code = self.code.copy()
        self.code[k] = self.low[k] + (self.high[k] - self.low[k]) * position / SLIDER_STEPS
        self.values[k].setText(f"{self.code[k]:+.3f}")
        self.code_edited.emit(self.code)
