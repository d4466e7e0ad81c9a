"""The Selection panel: the images selected on the map as a grid of thumbnails with their labels, and
what can be done with them (undo, keep as group A or B, decode their mean code, export).

`ThumbnailGrid` paints only the rows in view, fetching those images as it paints, so a selection of
tens of thousands of images costs one widget and a few milliseconds per scroll. `Selecting` wires the
select tool, this panel and the window together over the Qt-free explorer.selection.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QDockWidget, QFileDialog, QGridLayout, QLabel, QPushButton,
                               QScrollArea, QSizePolicy, QToolTip, QVBoxLayout, QWidget)

from explorer import export, selection
from explorer.errors import ExplorerError
from explorer.gui.map.point_cloud import PALETTE

THUMB_SCALE = 2  # screen pixels per image pixel in the grid
GAP = 2
EXPORT_SCALE = 2  # exported thumbnails: 56 px a digit, unless the picture would be too large
HINT = ("Press S and drag a box on the map to select points (S again: lasso). Shift adds, Ctrl or Alt "
        "takes away, Shift+Ctrl keeps what is in both; a click on empty map clears.")


class ThumbnailGrid(QWidget):
    """Images row by row, each with its label in its class colour; click one to pick it."""

    clicked = Signal(int)  # position in the grid

    def __init__(self, parent=None):
        super().__init__(parent)
        self.count = 0
        self.labels = np.zeros(0, dtype=np.int64)
        self._images: Callable[[np.ndarray], np.ndarray] = lambda ks: np.zeros((len(ks), 28, 28), np.uint8)
        self._caption: Callable[[int], str] = str
        self.current = -1
        self.painted = 0  # thumbnails drawn by the last paint (only the rows in view are)
        self._side = 28 * THUMB_SCALE
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def set_items(self, count: int, labels: np.ndarray, images: Callable[[np.ndarray], np.ndarray],
                  caption: Callable[[int], str]) -> None:
        """`count` thumbnails: labels (count,), images(positions) -> uint8 (k, h, w), caption(position)."""
        self.count, self.labels, self._images, self._caption = count, labels, images, caption
        self.current = -1
        self._fit()
        self.update()

    @property
    def cell(self) -> int:
        return self._side + GAP

    def columns(self) -> int:
        return max(1, (self.width() - GAP) // self.cell)

    def _left(self) -> int:
        """Where the first column starts: the grid is centred in the width."""
        return (self.width() - self.columns() * self.cell + GAP) // 2

    def position_at(self, x: float, y: float) -> int:
        x -= self._left()
        col, row = int(x // self.cell), int((y - GAP) // self.cell)
        k = row * self.columns() + col
        return k if 0 <= col < self.columns() and 0 <= k < self.count and x >= 0 and y >= GAP else -1

    def sizeHint(self) -> QSize:
        return QSize(8 * self.cell + GAP, self._height())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit()

    def _height(self) -> int:
        return -(-self.count // self.columns()) * self.cell + GAP

    def _fit(self) -> None:
        if self.height() != self._height():
            self.setFixedHeight(self._height())

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(event.rect(), QColor("#202124"))
        cols, cell = self.columns(), self.cell
        first = max(0, (event.rect().top() - GAP) // cell) * cols
        last = min(self.count, (event.rect().bottom() // cell + 1) * cols)
        self.painted = max(0, last - first)
        if last <= first:
            return
        positions = np.arange(first, last)
        images = np.ascontiguousarray(self._images(positions))
        font = QFont(self.font())
        font.setPixelSize(11)
        font.setBold(True)
        painter.setFont(font)
        left = self._left()
        for k, image in zip(positions, images):
            row, col = divmod(int(k), cols)
            x, y = left + col * cell, GAP + row * cell
            h, w = image.shape
            painter.drawImage(QRect(x, y, self._side, self._side), QImage(image.data, w, h, w, QImage.Format_Grayscale8))
            label = int(self.labels[k])
            painter.fillRect(QRect(x, y, 12, 13), QColor(0, 0, 0, 170))
            painter.setPen(QColor(PALETTE[label % len(PALETTE)]).lighter(130))
            painter.drawText(QRect(x, y, 12, 13), Qt.AlignCenter, str(label))
            if k == self.current:
                painter.setPen(QPen(QColor("#ffd54a"), 2))
                painter.drawRect(QRect(x, y, self._side, self._side).adjusted(1, 1, -1, -1))

    def mouseMoveEvent(self, event):
        k = self.position_at(event.position().x(), event.position().y())
        if k >= 0:
            QToolTip.showText(event.globalPosition().toPoint(), self._caption(k), self)
        else:
            QToolTip.hideText()

    def mousePressEvent(self, event):
        k = self.position_at(event.position().x(), event.position().y())
        if k >= 0 and event.button() == Qt.LeftButton:
            self.current = k
            self.update()
            self.clicked.emit(k)


class SelectionPanel(QWidget):
    """The panel's widgets; it emits what the user asks for and shows what it is given."""

    shape_chosen = Signal(str)
    clear_requested = Signal()
    group_requested = Signal(str)  # "A" or "B": keep the selection as that group
    mean_requested = Signal()
    export_requested = Signal()
    order_changed = Signal()
    changed = Signal()  # the selection, the points under it, or a group kept from it changed

    def __init__(self, parent=None):
        super().__init__(parent)
        self.box = QPushButton("Box")
        self.lasso = QPushButton("Lasso")
        shapes = QButtonGroup(self)
        for button, shape, tip in ((self.box, "box", "Drag a rectangle (S switches between box and lasso)"),
                                   (self.lasso, "lasso", "Draw around the points (S switches between box and lasso)")):
            button.setCheckable(True)
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
        self.grid = ThumbnailGrid()
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


