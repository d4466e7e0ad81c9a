"""The learned way back from map positions to codes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.latent.maps import inverse
from explorer.utils.errors import ExplorerError


def smooth_codes(uv):
    """A smooth 5-d surface over the plane: what a good layout of a latent space looks like locally."""
    u, v = uv[:, 0], uv[:, 1]
    return np.stack([u, v, np.sin(u), np.cos(v), u * v / 4], axis=1)


def test_a_smooth_surface_is_learned_back_within_a_few_percent_of_its_spread():
    uv = np.random.default_rng(0).uniform(-3, 3, size=(1000, 2))
    fitted = inverse.fit(uv, smooth_codes(uv), steps=1000)
    assert inverse.relative_error(fitted, uv, smooth_codes(uv)) < 0.05
    fresh = np.random.default_rng(1).uniform(-2.5, 2.5, size=(200, 2))  # between the data points
    assert inverse.relative_error(fitted, fresh, smooth_codes(fresh)) < 0.08


def test_the_same_seed_gives_the_same_inverse_and_it_survives_a_round_trip_through_tensors():
    uv = np.random.default_rng(0).normal(size=(300, 2))
    a = inverse.fit(uv, smooth_codes(uv), seed=3, steps=200)
    b = inverse.fit(uv, smooth_codes(uv), seed=3, steps=200)
    np.testing.assert_array_equal(a(uv), b(uv))
    rebuilt = inverse.Inverse.from_state(a.state(), 5)
    np.testing.assert_allclose(rebuilt(uv), a(uv), rtol=1e-6, atol=1e-6)


def test_fitting_stops_when_asked_and_reports_its_progress():
    uv = np.random.default_rng(0).normal(size=(100, 2))
    seen = []
    with pytest.raises(inverse.Cancelled):
        inverse.fit(uv, smooth_codes(uv), steps=1000, should_stop=lambda: len(seen) >= 3, report=seen.append)
    assert seen == sorted(seen) and len(seen) == 3
    done = []
    inverse.fit(uv, smooth_codes(uv), steps=300, report=done.append)
    assert done[0] == 0 and done[-1] == 1 and done == sorted(done)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 6), d=st.integers(1, 4), bad=st.sampled_from(["nan", "inf", "shape", "count", None]))
def test_bad_pairs_are_one_clear_error(n, d, bad):
    uv, codes = np.zeros((n, 2)), np.ones((n, d))
    if bad == "shape":
        uv = np.zeros((n, 3))
    elif bad == "count":
        codes = np.ones((n + 1, d))
    elif bad in ("nan", "inf") and n:
        codes[0, 0] = float(bad)
    if bad is None and n >= 2:
        assert inverse.fit(uv, codes, steps=1)(uv).shape == (n, d)
        return
    with pytest.raises(ExplorerError, match="map positions"):
        inverse.fit(uv, codes, steps=1)
