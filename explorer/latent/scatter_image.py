"""A map of labelled points drawn to an image without Qt: for the timeline's replay GIF and exports.

Points are drawn in their class's colour (explorer.latent.colours: tab10 for the first ten, as in the
lecture and the window) on white, with a legend of the labels present (as many as fit, then a count);
frames of a replay share one frame of reference so nothing jumps.
"""

from __future__ import annotations

import numpy as np

from explorer.latent import geometry
from explorer.latent.colours import class_colours

LEGEND_WIDTH = 70  # pixels to the right of the map
LEGEND_ROW = 16  # pixels a class takes in the legend
MIN_SIZE, MAX_SIZE = 120, 2048


def draw(uv: np.ndarray, labels: np.ndarray, bounds, size: int = 480, title: str = "",
         classes: list[str] | None = None) -> np.ndarray:
    """(size, size + LEGEND_WIDTH, 3) uint8: points uv (N, 2) inside bounds (xmin, xmax, ymin, ymax),
    y up, coloured by label, with a legend."""
    from PIL import Image, ImageDraw

    if not (isinstance(size, (int, np.integer)) and MIN_SIZE <= size <= MAX_SIZE):
        raise ValueError(f"size must be a whole number from {MIN_SIZE} to {MAX_SIZE}, got {size!r}")
    xmin, xmax, ymin, ymax = geometry.check_bounds(bounds)
    image = Image.new("RGB", (size + LEGEND_WIDTH, size), "white")
    pen = ImageDraw.Draw(image)
    font = _font(13)
    labels = np.asarray(labels, dtype=np.int64)
    px = (np.asarray(uv)[:, 0] - xmin) / (xmax - xmin) * (size - 1)
    py = (ymax - np.asarray(uv)[:, 1]) / (ymax - ymin) * (size - 1)
    radius = max(1, size // 240)
    colours = class_colours(max(len(classes or ()), int(labels.max()) + 1 if len(labels) else 0))
    for x, y, k in zip(px, py, labels):
        if 0 <= x < size and 0 <= y < size:
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colours[k])
    pen.line((size, 0, size, size), fill="#bbbbbb")
    present = np.unique(labels)
    rows = (size - 8) // LEGEND_ROW
    shown = present if len(present) <= rows else present[:rows - 1]  # the last row counts the rest
    for row, k in enumerate(shown):
        y = 8 + row * LEGEND_ROW
        pen.rectangle((size + 8, y, size + 18, y + 10), fill=colours[k])
        name = classes[int(k)] if classes and 0 <= k < len(classes) else str(int(k))
        pen.text((size + 24, y - 2), name[:6], fill="black", font=font)
    if len(shown) < len(present):
        pen.text((size + 8, 6 + len(shown) * LEGEND_ROW), f"+{len(present) - len(shown)} more", fill="black", font=font)
    if title:
        pen.text((6, 4), title, fill="black", font=font)
    return np.asarray(image)


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)  # a scalable font where Pillow has FreeType
    except (TypeError, OSError, ImportError):
        return ImageFont.load_default()
