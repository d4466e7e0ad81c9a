"""The export dialogs say what they will write as the user types (issue 23 items 13, 14): the grid's
size in pixels, Save disabled with the reason while it is too large, and the GIF's forward-and-back
loop; default file names are the model's."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from explorer.latent.export import MAX_PIXELS

from .helpers import at
from .test_exports import answer_dialog


def type_into(qtbot, box, text: str) -> None:
    box.setFocus()
    qtbot.keyClick(box, Qt.Key_A, Qt.ControlModifier)
    qtbot.keyClicks(box, text)


@pytest.mark.parametrize("n, scale", [(1, 1), (12, 1), (64, 4), (64, 5), (64, 16), (30, 10)])
def test_the_grid_dialog_shows_its_size_and_refuses_a_grid_too_large_before_save(open_window, qtbot, n, scale):
    window = open_window()
    seen = {}

    def fill(dialog):
        type_into(qtbot, dialog.n, str(n))
        type_into(qtbot, dialog.scale, str(scale))
        save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Save)
        seen.update(size=dialog.size.text(), error=dialog.error.text(), enabled=save.isEnabled(),
                    tip=save.toolTip(), name=dialog.path.text())
        qtbot.mouseClick(save, Qt.LeftButton)  # refused while too large: the dialog stays open
        seen["open"] = dialog.isVisible()
        dialog.reject()
    answer_dialog(fill)
    qtbot.keyClick(window, Qt.Key_E, Qt.ControlModifier)
    side = n * 28 * scale
    assert seen["size"] == f"{n} × {n} decodes of {28 * scale} × {28 * scale} px: {side:,} × {side:,} px"
    too_large = side * side > MAX_PIXELS
    assert seen["enabled"] is not too_large and seen["open"] is too_large
    assert ("too large" in seen["error"] and seen["tip"] == seen["error"]) if too_large else seen["error"] == ""
    assert seen["name"].endswith("vae-2d-mlp-grid.png")


def test_the_gif_dialog_says_it_plays_forward_then_back(open_window, qtbot, tmp_path):
    window = open_window()
    window.path_editor.set_waypoints([at(window, 0.2, 0.3), at(window, 0.8, 0.7)], "Draw path")
    qtbot.waitUntil(lambda: window.filmstrip.frames is not None, timeout=10_000)
    n = len(window.filmstrip.frames)
    seen = []

    def fill(dialog):
        type_into(qtbot, dialog.path, str(tmp_path / "walk.gif"))
        seen.append(dialog.size.text())
        type_into(qtbot, dialog.fps, "5")
        seen.append(dialog.size.text())
        dialog.reject()
    answer_dialog(fill)
    qtbot.keyClick(window, Qt.Key_E, Qt.ControlModifier | Qt.ShiftModifier)
    loop = 2 * n - 2
    assert seen[0] == f"{n} frames of 112 × 112 px, played forward then back: {loop} frames a loop ({loop / 10:.1f} s)"
    assert seen[1].endswith(f"({loop / 5:.1f} s)")


def test_every_export_suggests_a_name_after_the_model(open_window, qtbot, monkeypatch):
    from explorer.gui import last_folder

    window = open_window()
    window.path_editor.set_waypoints([at(window, 0.2, 0.3), at(window, 0.8, 0.7)], "Draw path")
    qtbot.waitUntil(lambda: window.filmstrip.frames is not None, timeout=10_000)
    window.state.set_selection([0, 1, 2])
    offered = []
    monkeypatch.setattr(last_folder, "ask", lambda parent, caption, start, filters, saving:
                        (offered.append(start), ("", ""))[1])

    def cancel(dialog):
        offered.append(dialog.path.text())
        dialog.reject()
    for action in (window.actions.export_map, window.actions.export_grid, window.actions.export_strip):
        answer_dialog(cancel)
        action.trigger()
    window.actions.save_path.trigger()
    window.actions.export_codes.trigger()
    window.actions.export_selection.trigger()
    window.attributes.dock.show()
    window.attributes.panel.choose("digit:1", "digit:7")
    qtbot.waitUntil(lambda: window.attributes.frames is not None, timeout=10_000)
    window.attributes.panel.export.click()
    assert offered == ["vae-2d-mlp-map.png", "vae-2d-mlp-grid.png", "vae-2d-mlp-path.png", "vae-2d-mlp-path.json",
                       "vae-2d-mlp-embeddings.csv", "vae-2d-mlp-selection.png", "vae-2d-mlp-attribute.png"]
