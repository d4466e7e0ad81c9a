"""`explorer bench` measures, and its figures are never asserted here: these tests check that the
comparisons are fair (same model, reproducible tutorial loop) and that the table and JSON hold
what the README and its users read."""

import json
import os
import subprocess
import sys
from functools import partial

import pytest
import torch

from explorer.bench import harness, quality, run, training
from explorer.cli import main
from explorer.engine.config import ModelConfig, TrainConfig
from explorer.engine.models import build_model

ROW_KEYS = {"key", "figure", "unit", "ours", "reference", "ratio", "target", "passed", "ours_note",
            "reference_note", "note", "extra"}


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_tutorial_loop_trains_the_same_model_from_the_same_start(small_root):
    ours = build_model(ModelConfig(kind="vae"), seed=0)
    loop = training.tutorial_loop(partial(build_model, ModelConfig(kind="vae")), small_root, epochs=1)
    model = next(loop)
    assert type(model) is type(ours) and model.config == ours.config
    assert weights(model).keys() == weights(ours).keys()
    assert any(not torch.equal(a, b) for a, b in zip(weights(model).values(), weights(ours).values()))


def test_tutorial_loop_is_reproducible_when_interleaved_with_other_work(small_root):
    build = partial(build_model, ModelConfig(kind="vae"))
    alone = next(training.tutorial_loop(build, small_root, epochs=1, images=256))
    torch.manual_seed(123)
    loop = training.tutorial_loop(build, small_root, epochs=1, images=256)
    torch.randn(1000)  # another run drawing from the global generator meanwhile
    interleaved = next(loop)
    assert all(torch.equal(a, b) for a, b in zip(weights(alone).values(), weights(interleaved).values()))


def test_training_part_stops_ours_at_the_tutorials_loss(small_root):
    settings = harness.Settings(data_dir=str(small_root), tutorial_epochs=2, log=lambda s: None)
    rows = {r.key: r for r in training.part_train(settings)}
    for kind in ("ae", "vae"):
        epoch, reach, loss = (rows[f"train.{kind}.{k}"] for k in ("epoch_seconds", "time_to_loss", "test_loss"))
        assert epoch.ours > 0 and epoch.reference > 0 and epoch.ratio == pytest.approx(epoch.reference / epoch.ours)
        ours = loss.extra["ours_per_epoch"]
        assert len(epoch.extra["tutorial"]) == 2 and len(epoch.extra["ours"]) == len(ours)
        if reach.ours is None:  # not within the default epochs: no ratio, a missed target
            assert len(ours) == TrainConfig().epochs and min(ours) > loss.reference
            assert "not reached" in reach.ours_note and reach.ratio is None
        else:  # timed to the first epoch at or below the tutorial's loss; stopped once that loss was known
            first = next(i for i, v in enumerate(ours) if v <= loss.reference)
            assert loss.ours == ours[first] and reach.ours_note == f"({first + 1} epochs)"
            assert reach.ours == pytest.approx(sum(epoch.extra["ours"][: first + 1]))
            assert len(ours) == max(first + 1, settings.tutorial_epochs)
            assert reach.extra["total_time_ratio"] == pytest.approx(reach.reference / reach.ours)
            by_medians = 2 * epoch.reference / ((first + 1) * epoch.ours)
            assert reach.ratio == pytest.approx(min(reach.extra["total_time_ratio"], by_medians))
        assert reach.passed is None  # the 5x target applies to the tutorial's 20 epochs only


