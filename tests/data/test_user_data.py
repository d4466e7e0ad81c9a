"""The user's data through the commands: any number of classes with their names kept, nothing of theirs
overwritten, images that do not fit the model named in one line, and a finished run always saved."""

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from explorer.cli import main
from explorer.engine import checkpoint
from explorer.engine.coding import LatentStats
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.engine.timeline import Timeline
from tests.cli.test_cli import assert_one_clear_line, run_cli

rng = np.random.default_rng(0)


def class_folder(root, names, size=8, per_class=2):
    for name in names:
        (root / name).mkdir(parents=True)
        for k in range(per_class):
            Image.fromarray(rng.integers(0, 256, (size, size), dtype=np.uint8)).save(root / name / f"{k}.png")
    return root


def test_a_model_trained_on_a_folder_of_eleven_classes_keeps_their_names(tmp_path, capsys):
    names = [f"class{k:02d}" for k in range(11)]
    folder = class_folder(tmp_path / "shapes", names)
    out = tmp_path / "m.safetensors"
    assert main(["train", "--model", "ae", "--epochs", "1", "--data", str(folder), "--out", str(out)]) == 0
    meta = checkpoint.load(out).meta
    assert meta["classes"] == names and meta["data"] == str(folder)
    assert main(["embed", "--checkpoint", str(out), "--data", str(folder), "--out", str(tmp_path / "e.npz")]) == 0
    with np.load(tmp_path / "e.npz") as f:
        assert list(f["classes"]) == names and f["labels"].max() == 10
    assert main(["embed", "--checkpoint", str(out), "--data", str(folder), "--out", str(tmp_path / "e.csv")]) == 0
    lines = (tmp_path / "e.csv").read_text().splitlines()
    assert lines[0] == "z1,z2,label,class" and lines[-1].endswith(",10,class10")
    capsys.readouterr()
    result = run_cli(["grid", "--checkpoint", out, "--map", "umap", "--out", tmp_path / "g.png"], capsys)
    assert_one_clear_line(*result, f"this model was trained on your images shapes ({folder}; its classes: class00, "
                                   f"class01, class02, class03, class04, ...); pass --data {folder}")


@pytest.mark.parametrize("command, given, argv", [
    ("embed", "npz", ["--out", "{data}"]),  # replaced the user's images with codes
    ("embed", "folder", ["--out", "{folder}/codes.npz"]),
    ("grid", "folder", ["--out", "{folder}/a/0.png"]),  # overwrote an input image
    ("grid", "folder", ["--out", "{folder}/a/new.png"]),
    ("path", "folder", ["--from", "0", "0", "--to", "1", "1", "--out", "{folder}/p.gif"]),
    ("train", "folder", ["--epochs", "1", "--out", "{folder}/m.safetensors"]),
])
def test_nothing_a_command_reads_is_overwritten_or_written_into(command, given, argv, tmp_path, capsys):
    folder = class_folder(tmp_path / "imgs", ["a", "b"], size=28)
    data = tmp_path / "d.npz"
    np.savez(data, images=rng.integers(0, 256, (4, 28, 28), dtype=np.uint8))
    source = data if given == "npz" else folder
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    model = [] if command == "train" else ["--checkpoint", "vae-2d-mlp"]
    argv = [a.format(data=data, folder=folder) for a in argv]
    code, err = run_cli([command, *model, "--data", source, *argv], capsys)
    assert_one_clear_line(code, err, f"it is inside {source}, a folder this command reads" if given == "folder" else
                                     f"it is {source}, an input of this command")
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(channels=st.sampled_from([1, 3]), side=st.sampled_from([8, 12, 28, 32]))
def test_images_the_model_does_not_take_are_one_line_naming_both_shapes(tmp_path, capsys, channels, side):
    data = tmp_path / "d.npz"
    shape = (4, side, side) if channels == 1 else (4, side, side, 3)
    np.savez(data, images=rng.integers(0, 256, shape, dtype=np.uint8))
    code, err = run_cli(["embed", "--checkpoint", "vae-2d-mlp", "--data", data, "--out", tmp_path / "e.npz"], capsys)
    if (channels, side) == (1, 28):
        assert code == 0
        return
    kind = "grey" if channels == 1 else "colour"
    assert_one_clear_line(code, err, f"the images are {side}x{side} {kind} (C, H, W = {channels}, {side}, {side}), "
                                     f"but this model takes 28x28 grey (C, H, W = 1, 28, 28) images")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scale=st.sampled_from([1.0, 6e4, 7e4, 1e6, 3e38, np.inf, np.nan]), stats_scale=st.sampled_from([1.0, 1e7, np.nan]))
