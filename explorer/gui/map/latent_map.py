"""The latent map: a pyqtgraph plot of map coordinates (u, v) with layers, and the mouse tools.

Layers, bottom to top: the decoded manifold (a tiled image), the points (PointCloud), the prior's
contours, the interpolation path (with handles on its waypoints while the waypoint tool is on), the
cursor. The widget knows nothing about models: it shows what it is given and emits what the user does
(decode here, this path, this point hovered, the view settled), so a second instance (a compare view)
is just another LatentMap.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout

from explorer.gui.map.point_cloud import PointCloud
from explorer.gui.map.select_tool import SelectTool
from explorer.gui.map.waypoint_tool import WaypointTool
from explorer.gui.widgets.images import to_pixmap
from explorer.gui.widgets.thumbnail_grid import ThumbnailGrid
from explorer.latent import interpolation

TOOLS = ("explore", "line", "freehand", "waypoint", "select")
SETTLE_MS = 200  # the manifold is re-rendered once pan/zoom has been still this long
ZOOM_IN_LIMIT, ZOOM_OUT_LIMIT = 1e-4, 100.0  # the narrowest and widest view, times the data's span
FREEHAND_STEP_PX = 4.0  # a freehand path keeps a point every this many pixels
INSET_SCALE = 3
GROUP_SCALE = 2  # several images on the hover card, each enlarged this much
NO_POINTS = np.zeros(0, dtype=np.int64)


class Markers(pg.ScatterPlotItem):
    """Symbols drawn over the map that let clicks through: a click on the cursor or on a path's dots
    is a click on the map beneath (a plain ScatterPlotItem would take it)."""

    def mouseClickEvent(self, ev):
        ev.ignore()


class MapViewBox(pg.ViewBox):
    """Left button: the active tool (decode, draw or edit a path, select); Shift+left (except when
    selecting, where Shift adds) or middle: pan; right: zoom (with the waypoint tool, a right click on
    a waypoint deletes it)."""

    def __init__(self, owner: "LatentMap"):
        super().__init__(lockAspect=True, enableMenu=False)
        self._owner = owner

    def mouseClickEvent(self, ev):
        if ev.button() == Qt.LeftButton and self._owner.tool == "select":
            ev.accept()
            self._owner.select_tool.click(self.mapToView(ev.pos()), ev.modifiers())
        elif ev.button() == Qt.LeftButton:
            ev.accept()
            self._owner._clicked(self.mapToView(ev.pos()))
        elif ev.button() == Qt.RightButton and self._owner._right_clicked(self.mapToView(ev.pos())):
            ev.accept()
        else:
            ev.ignore()

    def mouseDragEvent(self, ev, axis=None):
        if ev.button() == Qt.LeftButton and self._owner.tool == "select" and axis is None:
            ev.accept()
            self._owner.select_tool.drag(self.mapToView(ev.buttonDownPos()), self.mapToView(ev.pos()), ev.isStart(),
                                         ev.isFinish(), ev.modifiers())
        elif ev.button() == Qt.LeftButton and not ev.modifiers() & Qt.ShiftModifier and axis is None:
            ev.accept()
            self._owner._dragged(self.mapToView(ev.buttonDownPos()), self.mapToView(ev.pos()), ev.isFinish(),
                                 ev.isStart())
        else:
            super().mouseDragEvent(ev, axis)


class LatentMap(pg.PlotWidget):
    decode_requested = Signal(float, float)  # the user clicked or dragged to map point (u, v)
    # (k, 2) waypoints on the map; True when the gesture is finished; what the user did ("Move waypoint")
    path_changed = Signal(object, bool, str)
    point_hovered = Signal(int)  # index of the point under the pointer, -1 when none
    region_settled = Signal(object)  # (xmin, xmax, ymin, ymax) once pan/zoom has stopped

    def __init__(self, parent=None):
        # Every pointer move must reach the drag handler: pyqtgraph's default rate limit drops moves,
        # so the last positions of a fast drag (where the pointer stops) would never be decoded.
        pg.setConfigOption("mouseRateLimit", -1)
        self.view = MapViewBox(self)
        super().__init__(parent, viewBox=self.view)
        self.setMenuEnabled(False)
        self.hideButtons()
        self._axis_labels = None
        for side in ("bottom", "left"):  # zoomed in, pyqtgraph relabelled the axis "z₁ (x0.001)" and its ticks
            self.getAxis(side).enableAutoSIPrefix(False)
        self.set_axis_labels("z₁", "z₂")
        self._prior = None
        self.tool = "explore"
        self._freehand: list[QPointF] = []
        self._hovered = -1
        self.hovered_group = NO_POINTS  # the points under the pointer, nearest first
        self._last_pointer = None  # where the pointer last was, in widget pixels (for the inset)

        self.background = pg.ImageItem(axisOrder="row-major")
        self.background.setZValue(-10)
        self.background.setOpacity(0.8)
        self.cloud = PointCloud()
        self.prior = pg.ItemGroup()
        self.prior.setZValue(5)
        self.path_line = pg.PlotCurveItem(pen=pg.mkPen("#ffd54a", width=2))
        self.path_samples = Markers(size=7, pen=pg.mkPen("#202020"), brush=pg.mkBrush("#ffd54a"))
        self.path_handles = Markers(symbol="s", size=11, pen=pg.mkPen("#202020", width=1.5))
        self.path_handles.hide()
        self.waypoint_tool = WaypointTool(self, self.path_handles)
        self.cursor = Markers()
        layers = (self.path_line, self.path_samples, self.path_handles, self.cursor)
        for z, item in enumerate(layers):
            item.setZValue(10 + z)
        for item in (self.background, self.cloud, self.prior, *layers):
            self.addItem(item)
        self.background.hide()
        self.prior.hide()

        self.inset = Inset(self)
        self.select_tool = SelectTool(self)

        self.settle_timer = QTimer(self)
        self.settle_timer.setSingleShot(True)
        self.settle_timer.setInterval(SETTLE_MS)
        self.settle_timer.timeout.connect(lambda: self.region_settled.emit(self.visible_bounds()))
        # a hidden map (its window closing, a compare cell put away) needs no redraw until it is shown: a range
        # change from the close's last re-layout would otherwise start the timer after stop_timers, on a window
        # that is gone; shown again with its range unchanged (a window restored), it has nothing to redraw
        self._unsettled = True  # a range change not yet drawn (none drawn yet)
        self.view.sigRangeChanged.connect(self._range_changed)
        self.region_settled.connect(lambda bounds: self.cloud.refresh())  # a zoomed density image, drawn anew
        self.scene().sigMouseMoved.connect(self._moved)

    # --- what the owner shows -------------------------------------------------------------------
    def set_axis_labels(self, horizontal: str, vertical: str) -> None:
        if self._axis_labels != (horizontal, vertical):  # a new label re-lays out the plot: only on change
            self._axis_labels = (horizontal, vertical)
            self.setLabel("bottom", horizontal)
            self.setLabel("left", vertical)

    def set_points(self, uv: np.ndarray | None, labels: np.ndarray | None, classes: int = 0) -> None:
        if uv is None:
            uv, labels = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
        self.cloud.set_points(uv, labels, classes)
        self._set_hovered()

    def set_shown_labels(self, shown: np.ndarray) -> None:
        self.cloud.set_shown_labels(shown)
        self._set_hovered()

    def set_cursor(self, u: float, v: float) -> None:
        self.cursor.setData([u, u], [v, v], symbol="o", size=[20, 20], brush=None,
                            pen=[pg.mkPen("#000000", width=4), pg.mkPen("#ffffff", width=2)])

    def hide_cursor(self) -> None:
        self.cursor.setData([], [])

    def set_path(self, waypoints: np.ndarray | None, samples: np.ndarray | None = None,
                 curve: np.ndarray | None = None) -> None:
        """The path's waypoints (k, 2), the line drawn through them (default: straight segments) and, if
        known, the map positions of its decoded samples."""
        if waypoints is None or len(waypoints) == 0:
            waypoints = np.zeros((0, 2))
            self.path_samples.setData([], [])
        waypoints = np.asarray(waypoints, dtype=np.float64).reshape(-1, 2)
        curve = waypoints if curve is None else np.asarray(curve, dtype=np.float64).reshape(-1, 2)
        self.path_line.setData(curve[:, 0], curve[:, 1])
        if samples is not None:
            self.path_samples.setData(samples[:, 0], samples[:, 1])
        self.waypoint_tool.set_path(waypoints, curve)

    def set_background(self, image: np.ndarray | None, bounds=None) -> None:
        """A tiled decode (row 0 = largest v) stretched over bounds (xmin, xmax, ymin, ymax)."""
        if image is None:
            self.background.clear()
            return
        xmin, xmax, ymin, ymax = bounds
        # row-major images are drawn with row 0 at the smallest v, so flip the grid's top row down
        self.background.setImage(np.ascontiguousarray(image[::-1]), levels=(0, 255), autoLevels=False)
        self.background.setRect(QRectF(xmin, ymin, xmax - xmin, ymax - ymin))

    def set_prior(self, centre: np.ndarray, circles: list[tuple[float, float]]) -> None:
        """Dashed circles where N(0, I) has the density it has at radius r (1, 2, 3 sigma)."""
        key = (tuple(np.round(centre, 9)), tuple(circles))
        if key == self._prior:
            return
        self._prior = key
        for item in list(self.prior.childItems()):
            item.setParentItem(None)
            self.scene().removeItem(item)
        angles = np.linspace(0, 2 * np.pi, 121)
        pen = pg.mkPen((255, 255, 255, 170), width=1.5, style=Qt.DashLine)
        for r, radius in circles:
            curve = pg.PlotCurveItem(centre[0] + radius * np.cos(angles), centre[1] + radius * np.sin(angles), pen=pen)
            curve.setParentItem(self.prior)
            # inside the circle, under its top: above it, the 3σ label fell outside the view fitted to the data
            text = pg.TextItem(f"{r:g}σ", color=(255, 255, 255, 200), anchor=(0.5, 0.0))
            text.setPos(centre[0], centre[1] + radius)
            text.setParentItem(self.prior)

    def points_shown(self) -> np.ndarray:
        """(N,) which points the user can see and pick: the points layer on, their label shown."""
        return self.cloud.shown if self.cloud.isVisible() else np.zeros(len(self.cloud), dtype=bool)

    def set_layer_visible(self, layer: str, visible: bool) -> None:
        {"points": self.cloud, "manifold": self.background, "prior": self.prior}[layer].setVisible(visible)

    def show_range(self, bounds) -> None:
        xmin, xmax, ymin, ymax = (float(b) for b in bounds)  # numpy float32 overflows pyqtgraph's limit checks
        span = max(xmax - xmin, ymax - ymin, 1e-6)
        # a zoom limit: 10,000x in, 100x out of the data; past a few hundred wheel notches the view's
        # numbers stopped being decodable before
        self.view.setLimits(minXRange=span * ZOOM_IN_LIMIT, minYRange=span * ZOOM_IN_LIMIT,
                            maxXRange=span * ZOOM_OUT_LIMIT, maxYRange=span * ZOOM_OUT_LIMIT)
        self.view.setRange(xRange=(xmin, xmax), yRange=(ymin, ymax), padding=0.02)

    def visible_bounds(self) -> tuple[float, float, float, float]:
        (xmin, xmax), (ymin, ymax) = self.view.viewRange()
        return xmin, xmax, ymin, ymax

    def covering_square(self) -> tuple[float, float, float, float]:
        """A square around the view that covers it: grid cells over it stay square, digits undistorted."""
        xmin, xmax, ymin, ymax = self.visible_bounds()
        cx, cy, half = (xmin + xmax) / 2, (ymin + ymax) / 2, max(xmax - xmin, ymax - ymin) / 2
        return cx - half, cx + half, cy - half, cy + half

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self.tool = tool
        self.waypoint_tool.hover(None)
        self.setCursor(Qt.CrossCursor if tool != "explore" else Qt.ArrowCursor)
        self.path_handles.setVisible(tool == "waypoint")

    def show_inset(self, image: np.ndarray, text: str) -> None:
        """A small card near the pointer with a point's original image and what it is."""
        self.inset.set(image, text)
        self._place_inset()
        self.inset.show()
        self.inset.raise_()

    def show_inset_group(self, images: np.ndarray, captions: list[str], text: str) -> None:
        """The hover card for several points drawn on the same spot: their images side by side."""
        self.inset.set_group(images, captions, text)
        self._place_inset()
        self.inset.show()
        self.inset.raise_()

    @property
    def hovered_point(self) -> int:
        """The point under the pointer, -1 for none."""
        return self._hovered

    @property
    def hovered_waypoint(self) -> int:
        """The waypoint whose handle is under the pointer (waypoint tool), -1 for none."""
        return self.waypoint_tool.hovered

    def hide_inset(self) -> None:
        self.inset.hide()

    def stop_timers(self) -> None:
        self.settle_timer.stop()

    def _range_changed(self, *_) -> None:
        if self.isVisible():
            self.settle_timer.start()
        else:
            self._unsettled = True

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._unsettled:  # a range change while hidden is drawn now
            self._unsettled = False
            self.settle_timer.start()

    # --- mouse -----------------------------------------------------------------------------------
    def leaveEvent(self, event):
        """The pointer left the map: nothing is under it any more (Del must not delete a waypoint)."""
        super().leaveEvent(event)
        self._set_hovered()
        if self.tool == "waypoint":
            self.waypoint_tool.hover(None)

    def _clicked(self, pos: QPointF) -> None:
        if self.tool == "waypoint":
            self.waypoint_tool.click(pos)
        else:
            self.decode_requested.emit(pos.x(), pos.y())

    def _right_clicked(self, pos: QPointF) -> bool:
        """With the waypoint tool, a right click on a waypoint deletes it; True if it did."""
        return self.tool == "waypoint" and self.waypoint_tool.right_click(pos)

    def _dragged(self, start: QPointF, pos: QPointF, finished: bool, started: bool = False) -> None:
        self._set_hovered()
        if self.tool == "waypoint":
            self.waypoint_tool.drag(start, pos, finished, started)
            return
        if self.tool == "explore":
            self.decode_requested.emit(pos.x(), pos.y())
            return
        if self.tool == "line":
            points = [start, pos]
        else:
            if not self._freehand or self._freehand[0] != start:
                self._freehand = [start]
            last = self._freehand[-1]
            px, py = self.pixel_size()
            moved = np.hypot((pos.x() - last.x()) / px, (pos.y() - last.y()) / py)
            if moved >= FREEHAND_STEP_PX or (finished and moved > 0):  # the end point always counts
                self._freehand.append(pos)
            points = self._freehand
        points = interpolation.thinned([[p.x(), p.y()] for p in points])  # a long stroke: at most MAX_WAYPOINTS
        what = "Draw line" if self.tool == "line" else "Draw freehand path"
        self.path_changed.emit(points, finished, what)
        if finished:
            self._freehand = []

    def _moved(self, scene_pos) -> None:
        inside = self.view.sceneBoundingRect().contains(scene_pos)
        if not inside or QApplication.mouseButtons() != Qt.NoButton:
            self._set_hovered()
            if not inside and self.tool == "waypoint":
                self.waypoint_tool.hover(None)
            return
        self._last_pointer = self.mapFromScene(scene_pos)
        pos = self.view.mapSceneToView(scene_pos)
        if self.tool == "waypoint" and self.waypoint_tool.hover(pos):
            self._set_hovered()  # the handle, not the point beneath it
            return
        self._set_hovered(self.cloud.points_at(pos, self.pixel_size()))
        if self.inset.isVisible():
            self._place_inset()

    def _set_hovered(self, group: np.ndarray = NO_POINTS) -> None:
        """Points now under the pointer, nearest first; point_hovered says when they change."""
        if not np.array_equal(group, self.hovered_group):
            self.hovered_group = group
            self._hovered = int(group[0]) if len(group) else -1
            if self._hovered < 0:
                self.hide_inset()
            self.point_hovered.emit(self._hovered)

    def pixel_size(self) -> tuple[float, float]:
        """Size of one screen pixel in map units (x, y)."""
        px, py = self.view.viewPixelSize()
        return px or 1.0, py or 1.0

    def _place_inset(self) -> None:
        p = self._last_pointer
        if p is None:
            return
        x, y = p.x() + 16, p.y() + 16
        if x + self.inset.width() > self.width():
            x = p.x() - 16 - self.inset.width()
        if y + self.inset.height() > self.height():
            y = p.y() - 16 - self.inset.height()
        self.inset.move(max(int(x), 0), max(int(y), 0))


class Inset(QFrame):
    """The hover card: an original image, enlarged, over a line of text; or several side by side."""

    def __init__(self, parent):
        super().__init__(parent)
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.setStyleSheet("Inset { background: #202124; border: 1px solid #80868b; border-radius: 3px; }"
                           "QLabel { color: #e8eaed; }")
        self.image = QLabel()
        self.group = ThumbnailGrid(columns=1, scale=GROUP_SCALE)
        self.text = QLabel()
        self.text.setAlignment(Qt.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.image)
        layout.addWidget(self.group)
        layout.addWidget(self.text)
        self.hide()

    def set(self, image: np.ndarray, text: str) -> None:
        self.shown = image
        self.image.setPixmap(to_pixmap(image, INSET_SCALE))
        self.image.show()
        self.group.hide()
        self.text.setText(text)
        self.adjustSize()

    def set_group(self, images: np.ndarray, captions: list[str], text: str) -> None:
        self.shown = images
        self.group.fixed_columns = len(images)
        self.group.set_items(images, captions)
        self.group.show()
        self.image.hide()
        self.text.setText(text)
        self.adjustSize()
