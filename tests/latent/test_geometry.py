"""The map's geometry: grids, lerp and slerp, paths by arc length, neighbours, attribute directions."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.latent import geometry
from explorer.utils.errors import ExplorerError


def test_grid_rows_run_top_down_from_the_largest_y():
    pts = geometry.grid_coords(12, [-5, 10, -10, 5])  # the lecture's grid
    assert pts.shape == (144, 2)
    assert tuple(pts[0]) == (-5, 5) and tuple(pts[11]) == (10, 5) and tuple(pts[-1]) == (10, -10)


def test_interpolation_endpoints_are_exact_and_spacing_even():
    a, b = np.array([0.1, 0.2, 0.3]), np.array([-1.0, 2.0, 0.5])
    for path in (geometry.lerp(a, b, 7), geometry.slerp(a, b, 7)):
        assert np.array_equal(path[0], a) and np.array_equal(path[-1], b)
    steps = np.linalg.norm(np.diff(geometry.lerp(a, b, 7), axis=0), axis=1)
    assert np.allclose(steps, steps[0])


def test_slerp_keeps_the_norm_between_equal_norm_ends():
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 0.0, 3.0])
    assert np.allclose(np.linalg.norm(geometry.slerp(a, b, 9), axis=1), 3.0)
    assert np.linalg.norm(geometry.lerp(a, b, 9)[4]) < 2.2  # lerp cuts through the middle


def test_polyline_resampling_follows_the_corners():
    pts = geometry.resample_polyline([[0, 0], [2, 0], [2, 2]], 5)
    assert np.allclose(pts, [[0, 0], [1, 0], [2, 0], [2, 1], [2, 2]])


def test_nearest_returns_the_closest_first():
    codes = np.array([[0, 0], [5, 5], [1, 0], [0, 2]], dtype=np.float32)
    assert geometry.nearest(codes, [0.1, 0], k=3).tolist() == [0, 2, 3]
    assert len(geometry.nearest(codes, [0, 0], k=10)) == 4


def test_nearest_each_answers_every_query_as_nearest_answers_one():
    rng = np.random.default_rng(0)
    codes, queries = rng.normal(size=(500, 3)).astype(np.float32), rng.normal(size=(4100, 3)).astype(np.float32)
    dist, idx = geometry.nearest_each(torch.from_numpy(codes), torch.from_numpy(queries), 4)  # spans two blocks
    assert idx.shape == dist.shape == (4100, 4) and (np.diff(dist, axis=1) >= 0).all()
    for q in (0, 2047, 2048, 4099):
        assert idx[q].tolist() == geometry.nearest(codes, queries[q], k=4).tolist()
        assert np.allclose(dist[q], np.linalg.norm(codes[idx[q]] - queries[q], axis=1), atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 1000.0), st.integers(0, 299), st.integers(1, 8))
def test_nearest_each_finds_a_point_at_exactly_zero_from_itself(offset, q, d):
    codes = (np.random.default_rng(d).normal(size=(300, d)) + offset).astype(np.float32)  # far from 0 too
    dist, idx = geometry.nearest_each(torch.from_numpy(codes), torch.from_numpy(codes[q : q + 1]), 3)
    assert dist[0, 0] == 0.0 and np.array_equal(codes[idx[0, 0]], codes[q])


def test_attribute_direction_moves_one_group_mean_onto_the_other():
    a, b = np.array([[0, 0], [2, 0]]), np.array([[1, 3], [1, 5]])
    d = geometry.direction(a, b)
    assert np.allclose(d, [0, 4])
    strip = geometry.walk(a.mean(axis=0), d, [0, 0.5, 1])
    assert np.allclose(strip[-1], b.mean(axis=0)) and np.allclose(strip[1], [1, 2])
    with pytest.raises(ExplorerError, match="both groups"):
        geometry.direction(a[:0], b)
