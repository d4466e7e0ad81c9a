"""explorer.view(): the window on a script's own model, driven as a notebook would."""

import sys
import types

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

import explorer
from explorer.utils.errors import ExplorerError


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

    def make(*args, wait=True, **kwargs):
        ex = explorer.view(*args, **kwargs)
        opened.append(ex)
        if wait:
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
    monkeypatch.setattr("explorer.gui.display._application_exists", lambda: False)  # a kernel's first view()
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ExplorerError, match="no display"):
        explorer.view(Autoencoder(), mnist_test.images[:10])


def test_the_command_lines_model_and_data_open_in_the_window(open_window, gui_models, mnist_test, qtbot):
    """`explorer gui --checkpoint X --data FILE` (or --model-code): the model over the images given."""
    from explorer.data.datasets import Split
    from explorer.engine import checkpoint, coding

    data = Split(images=mnist_test.images[:40], labels=mnist_test.labels[:40], dataset="mine.npz", split="all",
                 classes=mnist_test.classes)
    window = open_window()
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        window.models.open_with_points(str(gui_models / "ae-2d-mlp.safetensors"), data)
    model = checkpoint.load(gui_models / "ae-2d-mlp.safetensors").model
    assert len(window.state.points) == 40
    np.testing.assert_allclose(window.state.points.codes, coding.embed(model, data.images, data.labels), atol=1e-5)


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


class Picky(nn.Module):
    """A user's model whose decoder raises for codes it does not like (z₁ > 5)."""

    def __init__(self, d=2):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, d))
        self.decoder = nn.Sequential(nn.Linear(d, 784), nn.Sigmoid())

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        if (z[:, 0] > 5).any():
            raise ValueError("my decoder refuses z1 > 5")
        return self.decoder(z)


def expected_image(decoder, code):
    with torch.no_grad():
        out = decoder(torch.tensor([code], dtype=torch.float32)).reshape(28, 28).numpy()
    return np.rint(out * 255).astype(np.uint8)


def test_every_setter_is_accepted_at_once_and_applied_in_order_once_the_model_is_open(viewers, mnist_test):
    """The README's snippet: view() returns before the model has opened on its loader thread; what is set
    meanwhile is checked at once, then applied in order when the model is open, and wait() shows it."""
    import threading

    class Slow(Autoencoder):  # its encoder holds the loader until the script has set everything
        opening = threading.Event()

        def encode(self, x):
            if len(x) > 64:  # past the probe view() runs: the loader placing all 200 images
                assert self.opening.wait(30)
            return self.encoder(x)

        def decode(self, z):
            return self.decoder(z)

    model = Slow()
    ex = viewers(model, mnist_test.images[:200], mnist_test.labels[:200], wait=False)
    assert ex.state.session is None and ex.codes is None and ex.positions is None  # still opening
    ex.cursor = (0.5, -1.0)
    ex.selection = [1, 5, 8]
    ex.code = [0.25, 0.75]  # the last of cursor and code wins, as if set one after the other
    with pytest.raises(ExplorerError, match="finite"):
        ex.cursor = (np.nan, 0.0)  # refused at once, not when the model opens
    with pytest.raises(ExplorerError, match="2 finite numbers"):
        ex.code = [1.0, 2.0, 3.0]
    with pytest.raises(ExplorerError, match="0..199"):
        ex.selection = [200]
    assert ex.state.session is None and ex.cursor is None  # nothing applied yet
    Slow.opening.set()
    ex.wait()
    np.testing.assert_array_equal(ex.selection, [1, 5, 8])
    np.testing.assert_allclose(ex.code, [0.25, 0.75])
    assert ex.cursor == pytest.approx((0.25, 0.75))
    np.testing.assert_array_equal(ex.decoded, expected_image(model.decoder, [0.25, 0.75]))


