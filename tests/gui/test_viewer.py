"""explorer.view(): the window on a script's own model, driven as a notebook would."""

import sys
import types

import numpy as np
import pytest
import torch
from torch import nn

import explorer
from explorer.errors import ExplorerError
from explorer.gui import viewer


class Autoencoder(nn.Module):
    """The lecture's notebook model: 784 -> 512 -> 2 and back."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 2))
        self.decoder = nn.Sequential(nn.Linear(2, 512), nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


@pytest.fixture
def viewers(qtbot, monkeypatch, gui_models):
    monkeypatch.setenv("EXPLORER_TRAINED_DIR", str(gui_models))
    opened = []

    def make(*args, **kwargs):
        ex = explorer.view(*args, **kwargs)
        opened.append(ex)
        ex.wait(60)
        return ex
    yield make
    for ex in opened:
        ex.close()
    for ex in opened:
        ex.window.deleteLater()


def test_the_lectures_autoencoder_opens_in_one_line_and_a_cursor_decodes_like_a_click(viewers, mnist_test):
    model = Autoencoder().train()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    images, labels = mnist_test.images[:300], mnist_test.labels[:300]
    ex = viewers(model, images, labels)
    assert ex.decoded is None and ex.cursor is None
    codes = model.encoder(images.float().div(255).unsqueeze(1)).detach().numpy()
    np.testing.assert_allclose(ex.state.points.codes, codes, atol=1e-4)  # its own codes, on its own map
    ex.cursor = (0.5, -0.25)
    ex.wait()
    assert ex.cursor == (0.5, -0.25)
    with torch.no_grad():
        expected = model.decoder(torch.tensor([[0.5, -0.25]])).reshape(28, 28).numpy()
    np.testing.assert_array_equal(ex.decoded, np.rint(expected * 255).astype(np.uint8))
    assert model.training  # its mode is given back, and its weights never change
    assert all(torch.equal(v, weights[k]) for k, v in model.state_dict().items())
    ex.selection = [3, 7, 11]
    np.testing.assert_array_equal(ex.selection, [3, 7, 11])


def test_a_decoder_alone_takes_codes_and_another_model_joins_the_list(viewers):
    generator = nn.Sequential(nn.Linear(4, 784), nn.Sigmoid())
    codes = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
    ex = viewers(decoder=generator, codes=codes, labels=["a"] * 25 + ["b"] * 25)
    assert len(ex.state.points) == 50
    ex.add_model(decoder=nn.Sequential(nn.Linear(4, 784), nn.Sigmoid()), name="other")
    ex.wait(30)
    assert "other" in ex.window.models.sessions
    listed = ex.window.model_list
    kinds = {listed.topLevelItem(k).text(0): listed.topLevelItem(k).text(1) for k in range(listed.topLevelItemCount())}
    assert kinds["other"] == "Decoder"  # not "GAN": it may be any model's decoder


def test_bad_arguments_are_one_sentence_and_open_no_window(qtbot):
    from PySide6.QtWidgets import QApplication

    before = len(QApplication.topLevelWidgets())
    with pytest.raises(ExplorerError, match="labels"):
        explorer.view(Autoencoder(), torch.zeros(10, 28, 28, dtype=torch.uint8), labels=list(range(9)))
    assert len(QApplication.topLevelWidgets()) == before


def test_run_returns_at_once_when_no_window_is_open(qtbot):
    explorer.run()  # would block forever in app.exec() otherwise


def test_in_ipython_the_shell_runs_the_event_loop_and_run_does_not_block(viewers, mnist_test, monkeypatch):
    class Shell:
        active_eventloop = None

        def enable_gui(self, gui):
            self.active_eventloop = gui

    shell = Shell()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    ex = viewers(Autoencoder(), mnist_test.images[:100])
    assert shell.active_eventloop == "qt" and ex.window.isVisible()
    explorer.run()  # the shell's loop keeps the window live: returns at once


def test_a_remote_kernel_without_a_display_gets_a_clear_message(monkeypatch, mnist_test):
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ExplorerError, match="no display"):
        explorer.view(Autoencoder(), mnist_test.images[:10])


def test_the_command_lines_model_and_data_open_in_the_window(open_window, gui_models, mnist_test, qtbot):
    """`explorer gui --checkpoint X --data FILE` (or --model-code): the model over the images given."""
    from explorer import checkpoint, latent
    from explorer.data import Split

    data = Split(images=mnist_test.images[:40], labels=mnist_test.labels[:40], dataset="mine.npz", split="all",
                 classes=mnist_test.classes)
    window = open_window()
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        window.models.open_with_points(str(gui_models / "ae-2d-mlp.safetensors"), data)
    model = checkpoint.load(gui_models / "ae-2d-mlp.safetensors").model
    assert len(window.state.points) == 40
    np.testing.assert_allclose(window.state.points.codes, latent.embed(model, data.images, data.labels), atol=1e-5)


def test_a_colour_model_shows_its_colour_decodes_and_thumbnails(viewers, qtbot):
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(3 * 16 * 16, 2))
    decoder = nn.Sequential(nn.Linear(2, 3 * 16 * 16), nn.Sigmoid(), nn.Unflatten(1, (3, 16, 16)))
    images = torch.rand(30, 3, 16, 16, generator=torch.Generator().manual_seed(0))
    ex = viewers(encoder=encoder, decoder=decoder, images=images, labels=torch.arange(30) % 3)
    ex.cursor = (0.1, -0.2)
    ex.wait()
    assert ex.decoded.shape == (16, 16, 3)
    with torch.no_grad():
        expected = decoder(torch.tensor([[0.1, -0.2]]))[0].permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(ex.decoded, np.rint(expected * 255).astype(np.uint8))
    ex.window.grab()  # the decoded view, the neighbours' thumbnails and the map paint colour images
    note = ex.window.map_panel.note.text()
    assert "<b>Sequential</b>: your model" in note and note.count("Sequential") == 1  # named once


def test_points_given_as_codes_are_called_points_never_test_images(viewers, qtbot):
    """Issue 23: the million-point example labelled its decodes "test image #860,491"."""
    generator = nn.Sequential(nn.Linear(2, 784), nn.Sigmoid())
    codes = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    ex = viewers(decoder=generator, codes=codes, labels=["a"] * 25 + ["b"] * 25)
    ex.cursor = tuple(codes[7].tolist())
    ex.wait()
    view = ex.window.decoded_view
    qtbot.waitUntil(lambda: "#" in view.nearest_caption.text(), timeout=5000)
    assert "(point #7)" in view.nearest_caption.text() and "image" not in view.nearest_caption.text()
    assert view.nearest_title.text() == "<b>Nearest point given</b>"
