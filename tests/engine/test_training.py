import subprocess
import sys

import pytest
import torch

from explorer.engine import training
from explorer.engine.config import ModelConfig, TrainConfig
from explorer.engine.models import build_model
from explorer.engine.training import CONV_MAX_LR, DEFAULTS, resolve_device, train
from explorer.utils.errors import ExplorerError


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
    from explorer.latent.metrics import reconstruction

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


@pytest.mark.parametrize("error", [RuntimeError("a kernel failed"), MemoryError(),
                                   ExplorerError("out of memory even at batch size 16 on the CPU")])
def test_an_error_after_an_epoch_ends_the_run_failed_with_that_epoch_kept(tiny_images, monkeypatch, error):
    images, _ = tiny_images  # 64 images, batch 16: four steps an epoch
    model = build_model(ModelConfig(kind="vae"), seed=0)
    good, real_losses, step = {}, model.losses, {"n": 0}

    def fails_at_step_6(x, labels=None):
        step["n"] += 1
        if step["n"] == 6:
            raise error
        return real_losses(x, labels)

    monkeypatch.setattr(model, "losses", fails_at_step_6)
    result = train(model, images, TrainConfig(epochs=3, batch_size=16),
                   callback=lambda p: p.epoch_done and good.setdefault(p.epoch, weights(model)))
    assert result.status == "failed" and result.epochs_done == 1 and len(result.history) == 1
    assert result.message.startswith("training stopped: ") and "kept the weights of epoch 1" in result.message
    assert (str(error) or type(error).__name__) in result.message
    assert same(weights(model), good[1]) and not model.training


def test_an_error_before_any_epoch_is_raised(tiny_images, monkeypatch):
    images, _ = tiny_images
    model = build_model(ModelConfig(kind="vae"), seed=0)
    monkeypatch.setattr(model, "losses", lambda x, labels=None: (_ for _ in ()).throw(RuntimeError("no kernel")))
    with pytest.raises(RuntimeError, match="no kernel"):
        train(model, images, TrainConfig(epochs=2, batch_size=16))


@pytest.mark.parametrize("bad, at, where, kept", [(float("nan"), 7, "epoch 2, step 3", 1),
                                                  (float("inf"), 7, "epoch 2, step 3", 1),
                                                  (float("nan"), 1, "epoch 1, step 1", 0)])
def test_non_finite_loss_stops_and_keeps_the_last_good_weights(tiny_images, monkeypatch, bad, at, where, kept):
    images, _ = tiny_images
    model = build_model(ModelConfig(kind="vae"), seed=0)
    good = {0: weights(model)}
    real_losses = model.losses
    step = {"n": 0}

    def poisoned(x, labels=None):
        step["n"] += 1
        terms = real_losses(x, labels)
        if step["n"] == at:
            terms["loss"] = terms["loss"] * bad
        return terms

    monkeypatch.setattr(model, "losses", poisoned)
    result = train(model, images, TrainConfig(epochs=4, batch_size=16),
                   callback=lambda p: p.epoch_done and good.setdefault(p.epoch, weights(model)))
    assert result.status == "diverged" and result.epochs_done == kept and step["n"] == at  # stopped at once
    assert "non-finite" in result.message and where in result.message
    assert f"kept the weights of epoch {kept}" in result.message
    assert same(weights(model), good[kept])
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


@pytest.mark.parametrize("kind", ["vae", "gan"])  # the GAN also draws noise and dropout masks
def test_seeded_runs_are_identical_and_seeds_matter(tiny_images, kind):
    images, _ = tiny_images
    runs = []
    for seed in (7, 7, 8):
        model = build_model(ModelConfig(kind=kind), seed=7)  # same start: only the training seed differs
        train(model, images, TrainConfig(epochs=2, batch_size=16, seed=seed))
        runs.append(weights(model))
    assert same(runs[0], runs[1]) and not same(runs[0], runs[2])


def out_of_memory():
    return torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


