"""A window that holds its shape and its keys: no value typed into *Steps* widens the window (the strip
shrinks to fit), and after editing a number field Space and the letter shortcuts still work."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from explorer.latent import MAX_STEPS

from .helpers import at


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
    qtbot.mouseClick(strip, Qt.LeftButton, pos=QPoint(int(strip.cell * (steps - 0.5)), strip.height() // 2))
    assert strip.current == steps - 1


def test_space_and_letter_shortcuts_work_after_editing_steps(with_path, qtbot):
    window = with_path
    type_steps(qtbot, window, 12)
    qtbot.waitUntil(lambda: len(window.filmstrip.frames) == 12, timeout=10_000)
    box = window.filmstrip.steps
    assert box.hasFocus()
    qtbot.keyClick(box, Qt.Key_Space)
    assert window.filmstrip.play.isChecked()  # Space plays the path
    qtbot.keyClick(box, Qt.Key_Space)
    assert not window.filmstrip.play.isChecked()
    qtbot.keyClick(box, Qt.Key_L)
    assert window.actions.line.isChecked() and window.map.tool == "line"
    qtbot.keyClick(box, Qt.Key_Escape)
    assert box.value() == 12 and box.text() == "Steps 12"  # the keys typed nothing into the field


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
