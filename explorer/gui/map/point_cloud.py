"""Tens of thousands of labelled points drawn as one item.

pyqtgraph's ScatterPlotItem looks up a symbol per point in Python on every setData and on every
visibility change (~0.3 s for 70,000 points on a laptop CPU), which is too slow to redraw the map
after each training epoch or to hide a digit from the legend. Here the ten discs are rendered once
into a small atlas and each paint is one drawPixmapFragments call built with numpy: setting points
or hiding a label costs a few milliseconds, and points keep their data order (no label always on top).
A selection is drawn the same way: the other points fade (each fragment has its own opacity) and the
selected ones are drawn again on top over white rings from the same atlas.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap

# matplotlib's tab10: the lecture's colours for digits 0-9
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
FADED = 0.25  # opacity of the points left out of a selection


class PointCloud(pg.GraphicsObject):
    points_set = Signal()  # new points: any colouring other than by label must be given again

    def __init__(self, size: float = 5.0, alpha: int = 210):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.palette: tuple[str, ...] = PALETTE
        self.colours: np.ndarray | None = None  # per point, an index into palette; None: by label
        self._outline = False
        self._xy = np.zeros((0, 2))
        self._labels = np.zeros(0, dtype=np.int64)
        self._shown_labels = np.ones(len(PALETTE), dtype=bool)
        self._shown = np.zeros(0, dtype=bool)
        self._selected: np.ndarray | None = None  # bool (N,), None when nothing is selected
        self._atlas: QPixmap | None = None  # in device pixels, drawn at scale 1/dpr
        self._atlas_dpr = 0.0
        self._bounds = QRectF()
        self._rect: QRectF | None = None
        self._frags = np.zeros((0, 10))

    # --- data -------------------------------------------------------------------------------------
    @property
    def shown(self) -> np.ndarray:
        """(N,) which points are drawn: those of the labels shown."""
        return self._shown.copy()

    @property
    def positions(self) -> np.ndarray:
        """(N, 2) where the points are drawn, in map coordinates."""
        return self._xy

    @property
    def selected(self) -> np.ndarray | None:
        """(N,) the points ringed as selected, None when none are."""
        return self._selected

    def set_points(self, xy: np.ndarray, labels: np.ndarray) -> None:
        self.prepareGeometryChange()
        self._xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self._labels = np.asarray(labels, dtype=np.int64)
        self._shown = self._shown_labels[self._labels]
        if len(self._xy):
            lo, hi = self._xy.min(axis=0), self._xy.max(axis=0)
            self._bounds = QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        else:
            self._bounds = QRectF()
        self._rect = None
        self._selected = None
        self.colours = None
        if self.palette != PALETTE or self._outline:
            self.palette, self._outline, self._atlas = PALETTE, False, None
        self.update()
        self.points_set.emit()

    def set_colours(self, colours: np.ndarray | None, palette=PALETTE, outline: bool = False) -> None:
        """Colour point k with palette[colours[k]] (outlined, to stand out on a coloured background);
        None colours by label again. Labels still decide which points are shown."""
        if colours is not None and len(colours) != len(self._labels):
            raise ValueError(f"{len(colours)} colours for {len(self._labels)} points")
        self.colours = None if colours is None else np.asarray(colours, dtype=np.int64)
        if tuple(palette) != self.palette or outline != self._outline:
            self.palette, self._outline, self._atlas = tuple(palette), outline, None
        self.update()

    def set_selected(self, selected: np.ndarray | None) -> None:
        """Highlight these points (bool mask over the points); None or all False: no selection."""
        selected = None if selected is None else np.asarray(selected, dtype=bool)
        selected = selected if selected is not None and selected.any() else None
        if selected is not None or self._selected is not None:  # nothing to redraw when nothing was or is selected
            self._selected = selected
            self.update()

    def set_shown_labels(self, shown: np.ndarray) -> None:
        self._shown_labels = np.asarray(shown, dtype=bool)
        self._shown = self._shown_labels[self._labels]
        self.update()

    def __len__(self) -> int:
        return len(self._labels)

    def point_at(self, pos: QPointF, pixel: tuple[float, float], radius_px: float = 6.0) -> int:
        """Index of the shown point nearest `pos` (view coordinates) within radius_px pixels, or -1."""
        near = self.points_at(pos, pixel, radius_px)
        return int(near[0]) if len(near) else -1

    def points_at(self, pos: QPointF, pixel: tuple[float, float], radius_px: float = 6.0) -> np.ndarray:
        """Indices of the shown points within radius_px pixels of `pos` (view coordinates), nearest first."""
        if not self._shown.any():
            return np.zeros(0, dtype=np.int64)
        d2 = np.square((self._xy[:, 0] - pos.x()) / pixel[0]) + np.square((self._xy[:, 1] - pos.y()) / pixel[1])
        near = np.flatnonzero(self._shown & (d2 <= radius_px**2))
        return near[np.argsort(d2[near], kind="stable")]

    # --- QGraphicsItem ----------------------------------------------------------------------------
    def viewTransformChanged(self):
        self.prepareGeometryChange()  # the discs' pixel size is a different distance in view units now
        self._rect = None

    def boundingRect(self) -> QRectF:
        if self._rect is None:
            pad = self.pixelLength(pg.Point(1, 0)) or 0.0
            pad_y = self.pixelLength(pg.Point(0, 1)) or 0.0
            r = self.size / 2 + 1
            self._rect = self._bounds.adjusted(-pad * r, -pad_y * r, pad * r, pad_y * r)
        return QRectF(self._rect)

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        if not len(self._xy):
            return None, None
        column = self._xy[:, ax]
        return float(column.min()), float(column.max())

    def paint(self, p: QPainter, option, widget=None):
        shown = self._shown
        if not shown.any():
            return
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        atlas = self._atlas_for(dpr)
        t = p.transform()
        x, y = self._xy[shown, 0], self._xy[shown, 1]
        px = t.m11() * x + t.m21() * y + t.dx()
        py = t.m12() * x + t.m22() * y + t.dy()
        index = (self._labels if self.colours is None else self.colours)[shown]  # atlas cell per point
        device = p.viewport()
        margin = self.size
        inside = (px > device.left() - margin) & (px < device.right() + margin) & \
                 (py > device.top() - margin) & (py < device.bottom() + margin)
        opacity = np.ones(len(px))
        on_top = np.zeros(0, dtype=np.int64)
        if self._selected is not None:
            selected = self._selected[shown]
            opacity[~selected] = FADED
            on_top = np.flatnonzero(inside & selected)
        order = np.flatnonzero(inside)
        # the discs in data order, then rings under the selected discs drawn again on top: a selected
        # cluster keeps its colours inside a white outline
        k = np.concatenate([order, on_top, on_top])
        n = len(k)
        if n == 0:
            return
        if len(self._frags) < n:
            self._frags = np.empty((n, 10))
        frags = self._frags[:n]  # x, y (centre), source x, y, w, h, scale x, y, rotation, opacity
        ring = len(self.palette)  # the atlas cell after the palette's discs
        cell = atlas.width() / (ring + 1)
        frags[:, 0] = px[k]
        frags[:, 1] = py[k]
        frags[:, 2] = index[k] * cell
        frags[len(order):len(order) + len(on_top), 2] = ring * cell
        frags[:, 3] = 0.0
        frags[:, 4:6] = cell
        frags[:, 6:8] = 1.0 / dpr
        frags[:, 8] = 0.0
        frags[:, 9] = opacity[k]
        p.resetTransform()
        first = shiboken6.wrapInstance(frags.ctypes.data, QPainter.PixmapFragment)
        p.drawPixmapFragments(first, n, atlas)

    def _atlas_for(self, dpr: float) -> QPixmap:
        """The palette's discs and the selection ring side by side, rendered at the screen's pixel ratio."""
        if self._atlas is None or self._atlas_dpr != dpr:
            ring = len(self.palette)
            cell = int(np.ceil((self.size + 4) * dpr))
            atlas = QPixmap(cell * (ring + 1), cell)
            atlas.fill(Qt.transparent)
            painter = QPainter(atlas)
            painter.setRenderHint(QPainter.Antialiasing)
            painter.setPen(QPen(QColor(0, 0, 0, 200), dpr) if self._outline else Qt.NoPen)
            diameter = self.size * dpr
            for k, colour in enumerate(self.palette):
                c = QColor(colour)
                c.setAlpha(self.alpha)
                painter.setBrush(c)
                painter.drawEllipse(QPointF(k * cell + cell / 2, cell / 2), diameter / 2, diameter / 2)
            painter.setBrush(Qt.NoBrush)
            painter.setPen(QPen(QColor("#ffffff"), 1.2 * dpr))
            painter.drawEllipse(QPointF(ring * cell + cell / 2, cell / 2), diameter / 2 + 0.6 * dpr,
                                diameter / 2 + 0.6 * dpr)
            painter.end()
            self._atlas, self._atlas_dpr = atlas, dpr
        return self._atlas
