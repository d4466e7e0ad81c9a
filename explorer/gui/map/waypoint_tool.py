"""The waypoint tool on a LatentMap: square handles on the path's waypoints, and what the mouse does
to them. A click adds a waypoint (on the line: between the two waypoints it runs between; elsewhere:
after the last), a drag moves one (a drag from empty map adds one there and moves it, so a click that
wobbles still adds its waypoint), a right click deletes one.

The tool only proposes: it emits the new waypoints through the map's path_changed, and the owner
decides what the path becomes and hands it back with LatentMap.set_path.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt

from explorer.latent import interpolation

HANDLE_PX = 8.0  # a waypoint's handle takes the pointer within this many pixels


class WaypointTool:
    def __init__(self, owner, handles: pg.ScatterPlotItem):
        self.owner = owner  # the LatentMap
        self.handles = handles
        self.waypoints = np.zeros((0, 2))  # of the path shown
        self.curve = self.waypoints  # the line drawn through them
        self.hovered = -1
        self._drag: tuple[np.ndarray, int, str] | None = None  # waypoints, which one moves, what it does

    def set_path(self, waypoints: np.ndarray, curve: np.ndarray) -> None:
        self.waypoints, self.curve = waypoints, curve
        if self.hovered >= len(waypoints):
            self.hovered = -1
        self._show()

    def click(self, pos: QPointF) -> None:
        if self.at(pos) < 0:
            points, _ = self._with_added(pos)
            self.owner.path_changed.emit(points, True, "Add waypoint")

    def right_click(self, pos: QPointF) -> bool:
        """Delete the waypoint under pos; True if there was one."""
        k = self.at(pos)
        if k >= 0:
            self.owner.path_changed.emit(np.delete(self.waypoints, k, axis=0), True, "Delete waypoint")
        return k >= 0

    def drag(self, start: QPointF, pos: QPointF, finished: bool, started: bool) -> None:
        if started or self._drag is None:
            k = self.at(start)
            self._drag = (self.waypoints.copy(), k, "Move waypoint") if k >= 0 else (*self._with_added(start),
                                                                                      "Add waypoint")
        points, k, what = self._drag
        points = points.copy()
        points[k] = (pos.x(), pos.y())
        self.owner.path_changed.emit(points, finished, what)
        if finished:
            self._drag = None

    def hover(self, pos: QPointF | None) -> bool:
        """The pointer is at pos (None: off the map); True when it is on a handle."""
        k = -1 if pos is None else self.at(pos)
        if k != self.hovered:
            self.hovered = k
            self._show()
            self.owner.setCursor(Qt.SizeAllCursor if k >= 0 else Qt.CrossCursor)
        return k >= 0

    def at(self, pos: QPointF) -> int:
        """The waypoint whose handle is under map point pos, -1 for none."""
        if len(self.waypoints) == 0:
            return -1
        px, py = self.owner.pixel_size()
        gaps = np.hypot((self.waypoints[:, 0] - pos.x()) / px, (self.waypoints[:, 1] - pos.y()) / py)
        k = int(np.argmin(gaps))
        return k if gaps[k] <= HANDLE_PX else -1

    def _with_added(self, pos: QPointF) -> tuple[np.ndarray, int]:
        """The waypoints with one more at pos, and its index."""
        px, _ = self.owner.pixel_size()
        k = interpolation.insertion_index(self.waypoints, self.curve, (pos.x(), pos.y()), HANDLE_PX * px)
        return np.insert(self.waypoints, k, (pos.x(), pos.y()), axis=0), k

    def _show(self) -> None:
        brushes = [pg.mkBrush("#ffffff" if k == self.hovered else "#ffd54a") for k in range(len(self.waypoints))]
        self.handles.setData(self.waypoints[:, 0], self.waypoints[:, 1], brush=brushes)
