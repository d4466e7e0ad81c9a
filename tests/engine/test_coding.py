"""Coding: embedding images, decoding codes, the principal plane and where the data's codes lie."""

import numpy as np
import pytest
import torch

from explorer.engine import coding, config
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.latent import geometry
from explorer.utils.errors import ExplorerError


def test_two_d_plane_is_the_latent_space_itself():
    stats = coding.stats_from_embeddings(np.random.default_rng(0).normal(size=(500, 2)) + [3, -1])
    plane = stats.plane()
    uv = np.array([[1.5, -2.0]])
    assert np.allclose(plane.to_latent(uv), uv) and np.allclose(plane.project(uv), uv)


def test_high_d_plane_goes_through_the_mean_along_the_main_axes():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(4000, 6)) * [5, 0.1, 3, 0.1, 0.1, 0.1] + 2.0
    stats = coding.stats_from_embeddings(z)
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


def test_decode_gives_uint8_images_and_rejects_bad_codes():
    model = build_model(ModelConfig(kind="ae"), seed=0).eval()
    images = coding.decode(model, np.array([[0.0, 0.0], [1e6, -1e6]]))
    assert images.shape == (2, 28, 28) and images.dtype == np.uint8
    expected = (model.decode(torch.zeros(1, 2))[0, 0] * 255).round().to(torch.uint8).numpy()
    assert np.array_equal(images[0], expected)
    with pytest.raises(ExplorerError, match="finite"):
        coding.decode(model, np.array([[np.nan, 0.0]]))
    with pytest.raises(ExplorerError, match="2 values"):
        coding.decode(model, np.zeros((1, 3)))


def test_conditional_model_needs_a_label_to_decode():
    model = build_model(ModelConfig(kind="cvae"), seed=0).eval()
    with pytest.raises(ExplorerError, match="label"):
        coding.decode(model, np.zeros((1, 2)))
    assert coding.decode(model, np.zeros((3, 2)), 4).shape == (3, 28, 28)


def test_embed_matches_the_models_encoder(tiny_images):
    images, labels = tiny_images
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0).eval()
    z = coding.embed(model, images, labels)
    with torch.no_grad():
        expected = model.encode(images.unsqueeze(1).float() / 255)
    assert z.shape == (64, 3) and np.allclose(z, expected.numpy(), atol=1e-6)


def test_sizes_beyond_the_limits_are_refused():
    with pytest.raises(ExplorerError, match="from 1 to"):
        geometry.grid_coords(config.MAX_GRID + 1, [0, 1, 0, 1])
    with pytest.raises(ExplorerError, match="from 1 to"):
        geometry.lerp([0, 0], [1, 1], 0)
    with pytest.raises(ExplorerError, match="xmin < xmax"):
        geometry.grid_coords(3, [1, 0, 0, 1])


def test_prior_circles_on_a_plane_through_the_origin_have_the_full_radii():
    centre, circles = coding.prior_stats(5).plane(0, 3).prior_circles()
    assert np.allclose(centre, 0) and circles == [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]


def test_prior_circles_shrink_on_a_plane_away_from_the_origin():
    # the plane z = (u, v, 2): distance 2 from the origin, so |z| = 3 cuts a circle of radius sqrt(5)
    plane = coding.Plane(np.array([0.5, -0.5, 2.0]), np.eye(3)[:2])
    centre, circles = plane.prior_circles()
    assert np.allclose(centre, [-0.5, 0.5])
    assert [r for r, _ in circles] == [3.0] and np.isclose(circles[0][1], np.sqrt(5))
    assert np.allclose(np.linalg.norm(plane.to_latent(centre + [circles[0][1], 0])), 3.0, atol=1e-5)


def test_bounds_frame_the_bulk_of_the_points_not_the_outliers():
    rng = np.random.default_rng(0)
    uv = np.concatenate([rng.uniform(-1, 1, size=(10_000, 2)), [[50.0, -50.0]]])
    xmin, xmax, ymin, ymax = coding.bounds_of(uv)
    assert -1.2 < xmin < -0.9 and 0.9 < xmax < 1.2 and -1.2 < ymin < -0.9 and 0.9 < ymax < 1.2


def test_distance_from_the_plane_is_what_projection_leaves_out():
    rng = np.random.default_rng(0)
    stats = coding.stats_from_embeddings(rng.normal(size=(800, 5)) * [4, 3, 1, 0.5, 0.2] + 1.0)
    plane = stats.plane()
    on = plane.to_latent([[0.5, -1.0], [2.0, 3.0]])
    assert np.allclose(plane.distance(on), 0, atol=1e-5)
    off = on[0] + 0.83 * stats.components[3]  # an axis orthogonal to the plane
    assert np.isclose(plane.distance(off)[0], 0.83, atol=1e-5)
    assert np.allclose(plane.project(off), plane.project(on[0]), atol=1e-5)
    assert np.allclose(coding.prior_stats(2).plane().distance(rng.normal(size=(4, 2))), 0)  # 2-d: no way off


def test_slider_ranges_are_the_data_mean_plus_minus_four_standard_deviations():
    z = np.random.default_rng(0).normal(size=(4000, 3)) * [2.0, 0.5, 0.01] + [1.0, -3.0, 0.0]
    z[:, 1] += 0.3 * z[:, 0]  # correlated: the per-dimension spread comes from the full covariance
    stats = coding.stats_from_embeddings(z)
    low, high = stats.ranges()
    std = z.std(axis=0, ddof=1)
    assert np.allclose(low, z.mean(axis=0) - 4 * std, rtol=1e-6) and np.allclose(high, z.mean(axis=0) + 4 * std)
    low, high = stats.ranges(prior=True)  # an unused VAE dimension still gets the prior's room
    assert np.isclose(low[2], -4) and np.isclose(high[2], 4) and np.isclose(low[0], z[:, 0].mean() - 4 * std[0])
    flat = coding.LatentStats(np.zeros(2), np.eye(2), np.zeros(2), np.zeros(4))
    assert (flat.ranges()[1] > flat.ranges()[0]).all()


def test_draws_from_the_encoder_are_reproducible_by_seed_and_spread_about_the_mean():
    model = build_model(ModelConfig(kind="vae", latent_dim=3), seed=0).eval()
    images = torch.randint(0, 256, (2, 28, 28), dtype=torch.uint8)
    a = coding.sample_posterior(model, images, seed=5)
    assert a.shape == (2, 3) and np.array_equal(a, coding.sample_posterior(model, images, seed=5))
    assert not np.allclose(a, coding.sample_posterior(model, images, seed=6))
    many = np.stack([coding.sample_posterior(model, images[:1], seed=s)[0] for s in range(400)])
    with torch.no_grad():
        mu, logvar = model.encode_stats(coding.to_input(images[:1]))
    assert np.allclose(many.mean(axis=0), mu[0].numpy(), atol=4 * np.exp(0.5 * logvar[0].numpy()).max() / 20)
    assert np.allclose(many.std(axis=0), np.exp(0.5 * logvar[0].numpy()), rtol=0.15)
    cvae = build_model(ModelConfig(kind="cvae"), seed=0).eval()
    assert coding.sample_posterior(cvae, images, torch.tensor([3, 7]), seed=1).shape == (2, 2)
    with pytest.raises(ExplorerError, match="only a VAE"):
        coding.sample_posterior(build_model(ModelConfig(kind="ae"), seed=0), images)
