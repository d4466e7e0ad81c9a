import json

import pytest
import torch

from explorer.engine.config import LEGACY_WIDTHS, ModelConfig
from explorer.engine.models import build_model
from explorer.utils.errors import ExplorerError

KINDS = ["ae", "vae", "cvae", "gan"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("arch", ["mlp", "conv"])
@pytest.mark.parametrize("latent_dim", [2, 5, 10, 16])
def test_common_interface_shapes_and_ranges(kind, arch, latent_dim):
    model = build_model(ModelConfig(kind=kind, arch=arch, latent_dim=latent_dim), seed=0).eval()
    x = torch.rand(3, 1, 28, 28)
    labels = torch.tensor([0, 4, 9])
    z = model.encode(x, labels)
    assert z.shape == (3, latent_dim)
    images = model.decode(torch.randn(3, latent_dim) * 10, labels)
    assert images.shape == (3, 1, 28, 28)
    assert 0 <= images.min() and images.max() <= 1


@pytest.mark.parametrize("kind", ["vae", "cvae"])
def test_vae_gives_mean_and_log_variance_and_encodes_the_mean(kind):
    model = build_model(ModelConfig(kind=kind, latent_dim=5), seed=0).eval()
    x, y = torch.rand(4, 1, 28, 28), torch.arange(4)
    mu, logvar = model.encode_stats(x, y)
    assert mu.shape == logvar.shape == (4, 5)
    assert torch.equal(model.encode(x, y), mu)


def test_vae_loss_terms_match_the_lecture_formula():
    model = build_model(ModelConfig(kind="vae", beta=0.5), seed=0)
    x = torch.rand(8, 1, 28, 28)
    torch.manual_seed(1)
    terms = model.losses(x)
    mu, logvar = model.encode_stats(x)
    kl = 0.5 * (logvar.exp() + mu**2 - 1 - logvar).sum() / 8
    assert torch.allclose(terms["kl"], kl)
    assert torch.allclose(terms["loss"], terms["recon"] + 0.5 * terms["kl"])


def test_conditional_decoder_uses_the_label():
    model = build_model(ModelConfig(kind="cvae"), seed=0).eval()
    z = torch.zeros(1, 2)
    assert not torch.equal(model.decode(z, torch.tensor([1])), model.decode(z, torch.tensor([7])))
    with pytest.raises(ValueError, match="needs the labels"):
        model.decode(z)


def test_gan_parts_and_optional_inversion_encoder():
    gan = build_model(ModelConfig(kind="gan"), seed=0)
    assert gan.has_encoder and gan.inverter is not None
    plain = build_model(ModelConfig(kind="gan", inversion=False), seed=0)
    assert not plain.has_encoder
    with pytest.raises(ValueError, match="no inversion encoder"):
        plain.encode(torch.rand(1, 1, 28, 28))


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_an_anchored_gan_trains_its_encoder_with_the_generator_as_a_vae(arch):
    from explorer.engine.training import _optimizers

    gan = build_model(ModelConfig(kind="gan", arch=arch, latent_dim=3, anchor=10.0), seed=0)
    x = torch.rand(8, 1, 28, 28)
    assert gan.encode(x).shape == (8, 3)  # the posterior's mean, not (mu, log sigma^2)
    gan.generator_loss(x).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gan.inverter.parameters())
    opts = _optimizers(gan, "gan", 1e-3)  # no separate inversion step: E follows G's loss
    assert set(opts) == {"d", "g"}
    assert gan.config.describe().startswith("VAE-GAN (")  # the model list says what it is
    assert {id(p) for p in gan.inverter.parameters()} <= {id(p) for g in opts["g"].param_groups for p in g["params"]}


def test_a_plain_gan_generator_loss_leaves_its_inversion_encoder_alone():
    gan = build_model(ModelConfig(kind="gan", latent_dim=3), seed=0)
    gan.generator_loss(torch.rand(8, 1, 28, 28)).backward()
    assert all(p.grad is None for p in gan.inverter.parameters())
    gan.inversion_loss(torch.rand(8, 1, 28, 28)).backward()
    assert all(p.grad is not None for p in gan.inverter.parameters())


@pytest.mark.parametrize("anchor", [-1.0, float("nan"), float("inf"), 1001.0, "5", True])
def test_an_anchor_outside_its_range_is_refused(anchor):
    with pytest.raises(ExplorerError, match="anchor must be a number from 0 to 1000"):
        ModelConfig(kind="gan", anchor=anchor)


