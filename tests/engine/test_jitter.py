import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.engine.jitter import SHIFT_PIXELS, jitter


def centre_of_mass(x: torch.Tensor) -> torch.Tensor:
    n, _, h, w = x.shape
    mass = x.sum(dim=(1, 2, 3))
    ys = (x.sum(dim=(1, 3)) * torch.arange(h)).sum(1) / mass
    xs = (x.sum(dim=(1, 2)) * torch.arange(w)).sum(1) / mass
    return torch.stack([ys, xs], 1)


def test_a_jittered_digit_is_the_same_digit_moved_a_little(mnist_test):
    x = mnist_test.images[:500].float().div(255).unsqueeze(1)
    torch.manual_seed(0)
    moved = jitter(x)
    assert moved.shape == x.shape and moved.dtype == x.dtype
    assert not torch.equal(moved, x)  # every call moves them
    # a turn of 5 degrees about the centre moves the centre of mass by at most a pixel for these digits
    assert (centre_of_mass(moved) - centre_of_mass(x)).norm(dim=1).max() < 1.5 * SHIFT_PIXELS + 1.0
    ink, moved_ink = x.sum(dim=(1, 2, 3)), moved.sum(dim=(1, 2, 3))
    assert ((moved_ink - ink).abs() / ink).max() < 0.15  # scaled by at most 5% a side
    assert torch.nn.functional.cosine_similarity(moved.flatten(1), x.flatten(1)).min() > 0.6


def test_the_same_seed_jitters_the_same_way():
    x = torch.rand(8, 1, 28, 28)
    torch.manual_seed(3)
    a = jitter(x)
    torch.manual_seed(3)
    assert torch.equal(a, jitter(x))


@settings(max_examples=25, deadline=None)
@given(channels=st.sampled_from([1, 3]), height=st.integers(8, 64), width=st.integers(8, 64),
       n=st.integers(1, 5))
def test_any_image_size_keeps_its_shape_and_range(channels, height, width, n):
    x = torch.rand(n, channels, height, width)
    moved = jitter(x)
    assert moved.shape == x.shape and torch.isfinite(moved).all()
    assert moved.min() >= 0 and moved.max() <= 1 + 1e-6
    assert np.isclose(float(jitter(torch.zeros_like(x)).abs().max()), 0.0)