def test_the_codes_and_map_positions_of_the_points_come_back(viewers, mnist_test):
    model = Picky(d=5)
    images = mnist_test.images[:120]
    ex = viewers(model, images, mnist_test.labels[:120])
    with torch.no_grad():
        codes = model.encoder(images.float().div(255).unsqueeze(1)).numpy()
    np.testing.assert_allclose(ex.codes, codes, atol=1e-4)
    np.testing.assert_allclose(ex.positions, ex.state.plane.project(ex.codes), atol=1e-5)
    np.testing.assert_array_equal(ex.labels, mnist_test.labels[:120].numpy())
    with pytest.raises(ValueError):
        ex.codes[0, 0] = 1.0  # read-only: the window's own points cannot be changed behind its back


def test_a_model_above_2d_gives_and_takes_its_full_code(viewers, mnist_test):
    model = Picky(d=5)
    ex = viewers(model, mnist_test.images[:120], mnist_test.labels[:120])
    ex.cursor = (0.1, 0.2)
    ex.wait()
    on_plane = ex.code
    assert on_plane.shape == (5,)
    np.testing.assert_allclose(ex.state.plane.to_latent([[0.1, 0.2]])[0], on_plane, atol=1e-5)
    off = np.array([1.0, -2.0, 0.5, 3.0, -1.5], dtype=np.float32)
    ex.code = off
    ex.wait()
    np.testing.assert_allclose(ex.code, off)
    assert ex.cursor == pytest.approx(ex.state.project(off))  # where it projects onto the map
    np.testing.assert_array_equal(ex.decoded, expected_image(model.decoder, off.tolist()))


def test_events_report_the_cursor_the_decode_and_the_selection(viewers, mnist_test):
    model = Autoencoder()
    ex = viewers(model, mnist_test.images[:100], mnist_test.labels[:100], wait=False)
    heard = {"cursor": [], "code": [], "decoded": [], "selection": []}
    for name, seen in heard.items():
        getattr(ex.events, name).connect(seen.append)
    ex.cursor = (0.3, 0.4)
    ex.selection = [2, 3]
    ex.wait()
    assert heard["cursor"][-1] == pytest.approx((0.3, 0.4))
    np.testing.assert_allclose(heard["code"][-1], [0.3, 0.4], atol=1e-6)
    np.testing.assert_array_equal(heard["decoded"][-1], expected_image(model.decoder, [0.3, 0.4]))
    np.testing.assert_array_equal(heard["selection"][-1], [2, 3])
    ex.events.decoded.disconnect(heard["decoded"].append)
    ex.cursor = (0.0, 0.0)
    ex.wait()
    assert len(heard["decoded"]) == 1


def test_a_failed_decode_reaches_the_script_and_clears_with_the_next_good_one(viewers, mnist_test):
    from PySide6.QtWidgets import QMessageBox

    model = Picky()
    ex = viewers(model, mnist_test.images[:100], mnist_test.labels[:100])
    errors, images = [], []
    ex.events.error.connect(errors.append)
    ex.events.decoded.connect(images.append)
    ex.cursor = (0.5, 0.5)
    ex.wait()
    assert ex.decoded is not None
    ex.cursor = (9.0, 0.0)
    with pytest.raises(ExplorerError, match="my decoder refuses z1 > 5"):
        ex.wait()
    ex.cursor = (9.0, 1.0)  # failing again, as a drag on: no second box
    with pytest.raises(ExplorerError, match="my decoder refuses z1 > 5"):
        ex.wait()
    boxes = [b for b in ex.window.findChildren(QMessageBox) if b.isVisible()]
    assert [b.windowTitle() for b in boxes] == ["Cannot decode"] and "my decoder refuses z1 > 5" in boxes[0].text()
    assert ex.decoded is None  # not the last good image, as if it were this point's
    assert images[-1] is None and "my decoder refuses z1 > 5" in errors[-1]
    view = ex.window.decoded_view
    assert view.decoded.image is None and "my decoder refuses z1 > 5" in view.where.text()
    assert "my decoder refuses" in ex.window.statusBar().currentMessage()
    ex.wait()  # raised once: the failure is not raised again
    ex.cursor = (-0.5, 0.25)
    ex.wait()
    np.testing.assert_array_equal(ex.decoded, expected_image(model.decoder, [-0.5, 0.25]))
    assert "refuses" not in view.where.text() and "refuses" not in ex.window.statusBar().currentMessage()
    assert not [b for b in ex.window.findChildren(QMessageBox) if b.isVisible()]  # the message is over too


