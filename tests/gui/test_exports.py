"""Exports from the window: decoded grid (as `explorer grid` writes it), filmstrip, map, embeddings."""

from __future__ import annotations

import io
import threading

import numpy as np
from PIL import Image
from PySide6.QtCore import QBuffer, QIODevice, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from explorer.cli import main

from .helpers import at


def wait_written(qtbot, window, action):
    with qtbot.waitSignal(window.tasks.wrote, timeout=10_000) as blocker:
        action()
    return blocker.args[0]


def test_grid_export_is_the_same_image_as_the_cli_writes(open_window, qtbot, gui_models, tmp_path):
    window = open_window()
    bounds = (-1.5, 1.0, -0.5, 2.0)
    out = wait_written(qtbot, window, lambda: window.exports.grid(str(tmp_path / "g.png"), 5, bounds, scale=2))
    assert main(["grid", "--checkpoint", str(gui_models / "vae-2d-mlp.safetensors"), "--n", "5", "--range",
                 *map(str, bounds), "--scale", "2", "--out", str(tmp_path / "cli.png")]) == 0
    ours, theirs = Image.open(out), Image.open(tmp_path / "cli.png")
    assert ours.size == (5 * 28 * 2, 5 * 28 * 2)
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))


def answer_dialog(fill):
    """When the next modal dialog opens, fill(dialog) answers it."""
    def check():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            return QTimer.singleShot(10, check)
        fill(dialog)
    QTimer.singleShot(0, check)


def test_ctrl_e_with_its_defaults_writes_what_explorer_grid_writes_with_its_defaults(open_window, qtbot,
                                                                                       gui_models, tmp_path):
    window = open_window()
    window.map.view.scaleBy((0.5, 0.5))  # the user has zoomed in: the default is still where the data lies

    def save(dialog):
        dialog.path.setText(str(tmp_path / "ctrl-e.png"))
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Save).click()
    answer_dialog(save)
    out = wait_written(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key_E, Qt.ControlModifier))
    assert main(["grid", "--checkpoint", str(gui_models / "vae-2d-mlp.safetensors"),
                 "--out", str(tmp_path / "cli.png")]) == 0
    assert np.array_equal(np.asarray(Image.open(out)), np.asarray(Image.open(tmp_path / "cli.png")))


def test_filmstrip_exports_as_a_png_strip_and_a_gif(open_window, qtbot, tmp_path):
    window = open_window()
    window.filmstrip.steps.setValue(6)
    with qtbot.waitSignal(window.state.path_decoded, timeout=5000):
        window.path_editor.set_waypoints(np.array([at(window, 0.2, 0.2), at(window, 0.8, 0.8)]))
    png = wait_written(qtbot, window, lambda: window.exports.strip(str(tmp_path / "p.png"), scale=4))
    assert Image.open(png).size == (6 * 28 * 4, 28 * 4)
    gif = Image.open(wait_written(qtbot, window, lambda: window.exports.strip(str(tmp_path / "p.gif"), scale=2)))
    assert gif.size == (56, 56) and gif.n_frames == 2 * 6 - 2  # forward, then back without repeating the ends


def pixels(qimage) -> np.ndarray:
    """A QImage's RGB pixels (h, w, 3)."""
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    qimage.save(buffer, "PNG")
    return np.asarray(Image.open(io.BytesIO(bytes(buffer.data()))).convert("RGB"))


def test_map_export_is_the_map_as_shown_under_its_key_at_the_scale_asked(open_window, qtbot, tmp_path):
    window = open_window()
    shown, ratio = window.map, window.map.devicePixelRatioF()
    for key in (window.map_panel.legend, window.decodability.bar):  # the labels' legend, or the colour bar
        if key is window.decodability.bar:
            with qtbot.waitSignals([window.decodability.rendered, window.decodability.scored], timeout=60_000):
                window.decodability.set_shown(True)
        top = key.height()
        out = wait_written(qtbot, window, lambda: window.exports.map_image(str(tmp_path / "map.png")))
        image = np.asarray(Image.open(out).convert("RGB"))
        assert image.shape[:2] == (round((top + shown.height()) * ratio), round(shown.width() * ratio))
        key_shot, map_shot = pixels(key.grab().toImage()), pixels(shown.grab().toImage())
        assert np.array_equal(image[: key_shot.shape[0], : key_shot.shape[1]], key_shot)
        assert np.array_equal(image[round(top * ratio):], map_shot)
        for scale in (2, 4):
            out = wait_written(qtbot, window, lambda: window.exports.map_image(str(tmp_path / "big.png"), scale))
            assert Image.open(out).size == (round(shown.width() * ratio * scale),
                                            round((top + shown.height()) * ratio * scale))


