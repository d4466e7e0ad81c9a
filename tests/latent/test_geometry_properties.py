"""Properties of the map's geometry (grids, paths, map coordinates) that must hold for every input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from explorer.engine import coding, config
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.latent import export, geometry
from explorer.utils.errors import ExplorerError

settings.register_profile("latent", max_examples=40, deadline=None)
settings.load_profile("latent")

# (kind, arch, latent dim): every decoder shape, the conditional one, the GAN's BatchNorm generator
MODELS = [("ae", "mlp", 2), ("vae", "conv", 3), ("cvae", "mlp", 2), ("gan", "mlp", 2), ("gan", "conv", 4)]
BIG = np.finfo(np.float64).max


@pytest.fixture(scope="module")
def models():
    return [build_model(ModelConfig(kind=k, arch=a, latent_dim=d), seed=0).eval() for k, a, d in MODELS]


finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(-1e6, 1e6, allow_nan=False)


@given(n=st.integers(1, config.MAX_GRID),
       corner=st.tuples(moderate, moderate), size=st.tuples(st.floats(1e-3, 1e6), st.floats(1e-3, 1e6)))
def test_every_grid_size_up_to_the_maximum_covers_the_range(n, corner, size):
    xmin, ymin = corner
    bounds = (xmin, xmin + size[0], ymin, ymin + size[1])
    points = geometry.grid_coords(n, bounds)
    assert points.shape == (n * n, 2) and np.isfinite(points).all()
    lo, hi = np.array([bounds[0], bounds[2]]), np.array([bounds[1], bounds[3]])
    assert np.all(points >= lo - 1e-9 * np.abs(lo)) and np.all(points <= hi + 1e-9 * np.abs(hi))
    if n > 1:  # corners exact; row 0 is the top
        assert tuple(points[0]) == (bounds[0], bounds[3]) and tuple(points[-1]) == (bounds[1], bounds[2])


@given(n=st.one_of(st.integers(max_value=0), st.integers(min_value=config.MAX_GRID + 1)))
def test_grid_sizes_outside_the_limits_are_refused(n):
    with pytest.raises(ExplorerError, match=f"grid size must be a whole number from 1 to {config.MAX_GRID}"):
        geometry.grid_coords(n, (0, 1, 0, 1))


@given(bounds=st.tuples(finite, finite, finite, finite).filter(lambda b: b[0] >= b[1] or b[2] >= b[3]))
def test_empty_ranges_are_refused(bounds):
    with pytest.raises(ExplorerError, match="xmin < xmax and ymin < ymax"):
        geometry.grid_coords(3, bounds)


def points(d):
    return arrays(np.float64, d, elements=st.floats(-1e30, 1e30, allow_nan=False))


@given(n=st.integers(1, config.MAX_STEPS), a=points(3), b=points(3), spherical=st.booleans())
def test_interpolation_has_the_asked_steps_and_exact_endpoints(n, a, b, spherical):
    path = (geometry.slerp if spherical else geometry.lerp)(a, b, n)
    assert path.shape == (n, 3) and np.isfinite(path).all()
    assert np.array_equal(path[0], a)
    if n > 1:
        assert np.array_equal(path[-1], b)


@given(n=st.integers(1, config.MAX_STEPS), waypoints=arrays(np.float64, st.tuples(st.integers(1, 5), st.just(2)),
                                                            elements=moderate), spherical=st.booleans())
def test_paths_on_the_map_start_and_end_at_their_waypoints(n, waypoints, spherical):
    stats = coding.stats_from_embeddings(np.random.default_rng(0).normal(size=(50, 4)))
    plane = stats.plane()
    codes = geometry.path_codes(plane, waypoints, n, spherical)
    ends = plane.to_latent(waypoints[[0, -1]])
    assert codes.shape == (n, 4) and np.isfinite(codes).all()
    assert np.array_equal(codes[0], ends[0])
    if n > 1:
        assert np.array_equal(codes[-1], ends[1])


@given(n=st.one_of(st.integers(max_value=0), st.integers(min_value=config.MAX_STEPS + 1), st.just(True)))
def test_step_counts_outside_the_limits_are_refused(n):
    with pytest.raises(ExplorerError, match=f"steps must be a whole number from 1 to {config.MAX_STEPS}"):
        geometry.lerp([0.0, 0.0], [1.0, 1.0], n)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_path_points_are_refused(bad):
    with pytest.raises(ExplorerError, match="path points must be finite"):
        geometry.path_codes(coding.prior_stats(2).plane(), [[0.0, 0.0], [bad, 1.0]], 5)
    with pytest.raises(ExplorerError, match="path points must be finite"):
        geometry.slerp(np.array([0.0, bad]), np.array([1.0, 1.0]), 5)


def test_the_largest_grid_and_path_decode(models):
    """The stated maxima are real: a MAX_GRID x MAX_GRID grid and a MAX_STEPS path decode and tile."""
    model, plane = models[1], coding.prior_stats(3).plane()
    grid = export.grid_image(model, plane, config.MAX_GRID, (-50, 50, -50, 50))
    assert grid.shape == (28 * config.MAX_GRID,) * 2
    frames = export.path_frames(model, plane, [[-1e5, 0], [0, 0], [3, 3]], config.MAX_STEPS, spherical=True)
    assert frames.shape == (config.MAX_STEPS, 28, 28)


@given(big=st.floats(coding.MAX_MAP_COORD, BIG, exclude_min=True), at=st.integers(0, 3), grid=st.booleans())
def test_map_coordinates_beyond_the_stated_range_are_refused_as_such(big, at, grid):
    values = [-1.0, 1.0, -1.0, 1.0]
    values[at] = big if at % 2 else -big  # keeps xmin < xmax and ymin < ymax
    with pytest.raises(ExplorerError, match=r"must lie within ±1e\+12 on the map, got") as e:
        if grid:
            geometry.grid_coords(3, values)
        else:
            geometry.path_codes(coding.prior_stats(2).plane(), np.reshape(values, (2, 2)), 5)
    assert "finite" not in str(e.value)
