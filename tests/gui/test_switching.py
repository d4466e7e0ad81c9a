"""Switching models leaves nothing stale: the point picked on the map and the path (map coordinates)
stay and are decoded by the new model, and the captions and status line describe the new decode."""

from __future__ import annotations

import numpy as np

from .helpers import at, expected_decode


def test_a_new_model_decodes_the_same_map_point_and_path(open_window, qtbot, gui_models):
    window = open_window()
    uv = at(window, 0.3, 0.6)
    with qtbot.waitSignal(window.state.decoded, timeout=10_000):
        window.state.set_cursor(uv)
    waypoints = [at(window, 0.2, 0.2), at(window, 0.8, 0.8)]
    window.path_editor.set_waypoints(waypoints, "Draw path")
    qtbot.waitUntil(lambda: window.filmstrip.frames is not None, timeout=10_000)

    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        window.models.open_path(str(gui_models / "ae-2d-mlp.safetensors"))
    qtbot.waitUntil(lambda: window.state.shown_decode is not None
                    and window.state.shown_decode.request.model is window.state.session.model, timeout=10_000)
    assert window.state.cursor.uv == uv
    assert np.array_equal(window.state.decoded_image, expected_decode(window, *uv))  # the new model's decode
    assert window.decoded_view.where.text().startswith(window.state.describe_place(uv, window.state.cursor.code))
    assert window.coords.text() == window.state.describe_place(uv, window.state.cursor.code)
    assert window.state.path is not None and window.state.path.waypoints == waypoints
    assert window.state.path.model == "ae-2d-mlp"
    qtbot.waitUntil(lambda: window.state.path_result is not None, timeout=10_000)
    assert window.filmstrip.caption.text().startswith(f"{window.filmstrip.steps.value()} decodes")
