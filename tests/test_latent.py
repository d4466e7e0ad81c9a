import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import latent
from explorer.config import ModelConfig
from explorer.errors import ExplorerError
from explorer.models import build_model


def test_grid_rows_run_top_down_from_the_largest_y():
    pts = latent.grid_coords(12, [-5, 10, -10, 5])  # the lecture's grid
    assert pts.shape == (144, 2)
    assert tuple(pts[0]) == (-5, 5) and tuple(pts[11]) == (10, 5) and tuple(pts[-1]) == (10, -10)


def test_two_d_plane_is_the_latent_space_itself():
    stats = latent.stats_from_embeddings(np.random.default_rng(0).normal(size=(500, 2)) + [3, -1])
    plane = stats.plane()
    uv = np.array([[1.5, -2.0]])
    assert np.allclose(plane.to_latent(uv), uv) and np.allclose(plane.project(uv), uv)


def test_high_d_plane_goes_through_the_mean_along_the_main_axes():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4000, 6)) * [5, 0.1, 3, 0.1, 0.1, 0.1] + 2.0
    stats = latent.stats_from_embeddings(z)
    plane = stats.plane()
    assert np.allclose(plane.to_latent([[0, 0]])[0], z.mean(axis=0), atol=1e-5)
    assert abs(plane.axes[0, 0]) > 0.99 and abs(plane.axes[1, 2]) > 0.99  # the two widest axes, in order
    uv = np.array([[0.3, -1.2], [4.0, 2.0]])
    assert np.allclose(plane.project(plane.to_latent(uv)), uv, atol=1e-5)  # every map point is on the plane
    assert stats.explained() > 0.95
    other = stats.plane(2, 3)
    assert not np.allclose(other.axes, plane.axes)
    with pytest.raises(ExplorerError):
        stats.plane(0, 0)


def test_interpolation_endpoints_are_exact_and_spacing_even():
    a, b = np.array([0.1, 0.2, 0.3]), np.array([-1.0, 2.0, 0.5])
    for path in (latent.lerp(a, b, 7), latent.slerp(a, b, 7)):
        assert np.array_equal(path[0], a) and np.array_equal(path[-1], b)
    steps = np.linalg.norm(np.diff(latent.lerp(a, b, 7), axis=0), axis=1)
    assert np.allclose(steps, steps[0])


def test_slerp_keeps_the_norm_between_equal_norm_ends():
    a, b = np.array([3.0, 0.0, 0.0]), np.array([0.0, 0.0, 3.0])
    assert np.allclose(np.linalg.norm(latent.slerp(a, b, 9), axis=1), 3.0)
    assert np.linalg.norm(latent.lerp(a, b, 9)[4]) < 2.2  # lerp cuts through the middle


def test_polyline_resampling_follows_the_corners():
    pts = latent.resample_polyline([[0, 0], [2, 0], [2, 2]], 5)
    assert np.allclose(pts, [[0, 0], [1, 0], [2, 0], [2, 1], [2, 2]])


def test_decode_gives_uint8_images_and_rejects_bad_codes():
    model = build_model(ModelConfig(kind="ae"), seed=0).eval()
    images = latent.decode(model, np.array([[0.0, 0.0], [1e6, -1e6]]))
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    expected = (model.decode(torch.zeros(1, 2))[0, 0] * 255).round().to(torch.uint8).numpy()
    assert np.array_equal(images[0], expected)
    with pytest.raises(ExplorerError, match="finite"):
        latent.decode(model, np.array([[np.nan, 0.0]]))
    with pytest.raises(ExplorerError, match="2 values"):
        latent.decode(model, np.zeros((1, 3)))


def test_conditional_model_needs_a_label_to_decode():
    model = build_model(ModelConfig(kind="cvae"), seed=0).eval()
    with pytest.raises(ExplorerError, match="label"):
        latent.decode(model, np.zeros((1, 2)))
    assert latent.decode(model, np.zeros((3, 2)), 4).shape == (3, 28, 28)


def test_embed_matches_the_models_encoder(tiny_images):
    images, labels = tiny_images
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0).eval()
    z = latent.embed(model, images, labels)
    with torch.no_grad():
        expected = model.encode(images.unsqueeze(1).float() / 255)
    assert z.shape == (64, 3) and np.allclose(z, expected.numpy(), atol=1e-6)


def test_sizes_beyond_the_limits_are_refused():
    with pytest.raises(ExplorerError, match="from 1 to"):
        latent.grid_coords(latent.MAX_GRID + 1, [0, 1, 0, 1])
    with pytest.raises(ExplorerError, match="from 1 to"):
        latent.lerp([0, 0], [1, 1], 0)
    with pytest.raises(ExplorerError, match="xmin < xmax"):
        latent.grid_coords(3, [1, 0, 0, 1])


def test_prior_circles_on_a_plane_through_the_origin_have_the_full_radii():
    centre, circles = latent.prior_stats(5).plane(0, 3).prior_circles()
    assert np.allclose(centre, 0) and circles == [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]


def test_prior_circles_shrink_on_a_plane_away_from_the_origin():
    # the plane z = (u, v, 2): distance 2 from the origin, so |z| = 3 cuts a circle of radius sqrt(5)
    plane = latent.Plane(np.array([0.5, -0.5, 2.0]), np.eye(3)[:2])
    centre, circles = plane.prior_circles()
    assert np.allclose(centre, [-0.5, 0.5])
    assert [r for r, _ in circles] == [3.0] and np.isclose(circles[0][1], np.sqrt(5))
    assert np.allclose(np.linalg.norm(plane.to_latent(centre + [circles[0][1], 0])), 3.0, atol=1e-5)