def test_an_anchored_gan_needs_its_encoder():
    with pytest.raises(ExplorerError, match="drop --no-inversion or set --anchor 0"):
        ModelConfig(kind="gan", anchor=1.0, inversion=False)


def test_same_seed_same_weights():
    a = build_model(ModelConfig(kind="vae"), seed=3)
    b = build_model(ModelConfig(kind="vae"), seed=3)
    c = build_model(ModelConfig(kind="vae"), seed=4)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


@pytest.mark.parametrize("bad", [dict(kind="diffusion"), dict(arch="resnet"), dict(latent_dim=1),
                                 dict(latent_dim=0), dict(beta=-1.0), dict(beta=float("nan")),
                                 dict(widths=()), dict(widths=(0,)), dict(widths=(64.5,)), dict(widths="64"),
                                 dict(widths=(10**6,)), dict(widths=(8,) * 5), dict(decoder_widths=()),
                                 dict(decoder_widths=(0, 8)), dict(decoder_widths="8"), dict(activation="tanh"),
                                 dict(kind="gan", activation="silu")])
def test_invalid_configs_are_refused(bad):
    with pytest.raises(ExplorerError):
        ModelConfig(**bad)


def test_widths_follow_the_latent_size_and_are_recorded_so_a_checkpoint_rebuilds_its_model():
    small, big, gan = ModelConfig(kind="vae", latent_dim=2), ModelConfig(kind="vae", latent_dim=20), \
        ModelConfig(kind="gan", latent_dim=20)
    assert small.widths == LEGACY_WIDTHS and gan.widths == LEGACY_WIDTHS and big.widths == (512,)
    assert ModelConfig(kind="ae", latent_dim=10).widths == (512,) == ModelConfig(kind="cvae", latent_dim=19).widths
    assert ModelConfig(kind="ae", latent_dim=9).widths == LEGACY_WIDTHS
    assert build_model(big).encoder.head[0].out_features == 512
    assert ModelConfig.from_dict(json.loads(json.dumps(big.to_dict()))) == big
    # a checkpoint from before widths were recorded was built with the legacy widths, whatever its size
    old = {k: v for k, v in big.to_dict().items() if k not in ("widths", "decoder_widths")}
    assert ModelConfig.from_dict(old).widths == LEGACY_WIDTHS == ModelConfig.from_dict(old).decoder_widths[::-1]
    custom = ModelConfig(kind="ae", latent_dim=3, widths=[64])
    assert custom.widths == (64,) and build_model(custom).decoder.net[0].out_features == 64


@pytest.mark.parametrize("kind", ["ae", "vae", "cvae"])
def test_the_decoder_mirrors_the_encoder_unless_given_its_own_widths(kind):
    mirrored = build_model(ModelConfig(kind=kind, latent_dim=3, widths=(64, 32)))
    assert [m.out_features for m in mirrored.decoder.net if isinstance(m, torch.nn.Linear)] == [32, 64, 784]
    config = ModelConfig(kind=kind, latent_dim=16, widths=(96,), decoder_widths=[24, 96])
    model = build_model(config)
    assert [m.out_features for m in model.encoder.head if isinstance(m, torch.nn.Linear)][0] == 96
    assert [m.out_features for m in model.decoder.net if isinstance(m, torch.nn.Linear)] == [24, 96, 784]
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_the_activation_is_every_hidden_layers_and_old_checkpoints_had_relu(arch):
    config = ModelConfig(kind="vae", arch=arch, latent_dim=4, activation="silu")
    model = build_model(config)
    kinds = {type(m) for m in model.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.SiLU))}
    assert kinds == {torch.nn.SiLU}
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    old = {k: v for k, v in config.to_dict().items() if k != "activation"}
    assert ModelConfig.from_dict(old).activation == "relu"


@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_standing_statistics_make_a_generator_decode_as_it_trained(arch):
    gan = build_model(ModelConfig(kind="gan", arch=arch), seed=0)
    norms = [m for m in gan.generator.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:  # running averages that lag far behind the weights
        m.running_mean += 3.0
    z = torch.randn(1024, 2)
    with torch.no_grad():
        as_trained = gan.generator.train()(z)  # batch statistics, as every training step uses
        stale = gan.generator.eval()(z)
        state = torch.random.get_rng_state()
        gan.standing_statistics(batches=20, size=256)
        assert torch.equal(torch.random.get_rng_state(), state)  # the run's randomness is untouched
        standing = gan.generator.eval()(z)
    assert not gan.generator.training and all(m.momentum == 0.1 for m in norms)
    assert (standing - as_trained).abs().mean() < 0.1 * (stale - as_trained).abs().mean()
