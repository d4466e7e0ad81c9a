"""Training from the dialog: a run completes and the map follows it, cancel, divergence, worker
errors, and a window that stays responsive while training runs."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt, QTimer

from explorer.engine import checkpoint, coding, training
from explorer.engine.config import TrainConfig

from .helpers import at, expected_decode, pixel_of


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def configure(dialog, epochs, batch=64, kind="vae"):
    dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
    dialog.epochs.setValue(epochs)
    dialog.batch.setValue(batch)
    dialog.device.setCurrentText("cpu")


def test_jitter_is_offered_for_encoders_of_real_images_and_recorded_with_the_run(open_window, qtbot):
    window = open_window()
    dialog = window.train_dialog
    configure(dialog, epochs=1, kind="gan")
    dialog.jitter.setChecked(True)
    assert not dialog.jitter.isEnabled() and not dialog.configs()[1].jitter  # a GAN's encoder sees G's images
    configure(dialog, epochs=1, kind="ae")
    assert dialog.jitter.isEnabled() and dialog.configs()[1].jitter
    with qtbot.waitSignal(window.training.trained_ready, timeout=60_000) as blocker:
        qtbot.mouseClick(dialog.start, Qt.LeftButton)
    assert blocker.args[0].ckpt.meta["jitter"] is True


def test_a_short_run_completes_the_map_follows_each_epoch_and_the_model_can_be_saved(open_window, qtbot, tmp_path):
    window = open_window()
    dialog = window.train_dialog
    window.actions.train.trigger()
    assert dialog.isVisible()
    configure(dialog, epochs=2)
    epochs_shown = []
    window.state.session_changed.connect(lambda s: epochs_shown.append((s.ckpt.meta.get("epochs"),
                                                                        len(window.map.cloud))))
    with qtbot.waitSignal(window.training.trained_ready, timeout=60_000) as blocker:
        qtbot.mouseClick(dialog.start, Qt.LeftButton)
    assert epochs_shown[:3] == [(0, 256), (1, 256), (2, 256)]  # the untrained space, then after each epoch
    trained = blocker.args[0]
    assert window.state.session is trained and not trained.saved and trained.name == "vae-2d-mlp (2 epochs)"
    assert trained.ckpt.meta["epochs"] == 2 and trained.ckpt.meta["train_images"] == 512
    assert set(trained.codes) == {"test", "train"}
    assert not dialog.running and dialog.start.isEnabled() and dialog.save.isEnabled()
    assert len(dialog.curves) == 3 and dialog.progress.value() == 1000

    out = tmp_path / "mine.safetensors"
    with qtbot.waitSignal(window.tasks.wrote, timeout=10_000):
        window.saving.save_model(str(out))
    loaded = checkpoint.load(out)
    assert same(weights(loaded.model), weights(trained.model)) and loaded.meta["epochs"] == 2
    assert window.state.session.saved and window.state.session.name == "mine"


def start_long_run(window, qtbot, epochs=10_000):
    """Start a run and return once it is part-way through its second epoch or a later one (step reports
    are thinned out, so which one is not known), with the snapshots seen so far."""
    dialog = window.train_dialog
    configure(dialog, epochs=epochs)
    snapshots, steps = [], []
    dialog.epoch_snapshot.connect(snapshots.append)
    dialog.start_training()
    dialog.worker.step.connect(steps.append)
    qtbot.waitUntil(lambda: any(p.epoch >= 2 and not p.epoch_done for p in steps), timeout=30_000)
    return dialog, snapshots


def test_cancel_stops_within_a_second_once_and_keeps_the_last_complete_epoch(open_window, qtbot):
    window = open_window()
    dialog, snapshots = start_long_run(window, qtbot)
    worker = dialog.worker
    ends = {"cancelled": [], "completed": [], "diverged": []}
    for name, got in ends.items():
        getattr(worker, name).connect(got.append)
    with qtbot.waitSignal(worker.cancelled, timeout=1000):  # stops within one second
        qtbot.mouseClick(dialog.cancel, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.state.session is not None and window.state.session.title.endswith("epochs)")
                    or window.state.session.title.endswith("epoch)"), timeout=20_000)
    assert len(ends["cancelled"]) == 1 and not ends["completed"] and not ends["diverged"]
    run = ends["cancelled"][0]
    assert run.result.status == "cancelled" and run.result.epochs_done >= 1
    last = next(s for s in snapshots if s.epoch == run.result.epochs_done)
    assert same(weights(run.model), weights(last.model))
    assert same(weights(window.state.session.model), weights(last.model))  # the partial model is the current one
    assert not dialog.running and dialog.start.isEnabled()


@pytest.mark.parametrize("fault, says", [("nan", "non-finite"), ("error", "a kernel failed")])
def test_a_run_that_goes_wrong_after_an_epoch_stops_keeps_that_epoch_and_overwrites_nothing(
        fault, says, open_window, qtbot, monkeypatch, gui_models):
    """A loss that becomes NaN, or an error (a failing kernel, memory), in epoch 2."""
    from explorer.engine.models.vae import VAE

    calls = {"n": 0}
    original = VAE.losses

    def losses(self, x, labels=None):
        calls["n"] += 1
        at_fault = calls["n"] == 8 + 3  # 512 images / batch 64 = 8 steps: step 3 of epoch 2
        if at_fault and fault == "error":
            raise RuntimeError("a kernel failed")
        terms = original(self, x, labels)
        if at_fault:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    window = open_window()
    files = {p.name: p.read_bytes() for p in gui_models.iterdir()}
    monkeypatch.setattr(VAE, "losses", losses)
    dialog = window.train_dialog
    configure(dialog, epochs=5)
    snapshots, messages = [], []
    dialog.epoch_snapshot.connect(snapshots.append)
    window.feedback.message_shown.connect(lambda title, text: messages.append((title, text)))
    with qtbot.waitSignal(window.training.trained_ready, timeout=60_000) as blocker:
        dialog.start_training()
    title, text = messages[0]
    assert title == "Training stopped" and says in text and "kept the weights of epoch 1" in text
    assert not dialog.running and dialog.start.isEnabled() and not dialog.cancel.isEnabled()
    assert dialog.save.isEnabled()
    trained = blocker.args[0]
    assert [s.epoch for s in snapshots] == [0, 1]
    assert same(weights(trained.model), weights(snapshots[1].model))
    assert all(torch.isfinite(v).all() for v in weights(trained.model).values())
    assert {p.name: p.read_bytes() for p in gui_models.iterdir()} == files  # nothing saved over


def test_an_error_inside_the_training_worker_reaches_the_user_and_the_app_keeps_working(
        open_window, qtbot, monkeypatch):
    import explorer.engine.training

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure inside training")

    window = open_window()
    model_before = window.state.session.model
    monkeypatch.setattr(explorer.engine.training, "train", broken)
    with qtbot.waitSignal(window.feedback.message_shown, timeout=30_000) as blocker:
        window.train_dialog.start_training()
    title, text = blocker.args
    assert title == "Training failed" and "simulated failure inside training" in text
    qtbot.waitUntil(lambda: not window.train_dialog.running, timeout=5000)
    assert window.train_dialog.start.isEnabled()
    assert window.state.session.model is model_before  # the untrained preview is gone, the model shown before is back
    assert window.model_list.topLevelItemCount() == 5
    with qtbot.waitSignal(window.state.decoded, timeout=5000) as decoded:
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.5, 0.5)))
    assert np.array_equal(decoded.args[0].image, expected_decode(window, *decoded.args[0].request.uv))


def test_the_form_rejects_a_bad_learning_rate_with_a_message(open_window, qtbot):
    window = open_window()
    window.train_dialog.lr.setText("fast")
    with qtbot.waitSignal(window.feedback.message_shown, timeout=5000) as blocker:
        assert not window.train_dialog.start_training()
    assert "learning rate" in blocker.args[1] and not window.train_dialog.running


def test_the_form_offers_the_engines_defaults_for_the_model_chosen(open_window):
    dialog = open_window().train_dialog
    assert dialog.epochs.value() == TrainConfig().epochs
    dialog.kind.setCurrentIndex(dialog.kind.findData("vae"))
    dialog.arch.setCurrentIndex(dialog.arch.findData("mlp"))
    assert dialog.lr.placeholderText() == f"default ({training.DEFAULTS['vae'][1]:g})"
    dialog.arch.setCurrentIndex(dialog.arch.findData("conv"))  # conv nets diverge at the MLP's rate
    assert dialog.lr.placeholderText() == f"default ({training.CONV_MAX_LR:g})"
    dialog.kind.setCurrentIndex(dialog.kind.findData("gan"))
    assert dialog.batch.specialValueText() == f"default ({training.DEFAULTS['gan'][0]})"


def test_a_gan_can_be_anchored_and_an_anchored_gan_keeps_its_encoder(open_window, qtbot):
    dialog = open_window().train_dialog
    assert not dialog.anchor.isEnabled()  # a VAE has no anchor
    dialog.kind.setCurrentIndex(dialog.kind.findData("gan"))
    assert dialog.anchor.isEnabled() and dialog.anchor.text() == "0 (plain GAN)"
    dialog.inversion.setChecked(False)
    assert dialog.configs()[0].anchor == 0 and not dialog.configs()[0].inversion
    dialog.anchor.lineEdit().selectAll()
    qtbot.keyClicks(dialog.anchor, "150")
    model, _ = dialog.configs()
    assert model.anchor == 150 and model.inversion and model.describe().startswith("VAE-GAN")
    assert dialog.inversion.isChecked() and not dialog.inversion.isEnabled()
    # the shipped GAN's recipe: a WAE's anchor, CatGAN's confidence, decoding with the weights' average
    for box, typed in ((dialog.mmd, "1000"), (dialog.average, "0.999"), (dialog.confident, "5")):
        box.lineEdit().selectAll()
        qtbot.keyClicks(box, typed)
    model, _ = dialog.configs()
    assert (model.mmd, model.average, model.confident) == (1000, 0.999, 5) and model.describe().startswith("WAE-GAN")
    dialog.anchor.lineEdit().selectAll()
    qtbot.keyClicks(dialog.anchor, "0")
    assert not dialog.mmd.isEnabled() and dialog.configs()[0].mmd == 0  # no anchor, nothing to match
    dialog.kind.setCurrentIndex(dialog.kind.findData("vae"))
    assert not dialog.average.isEnabled() and dialog.configs()[0].average == 0
    assert not dialog.confident.isEnabled() and dialog.configs()[0].confident == 0


def test_opening_the_dialog_warms_training_up_once_off_the_ui_thread(open_window, qtbot, monkeypatch):
    threads = []
    monkeypatch.setattr(training, "warm_up", lambda: threads.append(threading.get_ident()))
    window = open_window()
    window.actions.train.trigger()
    qtbot.waitUntil(lambda: len(threads) == 1 and not window.tasks.pending(), timeout=5000)
    assert threads[0] != threading.main_thread().ident
    window.train_dialog.close()
    window.actions.train.trigger()
    assert not window.tasks.pending()  # the second opening submits nothing


def test_training_steps_run_off_the_ui_thread_which_keeps_serving_clicks(open_window, qtbot, monkeypatch):
    """Every optimiser step runs on the worker thread; meanwhile a 10 ms timer on the UI thread keeps
    firing and a click on the map decodes. (How long the UI thread's worst gap is: explorer.gui.bench.)"""
    real_make_step, step_threads = training._make_step, set()

    def make_step(*args):
        step = real_make_step(*args)

        def recorded(*a, **k):
            step_threads.add(threading.get_ident())
            return step(*a, **k)
        return recorded
    monkeypatch.setattr(training, "_make_step", make_step)
    window = open_window()
    dialog = window.train_dialog
    window.actions.train.trigger()  # the dialog is open, its loss curves redrawing
    qtbot.waitExposed(dialog)
    configure(dialog, epochs=30)  # a few seconds: long enough to click while it runs
    ticks = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(dialog.running))
    with qtbot.waitSignal(window.training.trained_ready, timeout=120_000):
        dialog.start_training()
        timer.start()
        s = window.state
        qtbot.waitUntil(lambda: s.key == window.training.training_key and s.session.ckpt.meta["epochs"] >= 1,
                        timeout=30_000)  # the map shows the model in training
        assert dialog.running
        pixel = pixel_of(window, *at(window, 0.4, 0.6))
        with qtbot.waitSignal(window.state.decoded, timeout=5000) as decoded:
            qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel)
        req = decoded.args[0].request  # by the model of the epoch shown when clicked (the view refits each epoch)
        assert np.allclose(req.z, req.uv) and np.array_equal(decoded.args[0].image, coding.decode(req.model, req.z)[0])
        qtbot.waitUntil(lambda: not dialog.running, timeout=120_000)
    timer.stop()
    assert step_threads and threading.main_thread().ident not in step_threads
    assert sum(ticks) > 20  # the UI thread ran its timer while the worker trained