def test_the_weights_of_a_run_are_saved_whatever_its_timeline_and_statistics_hold(tmp_path, scale, stats_scale):
    model = build_model(ModelConfig(kind="ae", latent_dim=2), seed=0)
    codes = np.full((3, 5, 2), scale, dtype=np.float32)
    stats = LatentStats(np.zeros(2) * stats_scale, np.eye(2), np.ones(2), np.array([-1.0, 1.0, -1.0, 1.0]) * stats_scale)
    said = []
    path = checkpoint.save(tmp_path / "m.safetensors", model, {"dataset": "mnist"}, stats,
                           timeline=Timeline(np.arange(5), codes), say=said.append)
    loaded = checkpoint.load(path)
    for name, t in model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], t)
    if np.isfinite(scale):
        assert np.allclose(loaded.timeline.codes, codes, rtol=1e-3)  # float32 where float16 overflows
    else:
        assert loaded.timeline is None and any("timeline was not saved" in s for s in said)
    assert (loaded.stats is None) == (stats_scale != 1.0)
    assert (loaded.stats is None) == any("latent statistics were not saved" in s for s in said)


def test_the_window_says_which_images_to_open_a_model_trained_on_the_users_own_with(tmp_path):
    from explorer.latent.session import open_session

    data = tmp_path / "mine.npz"
    np.savez(data, images=rng.integers(0, 256, (8, 8, 8), dtype=np.uint8), labels=np.arange(8) % 2,
             classes=np.array(["cat", "dog"]))
    out = tmp_path / "m.safetensors"
    assert main(["train", "--model", "ae", "--epochs", "1", "--data", str(data), "--out", str(out)]) == 0
    session = open_session(str(out), tmp_path)
    assert session.data_errors == {"test": f"this model was trained on your images mine.npz ({data}; its classes: "
                                           f"cat, dog); open it with: explorer gui --checkpoint {out} --data {data}"}


@settings(max_examples=10, deadline=None)
@given(d=st.sampled_from([2, 512, 513, 100_000]))
def test_an_encoder_whose_codes_are_too_long_for_the_map_is_refused_at_the_probe(d):
    from explorer.engine.models.adapters import open_user_model
    from explorer.utils.errors import ExplorerError

    def encoder(x):
        return torch.zeros(len(x), d)

    def decoder(z):
        return torch.zeros(len(z), 64)
    images = np.zeros((3, 8, 8), np.uint8)
    if d <= 512:
        assert open_user_model(encoder=encoder, decoder=decoder, images=images).model.latent_dim == d
    else:
        with pytest.raises(ExplorerError, match=f"{d:,} values each; the map takes codes of at most 512 dimensions"):
            open_user_model(encoder=encoder, decoder=decoder, images=images)


@settings(max_examples=20, deadline=None)
@given(value=st.sampled_from([0.5, 6e4, 7e4, 1e6, 1e38]), dtype=st.sampled_from(["float32", "float16", "bfloat16"]))
def test_a_finished_runs_weights_are_stored_in_a_dtype_that_holds_them(tmp_path_factory, value, dtype):
    model = build_model(ModelConfig(kind="ae"), seed=0)
    with torch.no_grad():
        model.decoder.net[0].bias[0] = value
    said = []
    chosen = checkpoint.storable_dtype(model, dtype, said.append)
    fits = value <= torch.finfo(getattr(torch, dtype)).max
    assert chosen == (dtype if fits else "float32") and bool(said) == (not fits)
    path = checkpoint.save(tmp_path_factory.mktemp("w") / "m.safetensors", model, weights_dtype=chosen)
    assert checkpoint.load(path).model.decoder.net[0].bias[0] == torch.tensor(value).to(getattr(torch, chosen)).float()
