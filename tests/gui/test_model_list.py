"""The Models list as a user meets it: one click opens a model, a file opened again gets no second
row (a saved trained model included), and every column stays in view in the narrow dock."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt

from explorer.engine import checkpoint


def row_of(window, key):
    lst = window.model_list
    return next(lst.topLevelItem(k) for k in range(lst.topLevelItemCount())
                if lst.topLevelItem(k).data(0, Qt.UserRole) == key)


def test_a_single_click_opens_a_model(open_window, qtbot, gui_models):
    window = open_window()
    lst = window.model_list
    key = str(gui_models / "ae-2d-mlp.safetensors")
    rect = lst.visualItemRect(row_of(window, key))
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        qtbot.mouseClick(lst.viewport(), Qt.LeftButton, pos=rect.center())
    assert window.state.key == key and window.state.session.model.kind == "ae"


def test_a_double_click_on_a_listed_model_opens_it_once(open_window, qtbot, gui_models):
    window = open_window()
    lst, asked = window.model_list, []
    submit = window.models.loader.submit
    window.models.loader.submit = lambda request, asker: (asked.append(request), submit(request, asker))[1]
    key = str(gui_models / "ae-2d-mlp.safetensors")
    rect = lst.visualItemRect(row_of(window, key))
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        qtbot.mouseClick(lst.viewport(), Qt.LeftButton, pos=rect.center())  # a double-click: a click first,
        qtbot.mouseDClick(lst.viewport(), Qt.LeftButton, pos=rect.center())  # then the second press
    qtbot.wait(200)
    assert window.state.key == key and [r.key for r in asked] == [key]


def test_opening_a_listed_file_again_adds_no_row(open_window, qtbot, gui_models, tmp_path):
    window = open_window()
    rows = window.model_list.topLevelItemCount()
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):  # the same file, written otherwise
        window.models.open_path(f"{gui_models}/./../{gui_models.name}/ae-2d-mlp.safetensors")
    assert window.model_list.topLevelItemCount() == rows

    shown = window.state.session  # a model trained here, saved, then opened from its file
    trained = dataclasses.replace(shown, ckpt=checkpoint.Checkpoint(shown.model, dict(shown.ckpt.meta)), saved=False,
                                  title="ae-2d-mlp (3 epochs)")
    window.models.add(trained, "trained:1")
    window.state.set_session(trained, "trained:1")
    out = tmp_path / "mine.safetensors"
    with qtbot.waitSignal(window.tasks.wrote, timeout=10_000):
        window.saving.save_model(str(out))
    assert window.model_list.topLevelItemCount() == rows + 1 and window.state.key == str(out.resolve())
    window.models.open_path(str(out))
    qtbot.waitUntil(lambda: window.models.loader.idle(), timeout=20_000)
    assert window.model_list.topLevelItemCount() == rows + 1


def test_names_are_elided_and_the_loss_stays_in_view(open_window, qtbot):
    window = open_window()
    shown = window.state.session
    long = dataclasses.replace(shown, ckpt=checkpoint.Checkpoint(shown.model, dict(shown.ckpt.meta)), saved=False,
                               title="vae-2d-mlp with a very long name indeed (12 epochs, cancelled)")
    window.models.add(long, "trained:1")
    lst = window.model_list
    header = lst.header()
    qtbot.waitUntil(lambda: header.sectionSize(0) > 0)
    loss_right = header.sectionViewportPosition(3) + header.sectionSize(3)
    assert loss_right <= lst.viewport().width()
    assert header.sectionSize(3) >= lst.fontMetrics().horizontalAdvance("0.0000")
    assert header.sectionSize(0) >= lst.fontMetrics().horizontalAdvance("vae-2d…")  # a name, elided
