"""The GAN's WAE anchor (codes matched to the prior by MMD), CatGAN's confidence and its averaged generator."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.engine import checkpoint
from explorer.engine.config import ModelConfig, TrainConfig
from explorer.engine.models import build_model
from explorer.engine.models.gan import mmd_to_prior, naming_entropy
from explorer.engine.training import train
from explorer.utils.errors import ExplorerError


@settings(max_examples=20, deadline=None)
@given(shift=st.floats(1.0, 5.0), seed=st.integers(0, 1000))
def test_mmd_is_near_zero_for_prior_draws_and_grows_with_a_shift(shift, seed):
    torch.manual_seed(seed)
    z = torch.randn(256, 2)
    near, far = mmd_to_prior(z), mmd_to_prior(z + shift)
    assert abs(near) < 0.05 and far > near + 0.05
    assert mmd_to_prior(z + shift + 1) > far  # further from the prior, larger


def test_a_wae_anchored_gan_has_a_deterministic_encoder_trained_with_the_generator():
    gan = build_model(ModelConfig(kind="gan", latent_dim=3, anchor=10.0, mmd=100.0), seed=0)
    x = torch.rand(16, 1, 28, 28)
    assert gan.inverter(x).shape == (16, 3)  # one code per image, no log-variance
    assert torch.equal(gan.encode(x), gan.inverter(x))
    gan.generator_loss(x).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gan.inverter.parameters())
    assert gan.config.describe().startswith("WAE-GAN (")


@settings(max_examples=50, deadline=None)
@given(batch=st.integers(1, 64), classes=st.integers(2, 20), scale=st.floats(0.0, 100.0), seed=st.integers(0, 1000))
def test_naming_entropy_lies_between_every_class_named_clearly_and_none(batch, classes, scale, seed):
    logits = scale * torch.randn(batch, classes, generator=torch.Generator().manual_seed(seed))
    assert -math.log(min(batch, classes)) - 1e-4 <= naming_entropy(logits) <= math.log(classes) + 1e-4
    assert abs(naming_entropy(torch.zeros(batch, classes))) < 1e-5  # no image named: both terms log(classes)
    clear = 50.0 * torch.eye(classes)  # each class named once, with certainty: the least there is
    assert naming_entropy(clear) == pytest.approx(-math.log(classes), abs=1e-4)
    assert abs(naming_entropy(clear[[0] * batch])) < 1e-4  # certain, but always the same class: no better than none


def test_a_confident_gan_names_real_images_and_asks_g_for_clear_ones(tiny_images):
    images, labels = tiny_images
    gan = build_model(ModelConfig(kind="gan", latent_dim=2, anchor=10.0, mmd=100.0, confident=5.0), seed=0)
    before = [p.clone() for p in gan.namer.parameters()]
    result = train(gan, images, TrainConfig(epochs=3, batch_size=16), labels=labels)
    assert result.status == "finished"
    assert all(not torch.equal(a, b) for a, b in zip(before, gan.namer.parameters()))  # it learned the classes
    # G's loss is the plain anchored GAN's plus the namer's terms on G's own draws
    plain = build_model(ModelConfig(kind="gan", latent_dim=2, anchor=10.0, mmd=100.0), seed=0)
    plain.load_state_dict({k: v for k, v in gan.state_dict().items() if not k.startswith("namer.")})
    with torch.no_grad():
        gan.namer[-1].weight.mul_(100)  # three short epochs name nothing clearly yet; a sure namer's terms are large
    gan.eval(), plain.eval()  # no dropout: the same seed, the same draws
    x = images[:32].float().div(255).unsqueeze(1)
    losses = []
    for model in (gan, plain):
        torch.manual_seed(1)
        losses.append(model.generator_loss(x).item())
    torch.manual_seed(1)
    fake = gan.decode(gan.noise(32, "cpu"))  # G's first draws, as generator_loss makes them
    terms = 5.0 * naming_entropy(gan.namer(fake)).item()
    assert losses[0] - losses[1] == pytest.approx(terms, abs=1e-4) and abs(terms) > 1e-2


@pytest.mark.parametrize("labels", [None, torch.full((64,), 10), torch.zeros(10, dtype=torch.long)])
def test_a_confident_gan_refuses_images_without_a_label_of_its_classes(tiny_images, labels):
    gan = build_model(ModelConfig(kind="gan", latent_dim=2, confident=1.0), seed=0)
    with pytest.raises(ExplorerError, match="label from 0 to 9 for every image"):
        train(gan, tiny_images[0], TrainConfig(epochs=1, batch_size=16), labels=labels)


@pytest.mark.parametrize("bad", [dict(mmd=10.0), dict(anchor=5.0, mmd=-1.0), dict(anchor=5.0, mmd=float("nan")),
                                 dict(average=1.0), dict(average=-0.1), dict(average="0.9"),
                                 dict(confident=-1.0), dict(confident=float("inf")), dict(confident=1e6)])
def test_gan_options_outside_their_range_are_refused(bad):
    with pytest.raises(ExplorerError):
        ModelConfig(kind="gan", **bad)


@pytest.mark.parametrize("option", [dict(mmd=10.0), dict(average=0.9), dict(confident=1.0)])
def test_gan_options_are_refused_for_other_models(option):
    with pytest.raises(ExplorerError, match="for a GAN"):
        ModelConfig(kind="vae", anchor=0.0, **option)


def test_the_average_follows_the_generator_and_is_what_decodes():
    gan = build_model(ModelConfig(kind="gan", latent_dim=2, average=0.75), seed=0).eval()
    before = [p.clone() for p in gan.average.parameters()]
    torch.manual_seed(0)
    with torch.no_grad():
        for p in gan.generator.parameters():
            p.add_(0.05 * torch.randn_like(p))
    gan.update_average()
    for old, mean, now in zip(before, gan.average.parameters(), gan.generator.parameters()):
        torch.testing.assert_close(mean, 0.75 * old + 0.25 * now)
    z = torch.randn(5, 2)
    torch.testing.assert_close(gan.decode(z), torch.sigmoid(gan.average(z)))
    assert not torch.allclose(gan.decode(z), torch.sigmoid(gan.generator(z)))
    # the losses train G itself: the average takes no gradient
    gan.train()
    gan.generator_loss(torch.rand(8, 1, 28, 28)).backward()
    assert all(p.grad is None for p in gan.average.parameters())
    assert all(p.grad is not None for p in gan.generator.parameters())


def test_a_trained_averaged_wae_gan_saves_and_loads_as_it_decodes(tiny_images, tmp_path):
    images, labels = tiny_images
    gan = build_model(ModelConfig(kind="gan", latent_dim=2, anchor=10.0, mmd=100.0, average=0.9), seed=0)
    result = train(gan, images, TrainConfig(epochs=2, batch_size=16), labels=labels)
    assert result.status == "finished"
    assert any(not torch.equal(a, g) for a, g in zip(gan.average.state_dict().values(),
                                                       gan.generator.state_dict().values()))
    path = tmp_path / "gan.safetensors"
    checkpoint.save(path, gan, {"kind": "gan"})
    loaded = checkpoint.load(path).model.eval()
    z = torch.randn(6, 2)
    torch.testing.assert_close(loaded.decode(z), gan.eval().decode(z))
