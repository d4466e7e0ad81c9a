"""The strip of decodes (filmstrip and attribute walk): frames laid out as large as the dock allows, of
any size, and a click on any frame picks that frame."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt

from explorer.gui.widgets.filmstrip import Strip, strip_layout

from .helpers import frame_point


def shown(fit: float) -> float:
    """The scale a frame is drawn at: whole steps when enlarged."""
    return float(int(fit)) if fit >= 1 else fit


@given(n=st.integers(1, 400), h=st.integers(8, 64), w=st.integers(8, 64), width=st.integers(1, 2500),
       height=st.integers(1, 1000))
def test_the_layout_fits_the_strip_and_beats_a_single_row(n, h, w, width, height):
    cols, fit = strip_layout(n, h, w, width, height)
    rows = -(-n // cols)
    assert 1 <= cols <= n and (rows - 1) * cols < n  # no empty row
    assert fit == min(height / (rows * h), width / (cols * w))
    if fit >= 1:  # drawn at a whole scale, inside the strip
        assert int(fit) * cols * w <= width and int(fit) * rows * h <= height
    assert shown(fit) >= shown(min(height / h, width / (n * w)))


def test_a_tall_strip_shows_frames_in_rows_and_a_click_picks_each(qtbot):
    strip = Strip()
    qtbot.addWidget(strip)
    strip.resize(600, 400)
    strip.show()
    frames = np.random.default_rng(0).integers(0, 256, (10, 28, 28), dtype=np.uint8)
    strip.set_frames(frames)
    assert strip.cols < 10 and strip.cell > 600 / 10  # larger than one row could show them
    picked = []
    strip.clicked.connect(picked.append)
    for k in range(10):
        qtbot.mouseClick(strip, Qt.LeftButton, pos=frame_point(strip, k))
    assert picked == list(range(10))


def test_colour_frames_of_any_size_fill_a_short_strip(qtbot):
    strip = Strip()
    qtbot.addWidget(strip)
    strip.resize(700, 90)
    strip.show()
    strip.set_frames(np.zeros((5, 40, 36, 3), dtype=np.uint8))
    assert strip.cols == 5 and strip.cell == 2 * 36  # 86 px of height: twice 40 px, not a 28-px guess
    strip.set_current(4)
    picked = []
    strip.clicked.connect(picked.append)
    qtbot.mouseClick(strip, Qt.LeftButton, pos=frame_point(strip, 4))
    assert picked == [4] and strip.pixmap().width() <= strip.width()
