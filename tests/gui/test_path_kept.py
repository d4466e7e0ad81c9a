"""A path is map points: other axes or a UMAP/t-SNE map keep it, decoded on the new map, as another
model does (issue 23 item 10: both had cleared it without a word)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from .helpers import at


def draw_path(window, qtbot):
    waypoints = [at(window, 0.2, 0.3), at(window, 0.5, 0.8), at(window, 0.8, 0.7)]
    window.path_editor.set_waypoints(waypoints, "Draw path")
    qtbot.waitUntil(lambda: window.filmstrip.frames is not None, timeout=10_000)
    return waypoints


def decoded_on(window, qtbot, plane):
    qtbot.waitUntil(lambda: window.state.path_result is not None
                    and window.state.path_result.request.plane is plane, timeout=120_000)
    return window.state.path_result


def test_other_axes_keep_the_path_and_decode_it_on_their_plane(open_window, qtbot, gui_models):
    window = open_window(gui_models / "vae-3d-mlp.safetensors")
    waypoints = draw_path(window, qtbot)
    before = window.state.path_result.codes
    combo = window.map_panel.axis_v
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key_Down)  # axes 1 × 3
    assert window.state.axes == (0, 2)
    result = decoded_on(window, qtbot, window.state.plane)
    assert window.state.path.waypoints == waypoints and window.state.path.axes == (0, 2)
    assert np.allclose(result.codes[0], window.state.plane.to_latent([waypoints[0]])[0], atol=1e-5)
    assert not np.allclose(result.codes, before)  # the same map points, another plane's codes
    assert window.filmstrip.frames is not None and len(window.filmstrip.frames) == len(result.frames)
    window.actions.undo.trigger()  # the undo history is the path's, not emptied by the axes
    assert window.state.path is None


def test_a_tsne_map_keeps_the_path_and_decodes_it_through_its_inverse(open_window, qtbot, gui_models, monkeypatch,
                                                                     tmp_path):
    pytest.importorskip("sklearn")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the maps' cache
    window = open_window(gui_models / "vae-3d-mlp.safetensors")
    waypoints = draw_path(window, qtbot)
    maps = window.learned_maps
    with qtbot.waitSignal(maps.shown, timeout=120_000):
        maps.combo.activated.emit(maps.combo.findText("t-SNE"))
    result = decoded_on(window, qtbot, window.state.learned)
    assert window.state.path.waypoints == waypoints
    assert np.allclose(result.codes[0], window.state.learned.to_latent([waypoints[0]])[0], atol=1e-5)
