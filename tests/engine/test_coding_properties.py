"""Properties of decoding that must hold for every code, not just the examples."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explorer.engine import coding
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.utils.errors import ExplorerError

settings.register_profile("latent", max_examples=40, deadline=None)
settings.load_profile("latent")

# (kind, arch, latent dim): every decoder shape, the conditional one, the GAN's BatchNorm generator
MODELS = [("ae", "mlp", 2), ("vae", "conv", 3), ("cvae", "mlp", 2), ("gan", "mlp", 2), ("gan", "conv", 4)]
BIG = np.finfo(np.float64).max
FAR = 3e38  # near float32's largest: before the codes were limited, every model decoded this to NaN


@pytest.fixture(scope="module")
def models():
    return [build_model(ModelConfig(kind=k, arch=a, latent_dim=d), seed=0).eval() for k, a, d in MODELS]


def codes(d, elements):
    return arrays(np.float64, st.tuples(st.integers(1, 4), st.just(d)), elements=elements)


finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(-1e6, 1e6, allow_nan=False)
@pytest.mark.parametrize("which", range(len(MODELS)), ids=["-".join(map(str, m)) for m in MODELS])
@settings(max_examples=20)  # a decode per example: the conv nets take a while on a laptop CPU
@given(data=st.data())
@example(data=None)  # the far corners, explicitly
def test_any_finite_code_decodes_to_an_image_in_0_1(models, which, data):
    model = models[which]
    d = model.latent_dim
    if data is None:
        z = np.array([[FAR] * d, [-FAR] + [FAR] * (d - 1), [BIG] * d, [1e-300] * d, [0.0] * d])
    else:
        z = data.draw(codes(d, st.one_of(finite, moderate)))
    label = 3 if model.conditional else None
    images = coding.decode_float(model, z, label)
    assert images.shape == (len(z), 1, 28, 28) and images.dtype == np.float32
    assert np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
    if data is None:  # the uint8 form is the same pictures
        pixels = coding.decode(model, z, label)
        assert pixels.shape == (len(z), 28, 28) and pixels.dtype == np.uint8
        assert np.array_equal(pixels, np.rint(images[:, 0] * 255).astype(np.uint8))


def norms_and_directions(z):
    """Computed without squaring the values, which overflows above 1e154."""
    peak = np.abs(z).max(axis=1, keepdims=True)
    unit = z / np.where(peak > 0, peak, 1)
    size = np.linalg.norm(unit, axis=1, keepdims=True)
    with np.errstate(over="ignore"):  # a norm beyond 1.8e308 is inf, which is what the test needs
        norms = (peak * size)[:, 0]
    return norms, unit / np.where(size > 0, size, 1)


@given(z=codes(3, finite))
def test_far_codes_are_decoded_at_the_limit_in_the_same_direction(z):
    limited = coding.limit_norm(z)
    norms, directions = norms_and_directions(z)
    inside = norms <= coding.MAX_CODE_NORM
    assert np.array_equal(limited[inside], z[inside])  # codes within the limit are exactly as given
    assert np.allclose(limited[~inside], coding.MAX_CODE_NORM * directions[~inside])


@given(z=codes(2, st.floats(allow_nan=False)), bad=st.sampled_from([np.nan, np.inf, -np.inf]), at=st.integers(0, 7))
def test_non_finite_codes_are_refused_with_a_message(models, z, bad, at):
    z = z.copy()
    z.flat[at % z.size] = bad
    with pytest.raises(ExplorerError, match="finite numbers"):
        coding.decode(models[0], z)


@given(uv=arrays(np.float64, st.tuples(st.integers(1, 4), st.just(2)), elements=finite), d=st.integers(2, 5))
def test_any_finite_map_point_stands_for_a_finite_code(uv, d):
    """Map points as large as float64 holds: the plane's code for each is finite (float32 would make
    1e300 infinite, and the decoder then called the point non-finite)."""
    stats = coding.stats_from_embeddings(np.random.default_rng(d).normal(size=(50, d)))
    assert np.isfinite(stats.plane().to_latent(uv)).all()
