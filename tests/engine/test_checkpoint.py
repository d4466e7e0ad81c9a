import errno
import json
import os
import pickle
import re
import struct

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from explorer.engine import checkpoint, checkpoint_header, coding
from explorer.engine.config import ModelConfig
from explorer.engine.models import Classifier, build_model
from explorer.utils.errors import ExplorerError


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0)
    stats = coding.stats_from_embeddings(np.random.default_rng(0).normal(size=(100, 3)))
    path = checkpoint.save(tmp_path_factory.mktemp("ckpt") / "m.safetensors", model,
                           {"dataset": "mnist", "train_images": 64, "epochs": 2, "final_losses": {"loss": 150.0}},
                           stats)
    return path, model, stats


@pytest.fixture
def saved(original, tmp_path):
    """A fresh copy of a saved 3-d VAE for a test to read or damage."""
    path = tmp_path / "m.safetensors"
    path.write_bytes(original[0].read_bytes())
    return path, *original[1:]


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
    anchored = build_model(ModelConfig(kind="gan", anchor=20.0), seed=0)
    back = checkpoint.load(checkpoint.save(tmp_path / "anchored.safetensors", anchored)).model
    x = torch.rand(2, 1, 28, 28)
    assert back.config.anchor == 20.0 and torch.equal(back.encode(x), anchored.eval().encode(x))


def test_classifier_round_trip(tmp_path):
    model = Classifier()
    ckpt = checkpoint.load(checkpoint.save(tmp_path / "c.safetensors", model))
    assert isinstance(ckpt.model, Classifier)


class Payload:
    """Unpickling this creates `sentinel`: proof that a file was (or was not) unpickled."""

    def __init__(self, sentinel):
        self.sentinel = str(sentinel)

    def __reduce__(self):
        return (open, (self.sentinel, "w"))


def weights_of(ckpt):
    return {k: v.clone() for k, v in ckpt.model.state_dict().items()}


@pytest.fixture(scope="module")
def opened(original):
    return checkpoint.load(original[0])


@pytest.fixture
def held(opened):
    """A checkpoint the app has open; a failed load of another file must leave it exactly as it was."""
    before = weights_of(opened), dict(opened.meta), torch.random.get_rng_state()
    yield opened
    after = weights_of(opened), opened.meta, torch.random.get_rng_state()
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0]) and before[1] == after[1]
    assert torch.equal(before[2], after[2]), "a load must not move the caller's random stream"


def test_the_payload_really_runs_when_unpickled(tmp_path):
    """Guards the tests below: they would pass vacuously if the payload did nothing."""
    pickle.loads(pickle.dumps(Payload(tmp_path / "ran")))
    assert (tmp_path / "ran").exists()


def pickle_files():
    big = lambda s: pickle.dumps([Payload(s), b"\0" * (3 << 20)], protocol=4)  # noqa: E731 - STOP after 3 MiB
    cases = {f"model{suffix}": lambda s: pickle.dumps(Payload(s)) for suffix in
             (".pt", ".pth", ".ckpt", ".PT", ".pkl", ".bin")}
    cases |= {f"protocol{p}.safetensors": (lambda p: lambda s: pickle.dumps(Payload(s), protocol=p))(p)
              for p in range(pickle.HIGHEST_PROTOCOL + 1)}
    cases |= {"no-suffix": lambda s: pickle.dumps(Payload(s)), "big.safetensors": big}
    return cases


@pytest.mark.parametrize("name", pickle_files())
def test_pickles_are_refused_by_name_or_content_and_never_run(tmp_path, held, name):
    sentinel = tmp_path / "pwned"
    path = tmp_path / name
    path.write_bytes(pickle_files()[name](sentinel))
    with pytest.raises(ExplorerError, match="refused.*pickle.*only .safetensors") as e:
        checkpoint.load(path)
    assert str(path) in str(e.value)
    assert not sentinel.exists()


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_torch_save_files_are_refused_under_any_name(tmp_path, held, zip_format):
    sentinel = tmp_path / "pwned"
    path = tmp_path / "model.safetensors"
    torch.save({"w": torch.zeros(1), "payload": Payload(sentinel)}, path, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(ExplorerError, match="refused.*(zip archive|pickle)"):
        checkpoint.load(path)
    assert not sentinel.exists()


def header_of(raw):
    (n,) = struct.unpack("<Q", raw[:8])
    return n, json.loads(raw[8 : 8 + n])


def rewrite(path, mutate_header=None, body=None, extra=b""):
    """Edit the JSON header (and optionally the body) of a saved file, byte for byte otherwise."""
    raw = path.read_bytes()
    n, header = header_of(raw)
    if mutate_header:
        mutate_header(header)
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + (raw[8 + n :] if body is None else body) + extra)


