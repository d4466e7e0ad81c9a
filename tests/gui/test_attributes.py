"""Attribute arithmetic, driven as a user drives it: two groups, the point at the cursor, the slider and
the strip, checked against the model's own decodes of geometry.walk."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from explorer.engine import coding
from explorer.latent import geometry

from .helpers import at, frame_point, pixel_of
from .test_exports import wait_written


@pytest.fixture
def walking(open_window, qtbot):
    """The window with the attribute panel opened by its key, digit 1 -> digit 7 picked."""
    window = open_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window.map, Qt.Key_T, Qt.ControlModifier | Qt.ShiftModifier)
    assert window.attributes.dock.isVisible()
    window.attributes.panel.choose("digit:1", "digit:7")
    return window


def click_start(window, qtbot, fx=0.6, fy=0.4) -> np.ndarray:
    """Click the map in the Explore tool; returns the code decoded there (the walk's t = 0)."""
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, fx, fy)))
    return blocker.args[0].request.z[0]


def wait_strip_from(window, qtbot, start):
    a = window.attributes
    qtbot.waitUntil(lambda: a.strip_walk is not None and np.array_equal(a.strip_walk[0], start), timeout=5000)


def group_codes(window, digit):
    return window.state.points.codes[window.state.points.labels == digit]


def test_the_strip_walks_the_clicked_point_along_the_difference_of_the_digits_means(walking, qtbot):
    window, a = walking, walking.attributes
    start = click_start(window, qtbot)
    wait_strip_from(window, qtbot, start)
    direction = geometry.direction(group_codes(window, 1), group_codes(window, 7))
    assert np.allclose(a.direction, direction)
    amounts = np.linspace(-1.5, 1.5, 9)
    assert np.allclose(a.strip_walk[2], amounts)
    expected = coding.decode(window.state.session.model, geometry.walk(start, direction, amounts))
    assert np.array_equal(a.frames, expected) and np.array_equal(a.panel.strip.frames, expected)
    # the walk is drawn on the map where its codes project
    walked = window.state.plane.project(geometry.walk(start, direction, amounts))
    assert np.allclose(np.column_stack(a.dots.getData()), walked, atol=1e-5)

    a.panel.frames.setValue(5)
    qtbot.waitUntil(lambda: len(a.strip_walk[2]) == 5, timeout=5000)
    assert np.array_equal(a.frames, coding.decode(window.state.session.model, geometry.walk(
        start, direction, np.linspace(-1.5, 1.5, 5))))


def test_the_slider_decodes_the_start_plus_t_times_the_direction(walking, qtbot):
    window, a = walking, walking.attributes
    start = click_start(window, qtbot)
    wait_strip_from(window, qtbot, start)
    for ticks in (75, -50, 150):
        with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
            a.panel.slider.setValue(ticks)
        t = ticks / 100
        z = blocker.args[0].request.z
        assert np.allclose(z[0], start + t * a.direction, atol=1e-6)  # always from the same start
        assert np.array_equal(window.decoded_view.decoded.image, coding.decode(window.state.session.model, z)[0])
        cursor = [coord[0] for coord in window.map.cursor.getData()]
        assert np.allclose(cursor, window.state.plane.project(z)[0], atol=1e-5)
        assert f"start {t:+.2f} × (digit 7" in window.decoded_view.where.text()
    assert a.panel.strip.current == 8  # t = 1.5 is the strip's last frame, marked
    # a frame of the strip is a place on the slider
    strip = a.panel.strip
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        qtbot.mouseClick(strip, Qt.LeftButton, pos=frame_point(strip, 0))
    assert a.panel.amount() == -1.5 and np.allclose(blocker.args[0].request.z[0], start - 1.5 * a.direction, atol=1e-6)
    # clicking the map picks a new point: the slider goes back to 0 there
    new_start = click_start(window, qtbot, 0.3, 0.7)
    assert a.panel.amount() == 0
    wait_strip_from(window, qtbot, new_start)


def test_groups_kept_from_selections_give_the_direction(walking, qtbot):
    window, a = walking, walking.attributes
    s = window.selecting
    s.select_shape("box", np.array([at(window, 0.1, 0.1), at(window, 0.5, 0.5)]), "replace")
    group_a = s.mask()
    qtbot.mouseClick(s.panel.as_a, Qt.LeftButton)
    s.select_shape("box", np.array([at(window, 0.5, 0.5), at(window, 0.9, 0.9)]), "replace")
    group_b = s.mask()
    qtbot.mouseClick(s.panel.as_b, Qt.LeftButton)
    assert group_a.any() and group_b.any()
    assert "group A (" in a.panel.source.itemText(a.panel.source.findData("group:A"))
    a.panel.choose("group:A", "group:B")
    codes = window.state.points.codes
    assert np.allclose(a.direction, codes[group_b].mean(axis=0) - codes[group_a].mean(axis=0), atol=1e-6)
    # nothing decoded yet: t = 0 is the mean of From, so t = 1 lands on the mean of To
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        a.panel.slider.setValue(100)
    assert np.allclose(blocker.args[0].request.z[0], codes[group_b].mean(axis=0), atol=1e-5)
    # the current selection is a group too, and follows it
    a.panel.choose("group:A", "selection")
    assert np.allclose(a.direction, codes[group_b].mean(axis=0) - codes[group_a].mean(axis=0), atol=1e-6)
    s.clear()
    assert a.direction is None and "Pick two groups" in a.panel.status.text()


def test_the_strip_exports_as_a_png(walking, qtbot, tmp_path):
    window, a = walking, walking.attributes
    start = click_start(window, qtbot)
    a.panel.frames.setValue(5)
    qtbot.waitUntil(lambda: a.strip_walk is not None and len(a.frames) == 5 and
                    np.array_equal(a.strip_walk[0], start), timeout=5000)
    png = wait_written(qtbot, window, lambda: a.export(str(tmp_path / "walk.png"), scale=4))
    picture = np.asarray(Image.open(png))
    assert picture.shape == (28 * 4, 5 * 28 * 4)
    assert np.array_equal(picture[::4, ::4], np.hstack(list(a.frames)))


def test_a_conditional_model_draws_the_strip_as_the_digit_picked(open_window, qtbot, gui_models):
    window = open_window(gui_models / "cvae-2d-mlp.safetensors")
    a = window.attributes
    window.actions.attribute.trigger()
    a.panel.choose("digit:1", "digit:7")
    start = click_start(window, qtbot)
    wait_strip_from(window, qtbot, start)
    assert a.strip_walk[3] == 0
    window.label_combo.setCurrentIndex(7)
    qtbot.waitUntil(lambda: a.strip_walk[3] == 7, timeout=5000)
    codes = geometry.walk(*a.strip_walk[:3])
    assert np.array_equal(a.frames, coding.decode(window.state.session.model, codes, 7))


def test_the_slider_keeps_a_usable_width_beside_the_timeline(walking, qtbot):
    """The timeline dock shares the bottom area: the panel's controls must not squeeze t to nothing."""
    window, a = walking, walking.attributes
    window.timeline.dock.show()
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: a.panel.slider.isVisible() and a.panel.slider.width() >= 120, timeout=5000)
    assert window.minimumSizeHint().width() <= 1100  # both docks open, the window still fits a small screen
