"""Points denser than pixels, drawn as a density image: one colour per cell from the labels of the
points that fall in it, its opacity from how many do. Free of Qt (the map's PointCloud shows it).

A million discs cost the painter about half a second a frame here; binning the same points into
screen cells with numpy's bincount costs tens of milliseconds and shows the same picture where the
discs would overlap anyway.
"""

from __future__ import annotations

import numpy as np

SPARSEST_ALPHA = 0.8  # opacity of a cell holding one point (a disc is drawn at 210/255)


def hex_to_rgb(colours) -> np.ndarray:
    """('#1f77b4', ...) -> (K, 3) float32 in 0..255."""
    return np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in colours], dtype=np.float32)


def density_rgba(px: np.ndarray, py: np.ndarray, index: np.ndarray, width: int, height: int,
                 palette_rgb: np.ndarray, cell: int = 2, opacity: float = 1.0) -> np.ndarray:
    """(ceil(height / cell), ceil(width / cell), 4) uint8 RGBA: points at pixel positions (px, py) in
    a width x height region, each coloured palette_rgb[index[k]], binned into cell x cell squares. A
    cell takes the colour most of its points have (as the discs show the clusters: a mean of ten
    colours is a brown no digit has); its opacity grows with the log of their count, from
    SPARSEST_ALPHA for one point to 1 for the fullest cell, times `opacity`."""
    cols, rows = -(-int(width) // cell), -(-int(height) // cell)
    k = len(palette_rgb)
    px, py = np.asarray(px), np.asarray(py)
    inside = (px >= 0) & (px < cols * cell) & (py >= 0) & (py < rows * cell)
    ix = (px[inside] * (1 / cell)).astype(np.int64)  # truncation is floor here: all are >= 0
    iy = (py[inside] * (1 / cell)).astype(np.int64)
    where = (np.minimum(iy, rows - 1) * cols + np.minimum(ix, cols - 1)) * k + np.asarray(index)[inside]
    # whole-array reductions: gathering the filled cells first cost 3x more at 600,000 of them
    counts = np.bincount(where, minlength=rows * cols * k).reshape(rows * cols, k)
    total = counts.sum(axis=1)
    rgba = np.zeros((rows * cols, 4), dtype=np.uint8)
    rgba[:, :3] = np.asarray(palette_rgb, dtype=np.uint8)[counts.argmax(axis=1)]
    peak = int(total.max()) if len(total) else 0
    grow = np.log(np.maximum(total, 1)) / np.log(peak) if peak > 1 else np.zeros(len(total))
    alpha = 255 * opacity * (SPARSEST_ALPHA + (1 - SPARSEST_ALPHA) * grow)
    rgba[:, 3] = np.where(total > 0, np.rint(alpha), 0)
    return rgba.reshape(rows, cols, 4)