def edit_meta(**changes):
    """A header edit that changes fields of our metadata (the 'explorer' JSON); None deletes one."""
    def mutate(h):
        meta = json.loads(h["__metadata__"]["explorer"])
        for key, value in changes.items():
            if value is None:
                meta.pop(key, None)
            elif isinstance(value, dict) and isinstance(meta.get(key), dict):
                meta[key] = {**meta[key], **value}
            else:
                meta[key] = value
        h["__metadata__"]["explorer"] = json.dumps(meta)
    return mutate


def by_offset(h):
    return sorted((k for k in h if k != "__metadata__"), key=lambda k: h[k]["data_offsets"][0])


def shift(which, by):
    def mutate(h):
        entry = h[by_offset(h)[which]]
        entry["data_offsets"] = [x + by for x in entry["data_offsets"]]
    return mutate


def set_entry(name, **changes):
    return lambda h: h[name].update(changes)


def grow_last(h):
    """The last tensor claims twice its bytes, consistently with its shape: its data runs past the end."""
    entry = h[by_offset(h)[-1]]
    entry["shape"] = [entry["shape"][0] * 2, *entry["shape"][1:]]
    begin, end = entry["data_offsets"]
    entry["data_offsets"] = [begin, begin + 2 * (end - begin)]


def rewrite_literal(path, where, key, literal):
    """Put `literal`, JSON text json.dumps cannot make (5,000 digits, NaN), as `key` of the tensor
    entry `where`, or of our metadata when `where` is "meta"."""
    raw = path.read_bytes()
    n, header = header_of(raw)
    mark = "@@literal@@"
    if where == "meta":
        meta = {**json.loads(header["__metadata__"]["explorer"]), key: mark}
        header["__metadata__"]["explorer"] = json.dumps(meta).replace(json.dumps(mark), literal)
        text = json.dumps(header)
    else:
        header[where][key] = mark
        text = json.dumps(header).replace(json.dumps(mark), literal)
    path.write_bytes(struct.pack("<Q", len(text.encode())) + text.encode() + raw[8 + n :])


def resave(path, mutate_tensors, meta_changes=None):
    """Rewrite the file through safetensors with changed tensors: well-formed, but wrong for its model."""
    from safetensors.torch import load, save

    raw = path.read_bytes()
    metadata = header_of(raw)[1]["__metadata__"]
    tensors = load(raw)
    mutate_tensors(tensors)
    path.write_bytes(save(tensors, metadata=metadata))


def set_tensor(name, value):
    return lambda t: t.__setitem__(name, value)


def nan_in(name):
    def mutate(t):
        t[name] = t[name].clone()
        t[name].view(-1)[0] = float("nan")
    return mutate


W = "model.encoder.head.0.bias"  # a (256,) float32 tensor of the 3-d VAE

