"""The window driven as a user drives it: open, click, drag, hover, legend, layers, bad files."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from explorer import latent

from .helpers import at, decodes_of, expected_decode, map_point, pixel_of


def test_opens_the_default_model_with_the_test_split_on_the_map(open_window, gui_models):
    window = open_window()
    assert window.session.name == "vae-2d-mlp"
    assert len(window.map.cloud) == 256  # the small test split
    listed = {window.model_list.topLevelItem(k).text(0) for k in range(window.model_list.topLevelItemCount())}
    assert listed == {"vae-2d-mlp", "ae-2d-mlp", "vae-3d-mlp", "cvae-2d-mlp", "gan-2d-mlp"}


def test_click_decodes_the_point_under_the_pointer(open_window, qtbot):
    window = open_window()
    viewport = window.map.viewport()
    pixel = pixel_of(window, *at(window, 0.7, 0.3))
    with qtbot.waitSignal(window.decoded, timeout=5000) as blocker:
        qtbot.mouseClick(viewport, Qt.LeftButton, pos=pixel)
    result = blocker.args[0]
    u, v = result.request.uv
    assert np.allclose((u, v), map_point(window, pixel), atol=1e-6)
    assert np.array_equal(window.decoded_view.decoded.image, expected_decode(window, u, v))
    assert window.cursor == (u, v)
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
    k = 17
    u, v = window.plane.project(window.points.codes[k])
    qtbot.mouseMove(window.map.viewport(), pixel_of(window, u, v))
    qtbot.waitUntil(lambda: window.map.inset.isVisible(), timeout=5000)
    hovered = window.map._hovered  # k, or a point drawn on the same pixel
    assert np.allclose(window.plane.project(window.points.codes[hovered]), (u, v), atol=2 * max(window.map._pixel()))
    split, i = window.points.source(hovered)
    assert np.array_equal(window.map.inset.shown, split.images[i].numpy())
    assert window.map.inset.text.text() == f"{int(split.labels[i])} · test #{i}"


def test_legend_hides_and_solos_digits_without_rebuilding_points(open_window, qtbot):
    window = open_window()
    legend = window.map_panel.legend
    labels = window.points.labels
    qtbot.mouseClick(legend.buttons[3], Qt.LeftButton)
    assert not window.map.cloud._shown[labels == 3].any() and window.map.cloud._shown[labels != 3].all()
    qtbot.mouseClick(legend.buttons[5], Qt.LeftButton, Qt.ShiftModifier)
    assert np.array_equal(window.map.cloud._shown, labels == 5)
    # a hidden point is not hovered
    k = int(np.flatnonzero(labels == 1)[0])
    u, v = window.plane.project(window.points.codes[k])
    assert window.map.cloud.point_at(window.map.view.mapSceneToView(
        window.map.mapToScene(pixel_of(window, u, v))), window.map._pixel(), radius_px=0.5) == -1
