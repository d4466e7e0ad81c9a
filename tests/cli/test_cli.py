import errno
import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from explorer.cli import main
from explorer.engine import checkpoint, training
from explorer.engine.training import DEFAULTS
from explorer.utils.numeric import EXIT_ERROR
from tests.conftest import write_idx
from tests.engine.test_checkpoint import MALFORMED, Payload


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
    assert meta["precision"] == ("bfloat16 autocast" if training.use_bf16("vae", torch.device("cpu")) else "float32")


def test_float32_turns_autocast_off_and_is_recorded(small_root, tmp_path, monkeypatch):
    monkeypatch.setattr(training, "use_bf16", lambda kind, device: True)  # as on a CPU with native bf16
    out = tmp_path / "vae.safetensors"
    assert main(["train", "--model", "vae", "--epochs", "1", "--batch-size", "64", "--data-dir", str(small_root),
                 "--float32", "--out", str(out)]) == 0
    assert checkpoint.load(out).meta["precision"] == "float32"


def test_widths_and_activation_shape_the_saved_model(small_root, tmp_path):
    out = tmp_path / "vae.safetensors"
    assert main(["train", "--model", "vae", "--latent-dim", "3", "--widths", "48", "--decoder-widths", "8", "40",
                 "--activation", "silu", "--epochs", "1", "--batch-size", "64", "--data-dir", str(small_root),
                 "--out", str(out)]) == 0
    model = checkpoint.load(out).model
    assert (model.config.widths, model.config.decoder_widths, model.config.activation) == ((48,), (8, 40), "silu")
    assert [m.out_features for m in model.decoder.net if isinstance(m, torch.nn.Linear)] == [8, 40, 784]


def test_a_wae_anchored_gan_with_an_averaged_generator_trains_from_the_command_line(small_root, tmp_path, capsys):
    out = tmp_path / "gan.safetensors"
    assert main(["train", "--model", "gan", "--anchor", "10", "--mmd", "100", "--average", "0.9", "--epochs", "1",
                 "--data-dir", str(small_root), "--out", str(out)]) == 0
    config = checkpoint.load(out).model.config
    assert (config.anchor, config.mmd, config.average) == (10.0, 100.0, 0.9)
    assert main(["train", "--model", "gan", "--mmd", "100", "--epochs", "1", "--data-dir", str(small_root),
                 "--out", str(tmp_path / "refused.safetensors")]) == 2
    assert "needs --anchor above 0" in capsys.readouterr().err


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
    assert result["nll_samples"] == 100 and result["nll"] <= -result["elbo"]


def test_evaluate_states_the_draws_it_took_and_repeats_with_its_seed(trained_vae, small_root, capsys):
    runs = []
    for seed in (3, 3, 4):
        assert main(["evaluate", "--checkpoint", str(trained_vae), "--data-dir", str(small_root),
                     "--samples", "7", "--seed", str(seed)]) == 0
        runs.append(json.loads(capsys.readouterr().out))
    assert [r["nll_samples"] for r in runs] == [7, 7, 7]
    assert runs[0]["nll"] == runs[1]["nll"] != runs[2]["nll"]


