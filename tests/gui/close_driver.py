"""Run the real application and close its window mid-work: `python close_driver.py SCENARIO CKPT DATA`.

SCENARIO: training (close while a run trains), decoding (close while a slow decode runs), loading
(close while the model and data load), hanging-model (close while the user's decoder never returns).
Exits with run()'s exit code.
"""

import sys
import threading
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import explorer.gui.app as app_module
import explorer.gui.saving as saving
from explorer.latent import worker_jobs

scenario, ckpt, data = sys.argv[1:4]
qapp = app_module.application()  # run() uses this one
saving.ask_unsaved = lambda parent, text: "discard"  # the scenarios close mid-run: no question


class NotYet:  # the first frame is up, the window not yet built
    state = type("NoState", (), {"session": None})()


def window():
    return next((w for w in QApplication.topLevelWidgets() if type(w).__name__ == "MainWindow"), NotYet)


def when(condition, then):
    """Poll on the UI thread until condition(), then act."""
    def check():
        if condition():
            then()
        else:
            QTimer.singleShot(20, check)
    QTimer.singleShot(0, check)


if scenario == "training":
    def start():
        w = window()
        w.train_dialog.epochs.setValue(10_000)
        w.train_dialog.device.setCurrentText("cpu")
        w.train_dialog.start_training()
        steps = []
        w.train_dialog.worker.step.connect(steps.append)
        when(lambda: steps, w.close)
    when(lambda: window().state.session is not None, start)
elif scenario == "decoding":
    busy = threading.Event()
    fast = worker_jobs.decode

    def slow_decode(req, report):  # a big model: each decode takes a while
        busy.set()
        time.sleep(0.5)
        return fast(req, report)
    worker_jobs.decode = slow_decode

    def start():
        w = window()
        w.state.set_cursor((0.0, 0.0))  # worker_jobs.decode is slow_decode by the time the window exists
        when(busy.is_set, w.close)
    when(lambda: window().state.session is not None, start)
elif scenario == "loading":
    loading = threading.Event()
    fast_open = worker_jobs.open_model

    def slow_open(req, report):  # a slow disk: the window is closed while the loader works
        loading.set()
        time.sleep(0.5)
        return fast_open(req, report)
    worker_jobs.open_model = slow_open
    when(loading.is_set, lambda: window().close())
elif scenario == "hanging-model":  # the user's decoder never returns once the window is open
    import torch
    from torch import nn

    from explorer.engine.models.adapters import adapt

    hanging = threading.Event()

    class Hangs(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 2))
            self.decoder = nn.Sequential(nn.Linear(2, 784), nn.Sigmoid())
            self.hang = False

        def decode(self, z):
            if self.hang:
                hanging.set()
                threading.Event().wait()  # forever: nothing sets it
            return self.decoder(z)

        def encode(self, x):
            return self.encoder(x)

    mine = Hangs()
    user_model = adapt(mine, images=torch.rand(8, 1, 28, 28), name="Hangs")

    def start():
        mine.hang = True
        window().state.set_cursor((0.0, 0.0))
        when(hanging.is_set, close)

    def close():
        began = time.monotonic()
        window().close()
        print(f"closed in {time.monotonic() - began:.2f} s", flush=True)
    when(lambda: window().state.session is not None, start)
    sys.exit(app_module.run(None, data, model=user_model))
else:
    raise SystemExit(f"unknown scenario {scenario}")

sys.exit(app_module.run(ckpt, data))
