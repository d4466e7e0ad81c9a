"""What the GUI tests share: mapping between map points and pixels, and the model's own decodes."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor

from explorer.engine import coding


def pixel_of(window, u: float, v: float) -> QPoint:
    """The viewport pixel showing map point (u, v)."""
    scene = window.map.view.mapViewToScene(QPointF(u, v))
    return window.map.mapFromScene(scene)


def map_point(window, pixel: QPoint) -> tuple[float, float]:
    """The map point under a viewport pixel."""
    p = window.map.view.mapSceneToView(window.map.mapToScene(pixel))
    return p.x(), p.y()


def expected_decode(window, u: float, v: float) -> np.ndarray:
    """What the model itself decodes at map point (u, v)."""
    s = window.state.session
    return coding.decode(s.model, window.state.plane.to_latent([u, v]), window.state.label)[0]


def decodes_of(window):
    """A list that collects every decode the window shows."""
    seen = []
    window.state.decoded.connect(seen.append)
    return seen


def at(window, fx: float, fy: float) -> tuple[float, float]:
    """The map point at fractions (fx, fy) of the visible region, from its lower left corner."""
    xmin, xmax, ymin, ymax = window.map.visible_bounds()
    return xmin + fx * (xmax - xmin), ymin + fy * (ymax - ymin)


def drag(qtbot, widget, points, settle=None):
    """Press at points[0], move through the rest, release at the last; settle() between moves."""
    qtbot.mousePress(widget, Qt.LeftButton, pos=points[0])
    for p in points[1:]:
        qtbot.mouseMove(widget, p)
        if settle:
            settle()
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=points[-1])


def frame_point(strip, k: int) -> QPoint:
    """The middle of frame k in a Strip (frames fill rows of strip.cols, the pixmap centred vertically)."""
    rows = -(-len(strip.frames) // strip.cols)
    top = (strip.height() - rows * strip.cell_height) / 2
    row, col = divmod(k, strip.cols)
    return QPoint(int((col + 0.5) * strip.cell), int(top + (row + 0.5) * strip.cell_height))


def colour_at(plot, x, y) -> QColor:
    """The colour a plot widget shows at data point (x, y)."""
    image = plot.grab().toImage()
    return image.pixelColor(plot.mapFromScene(plot.getViewBox().mapViewToScene(QPointF(x, y))))
