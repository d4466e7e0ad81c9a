"""Nothing lost on close: a trained model not yet saved, or a run under way, makes closing ask Save,
Discard or Cancel (the question and the file dialog are stubbed; the close is the real one)."""

from __future__ import annotations

import dataclasses

import pytest

from explorer.engine import checkpoint
from explorer.gui import saving

from .test_train_dialog import configure


def add_unsaved(window):
    """A model trained in the window and not saved, as a finished run leaves it."""
    shown = window.state.session
    ckpt = checkpoint.Checkpoint(shown.model, dict(shown.ckpt.meta, epochs=1))
    session = dataclasses.replace(shown, ckpt=ckpt, saved=False, title="vae-2d-mlp (1 epoch)")
    window.models.add(session, "trained:1")
    window.state.set_session(session, "trained:1")
    return session


def answer(monkeypatch, choice, paths=()):
    asked = []
    monkeypatch.setattr(saving, "ask_unsaved", lambda parent, text: asked.append(text) or choice)
    monkeypatch.setattr(saving, "ask_path", lambda parent, name: str(paths[len(asked) - 1]) if paths else "")
    return asked


def test_nothing_unsaved_closes_without_asking(open_window, monkeypatch):
    window = open_window()
    asked = answer(monkeypatch, "cancel")
    assert window.close() and not window.isVisible() and asked == []


@pytest.mark.parametrize("close", ["close", "quit"])
def test_cancel_keeps_the_window_open_and_discard_closes_it(open_window, monkeypatch, qtbot, close):
    window = open_window()
    add_unsaved(window)
    do_close = window.close if close == "close" else window.actions.quit.trigger
    asked = answer(monkeypatch, "cancel")
    do_close()
    assert window.isVisible() and len(asked) == 1 and "vae-2d-mlp (1 epoch)" in asked[0]
    with qtbot.waitSignal(window.state.decoded, timeout=10_000):  # nothing was stopped: it still decodes
        window.state.set_cursor((0.1, 0.1))
    asked = answer(monkeypatch, "discard")
    do_close()
    assert not window.isVisible() and len(asked) == 1


def test_save_writes_the_model_then_closes(open_window, monkeypatch, qtbot, tmp_path):
    window = open_window()
    session = add_unsaved(window)
    out = tmp_path / "mine.safetensors"
    answer(monkeypatch, "save", [out])
    assert not window.close()  # not yet: the model is written first
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert session.saved and checkpoint.load(out).meta["epochs"] == 1


def test_save_during_a_run_keeps_its_last_complete_epoch_then_closes(open_window, monkeypatch, qtbot, tmp_path):
    window = open_window()
    dialog = window.train_dialog
    configure(dialog, epochs=10_000)
    epochs = []
    dialog.epoch_snapshot.connect(lambda snap: epochs.append(snap.epoch))
    dialog.start_training()
    qtbot.waitUntil(lambda: 1 in epochs, timeout=60_000)
    out = tmp_path / "run.safetensors"
    asked = answer(monkeypatch, "save", [out])
    assert not window.close() and "training" in asked[0]
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=60_000)
    assert not dialog.running and checkpoint.load(out).meta["epochs"] >= 1


@pytest.mark.parametrize("name, offered", [("vae-2d-mlp (12 epochs)", "vae-2d-mlp-12ep.safetensors"),
                                           ("ae-2d-conv (1 epoch)", "ae-2d-conv-1ep.safetensors"),
                                           ("vae-2d-mlp (training, epoch 3)", "vae-2d-mlp-3ep.safetensors"),
                                           ("mine", "mine.safetensors")])
def test_a_model_trained_here_is_offered_a_file_name_unlike_a_shipped_one(name, offered):
    assert saving.default_file_name(name) == offered


def test_quitting_with_two_unsaved_models_writes_each_file_as_it_is_chosen(open_window, monkeypatch, qtbot,
                                                                           tmp_path):
    """Issue 23 item 12: the first file was not written until the second file dialog had closed."""
    window = open_window()
    first = add_unsaved(window)
    second = dataclasses.replace(first, title="vae-2d-mlp (2 epochs)")
    window.models.add(second, "trained:2")
    outs = [tmp_path / "first.safetensors", tmp_path / "second.safetensors"]
    written_when_asked = []

    def ask_path(parent, name):
        k = len(written_when_asked)
        if k == 1:  # the second dialog is open: the first file is written meanwhile
            try:
                qtbot.waitUntil(outs[0].exists, timeout=10_000)
            except qtbot.TimeoutError:  # said by the assertion below, not raised inside the window's close
                pass
        written_when_asked.append([o.exists() for o in outs])
        return str(outs[k])
    monkeypatch.setattr(saving, "ask_unsaved", lambda parent, text: "save")
    monkeypatch.setattr(saving, "ask_path", ask_path)
    window.actions.quit.trigger()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert written_when_asked == [[False, False], [True, False]]
    assert all(checkpoint.load(o).meta["epochs"] == 1 for o in outs)


def test_a_file_chosen_before_a_cancelled_dialog_is_still_written(open_window, monkeypatch, qtbot, tmp_path):
    window = open_window()
    first = add_unsaved(window)
    window.models.add(dataclasses.replace(first, title="vae-2d-mlp (2 epochs)"), "trained:2")
    out = tmp_path / "first.safetensors"
    paths = iter([str(out), ""])  # the second dialog cancelled
    monkeypatch.setattr(saving, "ask_unsaved", lambda parent, text: "save")
    monkeypatch.setattr(saving, "ask_path", lambda parent, name: next(paths))
    assert not window.close()
    monkeypatch.setattr(saving, "ask_unsaved", lambda parent, text: "discard")  # when the test closes it
    qtbot.waitUntil(lambda: len(window.saving.unsaved()) == 1, timeout=10_000)  # written, and marked saved
    assert out.exists() and checkpoint.load(out).meta["epochs"] == 1
    assert window.isVisible()  # the window stays, with the other model unsaved
