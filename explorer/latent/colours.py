"""The colour of each class on the map, the legend, the selection and the replay: one per class number,
the same for a class wherever it is drawn and however many classes there are.

Classes 0-9 get matplotlib's tab10 (the lecture's colours for the digits), 10-19 tab20's light partners
of those, and from 20 on colours spread round the hue circle by the golden angle at three lightnesses,
so neighbouring class numbers never look alike. Free of Qt.
"""

from __future__ import annotations

import colorsys
import functools

from explorer.data.limits import MAX_CLASSES

TAB10 = (  # matplotlib's tab10: the lecture's colours for digits 0-9
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
TAB20_LIGHT = (  # tab20's lighter partner of each tab10 colour
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5")
GOLDEN = 0.6180339887498949  # of a turn: successive hues are as far apart as the ones before allow
SHADES = ((0.80, 0.85), (0.55, 0.95), (0.95, 0.60))  # (saturation, value) taken in turn


def class_colours(n: int) -> tuple[str, ...]:
    """'#rrggbb' for classes 0 to n-1 (n at most MAX_CLASSES), all different; the first m of them are
    class_colours(m), so a class keeps its colour whatever else is shown."""
    if not 0 <= n <= MAX_CLASSES:
        raise ValueError(f"colours are made for 0 to {MAX_CLASSES} classes, not {n}")
    return _all()[:n]


@functools.cache
def _all() -> tuple[str, ...]:
    found = list(TAB10 + TAB20_LIGHT)
    seen, k = set(found), 0
    while len(found) < MAX_CLASSES:
        saturation, value = SHADES[k % len(SHADES)]
        r, g, b = colorsys.hsv_to_rgb((0.05 + k * GOLDEN) % 1.0, saturation, value)
        colour = f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
        if colour not in seen:
            seen.add(colour)
            found.append(colour)
        k += 1
    return tuple(found)
