"""Hostile checkpoints, generated: numbers in any notation and of any size in the safetensors header
and our metadata, and finite but absurd latent statistics. Each file either loads into something the
app can draw, or is refused with one line naming it; nothing else escapes."""

import json
import math
import struct

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explorer.engine import checkpoint, coding
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.latent import geometry
from explorer.utils.errors import ExplorerError
from tests.engine.test_checkpoint import header_of, resave, rewrite_literal

settings.register_profile("checkpoint", max_examples=60, deadline=None)

# JSON number literals a file may hold: short or 6,000 digits long, any exponent, and the NaN and
# Infinity that Python's json module reads (and writes) although JSON has no such numbers
DIGITS = st.one_of(st.text("0123456789", min_size=1, max_size=40).map(lambda d: d.lstrip("0") or "0"),
                   st.integers(4000, 6000).map(lambda n: "9" * n))  # past 4,300 Python's int() raises ValueError
LITERALS = st.one_of(
    st.builds("{}{}{}{}".format, st.sampled_from(["", "-"]), DIGITS, st.sampled_from(["", ".5", ".000001"]),
              st.sampled_from(["", "e308", "e309", "E-400", "e+5", "E99999"])),
    st.integers().map(str),
    st.floats().map(lambda x: json.dumps(x)),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "[]", "{}", '"7"', "true", "null"]),
)


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0)
    stats = coding.stats_from_embeddings(np.random.default_rng(0).normal(size=(100, 3)))
    folder = tmp_path_factory.mktemp("fuzz")
    meta = {"dataset": "mnist", "train_images": 64, "epochs": 2, "seed": 0, "lr": 1e-3, "final_losses": {"loss": 1.0}}
    return Original(checkpoint.save(folder / "original.safetensors", model, meta, stats).read_bytes(),
                    folder / "m.safetensors")


class Original(tuple):
    """(the saved file's bytes, where an example writes its copy), shown briefly in a failure report."""

    def __new__(cls, raw, path):
        return super().__new__(cls, (raw, path))

    def __repr__(self):
        return "original"


def loads_or_says_one_line(path):
    try:
        return checkpoint.load(path)
    except ExplorerError as e:
        assert str(e).startswith(f"{path}: ") and "\n" not in str(e), str(e)
        return None


@settings(settings.get_profile("checkpoint"))
@given(literal=LITERALS, entry=st.integers(0, 9), key=st.sampled_from(["shape", "data_offsets"]),
       position=st.one_of(st.none(), st.integers(0, 1)))
def test_any_number_in_a_tensor_entry(original, literal, entry, key, position):
    raw, path = original
    path.write_bytes(raw)
    name = sorted(k for k in header_of(raw)[1] if k != "__metadata__")[entry]
    if position is None:
        rewrite_literal(path, name, key, literal)
    else:  # one element of the list
        value = header_of(raw)[1][name][key]
        parts = [json.dumps(v) for v in value]
        parts[min(position, len(parts) - 1)] = literal
        rewrite_literal(path, name, key, "[" + ", ".join(parts) + "]")
    loads_or_says_one_line(path)


META_KEYS = ["train_images", "epochs", "seed", "batch_size", "lr", "train_seconds", "final_losses", "model"]


@settings(settings.get_profile("checkpoint"))
@given(literal=LITERALS, key=st.sampled_from(META_KEYS),
       model_key=st.sampled_from(["latent_dim", "beta", "num_classes"]))
def test_any_number_in_the_metadata(original, literal, key, model_key):
    raw, path = original
    path.write_bytes(raw)
    if key == "final_losses":
        literal = '{"loss": %s}' % literal
    elif key == "model":
        literal = '{"kind": "vae", "arch": "mlp", "latent_dim": 3, "%s": %s}' % (model_key, literal)
    rewrite_literal(path, "meta", key, literal)
    ckpt = loads_or_says_one_line(path)
    if ckpt is not None:  # what loads is what the app can show and reuse
        ckpt.describe()
        numbers = [v for k, v in ckpt.meta.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        numbers += list(ckpt.meta.get("final_losses", {}).values())
        assert all(math.isfinite(v) for v in numbers)
        assert 0 <= ckpt.meta.get("seed", 0) < 2**64


FLOATS32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
SHAPES = {"mean": (3,), "components": (3, 3), "variance": (3,), "bounds": (4,)}


@settings(settings.get_profile("checkpoint"))
@given(which=st.sampled_from(sorted(SHAPES)), data=st.data())
def test_any_finite_statistics_load_as_a_map_that_can_be_drawn_or_are_refused(original, which, data):
    raw, path = original
    path.write_bytes(raw)
    values = data.draw(arrays(np.float32, SHAPES[which], elements=FLOATS32))
    resave(path, lambda t: t.__setitem__(f"stats.{which}", torch.from_numpy(values)))
    ckpt = loads_or_says_one_line(path)
    if ckpt is None:
        return
    stats, limit = ckpt.stats, coding.MAX_CODE_NORM  # what the map relies on
    assert np.abs(stats.mean).max() <= limit and np.abs(stats.bounds).max() <= limit
    assert 0 <= stats.variance.min() and stats.variance.max() <= limit**2
    assert np.allclose(stats.components @ stats.components.T, np.eye(3), atol=1e-3)
    xmin, xmax, ymin, ymax = stats.bounds
    assert xmax - xmin >= checkpoint.MIN_MAP_WIDTH and ymax - ymin >= checkpoint.MIN_MAP_WIDTH
    uv = geometry.grid_coords(12, stats.bounds)
    for i, j in ((0, 1), (1, 2)):
        assert np.isfinite(stats.plane(i, j).to_latent(uv)).all()
    assert all(np.isfinite(r).all() for r in stats.ranges(prior=True))
    assert np.isfinite(stats.plane().project(np.zeros((1, 3)))).all()


def test_a_header_of_a_million_digits_is_refused_quickly(original):
    """Converting a million-digit integer is quadratic in Python (seconds); the limit comes first."""
    raw, path = original
    path.write_bytes(raw)
    n, header = header_of(raw)
    text = json.dumps(header).replace('"dtype": "F32"', '"dtype": "F32", "x": ' + "9" * 1_000_000, 1)
    path.write_bytes(struct.pack("<Q", len(text)) + text.encode() + raw[8 + n :])
    with pytest.raises(ExplorerError, match="an integer of 1,000,000 digits is not plausible"):
        checkpoint.load(path)