class Selecting:
    """The selection's wiring: shapes drawn with the select tool become masks over the map's points
    (only those shown), the map highlights them, the panel lists them, and the window decodes them."""

    def __init__(self, window):
        self.window = window
        self.selection = selection.Selection()
        self.panel = SelectionPanel()
        self.order = np.zeros(0, dtype=np.int64)  # the selected points, in the grid's order
        # below the model list, where the left column has room for a grid of thumbnails
        self.dock = window._dock("Selection", self.panel, Qt.LeftDockWidgetArea)
        self._models_dock = window.findChild(QDockWidget, "Models")
        window.splitDockWidget(self._models_dock, self.dock, Qt.Vertical)
        self.dock.hide()
        self._sized = False
        tool = window.map.select_tool
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
        window.points_changed.connect(self._points_changed)
        self.refresh()

    # --- what is selected ---------------------------------------------------------------------
    def _splits(self) -> list[tuple[str, int]]:
        points = self.window.points
        return points.sizes() if points is not None else []

    def mask(self) -> np.ndarray:
        """The selection over the map's points."""
        return self.selection.mask(self._splits())

    def visible(self) -> np.ndarray:
        """The points a selection can take: those of the digits shown, while the points layer is on."""
        points, w = self.window.points, self.window
        if points is None or not w.points_action.isChecked():
            return np.zeros(0 if points is None else len(points), dtype=bool)
        return w.map_panel.legend.shown()[points.labels]

    def select_shape(self, shape: str, points: np.ndarray, mode: str) -> None:
        """A box (two corners), lasso (outline) or click (one point) on the map, combined by `mode`."""
        if not self._can_select():
            return
        uv = self.window.points_uv
        if shape == "box":
            (x0, y0), (x1, y1) = points
            hit = selection.in_rect(uv, x0, x1, y0, y1)
        elif shape == "lasso":
            hit = selection.in_polygon(uv, points)
        else:
            cloud, (u, v) = self.window.map.cloud, points[0]
            hit = np.zeros(len(uv), dtype=bool)
            k = cloud.point_at(QPointF(u, v), self.window.map._pixel())
            if k >= 0:
                hit[k] = True
        self.change(selection.combine(self.mask(), hit & self.visible(), mode))

    def change(self, mask: np.ndarray) -> None:
        before = self.selection.snapshot()
        if self.selection.set(self._splits(), mask):
            n, after = int(mask.sum()), self.selection.snapshot()
            # on the window's one history, so Ctrl+Z undoes the newest edit, path or selection
            self.window.undo_stack.push(f"Selection ({n:,} image{'s' * (n != 1)})" if n else "Clear selection",
                                        lambda: self._restore(before), lambda: self._restore(after))
            self.refresh()
            if mask.any():
                self.show_panel()

    def _can_select(self) -> bool:
        """Whether there are points to select; if not, the status bar says why."""
        w = self.window
        why = ("No images on the map to select" if w.points is None else
               "The points are hidden: show them (D) to select them" if not w.points_action.isChecked() else "")
        if why:
            w.statusBar().showMessage(why, 5000)
        return not why

    def select_all(self) -> None:
        if self._can_select():
            self.change(self.visible())

    def clear(self) -> None:
        self.change(np.zeros(len(self.mask()), dtype=bool))

    def _restore(self, snapshot) -> None:
        self.selection.restore(snapshot)
        self.refresh()

    def keep_group(self, name: str) -> None:
        size = self.selection.save_group(name, [n for n, _ in self._splits()])
        self.window.statusBar().showMessage(f"Group {name}: {size:,} images, for attribute arithmetic "
                                            f"(Ctrl+Shift+T)", 8000)
        self.panel.changed.emit()

    def show_panel(self) -> None:
        self.dock.show()
        self.dock.raise_()
        if not self._sized:  # the first time: most of the column, the model list keeps a few rows
            self._sized = True
            column = self._models_dock.height() + max(self.dock.height(), 200)
            self.window.resizeDocks([self._models_dock, self.dock], [160, max(column - 160, 200)], Qt.Vertical)

    # --- tool --------------------------------------------------------------------------------
    def select_key(self) -> None:
        """S: the select tool; pressed again, it switches between box and lasso."""
        tool = self.window.map.select_tool
        if self.window.map.tool == "select":
            tool.set_shape("lasso" if tool.shape == "box" else "box")
        self.window.set_tool("select")
        self.show_panel()

    def _shape_chosen(self, shape: str) -> None:
        self.window.map.select_tool.set_shape(shape)
        self.window.set_tool("select")

    # --- showing it ----------------------------------------------------------------------------
    def _points_changed(self) -> None:
        w = self.window
        if w.points is not None:
            self.selection.use(w.session.dataset, dict(w.points.sizes()))
        self.refresh()

    def refresh(self) -> None:
        """Map highlight, thumbnails, counts and the actions that make sense, from the selection."""
        w, points = self.window, self.window.points
        mask = self.mask()
        w.map.cloud.set_selected(mask if len(mask) == len(w.map.cloud) else None)
        self.order = np.flatnonzero(mask)
        if points is not None and self.panel.by_digit.isChecked():
            self.order = self.order[np.argsort(points.labels[self.order], kind="stable")]
        n = len(self.order)
        if points is None or n == 0:
            self.panel.grid.set_items(0, np.zeros(0, dtype=np.int64), lambda ks: None, str)
        else:
            order, labels = self.order, points.labels[self.order]
            names, indices, classes = points.split_names(), points.indices(), points.splits[0].classes
            self.panel.grid.set_items(n, labels, lambda ks: points.images(order[ks]),
                                      lambda k: f"{classes[labels[k]]} · {names[order[k]]} image #{indices[order[k]]:,}")
        self.panel.summary.setText(self._summary(mask))
        p = self.panel
        p.changed.emit()
        for widget in (p.clear, p.as_a, p.as_b, p.mean, p.export):
            widget.setEnabled(n > 0)
        for name, on in (("clear_selection_action", n > 0), ("decode_mean_action", n > 0),
                         ("export_selection_action", n > 0)):
            if hasattr(w, name):
                getattr(w, name).setEnabled(on)

    def _summary(self, mask: np.ndarray) -> str:
        points = self.window.points
        n = int(mask.sum())
        hidden = self.selection.count() - n
        elsewhere = f" ({hidden:,} more in a split not shown)" if hidden > 0 else ""
        if n == 0:
            return HINT + elsewhere
        counts, classes = np.bincount(points.labels[mask], minlength=len(PALETTE)), points.splits[0].classes
        chips = " ".join(f"<span style='color:{PALETTE[d % len(PALETTE)]}'>■</span>&nbsp;{classes[d]}:&nbsp;{c:,}"
                         for d, c in enumerate(counts) if c)
        return f"<b>{n:,} selected</b>{elsewhere} &nbsp; {chips}"

    # --- decoding and exporting ---------------------------------------------------------------
    def decode_mean(self) -> None:
        points, mask = self.window.points, self.mask()
        try:
            z = selection.mean_code(points.codes[mask] if points is not None else np.zeros((0, 2)))
        except ExplorerError as e:
            self.window.show_message("Nothing to decode", str(e))
            return
        n = int(mask.sum())
        self.window.decode_code(z, f"Mean code of the {n:,} selected image{'s' if n != 1 else ''}")

    def _thumbnail_clicked(self, k: int) -> None:
        points = self.window.points
        i = int(self.order[k])
        split, index = points.source(i)
        self.window.decode_code(points.codes[i], f"The code of {split.split} image #{index:,} "
                                                 f"(digit {int(points.labels[i])}): its reconstruction")

    def ask_export(self) -> None:
        if len(self.order) == 0:
            self.window.show_message("Nothing to export", "Select points on the map first (S).")
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Export selection", "selection.png",
                                              "Thumbnails (*.png);;CSV table (*.csv);;NumPy arrays (*.npz)")
        if path:
            self.export(path)

    def export(self, path: str) -> None:
        """The selection in the grid's order: thumbnails as one PNG (row by row, EXPORT_SCALE pixels per
        image pixel where the picture allows), or split, index, label, map position and code per image."""
        points, order, plane = self.window.points, self.order, self.window.plane
        if path.lower().endswith(".png"):
            def write():
                picture = export.thumbnails(points.images(order))
                scale = EXPORT_SCALE if picture.size * EXPORT_SCALE**2 <= export.MAX_PIXELS else 1
                return export.save_png(path, picture, scale)
            self.window.run_job((write,))
        else:
            codes = points.codes[order]
            self.window.run_job((export.save_codes, path, codes, points.labels[order], plane.project(codes),
                                 points.split_names()[order], points.indices()[order]))