def run_cli(argv, capsys):
    """Exit code and stderr lines of `explorer ARGV`, whether it returns or argparse exits."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:  # argparse's own refusals
        code = e.code
    return code, capsys.readouterr().err.splitlines()


def assert_one_clear_line(code, err, says):
    assert code != 0
    assert len(err) == 1 and "Traceback" not in err[0], err
    assert err[0].startswith("explorer") and says in err[0], err


NO = "nowhere"  # a data folder that does not exist
BAD_INPUT = {
    "train": [
        (["--epochs", "-3"], "--epochs"), (["--epochs", "0"], "--epochs"), (["--epochs", "two"], "not a whole number"),
        (["--latent-dim", "0"], "--latent-dim"), (["--latent-dim", "1"], "--latent-dim"),
        (["--latent-dim", "513"], "out of range"), (["--model", "diffusion"], "--model"),
        (["--arch", "transformer"], "--arch"), (["--lr", "nan"], "--lr"), (["--lr", "0"], "--lr"),
        (["--batch-size", "0"], "--batch-size"), (["--beta", "-1"], "--beta"), (["--seed", "-1"], "--seed"),
        (["--device", "tpu"], "--device"), *([(["--device", "cuda"], "no CUDA GPU")] if not torch.cuda.is_available()
                                             else []),
        (["--weights-dtype", "int8"], "--weights-dtype"),
        (["--out", "model.pt"], "must end in .safetensors"), (["--out", "missing/m.safetensors"], "does not exist"),
        (["--out", "FOLDER.safetensors"], "is a folder"), (["--data-dir", NO], "mnist train data not found"),
        (["--out"], "--out: expected one argument"),
        (["--model", "gan", "--jitter"], "jitter is for models that encode real images"),
    ],
    "embed": [
        (["--checkpoint", "missing.safetensors"], "missing.safetensors: cannot read"),
        (["--checkpoint", "CKPT", "--split", "val"], "--split"),
        (["--checkpoint", "CKPT", "--out", "codes.txt"], "must end in .npz or .csv"),
        (["--checkpoint", "CKPT", "--data-dir", NO], "mnist test data not found"),
        (["--checkpoint", "CLASSIFIER"], "this is the digit classifier, not a latent model"),
        (["--checkpoint", "PICKLE"], "refused"),
    ],
    "grid": [
        (["--n", "0"], "--n"), (["--n", "65"], "out of range (1 to 64)"), (["--n", "-2"], "--n"),
        (["--range", "1", "0", "0", "1"], "xmin < xmax"), (["--range", "0", "1", "1", "1"], "ymin < ymax"),
        (["--range", "0", "inf", "0", "1"], "not a finite number"), (["--range", "0", "1"], "--range"),
        (["--axes", "1", "1"], "two different numbers from 1 to 3"), (["--axes", "1", "4"], "from 1 to 3"),
        (["--axes", "0", "1"], "--axes"), (["--scale", "0"], "--scale"), (["--scale", "17"], "--scale"),
        (["--n", "64", "--scale", "16"], "too large"), (["--label", "3"], "only to a conditional VAE"),
        (["--out", "grid.jpg"], "must end in .png"), (["--out", "missing/g.png"], "does not exist"),
        (["--checkpoint", "missing.safetensors"], "missing.safetensors: cannot read"),
        (["--checkpoint", "PICKLE"], "refused"), (["--checkpoint", "CLASSIFIER"], "not a latent model"),
    ],
    "path": [
        (["--steps", "0"], "--steps"), (["--steps", "100000"], "--steps"), (["--from", "nan", "0"], "--from"),
        (["--to", "1"], "--to"), (["--fps", "0"], "--fps"), (["--fps", "0.001", "--out", "p.gif"], "frames per second"),
        (["--out", "p.bmp"], "must end in .png or .gif"), (["--checkpoint", "missing.safetensors"], "cannot read"),
        (["--checkpoint", "PICKLE"], "refused"),
    ],
    "evaluate": [
        (["--checkpoint", "missing.safetensors"], "missing.safetensors: cannot read"),
        (["--checkpoint", "CLASSIFIER"], "not a latent model"),
        (["--checkpoint", "CKPT", "--classifier", "missing.safetensors"], "missing.safetensors: cannot read"),
        (["--checkpoint", "CKPT", "--classifier", "CKPT"], "this is a VAE, not a digit classifier"),
        (["--checkpoint", "CKPT", "--data-dir", NO], "mnist test data not found"),
        (["--checkpoint", "PICKLE"], "refused"),
    ],
}
# what each subcommand needs so that only the one bad value is wrong
GOOD = {
    "train": ["--epochs", "1", "--out", "m.safetensors"],
    "embed": ["--checkpoint", "CKPT", "--out", "codes.npz"],
    "grid": ["--checkpoint", "CKPT", "--out", "g.png"],
    "path": ["--checkpoint", "CKPT", "--from", "0", "0", "--to", "1", "1", "--out", "p.png"],
    "evaluate": ["--checkpoint", "CKPT"],
}


def options(argv):
    """{"--option": [values]} of an argument list ("-3" is a value)."""
    parsed = {}
    for a in argv:
        if a.startswith("--"):
            parsed[last := a] = []
        else:
            parsed[last].append(a)
    return parsed


def with_bad_value(command, bad):
    """The command's good arguments with the options in `bad` put in their place."""
    given = options(GOOD[command]) | options(bad)
    return [command, *(x for option, values in given.items() for x in (option, *values))]


