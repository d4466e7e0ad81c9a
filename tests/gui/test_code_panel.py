"""The Latent code dock: sliders for the code at the cursor, and a VAE's draws from q(z|x)."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import QPoint, Qt

from explorer.engine import coding
from explorer.gui.panels.code_panel import HINT, SLIDER_STEPS

from .helpers import at, pixel_of


def cursor_at(window) -> np.ndarray:
    xs, ys = window.map.cursor.getData()
    return np.array([xs[0], ys[0]])


def test_sliders_edit_the_code_at_the_cursor_and_decode_it(open_window, qtbot, gui_models):
    window = open_window(gui_models / "vae-3d-mlp.safetensors")
    panel = window.code_panel
    assert len(panel.sliders) == 3 and not panel.rows.isEnabled()  # no code picked yet
    low, high = window.state.session.stats.ranges(prior=True)
    assert np.allclose(panel.low, low) and np.allclose(panel.high, high)

    u, v = at(window, 0.6, 0.4)
    with qtbot.waitSignal(window.state.decoded, timeout=5000):
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.6, 0.4)))
    picked = window.state.plane.to_latent(window.state.cursor.uv)[0]
    assert np.allclose(panel.code, picked) and panel.rows.isEnabled()  # the sliders show the clicked code
    assert "on the map plane" in panel.note.text()

    slider = panel.sliders[2]
    slider.setFocus()
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        qtbot.keyClick(slider, Qt.Key_PageUp)  # one page step along z3
    edited = picked.astype(np.float64).copy()
    edited[2] = low[2] + (high[2] - low[2]) * slider.value() / slider.maximum()
    result = blocker.args[0]
    assert np.allclose(result.request.z[0], edited, atol=1e-6) and not np.allclose(edited, picked)
    assert np.array_equal(result.image, coding.decode(window.state.session.model, result.request.z)[0])
    assert np.array_equal(window.decoded_view.decoded.image, result.image)
    uv = window.state.plane.project(result.request.z)[0]
    assert np.allclose(cursor_at(window), uv, atol=1e-6)  # the cursor shows the code's projection
    gap = float(window.state.plane.distance(result.request.z)[0])
    assert gap > 0.01 and f"distance from the map plane: {gap:.2f}" in panel.note.text()
    assert f"distance from the map plane: {gap:.2f}" in window.coords.text()

    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        panel.reset.click()  # back to the code picked on the map
    assert np.allclose(blocker.args[0].request.z[0], picked) and np.allclose(panel.code, picked)

    window.state.set_cursor(None)  # no code (a model of the same size opened): not the last code's values
    assert not panel.rows.isEnabled() and panel.note.text() == HINT
    assert all(v.text() == "" for v in panel.values) and all(s.value() == SLIDER_STEPS // 2 for s in panel.sliders)


def test_a_vae_can_decode_draws_from_the_encoder_for_the_real_point_hovered(open_window, qtbot):
    window = open_window()
    panel = window.code_panel
    assert panel.sample.isVisibleTo(window) and not panel.sampling()
    k = 21
    pixel = pixel_of(window, *window.state.plane.project(window.state.points.codes[k : k + 1])[0])
    decoder = window.decoding.worker
    requests = decoder.runs + decoder.pending()
    # the pointer arrives from elsewhere: a move to where the last test left it sends no event (test_captions
    # hovers this same point in a window of the same size)
    qtbot.mouseMove(window.map.viewport(), pixel + QPoint(40, 40))
    qtbot.mouseMove(window.map.viewport(), pixel)
    qtbot.waitUntil(lambda: window.map.inset.isVisible(), timeout=5000)
    assert decoder.runs + decoder.pending() == requests  # off: hovering shows the image, decodes nothing
    qtbot.mouseMove(window.map.viewport(), pixel + QPoint(40, 40))

    panel.sample.setChecked(True)
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        qtbot.mouseMove(window.map.viewport(), pixel)
    result = blocker.args[0]
    hovered = window.map.hovered_point
    split, i = window.state.points.source(hovered)
    draw = result.request.draw
    assert draw is not None and np.array_equal(draw.image, split.images[i].numpy())
    model = window.state.session.model
    z = coding.sample_posterior(model, split.images[i : i + 1], torch.tensor([draw.label]), draw.seed)
    assert np.array_equal(result.z, z) and not np.allclose(z, window.state.points.codes[hovered])  # a draw
    assert np.array_equal(window.decoded_view.decoded.image, coding.decode(window.state.session.model, z)[0])
    assert np.allclose(cursor_at(window), window.state.plane.project(z)[0], atol=1e-6)
    assert np.allclose(panel.code, z[0])
    assert f"a draw from q(z|x) for test image #{i}" in window.decoded_view.where.text().lower()

    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:  # a click draws again, with a new seed
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel)
    assert blocker.args[0].request.draw.seed != draw.seed and not np.array_equal(blocker.args[0].z, z)


def test_sampling_is_offered_for_vaes_only_and_z_shows_the_sliders(open_window, qtbot, gui_models):
    window = open_window(gui_models / "ae-2d-mlp.safetensors")
    assert not window.code_panel.sample.isVisibleTo(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    dock = window.code_dock
    assert dock.isVisible() and dock.visibleRegion().isEmpty()  # a tab behind the neighbours
    qtbot.keyClick(window.map, Qt.Key_Z)
    qtbot.waitUntil(lambda: not dock.visibleRegion().isEmpty(), timeout=2000)  # brought to the front
    qtbot.keyClick(window.map, Qt.Key_Z)
    assert not dock.isVisible()
    qtbot.keyClick(window.map, Qt.Key_Z)
    assert dock.isVisible()


def test_a_code_picked_in_a_wider_model_is_shown_on_the_next_models_sliders(open_window, qtbot, gui_models):
    """Issue 23: vae-16d-mlp, Z, a click on the map, then vae-2d-mlp raised IndexError in set_code (the
    point picked stays and is decoded by the new model before the panel heard of the new model)."""
    window = open_window(gui_models / "vae-3d-mlp.safetensors")
    qtbot.keyClick(window.map, Qt.Key_Z)
    panel = window.code_panel
    with qtbot.waitSignal(window.state.decoded, timeout=5000):
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.6, 0.4)))
    assert len(panel.sliders) == 3 and panel.rows.isEnabled()
    uv = window.state.cursor.uv
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        window.models.open_path(str(gui_models / "vae-2d-mlp.safetensors"))
    assert len(panel.sliders) == 2 and panel.rows.isEnabled()
    assert np.allclose(panel.code, window.state.plane.to_latent([uv])[0])  # the same map point, the new model's code
    assert [v.text() for v in panel.values] == [f"{z:+.3f}" for z in panel.code]
