"""Properties of the latent maths and decoding that must hold for every input, not just the examples."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explorer import export, latent
from explorer.config import ModelConfig
from explorer.errors import ExplorerError
from explorer.models import build_model

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
    images = latent.decode_float(model, z, label)
    assert images.shape == (len(z), 1, 28, 28) and images.dtype == np.float32
    assert np.isfinite(images).all() and images.min() >= 0 and images.max() <= 1
    if data is None:  # the uint8 form is the same pictures
        pixels = latent.decode(model, z, label)
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
    limited = latent.limit_norm(z)
    norms, directions = norms_and_directions(z)
    inside = norms <= latent.MAX_CODE_NORM
    assert np.array_equal(limited[inside], z[inside])  # codes within the limit are exactly as given
    assert np.allclose(limited[~inside], latent.MAX_CODE_NORM * directions[~inside])


@given(z=codes(2, st.floats(allow_nan=False)), bad=st.sampled_from([np.nan, np.inf, -np.inf]), at=st.integers(0, 7))
def test_non_finite_codes_are_refused_with_a_message(models, z, bad, at):
    z = z.copy()
    z.flat[at % z.size] = bad
    with pytest.raises(ExplorerError, match="finite numbers"):
        latent.decode(models[0], z)


@given(n=st.integers(1, latent.MAX_GRID),
       corner=st.tuples(moderate, moderate), size=st.tuples(st.floats(1e-3, 1e6), st.floats(1e-3, 1e6)))
def test_every_grid_size_up_to_the_maximum_covers_the_range(n, corner, size):
    xmin, ymin = corner
    bounds = (xmin, xmin + size[0], ymin, ymin + size[1])
    points = latent.grid_coords(n, bounds)
    assert points.shape == (n * n, 2) and np.isfinite(points).all()
    lo, hi = np.array([bounds[0], bounds[2]]), np.array([bounds[1], bounds[3]])
    assert np.all(points >= lo - 1e-9 * np.abs(lo)) and np.all(points <= hi + 1e-9 * np.abs(hi))
    if n > 1:  # corners exact; row 0 is the top
        assert tuple(points[0]) == (bounds[0], bounds[3]) and tuple(points[-1]) == (bounds[1], bounds[2])


@given(n=st.one_of(st.integers(max_value=0), st.integers(min_value=latent.MAX_GRID + 1)))
def test_grid_sizes_outside_the_limits_are_refused(n):
    with pytest.raises(ExplorerError, match=f"grid size must be a whole number from 1 to {latent.MAX_GRID}"):
        latent.grid_coords(n, (0, 1, 0, 1))


@given(bounds=st.tuples(finite, finite, finite, finite).filter(lambda b: b[0] >= b[1] or b[2] >= b[3]))
def test_empty_ranges_are_refused(bounds):
    with pytest.raises(ExplorerError, match="xmin < xmax and ymin < ymax"):
        latent.grid_coords(3, bounds)


def points(d):
    return arrays(np.float64, d, elements=st.floats(-1e30, 1e30, allow_nan=False))


@given(n=st.integers(1, latent.MAX_STEPS), a=points(3), b=points(3), spherical=st.booleans())
def test_interpolation_has_the_asked_steps_and_exact_endpoints(n, a, b, spherical):
    path = (latent.slerp if spherical else latent.lerp)(a, b, n)
    assert path.shape == (n, 3) and np.isfinite(path).all()
    assert np.array_equal(path[0], a)
    if n > 1:
        assert np.array_equal(path[-1], b)


@given(n=st.integers(1, latent.MAX_STEPS), waypoints=arrays(np.float64, st.tuples(st.integers(1, 5), st.just(2)),
                                                            elements=moderate), spherical=st.booleans())
def test_paths_on_the_map_start_and_end_at_their_waypoints(n, waypoints, spherical):
    stats = latent.stats_from_embeddings(np.random.default_rng(0).normal(size=(50, 4)))
    plane = stats.plane()
    codes = latent.path_codes(plane, waypoints, n, spherical)
    ends = plane.to_latent(waypoints[[0, -1]])
    assert codes.shape == (n, 4) and np.isfinite(codes).all()
    assert np.array_equal(codes[0], ends[0])
    if n > 1:
        assert np.array_equal(codes[-1], ends[1])


@given(n=st.one_of(st.integers(max_value=0), st.integers(min_value=latent.MAX_STEPS + 1), st.just(True)))
def test_step_counts_outside_the_limits_are_refused(n):
    with pytest.raises(ExplorerError, match=f"steps must be a whole number from 1 to {latent.MAX_STEPS}"):
        latent.lerp([0.0, 0.0], [1.0, 1.0], n)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_path_points_are_refused(bad):
    with pytest.raises(ExplorerError, match="path points must be finite"):
        latent.path_codes(latent.prior_stats(2).plane(), [[0.0, 0.0], [bad, 1.0]], 5)
    with pytest.raises(ExplorerError, match="path points must be finite"):
        latent.slerp(np.array([0.0, bad]), np.array([1.0, 1.0]), 5)


def test_the_largest_grid_and_path_decode(models):
    """The stated maxima are real: a MAX_GRID x MAX_GRID grid and a MAX_STEPS path decode and tile."""
    model, plane = models[1], latent.prior_stats(3).plane()
    grid = export.grid_image(model, plane, latent.MAX_GRID, (-50, 50, -50, 50))
    assert grid.shape == (28 * latent.MAX_GRID,) * 2
    frames = export.path_frames(model, plane, [[-1e5, 0], [0, 0], [3, 3]], latent.MAX_STEPS, spherical=True)
    assert frames.shape == (latent.MAX_STEPS, 28, 28)


@given(uv=arrays(np.float64, st.tuples(st.integers(1, 4), st.just(2)), elements=finite), d=st.integers(2, 5))
def test_any_finite_map_point_stands_for_a_finite_code(uv, d):
    """Map points as large as float64 holds: the plane's code for each is finite (float32 would make
    1e300 infinite, and the decoder then called the point non-finite)."""
    stats = latent.stats_from_embeddings(np.random.default_rng(d).normal(size=(50, d)))
    assert np.isfinite(stats.plane().to_latent(uv)).all()


@given(big=st.floats(latent.MAX_MAP_COORD, BIG, exclude_min=True), at=st.integers(0, 3), grid=st.booleans())
def test_map_coordinates_beyond_the_stated_range_are_refused_as_such(big, at, grid):
    values = [-1.0, 1.0, -1.0, 1.0]
    values[at] = big if at % 2 else -big  # keeps xmin < xmax and ymin < ymax
    with pytest.raises(ExplorerError, match=r"must lie within ±1e\+12 on the map, got") as e:
        if grid:
            latent.grid_coords(3, values)
        else:
            latent.path_codes(latent.prior_stats(2).plane(), np.reshape(values, (2, 2)), 5)
    assert "finite" not in str(e.value)
