"""Decodability: the classifier's confidence over a map region and in reconstructions."""

import numpy as np
import pytest

from explorer.engine import checkpoint, coding, trained
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.latent import decodability, metrics
from explorer.utils.errors import ExplorerError


@pytest.fixture(scope="module")
def classifier():
    return decodability.load_classifier()


@pytest.fixture(scope="module")
def vae():
    return checkpoint.load(trained.trained_dir() / "vae-2d-mlp.safetensors")


def test_cell_centres_sit_in_the_middle_of_each_cell_top_row_first():
    centres = decodability.cell_centres(4, (0, 4, 0, 8)).reshape(4, 4, 2)
    assert np.allclose(centres[0, :, 0], [0.5, 1.5, 2.5, 3.5])
    assert np.allclose(centres[:, 0, 1], [7, 5, 3, 1])
    assert np.allclose(decodability.cell_centres(1, (0, 2, 0, 6)), [[1, 3]])


def test_confidence_grid_scores_the_decode_of_each_cell_centre(vae, classifier):
    bounds, n = (-6.0, 6.0, -6.0, 6.0), 8
    grid = decodability.confidence_grid(vae.model, classifier, vae.stats.plane(), n, bounds)
    assert grid.shape == (n, n)
    top_left = coding.decode(vae.model, vae.stats.plane().to_latent([-6 + 0.75, 6 - 0.75]))
    assert grid[0, 0] == pytest.approx(metrics.confidence(classifier, top_left)[0], abs=1e-6)
    assert np.all((grid >= 0.1 - 1e-6) & (grid <= 1))  # ten classes: the top probability is at least 1/10
    assert grid.max() > 0.95 and grid.min() < 0.9  # the shipped VAE decodes clean digits and blobs in that region


def test_reconstructions_of_real_digits_are_confidently_digits(vae, classifier, mnist_test):
    images = mnist_test.images[:300]
    conf = decodability.reconstruction_confidence(vae.model, classifier, images)
    expected = metrics.confidence(classifier, coding.decode(vae.model, coding.embed(vae.model, images)))
    assert np.allclose(conf, expected, atol=1e-6)
    assert conf.mean() > 0.8


def test_a_conditional_model_reconstructs_with_each_images_own_label(tiny_images, classifier):
    images, labels = tiny_images
    model = build_model(ModelConfig(kind="cvae"), seed=0).eval()
    conf = decodability.reconstruction_confidence(model, classifier, images, labels)
    codes = coding.embed(model, images, labels)
    assert np.allclose(conf, metrics.confidence(classifier, coding.decode(model, codes, labels.numpy())), atol=1e-6)


def test_scoring_reports_progress_and_stops_when_asked(tiny_images, classifier, monkeypatch):
    monkeypatch.setattr(decodability, "CHUNK", 16)
    images, _ = tiny_images
    model = build_model(ModelConfig(kind="ae"), seed=0).eval()
    seen = []
    assert len(decodability.reconstruction_confidence(model, classifier, images, report=seen.append)) == 64
    assert seen == [0.25, 0.5, 0.75, 1.0]
    calls = []
    stopped = decodability.reconstruction_confidence(model, classifier, images,
                                                     should_stop=lambda: len(calls) >= 2, report=calls.append)
    assert stopped is None and calls == [0.25, 0.5]


def test_a_model_without_an_encoder_has_no_reconstructions(classifier, tiny_images):
    gan = build_model(ModelConfig(kind="gan", inversion=False), seed=0).eval()
    with pytest.raises(ExplorerError, match="no encoder"):
        decodability.reconstruction_confidence(gan, classifier, tiny_images[0])


def test_the_feature_says_why_it_is_unavailable(tmp_path, monkeypatch):
    latent_model = trained.default_checkpoint()
    assert decodability.unavailable("mnist") is None
    assert "MNIST digits only" in decodability.unavailable("fashion-mnist")
    monkeypatch.setenv("EXPLORER_TRAINED_DIR", str(tmp_path))
    assert "not in" in decodability.unavailable("mnist")
    with pytest.raises(ExplorerError, match="not in"):
        decodability.load_classifier()
    with pytest.raises(ExplorerError, match="not a digit classifier"):
        decodability.load_classifier(latent_model)
