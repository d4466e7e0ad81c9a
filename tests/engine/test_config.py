"""Training settings: every value is either refused up front with a message naming the setting and its
range, or trains; none crashes midway with a traceback."""

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.engine import config
from explorer.engine.config import ModelConfig, TrainConfig
from explorer.engine.models import build_model
from explorer.engine.training import train
from explorer.utils.errors import ExplorerError

ANY_NUMBER = st.one_of(st.integers(), st.floats(), st.booleans(), st.none(), st.text(max_size=3))


@given(epochs=ANY_NUMBER, batch_size=ANY_NUMBER, lr=ANY_NUMBER, seed=ANY_NUMBER)
def test_a_setting_is_accepted_or_refused_with_its_name_and_range(epochs, batch_size, lr, seed):
    try:
        c = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed)
    except ExplorerError as e:
        assert any(name in str(e) for name in ("epochs", "batch size", "learning rate", "seed"))
        assert " from " in str(e) or "at most" in str(e)
        return
    assert 1 <= c.epochs <= config.MAX_EPOCHS and 0 <= c.seed <= config.MAX_SEED
    torch.Generator().manual_seed(c.seed)  # what training seeds with: past 2**64 - 1 it overflowed


@given(train_images=st.integers(0, 10_000), test_images=st.integers(0, 10_000),
       batch_size=st.one_of(st.none(), st.integers(1, config.MAX_BATCH)), kind=st.sampled_from(["ae", "vae", "gan"]))
def test_splits_too_small_for_a_run_are_refused_before_it(train_images, test_images, batch_size, kind):
    c = TrainConfig(batch_size=batch_size)
    ok = (train_images >= 2 and test_images >= 2 and (batch_size or 0) <= train_images
          and not (kind == "gan" and batch_size == 1))
    if ok:
        c.check_data(kind, train_images, test_images)
    else:
        with pytest.raises(ExplorerError, match="split has|batch size|at least 2"):
            c.check_data(kind, train_images, test_images)


# a real one-epoch run per example; tiny_images is only read
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["ae", "vae", "cvae", "gan"]), images=st.integers(0, 40), batch=st.integers(1, 48),
       seed=st.integers(0, config.MAX_SEED), lr=st.floats(1e-6, config.MAX_LR), beta=st.floats(0, config.MAX_BETA))
def test_any_valid_setting_trains_or_is_refused_before_training(tiny_images, kind, images, batch, seed, lr, beta):
    model = build_model(ModelConfig(kind=kind, beta=beta), seed=seed)
    config = TrainConfig(epochs=1, batch_size=batch, lr=lr, seed=seed)
    x, y = tiny_images[0][:images], tiny_images[1][:images]
    try:
        result = train(model, x, config, labels=y)
    except ExplorerError as e:
        assert "split has" in str(e) or "batch size" in str(e) or "at least 2" in str(e)
        return
    assert result.status in ("finished", "diverged")  # a too-high rate may diverge: that is said, not raised


@pytest.mark.parametrize("beta", [-1.0, float("inf"), float("nan"), config.MAX_BETA * 2, "1"])
def test_beta_outside_its_range_is_refused(beta):
    with pytest.raises(ExplorerError, match="beta must be a number from 0 to 1000"):
        ModelConfig(beta=beta)
