"""The Selection panel: the images selected on the map as a grid of thumbnails with their labels, and
what can be done with them (keep as group A or B, decode their mean code, export).

The thumbnails are the shared ThumbnailGrid, which paints only the rows in view. `Selecting` wires the
select tool, this panel and the view state's selection together over the Qt-free explorer.latent.selection.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from explorer.data.limits import MAX_CLASSES
from explorer.gui import last_folder
from explorer.gui.docks import Docks
from explorer.gui.feedback import Feedback
from explorer.gui.map.latent_map import LatentMap
from explorer.gui.state import ViewState
from explorer.gui.threads.tasks import Tasks
from explorer.gui.widgets.thumbnail_grid import ThumbnailGrid
from explorer.latent import export, selection
from explorer.latent.colours import class_colours
from explorer.utils.errors import ExplorerError

THUMB_SCALE = 2  # screen pixels per image pixel in the grid
GAP = 2
EXPORT_SCALE = 2  # exported thumbnails: 56 px a digit, unless the picture would be too large
# Fusion draws a checked button barely darker than the dark palette's others: the shape in use is lit
CHOSEN_SHAPE = ("QPushButton:checked { background: #8ab4f8; color: #202124; border: 1px solid #8ab4f8;"
                " border-radius: 2px; }")
HINT = ("Press S and drag a box on the map to select points (S again: lasso). Shift adds, Ctrl or Alt "
        "takes away, Shift+Ctrl keeps what is in both; a click on empty map clears.")


class SelectionPanel(QWidget):
    """The panel's widgets; it emits what the user asks for and shows what it is given."""

    shape_chosen = Signal(str)
    clear_requested = Signal()
    group_requested = Signal(str)  # "A" or "B": keep the selection as that group
    mean_requested = Signal()
    export_requested = Signal()
    order_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.box = QPushButton("Box")
        self.lasso = QPushButton("Lasso")
        shapes = QButtonGroup(self)
        for button, shape, tip in ((self.box, "box", "Drag a rectangle (S switches between box and lasso)"),
                                   (self.lasso, "lasso", "Draw around the points (S switches between box and lasso)")):
            button.setCheckable(True)
            button.setStyleSheet(CHOSEN_SHAPE)
            button.setToolTip(tip)
            button.clicked.connect(lambda checked=False, shape=shape: self.shape_chosen.emit(shape))
            shapes.addButton(button)
        self.box.setChecked(True)
        self.clear = self._button("Clear", "Select nothing (Ctrl+Shift+A)", self.clear_requested.emit)
        self.as_a = self._button("Keep as A", "Keep this selection as group A for attribute arithmetic",
                                 lambda: self.group_requested.emit("A"))
        self.as_b = self._button("Keep as B", "Keep this selection as group B for attribute arithmetic",
                                 lambda: self.group_requested.emit("B"))
        self.mean = self._button("Decode mean", "Decode the mean of the selected images' full codes (M)",
                                 self.mean_requested.emit)
        self.export = self._button("Export…", "Save the thumbnails as PNG, or the images' split, index, label and "
                                              "codes as CSV or NPZ", self.export_requested.emit)
        self.by_digit = QCheckBox("Group by digit")
        self.by_digit.setToolTip("Order the thumbnails (and exports) by label, keeping data order within a digit")
        self.by_digit.toggled.connect(self.order_changed)
        self.summary = QLabel(HINT)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.RichText)
        self.grid = ThumbnailGrid(scale=THUMB_SCALE, gap=GAP, palette=class_colours(MAX_CLASSES))
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.grid)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)

        buttons = QGridLayout()
        buttons.setSpacing(3)
        for k, w in enumerate((self.box, self.lasso, self.clear, self.as_a, self.as_b, self.mean, self.export)):
            buttons.addWidget(w, k // 3, k % 3)
        buttons.addWidget(self.by_digit, 3, 0, 1, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addWidget(self.scroll, 1)

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        button = QPushButton(text)
        button.setToolTip(tip)
        button.clicked.connect(lambda checked=False: slot())
        return button

    def show_shape(self, shape: str) -> None:
        (self.box if shape == "box" else self.lasso).setChecked(True)


class Selecting(QObject):
    """The selection's wiring: shapes drawn with the select tool become the state's selection over the
    map's points (only those shown), the map highlights it, the panel lists it, and a thumbnail or the
    mean decodes through the state's cursor."""

    tool_requested = Signal(str)  # the select tool should be the map's tool
    actions_enabled = Signal(bool)  # whether there is a selection to clear, decode or export

    def __init__(self, state: ViewState, latent_map: LatentMap, docks: Docks, tasks: Tasks, feedback: Feedback,
                 parent=None):
        super().__init__(parent)
        self.state, self.map, self.docks, self.tasks, self.feedback = state, latent_map, docks, tasks, feedback
        self.panel = SelectionPanel()
        self.order = np.zeros(0, dtype=np.int64)  # the selected points, in the grid's order
        # below the model list, where the left column has room for a grid of thumbnails
        self.dock = docks.add("Selection", self.panel, Qt.LeftDockWidgetArea)
        self._models_dock = docks.find("Models")
        if self._models_dock is not None:
            docks.split(self._models_dock, self.dock, Qt.Vertical)
        self.dock.hide()
        self._sized = False
        tool = latent_map.select_tool
        tool.selected.connect(self.select_shape)
        tool.shape_changed.connect(self.panel.show_shape)
        p = self.panel
        p.shape_chosen.connect(self._shape_chosen)
        p.clear_requested.connect(self.clear)
        p.group_requested.connect(self.keep_group)
        p.mean_requested.connect(self.decode_mean)
        p.export_requested.connect(self.ask_export)
        p.order_changed.connect(self.refresh)
        p.grid.clicked.connect(self._thumbnail_clicked)
        state.points_changed.connect(self.refresh)
        state.selection_changed.connect(self.refresh)
        self.refresh()

    # --- what is selected ---------------------------------------------------------------------
    def mask(self) -> np.ndarray:
        """The selection over the map's points."""
        return self.state.selection_mask()

    def select_shape(self, shape: str, points: np.ndarray, mode: str) -> None:
        """A box (two corners), lasso (outline) or click (one point) on the map, combined by `mode`."""
        if not self._can_select():
            return
        uv = self.state.points_uv
        if shape == "box":
            (x0, y0), (x1, y1) = points
            hit = selection.in_rect(uv, x0, x1, y0, y1)
        elif shape == "lasso":
            hit = selection.in_polygon(uv, points)
        else:
            (u, v) = points[0]
            hit = np.zeros(len(uv), dtype=bool)
            k = self.map.cloud.point_at(QPointF(u, v), self.map.pixel_size())
            if k >= 0:
                hit[k] = True
        self.change(selection.combine(self.mask(), hit & self.map.points_shown(), mode))

    def change(self, mask: np.ndarray) -> None:
        """Select `mask`: one edit on the window's one history, so Ctrl+Z undoes the newest, path or selection."""
        n = int(mask.sum())
        if self.state.set_selection(mask, f"Selection ({n:,} image{'s' * (n != 1)})" if n else "Clear selection"):
            if mask.any():
                self.show_panel()

    def _can_select(self) -> bool:
        """Whether there are points to select; if not, the status bar says why."""
        why = ("No images on the map to select" if self.state.points is None else
               "The points are hidden: show them (D) to select them" if not self.map.cloud.isVisible() else "")
        if why:
            self.feedback.say(why, 5000)
        return not why

    def select_all(self) -> None:
        if self._can_select():
            self.change(self.map.points_shown())

    def clear(self) -> None:
        self.change(np.zeros(len(self.mask()), dtype=bool))

    def keep_group(self, name: str) -> None:
        size = self.state.keep_group(name)
        self.feedback.say(f"Group {name}: {size:,} images, for attribute arithmetic (Ctrl+Shift+T)", 8000)

    def show_panel(self) -> None:
        self.dock.show()
        self.dock.raise_()
        if not self._sized and self._models_dock is not None:  # the first time: most of the column
            self._sized = True
            column = self._models_dock.height() + max(self.dock.height(), 200)
            self.docks.resize([self._models_dock, self.dock], [160, max(column - 160, 200)], Qt.Vertical)

    # --- tool --------------------------------------------------------------------------------
    def select_key(self) -> None:
        """S: the select tool; pressed again, it switches between box and lasso."""
        tool = self.map.select_tool
        if self.map.tool == "select":
            tool.set_shape("lasso" if tool.shape == "box" else "box")
        self.tool_requested.emit("select")
        self.show_panel()

    def _shape_chosen(self, shape: str) -> None:
        self.map.select_tool.set_shape(shape)
        self.tool_requested.emit("select")

    # --- showing it ----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Map highlight, thumbnails, counts and the actions that make sense, from the selection."""
        points = self.state.points
        mask = self.mask()
        self.map.cloud.set_selected(mask if len(mask) == len(self.map.cloud) else None)
        self.order = np.flatnonzero(mask)
        if points is not None and self.panel.by_digit.isChecked():
            self.order = self.order[np.argsort(points.labels[self.order], kind="stable")]
        n = len(self.order)
        if points is None or n == 0:
            self.panel.grid.set_items(None)
        else:
            order, labels = self.order, points.labels[self.order]
            names, indices, classes = points.split_names(), points.indices(), points.splits[0].classes
            self.panel.grid.set_items(lambda ks: points.images(order[ks]), labels=labels, count=n,
                                      tooltips=lambda k: f"{classes[labels[k]]} · {names[order[k]]} image "
                                                         f"#{indices[order[k]]:,}")
        self.panel.summary.setText(self._summary(mask))
        p = self.panel
        for widget in (p.clear, p.as_a, p.as_b, p.mean, p.export):
            widget.setEnabled(n > 0)
        self.actions_enabled.emit(n > 0)

    def _summary(self, mask: np.ndarray) -> str:
        points = self.state.points
        n = int(mask.sum())
        hidden = self.state.selection.count() - n
        elsewhere = f" ({hidden:,} more in a split not shown)" if hidden > 0 else ""
        if n == 0:
            return HINT + elsewhere
        classes = points.splits[0].classes
        counts, colours = np.bincount(points.labels[mask], minlength=len(classes)), class_colours(len(classes))
        chips = " ".join(f"<span style='color:{colours[d]}'>■</span>&nbsp;{classes[d]}:&nbsp;{c:,}"
                         for d, c in enumerate(counts) if c)
        return f"<b>{n:,} selected</b>{elsewhere} &nbsp; {chips}"

    # --- decoding and exporting ---------------------------------------------------------------
    def decode_mean(self) -> None:
        points, mask = self.state.points, self.mask()
        try:
            z = selection.mean_code(points.codes[mask] if points is not None else np.zeros((0, 2)))
        except ExplorerError as e:
            self.feedback.show_message("Nothing to decode", str(e))
            return
        n = int(mask.sum())
        self.state.set_code(z, "selection", f"Mean code of the {n:,} selected image{'s' if n != 1 else ''}")

    def _thumbnail_clicked(self, k: int) -> None:
        points = self.state.points
        i = int(self.order[k])
        split, index = points.source(i)
        self.state.set_code(points.codes[i], "selection", f"The code of {split.describe(index)} "
                                                          f"(digit {int(points.labels[i])}): its reconstruction")

    def ask_export(self) -> None:
        if len(self.order) == 0:
            self.feedback.show_message("Nothing to export", "Select points on the map first (S).")
            return
        path, _ = last_folder.getSaveFileName(self.panel.window(), "Export selection",
                                              last_folder.named(self.state.session, "selection", ".png"),
                                              "Thumbnails (*.png);;CSV table (*.csv);;NumPy arrays (*.npz)")
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        """The selection in the grid's order: thumbnails as one PNG (row by row, EXPORT_SCALE pixels per
        image pixel where the picture allows), or split, index, label, map position and code per image."""
        points, order, plane = self.state.points, self.order, self.state.plane
        if path.lower().endswith(".png"):
            def write():
                picture = export.thumbnails(points.images(order))
                scale = EXPORT_SCALE if picture.size * EXPORT_SCALE**2 <= export.MAX_PIXELS else 1
                return export.save_png(path, picture, scale)
            self.tasks.run((write,))
        else:
            codes = points.codes[order]
            self.tasks.run((export.save_codes, path, codes, points.labels[order], plane.project(codes),
                            points.split_names()[order], points.indices()[order]))
