"""A window that holds its shape and its keys: no value typed into *Steps* widens the window (the strip
shrinks to fit). What keys typed into a number field do: tests/gui/test_fields.py."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from explorer.engine.config import MAX_STEPS
from explorer.gui.panels.neighbours import MAX_K
from explorer.gui.widgets.thumbnail_grid import CAPTION

from .helpers import at, frame_point, pixel_of


def type_steps(qtbot, window, steps: int) -> None:
    """Click into Steps, replace its text and press Enter, as a user does."""
    box = window.filmstrip.steps
    qtbot.mouseClick(box.lineEdit(), Qt.LeftButton)
    qtbot.keyClick(box, Qt.Key_A, Qt.ControlModifier)
    qtbot.keyClicks(box, str(steps))
    qtbot.keyClick(box, Qt.Key_Return)


def active(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return window


@pytest.fixture
def with_path(open_window, qtbot):
    window = active(qtbot, open_window())
    window.path_editor.set_waypoints([at(window, 0.2, 0.3), at(window, 0.8, 0.7)], "Draw path")
    qtbot.waitUntil(lambda: window.filmstrip.frames is not None, timeout=10_000)
    return window


@pytest.mark.parametrize("steps", [2, 45, 210, MAX_STEPS])
def test_no_steps_value_widens_the_window(with_path, qtbot, steps):
    window = with_path
    width = window.width()
    type_steps(qtbot, window, steps)
    qtbot.waitUntil(lambda: window.filmstrip.frames is not None and len(window.filmstrip.frames) == steps,
                    timeout=20_000)
    qtbot.wait(50)  # the layout settles
    strip = window.filmstrip.strip
    assert window.width() == width and window.minimumSizeHint().width() <= width
    assert strip.pixmap().width() <= strip.width()  # every frame in view
    # a click on the last frame picks it, however small the frames are
    qtbot.mouseClick(strip, Qt.LeftButton, pos=frame_point(strip, steps - 1))
    assert strip.current == steps - 1


def test_training_opens_beside_the_map_never_over_it(open_window, qtbot):
    window = active(qtbot, open_window())
    # what the model's opening started (decodes, the digits row, scores) is shown first: in CI, under
    # load, the window measured here before those settled was 1307 px, then 1390 with the panel open
    qtbot.waitUntil(lambda: all(w.idle() for w in window.workers) and window.tasks.pending() == 0, timeout=20_000)
    qtbot.wait(100)
    width = window.width()
    qtbot.keyClick(window.map, Qt.Key_T, Qt.ControlModifier)
    panel, dock = window.train_dialog, window.train_dock
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    assert not dock.isFloating() and panel.window() is window
    map_area = window.map_panel.geometry()
    assert not dock.geometry().intersects(map_area) and map_area.width() > 300
    assert window.width() == width  # the panel fits the dock beside the map


def test_tall_panels_scroll_in_their_docks_and_never_grow_the_window(open_window, qtbot):
    window = active(qtbot, open_window())
    window.resize(1500, 900)  # a 1000 px screen less the desktop's bars
    qtbot.wait(50)
    assert window.height() == 900
    qtbot.keyClick(window.map, Qt.Key_T, Qt.ControlModifier)  # the training form: 724 px of fields
    qtbot.waitUntil(window.train_dialog.isVisible, timeout=5000)
    window.actions.attribute.trigger()
    qtbot.waitUntil(window.attributes.dock.isVisible, timeout=5000)
    qtbot.wait(50)
    assert window.height() == 900  # 1122 when the form set the least height: the status bar off the screen
    form = window.train_dialog.form_area
    assert form.widget().height() > form.viewport().height()  # it scrolls instead


@pytest.mark.parametrize("k", [8, MAX_K])
def test_every_neighbour_row_shows_whole_and_no_k_grows_the_window(open_window, qtbot, k):
    window = open_window()
    size = window.size()
    neighbours = window.neighbours
    neighbours.panel.k.setValue(k)
    with qtbot.waitSignal(neighbours.shown, timeout=10_000):
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.6, 0.4)))
    qtbot.wait(50)  # the layout settles
    assert window.size() == size
    grid = neighbours.panel.grid
    last = grid.rect_of(len(grid) - 1)
    assert len(grid) == k and last.bottom() + CAPTION <= grid.height()  # the last row and its captions: none cut
    scroll = grid.parentWidget().parentWidget()  # what does not fit the dock scrolls into view
    scroll.ensureVisible(last.center().x(), last.bottom() + CAPTION)
    assert grid.visibleRegion().contains(last.adjusted(0, 0, 0, CAPTION))


def test_the_path_caption_wraps_instead_of_being_cut_off(open_window, qtbot):
    window = open_window()
    width = window.width()
    with qtbot.waitSignal(window.state.path_decoded, timeout=10_000):
        window.path_editor.set_waypoints([at(window, 0.1, 0.9), at(window, 0.5, 0.1), at(window, 0.9, 0.8)])
    qtbot.wait(50)
    caption = window.filmstrip.caption
    assert "3 waypoints" in caption.text() and window.width() == width
    if caption.wordWrap():  # every wrapped line shown
        assert caption.height() >= caption.heightForWidth(caption.width())
    else:  # on one line, it fits
        assert caption.fontMetrics().horizontalAdvance(caption.text()) <= caption.contentsRect().width()


def test_a_prior_circles_label_shows_whole_when_its_circle_reaches_the_edge_of_the_view(open_window, qtbot):
    window = open_window()
    window.actions.prior.setChecked(True)
    (cu, cv), circles = window.state.plane.prior_circles()
    labels = [item for item in window.map.prior.childItems() if isinstance(item, pg.TextItem)]
    assert [item.toPlainText() for item in labels] == [f"{r:g}σ" for r, _ in circles] == ["1σ", "2σ", "3σ"]
    radius = circles[-1][1]
    window.map.view.setRange(xRange=(cu - radius, cu + radius), yRange=(cv - radius, cv + radius), padding=0)
    window.map.viewport().repaint()  # a label takes its place on screen as it is painted
    view = window.map.view.sceneBoundingRect()
    assert view.contains(labels[-1].sceneBoundingRect())  # the 3σ circle's top is the view's top edge
