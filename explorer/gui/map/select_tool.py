"""The map's select tool: drag a box or draw a lasso; the shape is outlined while the button is down.

The tool only draws and reports the shape on the map with the mode its modifier keys chose (Shift adds,
Ctrl or Alt takes away, Shift+Ctrl keeps what is in both); which points fall inside is the window's
business (explorer.latent.selection), so the tool knows nothing about the points.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Qt, Signal

SHAPES = ("box", "lasso")
LASSO_STEP_PX = 3.0  # a lasso keeps a point every this many pixels


def mode_for(modifiers) -> str:
    """The selection mode (explorer.latent.selection.MODES) for the keys held when the drag began."""
    add = bool(modifiers & Qt.ShiftModifier)
    remove = bool(modifiers & (Qt.ControlModifier | Qt.AltModifier))
    return "intersect" if add and remove else "add" if add else "subtract" if remove else "replace"


class SelectTool(QObject):
    # shape ("box": its two corners; "lasso": its outline; "point": where the click was), points (k, 2)
    # on the map, and the mode
    selected = Signal(str, object, str)
    shape_changed = Signal(str)

    def __init__(self, latent_map):
        super().__init__(latent_map)
        self._map = latent_map
        self.shape = "box"
        self._mode = "replace"
        self._lasso: list[QPointF] = []
        self.outline = pg.PlotCurveItem(pen=pg.mkPen("#ffffff", width=1.5, style=Qt.DashLine))
        self.outline.setZValue(20)
        latent_map.addItem(self.outline)

    def set_shape(self, shape: str) -> None:
        if shape not in SHAPES:
            raise ValueError(f"unknown selection shape {shape!r}")
        if shape != self.shape:
            self.shape = shape
            self.shape_changed.emit(shape)

    def click(self, pos: QPointF, modifiers) -> None:
        self.selected.emit("point", np.array([[pos.x(), pos.y()]]), mode_for(modifiers))

    def drag(self, start: QPointF, pos: QPointF, first: bool, finished: bool, modifiers) -> None:
        if first:  # the keys held as the drag begins decide, as in image editors
            self._mode = mode_for(modifiers)
            self._lasso = [start]
        if self.shape == "box":
            points = np.array([[start.x(), start.y()], [pos.x(), pos.y()]])
            (x0, y0), (x1, y1) = points
            self.outline.setData([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0])
        else:
            last = self._lasso[-1]
            px, py = self._map.pixel_size()
            if np.hypot((pos.x() - last.x()) / px, (pos.y() - last.y()) / py) >= LASSO_STEP_PX or finished:
                self._lasso.append(pos)
            points = np.array([[p.x(), p.y()] for p in self._lasso])
            closed = np.vstack([points, points[:1]])
            self.outline.setData(closed[:, 0], closed[:, 1])
        if finished:
            self.outline.setData([], [])
            self._lasso = []
            self.selected.emit(self.shape, points, self._mode)