@pytest.fixture
def failing_steps(monkeypatch):
    """install(fails): training steps raise the real CUDA out-of-memory error while fails(x) is true.
    Returns the batch size of every step tried; install.cleared records calls to torch.cuda.empty_cache."""
    tried, cleared = [], []
    real_make_step, real_empty_cache = training._make_step, torch.cuda.empty_cache

    def install(fails):
        def make_step(*args):
            step = real_make_step(*args)

            def maybe_fail(x, labels):
                tried.append(len(x))
                if fails(x):
                    raise out_of_memory()
                return step(x, labels)
            return maybe_fail

        monkeypatch.setattr(training, "_make_step", make_step)
        return tried

    def empty_cache():
        cleared.append(True)
        real_empty_cache()

    monkeypatch.setattr(torch.cuda, "empty_cache", empty_cache)
    install.cleared = cleared
    return install


def test_out_of_memory_halves_the_batch_and_finishes(tiny_images, failing_steps):
    images, _ = tiny_images
    tried = failing_steps(lambda x: len(x) > 16)
    model = build_model(ModelConfig(kind="ae"), seed=0)
    events = []
    result = train(model, images, TrainConfig(epochs=2, batch_size=64), callback=events.append)
    assert [e.note for e in events if e.note] == ["out of memory; retrying epoch 1 with batch size 32",
                                                  "out of memory; retrying epoch 1 with batch size 16"]
    assert tried == [64, 32] + [16] * 8 and result.batch_size == 16
    assert result.status == "finished" and result.epochs_done == 2 and result.device == "cpu"
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())
    assert failing_steps.cleared == []  # no CUDA in use: its cache is left alone


def test_out_of_memory_mid_run_restarts_the_epoch_from_the_last_good_weights(tiny_images, failing_steps):
    images, _ = tiny_images
    calls = {"n": 0}

    def fails_once_in_epoch_2(x):
        calls["n"] += 1
        return calls["n"] == 4  # epoch 2, step 2 at batch 32

    failing_steps(fails_once_in_epoch_2)
    model = build_model(ModelConfig(kind="vae"), seed=0)
    seen = {}

    def callback(p):
        if p.epoch_done:
            seen[p.epoch] = weights(model)
        if p.note:
            seen["retry"] = (p.note, weights(model))

    result = train(model, images, TrainConfig(epochs=3, batch_size=32), callback=callback)
    assert result.status == "finished" and result.epochs_done == 3 and len(result.history) == 3
    assert seen["retry"][0] == "out of memory; retrying epoch 2 with batch size 16"
    assert same(seen["retry"][1], seen[1])  # the half-done epoch 2 was thrown away


def test_out_of_memory_with_nothing_smaller_left_is_an_error_not_a_hang(tiny_images, failing_steps):
    images, _ = tiny_images
    tried = failing_steps(lambda x: True)
    model = build_model(ModelConfig(kind="ae"), seed=0)
    start = weights(model)
    with pytest.raises(ExplorerError, match="out of memory even at batch size 16 on the CPU"):
        train(model, images, TrainConfig(epochs=2, batch_size=64))
    assert tried == [64, 32, 16] and same(weights(model), start) and not model.training


def test_a_gpu_out_of_memory_at_the_smallest_batch_moves_to_the_cpu_at_full_batch():
    batch, device, note = training._smaller_load(16, torch.device("cuda"), 3, 256)
    assert (batch, device.type) == (256, "cpu") and "continuing epoch 3 on the CPU" in note
    assert training._smaller_load(64, torch.device("cuda"), 1, 256)[:2] == (32, torch.device("cuda"))


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def allocate_too_much(x):
    """Raise a genuine out-of-memory error from the CUDA allocator (asks for 4 PiB)."""
    torch.empty(1 << 50, device=x.device)


@needs_cuda
def test_real_gpu_out_of_memory_halves_the_batch_and_clears_the_cache(tiny_images, failing_steps):
    images, _ = tiny_images
    tried = failing_steps(lambda x: len(x) > 32 and allocate_too_much(x))
    model = build_model(ModelConfig(kind="ae"), seed=0)
    events = []
    result = train(model, images, TrainConfig(epochs=2, batch_size=64, device="cuda"), callback=events.append)
    assert [e.note for e in events if e.note] == ["out of memory; retrying epoch 1 with batch size 32"]
    assert tried[0] == 64 and set(tried[1:]) == {32} and result.device == "cuda" and result.status == "finished"
    assert failing_steps.cleared and all(torch.isfinite(v).all() for v in model.state_dict().values())