def test_training_on_a_dataset_that_is_not_there_says_which_files_are_missing(open_window, qtbot):
    window = open_window()
    model_before = window.state.session.model
    window.train_dialog.dataset.setCurrentText("fashion-mnist")  # the small root holds MNIST only
    with qtbot.waitSignal(window.feedback.message_shown, timeout=30_000) as blocker:
        window.train_dialog.start_training()
    title, text = blocker.args
    assert title == "Training failed" and "train-images-idx3-ubyte" in text and "FashionMNIST" in text
    qtbot.waitUntil(lambda: not window.train_dialog.running, timeout=5000)
    assert window.state.session.model is model_before


def test_an_autoencoders_loss_plot_reads_mse_in_plain_numbers_with_one_curve_and_its_legend(open_window, qtbot):
    window = open_window()
    dialog = window.train_dialog
    window.actions.train.trigger()
    configure(dialog, epochs=1, kind="ae")
    with qtbot.waitSignal(window.training.trained_ready, timeout=60_000):
        qtbot.mouseClick(dialog.start, Qt.LeftButton)
    axis = dialog.plot.getAxis("left")
    assert axis.labelText == "MSE" and axis.labelUnitPrefix == "" and "x0.0" not in axis.label.toPlainText()
    low, high = dialog.plot.getViewBox().viewRange()[1]  # log10 of the losses shown
    ticks = [value for level in axis.tickValues(low, high, axis.height()) for value in level[1]]
    labels = [text for text in axis.tickStrings(ticks, 1.0, 1.0) if text]
    assert labels and all(float(text) in {m * 10.0 ** e for m in (1, 2, 5) for e in range(-6, 7)} for text in labels)
    assert list(dialog.curves) == ["loss"]  # the reconstruction is the whole loss: not drawn twice, one on the other
    legend = dialog.plot.getPlotItem().legend
    assert legend.isVisible() and [label.text for _, label in legend.items] == ["loss"]
    assert legend.opts["brush"].color().alpha() > 128  # readable over the curves