def test_a_failures_details_are_a_click_away_in_the_decoded_view_until_the_next_decode(viewers, mnist_test, qtbot):
    """The user's traceback (a message's `details`) is offered beside the failure, not in a box per failure."""
    from PySide6.QtCore import Qt

    class Detailed(str):
        details = 'Traceback (most recent call last):\n  File "my_model.py", line 3, in decode\nValueError: no'

    ex = viewers(Picky(), mnist_test.images[:100], mnist_test.labels[:100])
    view, shown = ex.window.decoded_view, []
    ex.window.feedback.message_shown.connect(lambda title, text: shown.append((title, text)))
    ex.state.show_decode_failed(Detailed("ValueError: no"))
    assert view.details.isVisible() and not shown  # offered, not pushed
    qtbot.mouseClick(view.details, Qt.LeftButton)
    assert shown == [("Cannot decode", "ValueError: no")]
    ex.cursor = (0.1, 0.1)
    ex.wait()
    assert not view.details.isVisible() and view.failure is None
    ex.state.show_decode_failed("a failure without details")
    assert not view.details.isVisible()


def test_a_model_that_fails_to_open_is_raised_by_wait_and_refuses_later_setters(viewers, mnist_test):
    import threading

    class FailsPastTheProbe(Picky):
        opening = threading.Event()

        def encode(self, x):
            if len(x) > 64:  # the loader placing all 200 images, after view()'s probe of 64
                assert self.opening.wait(30)
                raise RuntimeError("my encoder ran out of patience")
            return self.encoder(x)

    ex = viewers(FailsPastTheProbe(), mnist_test.images[:200], mnist_test.labels[:200], wait=False)
    heard = []
    ex.events.error.connect(heard.append)
    ex.cursor = (0.0, 0.0)  # queued: the model is still opening
    FailsPastTheProbe.opening.set()
    with pytest.raises(ExplorerError, match="my encoder ran out of patience"):
        ex.wait()
    assert ex.state.session is None and "my encoder ran out of patience" in heard[-1]
    with pytest.raises(ExplorerError, match="the model is not open: .*my encoder ran out of patience"):
        ex.cursor = (0.5, 0.5)
    ex.wait()  # said once


def test_a_failure_followed_by_a_good_decode_is_not_raised(viewers, mnist_test, qtbot):
    """A drag that crossed a bad region and ended on a good point: wait() reports what is shown now."""
    ex = viewers(Picky(), mnist_test.images[:100], mnist_test.labels[:100])
    with qtbot.waitSignal(ex.events.error, timeout=10_000):
        ex.cursor = (9.0, 0.0)
    ex.cursor = (0.1, 0.1)
    ex.wait()
    assert ex.decoded is not None


def test_screenshot_returns_the_window_or_the_map_and_writes_a_png(viewers, mnist_test, tmp_path):
    from PIL import Image

    ex = viewers(Autoencoder(), mnist_test.images[:100], mnist_test.labels[:100])
    ex.cursor = (0.2, 0.2)
    whole = ex.screenshot(tmp_path / "window.png")
    assert whole.dtype == np.uint8 and whole.shape[2] == 3
    assert whole.shape[:2] == (ex.window.height(), ex.window.width())
    with Image.open(tmp_path / "window.png") as png:
        np.testing.assert_array_equal(np.asarray(png.convert("RGB")), whole)
    assert len(np.unique(whole.reshape(-1, 3), axis=0)) > 20  # drawn, not a blank canvas
    one, two = ex.screenshot(canvas_only=True), ex.screenshot(canvas_only=True, scale=2)
    assert one.shape[1] == ex.window.map.width() and two.shape[:2] == (2 * one.shape[0], 2 * one.shape[1])
    with pytest.raises(ExplorerError, match="scale"):
        ex.screenshot(scale=3)


def test_run_returns_on_a_platform_nobody_sees_once_the_windows_have_shown_what_was_asked(viewers, mnist_test):
    from PySide6.QtWidgets import QApplication

    assert QApplication.instance().platformName() == "offscreen"
    ex = viewers(Autoencoder(), mnist_test.images[:100], mnist_test.labels[:100], wait=False)
    ex.cursor = (0.1, -0.1)
    explorer.run()  # would block in app.exec() with nobody to close the window
    assert ex.decoded is not None and ex.cursor == pytest.approx((0.1, -0.1))


