import math

import pytest
import torch

from explorer.config import ModelConfig, TrainConfig
from explorer.errors import ExplorerError
from explorer.models import build_model
from explorer.training import CONV_MAX_LR, DEFAULTS, resolve_device, train


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("kind", ["ae", "vae", "cvae", "gan"])
def test_every_kind_trains_and_reports_its_terms(kind, tiny_images):
    images, labels = tiny_images
    model = build_model(ModelConfig(kind=kind), seed=0)
    events = []
    result = train(model, images, TrainConfig(epochs=2, batch_size=16), labels=labels, callback=events.append)
    assert result.status == "finished" and result.epochs_done == 2
    expected = {"ae": {"loss", "recon"}, "vae": {"loss", "recon", "kl"}, "cvae": {"loss", "recon", "kl"},
                "gan": {"d", "g", "inv"}}[kind]
    assert set(result.final_losses) == expected
    steps = [e for e in events if not e.epoch_done]
    assert [(e.epoch, e.step) for e in steps] == [(1, 1), (1, 2), (1, 3), (1, 4), (2, 1), (2, 2), (2, 3), (2, 4)]
    assert [e.epoch for e in events if e.epoch_done] == [1, 2]
    assert events[-1].fraction == 1.0


def test_autoencoder_learns(mnist_train, mnist_test):
    """A few epochs on 2,000 real digits must cut the reconstruction error well below the start."""
    from explorer.metrics import reconstruction

    model = build_model(ModelConfig(kind="ae", latent_dim=5), seed=0)
    before = reconstruction(model, mnist_test)["recon_mse"]
    train(model, mnist_train.images[:2000], TrainConfig(epochs=5))
    after = reconstruction(model, mnist_test)["recon_mse"]
    assert after < 0.6 * before


def test_cancel_keeps_the_last_complete_epoch(tiny_images):
    images, _ = tiny_images
    model = build_model(ModelConfig(kind="vae"), seed=0)
    seen = {}

    def callback(p):
        if p.epoch_done and p.epoch == 1:
            seen["epoch1"] = weights(model)

    calls = iter(range(10_000))
    result = train(model, images, TrainConfig(epochs=5, batch_size=16), callback=callback,
                   should_stop=lambda: next(calls) >= 6)  # stops two steps into epoch 2
    assert result.status == "cancelled" and result.epochs_done == 1
    assert same(weights(model), seen["epoch1"])


def test_cancel_before_any_epoch_restores_the_initial_weights(tiny_images):
    images, _ = tiny_images
    model = build_model(ModelConfig(kind="ae"), seed=0)
    start = weights(model)
    calls = iter(range(100))
    result = train(model, images, TrainConfig(epochs=3, batch_size=16), should_stop=lambda: next(calls) >= 2)
    assert result.status == "cancelled" and result.epochs_done == 0
    assert same(weights(model), start)


def test_non_finite_loss_stops_and_keeps_the_last_good_weights(tiny_images, monkeypatch):
    images, _ = tiny_images
    model = build_model(ModelConfig(kind="vae"), seed=0)
    good = {}
    real_losses = model.losses
    step = {"n": 0}

    def poisoned(x, labels=None):
        step["n"] += 1
        terms = real_losses(x, labels)
        if step["n"] == 7:  # epoch 2, step 3
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    monkeypatch.setattr(model, "losses", poisoned)
    result = train(model, images, TrainConfig(epochs=4, batch_size=16),
                   callback=lambda p: p.epoch_done and good.setdefault(p.epoch, weights(model)))
    assert result.status == "diverged" and result.epochs_done == 1
    assert "non-finite" in result.message and "epoch 2, step 3" in result.message
    assert same(weights(model), good[1])
    assert all(math.isfinite(v) for v in model.state_dict()["encoder.head.0.weight"].flatten().tolist())


def test_seeded_runs_are_identical(tiny_images):
    images, labels = tiny_images
    runs = []
    for _ in range(2):
        model = build_model(ModelConfig(kind="vae"), seed=7)
        train(model, images, TrainConfig(epochs=2, batch_size=16, seed=7))
        runs.append(weights(model))
    assert same(*runs)


def test_cuda_request_without_a_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto").type == "cpu"
    with pytest.raises(ExplorerError, match="no CUDA GPU"):
        resolve_device("cuda")


def test_conv_nets_train_at_a_capped_rate_and_the_rate_used_is_reported(tiny_images):
    """The conv VAE collapses to the mean image at the MLP's rate; an explicit rate always wins."""
    images, _ = tiny_images
    config = TrainConfig(epochs=1, batch_size=16)
    mlp = train(build_model(ModelConfig(kind="vae"), seed=0), images, config)
    conv = train(build_model(ModelConfig(kind="vae", arch="conv"), seed=0), images, config)
    assert mlp.lr == DEFAULTS["vae"][1] and conv.lr == CONV_MAX_LR < mlp.lr
    chosen = train(build_model(ModelConfig(kind="vae", arch="conv"), seed=0), images,
                   TrainConfig(epochs=1, batch_size=16, lr=5e-2))
    assert chosen.lr == 5e-2
