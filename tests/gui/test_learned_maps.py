"""The Map choice: a t-SNE map of a wide latent space, decoded through its learned inverse."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from explorer.utils.errors import ExplorerError
from tests.gui.helpers import at, decodes_of, expected_decode, pixel_of

pytest.importorskip("sklearn")


@pytest.fixture
def wide_window(open_window, gui_models, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # the maps' cache
    return open_window(gui_models / "vae-3d-mlp.safetensors")


def test_a_tsne_map_places_the_points_and_a_click_decodes_its_inverse(wide_window, qtbot):
    window = wide_window
    maps = window.learned_maps
    assert maps.combo.isVisible() and window.map_panel.axes_box.isVisible()
    said = []
    window.feedback.busy.connect(said.append)
    with qtbot.waitSignal(maps.shown, timeout=120_000):
        maps.combo.activated.emit(maps.combo.findText("t-SNE"))
    n = len(window.state.points)
    assert said[0] == f"t-SNE map of {n:,} points: laying out (choose PCA plane to cancel)…"  # the step: no %
    assert f"t-SNE map of {n:,} points: fitting its inverse, 100% (choose PCA plane to cancel)…" in said
    learned = window.state.learned
    assert learned is not None and learned.method == "tsne"
    np.testing.assert_array_equal(window.state.points_uv, learned.uv)
    assert not window.map_panel.axes_box.isVisible() and maps.layer.isVisible()
    assert "t-SNE" in window.map_panel.note.text() and "extrapolation" in window.map_panel.note.text()
    seen = decodes_of(window)
    u, v = at(window, 0.4, 0.6)
    with qtbot.waitSignals([window.state.decoded, window.neighbours.shown], timeout=10_000):
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, u, v))
    xs, ys = window.neighbours.rings.getData()  # the neighbours ringed where the layout put them
    np.testing.assert_array_equal(np.c_[xs, ys], learned.uv[window.neighbours.indices])
    cu, cv = window.state.cursor.uv
    np.testing.assert_allclose(window.state.cursor.code, learned.to_latent([cu, cv])[0], atol=1e-5)
    np.testing.assert_array_equal(seen[-1].image, expected_decode(window, cu, cv))
    assert "nearest data point: " in window.coords.text() and "× the usual gap" in window.coords.text()
    with qtbot.waitSignal(maps.shown, timeout=10_000):
        maps.combo.activated.emit(maps.combo.findText("PCA plane"))
    assert window.state.learned is None and not maps.layer.isVisible()
    np.testing.assert_allclose(window.state.points_uv, window.state.plane.project(window.state.points.codes), atol=1e-5)


def test_choosing_the_plane_while_a_map_is_laid_out_cancels_it_and_the_status_goes_idle(wide_window, qtbot):
    window = wide_window
    maps = window.learned_maps
    events = []
    window.feedback.busy.connect(lambda text: events.append("busy"))
    window.feedback.idle.connect(lambda: events.append("idle"))
    maps.combo.activated.emit(maps.combo.findText("t-SNE"))
    running = maps._running
    maps.combo.activated.emit(maps.combo.findText("PCA plane"))
    assert running.cancel.is_set() and events[-1] == "idle"  # no busy bar left spinning
    qtbot.waitUntil(lambda: maps.worker.idle(), timeout=120_000)
    qtbot.wait(100)  # what the worker sent has arrived
    assert window.state.learned is None and events[-1] == "idle" and window.map_panel.axes_box.isVisible()


def test_a_map_that_cannot_be_laid_out_says_why_and_the_plane_stays(wide_window, qtbot, monkeypatch):
    from explorer.latent import maps as core_maps

    def refuse(*args, **kwargs):
        raise ExplorerError("the UMAP map needs umap-learn: pip install 'latent-explorer[maps]'")

    monkeypatch.setattr(core_maps, "build", refuse)
    window = wide_window
    plane = window.state.plane
    with qtbot.waitSignal(window.feedback.message_shown, timeout=10_000) as said:
        window.learned_maps.set_method("umap")
    assert "umap-learn" in said.args[1]
    assert window.state.learned is None and window.state.plane is not None
    np.testing.assert_array_equal(window.state.plane.axes, plane.axes)
    assert window.learned_maps.combo.currentText() == "PCA plane"


def test_a_2d_model_offers_no_other_map(open_window):
    window = open_window()
    assert not window.learned_maps.combo.isVisible()
