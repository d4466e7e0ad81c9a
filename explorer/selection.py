"""Which map points fall inside a box or a lasso (a polygon), without Qt."""

from __future__ import annotations

import numpy as np


def in_rect(points: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Boolean mask of the (N, 2) points inside the rectangle (corners in any order)."""
    points = np.asarray(points)
    (xa, xb), (ya, yb) = sorted((x0, x1)), sorted((y0, y1))
    x, y = points[:, 0], points[:, 1]
    return (x >= xa) & (x <= xb) & (y >= ya) & (y <= yb)


def in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean mask of the (N, 2) points inside the closed polygon (K, 2), even-odd rule.

    One ray-crossing test per polygon edge over all points at once: K numpy passes, not N*K Python steps.
    """
    points, polygon = np.asarray(points, dtype=np.float64), np.asarray(polygon, dtype=np.float64)
    inside = np.zeros(len(points), dtype=bool)
    if len(polygon) < 3:
        return inside
    x, y = points[:, 0], points[:, 1]
    for (xa, ya), (xb, yb) in zip(polygon, np.roll(polygon, -1, axis=0)):
        if ya == yb:
            continue  # a horizontal edge never crosses a horizontal ray
        crosses = (ya > y) != (yb > y)
        x_at = xa + (y - ya) * (xb - xa) / (yb - ya)
        inside ^= crosses & (x < x_at)
    return inside
