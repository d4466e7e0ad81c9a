"""The map's ways back: the legend's All shows every class again after any hiding, and zooming in or
out stops at a limit where the view still decodes; a map shown again redraws only what changed."""

from __future__ import annotations

from PySide6.QtCore import Qt

from explorer.gui.map.latent_map import SETTLE_MS, ZOOM_IN_LIMIT

from .helpers import at


def test_the_legend_shows_every_class_again(open_window, qtbot):
    window = open_window()
    legend = window.map_panel.legend
    for k in (1, 4, 7):
        qtbot.mouseClick(legend.buttons[k], Qt.LeftButton)
    assert legend.shown().sum() == 7
    qtbot.mouseClick(legend.all, Qt.LeftButton)
    assert legend.shown().all()


def test_zooming_in_stops_at_a_limit_that_still_decodes(open_window, qtbot):
    window = open_window()
    window.activateWindow()
    xmin, xmax, ymin, ymax = window.map.visible_bounds()
    for _ in range(300):  # 300 presses of + would be 0.8**300 ~ 1e-29 of the view
        qtbot.keyClick(window.map, Qt.Key_Plus)
    axmin, axmax, aymin, aymax = window.map.visible_bounds()
    assert axmax - axmin >= 0.9 * ZOOM_IN_LIMIT * (xmax - xmin)
    with qtbot.waitSignal(window.state.decoded, timeout=10_000):
        window.state.set_cursor(at(window, 0.5, 0.5))
    for _ in range(100):
        qtbot.keyClick(window.map, Qt.Key_Minus)
    bxmin, bxmax, _, _ = window.map.visible_bounds()
    assert bxmax - bxmin <= 110 * (xmax - xmin)


def test_a_map_shown_again_redraws_only_if_its_view_changed_while_hidden(open_window, qtbot):
    """Showing a map again (a window restored, a compare cell put back) redraws its background only when
    its range changed while it was hidden: unchanged, the manifold and decodability grids are still right."""
    window = open_window()
    themap = window.map
    qtbot.wait(2 * SETTLE_MS)
    seen = []
    themap.region_settled.connect(seen.append)
    themap.hide()
    themap.show()
    qtbot.wait(3 * SETTLE_MS)
    assert seen == []
    themap.hide()
    xmin, xmax, ymin, ymax = themap.visible_bounds()
    themap.view.setRange(xRange=(xmin, (xmin + xmax) / 2), yRange=(ymin, ymax), padding=0)  # while hidden
    qtbot.wait(2 * SETTLE_MS)
    assert seen == []
    themap.show()
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=5_000)