@pytest.fixture(scope="module")
def classifier_file(tmp_path_factory):
    from explorer.engine.models import Classifier

    return checkpoint.save(tmp_path_factory.mktemp("clf") / "clf.safetensors", Classifier())


@pytest.mark.parametrize("command, bad, says", [(c, b, s) for c, cases in BAD_INPUT.items() for b, s in cases],
                         ids=[f"{c} {' '.join(b)}" for c, cases in BAD_INPUT.items() for b, _ in cases])
def test_bad_input_exits_non_zero_with_one_clear_line(command, bad, says, trained_vae, classifier_file, small_root,
                                                       capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(small_root))
    (tmp_path / "FOLDER.safetensors").mkdir()
    (tmp_path / "pickle.safetensors").write_bytes(pickle.dumps({"w": [1.0]}))
    files = {"CKPT": trained_vae, "CLASSIFIER": classifier_file, "PICKLE": tmp_path / "pickle.safetensors"}
    argv = [files.get(a, a) for a in with_bad_value(command, bad)]
    code, err = run_cli(argv, capsys)
    assert_one_clear_line(code, err, says)
    assert sorted(os.listdir(tmp_path)) == ["FOLDER.safetensors", "pickle.safetensors"]  # nothing written


def test_the_good_values_in_the_bad_input_test_work(trained_vae, small_root, capsys, tmp_path, monkeypatch):
    """Guards the test above: without a bad value every command succeeds, so each refusal there is
    caused by its one bad value."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(small_root))
    for command, quick in (("train", []), ("embed", []), ("grid", ["--n", "2"]), ("path", ["--steps", "2"]),
                           ("evaluate", [])):
        assert main([str(trained_vae) if a == "CKPT" else a for a in with_bad_value(command, quick)]) == 0, command
    assert sorted(os.listdir(tmp_path)) == ["codes.npz", "g.png", "m.safetensors", "p.png"]


@pytest.mark.parametrize("damage", MALFORMED)
def test_a_malformed_checkpoint_is_one_line_naming_the_file(damage, trained_vae, capsys, tmp_path):
    path = tmp_path / "damaged.safetensors"
    path.write_bytes(trained_vae.read_bytes())
    MALFORMED[damage][0](path)
    code, err = run_cli(["grid", "--checkpoint", path, "--out", tmp_path / "g.png"], capsys)
    assert code == EXIT_ERROR
    assert_one_clear_line(code, err, f"explorer: error: {path}: ")
    assert not (tmp_path / "g.png").exists()


@pytest.mark.parametrize("name", ["model.pt", "model.pth", "model.ckpt", "model.safetensors", "model"])
def test_a_pickle_never_runs_through_the_cli(name, capsys, tmp_path):
    sentinel = tmp_path / "pwned"
    path = tmp_path / name
    path.write_bytes(pickle.dumps(Payload(sentinel)))
    code, err = run_cli(["grid", "--checkpoint", path, "--out", tmp_path / "g.png"], capsys)
    assert_one_clear_line(code, err, "refused")
    assert "pickle" in err[0] and not sentinel.exists()


def test_the_same_seed_gives_the_same_model_and_is_recorded(trained_vae, small_root, tmp_path):
    """The trained_vae run again with its seed: identical weights, the seed in the file."""
    again = tmp_path / "again.safetensors"
    assert main(["train", "--model", "vae", "--latent-dim", "3", "--epochs", "2", "--batch-size", "64",
                 "--data-dir", str(small_root), "--seed", "1", "--out", str(again)]) == 0
    first, second = checkpoint.load(trained_vae), checkpoint.load(again)
    assert first.meta["seed"] == second.meta["seed"] == 1
    for name, tensor in first.model.state_dict().items():
        assert torch.equal(tensor, second.model.state_dict()[name]), name


def test_a_diverged_run_saves_its_last_good_epoch_and_says_so(small_root, tmp_path, monkeypatch, capsys):
    from explorer.engine.models import VAE

    real, calls = VAE.losses, {"n": 0}

    def nan_in_epoch_2(self, x, labels=None):
        calls["n"] += 1
        terms = real(self, x, labels)
        return {**terms, "loss": terms["loss"] * float("nan")} if calls["n"] == 10 else terms

    monkeypatch.setattr(VAE, "losses", nan_in_epoch_2)
    out = tmp_path / "vae.safetensors"
    code = main(["train", "--epochs", "3", "--batch-size", "64", "--data-dir", str(small_root), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "loss became non-finite" in err and "epoch 2, step 2" in err and "Traceback" not in err
    saved = checkpoint.load(out)
    assert saved.meta["status"] == "diverged" and saved.meta["epochs"] == 1


def test_a_run_that_diverges_before_any_epoch_leaves_the_old_file(small_root, tmp_path, monkeypatch, capsys):
    from explorer.engine.models import VAE

    monkeypatch.setattr(VAE, "losses", lambda self, x, labels=None: {"loss": torch.tensor(float("nan"),
                                                                                          requires_grad=True)})
    out = tmp_path / "vae.safetensors"
    out.write_bytes(b"an earlier good model")
    code, err = run_cli(["train", "--epochs", "2", "--data-dir", small_root, "--out", out], capsys)
    assert code == EXIT_ERROR and "no epoch completed, nothing saved" in err[-1] and "Traceback" not in "".join(err)
    assert out.read_bytes() == b"an earlier good model"


def test_a_failed_save_after_training_rescues_the_model(small_root, tmp_path, monkeypatch, capsys):
    out_dir, rescue_dir = tmp_path / "out", tmp_path / "rescue"
    out_dir.mkdir(), rescue_dir.mkdir()
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).parent == out_dir:  # the folder became read-only while training ran
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(tempfile, "tempdir", str(rescue_dir))
    code, err = run_cli(["train", "--epochs", "1", "--data-dir", small_root, "--out", out_dir / "vae.safetensors"],
                        capsys)
    assert code == EXIT_ERROR and "Traceback" not in "".join(err)
    assert f"could not write {out_dir / 'vae.safetensors'}: Permission denied" in err[-1]
    [rescued] = rescue_dir.iterdir()
    assert f"the trained model was saved to {rescued} instead" in err[-1]
    assert checkpoint.load(rescued).meta["epochs"] == 1 and os.listdir(out_dir) == []


def test_embed_writes_the_same_codes_as_csv_with_a_header(trained_vae, small_root, tmp_path):
    for out in ("e.csv", "e.npz"):
        assert main(["embed", "--checkpoint", str(trained_vae), "--data-dir", str(small_root),
                     "--out", str(tmp_path / out)]) == 0
    lines = (tmp_path / "e.csv").read_text().splitlines()
    assert lines[0] == "z1,z2,z3,label" and len(lines) == 1 + 256
    table = np.loadtxt(tmp_path / "e.csv", delimiter=",", skiprows=1)
    with np.load(tmp_path / "e.npz") as f:
        assert np.allclose(table[:, :3], f["z"], rtol=1e-6) and np.array_equal(table[:, 3], f["labels"])


@pytest.mark.parametrize("suffix", [".npz", ".csv"])
def test_a_failed_embed_write_keeps_the_old_file(suffix, trained_vae, small_root, tmp_path, monkeypatch, capsys):
    out = tmp_path / f"codes{suffix}"
    out.write_bytes(b"old codes")

    def fail_after_the_bytes(fd):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fsync", fail_after_the_bytes)
    code, err = run_cli(["embed", "--checkpoint", trained_vae, "--data-dir", small_root, "--out", out], capsys)
    assert_one_clear_line(code, err, f"could not write {out}: Input/output error")
    assert out.read_bytes() == b"old codes" and os.listdir(tmp_path) == [out.name]


@pytest.mark.parametrize("argv", [[], ["--data-dir", "DIR"], ["--checkpoint", "vae-2d-mlp", "--data-dir", "DIR"],
                                  ["gui", "--data-dir", "DIR"]])
def test_options_without_a_command_open_the_window_with_them(argv, monkeypatch, tmp_path):
    """The README's `scripts/run --data-dir ../shared/data`: the window gets the options (it is not opened here)."""
    from explorer.cli import commands
    from explorer.engine import trained

    opened = []
    monkeypatch.setattr(commands, "cmd_gui", lambda args: opened.append(args) or 0)
    monkeypatch.chdir(tmp_path)  # a shipped model's name works from any folder
    assert main(argv) == 0
    [args] = opened
    assert args.data_dir == ("DIR" if "DIR" in argv else None)
    assert args.checkpoint == (str(trained.trained_dir() / "vae-2d-mlp.safetensors") if "--checkpoint" in argv
                               else None)