def test_bounds_frame_the_bulk_of_the_points_not_the_outliers():
    rng = np.random.default_rng(0)
    uv = np.concatenate([rng.uniform(-1, 1, size=(10_000, 2)), [[50.0, -50.0]]])
    xmin, xmax, ymin, ymax = latent.bounds_of(uv)
    assert -1.2 < xmin < -0.9 and 0.9 < xmax < 1.2 and -1.2 < ymin < -0.9 and 0.9 < ymax < 1.2


def test_nearest_returns_the_closest_first():
    codes = np.array([[0, 0], [5, 5], [1, 0], [0, 2]], dtype=np.float32)
    assert latent.nearest(codes, [0.1, 0], k=3).tolist() == [0, 2, 3]
    assert len(latent.nearest(codes, [0, 0], k=10)) == 4


def test_nearest_each_answers_every_query_as_nearest_answers_one():
    rng = np.random.default_rng(0)
    codes, queries = rng.normal(size=(500, 3)).astype(np.float32), rng.normal(size=(4100, 3)).astype(np.float32)
    dist, idx = latent.nearest_each(torch.from_numpy(codes), torch.from_numpy(queries), 4)  # spans two blocks
    assert idx.shape == dist.shape == (4100, 4) and (np.diff(dist, axis=1) >= 0).all()
    for q in (0, 2047, 2048, 4099):
        assert idx[q].tolist() == latent.nearest(codes, queries[q], k=4).tolist()
        assert np.allclose(dist[q], np.linalg.norm(codes[idx[q]] - queries[q], axis=1), atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 1000.0), st.integers(0, 299), st.integers(1, 8))
def test_nearest_each_finds_a_point_at_exactly_zero_from_itself(offset, q, d):
    codes = (np.random.default_rng(d).normal(size=(300, d)) + offset).astype(np.float32)  # far from 0 too
    dist, idx = latent.nearest_each(torch.from_numpy(codes), torch.from_numpy(codes[q : q + 1]), 3)
    assert dist[0, 0] == 0.0 and np.array_equal(codes[idx[0, 0]], codes[q])


def test_attribute_direction_moves_one_group_mean_onto_the_other():
    a, b = np.array([[0, 0], [2, 0]]), np.array([[1, 3], [1, 5]])
    d = latent.direction(a, b)
    assert np.allclose(d, [0, 4])
    strip = latent.walk(a.mean(axis=0), d, [0, 0.5, 1])
    assert np.allclose(strip[-1], b.mean(axis=0)) and np.allclose(strip[1], [1, 2])
    with pytest.raises(ExplorerError, match="both groups"):
        latent.direction(a[:0], b)


def test_distance_from_the_plane_is_what_projection_leaves_out():
    rng = np.random.default_rng(0)
    stats = latent.stats_from_embeddings(rng.normal(size=(800, 5)) * [4, 3, 1, 0.5, 0.2] + 1.0)
    plane = stats.plane()
    on = plane.to_latent([[0.5, -1.0], [2.0, 3.0]])
    assert np.allclose(plane.distance(on), 0, atol=1e-5)
    off = on[0] + 0.83 * stats.components[3]  # an axis orthogonal to the plane
    assert np.isclose(plane.distance(off)[0], 0.83, atol=1e-5)
    assert np.allclose(plane.project(off), plane.project(on[0]), atol=1e-5)
    assert np.allclose(latent.prior_stats(2).plane().distance(rng.normal(size=(4, 2))), 0)  # 2-d: no way off


def test_slider_ranges_are_the_data_mean_plus_minus_four_standard_deviations():
    z = np.random.default_rng(0).normal(size=(4000, 3)) * [2.0, 0.5, 0.01] + [1.0, -3.0, 0.0]
    z[:, 1] += 0.3 * z[:, 0]  # correlated: the per-dimension spread comes from the full covariance
    stats = latent.stats_from_embeddings(z)
    low, high = stats.ranges()
    std = z.std(axis=0, ddof=1)
    assert np.allclose(low, z.mean(axis=0) - 4 * std, rtol=1e-6) and np.allclose(high, z.mean(axis=0) + 4 * std)
    low, high = stats.ranges(prior=True)  # an unused VAE dimension still gets the prior's room
    assert np.isclose(low[2], -4) and np.isclose(high[2], 4) and np.isclose(low[0], z[:, 0].mean() - 4 * std[0])
    flat = latent.LatentStats(np.zeros(2), np.eye(2), np.zeros(2), np.zeros(4))
    assert (flat.ranges()[1] > flat.ranges()[0]).all()


def test_draws_from_the_encoder_are_reproducible_by_seed_and_spread_about_the_mean():
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0).eval()
    images = torch.randint(0, 256, (2, 28, 28), dtype=torch.uint8)
    a = latent.sample_posterior(model, images, seed=5)
    assert a.shape == (2, 3) and np.array_equal(a, latent.sample_posterior(model, images, seed=5))
    assert not np.allclose(a, latent.sample_posterior(model, images, seed=6))
    many = np.stack([latent.sample_posterior(model, images[:1], seed=s)[0] for s in range(400)])
    with torch.no_grad():
        mu, logvar = model.encode_stats(latent.to_input(images[:1]))
    assert np.allclose(many.mean(axis=0), mu[0].numpy(), atol=4 * np.exp(0.5 * logvar[0].numpy()).max() / 20)
    assert np.allclose(many.std(axis=0), np.exp(0.5 * logvar[0].numpy()), rtol=0.15)
    cvae = build_model(ModelConfig(kind="cvae"), seed=0).eval()
    assert latent.sample_posterior(cvae, images, torch.tensor([3, 7]), seed=1).shape == (2, 2)
    with pytest.raises(ExplorerError, match="only a VAE"):
        latent.sample_posterior(build_model(ModelConfig(kind="ae"), seed=0), images)
