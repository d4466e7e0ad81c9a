"""The user's own model misbehaving in the window: SystemExit or KeyboardInterrupt from their decoder
is one message (their traceback under Details) and the window goes on decoding; a decoder that
never returns is said in the status bar, another model still decodes, and the window closes; the
neighbours follow the cursor whether or not its decode worked."""

import threading

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from torch import nn

from explorer.engine.checkpoint import checkpoint_of
from explorer.engine.models import guard
from explorer.engine.models.adapters import adapt
from tests.gui.helpers import at, decodes_of, pixel_of


class Temperamental(nn.Module):
    """The lecture's autoencoder, whose decoder misbehaves as `fault` says once the window has it open."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 2))
        self.decoder = nn.Sequential(nn.Linear(2, 784), nn.Sigmoid(), nn.Unflatten(1, (1, 28, 28)))
        self.fault = None
        self.hanging, self.release = threading.Event(), threading.Event()

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        if self.fault == "SystemExit":
            raise SystemExit(1)
        if self.fault == "KeyboardInterrupt":
            raise KeyboardInterrupt
        if self.fault == "tuple":
            return self.decoder(z), self.decoder(z)
        if self.fault == "hang":
            self.hanging.set()
            self.release.wait()  # until the test ends: a decoder that does not return
        return self.decoder(z)


@pytest.fixture
def temperamental(open_window, qtbot, mnist_test):
    """(window, model): the window showing a Temperamental model over the test images."""
    window = open_window()
    model = Temperamental()
    adapted = adapt(model, images=mnist_test.images[:64], name="Temperamental")
    window.models.open(checkpoint_of(adapted, "mnist"), key="Temperamental")
    qtbot.waitUntil(lambda: window.state.key == "Temperamental" and window.state.points is not None, timeout=30_000)
    yield window, model
    model.fault = None
    model.release.set()  # the stuck call ends, and its helper thread with it


def click(qtbot, window, fx, fy):
    qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, fx, fy)))


@pytest.mark.parametrize("fault, says", [("SystemExit", "failed on codes of shape (1, 2): SystemExit"),
                                         ("KeyboardInterrupt", "failed on codes of shape (1, 2): KeyboardInterrupt"),
                                         ("tuple", "returned a tuple; expected a tensor of images")])
def test_their_decoder_exiting_interrupted_or_answering_nonsense_is_one_message_and_the_window_goes_on(
        temperamental, qtbot, fault, says):
    window, model = temperamental
    messages = []
    window.feedback.message_shown.connect(lambda title, text: messages.append((title, text)))
    model.fault = fault
    click(qtbot, window, 0.3, 0.6)
    qtbot.waitUntil(lambda: any(title == "Cannot decode" for title, _ in messages), timeout=10_000)
    text = next(text for title, text in messages if title == "Cannot decode")
    assert text.startswith("Temperamental's decoder " + says), text
    assert "please report" not in text and "\n" not in text
    details = text.details
    boxes = [b for b in window.findChildren(QMessageBox) if b.text() == text]
    assert boxes and boxes[-1].detailedText() == details  # the Details button shows their traceback
    if fault != "tuple":  # a raise has a traceback; a wrong answer is said in full in the message
        assert details.startswith("Traceback") and f"raise {fault}" in details
    model.fault = None  # it behaves again: the same worker decodes the next click
    seen = decodes_of(window)
    click(qtbot, window, 0.7, 0.4)
    qtbot.waitUntil(lambda: len(seen) > 0, timeout=10_000)
    assert window.isVisible() and window.state.key == "Temperamental"


def test_a_decoder_that_never_returns_is_said_leaves_the_window_live_and_closable(temperamental, qtbot, gui_models,
                                                                                  monkeypatch):
    window, model = temperamental
    monkeypatch.setattr(guard, "ANSWER_WITHIN", 0.5)  # the wait before saying so (5 s in use)
    model.fault = "hang"
    click(qtbot, window, 0.5, 0.5)
    qtbot.waitUntil(model.hanging.is_set, timeout=10_000)
    qtbot.waitUntil(lambda: "has not answered" in window.statusBar().currentMessage(), timeout=10_000)
    assert window.statusBar().currentMessage().startswith("Temperamental's decoder has not answered")
    # the UI thread is free: another model opens, and its decodes get through though ours still hangs
    window.models.open_path(str(gui_models / "vae-2d-mlp.safetensors"))
    qtbot.waitUntil(lambda: window.state.session is not None and window.state.session.name == "vae-2d-mlp",
                    timeout=30_000)
    seen = decodes_of(window)
    click(qtbot, window, 0.6, 0.4)
    qtbot.waitUntil(lambda: len(seen) > 0, timeout=10_000)
    assert not model.release.is_set()  # still hanging
    window.close()  # returns though their decoder never does: no thread of ours is left waiting on it
    assert not [w.objectName() for w in window.workers if w.isRunning()]


def test_after_a_failed_decode_the_neighbours_are_those_of_the_cursor_not_of_the_last_good_decode(
        temperamental, qtbot):
    window, model = temperamental
    window.neighbours.dock.show()
    seen = decodes_of(window)
    click(qtbot, window, 0.2, 0.8)
    qtbot.waitUntil(lambda: len(seen) > 0 and window.neighbours.indices is not None, timeout=10_000)
    first = window.neighbours.indices.copy()
    model.fault = "tuple"
    click(qtbot, window, 0.8, 0.2)  # far across the map: other neighbours
    qtbot.waitUntil(lambda: window.state.shown_decode is None, timeout=10_000)
    codes = window.state.points.codes
    nearest = np.argsort(((codes - window.state.cursor.code) ** 2).sum(axis=1), kind="stable")
    k = len(first)
    qtbot.waitUntil(lambda: window.neighbours.indices is not None and
                    set(window.neighbours.indices) == set(nearest[:k]), timeout=10_000)
    assert set(window.neighbours.indices) != set(first)