@needs_cuda
def test_real_gpu_out_of_memory_at_every_batch_falls_back_to_the_cpu(tiny_images, failing_steps):
    images, _ = tiny_images
    failing_steps(lambda x: x.is_cuda and allocate_too_much(x))
    model = build_model(ModelConfig(kind="ae"), seed=0)
    events = []
    result = train(model, images, TrainConfig(epochs=1, batch_size=32, device="cuda"), callback=events.append)
    assert [e.note for e in events if e.note][-1] == \
        "GPU out of memory even at batch size 16; continuing epoch 1 on the CPU"
    assert result.status == "finished" and result.device == "cpu" and result.batch_size == 32
    assert next(model.parameters()).device.type == "cpu"


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


def test_warm_up_does_the_lazy_imports_a_first_run_would_do_mid_training():
    """In a fresh interpreter: after warm_up, the optimizers and the map statistics import nothing more."""
    script = """
import sys
import numpy as np
from explorer.engine import training
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.engine import coding
model = build_model(ModelConfig(kind="vae"), seed=0)
assert "torch._dynamo" not in sys.modules
WARM_UP
before = set(sys.modules)
training._optimizers(model, "vae", 1e-3)
coding.bounds_of(np.random.default_rng(0).normal(size=(100, 2)))
print(len(set(sys.modules) - before))
"""
    counts = []
    for warm_up in ("training.warm_up()", "pass"):
        done = subprocess.run([sys.executable, "-c", script.replace("WARM_UP", warm_up)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        counts.append(int(done.stdout))
    assert counts[0] == 0 and counts[1] > 100  # without it, hundreds of modules load during the first epoch


def test_defaults_follow_the_latent_size_and_an_explicit_setting_wins():
    small, big = TrainConfig(), TrainConfig(batch_size=32, lr=1e-4)
    assert training.defaults_for("vae", small, "mlp", 2) == DEFAULTS["vae"]
    assert training.defaults_for("vae", small, "mlp", 20) == training.WIDE_DEFAULTS
    assert training.defaults_for("cvae", big, "mlp", 32) == (32, 1e-4)
    assert training.defaults_for("gan", small, "mlp", 20) == DEFAULTS["gan"]
    assert training.defaults_for("cvae", small, "mlp", 5) == (DEFAULTS["cvae"][0], training.CVAE_LR_FROM_5D)


def test_training_flushes_denormals_only_while_it_runs(tiny_images):
    def flushing():
        return torch.tensor([1e-40]).mul_(2.0).item() == 0.0

    seen = []
    model = build_model(ModelConfig(kind="vae"), seed=0)
    train(model, tiny_images[0], TrainConfig(epochs=1, batch_size=16), callback=lambda p: seen.append(flushing()))
    assert seen and all(seen)  # fast arithmetic while the rate decays
    assert not flushing()  # and the caller's thread as it was: other libraries (hypothesis) need denormals


@pytest.mark.parametrize("kind", ["ae", "vae", "cvae"])
def test_jitter_shows_the_encoder_moved_images_and_reconstructs_the_originals(kind, tiny_images, monkeypatch):
    images, labels = tiny_images
    model = build_model(ModelConfig(kind=kind), seed=0)
    real_losses, calls = model.losses, []

    def losses(x, labels=None, seen=None):
        calls.append((x, seen))
        return real_losses(x, labels, seen)

    monkeypatch.setattr(model, "losses", losses)
    result = train(model, images, TrainConfig(epochs=1, batch_size=16, jitter=True), labels=labels)
    assert result.status == "finished" and len(calls) == 4
    for x, seen in calls:
        assert seen is not None and seen.shape == x.shape and not torch.equal(seen, x)
        assert torch.nn.functional.cosine_similarity(seen.flatten(1).float(), x.flatten(1).float()).min() > 0.5


@pytest.mark.parametrize("kind", ["gan", "classifier"])
def test_jitter_is_refused_for_models_without_an_encoder_of_real_images(kind, tiny_images):
    images, labels = tiny_images
    from explorer.engine.models import Classifier

    model = Classifier() if kind == "classifier" else build_model(ModelConfig(kind=kind), seed=0)
    with pytest.raises(ExplorerError, match="jitter is for models that encode real images"):
        train(model, images, TrainConfig(epochs=1, batch_size=16, jitter=True), labels=labels)
