"""The select tool and the Selection panel, driven as a user drives them: boxes and lassos dragged on
the map, modifier keys, undo, the thumbnail grid, exports and the decoded mean."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from explorer.engine import coding
from explorer.gui.panels.selection import EXPORT_SCALE
from explorer.latent import export
from explorer.latent.selection import in_polygon, in_rect

from .helpers import at, map_point, pixel_of
from .test_exports import wait_written


def send_drag(widget, pixels, modifiers=Qt.NoModifier):
    """Press, move through `pixels` and release, every event carrying `modifiers` (keys held throughout)."""
    def send(kind, pixel, button, buttons):
        QApplication.sendEvent(widget, QMouseEvent(kind, QPointF(pixel), QPointF(widget.mapToGlobal(pixel)),
                                                   button, buttons, modifiers))
    send(QEvent.MouseButtonPress, pixels[0], Qt.LeftButton, Qt.LeftButton)
    for p in pixels[1:]:
        send(QEvent.MouseMove, p, Qt.NoButton, Qt.LeftButton)
    send(QEvent.MouseButtonRelease, pixels[-1], Qt.LeftButton, Qt.NoButton)


def box(window, a, b, modifiers=Qt.NoModifier):
    """Drag a box between map fractions a and b; returns the map corners it spans."""
    pa, pb = pixel_of(window, *at(window, *a)), pixel_of(window, *at(window, *b))
    send_drag(window.map.viewport(), [pa, (pa + pb) / 2, pb], modifiers)
    return map_point(window, pa), map_point(window, pb)


def uv(window):
    return window.state.plane.project(window.state.points.codes)


def in_box(window, corners):
    (x0, y0), (x1, y1) = corners
    return in_rect(uv(window), x0, x1, y0, y1)


@pytest.fixture
def selecting(open_window, qtbot):
    """The window with the select tool chosen by its key, as a user does."""
    window = open_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    qtbot.keyClick(window.map, Qt.Key_S)
    assert window.map.tool == "select" and window.map.select_tool.shape == "box"
    assert window.selecting.dock.isVisible()
    return window


def test_a_box_selects_exactly_the_points_inside_it_and_the_grid_lists_them(selecting):
    window = selecting
    corners = box(window, (0.25, 0.2), (0.7, 0.65))
    expected = in_box(window, corners)
    mask = window.selecting.mask()
    assert 0 < expected.sum() < len(expected) and np.array_equal(mask, expected)
    assert np.array_equal(window.map.cloud.selected, expected)  # highlighted on the map
    grid = window.selecting.panel.grid
    assert grid.count == expected.sum()
    assert np.array_equal(grid.labels, window.state.points.labels[expected])
    assert f"{expected.sum():,} selected" in window.selecting.panel.summary.text()
    for d, n in enumerate(np.bincount(window.state.points.labels[expected], minlength=10)):
        assert (f"{d}:&nbsp;{n:,}" in window.selecting.panel.summary.text()) == (n > 0)


def test_a_lasso_selects_exactly_the_points_inside_its_outline(selecting, qtbot):
    window = selecting
    qtbot.keyClick(window.map, Qt.Key_S)  # S again: lasso
    assert window.map.select_tool.shape == "lasso" and window.selecting.panel.lasso.isChecked()
    t = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    pixels = [pixel_of(window, *at(window, 0.5 + 0.3 * np.cos(a) * (1 + 0.5 * np.sin(3 * a)), 0.5 + 0.3 * np.sin(a)))
              for a in t]  # a concave outline
    send_drag(window.map.viewport(), pixels)
    outline = np.array([map_point(window, p) for p in pixels])
    expected = in_polygon(uv(window), outline)
    assert 0 < expected.sum() < len(expected)
    assert np.array_equal(window.selecting.mask(), expected)
    assert not window.map.select_tool.outline.getData()[0].size  # the outline goes when the button is up


def test_shift_adds_ctrl_takes_away_and_ctrl_z_steps_back_through_paths_and_selections_alike(selecting, qtbot):
    window = selecting
    first = in_box(window, box(window, (0.1, 0.1), (0.5, 0.6)))
    second = in_box(window, box(window, (0.4, 0.3), (0.9, 0.9), Qt.ShiftModifier))
    union = first | second
    assert np.array_equal(window.selecting.mask(), union) and union.sum() > max(first.sum(), second.sum())
    window.path_editor.set_waypoints(np.array([[0.0, 0.0], [1.0, 1.0]]), "Draw path")  # an edit of another kind
    third = in_box(window, box(window, (0.3, 0.3), (0.6, 0.7), Qt.ControlModifier))
    assert third.any() and np.array_equal(window.selecting.mask(), union & ~third)
    assert window.actions.undo.text().startswith("&Undo selection")  # the Edit menu names what it undoes

    undo, redo = (Qt.ControlModifier, Qt.ControlModifier | Qt.ShiftModifier)
    qtbot.keyClick(window.map, Qt.Key_Z, undo)
    assert np.array_equal(window.selecting.mask(), union) and window.state.path is not None
    qtbot.keyClick(window.map, Qt.Key_Z, undo)  # the path goes, the selection stays
    assert window.state.path is None and np.array_equal(window.selecting.mask(), union)
    qtbot.keyClick(window.map, Qt.Key_Z, undo)
    assert np.array_equal(window.selecting.mask(), first)
    assert np.array_equal(window.map.cloud.selected, first) and window.selecting.panel.grid.count == first.sum()
    for _ in range(3):
        qtbot.keyClick(window.map, Qt.Key_Z, redo)
    assert np.array_equal(window.selecting.mask(), union & ~third) and window.state.path is not None
    assert not window.actions.redo.isEnabled()


def test_only_shown_points_are_selected_and_keys_select_all_or_nothing(selecting, qtbot):
    window = selecting
    labels = window.state.points.labels
    qtbot.mouseClick(window.map_panel.legend.buttons[3], Qt.LeftButton)  # hide the 3s
    inside = in_box(window, box(window, (0.02, 0.02), (0.98, 0.98)))
    assert np.array_equal(window.selecting.mask(), inside & (labels != 3)) and (inside & (labels == 3)).any()
    qtbot.keyClick(window.map, Qt.Key_A, Qt.ControlModifier | Qt.ShiftModifier)
    assert not window.selecting.mask().any() and window.map.cloud.selected is None
    qtbot.keyClick(window.map, Qt.Key_A, Qt.ControlModifier)
    assert np.array_equal(window.selecting.mask(), labels != 3)
    # a click on a point selects it alone; on empty map, nothing
    k = int(np.flatnonzero(labels == 5)[0])
    qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *uv(window)[k]))
    picked = np.flatnonzero(window.selecting.mask())
    assert len(picked) == 1 and np.allclose(uv(window)[picked[0]], uv(window)[k], atol=3 * max(window.map.pixel_size()))
    far = uv(window).max(axis=0) + 50 * np.array(window.map.pixel_size())
    window.map.view.setRange(xRange=(far[0] - 1, far[0] + 1), yRange=(far[1] - 1, far[1] + 1), padding=0)
    qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *far))
    assert not window.selecting.mask().any()
    qtbot.keyClick(window.map, Qt.Key_Escape)
    assert window.map.tool == "explore" and window.actions.explore.isChecked()


def test_the_selection_outlives_a_change_of_split_and_of_model(selecting, qtbot, gui_models):
    window = selecting
    chosen = in_box(window, box(window, (0.2, 0.2), (0.8, 0.8)))
    window.map_panel.split.setCurrentText("both")
    assert np.array_equal(window.selecting.mask()[:256], chosen) and not window.selecting.mask()[256:].any()
    window.map_panel.split.setCurrentText("test")
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        window.models.open_path(str(gui_models / "ae-2d-mlp.safetensors"))
    assert np.array_equal(window.selecting.mask(), chosen)  # the same images, placed by another model
    assert np.array_equal(window.map.cloud.selected, chosen)


def test_the_thumbnail_grid_paints_only_the_rows_in_view(selecting, qtbot):
    window = selecting
    window.map_panel.split.setCurrentText("both")
    qtbot.keyClick(window.map, Qt.Key_A, Qt.ControlModifier)
    grid, scroll = window.selecting.panel.grid, window.selecting.panel.scroll
    assert grid.count == 768
    scroll.viewport().repaint()
    in_view = (-(-scroll.viewport().height() // grid.cell) + 1) * grid.columns()
    assert 0 < grid.painted <= in_view < grid.count
    window.selecting.panel.by_digit.setChecked(True)
    assert np.all(np.diff(grid.labels) >= 0) and grid.count == 768
    # a thumbnail is the image of the point it stands for: clicking it decodes that point's code
    k = 5
    point = window.selecting.order[k]
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        qtbot.mouseClick(grid, Qt.LeftButton, pos=grid.rect_of(k).center())
    assert np.array_equal(blocker.args[0].request.z[0], window.state.points.codes[point])
    assert np.array_equal(grid.images_at([k])[0], window.state.points.images(np.array([point]))[0])


def test_the_selection_exports_as_thumbnails_and_as_codes(selecting, qtbot, tmp_path):
    window = selecting
    mask = in_box(window, box(window, (0.2, 0.2), (0.8, 0.8)))
    n = int(mask.sum())
    png = wait_written(qtbot, window, lambda: window.selecting.export(str(tmp_path / "s.png")))
    cols = int(np.ceil(np.sqrt(n)))
    picture = np.asarray(Image.open(png))
    assert picture.shape == (-(-n // cols) * 28 * EXPORT_SCALE, cols * 28 * EXPORT_SCALE)
    images = window.state.points.images(np.flatnonzero(mask))
    assert np.array_equal(picture[::EXPORT_SCALE, ::EXPORT_SCALE], export.thumbnails(images))
    csv = wait_written(qtbot, window, lambda: window.selecting.export(str(tmp_path / "s.csv")))
    lines = open(csv).read().splitlines()
    assert lines[0] == "split,index,label,u,v,z1,z2" and len(lines) == 1 + n
    k = int(np.flatnonzero(mask)[0])
    assert lines[1].split(",")[:3] == ["test", str(k), str(window.state.points.labels[k])]
    npz = wait_written(qtbot, window, lambda: window.selecting.export(str(tmp_path / "s.npz")))
    with np.load(npz) as f:
        assert f["index"].tolist() == np.flatnonzero(mask).tolist() and f["z"].shape == (n, 2)


def test_decode_mean_shows_the_decode_of_the_mean_full_code(open_window, qtbot, gui_models):
    window = open_window(gui_models / "vae-3d-mlp.safetensors")
    window.selecting.select_shape("box", np.array([at(window, 0.1, 0.1), at(window, 0.6, 0.7)]), "replace")
    mask = window.selecting.mask()
    assert mask.any()
    mean = window.state.points.codes[mask].mean(axis=0)
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as blocker:
        window.actions.decode_mean.trigger()
    request = blocker.args[0].request
    assert np.allclose(request.z[0], mean, atol=1e-6)
    assert np.array_equal(window.decoded_view.decoded.image, coding.decode(window.state.session.model, request.z)[0])
    cursor = [coord[0] for coord in window.map.cursor.getData()]
    assert np.allclose(cursor, window.state.plane.project(mean), atol=1e-5)  # the mean is off the plane: its projection
    assert f"Mean code of the {mask.sum():,} selected images" in window.decoded_view.where.text()


def test_after_many_selection_edits_every_undo_the_edit_menu_names_is_done(selecting, qtbot):
    """The Edit menu never names an edit it cannot undo: past the selection's old 100-edit limit, each
    Ctrl+Z it offers still steps the selection back, down to the empty selection it started from."""
    window = selecting
    select_all, clear = (Qt.ControlModifier, Qt.ControlModifier | Qt.ShiftModifier)
    for k in range(120):  # alternating, so each key is a change
        qtbot.keyClick(window.map, Qt.Key_A, clear if k % 2 else select_all)
    masks = [window.selecting.mask().copy()]
    while window.actions.undo.isEnabled():
        assert window.actions.undo.text().startswith("&Undo")
        qtbot.keyClick(window.map, Qt.Key_Z, Qt.ControlModifier)
        masks.append(window.selecting.mask().copy())
        assert not np.array_equal(masks[-1], masks[-2]), f"undo {len(masks) - 1} named an edit it did not do"
    assert len(masks) == 121 and not masks[-1].any()