# name -> (how to damage the saved 3-d VAE, what the message must say)
MALFORMED = {
    "empty file": (lambda p: p.write_bytes(b""), "too short"),
    "five bytes": (lambda p: p.write_bytes(b"\x10\0\0\0\0"), "too short"),
    "truncated data": (lambda p: p.write_bytes(p.read_bytes()[:-10]), "truncated"),
    "truncated header": (lambda p: p.write_bytes(p.read_bytes()[:200]), "runs past the end of the file"),
    "header length past the end": (lambda p: p.write_bytes(struct.pack("<Q", p.stat().st_size) + p.read_bytes()[8:]),
                                   "runs past the end of the file"),
    "header length 2**64-1": (lambda p: p.write_bytes(b"\xff" * 8 + p.read_bytes()[8:]), "runs past the end"),
    "huge header": (lambda p: p.write_bytes(struct.pack("<Q", 2 << 20) + b"{" + b" " * ((2 << 20) - 2) + b"}"),
                    "not plausible"),
    "header not JSON": (lambda p: p.write_bytes(struct.pack("<Q", 6) + b"{nope}"), "not valid JSON"),
    "header nested deeply": (lambda p: p.write_bytes(struct.pack("<Q", 200_008) + b'{"a":' + b"[" * 100_000
                                                     + b"]" * 100_000 + b"}  "), "nests too deeply"),
    "header a list": (lambda p: p.write_bytes(struct.pack("<Q", 2) + b"[]"), "not safetensors|not a JSON object"),
    "offsets overlap": (lambda p: rewrite(p, shift(1, -4)), "overlap or gap"),
    "offsets leave a gap": (lambda p: rewrite(p, shift(-1, 4), extra=b"\0" * 4), "overlap or gap"),
    "offsets end beyond the data": (lambda p: rewrite(p, grow_last), "runs past the end of the file"),
    "offsets begin > end": (lambda p: rewrite(p, lambda h: h[W].update(data_offsets=h[W]["data_offsets"][::-1])),
                            "do not fit"),
    "offsets negative": (lambda p: rewrite(p, lambda h: h[W].update(data_offsets=[-4, 1020])), "do not fit"),
    "offsets of the wrong length": (lambda p: rewrite(p, lambda h: h[W].update(data_offsets=[0, 500, 1024])),
                                    "bad entry"),
    "offsets not numbers": (lambda p: rewrite(p, lambda h: h[W].update(data_offsets=["0", "1024"])), "bad entry"),
    "size does not match the shape": (lambda p: rewrite(p, set_entry(W, shape=[255])), "do not fit"),
    "shape of booleans": (lambda p: rewrite(p, set_entry(W, shape=[True, 256])), "bad entry"),
    "dtype int32": (lambda p: rewrite(p, set_entry(W, dtype="I32")), "F32, F16 or BF16"),
    "dtype not a string": (lambda p: rewrite(p, set_entry(W, dtype=["F32"])), "F32, F16 or BF16"),
    "dtype other than the metadata says": (lambda p: rewrite(p, edit_meta(weights_dtype="float16")),
                                           "is F32, but the metadata says float16"),
    "trailing bytes": (lambda p: rewrite(p, extra=b"\0" * 16), "16 unexpected bytes"),
    "metadata missing": (lambda p: rewrite(p, lambda h: h.pop("__metadata__")), "no metadata"),
    "metadata of another format": (lambda p: rewrite(p, lambda h: h["__metadata__"].update(format="diffusers")),
                                   "does not name the latent-explorer format"),
    "format version missing": (lambda p: rewrite(p, lambda h: h["__metadata__"].pop("format_version")),
                               "no format version"),
    "format version unknown": (lambda p: rewrite(p, lambda h: h["__metadata__"].update(format_version="99")),
                               "version '99' is not one this app reads"),
    "model description missing": (lambda p: rewrite(p, lambda h: h["__metadata__"].pop("explorer")),
                                  "model description is missing"),
    "model description not a string": (lambda p: rewrite(p, lambda h: h["__metadata__"].update(explorer={"a": 1})),
                                       "model description is missing"),
    "model description not JSON": (lambda p: rewrite(p, lambda h: h["__metadata__"].update(explorer="{")),
                                   "not valid JSON"),
    "model kind unknown": (lambda p: rewrite(p, edit_meta(kind="diffusion")), "unknown model kind 'diffusion'"),
    "model kind not a string": (lambda p: rewrite(p, edit_meta(kind=["vae"])), "unknown model kind"),
    "weights dtype unknown": (lambda p: rewrite(p, edit_meta(weights_dtype="int8")), "unknown weights dtype"),
    "model of another kind": (lambda p: rewrite(p, edit_meta(model={"kind": "ae"})), "does not match its kind"),
    "latent size absurd": (lambda p: rewrite(p, edit_meta(model={"latent_dim": 10**9})), "describes no valid model"),
    "class count absurd": (lambda p: rewrite(p, edit_meta(model={"num_classes": 10**12})), "describes no valid model"),
    "epochs not a number": (lambda p: rewrite(p, edit_meta(epochs="lots")), "epochs has the wrong type"),
    "losses not numbers": (lambda p: rewrite(p, edit_meta(final_losses={"loss": "low"})),
                           "final_losses has the wrong type"),
    "tensors for another latent size": (lambda p: rewrite(p, edit_meta(model={"latent_dim": 2})),
                                        r"has shape \[6, 128\], but this model needs \[4, 128\]"),
    "a tensor missing": (lambda p: resave(p, lambda t: t.pop("model.decoder.net.4.bias")), "missing tensors"),
    "an unknown tensor": (lambda p: resave(p, set_tensor("model.extra", torch.zeros(2))), "unexpected tensors"),
    "a NaN weight": (lambda p: resave(p, nan_in(W)), f"{W} holds NaN"),
    "an infinite statistic": (lambda p: resave(p, lambda t: t["stats.bounds"].fill_(float("inf"))), "infinite"),
    "statistics incomplete": (lambda p: resave(p, lambda t: t.pop("stats.variance")), "statistics are incomplete"),
    "statistics of the wrong size": (lambda p: resave(p, set_tensor("stats.mean", torch.zeros(2))),
                                     r"stats.mean should be F32 \[3\]"),
    "bounds inverted": (lambda p: resave(p, set_tensor("stats.bounds", torch.tensor([1.0, 0.0, 0.0, 1.0]))),
                        "xmin < xmax"),
    "an integer of 5,000 digits in the header": (lambda p: rewrite_literal(p, W, "shape", "7" * 5000),
                                                 "integer of 5,000 digits is not plausible"),
    "a seed of 30 digits": (lambda p: rewrite_literal(p, "meta", "seed", "9" * 30), "integer of 30 digits"),
    "a loss of 1e999": (lambda p: rewrite_literal(p, "meta", "final_losses", '{"loss": 1e999}'), "too large"),
    "a learning rate of NaN": (lambda p: rewrite_literal(p, "meta", "lr", "NaN"), "NaN is not a number"),
    "epochs beyond any run": (lambda p: rewrite(p, edit_meta(epochs=10**12)), "epochs has the wrong type"),
    "mean far beyond any code": (lambda p: resave(p, set_tensor("stats.mean", torch.full((3,), 1e30))),
                                 "stats.mean lies beyond"),
    "negative variance": (lambda p: resave(p, set_tensor("stats.variance", torch.tensor([1.0, -1.0, 0.5]))),
                          "stats.variance must lie between 0"),
    "axes not orthonormal": (lambda p: resave(p, set_tensor("stats.components", torch.ones(3, 3))),
                             "not orthonormal"),
    "bounds of 1e30": (lambda p: resave(p, set_tensor("stats.bounds", torch.tensor([-1e30, 1e30, 0.0, 1.0]))),
                       "stats.bounds lie beyond"),
    "bounds a hair apart": (lambda p: resave(p, set_tensor("stats.bounds", torch.tensor([0.0, 1e-7, 0.0, 1.0]))),
                            "at least 0.001 apart"),
}


