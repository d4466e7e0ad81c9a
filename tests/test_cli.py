import json

import numpy as np
import pytest
from PIL import Image

from explorer import checkpoint
from explorer.cli import main
from explorer.training import DEFAULTS


@pytest.fixture(scope="module")
def trained_vae(small_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "vae.safetensors"
    assert main(["train", "--model", "vae", "--latent-dim", "3", "--epochs", "2", "--batch-size", "64",
                 "--data-dir", str(small_root), "--seed", "1", "--out", str(out)]) == 0
    return out


def test_train_records_what_the_model_saw(trained_vae, small_root):
    meta = checkpoint.load(trained_vae).meta
    assert meta["dataset"] == "mnist" and meta["train_images"] == 512 and meta["epochs"] == 2
    assert meta["seed"] == 1 and meta["status"] == "finished" and set(meta["final_losses"]) == {"loss", "recon", "kl"}
    assert meta["lr"] == DEFAULTS["vae"][1] and meta["batch_size"] == 64
    assert len(meta["train_images_sha256"]) == 64


def test_embed_writes_codes_and_labels(trained_vae, small_root, tmp_path):
    out = tmp_path / "e.npz"
    assert main(["embed", "--checkpoint", str(trained_vae), "--data-dir", str(small_root), "--out", str(out)]) == 0
    with np.load(out) as f:
        assert f["z"].shape == (256, 3) and f["z"].dtype == np.float32 and f["labels"].shape == (256,)


def test_grid_and_path_images(trained_vae, tmp_path):
    assert main(["grid", "--checkpoint", str(trained_vae), "--n", "5", "--range", "-2", "2", "-2", "2",
                 "--out", str(tmp_path / "g.png")]) == 0
    assert Image.open(tmp_path / "g.png").size == (140, 140)
    assert main(["path", "--checkpoint", str(trained_vae), "--from", "-1", "0", "--to", "1", "1", "--steps", "7",
                 "--slerp", "--out", str(tmp_path / "p.png")]) == 0
    assert Image.open(tmp_path / "p.png").size == (196, 28)


def test_evaluate_prints_json(trained_vae, small_root, capsys):
    assert main(["evaluate", "--checkpoint", str(trained_vae), "--data-dir", str(small_root)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "vae" and result["elbo"] < 0 and 0 <= result["knn5_accuracy"] <= 1
    assert "Bernoulli" in result["likelihood"]


@pytest.mark.parametrize("argv, says", [
    (["train", "--epochs", "-3", "--out", "x.safetensors"], "--epochs"),
    (["train", "--latent-dim", "0", "--out", "x.safetensors"], "--latent-dim"),
    (["train", "--model", "diffusion", "--out", "x.safetensors"], "--model"),
    (["train", "--lr", "nan", "--out", "x.safetensors"], "--lr"),
    (["grid", "--checkpoint", "CKPT", "--n", "0", "--out", "g.png"], "--n"),
    (["grid", "--checkpoint", "CKPT", "--range", "1", "0", "0", "1", "--out", "g.png"], "xmin < xmax"),
    (["path", "--checkpoint", "CKPT", "--from", "0", "0", "--to", "1", "1", "--steps", "100000", "--out", "p.png"],
     "--steps"),
    (["grid", "--checkpoint", "missing.safetensors", "--out", "g.png"], "missing.safetensors"),
    (["grid", "--checkpoint", "CKPT", "--out", "g.jpg"], ".png"),
    (["embed", "--checkpoint", "CKPT", "--split", "val", "--out", "e.npz"], "--split"),
])
def test_bad_input_exits_non_zero_with_one_line(argv, says, trained_vae, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = [str(trained_vae) if a == "CKPT" else a for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    err = capsys.readouterr().err
    assert code != 0
    assert err.count("\n") == 1 and says in err and "Traceback" not in err
