"""Neighbours of the decoded point, and the hover card where points overlap."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt

from .helpers import at, pixel_of


def brute_force(codes: np.ndarray, z: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(np.linalg.norm(codes.astype(np.float64) - z, axis=1), kind="stable")[:k]


def click_and_wait(window, qtbot, fx, fy):
    with qtbot.waitSignal(window.neighbours.shown, timeout=10_000):
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, fx, fy)))
    return window.neighbours


def test_thumbnails_are_the_k_nearest_images_by_brute_force(open_window, qtbot):
    window = open_window()
    neighbours = click_and_wait(window, qtbot, 0.6, 0.4)
    z = window.state.shown_decode.request.z[0]
    codes = window.state.points.codes
    assert list(neighbours.indices) == list(brute_force(codes, z, 8))
    assert np.allclose(neighbours.distances, np.linalg.norm(codes[neighbours.indices] - z, axis=1), atol=1e-5)
    grid = neighbours.panel.grid
    for k, i in enumerate(neighbours.indices):
        split, j = window.state.points.source(int(i))
        assert np.array_equal(grid.images[k], split.images[j].numpy())
        assert grid.captions[k] == f"{int(split.labels[j])} · {neighbours.distances[k]:.2f}"
    # ringed on the map, where each neighbour is
    xs, ys = neighbours.rings.getData()
    assert np.allclose(np.c_[xs, ys], window.state.plane.project(codes[neighbours.indices]), atol=1e-5)

    with qtbot.waitSignal(neighbours.shown, timeout=10_000):
        neighbours.panel.k.setValue(3)
    assert list(neighbours.indices) == list(brute_force(codes, z, 3)) and len(grid) == 3


def test_neighbours_are_found_with_full_codes_above_two_dimensions(open_window, qtbot, gui_models):
    window = open_window(gui_models / "vae-3d-mlp.safetensors")
    neighbours = click_and_wait(window, qtbot, 0.3, 0.7)
    z = window.state.shown_decode.request.z[0]
    assert list(neighbours.indices) == list(brute_force(window.state.points.codes, z, 8))
    assert "3-d latent space" in neighbours.panel.caption.text()


def test_clicking_a_neighbour_decodes_its_code(open_window, qtbot):
    window = open_window()
    neighbours = click_and_wait(window, qtbot, 0.4, 0.5)
    target = int(neighbours.indices[5])
    rect = neighbours.panel.grid.rect_of(5)
    with qtbot.waitSignal(window.state.decoded, timeout=10_000) as blocker:
        qtbot.mouseClick(neighbours.panel.grid, Qt.LeftButton, pos=rect.center())
    assert np.array_equal(blocker.args[0].request.z[0], window.state.points.codes[target])


def test_hovering_overlapping_points_shows_several(open_window, qtbot):
    window = open_window()
    window.map.view.scaleBy((3, 3))  # zoom out: the points crowd together
    qtbot.waitUntil(lambda: not window.map.settle_timer.isActive(), timeout=5000)
    uv = window.state.plane.project(window.state.points.codes)
    pixels = np.array([[p.x(), p.y()] for p in (pixel_of(window, u, v) for u, v in uv)])
    crowd = (np.linalg.norm(pixels[:, None] - pixels[None], axis=2) <= 3).sum(axis=1)
    k = int(np.argmax(crowd))
    assert crowd[k] >= 3
    qtbot.mouseMove(window.map.viewport(), QPoint(*pixels[k]))
    qtbot.waitUntil(lambda: window.map.inset.isVisible(), timeout=5000)
    group = window.map.hovered_group
    assert len(group) >= 3
    shown = window.map.inset.shown
    assert len(shown) == min(len(group), 6)
    for image, i in zip(shown, group):
        split, j = window.state.points.source(int(i))
        assert np.array_equal(image, split.images[j].numpy())
    assert window.map.inset.text.text().startswith(f"{min(len(group), 6)}")
    assert window.map.inset.group.captions == [str(int(window.state.points.labels[i])) for i in group[:6]]


def test_a_draw_from_the_encoder_rings_its_own_neighbours_not_the_hovered_points(open_window, qtbot):
    window = open_window()
    window.code_panel.sample.setChecked(True)  # hovering a real point decodes a draw from q(z|x)
    window.neighbours.dock.raise_()
    codes = window.state.points.codes
    k, viewport = 21, window.map.viewport()
    pixel = pixel_of(window, *window.state.plane.project(codes[k : k + 1])[0])
    with qtbot.waitSignal(window.neighbours.shown, timeout=10_000):
        qtbot.mouseMove(viewport, pixel)
    qtbot.waitUntil(lambda: window.neighbours.indices is not None and window.state.shown_decode.request.draw
                    is not None and list(window.neighbours.indices) ==
                    list(brute_force(codes, window.state.shown_decode.z[0], 8)), timeout=10_000)
    drawn = window.state.shown_decode.z[0]
    assert not np.allclose(drawn, codes[k])  # a draw, away from the mean the map shows
    xs, ys = window.neighbours.rings.getData()
    assert np.allclose(np.c_[xs, ys], window.state.plane.project(codes[brute_force(codes, drawn, 8)]), atol=1e-5)
    cx, cy = window.map.cursor.getData()
    assert np.allclose([cx[0], cy[0]], window.state.plane.project(drawn[None])[0], atol=1e-5)  # the cursor too
    qtbot.mouseMove(viewport, pixel + QPoint(40, 40))  # the next test's first move over this pixel is a move


def test_the_decode_and_the_neighbours_say_which_images_they_searched(open_window, qtbot):
    """Issue 23: the nearest real image comes from the train images, the neighbours from those on the map."""
    window = open_window()
    assert window.neighbours.dock.isVisible()
    with qtbot.waitSignal(window.neighbours.shown, timeout=10_000):
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=window.map.viewport().rect().center())
    view, n_train = window.decoded_view, len(window.state.session.splits["train"])
    assert view.nearest_title.text() == "<b>Nearest train image</b>" and n_train > 0
    assert "train image #" in view.nearest_caption.text()
    assert f"nearest of the {len(window.state.points):,} test images on the map" in window.neighbours.panel.caption.text()
