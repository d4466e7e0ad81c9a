"""The compare view: 2 to 8 models as small multiples, one shared cursor, pan and zoom linked between
the models of one latent size."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from explorer.engine import coding
from explorer.gui.dialogs.compare import MANIFOLD_CELLS
from explorer.gui.dialogs.compare_cell import MAX_MODELS, MIN_MODELS, grid_shape
from explorer.gui.dialogs.compare_export import PATH_STEPS
from explorer.latent import export
from tests.gui.helpers import drag


def open_compare(window, qtbot):
    """Ctrl+Shift+C, then wait until both default models are on their maps with their backgrounds."""
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key_C, Qt.ControlModifier | Qt.ShiftModifier)
    compare = window.compare
    qtbot.waitExposed(compare)
    qtbot.waitUntil(lambda: all(s.session is not None for s in compare.shown), timeout=20_000)
    qtbot.waitUntil(lambda: all(s.map.background.image is not None for s in compare.shown), timeout=20_000)
    return compare


def map_pixel(side, u, v):
    return side.map.mapFromScene(side.map.view.mapViewToScene(QPointF(u, v)))


def shown_region(image_item) -> tuple[float, float, float, float]:
    r = image_item.mapRectToParent(image_item.boundingRect())
    return r.left(), r.right(), r.top(), r.bottom()


def click_at(qtbot, compare, cell, fx: float, fy: float) -> tuple[float, float]:
    """Click a cell's map at fractions (fx, fy) of its visible region; the compare view's cursor is then
    that point, to within two pixels. Returns the cursor."""
    (xmin, xmax), (ymin, ymax) = cell.map.view.viewRange()
    u, v = xmin + fx * (xmax - xmin), ymin + fy * (ymax - ymin)
    with qtbot.waitSignal(compare.decoded, timeout=10_000):
        qtbot.mouseClick(cell.map.viewport(), Qt.LeftButton, pos=map_pixel(cell, u, v))
    cu, cv = compare.cursor
    assert abs(cu - u) < 2 * cell.map.pixel_size()[0] and abs(cv - v) < 2 * cell.map.pixel_size()[1]
    return cu, cv


def test_a_click_in_either_map_decodes_the_same_point_with_both_models(open_window, qtbot):
    window = open_window()
    compare = open_compare(window, qtbot)
    left, right = compare.left, compare.right
    assert (left.session.name, right.session.name) == ("ae-2d-mlp", "vae-2d-mlp")  # the lecture's pair
    assert left.state.key in window.models.sessions  # opened here, opened for the main window too

    cu, cv = click_at(qtbot, compare, left, 0.3, 0.6)
    for side in (left, right):
        assert np.array_equal(side.image, coding.decode(side.session.model, side.plane.to_latent([cu, cv]))[0])
        assert np.allclose(side.map.cursor.getData()[0][0], cu) and np.allclose(side.map.cursor.getData()[1][0], cv)
    assert not np.array_equal(left.image, right.image)  # two models, two pictures of one point

    # a click on the right map moves the one cursor on both
    cu2, cv2 = click_at(qtbot, compare, right, 0.7, 0.2)  # linked: the right map shows the left's region
    assert (cu2, cv2) != (cu, cv)
    for side in (left, right):
        assert np.array_equal(side.image, coding.decode(side.session.model, side.plane.to_latent([cu2, cv2]))[0])


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


def show_count(compare, qtbot, n):
    """Models: n in the spin box, then wait until every cell shows its model and its background."""
    compare.models.setValue(n)
    qtbot.waitUntil(lambda: len(compare.shown) == n and all(c.session is not None for c in compare.shown),
                    timeout=30_000)
    qtbot.waitUntil(lambda: all(c.map.background.image is not None for c in compare.shown), timeout=30_000)


def window_rect(compare, widget):
    top_left = widget.mapTo(compare, widget.rect().topLeft())
    return top_left.x(), top_left.y(), widget.width(), widget.height()


@pytest.mark.parametrize("n, rows, cols", [(2, 1, 2), (8, 2, 4)])
def test_the_small_multiples_fit_a_1280_by_720_window(n, rows, cols, open_window, qtbot):
    window = open_window()
    compare = open_compare(window, qtbot)
    compare.resize(1280, 720)
    show_count(compare, qtbot, n)
    qtbot.waitUntil(lambda: compare.width() == 1280 and compare.height() == 720, timeout=5000)
    assert [c.isVisible() for c in compare.cells] == [True] * n
    maps = [window_rect(compare, c.map) for c in compare.shown]
    decodes = [window_rect(compare, c.decoded) for c in compare.shown]
    for x, y, w, h in maps + decodes:  # whole inside the window
        assert x >= 0 and y >= 0 and x + w <= 1280 and y + h <= 720, (x, y, w, h)
    # rows of `cols` maps, each as tall as its row allows: at 8 models still 150 px and more
    assert len({y for _, y, _, _ in maps}) == rows and len({x for x, _, _, _ in maps}) == cols
    assert all(min(w, h) >= (400 if n == 2 else 150) for _, _, w, h in maps), maps
    assert all(min(w, h) >= 50 for _, _, w, h in decodes), decodes  # a digit at 2x or more
    for a in range(n):  # no two maps overlap
        for b in range(a + 1, n):
            (xa, ya, wa, ha), (xb, yb, wb, hb) = maps[a], maps[b]
            assert xa + wa <= xb or xb + wb <= xa or ya + ha <= yb or yb + hb <= ya
    compare.models.setValue(2)  # back to two: the others hidden, the first two kept
    assert [c.isVisible() for c in compare.cells] == [True, True] + [False] * (len(compare.cells) - 2)


@pytest.mark.parametrize("n", range(MIN_MODELS, MAX_MODELS + 1))
@pytest.mark.parametrize("width, height", [(1280, 680), (1920, 1040), (800, 560), (600, 900)])
def test_the_grid_has_room_for_every_model_and_no_empty_row_or_column(n, width, height):
    rows, cols = grid_shape(n, width, height)
    assert rows * cols >= n and (rows - 1) * cols < n and rows * (cols - 1) < n


def test_one_cursor_decodes_the_same_point_in_all_eight_models_live_while_dragging(open_window, qtbot):
    window = open_window()
    compare = open_compare(window, qtbot)
    compare.resize(1280, 720)
    show_count(compare, qtbot, MAX_MODELS)
    fifth = compare.cells[4]
    cu, cv = click_at(qtbot, compare, fifth, 0.4, 0.7)
    for cell in compare.shown:
        assert np.array_equal(cell.image, coding.decode(cell.session.model, cell.plane.to_latent([cu, cv]),
                                                        cell.decode_label())[0])
        assert np.allclose(cell.map.cursor.getData()[0][0], cu) and np.allclose(cell.map.cursor.getData()[1][0], cv)

    # a drag over the second map: the decodes follow while it moves, and end at the release
    second = compare.cells[1]
    (xmin, xmax), (ymin, ymax) = second.map.view.viewRange()
    points = [map_pixel(second, xmin + f * (xmax - xmin), ymin + 0.5 * (ymax - ymin)) for f in np.linspace(0.2, 0.8, 8)]
    shown = []
    compare.decoded.connect(lambda: shown.append(compare.cursor))
    drag(qtbot, second.map.viewport(), points, settle=lambda: qtbot.waitUntil(lambda: compare.decoder.idle()))
    qtbot.waitUntil(lambda: compare.decoder.idle() and compare._shown_request == max(compare._asked), timeout=10_000)
    assert len(set(shown)) >= 4  # shown along the way, not only where the pointer rested
    end = compare.cursor
    for cell in compare.shown:
        assert np.array_equal(cell.image, coding.decode(cell.session.model, cell.plane.to_latent(list(end)),
                                                        cell.decode_label())[0])


def test_pan_and_zoom_are_linked_by_latent_size_and_a_model_alone_says_so(open_window, qtbot):
    window = open_window()
    compare = open_compare(window, qtbot)
    show_count(compare, qtbot, 3)
    keys = {compare.registry.names()[k]: k for k in compare.registry.names()}
    compare.show_models([keys["ae-2d-mlp"], keys["vae-3d-mlp"], keys["vae-2d-mlp"]])
    qtbot.waitUntil(lambda: [c.session.name for c in compare.shown] == ["ae-2d-mlp", "vae-3d-mlp", "vae-2d-mlp"],
                    timeout=20_000)
    first, alone, third = compare.shown
    assert "on its own plane" in alone.note.text() and "own principal plane" in alone.note.text()
    assert "linked with the other 2-d models" in first.note.text() and "own plane" not in third.note.text()
    before = alone.map.view.viewRange()
    first.map.view.translateBy(x=1.5, y=-0.5)
    first.map.view.scaleBy((0.5, 0.5))
    assert np.allclose(first.map.view.viewRange(), third.map.view.viewRange())
    assert np.allclose(alone.map.view.viewRange(), before)  # its own plane: not moved by the others
    alone.map.view.scaleBy((0.5, 0.5))
    assert np.allclose(first.map.view.viewRange(), third.map.view.viewRange())
    assert not np.allclose(alone.map.view.viewRange(), before)


def test_the_trade_off_plots_recon_against_kl_and_exports_png_and_csv(open_window, qtbot, tmp_path):
    import csv

    from PIL import Image

    window = open_window()
    compare = open_compare(window, qtbot)  # the lecture's pair: an AE (no KL) and a VAE
    compare.show_tradeoff()
    trade = compare.tradeoff
    qtbot.waitUntil(lambda: len(trade.rows) == 2, timeout=60_000)
    ae, vae = trade.rows
    assert (ae.name, vae.name) == ("ae-2d-mlp", "vae-2d-mlp")
    assert ae.kl is None and ae.recon > 0 and vae.kl > 0 and vae.neg_elbo == pytest.approx(vae.recon + vae.kl)
    assert all(0 <= r.knn5 <= 1 and 0 <= r.decodability <= 1 for r in trade.rows)
    assert trade.table.rowCount() == 2 and trade.table.item(0, 3).text() == "–"  # the AE's KL
    curve = next(item for item in trade.plot.listDataItems())
    assert list(curve.getData()[0]) == [vae.kl] and list(curve.getData()[1]) == [vae.recon]
    assert trade.strips.image.shape == (3 * 28, 10 * 28)  # digits, then each model's reconstructions

    with qtbot.waitSignal(compare.tasks.wrote, timeout=10_000):
        trade.export_csv(str(tmp_path / "t.csv"))
    with open(tmp_path / "t.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [t["name"] for t in table] == ["ae-2d-mlp", "vae-2d-mlp"] and table[0]["kl"] == ""
    with qtbot.waitSignal(compare.tasks.wrote, timeout=10_000):
        trade.export_png(str(tmp_path / "t.png"), scale=2)
    assert Image.open(tmp_path / "t.png").size == (2 * trade.width(), 2 * trade.height())


def test_the_small_multiples_export_as_one_png_at_each_scale_and_a_path_as_one_gif(open_window, qtbot, tmp_path):
    from PIL import Image

    window = open_window()
    compare = open_compare(window, qtbot)
    show_count(compare, qtbot, 3)
    area = compare.grid_area
    for scale in (1, 2, 4):
        with qtbot.waitSignal(compare.tasks.wrote, timeout=20_000):
            compare.exports.maps(str(tmp_path / f"maps{scale}.png"), scale)
        assert Image.open(tmp_path / f"maps{scale}.png").size == (scale * area.width(), scale * area.height())

    first = compare.cells[0]
    with qtbot.waitSignal(compare.decoded, timeout=10_000):
        qtbot.mouseClick(first.map.viewport(), Qt.LeftButton, pos=first.map.viewport().rect().center())
    with qtbot.waitSignal(compare.tasks.wrote, timeout=10_000):
        compare.exports.decodes(str(tmp_path / "decodes.png"), 4)
    decodes = np.asarray(Image.open(tmp_path / "decodes.png"))
    assert decodes.shape == (28 * 4, (3 * 28 + 2 * 2) * 4)
    for k, cell in enumerate(compare.shown):  # each model's decode of the one code, in order
        assert np.array_equal(decodes[::4, k * 30 * 4 : (k * 30 + 28) * 4 : 4], cell.image)

    with qtbot.waitSignal(compare.tasks.wrote, timeout=30_000):
        compare.exports.path_gif(str(tmp_path / "path.gif"), 2)
    gif = Image.open(tmp_path / "path.gif")
    assert gif.size == ((3 * 28 + 2 * 2) * 2, 28 * 2) and gif.n_frames == 2 * PATH_STEPS - 2  # there and back
    route = compare.exports.path()
    gif.seek(PATH_STEPS - 1)  # the last step: every model's decode of the path's end
    last = np.asarray(gif.convert("L"))[::2, ::2]
    for k, cell in enumerate(compare.shown):
        end = coding.decode(cell.session.model, route.codes(cell.plane, PATH_STEPS)[-1:], cell.decode_label())[0]
        assert np.abs(last[:, k * 30 : k * 30 + 28].astype(int) - end).max() <= 1
