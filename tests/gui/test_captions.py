"""The caption under the decode says what the decode is now, never what it was (issue 23 item 9): a
path frame's caption goes with the path, a draw's with sampling, an attribute walk's with the model."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from .helpers import at, frame_point, pixel_of


def caption(window) -> str:
    return window.decoded_view.where.text()


def test_a_path_frames_caption_goes_when_ctrl_n_clears_the_path(open_window, qtbot):
    window = open_window()
    window.path_editor.set_waypoints([at(window, 0.2, 0.3), at(window, 0.8, 0.7)], "Draw path")
    qtbot.waitUntil(lambda: window.filmstrip.frames is not None, timeout=10_000)
    strip = window.filmstrip.strip
    n = len(window.filmstrip.frames)
    with qtbot.waitSignal(window.state.decoded, timeout=5000):
        qtbot.mouseClick(strip, Qt.LeftButton, pos=frame_point(strip, 3))
    assert f"Frame 4 of {n} on the path" in caption(window)
    code = window.state.cursor.code

    with qtbot.waitSignal(window.state.decoded, timeout=5000):
        qtbot.keyClick(window.map, Qt.Key_N, Qt.ControlModifier)
    assert window.state.path is None
    assert "on the path" not in caption(window) and caption(window).startswith("z₁ =")
    assert np.array_equal(window.state.cursor.code, code)  # the same decode, described as what it is now


def test_a_draws_caption_goes_when_sampling_is_unticked(open_window, qtbot):
    window = open_window()
    panel = window.code_panel
    qtbot.keyClick(window.map, Qt.Key_Z)
    qtbot.mouseClick(panel.sample, Qt.LeftButton, pos=QPoint(8, panel.sample.height() // 2))
    assert panel.sampling()
    k = 21
    pixel = pixel_of(window, *window.state.plane.project(window.state.points.codes[k : k + 1])[0])
    with qtbot.waitSignal(window.state.decoded, timeout=5000):
        qtbot.mouseMove(window.map.viewport(), pixel)
    qtbot.waitUntil(lambda: window.state.cursor.draw is None, timeout=5000)  # placed where it fell
    assert "A draw from q(z|x)" in caption(window)
    uv = window.state.cursor.uv

    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        qtbot.mouseClick(panel.sample, Qt.LeftButton, pos=QPoint(8, panel.sample.height() // 2))
    assert not panel.sampling() and "draw" not in caption(window)
    assert blocker.args[0].request.uv == uv  # the map point where the draw fell, decoded as a map point


def test_an_attribute_walks_caption_goes_when_another_model_is_opened(open_window, qtbot, gui_models):
    window = open_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window.map, Qt.Key_T, Qt.ControlModifier | Qt.ShiftModifier)
    window.attributes.panel.choose("digit:1", "digit:7")
    with qtbot.waitSignal(window.state.decoded, timeout=5000):
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.6, 0.4)))
    slider = window.attributes.panel.slider
    slider.setFocus()
    with qtbot.waitSignal(window.state.decoded, timeout=5000):
        qtbot.keyClick(slider, Qt.Key_PageUp)
    assert "Attribute walk" in caption(window)

    for path in (gui_models / "ae-2d-mlp.safetensors", gui_models / "vae-2d-mlp.safetensors"):
        with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
            window.models.open_path(str(path))
        qtbot.waitUntil(lambda: all(w.idle() for w in window.workers), timeout=10_000)  # all asked has come back
        assert "Attribute walk" not in caption(window)
        assert window.attributes.panel.amount() == 0
