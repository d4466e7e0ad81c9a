"""GUI test set-up: small checkpoints, a window factory, and a guard that fails any test leaving a
worker thread running or a timer active (napari does the same)."""

from __future__ import annotations

import shutil

import pytest
import shiboken6
from PySide6.QtCore import QSettings, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication

from explorer.engine import checkpoint, coding, trained
from explorer.engine.config import ModelConfig, TrainConfig
from explorer.engine.models import build_model
from explorer.engine.training import train


def pytest_configure(config):
    """Broken Qt bindings abort the process mid-run; stop at once with the reason instead."""
    from explorer.gui.app import check_bindings
    from explorer.utils.errors import ExplorerError

    try:
        check_bindings()
    except ExplorerError as e:
        pytest.exit(str(e), returncode=3)


@pytest.fixture(autouse=True)
def own_settings(tmp_path):
    """QSettings (the file dialogs' last folder) in the test's own folder: never the user's settings."""
    for kind in (QSettings.NativeFormat, QSettings.IniFormat):
        QSettings.setPath(kind, QSettings.UserScope, str(tmp_path / "settings"))
    yield tmp_path / "settings"


@pytest.fixture(autouse=True)
def no_leaks(qapp):
    """After the test (and its windows are closed), no thread of ours runs and no timer is active."""
    from explorer.gui.threads import workers

    yield
    running = [t.objectName() for t in list(workers.THREADS) if shiboken6.isValid(t) and t.isRunning()]
    assert not running, f"worker threads still running: {running}"
    assert QThreadPool.globalInstance().activeThreadCount() == 0, "thread-pool jobs still running"
    active = [t for w in QApplication.topLevelWidgets() for t in w.findChildren(QTimer) if t.isActive()]
    assert not active, f"timers still active: {[t.objectName() or t.parent() for t in active]}"


def save_model(path, config: ModelConfig, test=None, epochs: int = 0, train_split=None):
    """A checkpoint of a small model, trained for `epochs` on train_split, with its latent stats."""
    model = build_model(config, seed=0)
    meta = {"dataset": "mnist", "epochs": epochs}
    if epochs:
        result = train(model, train_split.images, TrainConfig(epochs=epochs, batch_size=64), labels=train_split.labels)
        meta["final_losses"] = result.final_losses
    stats = coding.infer_stats(model, test.images, test.labels) if test is not None else None
    checkpoint.save(path, model, meta, stats)
    return path


@pytest.fixture(scope="session")
def gui_models(tmp_path_factory, small_root):
    """A trained/ folder of small models: a 2-d VAE trained briefly on real digits (the default), and
    untrained models of every other kind the window treats differently."""
    from explorer.data.datasets import load_split

    folder = tmp_path_factory.mktemp("trained")
    test = load_split("mnist", "test", small_root)
    train_split = load_split("mnist", "train", small_root)
    save_model(folder / "vae-2d-mlp.safetensors", ModelConfig(kind="vae"), test, epochs=2, train_split=train_split)
    save_model(folder / "ae-2d-mlp.safetensors", ModelConfig(kind="ae"), test)
    save_model(folder / "vae-3d-mlp.safetensors", ModelConfig(kind="vae", latent_dim=3), test)
    save_model(folder / "cvae-2d-mlp.safetensors", ModelConfig(kind="cvae"), test)
    save_model(folder / "gan-2d-mlp.safetensors", ModelConfig(kind="gan", inversion=False))
    shutil.copy(trained.classifier_path(), folder)  # the shipped digit classifier judges decodability
    return folder


@pytest.fixture
def plot(qtbot):
    """A bare 400 x 400 plot showing data x and y from 0 to 10, for the map's layers alone."""
    import pyqtgraph as pg

    widget = pg.PlotWidget()
    widget.resize(400, 400)
    widget.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.close()


def settled(qtbot, window) -> None:
    """Wait until the map's plot area stops moving: its axes re-lay out after the first points arrive (their
    tick labels change width), later under load, and a test that turns pixels into map points before then
    reads them through a mapping that is about to change."""
    seen = []

    def still() -> bool:
        view = window.map.view
        seen.append((view.sceneBoundingRect(), view.viewRange()))
        return len(seen) > 2 and seen[-1] == seen[-2] == seen[-3]

    qtbot.waitUntil(still, timeout=5000)


@pytest.fixture
def open_window(qtbot, gui_models, small_root, monkeypatch):
    """open_window(checkpoint=None, data_dir=small_root) -> a shown MainWindow with its model loaded.
    Every window is closed after the test, before the leak check."""
    from explorer.gui.main_window import MainWindow

    monkeypatch.setenv("EXPLORER_TRAINED_DIR", str(gui_models))
    # closing with an unsaved model asks; a test that does not test that question discards
    monkeypatch.setattr("explorer.gui.saving.ask_unsaved", lambda parent, text: "discard")
    windows = []

    def make(checkpoint=None, data_dir=small_root, wait=True):
        window = MainWindow(data_dir=data_dir)
        window.resize(1200, 800)
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        if wait:
            with qtbot.waitSignals([window.state.session_changed, window.models.listed], timeout=20_000):
                window.start(None if checkpoint is None else str(checkpoint))
            settled(qtbot, window)
        else:
            window.start(None if checkpoint is None else str(checkpoint))
        return window

    yield make
    for window in windows:
        window.close()
        window.deleteLater()
