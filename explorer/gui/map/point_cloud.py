"""Tens of thousands of labelled points drawn as one item.

pyqtgraph's ScatterPlotItem looks up a symbol per point in Python on every setData and on every
visibility change (~0.3 s for 70,000 points on a laptop CPU), which is too slow to redraw the map
after each training epoch or to hide a digit from the legend. Here the ten discs are rendered once
into a small atlas and each paint is one drawPixmapFragments call built with numpy: setting points
or hiding a label costs a few milliseconds, and points keep their data order (no label always on top).
A selection is drawn the same way: the other points fade (each fragment has its own opacity) and the
selected ones are drawn again on top over white rings from the same atlas.

A million points would still cost the painter about half a second a frame, so each paint first finds
the shown points in a region around the view (half a view beyond each side) and keeps them: while the
view stays inside that region, a frame looks only at those. Where more than DENSE_AT of them are in
view, they are denser than the discs can show, and the region is drawn as a density image instead
(explorer.latent.splat): panning moves that image, zooming scales it until the view settles and it is drawn
anew at the new scale. Hover, click, selection and the legend always use the exact points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap

from explorer.latent import splat
from explorer.latent.colours import TAB10, class_colours

# the lecture's tab10 colours for digits 0-9, as in the replay GIFs; more classes: explorer.latent.colours
PALETTE = TAB10
FADED = 0.25  # opacity of the points left out of a selection
# Points in view above which they are drawn as a density image: discs cost about 0.2 us each a frame
# here, so 150,000 of them is about a 30 fps frame
DENSE_AT = 150_000
REGION_PAD = 0.5  # views beyond each side of the view that a region covers
DENSITY_CELL = 2  # logical pixels per density cell: a lone point shows as a 2 x 2 dot


@dataclass
class _Region:
    """The shown points around the view when it was last painted, and their density image if dense."""

    version: int
    rect: QRectF  # map coordinates
    scale: tuple[float, float]  # the view's pixels per map unit it was built at
    subset: np.ndarray  # indices of the shown points inside rect
    images: tuple = ()  # (QImage, its RGBA array) pairs drawn over rect, bottom first; () for discs


class PointCloud(pg.GraphicsObject):
    points_set = Signal()  # new points: any colouring other than by label must be given again

    def __init__(self, size: float = 5.0, alpha: int = 210):
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.palette: tuple[str, ...] = PALETTE
        self.label_palette: tuple[str, ...] = PALETTE  # a colour per class, as many as the labels need
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
        self._by_x: np.ndarray | None = None  # point indices by x, for hit tests
        self._sorted_x = np.zeros(0)
        self._version = 0  # bumped by every change to what is drawn
        self._region: _Region | None = None
        self._scale = (0.0, 0.0)  # of the last paint

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

    def set_points(self, xy: np.ndarray, labels: np.ndarray, classes: int = 0) -> None:
        """Points xy (N, 2) of labels (N,) 0 up, of `classes` classes or as many as the labels name."""
        self.prepareGeometryChange()
        self._xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        self._labels = np.asarray(labels, dtype=np.int64)
        count = max(classes, int(self._labels.max()) + 1 if len(self._labels) else 0, len(PALETTE))
        self.label_palette = class_colours(count)
        self._shown_labels = _padded(self._shown_labels, count)
        self._shown = self._shown_labels[self._labels]
        self._by_x = None
        if len(self._xy):
            lo, hi = self._xy.min(axis=0), self._xy.max(axis=0)
            self._bounds = QRectF(lo[0], lo[1], hi[0] - lo[0], hi[1] - lo[1])
        else:
            self._bounds = QRectF()
        self._rect = None
        self._selected = None
        self.colours = None
        if self.palette != self.label_palette or self._outline:
            self.palette, self._outline, self._atlas = self.label_palette, False, None
        self._changed()
        self.points_set.emit()

    def set_colours(self, colours: np.ndarray | None, palette=None, outline: bool = False) -> None:
        """Colour point k with palette[colours[k]] (outlined, to stand out on a coloured background);
        None colours by label again (in label_palette). Labels still decide which points are shown."""
        if colours is not None and len(colours) != len(self._labels):
            raise ValueError(f"{len(colours)} colours for {len(self._labels)} points")
        self.colours = None if colours is None else np.asarray(colours, dtype=np.int64)
        palette = self.label_palette if colours is None or palette is None else palette
        if tuple(palette) != self.palette or outline != self._outline:
            self.palette, self._outline, self._atlas = tuple(palette), outline, None
        self._changed()

    def set_selected(self, selected: np.ndarray | None) -> None:
        """Highlight these points (bool mask over the points); None or all False: no selection."""
        selected = None if selected is None else np.asarray(selected, dtype=bool)
        selected = selected if selected is not None and selected.any() else None
        if selected is not None or self._selected is not None:  # nothing to redraw when nothing was or is selected
            self._selected = selected
            self._changed()

    def set_shown_labels(self, shown: np.ndarray) -> None:
        """Which classes are drawn, by class number; classes beyond `shown` are drawn."""
        self._shown_labels = _padded(np.asarray(shown, dtype=bool), len(self.label_palette))
        self._shown = self._shown_labels[self._labels]
        self._changed()

    def _changed(self) -> None:
        self._version += 1
        self.update()

    @property
    def dense(self) -> bool:
        """Whether the last paint drew the points as a density image."""
        return self._region is not None and bool(self._region.images)

    def refresh(self) -> None:
        """The view has settled: a density image drawn at another scale is drawn anew at this one."""
        if self.dense and self._region.scale != self._scale:
            self._region = None
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
        if self._by_x is None:  # sorted once per set of points, on the first hover: a window of x is then a slice
            self._by_x = np.argsort(self._xy[:, 0], kind="stable")
            self._sorted_x = self._xy[self._by_x, 0]
        reach_x = radius_px * abs(pixel[0])
        lo = int(np.searchsorted(self._sorted_x, pos.x() - reach_x, side="left"))
        hi = int(np.searchsorted(self._sorted_x, pos.x() + reach_x, side="right"))
        candidates = self._by_x[lo:hi]
        candidates = candidates[self._shown[candidates]]
        d2 = np.square((self._xy[candidates, 0] - pos.x()) / pixel[0]) + \
            np.square((self._xy[candidates, 1] - pos.y()) / pixel[1])
        close = d2 <= radius_px**2
        near, d2 = candidates[close], d2[close]
        order = np.lexsort((near, d2))  # nearest first, ties in data order
        return near[order]

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
        if not self._shown.any():
            return
        t = p.transform()
        self._scale = (t.m11(), t.m22())
        region = self._region_for(t, QRectF(p.viewport()))
        if region.images:
            target = t.mapRect(region.rect)
            p.resetTransform()
            for image, _ in region.images:
                p.drawImage(target, image)
        else:
            dpr = widget.devicePixelRatioF() if widget is not None else 1.0
            self._paint_discs(p, t, region.subset, dpr)

    def _region_for(self, t, device: QRectF) -> _Region:
        """The region painted last if it still holds the view, else a new one around it."""
        inverse, _ = t.inverted()
        view = inverse.mapRect(device)
        region = self._region
        if region is not None and region.version == self._version and region.rect.contains(view):
            return region
        rect = view.adjusted(-REGION_PAD * view.width(), -REGION_PAD * view.height(),
                             REGION_PAD * view.width(), REGION_PAD * view.height())
        x, y = self._xy[:, 0], self._xy[:, 1]
        subset = np.flatnonzero(self._shown & (x >= rect.left()) & (x <= rect.right()) &
                                (y >= rect.top()) & (y <= rect.bottom()))
        images = ()
        if len(subset) > DENSE_AT:
            sx, sy = x[subset], y[subset]
            in_view = np.count_nonzero((sx >= view.left()) & (sx <= view.right()) &
                                       (sy >= view.top()) & (sy <= view.bottom()))
            if in_view > DENSE_AT:
                images = self._density(t, rect, subset)
        self._region = _Region(self._version, rect, (t.m11(), t.m22()), subset, images)
        return self._region

    def _density(self, t, rect: QRectF, subset: np.ndarray) -> tuple:
        """Density images of the points `subset` over `rect` at the transform's scale: one for all of
        them, or with a selection, one for the others (faded) and one for the selected on top."""
        target = t.mapRect(rect)
        x, y = self._xy[subset, 0], self._xy[subset, 1]
        px = t.m11() * x + t.m21() * y + t.dx() - target.left()
        py = t.m12() * x + t.m22() * y + t.dy() - target.top()
        index = (self._labels if self.colours is None else self.colours)[subset]
        palette = splat.hex_to_rgb(self.palette)
        width, height = int(np.ceil(target.width())), int(np.ceil(target.height()))
        if self._selected is None:
            groups = [(np.ones(len(subset), dtype=bool), 1.0)]
        else:
            chosen = self._selected[subset]
            groups = [(~chosen, FADED), (chosen, 1.0)]
        images = []
        for members, opacity in groups:
            rgba = splat.density_rgba(px[members], py[members], index[members], width, height, palette,
                                      DENSITY_CELL, opacity)
            image = QImage(rgba.data, rgba.shape[1], rgba.shape[0], rgba.shape[1] * 4, QImage.Format_RGBA8888)
            images.append((image, rgba))  # the array stays alive as long as the image that reads it
        return tuple(images)

    def _paint_discs(self, p: QPainter, t, subset: np.ndarray, dpr: float) -> None:
        """One atlas disc per point of `subset` in view, in data order; a selection on top, ringed."""
        atlas = self._atlas_for(dpr)
        x, y = self._xy[subset, 0], self._xy[subset, 1]
        px = t.m11() * x + t.m21() * y + t.dx()
        py = t.m12() * x + t.m22() * y + t.dy()
        index = (self._labels if self.colours is None else self.colours)[subset]  # atlas cell per point
        device = p.viewport()
        margin = self.size
        inside = (px > device.left() - margin) & (px < device.right() + margin) & \
                 (py > device.top() - margin) & (py < device.bottom() + margin)
        opacity = np.ones(len(px))
        on_top = np.zeros(0, dtype=np.int64)
        if self._selected is not None:
            selected = self._selected[subset]
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


def _padded(shown: np.ndarray, count: int) -> np.ndarray:
    """`shown` for `count` classes at least: the classes it does not cover are shown."""
    return shown if len(shown) >= count else np.concatenate([shown, np.ones(count - len(shown), dtype=bool)])
