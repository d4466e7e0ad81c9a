"""The map with its header: what plane it shows, which split, which principal axes, and the legend."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QApplication, QComboBox, QHBoxLayout, QLabel, QMenu, QToolButton, QVBoxLayout, QWidget

from explorer.gui.map.latent_map import LatentMap
from explorer.latent.colours import class_colours
from explorer.latent.session import SPLIT_CHOICES

TOGGLES = 12  # classes with a toggle of their own in the header: each is about 50 pixels wide, and at 1280
# pixels 20 of them pushed the split and axes choosers off the window
NAME_CHARS = 7  # a class name longer than this is cut ("T-shir…", its whole name in the tooltip): ten
# Fashion-MNIST names in full made the legend 800 px wide, and the window with it


class Legend(QWidget):
    """One toggle per class, in its colour; click shows or hides it, Shift+click shows it alone. Past
    TOGGLES classes the rest are checkable entries of a "+N" menu, so the header keeps its width."""

    changed = Signal(object)  # bool mask, one per class

    def __init__(self, parent=None):
        super().__init__(parent)
        self._layout = layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.buttons: list[QToolButton] = []  # the first TOGGLES classes' toggles (made as classes come)
        self.more = QToolButton()
        self.more.setPopupMode(QToolButton.InstantPopup)
        self.more.setMenu(QMenu(self.more))
        layout.addWidget(self.more)
        self.all = QToolButton()
        self.all.setText("All")
        self.all.setToolTip("Show every class again")
        self.all.clicked.connect(self.show_all)
        layout.addWidget(self.all)
        self._shown = np.ones(0, dtype=bool)
        self._names: list[str] = []
        self.set_classes([str(d) for d in range(10)], None)

    def set_classes(self, names, counts) -> None:
        """Name the toggles, one per class; unused toggles are hidden. The same classes again (new points
        of the same data) keep what is shown and hidden, with their counts told anew; other classes start
        all shown."""
        names = list(names)
        renamed = names != self._names
        if renamed:
            self._name_toggles(names)
        for k, b in enumerate(self.buttons[: len(names)]):
            b.setToolTip(_tip(names[k], counts, k))
        for k, action in enumerate(self.more.menu().actions(), TOGGLES):
            action.setToolTip(_tip(names[k], counts, k))
        if renamed:
            self.changed.emit(self.shown())  # the map shows every class of the new data

    def _name_toggles(self, names: list[str]) -> None:
        self._names = names
        colours = class_colours(len(names))
        for k in range(len(self.buttons), min(len(names), TOGGLES)):
            self.buttons.append(self._toggle(k))
        self._shown = np.ones(len(names), dtype=bool)
        for k, b in enumerate(self.buttons):
            b.setVisible(k < len(names))
            if k < len(names):
                b.setText(names[k] if len(names[k]) <= NAME_CHARS else names[k][: NAME_CHARS - 1] + "…")
                b.setStyleSheet(  # 32 px a digit: the ten and All fit a map 400 px wide
                    f"QToolButton {{ border: 1px solid #5f6368; border-left: 8px solid {colours[k]}; padding: 1px 3px;"
                    f" border-radius: 2px; }} QToolButton:!checked {{ border-left-color: #3c4043; color: #80868b; }}")
                b.setChecked(True)
        menu = self.more.menu()
        menu.clear()
        for k in range(TOGGLES, len(names)):
            icon = QPixmap(12, 12)
            icon.fill(QColor(colours[k]))
            action = menu.addAction(QIcon(icon), names[k])
            action.setCheckable(True)
            action.setChecked(True)
            action.triggered.connect(lambda checked, k=k: self._clicked(k, checked))
        self.more.setText(f"+{len(names) - TOGGLES}")
        self.more.setToolTip(f"The other {len(names) - TOGGLES:,} classes: click one to show or hide it")
        self.more.setVisible(len(names) > TOGGLES)

    def show_all(self) -> None:
        self._set(np.ones(len(self._shown), dtype=bool))
        self.changed.emit(self.shown())

    def shown(self) -> np.ndarray:
        return self._shown.copy()

    def _toggle(self, k: int) -> QToolButton:
        b = QToolButton()
        b.setCheckable(True)
        b.setChecked(True)
        b.clicked.connect(lambda checked, k=k: self._clicked(k, checked))
        self._layout.insertWidget(k, b)
        return b

    def _clicked(self, k: int, checked: bool) -> None:
        if QApplication.keyboardModifiers() & Qt.ShiftModifier:
            alone = np.zeros(len(self._shown), dtype=bool)
            alone[k] = True
            self._set(alone)
        else:
            self._shown[k] = checked
        self.changed.emit(self.shown())

    def _set(self, shown: np.ndarray) -> None:
        self._shown = shown
        for k, b in enumerate(self.buttons[: len(shown)]):
            b.setChecked(bool(shown[k]))
        for k, action in enumerate(self.more.menu().actions(), TOGGLES):
            action.setChecked(bool(shown[k]))


def _tip(name: str, counts, k: int) -> str:
    count = f"{counts[k]:,} points. " if counts is not None and k < len(counts) else ""
    return f"{name}: {count}Click to show or hide; Shift+click to show only this one"


class MapPanel(QWidget):
    split_changed = Signal(str)
    axes_changed = Signal(int, int)  # 0-based principal axes

    def __init__(self, parent=None):
        super().__init__(parent)
        self.map = LatentMap()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.RichText)
        self.legend = Legend()
        self.legend.changed.connect(self.map.set_shown_labels)
        self.split = QComboBox()
        self.split.addItems(SPLIT_CHOICES)
        self.split.setToolTip("Which images to place on the map")
        self.split.currentTextChanged.connect(self.split_changed)
        self.axis_u, self.axis_v = QComboBox(), QComboBox()
        for combo in (self.axis_u, self.axis_v):
            combo.setToolTip("Principal axes of the test embeddings that span the map's plane")
            combo.activated.connect(self._axes_picked)
        self.axes_box = QWidget()
        axes_layout = QHBoxLayout(self.axes_box)
        axes_layout.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("Axes"), self.axis_u, QLabel("×"), self.axis_v):
            axes_layout.addWidget(w)

        self.keys: list[QWidget] = [self.legend]  # what the colours mean: the legend, or another key in its place
        # two rows: the key and the split, then the note and the plane's choices (the Map, the axes). On one
        # row a 16-d model's header asked 890 px, more than a laptop's screen leaves the map between its docks
        self.header = header = QHBoxLayout()
        header.addWidget(self.legend)
        header.addStretch(1)
        header.addWidget(QLabel("Show"))
        header.addWidget(self.split)
        self.controls = controls = QHBoxLayout()
        controls.addWidget(self.note, 1)
        controls.addWidget(self.axes_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(header)
        layout.addLayout(controls)
        layout.addWidget(self.map, 1)

    def add_key(self, key: QWidget) -> None:
        """Another key to the colours (the decodability colour bar), shown in the legend's room instead of it."""
        self.header.insertWidget(self.header.indexOf(self.legend) + 1, key, 100)
        self.keys.append(key)

    def shown_key(self) -> QWidget | None:
        return next((key for key in self.keys if key.isVisible()), None)

    def set_dimensions(self, latent_dim: int, axes: tuple[int, int]) -> None:
        """Offer the principal-axis pairs of a latent_dim > 2 space; a 2-d space is shown as it is."""
        if (self.axis_u.count(), self.axis_u.currentIndex(), self.axis_v.currentIndex()) == (latent_dim, *axes):
            return
        self.axes_box.setVisible(latent_dim > 2)
        for combo, chosen in ((self.axis_u, axes[0]), (self.axis_v, axes[1])):
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([f"PC{k + 1}" for k in range(latent_dim)])
            combo.setCurrentIndex(chosen)
            combo.blockSignals(False)

    def _axes_picked(self) -> None:
        i, j = self.axis_u.currentIndex(), self.axis_v.currentIndex()
        if i == j:  # keep the pair valid: move the other combo off the axis just picked
            other = self.axis_v if self.sender() is self.axis_u else self.axis_u
            other.setCurrentIndex(next(k for k in range(other.count()) if k != i))
            i, j = self.axis_u.currentIndex(), self.axis_v.currentIndex()
        self.axes_changed.emit(i, j)