def test_the_map_png_is_encoded_off_the_ui_thread(open_window, qtbot, monkeypatch, tmp_path):
    from explorer.gui.dialogs import exports

    window, threads = open_window(), []
    real = exports.write_png

    def write_png(path, image):  # a 4x map took 2.9 s to encode: the window must not wait for it
        threads.append(threading.current_thread())
        return real(path, image)
    monkeypatch.setattr(exports, "write_png", write_png)
    out = wait_written(qtbot, window, lambda: window.exports.map_image(str(tmp_path / "map.png"), 4))
    assert threads and threads[0] is not threading.main_thread() and Image.open(out).size[0] > 0


def test_embeddings_export_as_csv_and_npz(open_window, qtbot, tmp_path):
    window = open_window()
    csv = wait_written(qtbot, window, lambda: window.exports.codes(str(tmp_path / "e.csv")))
    lines = open(csv).read().splitlines()
    assert lines[0] == "split,label,u,v,z1,z2" and len(lines) == 1 + 256
    first = lines[1].split(",")
    assert first[0] == "test" and int(first[1]) == int(window.state.points.labels[0])
    assert np.allclose([float(x) for x in first[4:]], window.state.points.codes[0], atol=1e-5)
    npz = wait_written(qtbot, window, lambda: window.exports.codes(str(tmp_path / "e.npz")))
    with np.load(npz) as f:
        assert f["z"].shape == (256, 2) and f["uv"].shape == (256, 2) and f["labels"].shape == (256,)


def test_a_failed_export_shows_why_and_writes_nothing(open_window, qtbot, tmp_path):
    window = open_window()
    target = tmp_path / "missing-folder" / "g.png"
    with qtbot.waitSignal(window.feedback.message_shown, timeout=10_000) as blocker:
        window.exports.grid(str(target), 4, window.map.visible_bounds())
    assert "does not exist" in blocker.args[1] and not target.exists()
    with qtbot.waitSignal(window.feedback.message_shown, timeout=10_000) as blocker:
        window.exports.codes(str(tmp_path / "e.txt"))
    assert ".csv or .npz" in blocker.args[1]


def test_ctrl_shift_m_offers_one_two_and_four_times_the_screens_pixels(open_window, qtbot, tmp_path):
    window = open_window()
    offered = []

    def save_at_four(dialog):
        offered.extend(dialog.scale.itemData(k) for k in range(dialog.scale.count()))
        dialog.scale.setCurrentIndex(offered.index(4))
        dialog.path.setText(str(tmp_path / "map.png"))
        dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Save).click()
    answer_dialog(save_at_four)
    out = wait_written(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key_M, Qt.ControlModifier | Qt.ShiftModifier))
    ratio, legend = window.map.devicePixelRatioF(), window.map_panel.legend
    assert offered == [1, 2, 4]
    assert Image.open(out).size == (round(window.map.width() * ratio * 4),
                                    round((legend.height() + window.map.height()) * ratio * 4))


def test_the_strip_dialogs_file_field_shows_a_40_character_path_whole(qtbot):
    from explorer.gui.dialogs.export import StripExportDialog

    dialog = StripExportDialog(10, "/home/someone/slides/lecture-3/vae-path.png", 4, 10.0)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    field = dialog.path
    assert field.contentsRect().width() >= field.fontMetrics().horizontalAdvance(field.text())


def test_browse_in_an_export_dialog_asks_for_a_file_to_write_and_fills_the_field(qtbot, monkeypatch):
    from PySide6.QtWidgets import QPushButton

    from explorer.gui import last_folder
    from explorer.gui.dialogs.export import StripExportDialog

    asked = []
    monkeypatch.setattr(last_folder, "ask", lambda parent, caption, start, filters, saving:
                        (asked.append((caption, start, filters, saving)), ("/elsewhere/walk.gif", ""))[1])
    dialog = StripExportDialog(10, "strip.png", 1, 10.0)
    qtbot.addWidget(dialog)
    browse = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Browse…")
    qtbot.mouseClick(browse, Qt.LeftButton)
    assert asked == [("Export filmstrip", "strip.png", "PNG strip (*.png);;GIF animation (*.gif)", True)]
    assert dialog.path.text() == "/elsewhere/walk.gif"