@pytest.mark.parametrize("damage", MALFORMED)
def test_a_malformed_file_gets_one_clear_error_and_changes_nothing(saved, held, damage):
    path = saved[0]
    MALFORMED[damage][0](path)
    with pytest.raises(ExplorerError) as e:
        checkpoint.load(path)
    message = str(e.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert re.search(MALFORMED[damage][1], message), message


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.integers(0, 2**64 - 1), st.integers(0, 2**24).map(lambda n: n << 8 | ord(".")),
                 st.integers(0, 2**16).map(lambda n: n << 16 | ord(".") << 8 | ord("N"))))  # '.': STOP; 'N.': None
@example(0x2E)
def test_a_wrong_header_length_is_never_called_a_pickle(original, length):
    """CI once read a checkpoint whose length field ended in byte 0x2e ('.', pickle's STOP) as a pickle."""
    raw = original[0].read_bytes()
    path = original[0].with_name("damaged.safetensors")
    if length == struct.unpack("<Q", raw[:8])[0]:
        return  # the right length: nothing is wrong
    path.write_bytes(struct.pack("<Q", length) + raw[8:])
    with pytest.raises(ExplorerError) as e:
        checkpoint.load(path)
    assert "pickle" not in str(e.value), str(e.value)


def test_no_low_bytes_of_a_wrong_header_length_make_a_checkpoint_read_as_a_pickle(original):
    """Every value of the length's two low bytes, the rest as the file has them (CI met 0x1cb28c: 0x8c,
    a string opcode, swallowed the JSON header and ended on POP, STOP)."""
    whole = original[0].read_bytes()
    real = struct.unpack("<Q", whole[:8])[0]
    raw = whole[: 8 + real + 256]  # the header and the data's start: what a damaged length is read against
    called = []
    for low in range(1 << 16):
        length = len(whole) & ~0xFFFF | low
        if length != real:
            try:
                checkpoint_header.parse_header(struct.pack("<Q", length) + raw[8:], "m.safetensors")
            except ExplorerError as e:
                if "pickle" in str(e):
                    called.append(hex(length))
    assert not called, called[:5]


