import numpy as np

from explorer.selection import in_polygon, in_rect


def test_rectangle_with_corners_in_any_order():
    pts = np.array([[0, 0], [1, 1], [2, 2], [-1, 0.5]])
    assert in_rect(pts, 1.5, -0.5, 1.5, -0.5).tolist() == [True, True, False, False]


def test_lasso_handles_concave_shapes():
    # a "U": the notch between the arms is outside
    u = np.array([[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3]])
    pts = np.array([[0.5, 2.5], [2.5, 2.5], [1.5, 2.0], [1.5, 0.5], [4.0, 1.0]])
    assert in_polygon(pts, u).tolist() == [True, True, False, True, False]


def test_degenerate_lasso_selects_nothing():
    assert not in_polygon(np.zeros((3, 2)), np.array([[0, 0], [1, 1]])).any()


def test_matches_a_brute_force_count_on_random_points():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, size=(20_000, 2))
    circle = np.stack([np.cos(t := np.linspace(0, 2 * np.pi, 200, endpoint=False)), np.sin(t)], axis=1) * 0.8
    inside = in_polygon(pts, circle)
    assert np.mean(inside == (np.linalg.norm(pts, axis=1) < 0.8)) > 0.995
