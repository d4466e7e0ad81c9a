import numpy as np
import pytest
import torch

from explorer.data.datasets import Split
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.latent import metrics


def test_knn_accuracy_on_separated_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 0], [0, 10]])
    y_train, y_test = rng.integers(0, 3, 300), rng.integers(0, 3, 100)
    z_train, z_test = centres[y_train] + rng.normal(size=(300, 2)), centres[y_test] + rng.normal(size=(100, 2))
    assert metrics.knn_accuracy(z_train, y_train, z_test, y_test) == 1.0
    assert metrics.knn_accuracy(z_train, y_train, z_test, (y_test + 1) % 3) == 0.0


def test_frechet_distance_is_zero_for_the_same_set_and_grows_with_a_shift():
    a = np.random.default_rng(0).normal(size=(2000, 4))
    assert metrics.frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    assert metrics.frechet_distance(a, a + 1.0) == pytest.approx(4.0, rel=0.01)


def test_reconstruction_and_elbo_agree_with_the_training_loss(tiny_images):
    images, labels = tiny_images
    split = Split(images, labels, "mnist", "test", tuple("0123456789"))
    model = build_model(ModelConfig(kind="vae"), seed=0).eval()
    out = metrics.elbo(model, split, samples=64)
    x = images.unsqueeze(1).float() / 255
    with torch.no_grad():
        torch.manual_seed(0)
        expected = np.mean([model.losses(x)["loss"].item() for _ in range(64)])
    assert -out["elbo"] == pytest.approx(expected, rel=0.01)
    rec = metrics.reconstruction(model, split)
    assert 0 < rec["recon_mse"] < 1 and rec["recon_bce"] > 0


@pytest.mark.parametrize("kind", ["vae", "cvae"])
def test_importance_sampled_nll_is_never_above_the_elbo_and_repeats_with_its_seed(tiny_images, kind):
    images, labels = tiny_images
    split = Split(images, labels, "mnist", "test", tuple("0123456789"))
    model = build_model(ModelConfig(kind=kind, latent_dim=3), seed=0).eval()
    neg_elbo = -metrics.elbo(model, split, samples=64)["elbo"]
    one, many = metrics.importance_nll(model, split, 1), metrics.importance_nll(model, split, 50)
    assert one["nll"] == pytest.approx(neg_elbo, rel=0.02)  # one draw is the ELBO's estimator
    assert many["nll"] < neg_elbo and many["nll_samples"] == 50
    assert metrics.importance_nll(model, split, 50)["nll"] == many["nll"]
    assert metrics.importance_nll(model, split, 50, seed=1)["nll"] != many["nll"]



def test_importance_sampled_nll_is_the_exact_likelihood_when_it_is_known(tiny_images):
    """A decoder that ignores z (last layer's weights zero) and q(z|x) = the prior: then
    p(x) = prod Bernoulli(x; sigmoid(bias)) exactly, whatever the draws."""
    images, labels = tiny_images
    split = Split(images, labels, "mnist", "test", tuple("0123456789"))
    model = build_model(ModelConfig(kind="vae", latent_dim=2), seed=0).eval()
    with torch.no_grad():
        for last in (model.encoder.head[-1], model.decoder.net[-2]):
            last.weight.zero_()
        model.encoder.head[-1].bias.zero_()
        bias = model.decoder.net[-2].bias
    x = images.flatten(1).float() / 255
    exact = torch.nn.functional.binary_cross_entropy_with_logits(bias.expand_as(x), x, reduction="sum") / len(x)
    assert metrics.importance_nll(model, split, 5)["nll"] == pytest.approx(exact.item(), rel=1e-5)


class _Stamp(torch.nn.Module):
    """A 'generator' that draws test image a where z[0] < 0 and image b elsewhere."""

    kind, latent_dim, image_shape, conditional = "gan", 2, (1, 28, 28), False

    def __init__(self, a, b):
        super().__init__()
        self.a, self.b = a.float()[None] / 255, b.float()[None] / 255

    def decode(self, z, labels=None):
        return torch.where((z[:, 0] < 0)[:, None, None, None], self.a, self.b)


def test_the_prior_grid_names_the_digits_a_generator_draws_and_how_cleanly(mnist_test):
    from explorer.engine import checkpoint, trained

    classifier = checkpoint.load(trained.classifier_path()).model
    images, labels = mnist_test.images[:200], mnist_test.labels[:200]
    top, named = metrics.judge(classifier, images.numpy())
    sure = (top > 0.99) & (named == labels.numpy())
    three, seven = images[sure & (named == 3)][0], images[sure & (named == 7)][0]
    grid = metrics.prior_grid(_Stamp(three, seven), classifier)
    assert grid == {"prior_grid_clean": 1.0, "prior_grid_digits": [3, 7]}
    blank = metrics.prior_grid(_Stamp(torch.zeros(28, 28, dtype=torch.uint8), seven), classifier)
    assert blank["prior_grid_digits"] == [7] and blank["prior_grid_clean"] <= 0.5  # a blank is no digit
