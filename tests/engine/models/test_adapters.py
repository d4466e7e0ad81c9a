"""A user's own model behind the LatentModel interface: every form the issue names, run the way it
promises (no_grad, eval mode restored, weights untouched, its own device), and clear refusals."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from explorer.data import arrays
from explorer.engine import coding
from explorer.engine.models.adapters import adapt, open_user_model
from explorer.latent import export
from explorer.utils.errors import ExplorerError


class Autoencoder(nn.Module):
    """The lecture's model: 784-512-2, with `encoder` and `decoder` sub-modules and a sigmoid output."""

    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 2))
        self.decoder = nn.Sequential(nn.Linear(2, 512), nn.ReLU(), nn.Linear(512, 784), nn.Sigmoid(),
                                     nn.Unflatten(1, (1, 28, 28)))


class ColourVAE(nn.Module):
    """encode() returns (mu, logvar); decode() returns channels-last logits, with batch norm to watch."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 4, 2, 1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten())
        self.head = nn.Linear(8 * 16 * 16, 2 * 3)
        self.out = nn.Linear(3, 32 * 32 * 3)

    def encode(self, x):
        return self.head(self.body(x)).chunk(2, dim=1)

    def decode(self, z):
        return self.out(z).reshape(-1, 32, 32, 3) * 5


@pytest.fixture
def digits():
    return torch.rand(40, 1, 28, 28)


def test_the_lectures_autoencoder_is_explored_like_ours(digits):
    ae = Autoencoder()
    model = adapt(ae, images=digits)
    assert (model.kind, model.latent_dim, model.image_shape, model.output) == ("ae", 2, (1, 28, 28), "probabilities")
    stored = arrays.images(digits)
    z = coding.embed(model, stored)
    with torch.no_grad():
        expected = ae.encoder(coding.to_input(stored)).numpy()
    assert np.allclose(z, expected, atol=1e-6)
    stats = coding.infer_stats(model, stored)
    grid = export.grid_image(model, stats.plane(), 4, stats.bounds)
    assert grid.shape == (4 * 28, 4 * 28) and grid.dtype == np.uint8
    with torch.no_grad():
        corner = ae.decoder(torch.tensor(stats.plane().to_latent([[stats.bounds[0], stats.bounds[3]]])))
    assert np.abs(grid[:28, :28].astype(int) - np.rint(corner[0, 0].numpy() * 255)).max() <= 1


def test_the_user_model_keeps_its_training_flags_and_weights(digits):
    vae = ColourVAE().train()
    vae.body[1].eval()  # a mixed state, to be restored exactly
    before = {k: v.clone() for k, v in vae.state_dict().items()}
    flags = [m.training for m in vae.modules()]
    model = adapt(vae, images=torch.rand(16, 3, 32, 32))
    coding.embed(model, arrays.images(torch.rand(16, 3, 32, 32)))
    coding.decode(model, np.zeros((3, 3)))
    model.cpu().eval()  # what our code does to every model: must not reach into theirs
    assert [m.training for m in vae.modules()] == flags
    assert all(torch.equal(before[k], v) for k, v in vae.state_dict().items())  # BatchNorm statistics too
    assert torch.is_grad_enabled()


def test_a_colour_vae_uses_mu_and_can_be_sampled():
    vae = ColourVAE()
    images = torch.rand(12, 3, 32, 32)
    model = adapt(vae, images=images)
    assert (model.kind, model.latent_dim, model.image_shape, model.output) == ("vae", 3, (3, 32, 32), "logits")
    stored = arrays.images(images)
    with torch.no_grad():
        mu = vae.eval().encode(coding.to_input(stored))[0]  # batch norm with its running statistics
    vae.train()
    assert np.allclose(coding.embed(model, stored), mu.numpy(), atol=1e-6)
    draws = coding.sample_posterior(model, stored, seed=1)
    assert draws.shape == (12, 3) and np.array_equal(draws, coding.sample_posterior(model, stored, seed=1))
    decoded = coding.decode(model, mu.numpy()[:2])
    with torch.no_grad():
        expected = torch.sigmoid(vae.decode(mu[:2])).numpy()  # logits -> sigmoid, channels last as given
    assert decoded.shape == (2, 32, 32, 3) and np.abs(decoded - expected * 255).max() <= 1


def test_a_decoder_function_with_codes():
    weights = torch.randn(2, 16 * 16)

    def generator(z):
        return torch.tanh(z @ weights)  # (N, 256) in [-1, 1]: flat rows, tanh outputs

    codes = np.random.default_rng(0).normal(size=(30, 2))
    model = adapt(decoder=generator, codes=codes)
    assert (model.kind, model.has_encoder, model.latent_dim, model.image_shape) == ("gan", False, 2, (1, 16, 16))
    assert model.output == "tanh"
    x = coding.decode_float(model, codes[:3])
    assert np.allclose(x.reshape(3, -1), (np.tanh(codes[:3].astype(np.float32) @ weights.numpy()) + 1) / 2, atol=1e-6)
    with pytest.raises(ExplorerError, match="no encoder"):
        coding.embed(model, arrays.images(np.zeros((2, 16, 16), np.uint8)))
    assert coding.infer_stats(model).latent_dim == 2  # the prior's plane, as for our GAN


def test_plain_callables_as_encoder_and_decoder():
    model = adapt(encoder=lambda x: x.flatten(1)[:, :4], decoder=lambda z: z.repeat(1, 16).reshape(-1, 8, 8),
                  images=np.zeros((5, 8, 8), np.uint8))
    assert model.latent_dim == 4 and model.image_shape == (1, 8, 8)


@pytest.mark.parametrize("output, expected", [("probabilities", 1.0), ("logits", 1 / (1 + np.exp(-3.0))),
                                              ("tanh", 1.0)])
def test_the_output_argument_overrides_the_rule(output, expected):
    model = adapt(decoder=lambda z: torch.full((len(z), 8, 8), 3.0), codes=np.zeros((2, 2)), output=output)
    assert np.allclose(coding.decode_float(model, np.zeros((1, 2))), expected)


def test_dcgan_codes_are_handed_back_in_their_shape():
    gen = nn.Sequential(nn.ConvTranspose2d(4, 1, 8), nn.Tanh())  # (N, 4, 1, 1) -> (N, 1, 8, 8)
    model = adapt(gen, codes=torch.randn(6, 4, 1, 1))
    assert model.latent_dim == 4 and coding.decode(model, np.zeros((2, 4))).shape == (2, 8, 8)


@pytest.mark.parametrize("kwargs, message", [
    (dict(model=nn.Linear(2, 2), images=torch.rand(2, 1, 28, 28)), r"neither encode\(\)/decode\(\) methods nor"),
    (dict(decoder=nn.Linear(2, 64)), "needs codes="),
    (dict(model=Autoencoder()), "give images="),
    (dict(model=Autoencoder(), images=torch.rand(2, 1, 32, 32)),
     r"Autoencoder's encoder failed on images of shape \(2, 1, 32, 32\): RuntimeError: mat1 and mat2"),
    (dict(decoder=lambda z: torch.zeros(len(z), 1, 28, 28), codes=np.zeros((3,))), r"codes have shape \(3,\)"),
    (dict(encoder=lambda x: x.flatten(1)[:, :2], decoder=lambda z: torch.zeros(len(z), 1, 28, 28),
          images=torch.rand(3, 1, 32, 32)), r"draws \(N, 1, 28, 28\) images but the images are \(N, 1, 32, 32\)"),
    (dict(decoder=lambda z: torch.zeros(len(z), 5, 7), codes=np.zeros((2, 2))), r"returned shape \(2, 5, 7\)"),
    (dict(decoder=lambda z: torch.full((len(z), 8, 8), float("nan")), codes=np.zeros((2, 2))), "NaN"),
    (dict(decoder=lambda z: z, codes=np.zeros((2, 2)), output="sigmoid"), "output must be one of"),
], ids=["no encoder or decoder", "decoder without codes", "encoder without images", "the model cannot take the images",
        "codes not 2-d", "decoder size differs from the images", "decoder shape", "NaN decodes", "unknown output"])
def test_mistakes_get_one_sentence(kwargs, message):
    with pytest.raises(ExplorerError, match=message) as e:
        adapt(**kwargs)
    assert "\n" not in str(e.value)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_model_on_the_gpu_takes_cpu_data():
    ae = Autoencoder().cuda()
    model = adapt(ae, images=torch.rand(8, 1, 28, 28))
    z = coding.embed(model, arrays.images(torch.rand(8, 1, 28, 28)))
    assert z.shape == (8, 2) and next(ae.parameters()).is_cuda
    assert coding.decode(model, z).shape == (8, 28, 28)


def test_a_half_precision_model_gets_inputs_of_its_dtype():
    ae = Autoencoder().to(torch.bfloat16)
    model = adapt(ae, images=torch.rand(4, 1, 28, 28))
    assert coding.decode_float(model, np.zeros((1, 2))).dtype == np.float32


def test_our_own_models_pass_through():
    from explorer.engine.config import ModelConfig
    from explorer.engine.models import build_model

    ours = build_model(ModelConfig())
    assert adapt(ours) is ours


def test_a_loss_is_not_asked_of_a_user_model():
    model = adapt(decoder=lambda z: torch.zeros(len(z), 8, 8), codes=np.zeros((2, 2)))
    with pytest.raises(ExplorerError, match="train it in your code"):
        model.losses(torch.zeros(1, 1, 8, 8))


@settings(max_examples=60, deadline=None)
@given(shape=st.lists(st.integers(1, 300), min_size=1, max_size=4).map(tuple))
def test_any_decoder_output_shape_is_read_as_images_or_refused_naming_it(shape):
    if np.prod(shape) > 300_000:
        shape = tuple(min(s, 40) for s in shape)
    try:
        model = adapt(decoder=lambda z: torch.zeros(len(z), *shape), codes=np.zeros((2, 2)))
    except ExplorerError as e:
        assert f"returned shape {arrays.shape_text((2, *shape))}" in str(e) and "\n" not in str(e)
        return
    c, h, w = model.image_shape
    assert c * h * w == np.prod(shape) and c in (1, 3) and 8 <= min(h, w) and max(h, w) <= 256
    assert coding.decode_float(model, np.zeros((1, 2))).shape == (1, c, h, w)


def test_the_view_arguments_are_checked_together():
    opened = open_user_model(Autoencoder(), torch.rand(6, 1, 28, 28), ["odd", "even"] * 3)
    assert opened.data.images.shape == (6, 28, 28) and opened.classes == ("even", "odd")
    assert opened.labels.tolist() == [1, 0] * 3 and opened.codes is None
    gan = open_user_model(decoder=lambda z: torch.zeros(len(z), 8, 8), codes=np.ones((4, 2)), labels=[0, 1, 1, 0])
    assert gan.data is None and gan.codes.shape == (4, 2) and gan.classes == ("0", "1")
    unlabelled = open_user_model(Autoencoder(), torch.rand(3, 28, 28))
    assert unlabelled.classes == ("unlabelled",)


@pytest.mark.parametrize("kwargs, message", [
    (dict(images=torch.rand(6, 1, 28, 28), labels=np.arange(5)), r"labels have shape \(5,\); expected \(6,\)"),
    (dict(images=torch.rand(6, 1, 28, 28), codes=np.zeros((6, 2))), "not both"),
    (dict(images=torch.rand(6, 3, 28, 28)), "mat1 and mat2"),
])
def test_view_argument_mistakes_are_named(kwargs, message):
    with pytest.raises(ExplorerError, match=message):
        open_user_model(Autoencoder(), **kwargs)
