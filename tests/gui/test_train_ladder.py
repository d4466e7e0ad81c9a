"""Ladders from the training panel: one run per rung, one after another, each rung in the model list
and the compare view's small multiples as it finishes; cancel at any rung keeps the finished ones."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import Qt

from explorer.engine import checkpoint

from .test_train_dialog import configure


def rungs_in_compare(window):
    return [c.session.ckpt.meta.get("ladder") for c in window.compare.shown if c.session is not None]


def test_a_beta_ladder_trains_each_rung_and_shows_them_side_by_side(open_window, qtbot, monkeypatch, tmp_path):
    window = open_window()
    dialog = window.train_dialog
    window.actions.train.trigger()
    configure(dialog, epochs=1)
    dialog.ladder.set_ladder("beta", "0, 1, 4")
    finished = []
    window.training.rung_ready.connect(finished.append)
    qtbot.mouseClick(dialog.start, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(finished) == 3 and not dialog.running, timeout=120_000)
    sessions = [window.models.sessions[k] for k in finished]
    assert [s.ckpt.meta["ladder"] for s in sessions] == [{"beta": 0.0}, {"beta": 1.0}, {"beta": 4.0}]
    assert [s.model.config.beta for s in sessions] == [0.0, 1.0, 4.0]
    assert [s.name for s in sessions] == [f"vae-2d-mlp-beta{b} (1 epoch)" for b in ("0", "1", "4")]
    assert all(k in window.model_list.keys() for k in finished)  # each one in the model list
    # the compare view opened at the second rung and took the third as it came
    assert window.compare is not None and window.compare.isVisible()
    qtbot.waitUntil(lambda: rungs_in_compare(window) == [{"beta": 0.0}, {"beta": 1.0}, {"beta": 4.0}], timeout=20_000)
    assert "Rung 3/3 (beta=4)" in dialog.status.text()

    # Save ladder: one name, every rung beside it named by its rung, as `explorer train --ladder` writes them
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr("explorer.gui.saving.ask_path", lambda parent, name: str(out / "mine.safetensors"))
    assert dialog.save_ladder.isEnabled()
    qtbot.mouseClick(dialog.save_ladder, Qt.LeftButton)
    names = [f"mine-beta{b}.safetensors" for b in ("0", "1", "4")]
    qtbot.waitUntil(lambda: sorted(os.listdir(out)) == sorted(names) and not window.saving.unsaved(),
                    timeout=30_000)
    for name, beta in zip(names, (0.0, 1.0, 4.0)):
        assert checkpoint.load(out / name).meta["ladder"] == {"beta": beta}


def test_cancel_mid_ladder_keeps_the_finished_rungs_and_trains_no_further_one(open_window, qtbot):
    window = open_window()
    dialog = window.train_dialog
    configure(dialog, epochs=1)
    dialog.ladder.set_ladder("epochs", "1, 10000, 2")
    finished, steps = [], []
    window.training.rung_ready.connect(finished.append)
    dialog.start_training()
    qtbot.waitUntil(lambda: dialog.rung is not None and dialog.rung.value == 10000 and dialog.worker is not None,
                    timeout=60_000)
    dialog.worker.step.connect(steps.append)
    qtbot.waitUntil(lambda: any(p.epoch >= 2 for p in steps), timeout=60_000)
    qtbot.mouseClick(dialog.cancel, Qt.LeftButton)
    qtbot.waitUntil(lambda: len(finished) == 2 and not dialog.running, timeout=60_000)
    qtbot.wait(300)  # a third rung would have started by now
    assert not dialog.running and len(finished) == 2
    first, second = (window.models.sessions[k].ckpt.meta for k in finished)
    assert first["ladder"] == {"epochs": 1} and first["status"] == "finished"
    assert second["ladder"] == {"epochs": 10000} and second["status"] == "cancelled" and second["epochs"] >= 1
    qtbot.waitUntil(lambda: rungs_in_compare(window) == [{"epochs": 1}, {"epochs": 10000}], timeout=20_000)
    assert "Rung 2/3 (epochs=10000): Cancelled" in dialog.status.text()


@pytest.mark.parametrize("setting, values, says", [
    ("beta", "0, x", "ladder: beta 'x' is not a number"),
    ("beta", "1", "one value is one model"),
    ("beta", "1, 4, 1.0", "1.0 is the same beta as 1"),
    ("latent-dim", "2, 1", "ladder rung latent-dim=1: latent dimension must be an integer from 2"),
    ("lr", "0.001, 3", "ladder rung lr=3: learning rate must be a number above 0 and at most 1"),
    ("epochs", "1, 2.5", "'2.5' is not a whole number"),
    ("anchor", "0, 50", "ladder rung anchor=0: anchor is a GAN's setting; a VAE has none to step"),
])
def test_a_bad_ladder_in_the_form_says_what_is_wrong_and_trains_nothing(setting, values, says, open_window, qtbot):
    window = open_window()
    dialog = window.train_dialog
    configure(dialog, epochs=1)
    dialog.ladder.set_ladder(setting, values)
    with qtbot.waitSignal(dialog.message, timeout=5000) as blocker:
        assert dialog.start_training() is False
    assert blocker.args[0] == "Cannot start training" and says in blocker.args[1], blocker.args
    assert not dialog.running and says in dialog.status.text()
