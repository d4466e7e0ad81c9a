"""Density images of points denser than pixels."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.latent import splat

PALETTE = splat.hex_to_rgb(("#ff0000", "#00ff00", "#0000ff"))


def test_a_cell_takes_the_colour_most_of_its_points_have_and_fuller_cells_are_more_opaque():
    px = np.array([0.5, 0.6, 0.7, 4.5, 9.9, 50.0, -1.0])
    py = np.array([0.5, 0.5, 0.5, 0.5, 9.9, 1.0, 1.0])
    index = np.array([1, 1, 2, 0, 2, 0, 0])
    rgba = splat.density_rgba(px, py, index, 10, 10, PALETTE, cell=2)
    assert rgba.shape == (5, 5, 4)
    assert tuple(rgba[0, 0, :3]) == (0, 255, 0)  # two green beat one blue
    assert tuple(rgba[0, 2, :3]) == (255, 0, 0) and tuple(rgba[4, 4, :3]) == (0, 0, 255)
    assert rgba[0, 0, 3] == 255 and rgba[0, 2, 3] == round(255 * splat.SPARSEST_ALPHA)
    assert rgba[..., 3].astype(bool).sum() == 3  # points outside the region draw nothing
    faded = splat.density_rgba(px, py, index, 10, 10, PALETTE, cell=2, opacity=0.25)
    assert faded[0, 0, 3] == round(255 * 0.25)


@settings(max_examples=50, deadline=None)
@given(n=st.integers(0, 300), width=st.integers(1, 60), height=st.integers(1, 60), cell=st.integers(1, 4),
       seed=st.integers(0, 2**16))
def test_every_point_inside_lights_its_cell_and_nothing_else_is_lit(n, width, height, cell, seed):
    rng = np.random.default_rng(seed)
    px, py = rng.uniform(-10, width + 10, n), rng.uniform(-10, height + 10, n)
    index = rng.integers(0, 3, n)
    rgba = splat.density_rgba(px, py, index, width, height, PALETTE, cell)
    assert rgba.shape == (-(-height // cell), -(-width // cell), 4)
    inside = (px >= 0) & (px < rgba.shape[1] * cell) & (py >= 0) & (py < rgba.shape[0] * cell)
    lit = np.zeros(rgba.shape[:2], dtype=bool)
    lit[(py[inside] // cell).astype(int), (px[inside] // cell).astype(int)] = True
    np.testing.assert_array_equal(rgba[..., 3] > 0, lit)
