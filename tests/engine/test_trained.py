"""The shipped checkpoints: each is the file that was recorded, and each opens through the safe loader."""

import hashlib
import re
from pathlib import Path

import pytest

from explorer.engine import checkpoint, trained
from explorer.latent import metrics


def test_every_shipped_file_matches_its_recorded_sha256():
    assert trained.check_sums() == []
    # the two the app opens by itself must be among them
    assert {f"{trained.DEFAULT_MODEL}.safetensors", f"{trained.CLASSIFIER}.safetensors"} <= set(trained.recorded_sums())


def test_every_shipped_file_loads_through_the_safe_path():
    names = sorted(trained.recorded_sums())
    assert names, "SHA256SUMS lists no files"
    for name in names:
        path = trained.trained_dir() / name
        is_classifier = path.stem == trained.CLASSIFIER
        ckpt = checkpoint.load(path, expect="classifier" if is_classifier else "latent")
        assert ckpt.meta["dataset"] == "mnist"
        if not is_classifier:
            assert ckpt.stats is not None and ckpt.describe().startswith(ckpt.model.config.describe())
    assert trained.default_checkpoint() == trained.trained_dir() / "vae-2d-mlp.safetensors"
    assert trained.shipped()[0] == trained.default_checkpoint()


@pytest.mark.parametrize("name", ["vae-2d-mlp", "ae-2d-mlp", "vae-16d-mlp", "cvae-2d-mlp", "gan-2d-mlp"])
def test_every_shipped_model_carries_its_training_timeline(name):
    ckpt = checkpoint.load(trained.trained_dir() / f"{name}.safetensors")
    assert ckpt.timeline is not None and ckpt.timeline.epochs == ckpt.meta["epochs"]
    first, last = ckpt.timeline.after(1), ckpt.timeline.after(ckpt.timeline.epochs)
    assert first.shape == last.shape == (len(ckpt.timeline.index), ckpt.model.latent_dim)
    assert not (first == last).all()  # the map moved while it trained


@pytest.fixture
def fake_trained(tmp_path, monkeypatch):
    """A trained/ folder of two small files with a correct SHA256SUMS."""
    monkeypatch.setenv("EXPLORER_TRAINED_DIR", str(tmp_path))
    lines = []
    for name in ("a.safetensors", "b.safetensors"):
        (tmp_path / name).write_bytes(name.encode() * 100)
        lines.append(f"{hashlib.sha256((tmp_path / name).read_bytes()).hexdigest()}  {name}")
    (tmp_path / trained.SUMS_FILE).write_text("\n".join(lines) + "\n")
    assert trained.check_sums() == []
    return tmp_path


@pytest.mark.parametrize("change, problem", [
    (lambda d: (d / "a.safetensors").write_bytes(b"x" + (d / "a.safetensors").read_bytes()[1:]), "a.safetensors: SHA"),
    (lambda d: (d / "b.safetensors").unlink(), "b.safetensors: listed in SHA256SUMS but missing"),
    (lambda d: (d / "c.safetensors").write_bytes(b"new"), "c.safetensors: not listed"),
    (lambda d: (d / trained.SUMS_FILE).unlink(), "SHA256SUMS is missing"),
])
def test_the_check_catches_an_altered_missing_or_unlisted_file(fake_trained, change, problem):
    change(fake_trained)
    [found] = trained.check_sums()
    assert problem in found and str(fake_trained) in found


# figure -> (README column, allowed difference: absolute, or relative when the margin is a string "x%")
MARGINS = {"recon_mse": (2, "1%"), "elbo": (3, 0.5), "knn5_accuracy": (4, 0.01), "decodability": (5, 0.01),
           "frechet_distance": (6, "2%")}


def readme_figures() -> dict[str, list[str]]:
    """The shipped-models table in the README: file name -> its cells after the name."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rows = re.findall(r"^\| `([\w-]+)` \|(.*)\|$", readme, flags=re.M)
    return {name: [cell.strip() for cell in cells.split("|")] for name, cells in rows}


@pytest.mark.parametrize("name", ["vae-2d-mlp", "ae-2d-mlp", "vae-16d-mlp", "cvae-2d-mlp", "gan-2d-mlp"])
def test_evaluate_gives_the_figures_the_readme_records(name, mnist_test, mnist_train):
    row = readme_figures()[name]
    ckpt = checkpoint.load(trained.trained_dir() / f"{name}.safetensors")
    got = metrics.evaluate(ckpt, mnist_test, mnist_train, checkpoint.load(trained.classifier_path()).model,
                           nll_samples=0)  # the NLL has its own test below, on fewer images
    checked = 0
    for figure, (column, margin) in MARGINS.items():
        recorded = row[column - 1]
        if not recorded:
            assert figure not in got, f"{name}: the README records no {figure}"
            continue
        value = -got[figure] if figure == "elbo" else got[figure]  # the README shows the -ELBO
        allowed = abs(float(recorded)) * float(margin[:-1]) / 100 if isinstance(margin, str) else margin
        assert abs(value - float(recorded)) <= allowed, f"{name} {figure}: {value:.4f}, README says {recorded}"
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("name", ["vae-2d-mlp", "vae-16d-mlp", "cvae-2d-mlp"])
def test_the_importance_sampled_nll_of_each_shipped_vae_is_below_its_elbo(name, mnist_test):
    from explorer.data.datasets import Split

    some = Split(mnist_test.images[:300], mnist_test.labels[:300], "mnist", "test", mnist_test.classes)
    model = checkpoint.load(trained.trained_dir() / f"{name}.safetensors").model
    neg_elbo = -metrics.elbo(model, some)["elbo"]
    nll = metrics.importance_nll(model, some, 20)["nll"]
    assert neg_elbo - 15 < nll < neg_elbo  # a 2- or 16-d posterior is close to, not far from, the truth


def test_the_shipped_gan_draws_every_digit_clearly_over_its_prior():
    """The lecture's GAN part: the 12x12 grid over +-2 sigma is clean digits (the classifier sure of at
    least 95% of the cells), and all ten of them (issue 12; the README gives the measured share)."""
    gan = checkpoint.load(trained.trained_dir() / "gan-2d-mlp.safetensors").model
    grid = metrics.prior_grid(gan, checkpoint.load(trained.classifier_path()).model)
    assert grid["prior_grid_digits"] == list(range(10))
    assert grid["prior_grid_clean"] >= 0.95
