"""`--model-code`, `--weights` and `--data` on the command line: the user's own model and images."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from explorer.cli import main
from explorer.data.datasets import load_split
from explorer.engine import checkpoint, coding
from tests.cli.test_cli import assert_one_clear_line, run_cli

MODEL_CODE = '''
import torch
from torch import nn

class Autoencoder(nn.Module):  # the lecture's 784-512-2
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 2))
        self.decoder = nn.Sequential(nn.Linear(2, 512), nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid())

def pair():
    model = Autoencoder()
    return model.encoder, model.decoder

class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3, 32 * 32 * 3), nn.Tanh())
    def forward(self, z):
        return self.net(z).reshape(-1, 3, 32, 32)

def broken():
    raise ValueError("no weights here")
'''


@pytest.fixture(scope="module")
def code(tmp_path_factory):
    folder = tmp_path_factory.mktemp("code")
    (folder / "mine.py").write_text(MODEL_CODE)
    namespace = {}
    exec(compile(MODEL_CODE, "mine.py", "exec"), namespace)
    torch.manual_seed(3)
    model = namespace["Autoencoder"]()
    save_file(model.state_dict(), folder / "ae.safetensors")
    return folder, model


def test_embed_grid_path_and_evaluate_a_model_from_code(code, small_root, tmp_path, capsys):
    folder, model = code
    source = ["--model-code", f"{folder / 'mine.py'}:Autoencoder", "--weights", str(folder / "ae.safetensors"),
              "--data-dir", str(small_root)]
    assert main(["embed", *source, "--out", str(tmp_path / "e.npz")]) == 0
    test = load_split("mnist", "test", small_root)
    with np.load(tmp_path / "e.npz") as f, torch.no_grad():
        assert np.allclose(f["z"], model.encoder(coding.to_input(test.images)).numpy(), atol=1e-5)
        assert np.array_equal(f["labels"], test.labels.numpy())
    assert main(["grid", *source, "--n", "4", "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size == (112, 112)
    assert main(["path", *source, "--from", "0", "0", "--to", "1", "1", "--steps", "3", "--out",
                 str(tmp_path / "p.gif")]) == 0
    capsys.readouterr()
    assert main(["evaluate", *source]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "ae" and result["latent_dim"] == 2 and result["decoder_output"] == "probabilities"
    assert 0 < result["recon_mse"] < 1 and 0 <= result["knn5_accuracy"] <= 1


def test_a_function_returning_an_encoder_decoder_pair_and_a_generator_alone(code, small_root, tmp_path):
    folder, _ = code
    assert main(["embed", "--model-code", f"{folder / 'mine.py'}:pair", "--data-dir", str(small_root),
                 "--out", str(tmp_path / "e.csv")]) == 0
    assert main(["grid", "--model-code", f"{folder / 'mine.py'}:Generator", "--latent-dim", "3", "--n", "2",
                 "--data-dir", str(tmp_path / "no-data-here"), "--out", str(tmp_path / "g.png")]) == 0
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "RGB" and im.size == (64, 64)


@pytest.mark.parametrize("argv, says", [
    (["--model-code", "{folder}/mine.py:Nope"], "defines no class or function 'Nope' (its nn.Module classes: "
                                                "Autoencoder, Generator)"),
    (["--model-code", "{folder}/mine.py"], "expected FILE.py:NAME"),
    (["--model-code", "{folder}/missing.py:Autoencoder"], "not found"),
    (["--model-code", "{folder}/mine.py:broken"], "broken() raised ValueError: no weights here"),
    (["--model-code", "{folder}/mine.py:Autoencoder", "--weights", "{folder}/ae.pth"], "refused: .pth files are "
                                                                                       "Python pickles"),
    (["--model-code", "{folder}/mine.py:Generator", "--weights", "{folder}/ae.safetensors"], "does not fit the model"),
    (["--model-code", "{folder}/mine.py:Generator"], "neither encode()/decode() methods nor encoder/decoder"),
    (["--checkpoint", "x.safetensors", "--model-code", "{folder}/mine.py:Autoencoder"], "not allowed with"),
], ids=["unknown name", "no name", "no file", "raises", "pickle weights", "wrong weights", "generator without "
        "--latent-dim", "both sources"])
def test_mistakes_with_model_code_get_one_line(code, small_root, tmp_path, capsys, argv, says):
    folder, _ = code
    argv = [a.format(folder=folder) for a in argv]
    result = run_cli(["grid", *argv, "--data-dir", small_root, "--out", tmp_path / "g.png"], capsys)
    assert_one_clear_line(*result, says)
    assert not (tmp_path / "g.png").exists()


def test_an_import_error_in_the_users_file_is_one_line(tmp_path, small_root, capsys):
    (tmp_path / "bad.py").write_text("import not_a_module_anywhere\n")
    result = run_cli(["grid", "--model-code", f"{tmp_path / 'bad.py'}:X", "--data-dir", small_root,
                      "--out", tmp_path / "g.png"], capsys)
    assert_one_clear_line(*result, "bad.py: importing it raised ModuleNotFoundError")


def test_train_our_conv_model_on_a_colour_npz_then_grid_it(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (64, 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "tiny.npz", images=images, labels=rng.integers(0, 3, 64))
    out = tmp_path / "rgb.safetensors"
    assert main(["train", "--model", "vae", "--arch", "conv", "--epochs", "1", "--batch-size", "32",
                 "--data", str(tmp_path / "tiny.npz"), "--out", str(out)]) == 0
    ckpt = checkpoint.load(out)
    assert ckpt.model.image_shape == (3, 32, 32) and ckpt.meta["dataset"] == "tiny.npz"
    assert ckpt.meta["train_images"] == 64 and ckpt.stats is not None
    assert main(["grid", "--checkpoint", str(out), "--n", "3", "--out", str(tmp_path / "g.png")]) == 0
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "RGB" and im.size == (96, 96)
    assert main(["embed", "--checkpoint", str(out), "--data", str(tmp_path / "tiny.npz"),
                 "--out", str(tmp_path / "e.npz")]) == 0
    with np.load(tmp_path / "e.npz") as f:
        assert f["z"].shape == (64, 2)


def test_a_model_trained_on_a_file_asks_for_its_data(tmp_path, capsys):
    np.savez(tmp_path / "t.npz", images=np.zeros((8, 8, 8), np.uint8))
    out = tmp_path / "m.safetensors"
    assert main(["train", "--model", "ae", "--epochs", "1", "--data", str(tmp_path / "t.npz"), "--out", str(out)]) == 0
    capsys.readouterr()
    result = run_cli(["embed", "--checkpoint", out, "--out", tmp_path / "e.npz"], capsys)
    assert_one_clear_line(*result, f"this model was trained on your images t.npz ({tmp_path / 't.npz'}); "
                                   f"pass --data {tmp_path / 't.npz'}")


@pytest.mark.parametrize("model, who", [(["cvae"], "a conditional VAE"), (["gan", "--confident", "5"], "--confident")])
def test_models_that_learn_from_labels_need_labelled_data(tmp_path, capsys, model, who):
    np.savez(tmp_path / "t.npz", images=np.zeros((8, 8, 8), np.uint8))
    result = run_cli(["train", "--model", *model, "--data", tmp_path / "t.npz", "--out", tmp_path / "m.safetensors"],
                     capsys)
    assert_one_clear_line(*result, f"{who} needs labelled images")
    assert not (tmp_path / "m.safetensors").exists()


def test_a_confident_gan_names_the_classes_of_the_users_data(tmp_path):
    images = np.zeros((12, 8, 8), np.uint8)
    for i in range(12):
        images[i, i % 3 * 2 : i % 3 * 2 + 3] = 255  # three classes: a bar at three heights
    np.savez(tmp_path / "t.npz", images=images, labels=np.arange(12) % 3, classes=np.array(["a", "b", "c"]))
    out = tmp_path / "m.safetensors"
    assert main(["train", "--model", "gan", "--confident", "5", "--epochs", "1", "--batch-size", "4",
                 "--data", str(tmp_path / "t.npz"), "--out", str(out)]) == 0
    gan = checkpoint.load(out).model
    assert gan.config.num_classes == 3 and gan.namer[-1].out_features == 3


def test_gui_hands_the_loaded_model_and_data_to_the_window(code, small_root, monkeypatch):
    import explorer.gui.app

    folder, _ = code
    handed = {}

    def run(checkpoint=None, data_dir=None, model=None, data=None):
        handed.update(model=model, data=data)
        return 0

    monkeypatch.setattr(explorer.gui.app, "run", run)
    assert main(["gui", "--model-code", f"{folder / 'mine.py'}:Autoencoder", "--data-dir", str(small_root)]) == 0
    assert handed["model"].latent_dim == 2 and handed["model"].kind == "ae" and len(handed["data"]) == 256


def test_gui_hands_data_alone_to_the_window_with_a_checkpoint(tmp_path, monkeypatch):
    import explorer.gui.app

    np.savez(tmp_path / "t.npz", images=np.zeros((5, 28, 28), np.uint8))
    handed = {}
    monkeypatch.setattr(explorer.gui.app, "run", lambda checkpoint=None, data_dir=None, model=None, data=None:
                        handed.update(checkpoint=checkpoint, model=model, data=data) or 0)
    assert main(["gui", "--checkpoint", "x.safetensors", "--data", str(tmp_path / "t.npz")]) == 0
    assert handed["checkpoint"] == "x.safetensors" and handed["model"] is None and len(handed["data"]) == 5


FAULTY_CODE = '''
import os, pathlib, sys, time
from torch import nn

class Faulty(nn.Module):
    """Answers its first call of each method (the probe) well, then misbehaves in `method` as `fault` says."""
    method, fault = "decode", "raise"

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 2))
        self.decoder = nn.Sequential(nn.Linear(2, 784), nn.Sigmoid())
        self.calls = {"encode": 0, "decode": 0}

    def encode(self, x):
        return self._answer("encode", self.encoder, x)

    def decode(self, z):
        return self._answer("decode", self.decoder, z)

    def _answer(self, method, net, x):
        self.calls[method] += 1
        if method != self.method or self.calls[method] == 1:
            return net(x)
        if self.fault == "raise":
            raise ValueError("their decoder broke")
        if self.fault == "exit":
            sys.exit(5)
        if self.fault == "interrupt":
            raise KeyboardInterrupt
        if self.fault == "tuple":
            return net(x), net(x)
        if self.fault == "nan":
            return net(x) * float("nan")
        pathlib.Path(os.environ["HANG_MARKER"]).touch()  # "hang"
        while True:
            time.sleep(1)

''' + "".join(f"class {m}_{f}(Faulty):\n    method, fault = {m!r}, {f!r}\n\n"
              for m in ("encode", "decode") for f in ("raise", "exit", "interrupt", "tuple", "nan", "hang"))


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    path = tmp_path_factory.mktemp("faulty") / "faulty.py"
    path.write_text(FAULTY_CODE)
    return path


@pytest.mark.parametrize("command, name, says", [
    (["grid", "--n", "2", "--out", "{tmp}/g.png"], "decode_raise", "decode_raise's decoder failed on codes of shape "
                                                                   "(4, 2): ValueError: their decoder broke"),
    (["path", "--from", "0", "0", "--to", "1", "1", "--out", "{tmp}/p.png"], "decode_tuple",
     "decode_tuple's decoder returned a tuple"),
    (["evaluate"], "decode_exit", "decode_exit's decoder failed on codes of shape"),
    (["embed", "--out", "{tmp}/e.npz"], "encode_nan", "encode_nan's encoder returned NaN or infinite codes"),
    (["embed", "--out", "{tmp}/e.csv"], "encode_interrupt",
     "encoder failed on images of shape (256, 1, 28, 28): KeyboardInterrupt"),
    (["grid", "--out", "{tmp}/g.png"], "decode_interrupt", "KeyboardInterrupt"),
], ids=["grid raises", "path tuple", "evaluate SystemExit", "embed NaN", "embed KeyboardInterrupt",
        "grid KeyboardInterrupt"])
def test_a_model_failing_after_its_probe_is_one_line_naming_it_and_writes_nothing(faulty, small_root, tmp_path,
                                                                                  capsys, command, name, says):
    argv = [a.format(tmp=tmp_path) for a in command] + ["--model-code", f"{faulty}:{name}", "--data-dir", small_root]
    code, err = run_cli(argv, capsys)
    assert code == 2, err  # its error (KeyboardInterrupt included), not an interrupted command (130)
    assert err[0].startswith(f"{name}: your model") and len(err) == 2, err  # the probe's description, then the error
    assert err[1].startswith("explorer: error: ") and says in err[1], err
    assert "(an error in your model's code)" in err[1] or "returned" in err[1]
    assert "Traceback" not in "\n".join(err) and "please report" not in err[1]
    assert list(tmp_path.iterdir()) == []
    if "failed" in says or "raised" in says:
        assert err[1].endswith("; --debug shows its traceback")
        code, err = run_cli([*argv, "--debug"], capsys)
        shown = "\n".join(err)
        assert code == 2 and "Traceback (most recent call last)" in shown and "in _answer" in shown
        assert "faulty.py" in shown and "guard.py" not in shown


@pytest.mark.parametrize("command", [["timeline", "--out", "{tmp}/t.gif"],
                                     ["embed", "--epoch", "1", "--out", "{tmp}/e.npz"]])
def test_the_timeline_of_a_users_model_is_one_line(faulty, small_root, tmp_path, capsys, command):
    argv = [a.format(tmp=tmp_path) for a in command]
    result = run_cli([*argv, "--model-code", f"{faulty}:decode_raise", "--data-dir", small_root], capsys)
    assert_one_clear_line(*result, "your own model has none (use --checkpoint)")
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_stops_the_command_while_the_users_decoder_hangs(faulty, small_root, tmp_path):
    """A real Ctrl-C reaches the command, not their code: it stops at once with the usual line."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    marker = tmp_path / "hanging"
    repo = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "grid", "--model-code", f"{faulty}:decode_hang",
                             "--data-dir", str(small_root), "--out", str(tmp_path / "g.png")],
                            env=dict(os.environ, HANG_MARKER=str(marker), PYTHONPATH=str(repo)), cwd=repo,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), proc.stderr.read() if proc.poll() is not None else "never reached the decoder"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130 and err.splitlines()[-1] == "explorer: interrupted", err
    assert "Traceback" not in err and not (tmp_path / "g.png").exists()
