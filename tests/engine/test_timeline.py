"""The training timeline: recorded after each epoch, stored in the checkpoint, replayed on a map."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.cli import main
from explorer.engine import checkpoint, coding, timeline
from explorer.engine.config import ModelConfig, TrainConfig
from explorer.engine.models import build_model
from explorer.engine.training import train
from explorer.utils.errors import ExplorerError


def test_the_recorder_follows_the_same_images_after_every_complete_epoch(tiny_images):
    images, labels = tiny_images
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0)
    recorder = timeline.Recorder(model, images, labels)
    result = train(model, images, TrainConfig(epochs=3, batch_size=16), labels=labels, callback=recorder)
    recorded = recorder.timeline(result.epochs_done)
    assert recorded.epochs == 3 and recorded.codes.shape == (3, len(images), 3)
    np.testing.assert_allclose(recorded.after(3), coding.embed(model, images[recorded.index]), atol=1e-5)
    assert not np.allclose(recorded.after(1), recorded.after(3))  # the space moved while it trained
    assert recorder.timeline(2).epochs == 2 and recorder.timeline(0) is None
    with pytest.raises(ExplorerError, match="from 1 to 3"):
        recorded.after(4)


def test_an_epoch_added_from_every_images_codes_keeps_the_samples(tiny_images):
    images, labels = tiny_images
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0)
    recorder = timeline.Recorder(model, images, labels)
    codes = np.random.default_rng(0).normal(size=(len(images), 3)).astype(np.float32)
    recorder.add(codes)
    recorder.add(codes + 1)
    recorded = recorder.timeline(2)
    np.testing.assert_array_equal(recorded.after(2), codes[recorded.index] + 1)


def test_recording_leaves_the_model_training_and_a_model_without_encoder_records_nothing(tiny_images):
    images, labels = tiny_images
    model = build_model(ModelConfig(kind="vae", latent_dim=2), seed=0).train()
    recorder = timeline.Recorder(model, images, labels)
    done = type("P", (), {"epoch_done": True})()
    recorder(done)
    assert model.training and len(recorder.codes) == 1
    recorder(type("P", (), {"epoch_done": False})())
    assert len(recorder.codes) == 1
    gan = build_model(ModelConfig(kind="gan", latent_dim=2, inversion=False), seed=0)
    silent = timeline.Recorder(gan, images, labels)
    silent(done)
    assert silent.timeline(1) is None


def test_the_sample_is_fixed_for_a_split_and_at_most_its_size():
    a, b = timeline.sample_index(10_000), timeline.sample_index(10_000)
    np.testing.assert_array_equal(a, b)
    assert len(a) == timeline.SAMPLE and len(np.unique(a)) == len(a) and a.max() < 10_000
    np.testing.assert_array_equal(timeline.sample_index(40), np.arange(40))


def test_a_2d_space_replays_as_it_is_and_a_wider_one_keeps_its_orientation():
    rng = np.random.default_rng(0)
    flat = timeline.Timeline(np.arange(50), rng.normal(size=(3, 50, 2)).astype(np.float32))
    np.testing.assert_array_equal(flat.positions(), flat.codes)
    final = rng.normal(size=(50, 6)) * [5, 3, 1, 0.1, 0.1, 0.1]
    mirrored = final.copy()
    mirrored[:, 0] *= -1  # the same layout with its first principal axis the other way round
    wide = timeline.Timeline(np.arange(50), np.stack([mirrored, final]).astype(np.float32))
    positions = wide.positions()
    np.testing.assert_allclose(positions[0], positions[1], atol=1e-4)  # aligned: no flip between epochs
    plane = coding.stats_from_embeddings(final).plane()
    np.testing.assert_allclose(wide.positions(plane)[-1], plane.project(final), atol=1e-4)  # the last epoch is the map


def test_a_checkpoint_keeps_its_timeline(tmp_path, tiny_images):
    model = build_model(ModelConfig(kind="vae", latent_dim=4), seed=0)
    recorded = timeline.Timeline(np.arange(5) * 3, np.random.default_rng(0).normal(size=(2, 5, 4)).astype(np.float32))
    path = checkpoint.save(tmp_path / "m.safetensors", model, timeline=recorded)
    back = checkpoint.load(path).timeline
    np.testing.assert_array_equal(back.index, recorded.index)
    np.testing.assert_allclose(back.codes, recorded.codes, atol=1e-2)  # float16 in the file
    assert checkpoint.load(checkpoint.save(tmp_path / "none.safetensors", model)).timeline is None


@settings(max_examples=40, deadline=None)
@given(k=st.integers(0, 3), epochs=st.integers(0, 3), d=st.integers(1, 5), index_dtype=st.sampled_from([torch.int64, torch.float32]),
       codes_dtype=st.sampled_from([torch.float16, torch.float32, torch.float64, torch.bfloat16]), drop=st.sampled_from([None, "timeline.index", "timeline.codes"]),
       negative=st.booleans())
def test_any_malformed_timeline_is_one_clear_error_and_a_good_one_loads(tmp_path_factory, k, epochs, d, index_dtype,
                                                                     codes_dtype, drop, negative):
    from safetensors.torch import load_file, save_file

    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0)
    base = checkpoint.save(tmp_path_factory.mktemp("t") / "m.safetensors", model)
    tensors = load_file(base)
    from safetensors import safe_open

    with safe_open(base, "pt") as f:
        meta = f.metadata()
    tensors["timeline.index"] = (torch.arange(k) - (1 if negative else 0)).to(index_dtype)
    tensors["timeline.codes"] = torch.zeros(epochs, k, d, dtype=codes_dtype)
    if drop:
        del tensors[drop]
    save_file(tensors, base, metadata=meta)
    good = (drop is None and k > 0 and epochs > 0 and d == 3 and index_dtype == torch.int64
            and codes_dtype in (torch.float16, torch.float32) and not negative)  # float32: codes beyond float16
    if good:
        assert checkpoint.load(base).timeline.codes.shape == (epochs, k, 3)
    else:
        with pytest.raises(ExplorerError, match="timeline"):
            checkpoint.load(base)


def test_train_records_a_timeline_that_replays_and_embeds(small_root, tmp_path, capsys):
    out = tmp_path / "v.safetensors"
    assert main(["train", "--epochs", "2", "--batch-size", "64", "--data-dir", str(small_root), "--out", str(out)]) == 0
    assert checkpoint.load(out).timeline.epochs == 2
    gif, png, npz = tmp_path / "r.gif", tmp_path / "e1.png", tmp_path / "e1.npz"
    assert main(["timeline", "--checkpoint", str(out), "--data-dir", str(small_root), "--out", str(gif)]) == 0
    from PIL import Image

    with Image.open(gif) as replay:
        assert replay.n_frames == 2
    assert main(["timeline", "--checkpoint", str(out), "--data-dir", str(small_root), "--epoch", "1",
                 "--size", "200", "--out", str(png)]) == 0
    assert Image.open(png).size == (200 + 70, 200)
    assert main(["embed", "--checkpoint", str(out), "--data-dir", str(small_root), "--epoch", "1", "--map", "pca",
                 "--out", str(npz)]) == 0
    saved = np.load(npz)
    np.testing.assert_array_equal(saved["index"], np.arange(256))
    np.testing.assert_allclose(saved["z"], checkpoint.load(out).timeline.after(1))
    assert saved["uv"].shape == (256, 2)
    capsys.readouterr()
    assert main(["timeline", "--checkpoint", str(out), "--data-dir", str(small_root), "--epoch", "3",
                 "--out", str(png)]) == 2
    assert "from 1 to 2" in capsys.readouterr().err


def test_a_file_without_a_timeline_says_so(small_root, tmp_path, capsys):
    untimed = checkpoint.save(tmp_path / "untimed.safetensors", build_model(ModelConfig(kind="ae"), seed=0))
    assert main(["timeline", "--checkpoint", str(untimed), "--data-dir", str(small_root), "--out",
                 str(tmp_path / "r.gif")]) == 2
    assert "no training timeline" in capsys.readouterr().err
