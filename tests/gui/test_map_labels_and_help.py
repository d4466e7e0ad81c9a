"""Small things a user reads: the map's axis labels stay "z₁" however far it is zoomed, the keyboard
help lists every key (the compare view's too), and the hover card never covers a waypoint being dragged."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel

from .helpers import at, pixel_of


def test_the_axis_labels_keep_their_names_when_zoomed_far_in(open_window, qtbot):
    window = open_window()
    for _ in range(12):  # 0.5 ** 12: ticks a thousandth apart
        window.map.view.scaleBy((0.5, 0.5))
    qtbot.wait(50)
    bottom, left = window.map.getAxis("bottom"), window.map.getAxis("left")
    assert bottom.labelString().endswith("z₁ </span>") and "x0.0" not in bottom.labelString()
    assert "x0.0" not in left.labelString() and "z₂" in left.labelString()


def test_f1_lists_the_compare_views_keys(open_window, qtbot):
    window = open_window()
    window.actions.help.trigger()
    box = next(w for w in QApplication.topLevelWidgets() if w.windowTitle() == "Keyboard shortcuts" and w.isVisible())
    text = box.findChild(QLabel).text()
    assert "Ctrl+W" in text and "Ctrl+Shift+C" in text
    assert box.sizeHint().height() <= 720 - 60  # it fits a 1280 x 720 screen under the desktop's bars
    box.close()


def test_the_hover_card_is_hidden_while_a_waypoint_is_dragged(open_window, qtbot):
    window = open_window()
    points = window.state.points_uv
    k = 17
    start = tuple(points[k])  # a waypoint laid on a data point: its card would cover the handle
    window.set_tool("waypoint")
    window.path_editor.set_waypoints([start, at(window, 0.9, 0.9)], "Draw path")
    viewport = window.map.viewport()
    qtbot.mouseMove(viewport, pixel_of(window, *at(window, 0.05, 0.05)))
    qtbot.mousePress(viewport, Qt.LeftButton, pos=pixel_of(window, *start))
    shown = []
    for f in (0.3, 0.35, 0.4, 0.45):
        qtbot.mouseMove(viewport, pixel_of(window, *at(window, f, f)))
        shown.append(window.map.inset.isVisible())
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=pixel_of(window, *at(window, 0.45, 0.45)))
    assert window.state.path.waypoints[0] != start  # it was dragged
    assert shown == [False] * 4