def test_help_and_version_still_describe_the_commands(capsys):
    for flag in ("--help", "--version"):
        with pytest.raises(SystemExit) as e:
            main([flag])
        assert e.value.code == 0
    out = capsys.readouterr().out
    assert "train" in out and "download" in out and "explorer 0." in out


def link(kind, target, at):
    (os.symlink if kind == "symlink" else os.link)(target, at)
    return at


@pytest.mark.parametrize("command, out", [("embed", "codes.npz"), ("grid", "g.png"), ("path", "p.gif")])
@pytest.mark.parametrize("kind", ["symlink", "hard link"])
def test_an_output_that_is_the_input_checkpoint_is_refused_before_anything_is_written(command, out, kind, trained_vae,
                                                                                       tmp_path, capsys, monkeypatch):
    model = tmp_path / "model.safetensors"
    model.write_bytes(trained_vae.read_bytes())
    link(kind, model, tmp_path / out)
    monkeypatch.chdir(tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    argv = with_bad_value(command, ["--checkpoint", "./sub/../model.safetensors", "--out", out])
    (tmp_path / "sub").mkdir()
    code, err = run_cli(argv, capsys)
    assert_one_clear_line(code, err, f"cannot write {out}: it is ./sub/../model.safetensors, an input of this command")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name != "sub"} == before


