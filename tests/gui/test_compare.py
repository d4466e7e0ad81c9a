"""The compare view: two models side by side, one shared cursor, linked pan and zoom."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt

from explorer import export, latent
from explorer.gui.dialogs.compare import MANIFOLD_CELLS


def open_compare(window, qtbot):
    """Ctrl+Shift+C, then wait until both default models are on their maps with their backgrounds."""
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_C, Qt.ControlModifier | Qt.ShiftModifier)
    compare = window.compare
    qtbot.waitExposed(compare)
    qtbot.waitUntil(lambda: all(s.session is not None for s in compare.sides.values()), timeout=20_000)
    qtbot.waitUntil(lambda: all(s.map.background.image is not None for s in compare.sides.values()), timeout=20_000)
    return compare


def map_pixel(side, u, v):
    return side.map.mapFromScene(side.map.view.mapViewToScene(QPointF(u, v)))


def shown_region(image_item) -> tuple[float, float, float, float]:
    r = image_item.mapRectToParent(image_item.boundingRect())
    return r.left(), r.right(), r.top(), r.bottom()


def test_a_click_in_either_map_decodes_the_same_point_with_both_models(open_window, qtbot):
    window = open_window()
    compare = open_compare(window, qtbot)
    left, right = compare.left, compare.right
    assert (left.session.name, right.session.name) == ("ae-2d-mlp", "vae-2d-mlp")  # the lecture's pair
    assert left.state.key in window.models.sessions  # opened here, opened for the main window too

    (xmin, xmax), (ymin, ymax) = left.map.view.viewRange()
    u, v = xmin + 0.3 * (xmax - xmin), ymin + 0.6 * (ymax - ymin)
    with qtbot.waitSignal(compare.decoded, timeout=10_000):
        qtbot.mouseClick(left.map.viewport(), Qt.LeftButton, pos=map_pixel(left, u, v))
    cu, cv = compare.cursor
    assert abs(cu - u) < 2 * left.map.pixel_size()[0] and abs(cv - v) < 2 * left.map.pixel_size()[1]
    for side in (left, right):
        assert np.array_equal(side.image, latent.decode(side.session.model, side.plane.to_latent([cu, cv]))[0])
        assert np.allclose(side.map.cursor.getData()[0][0], cu) and np.allclose(side.map.cursor.getData()[1][0], cv)
    assert not np.array_equal(left.image, right.image)  # two models, two pictures of one point

    # a click on the right map moves the one cursor on both
    with qtbot.waitSignal(compare.decoded, timeout=10_000):
        qtbot.mouseClick(right.map.viewport(), Qt.LeftButton,
                         pos=map_pixel(right, xmin + 0.7 * (xmax - xmin), ymin + 0.2 * (ymax - ymin)))
    cu2, cv2 = compare.cursor
    assert (cu2, cv2) != (cu, cv)
    for side in (left, right):
        assert np.array_equal(side.image, latent.decode(side.session.model, side.plane.to_latent([cu2, cv2]))[0])


def test_pan_and_zoom_in_one_map_move_the_other(open_window, qtbot):
    window = open_window()
    compare = open_compare(window, qtbot)
    left, right = compare.left, compare.right
    assert np.allclose(left.map.view.viewRange(), right.map.view.viewRange())
    left.map.view.translateBy(x=1.5, y=-0.5)  # what a pan does
    assert np.allclose(left.map.view.viewRange(), right.map.view.viewRange())
    right.map.view.scaleBy((0.5, 0.5))  # what the wheel does
    assert np.allclose(left.map.view.viewRange(), right.map.view.viewRange())
    # each background is its own model's decodes of the region now shown
    qtbot.waitUntil(lambda: all(np.allclose(shown_region(s.map.background), s.map.covering_square())
                                for s in (left, right)), timeout=20_000)
    for side in (left, right):
        bounds = side.map.covering_square()
        expected = export.grid_image(side.session.model, side.plane, MANIFOLD_CELLS, bounds)
        assert np.array_equal(side.map.background.image, expected[::-1])


def test_a_model_above_two_dimensions_says_its_coordinates_are_its_own_plane(open_window, qtbot, gui_models):
    window = open_window()
    compare = open_compare(window, qtbot)
    key = next(k for k in window.model_list.keys() if k.endswith("vae-3d-mlp.safetensors"))
    with qtbot.waitSignal(compare.model_shown, timeout=20_000):
        compare.right.picker.setCurrentIndex(compare.right.picker.findData(key))
        compare.right.picker.activated.emit(compare.right.picker.currentIndex())
    assert compare.right.session.model.latent_dim == 3
    assert "own principal plane" in compare.right.note.text()
    assert "principal plane" not in compare.left.note.text()


def test_esc_or_ctrl_w_closes_the_compare_view(open_window, qtbot):
    window = open_window()
    for key, modifier in ((Qt.Key_Escape, Qt.NoModifier), (Qt.Key_W, Qt.ControlModifier)):
        compare = open_compare(window, qtbot)
        qtbot.keyClick(compare, key, modifier)
        qtbot.waitUntil(lambda: not compare.isVisible(), timeout=5000)