def test_mismatched_dtype_is_caught_when_the_sizes_agree(tmp_path):
    """float16 weights whose metadata claims float32: each entry is self-consistent, the file is not."""
    path = checkpoint.save(tmp_path / "h.safetensors", build_model(ModelConfig(kind="ae"), seed=0),
                           weights_dtype="float16")
    rewrite(path, edit_meta(weights_dtype="float32"))
    with pytest.raises(ExplorerError, match="is F16, but the metadata says float32"):
        checkpoint.load(path)


@pytest.mark.parametrize("target", ["missing.safetensors", "a-folder.safetensors", "nul\0byte.safetensors"])
def test_unreadable_paths_are_named(tmp_path, held, target):
    (tmp_path / "a-folder.safetensors").mkdir()
    with pytest.raises(ExplorerError, match="cannot read|not a file") as e:
        checkpoint.load(tmp_path / target)
    assert str(tmp_path) in str(e.value)


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def read_only(*args, **kwargs):
    raise OSError(errno.EROFS, "Read-only file system")


def denied(*args, **kwargs):
    raise PermissionError(errno.EACCES, "Permission denied")


@pytest.mark.parametrize("failure, cause", [
    (("safetensors.torch.save", no_space), "No space left on device"),  # the serialiser, before any byte
    (("os.fsync", no_space), "No space left on device"),  # after the bytes, while flushing them
    (("os.open", read_only), "Read-only file system"),
    (("os.replace", denied), "Permission denied"),
], ids=["serialiser", "flush", "read-only folder", "rename"])
def test_a_failed_save_leaves_the_existing_file_intact(saved, monkeypatch, failure, cause):
    path, model, stats = saved
    before = path.read_bytes()
    monkeypatch.setattr(*failure)
    with pytest.raises(ExplorerError) as e:
        checkpoint.save(path, model, stats=stats)
    monkeypatch.undo()
    assert str(e.value) == f"could not write {path}: {cause}"
    assert path.read_bytes() == before and [p.name for p in path.parent.iterdir()] == [path.name]


@pytest.mark.parametrize("name, problem", [("missing/m.safetensors", "does not exist"),
                                           ("folder.safetensors", "it is a folder"),
                                           ("m.pt", "must end in .safetensors")])
def test_a_save_to_an_impossible_target_says_why(tmp_path, name, problem):
    (tmp_path / "folder.safetensors").mkdir()
    with pytest.raises(ExplorerError, match=problem) as e:
        checkpoint.save(tmp_path / name, build_model(ModelConfig(kind="ae"), seed=0))
    assert str(tmp_path / name) in str(e.value) and sorted(os.listdir(tmp_path)) == ["folder.safetensors"]


@pytest.mark.parametrize("value, dtype, says", [(float("nan"), "float32", "holds NaN or infinite values"),
                                                (1e6, "float16", "has values too large for float16; save it as")])
def test_weights_that_would_not_load_are_not_saved(tmp_path, value, dtype, says):
    """A NaN, or a weight beyond float16's range (65504) stored as float16, makes a file load() refuses."""
    model = build_model(ModelConfig(kind="ae"), seed=0)
    with torch.no_grad():
        model.decoder.net[0].bias[0] = value
    with pytest.raises(ExplorerError, match=f"cannot write .*decoder.net.0.bias {says}"):
        checkpoint.save(tmp_path / "m.safetensors", model, weights_dtype=dtype)
    assert os.listdir(tmp_path) == []
    if dtype != "float32":
        assert checkpoint.load(checkpoint.save(tmp_path / "m.safetensors", model)).model.decoder.net[0].bias[0] == value


def test_a_shipped_models_name_loads_from_any_folder_and_a_file_here_comes_first(tmp_path, monkeypatch):
    """`checkpoint.load("vae-2d-mlp")`, as the README writes it, from a folder that has no trained/."""
    from pathlib import Path

    from explorer.engine import trained

    monkeypatch.delenv("EXPLORER_TRAINED_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    for name in ("vae-2d-mlp", "vae-2d-mlp.safetensors"):
        ckpt = checkpoint.load(name)
        assert ckpt.name == "vae-2d-mlp" and Path(ckpt.path) == trained.trained_dir() / "vae-2d-mlp.safetensors"
    (tmp_path / "vae-2d-mlp").write_bytes(b"mine, not a checkpoint")
    with pytest.raises(ExplorerError, match="^vae-2d-mlp: "):  # the user's own file of that name is what opens
        checkpoint.load("vae-2d-mlp")
