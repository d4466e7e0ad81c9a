"""File dialogs start in the folder last used, in this session and the next, through QSettings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QTreeView

from explorer.gui import last_folder


def test_every_file_dialog_starts_where_the_last_file_was_chosen(open_window, qtbot, tmp_path, monkeypatch,
                                                                 own_settings):
    chosen, asked = tmp_path / "slides" / "path.json", []
    chosen.parent.mkdir()

    def dialog(parent, caption, start, filters, saving):  # the user picks a file in a folder of their own
        asked.append(start)
        return str(chosen), filters
    monkeypatch.setattr(last_folder, "ask", dialog)
    window = open_window()
    assert last_folder.folder() is None
    window.path_editor.set_waypoints([[0.0, 0.0], [1.0, 1.0]])
    with qtbot.waitSignal(window.tasks.wrote, timeout=10_000):
        window.path_editor.ask_save()  # a save dialog
    assert asked[0] == "vae-2d-mlp-path.json"  # nothing remembered yet: the name alone
    with qtbot.waitSignal(window.state.path_changed, timeout=10_000):
        window.path_editor.ask_open()  # another kind of dialog starts where that one ended
    assert asked[1] == str(chosen.parent)
    assert last_folder.place("map.png") == str(chosen.parent / "map.png")  # the export dialogs' file fields

    settings = last_folder.settings()  # kept for the next session, in the settings the tests own
    settings.sync()
    assert Path(settings.fileName()).is_relative_to(own_settings) and str(chosen.parent) in Path(
        settings.fileName()).read_text()


def test_only_a_file_written_moves_the_dialogs_to_its_folder(open_window, qtbot, tmp_path, own_settings):
    window = open_window()
    with qtbot.waitSignal(window.feedback.message_shown, timeout=10_000) as said:
        window.exports.map_image(str(tmp_path / "missing" / "map.png"))  # typed into the export dialog
    assert "does not exist" in said.args[1] and last_folder.folder() is None  # not a folder to start in
    (tmp_path / "slides").mkdir()
    with qtbot.waitSignal(window.tasks.wrote, timeout=10_000):
        window.exports.map_image(str(tmp_path / "slides" / "map.png"))
    assert last_folder.folder() == str(tmp_path / "slides")


def test_qts_own_file_dialog_shows_file_sizes_whole(open_window, qtbot, gui_models):
    window = open_window()
    seen = []

    def look():
        dialog = QApplication.activeModalWidget()
        view = dialog.findChild(QTreeView) if dialog is not None else None
        if view is None or view.model().rowCount(view.rootIndex()) == 0:
            return QTimer.singleShot(20, look)
        qtbot.wait(200)  # the sizes are read in the background
        model, root = view.model(), view.rootIndex()
        sizes = [model.index(r, 1, root).data() for r in range(model.rowCount(root))]
        seen.extend((size, view.fontMetrics().horizontalAdvance(size), view.columnWidth(1)) for size in sizes)
        dialog.reject()
    QTimer.singleShot(0, look)
    assert last_folder.getOpenFileName(window, "Open", str(gui_models), "Checkpoints (*.safetensors)")[0] == ""
    assert seen and all(width > text for size, text, width in seen if size), seen  # "918.5 KiB", not "918…KiB"
