"""The examples run end to end (without a window): the lecture's autoencoder and the colour VAE."""

import subprocess
import sys

import numpy as np
from PIL import Image

from tests.conftest import REPO


def run_example(name, *args):
    done = subprocess.run([sys.executable, str(REPO / "examples" / name), "--no-window", *map(str, args)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_lecture_notebook_as_a_script(data_dir, tmp_path):
    out = run_example("lecture_autoencoder.py", "--data-dir", data_dir, "--epochs", 1, "--train-images", 512,
                      "--out", tmp_path)
    assert "2-d latent, grey 28x28 images, decoder outputs probabilities" in out
    with np.load(tmp_path / "codes.npz") as f:
        assert f["z"].shape == (10_000, 2) and np.isfinite(f["z"]).all()
    assert Image.open(tmp_path / "grid.png").size == (12 * 28 * 2, 12 * 28 * 2)


def test_the_colour_vae(tmp_path):
    out = run_example("colour_vae.py", "--images", 256, "--epochs", 1, "--out", tmp_path)
    assert "a VAE), 2-d latent, colour 32x32 images" in out
    with Image.open(tmp_path / "grid.png") as im:
        assert im.mode == "RGB" and im.size == (640, 640)
    with Image.open(tmp_path / "path.gif") as im:
        assert im.size == (128, 128) and im.n_frames == 30