# A script as a student writes it, run in its own interpreter: the model's encoder is slow (or never
# returns), so the loader thread is still running when the script ends.
SCRIPT = """
import sys, threading, time
import torch
from torch import nn
import explorer
from explorer.gui.threads import at_exit
at_exit.EXIT_WAIT_S = 2.0
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc, self.dec = nn.Sequential(nn.Flatten(), nn.Linear(784, 2)), nn.Linear(2, 784)
    def encode(self, x):
        if len(x) > 64:  # past the probe (64 images): the loader embedding all 200
            threading.Event().wait() if sys.argv[1] == "hangs" else time.sleep(1.0)
        return self.enc(x)
    def decode(self, z):
        return torch.sigmoid(self.dec(z))
ex = explorer.view(Model(), torch.rand(200, 28, 28))
ex.cursor = (0.0, 0.0)
if sys.argv[1] == "raises":
    raise RuntimeError("the student's own error")
"""


@pytest.mark.parametrize("scenario, code", [("raises", 1), ("ends", 0), ("hangs", None)])
def test_a_script_that_ends_or_raises_mid_load_exits_as_python_would_never_aborting(scenario, code, tmp_path):
    import os
    import subprocess

    from tests.conftest import REPO

    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, str(script), scenario], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    said = [line for line in done.stderr.splitlines() if line.strip() and "propagateSizeHints" not in line]
    stuck = ["explorer: exiting without waiting for the load thread, still busy after 2 s "
             "(a model that does not answer?)"]
    if code is None:  # a model that never answers: its call abandoned (exit 0), or else its thread named (exit 1)
        code = 1 if said == stuck else 0
    assert done.returncode == code, done.stderr  # not 134 (SIGABRT: "QThread: Destroyed while thread ...")
    assert not any("QThread" in line for line in said), done.stderr
    if scenario == "raises":
        assert said[-1] == "RuntimeError: the student's own error"
    elif scenario == "hangs":
        assert said in ([], stuck)
    else:
        assert said == []


SCRIPT_VALUES = st.one_of(
    st.none(), st.text(max_size=5), st.floats(), st.integers(-10**6, 10**6), st.booleans(),
    st.lists(st.floats(width=32), max_size=6), st.lists(st.integers(-300, 300), max_size=6),
    st.lists(st.booleans(), min_size=0, max_size=120),
    st.lists(st.lists(st.floats(-5, 5), max_size=3), max_size=3))  # ragged or nested


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(what=st.sampled_from(["cursor", "code", "selection"]), value=SCRIPT_VALUES)
def test_anything_a_script_sets_is_applied_or_refused_in_one_sentence_leaving_the_window_as_it_was(
        opened_viewer, what, value):
    ex = opened_viewer
    before = (ex.cursor, None if ex.code is None else ex.code.tolist(), ex.selection.tolist())
    try:
        setattr(ex, what, value)
    except ExplorerError as e:
        assert "\n" not in str(e) and str(e)
        assert (ex.cursor, None if ex.code is None else ex.code.tolist(), ex.selection.tolist()) == before
        return
    ex.wait()
    if what == "cursor" and value is not None:
        assert ex.cursor == pytest.approx(tuple(value))
    elif what == "code":
        np.testing.assert_allclose(ex.code, np.asarray(value, dtype=np.float32))
    elif what == "selection":
        expected = np.flatnonzero(value) if np.asarray(value).dtype == bool else np.unique(np.asarray(value, int))
        np.testing.assert_array_equal(ex.selection, expected)


@pytest.fixture
def opened_viewer(viewers):
    """One viewer on a 3-d model of 120 points, shared by the property test's examples."""
    model = nn.Module()
    torch.manual_seed(0)
    model.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 3))
    model.decoder = nn.Sequential(nn.Linear(3, 784), nn.Sigmoid())
    return viewers(model, torch.rand(120, 28, 28, generator=torch.Generator().manual_seed(0)))


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