def test_devices_not_there_are_not_offered_and_a_failed_start_says_so_in_the_forms_words(
        open_window, qtbot, monkeypatch):
    """Issue 23 item 7: cuda was offered on a CPU-only machine; starting on it then spoke the command
    line ("--device cuda was asked for") and disabled Save while the model trained before was unsaved."""
    window = open_window()
    dialog = window.train_dialog
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    window.actions.train.trigger()
    assert [dialog.device.itemText(k) for k in range(dialog.device.count())] == ["auto", "cpu"]
    configure(dialog, epochs=1)
    with qtbot.waitSignal(window.training.trained_ready, timeout=60_000):
        qtbot.mouseClick(dialog.start, Qt.LeftButton)
    assert dialog.save.isEnabled() and not window.state.session.saved

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a GPU there when the panel is shown...
    window.actions.train.trigger()
    assert dialog.device.findText("cuda") >= 0
    dialog.device.setCurrentText("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # ...and gone when the run starts
    with qtbot.waitSignal(window.feedback.message_shown, timeout=30_000) as blocker:
        qtbot.mouseClick(dialog.start, Qt.LeftButton)
    title, text = blocker.args
    assert title == "Training failed" and "no CUDA GPU" in text
    assert "--" not in text and "Device" in text and "--" not in dialog.status.text()
    qtbot.waitUntil(lambda: not dialog.running, timeout=5000)
    assert dialog.save.isEnabled() and not window.state.session.saved  # the earlier run's model: still saveable
    window.actions.train.trigger()
    assert dialog.device.findText("cuda") < 0 and dialog.device.currentText() == "auto"
