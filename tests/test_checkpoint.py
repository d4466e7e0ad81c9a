import json
import pickle
import struct

import numpy as np
import pytest
import torch

from explorer import checkpoint, latent
from explorer.config import ModelConfig
from explorer.errors import ExplorerError
from explorer.models import Classifier, build_model


@pytest.fixture
def saved(tmp_path):
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0)
    stats = latent.stats_from_embeddings(np.random.default_rng(0).normal(size=(100, 3)))
    path = checkpoint.save(tmp_path / "m.safetensors", model, {"dataset": "mnist", "train_images": 64, "epochs": 2,
                                                                "final_losses": {"loss": 150.0}}, stats)
    return path, model, stats


def test_round_trip_keeps_weights_stats_and_metadata(saved):
    path, model, stats = saved
    ckpt = checkpoint.load(path)
    assert ckpt.kind == "vae" and ckpt.model.latent_dim == 3 and not ckpt.model.training
    for k, v in model.state_dict().items():
        assert torch.equal(ckpt.model.state_dict()[k], v)
    assert np.allclose(ckpt.stats.components, stats.components) and np.allclose(ckpt.stats.bounds, stats.bounds)
    for key in ("format_version", "app_version", "kind", "model", "created", "weights_dtype"):
        assert key in ckpt.meta or key == "format_version"
    assert ckpt.meta["model"]["latent_dim"] == 3 and ckpt.meta["train_images"] == 64
    assert "VAE (MLP, 3-d latent)" in ckpt.describe() and "loss 150" in ckpt.describe()


def test_float16_storage_halves_the_file_and_loads_as_float32(tmp_path):
    model = build_model(ModelConfig(kind="ae"), seed=0)
    full = checkpoint.save(tmp_path / "a.safetensors", model)
    half = checkpoint.save(tmp_path / "b.safetensors", model, weights_dtype="float16")
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded = checkpoint.load(half).model
    w = loaded.state_dict()["encoder.head.0.weight"]
    assert w.dtype == torch.float32 and torch.allclose(w, model.state_dict()["encoder.head.0.weight"], atol=1e-3)


def test_gan_records_whether_it_has_an_inversion_encoder(tmp_path):
    for inversion in (True, False):
        gan = build_model(ModelConfig(kind="gan", inversion=inversion), seed=0)
        ckpt = checkpoint.load(checkpoint.save(tmp_path / f"g{inversion}.safetensors", gan))
        assert ckpt.meta["has_inversion_encoder"] is inversion and ckpt.model.has_encoder is inversion


def test_classifier_round_trip(tmp_path):
    model = Classifier()
    ckpt = checkpoint.load(checkpoint.save(tmp_path / "c.safetensors", model))
    assert isinstance(ckpt.model, Classifier)


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".ckpt"])
def test_pickle_extensions_are_refused_before_reading(tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    torch.save({"w": torch.zeros(1)}, path)
    with pytest.raises(ExplorerError, match="pickle"):
        checkpoint.load(path)


def test_pickle_bytes_under_any_name_are_refused_and_never_run(tmp_path):
    sentinel = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(sentinel), "w"))

    path = tmp_path / "innocent.safetensors"
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ExplorerError, match="pickle"):
        checkpoint.load(path)
    assert not sentinel.exists()


def test_torch_zip_format_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    torch.save({"w": torch.zeros(1)}, path)
    with pytest.raises(ExplorerError, match="zip"):
        checkpoint.load(path)


def rewrite(path, mutate_header=None, body=None, extra=b""):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    if mutate_header:
        mutate_header(header)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + (raw[8 + n :] if body is None else body) + extra)


def test_truncated_file(saved):
    path = saved[0]
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ExplorerError, match="truncated"):
        checkpoint.load(path)


def test_header_length_past_the_end(saved):
    path = saved[0]
    raw = path.read_bytes()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw[8:])
    with pytest.raises(ExplorerError, match="past the end"):
        checkpoint.load(path)


def test_huge_header(saved):
    path = saved[0]
    padded = b"{" + b" " * (2 << 20) + b"}"  # a 2 MiB header that really is there
    path.write_bytes(struct.pack("<Q", len(padded)) + padded)
    with pytest.raises(ExplorerError, match="not plausible"):
        checkpoint.load(path)


def test_trailing_bytes(saved):
    rewrite(saved[0], extra=b"\0" * 16)
    with pytest.raises(ExplorerError, match="unexpected bytes"):
        checkpoint.load(saved[0])


def test_overlapping_offsets(saved):
    def overlap(h):
        names = sorted((k for k in h if k != "__metadata__"), key=lambda k: h[k]["data_offsets"][0])
        first = h[names[1]]
        first["data_offsets"] = [x - 4 for x in first["data_offsets"]]

    rewrite(saved[0], overlap)
    with pytest.raises(ExplorerError, match="overlap or gap"):
        checkpoint.load(saved[0])


def test_wrong_dtype(saved):
    def to_int(h):
        h["model.encoder.head.0.bias"]["dtype"] = "I32"

    rewrite(saved[0], to_int)
    with pytest.raises(ExplorerError, match="F32, F16 or BF16"):
        checkpoint.load(saved[0])


def test_unknown_format_version(saved):
    rewrite(saved[0], lambda h: h["__metadata__"].update(format_version="99"))
    with pytest.raises(ExplorerError, match="version '99'"):
        checkpoint.load(saved[0])


def test_missing_metadata(saved):
    rewrite(saved[0], lambda h: h.pop("__metadata__"))
    with pytest.raises(ExplorerError, match="no metadata"):
        checkpoint.load(saved[0])


def test_tensors_of_the_wrong_shape_for_the_stated_model(saved, tmp_path):
    """A 3-d VAE's weights with metadata claiming a 2-d latent."""
    def claim_2d(h):
        meta = json.loads(h["__metadata__"]["explorer"])
        meta["model"]["latent_dim"] = 2
        h["__metadata__"]["explorer"] = json.dumps(meta)

    rewrite(saved[0], claim_2d)
    with pytest.raises(ExplorerError, match="shape") as e:
        checkpoint.load(saved[0])
    assert str(saved[0]) in str(e.value)


def test_nan_weights_are_refused(tmp_path):
    model = build_model(ModelConfig(kind="ae"), seed=0)
    with torch.no_grad():
        model.decoder.net[0].bias[0] = float("nan")
    path = checkpoint.save(tmp_path / "nan.safetensors", model)
    with pytest.raises(ExplorerError, match="NaN"):
        checkpoint.load(path)


def test_save_failure_leaves_the_existing_file_intact(saved, monkeypatch):
    path, model, stats = saved
    before = path.read_bytes()

    def broken(tensors, metadata=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("safetensors.torch.save", broken)
    with pytest.raises(ExplorerError, match="No space left"):
        checkpoint.save(path, model)
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == [path.name]