def test_counts_of_one_are_singular(small_root, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert main(["train", "--epochs", "1", "--data-dir", str(small_root), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "512 mnist images, 1 epoch;" in err and f"saved {out} (finished, 1 epoch, " in err
    assert "1 epochs" not in err and ", 1 epoch" in checkpoint.load(out).describe()


@pytest.mark.parametrize("train_count, test_count, says", [(1, 5, "train split has 1 image; training needs at least 2"),
                                                           (5, 0, "test split has 0 images; the map needs"),
                                                           (5, 5, "batch size 64 is more than the 5 training")])
def test_splits_too_small_are_refused_before_training(train_count, test_count, says, small_root, tmp_path, capsys):
    from explorer.data.datasets import load_split

    root = tmp_path / "data"
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, split, n in (("train", "train", train_count), ("t10k", "test", test_count)):
        full = load_split("mnist", split, small_root)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", full.images[:n].numpy(), 0x803)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", full.labels[:n].numpy(), 0x801)
    code, err = run_cli(["train", "--batch-size", "64", "--data-dir", root, "--out", tmp_path / "m.safetensors"],
                        capsys)
    assert_one_clear_line(code, err, says)
    assert not (tmp_path / "m.safetensors").exists()


def test_a_run_that_fails_midway_saves_its_last_complete_epoch(small_root, tmp_path, monkeypatch, capsys):
    """Out of memory even on the CPU, a failing kernel: an error in epoch 2 still leaves epoch 1 saved."""
    from explorer.engine.models import VAE
    from explorer.utils.errors import ExplorerError

    real, calls = VAE.losses, {"n": 0}

    def fails_in_epoch_2(self, x, labels=None):
        calls["n"] += 1
        if calls["n"] == 10:  # 8 steps of 64 per epoch
            raise ExplorerError("out of memory even at batch size 64 on the CPU; close other programs and try again")
        return real(self, x, labels)

    monkeypatch.setattr(VAE, "losses", fails_in_epoch_2)
    out = tmp_path / "vae.safetensors"
    code = main(["train", "--epochs", "3", "--batch-size", "64", "--data-dir", str(small_root), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "training stopped: out of memory even at batch size 64" in err, err
    assert "kept the weights of epoch 1" in err and f"saved {out} (failed, 1 epoch" in err
    saved = checkpoint.load(out)
    assert saved.meta["status"] == "failed" and saved.meta["epochs"] == 1
