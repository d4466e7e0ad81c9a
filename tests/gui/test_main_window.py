"""The window driven as a user drives it: open, click, drag, hover, legend, layers, bad files."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from explorer.engine import coding
from explorer.latent import export

from .helpers import at, decodes_of, drag, expected_decode, map_point, pixel_of


def test_opens_the_default_model_with_the_test_split_on_the_map(open_window, gui_models):
    window = open_window()
    assert window.state.session.name == "vae-2d-mlp"
    assert len(window.map.cloud) == 256  # the small test split
    listed = {window.model_list.topLevelItem(k).text(0) for k in range(window.model_list.topLevelItemCount())}
    assert listed == {"vae-2d-mlp", "ae-2d-mlp", "vae-3d-mlp", "cvae-2d-mlp", "gan-2d-mlp"}


def test_click_decodes_the_point_under_the_pointer(open_window, qtbot):
    window = open_window()
    viewport = window.map.viewport()
    pixel = pixel_of(window, *at(window, 0.7, 0.3))
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        qtbot.mouseClick(viewport, Qt.LeftButton, pos=pixel)
    result = blocker.args[0]
    u, v = result.request.uv
    assert np.allclose((u, v), map_point(window, pixel), atol=1e-6)
    assert np.array_equal(window.decoded_view.decoded.image, expected_decode(window, u, v))
    assert window.state.cursor.uv == (u, v) and window.state.cursor.origin == "click"
    assert f"{u:.3f}" in window.coords.text()


def test_drag_decodes_while_moving_and_ends_at_the_release_point(open_window, qtbot):
    window = open_window()
    viewport = window.map.viewport()
    seen = decodes_of(window)
    start = pixel_of(window, *at(window, 0.2, 0.2))
    qtbot.mousePress(viewport, Qt.LeftButton, pos=start)
    for k in range(1, 6):  # wait for each decode, as a user's slower hand would let it happen
        n = len(seen)
        qtbot.mouseMove(viewport, start + QPoint(20 * k, -12 * k))
        qtbot.waitUntil(lambda: len(seen) > n, timeout=5000)
    end = start + QPoint(130, -70)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.LeftButton, pos=end)
    qtbot.waitUntil(lambda: np.allclose(seen[-1].request.uv, map_point(window, end), atol=1e-6), timeout=5000)
    assert len(seen) >= 6
    positions = [d.request.uv for d in seen]
    assert len(set(positions)) >= 6  # each move decoded a new place
    u, v = seen[-1].request.uv
    assert np.allclose((u, v), map_point(window, end), atol=1e-6)
    assert np.array_equal(window.decoded_view.decoded.image, expected_decode(window, u, v))


def test_hovering_a_point_shows_its_image_and_label(open_window, qtbot):
    window = open_window()
    uv = window.state.plane.project(window.state.points.codes)
    pixels = uv / np.array(window.map.pixel_size())
    # a point with no other within the hover radius (6 pixels), so the card shows it alone
    gaps = np.linalg.norm(pixels[:, None] - pixels[None], axis=2) + np.eye(len(uv)) * 1e9
    k = int(np.flatnonzero(gaps.min(axis=1) > 14)[0])
    qtbot.mouseMove(window.map.viewport(), pixel_of(window, *uv[k]))
    qtbot.waitUntil(lambda: window.map.inset.isVisible(), timeout=5000)
    assert window.map.hovered_point == k
    split, i = window.state.points.source(k)
    assert np.array_equal(window.map.inset.shown, split.images[i].numpy())
    assert window.map.inset.text.text() == f"{int(split.labels[i])} · test #{i}"


def test_legend_hides_and_solos_digits_without_rebuilding_points(open_window, qtbot):
    window = open_window()
    legend = window.map_panel.legend
    labels = window.state.points.labels
    qtbot.mouseClick(legend.buttons[3], Qt.LeftButton)
    assert not window.map.cloud.shown[labels == 3].any() and window.map.cloud.shown[labels != 3].all()
    qtbot.mouseClick(legend.buttons[5], Qt.LeftButton, Qt.ShiftModifier)
    assert np.array_equal(window.map.cloud.shown, labels == 5)
    # a hidden point is not hovered
    k = int(np.flatnonzero(labels == 1)[0])
    u, v = window.state.plane.project(window.state.points.codes[k])
    assert window.map.cloud.point_at(window.map.view.mapSceneToView(
        window.map.mapToScene(pixel_of(window, u, v))), window.map.pixel_size(), radius_px=0.5) == -1


def test_line_tool_draws_a_path_and_the_strip_shows_its_decodes(open_window, qtbot):
    window = open_window()
    window.activateWindow()
    qtbot.keyClick(window.map, Qt.Key_L)
    assert window.map.tool == "line"
    a, b = pixel_of(window, *at(window, 0.2, 0.3)), pixel_of(window, *at(window, 0.8, 0.7))
    drag(qtbot, window.map.viewport(), [a, (a + b) / 2, b])
    end = map_point(window, b)
    qtbot.waitUntil(lambda: window.state.path_result is not None and np.allclose(
        window.state.path_result.request.waypoints[-1], end, atol=1e-6), timeout=5000)
    waypoints = window.state.path_result.request.waypoints
    assert len(waypoints) == 2 and np.allclose(waypoints[0], map_point(window, a), atol=1e-6)
    expected = export.path_frames(window.state.session.model, window.state.plane, waypoints, 10)
    assert np.array_equal(window.filmstrip.frames, expected)

    with qtbot.waitSignal(window.state.path_decoded, timeout=5000):
        window.filmstrip.steps.setValue(7)
    s = window.state
    assert np.array_equal(window.filmstrip.frames, export.path_frames(s.session.model, s.plane, waypoints, 7))


def test_freehand_tool_follows_the_pointer(open_window, qtbot):
    window = open_window()
    window.set_tool("freehand")
    pixels = [pixel_of(window, *at(window, 0.2 + 0.1 * k, 0.5 + 0.2 * (-1) ** k)) for k in range(6)]
    drag(qtbot, window.map.viewport(), pixels)
    s = window.state
    qtbot.waitUntil(lambda: s.path_result is not None and len(s.path_result.request.waypoints) == 6,
                    timeout=5000)
    waypoints = window.state.path_result.request.waypoints
    assert np.allclose(waypoints, [map_point(window, p) for p in pixels], atol=1e-6)
    assert np.array_equal(window.filmstrip.frames,
                          export.path_frames(window.state.session.model, window.state.plane, waypoints, 10))


def test_playing_the_path_steps_through_its_frames_in_the_decoded_view(open_window, qtbot):
    window = open_window()
    window.path_editor.set_waypoints(np.array([at(window, 0.2, 0.2), at(window, 0.8, 0.8)]))
    qtbot.waitUntil(lambda: window.state.path_result is not None, timeout=5000)
    frames = window.state.path_result.frames
    shown = []
    window.state.decoded.connect(lambda d: shown.append(d.image))
    window.actions.play.trigger()
    qtbot.waitUntil(lambda: len(shown) >= 4, timeout=5000)
    window.actions.play.trigger()
    assert not window.filmstrip.timer.isActive()
    assert all(any(np.array_equal(image, f) for f in frames) for image in shown)
    assert not np.array_equal(shown[0], shown[3])


def test_a_model_with_more_than_two_dimensions_is_shown_on_a_principal_plane(open_window, qtbot, gui_models):
    window = open_window(gui_models / "vae-3d-mlp.safetensors")
    note = window.map_panel.note.text()
    assert "principal axes 1 and 2" in note and "of their variance" in note and "3-d code" in note
    assert window.map_panel.axes_box.isVisibleTo(window)
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.6, 0.4)))
    req = blocker.args[0].request
    assert req.z.shape == (1, 3)
    assert np.allclose(window.state.plane.to_latent(req.uv), req.z)  # the code decoded is the one on the plane
    assert np.array_equal(blocker.args[0].image, expected_decode(window, *req.uv))

    window.map_panel.axis_v.setCurrentIndex(2)
    window.map_panel.axis_v.activated.emit(2)
    assert window.state.axes == (0, 2)
    assert np.allclose(window.state.plane.axes, window.state.session.stats.components[[0, 2]])
    assert np.allclose(window.map.cloud.positions, window.state.plane.project(window.state.points.codes), atol=1e-5)
    assert "principal axes 1 and 3" in window.map_panel.note.text()


def test_a_gan_without_inversion_encoder_shows_its_decoded_plane_only(open_window, qtbot, gui_models):
    window = open_window(gui_models / "gan-2d-mlp.safetensors", wait=False)
    with qtbot.waitSignals([window.state.session_changed, window.manifold.rendered], timeout=20_000):
        pass
    assert len(window.map.cloud) == 0
    assert "no inversion encoder" in window.map_panel.note.text()
    assert window.actions.manifold.isChecked()
    assert window.map.background.image.shape == (20 * 28, 20 * 28)
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.5, 0.5)))
    assert np.array_equal(blocker.args[0].image, expected_decode(window, *blocker.args[0].request.uv))


def test_a_conditional_model_decodes_the_digit_picked(open_window, qtbot, gui_models):
    window = open_window(gui_models / "cvae-2d-mlp.safetensors")
    assert window.actions.label_picker.isVisible()
    u, v = at(window, 0.5, 0.5)
    with qtbot.waitSignal(window.state.decoded, timeout=5000):
        window.decode_at(u, v)
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        window.label_combo.setCurrentIndex(7)
    assert blocker.args[0].request.label == 7
    z = window.state.plane.to_latent([u, v])
    assert np.array_equal(window.decoded_view.decoded.image, coding.decode(window.state.session.model, z, 7)[0])


def test_an_autoencoder_has_no_prior_to_show(open_window, gui_models):
    window = open_window(gui_models / "ae-2d-mlp.safetensors")
    assert not window.actions.prior.isEnabled() and not window.actions.label_picker.isVisible()


def test_the_prior_layer_draws_the_one_two_three_sigma_circles(open_window):
    window = open_window()
    window.actions.prior.setChecked(True)
    assert window.map.prior.isVisible()
    curves = [c for c in window.map.prior.childItems() if hasattr(c, "getData")]
    radii = sorted(float(np.hypot(*c.getData()).max()) for c in curves)  # a 2-d plane through 0
    assert np.allclose(radii, [1, 2, 3], atol=1e-3)


def test_picking_a_model_from_the_list_makes_it_current(open_window, qtbot, gui_models):
    window = open_window()
    key = str(gui_models / "ae-2d-mlp.safetensors")
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        window.model_list.chosen.emit(key)
    assert window.state.session.name == "ae-2d-mlp" and window.state.key == key
    first = window.state.session
    window.model_list.chosen.emit(str(gui_models / "vae-2d-mlp.safetensors"))  # opened before: no reload
    assert window.state.session.name == "vae-2d-mlp"
    window.model_list.chosen.emit(key)
    assert window.state.session is first


def test_a_bad_checkpoint_shows_a_message_and_keeps_the_current_model(open_window, qtbot, tmp_path):
    window = open_window()
    before = window.state.session
    window.decode_at(*at(window, 0.5, 0.5))
    qtbot.waitUntil(lambda: window.state.shown_decode is not None, timeout=5000)
    for name, data in (("broken.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{not json"),
                       ("model.pt", b"\x80\x04K\x01.")):
        bad = tmp_path / name
        bad.write_bytes(data)
        with qtbot.waitSignal(window.feedback.message_shown, timeout=10_000) as blocker:
            window.models.open_path(str(bad))
        title, text = blocker.args
        assert title == "Cannot open the model" and str(bad) in text and "Traceback" not in text
        assert window.state.session is before and window.state.shown_decode is not None
    assert "refused" in text and "pickle" in text


def test_drag_soak_keeps_at_most_one_decode_waiting_and_ends_on_the_last_position(open_window, qtbot):
    """5,000 pointer moves in one burst (no event processing between them): the decoder never holds
    more than one waiting request, nothing fails, and the image shown at the end is the decode of
    the last position."""
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    window = open_window()
    viewport = window.map.viewport()
    errors = []
    window.feedback.message_shown.connect(lambda title, text: errors.append(text))
    rng = np.random.default_rng(0)
    pixels = [pixel_of(window, *at(window, *rng.uniform(0.1, 0.9, 2))) for _ in range(5000)]

    def send(kind, pixel, button, buttons):
        QApplication.sendEvent(viewport, QMouseEvent(kind, QPointF(pixel), QPointF(viewport.mapToGlobal(pixel)),
                                                     button, buttons, Qt.NoModifier))

    send(QEvent.MouseButtonPress, pixels[0], Qt.LeftButton, Qt.LeftButton)
    most_waiting = 0
    for p in pixels[1:]:
        send(QEvent.MouseMove, p, Qt.NoButton, Qt.LeftButton)
        most_waiting = max(most_waiting, window.decoding.worker.pending())
    last = map_point(window, pixels[-1])
    qtbot.waitUntil(lambda: window.state.shown_decode is not None and np.allclose(
        window.state.shown_decode.request.uv, last, atol=1e-9), timeout=10_000)
    send(QEvent.MouseButtonRelease, pixels[-1], Qt.LeftButton, Qt.NoButton)
    assert most_waiting <= 1
    assert window.decoding.worker.runs < 5000  # the burst was coalesced, not queued
    assert not errors
    assert np.array_equal(window.decoded_view.decoded.image, expected_decode(window, *last))


def test_the_map_shows_the_split_chosen(open_window, qtbot):
    window = open_window()
    window.map_panel.split.setCurrentText("train")
    assert len(window.map.cloud) == 512
    window.map_panel.split.setCurrentText("both")
    assert len(window.map.cloud) == 256 + 512
    k = 256 + 3  # a training image
    u, v = window.state.plane.project(window.state.points.codes[k])
    qtbot.mouseMove(window.map.viewport(), pixel_of(window, u, v))
    qtbot.waitUntil(lambda: window.map.inset.isVisible(), timeout=5000)
    split, i = window.state.points.source(window.map.hovered_point)
    assert window.map.inset.text.text().endswith(f"{int(split.labels[i])} · {split.split} #{i}")  # alone or nearest


def test_keyboard_shortcuts_reach_their_actions(open_window, qtbot):
    window = open_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    for key, check in ((Qt.Key_F, lambda: window.map.tool == "freehand"),
                       (Qt.Key_Escape, lambda: window.map.tool == "explore"),
                       (Qt.Key_B, lambda: window.actions.manifold.isChecked()),
                       (Qt.Key_N, lambda: window.actions.prior.isChecked()),
                       (Qt.Key_D, lambda: not window.actions.points.isChecked())):
        qtbot.keyClick(window.map, key)
        assert check(), key
    window.map.view.scaleBy((3, 3))
    zoomed = window.map.visible_bounds()
    qtbot.keyClick(window.map, Qt.Key_Home)
    assert window.map.visible_bounds() != zoomed
    width = np.subtract(*window.map.visible_bounds()[1::-1])
    qtbot.keyClick(window.map, Qt.Key_Plus)
    assert np.subtract(*window.map.visible_bounds()[1::-1]) < width


def test_spherical_interpolation_is_offered_above_two_dimensions(open_window, qtbot, gui_models):
    window = open_window()
    assert not window.filmstrip.interpolation.isEnabled()  # a 2-d model: linear only
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        window.models.open_path(str(gui_models / "vae-3d-mlp.safetensors"))
    waypoints = np.array([at(window, 0.2, 0.3), at(window, 0.8, 0.6)])
    with qtbot.waitSignal(window.state.path_decoded, timeout=5000):
        window.path_editor.set_waypoints(waypoints)
    with qtbot.waitSignal(window.state.path_decoded, timeout=5000) as blocker:
        window.filmstrip.interpolation.setCurrentIndex(1)
    result = blocker.args[0]
    assert result.request.spherical
    s = window.state
    assert np.array_equal(result.frames, export.path_frames(s.session.model, s.plane, waypoints, 10, spherical=True))
    assert np.allclose(result.positions, window.state.plane.project(result.codes))  # where the arc is seen on the map


def test_an_unreadable_checkpoint_path_is_one_line_off_the_ui_thread_and_keeps_the_model(open_window, qtbot,
                                                                                          tmp_path):
    """Paths the file system refuses (a NUL byte, a symlink loop, a folder, a name too long, nothing
    there) are resolved and read on the loader thread: each is one message and the model stays."""
    window = open_window()
    before = window.state.session
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    for bad in (f"{tmp_path}/x\0y.safetensors", str(tmp_path / "a" / "m.safetensors"), str(tmp_path),
                str(tmp_path / ("x" * 5000)), str(tmp_path / "missing.safetensors")):
        with qtbot.waitSignal(window.feedback.message_shown, timeout=10_000) as blocker:
            window.models.open_path(bad)
        title, text = blocker.args
        assert title == "Cannot open the model" and "Traceback" not in text and len(text.splitlines()) == 1
        assert window.state.session is before and not window.progress.isVisible()