def test_gpu_part_says_why_it_did_not_measure(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (row,) = training.part_gpu(harness.Settings())
    assert row.ours is None and "no GPU" in row.ours_note


def test_gpu_rows_count_the_floor_from_the_samples_trained(small_root):
    """The GPU part, run on the CPU with tiny sizes: 512 offline images repeated to 1,200."""
    settings = harness.Settings(data_dir=str(small_root), gpu_images=1200, gpu_epochs=2, gpu_peak_n=128,
                              log=lambda s: None)
    rows = {r.key: r for r in training.gpu_rows(torch.device("cpu"), settings)}
    for kind in ("ae", "vae"):
        run, floor, loss = (rows[f"gpu.{kind}.{k}"] for k in ("epochs_seconds", "floor_ratio", "test_loss"))
        assert run.ours > 0 and run.reference > 0 and "512 images repeated to 1,200" in run.note
        assert floor.extra["samples"] == 1200 // 256 * 256 * 2
        assert floor.extra["matmul_weights"] == training.matmul_params(build_model(ModelConfig(kind=kind)))
        assert floor.ours == pytest.approx(run.ours / floor.extra["floor_seconds"])
        assert loss.ours > 0


def test_startup_is_timed_to_each_line_the_gui_prints():
    script = "import time; time.sleep(0.2); print('shown', flush=True); time.sleep(0.3); print('ready', flush=True)"
    seen = harness.time_lines([sys.executable, "-c", script], dict(os.environ), ("shown", "ready"))
    assert 0.2 <= seen["shown"][0] < seen["ready"][0] - 0.25 and seen["ready"][1] > 1
    silent = harness.time_lines([sys.executable, "-c", "import time; time.sleep(30)"], dict(os.environ),
                               ("shown",), timeout=0.5)
    assert silent == {}


def test_floor_counts_every_linear_weight():
    vae = build_model(ModelConfig(kind="vae", latent_dim=2))
    # encoder 784-256-128-(2x2), decoder 2-128-256-784
    assert training.matmul_params(vae) == 784 * 256 + 256 * 128 + 128 * 4 + 2 * 128 + 128 * 256 + 256 * 784


@pytest.fixture(scope="module")
def shipped_dir(small_root, tmp_path_factory):
    """A trained/ folder with one small VAE and a classifier, as `explorer bench` finds them."""
    folder = tmp_path_factory.mktemp("trained")
    for argv in (["--model", "vae", "--epochs", "1", "--out", str(folder / "vae-2d-mlp.safetensors")],
                 ["--model", "classifier", "--epochs", "1", "--out", str(folder / "mnist-classifier.safetensors")]):
        assert main(["train", "--data-dir", str(small_root), "--batch-size", "64", *argv]) == 0
    return folder


def test_json_report_has_the_documented_keys(shipped_dir, small_root, monkeypatch, capsys):
    monkeypatch.setenv("EXPLORER_TRAINED_DIR", str(shipped_dir))
    assert main(["bench", "--json", "--quick", "--only", "decode", "quality", "gpu",
                 "--data-dir", str(small_root)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"cpu", "cores", "torch_threads", "torch", "gpu", "load_average_before"} <= set(report["machine"])
    assert report["command"].startswith("python -m explorer bench --quick --only")
    assert list(report["parts"]) == ["decode", "quality", "gpu"]
    rows = {r["key"]: r for part in report["parts"].values() for r in part["rows"]}
    assert all(set(r) == ROW_KEYS for r in rows.values())
    one = rows["decode.vae-2d-mlp.one_p99"]
    assert 0 < one["extra"]["ours_p50"] <= one["ours"] and one["extra"]["calls"] == 200
    assert rows["decode.vae-2d-mlp.grid_p99"]["ratio"] > 0
    elbo = rows["quality.vae-2d-mlp.elbo"]
    assert elbo["ours"] == pytest.approx(-elbo["extra"]["elbo"]) and elbo["reference"] == quality.KERAS_VAE["loss"]
    assert 0 <= rows["quality.vae-2d-mlp.decodability"]["ours"] <= 1
    assert 0 <= rows["quality.vae-2d-mlp.knn5"]["ours"] <= 1


def test_a_gans_quality_rows_say_how_clean_its_prior_grid_is_and_which_digits_it_draws():
    r = {"kind": "gan", "frechet_distance": 50.1, "prior_grid_clean": 0.98, "prior_grid_digits": [0, 1, 3, 7]}
    rows = {row.key: row for row in quality.quality_rows("g", r, {"train_images": 100, "epochs": 3})}
    grid = rows["quality.g.prior_grid"]
    assert grid.ours == 0.98 and grid.extra == {"digits": [0, 1, 3, 7]} and grid.ours_note == "(4 digits: 0 1 3 7)"
    vae = quality.quality_rows("v", {"kind": "vae", "decodability": 0.9, "decodability_grid": {}}, {})
    assert [row.key for row in vae] == ["quality.v.decodability"]  # no prior grid for a model that encodes


def test_markdown_table_shows_each_row_beside_its_reference():
    report = {"machine": harness.machine() | {"load_average_after": 0.5}, "seconds": 3.0, "command": "explorer bench",
              "parts": {"x": {"title": "Title", "rows": [
                  harness.asdict(harness.Row("x.a", "AE: time", "s", 0.5, 5.0, 10.0, "≥ 5× faster", True, "(3 epochs)",
                                         note="how it was measured")),
                  harness.asdict(harness.Row("x.b", "GPU", "s", ours_note="not measured: no GPU")),
              ]}}}
    text = harness.markdown(report)
    assert "| AE: time [1] | 0.5 s (3 epochs) | 5 s | 10.0× | ≥ 5× faster | yes |" in text
    assert "| GPU | not measured: no GPU | — |  |  |  |" in text
    assert "- [1] how it was measured" in text and "Command: `explorer bench`" in text


def test_unknown_part_is_a_one_line_error(capsys):
    assert main(["bench", "--only", "nonsense"]) == 2
    assert "unknown bench part nonsense" in capsys.readouterr().err


def test_missing_data_is_an_error_and_never_a_download(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("EXPLORER_NO_DOWNLOAD", raising=False)  # even where downloads are allowed
    assert main(["bench", "--only", "train", "--data-dir", str(tmp_path)]) == 2
    (error,) = [line for line in capsys.readouterr().err.splitlines() if line.startswith("explorer: error:")]
    assert "never downloads" in error and str(tmp_path) in error
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("kind, d", [("vae", 20), ("ae", 2), ("cvae", 5)])
def test_reference_net_is_the_pytorch_examples_mlp(kind, d):
    from explorer.bench.reference import ReferenceNet

    net = ReferenceNet(ModelConfig(kind=kind, latent_dim=d))
    c = 10 if kind == "cvae" else 0
    heads = 2 if kind != "ae" else 1
    expected = (784 + c) * 400 + 400 + heads * (400 * d + d) + (d + c) * 400 + 400 + 400 * 784 + 784
    assert sum(p.numel() for p in net.parameters()) == expected


def test_reference_part_interleaves_the_recipe_with_our_defaults(small_root, mnist_test):
    from explorer.bench import reference
    from explorer.data.datasets import load_split

    settings = harness.Settings(data_dir=str(small_root), log=lambda s: None)
    train_split = load_split("mnist", "train", small_root)
    row = reference.compare("cvae", 3, train_split, mnist_test, small_root, settings, epochs=2)
    ours, theirs = row.extra["ours_seconds"], row.extra["reference_seconds"]
    assert len(ours) == len(theirs) == 2 and row.ratio == pytest.approx(sum(theirs) / sum(ours))
    assert 0 < row.ours < 800 and 0 < row.reference < 800
    assert row.passed == (row.ours <= row.reference and row.ratio >= 4)
    reference = partial(reference.ReferenceNet, ModelConfig(kind="vae", latent_dim=2))
    alone = next(training.tutorial_loop(reference, small_root))
    torch.randn(100)
    again = next(training.tutorial_loop(reference, small_root))
    assert all(torch.equal(a, b) for a, b in zip(weights(alone).values(), weights(again).values()))


@pytest.mark.parametrize("module", ["explorer.bench.training", "explorer.bench.reference", "explorer.bench.maps"])
def test_each_bench_module_imports_on_its_own(module):
    # a script importing one part first must not meet a half-initialised module (a circular import)
    done = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_default_leaves_the_long_parts_to_full_or_only_and_help_says_each_parts_time(monkeypatch, capsys):
    """Issue 23: `explorer bench` alone ran past 15 minutes while the README said 3.5."""
    from explorer.bench.parts import BENCH_LONG, BENCH_PARTS, bench_time
    from explorer.gui.bench import PARTS as gui_parts

    assert set(BENCH_PARTS) == set(run.PARTS) | set(gui_parts)  # every part has its time said
    ran = []
    monkeypatch.setattr(run, "measure", lambda parts, settings: ran.append(list(parts)) or
                        {"machine": {}, "seconds": 0, "parts": {}})
    monkeypatch.setattr(run, "markdown", lambda report: report["command"])
    for argv, expected in ((["bench"], [p for p in BENCH_PARTS if p not in BENCH_LONG]),
                           (["bench", "--full"], list(BENCH_PARTS)), (["bench", "--only", "maps"], ["maps"])):
        assert main(argv) == 0
        assert sorted(ran.pop()) == sorted(expected)
    assert capsys.readouterr().out.splitlines()[1:] == ["python -m explorer bench --full",
                                                        "python -m explorer bench --only maps"]
    short = [p for p in BENCH_PARTS if p not in BENCH_LONG]
    assert sum(BENCH_PARTS[p] for p in short) <= 5 * 60  # a few minutes, on the development machine

    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"about {bench_time(short)}" in text and "--full" in text
    assert all(f"{name} {bench_time([name])}" in text for name in BENCH_PARTS if name != "gpu")
    assert "gpu nothing without a GPU" in text


def test_the_readme_says_each_parts_time_as_help_does():
    from pathlib import Path

    from explorer.bench.parts import BENCH_LONG, BENCH_PARTS, bench_time

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in ("train", "decode", *BENCH_LONG):
        assert f"| `{name}` | {bench_time([name])} |" in readme
    assert f"| `startup`, `map` | {bench_time(['startup'])}, {bench_time(['map'])} |" in readme
    short = [name for name in BENCH_PARTS if name not in BENCH_LONG]
    assert f"the default parts: about {bench_time(short).replace(' min', ' minutes')}" in readme
