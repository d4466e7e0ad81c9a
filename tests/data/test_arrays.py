"""Images, labels and codes from the user: every accepted form lands in one layout, and every other
shape or value is refused with a sentence naming the argument and the shape given."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from explorer.data import arrays
from explorer.engine import coding
from explorer.utils.errors import ExplorerError

SETTINGS = settings(max_examples=60, deadline=None)  # on each test, so no other module's profile is changed

rng = np.random.default_rng(0)
GREY = rng.integers(0, 256, (5, 12, 20), dtype=np.uint8)
RGB = rng.integers(0, 256, (5, 12, 20, 3), dtype=np.uint8)


@pytest.mark.parametrize("given_images, stored", [
    (GREY, GREY),
    (GREY[:, None], GREY),  # (N, 1, H, W)
    (torch.from_numpy(GREY[:, None]).float() / 255, GREY),  # float in [0, 1]
    (RGB, RGB),  # channels last
    (RGB.transpose(0, 3, 1, 2), RGB),  # channels first
    (torch.from_numpy(RGB.transpose(0, 3, 1, 2)).double() / 255, RGB),
    (GREY.astype(np.int64), GREY),  # whole numbers 0-255 of another integer type
], ids=["N,H,W", "N,1,H,W", "float", "N,H,W,3", "N,3,H,W", "float64 N,3,H,W", "int64"])
def test_every_accepted_form_is_stored_as_uint8_channels_last(given_images, stored):
    out = arrays.images(given_images)
    assert out.dtype == torch.uint8 and np.array_equal(out.numpy(), stored)


def test_stored_images_become_the_models_float_nchw_input():
    x = coding.to_input(arrays.images(RGB))
    assert x.shape == (5, 3, 12, 20) and x.dtype == torch.float32
    assert torch.equal(x[:, 1], torch.from_numpy(RGB[..., 1]).float() / 255)


def accepted(shape) -> bool:
    if len(shape) == 4 and shape[1] in (1, 3) and shape[3] not in (1, 3):
        shape = (shape[0], shape[2], shape[3], shape[1])
    if len(shape) == 4 and shape[3] == 1:
        shape = shape[:3]
    return (len(shape) == 3 or (len(shape) == 4 and shape[3] == 3)) and shape[0] >= 1 and \
        all(8 <= s <= 256 for s in shape[1:3])


@SETTINGS
@given(shape=st.lists(st.integers(0, 300), min_size=0, max_size=5).map(tuple))
def test_any_shape_is_either_accepted_or_named_in_the_message(shape):
    if np.prod(shape, dtype=np.int64) > 2_000_000:
        shape = tuple(min(s, 9) for s in shape)
    x = np.zeros(shape, dtype=np.uint8)
    if accepted(shape):
        assert arrays.images(x).shape[0] == shape[0]
        return
    with pytest.raises(ExplorerError) as e:
        arrays.images(x)
    message = str(e.value)
    assert message.startswith("images") and "\n" not in message
    assert arrays.shape_text(shape) in message or "pixels" in message


@SETTINGS
@given(low=st.floats(-1e6, 1e6), high=st.floats(-1e6, 1e6))
def test_float_pixels_outside_0_1_are_refused_with_the_range_found(low, high):
    x = np.full((2, 8, 8), 0.5, dtype=np.float32)
    x[0, 0, 0], x[1, 0, 0] = low, high
    found_low, found_high = float(x.min()), float(x.max())
    if found_low >= -arrays.ROUNDING and found_high <= 1 + arrays.ROUNDING:
        assert arrays.images(x).dtype == torch.uint8
    else:
        with pytest.raises(ExplorerError, match=r"float pixels must lie in \[0, 1\], found"):
            arrays.images(x)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_pixels_are_refused(bad):
    x = np.zeros((2, 8, 8), np.float32)
    x[1, 3, 3] = bad
    with pytest.raises(ExplorerError, match="NaN or infinite"):
        arrays.images(x)


@pytest.mark.parametrize("x, problem", [
    ([[0] * 64], "torch tensor or a NumPy array"),
    (np.zeros((2, 8, 8), bool), "dtype bool"),
    (np.full((2, 8, 8), 300, np.int32), "0 to 255, found 300"),
    (np.zeros((2, 784), np.uint8), "reshape to (N, 28, 28)"),
], ids=["a list", "booleans", "integers above 255", "flat rows"])
def test_other_image_mistakes_get_one_sentence(x, problem):
    with pytest.raises(ExplorerError) as e:
        arrays.images(x)
    assert problem in str(e.value)


def test_labels_as_ints_or_class_names():
    ints, classes = arrays.labels(torch.tensor([2, 0, 2]), 3)
    assert ints.tolist() == [2, 0, 2] and classes == ("0", "1", "2")
    ints, classes = arrays.labels(["cat", "dog", "cat"], 3)
    assert ints.tolist() == [0, 1, 0] and classes == ("cat", "dog")
    ints, classes = arrays.labels(None, 4)
    assert ints.tolist() == [0] * 4 and classes == ("unlabelled",)


@SETTINGS
@given(n=st.integers(1, 20), given_n=st.integers(0, 20))
def test_labels_must_be_one_per_image(n, given_n):
    y = np.zeros(given_n, np.int64)
    if n == given_n:
        assert len(arrays.labels(y, n)[0]) == n
    else:
        with pytest.raises(ExplorerError, match=rf"labels have shape \({given_n},\); expected \({n},\)"):
            arrays.labels(y, n)


@pytest.mark.parametrize("y, problem", [
    (np.array([0, -1]), "from 0 to 999"),
    (np.array([0, 10**12]), "from 0 to 999"),
    (np.array([0, 1e300]), "found 1e+300"),
    (np.array([0.5, 1.0]), "whole numbers"),
    (np.array([[0, 1]]), "shape (1, 2)"),
], ids=["negative", "huge", "huge-float", "fractions", "2-d"])
def test_bad_labels_are_named(y, problem):
    with pytest.raises(ExplorerError) as e:
        arrays.labels(y, 2)
    assert problem in str(e.value) and str(e.value).startswith("labels")


@SETTINGS
@given(z=hnp.arrays(np.float64, st.tuples(st.integers(0, 5), st.integers(0, 5)),
                elements=st.floats(allow_nan=True, allow_infinity=True)))
def test_codes_are_finite_n_by_d_or_refused(z):
    if z.shape[0] >= 1 and z.shape[1] >= 2 and (np.abs(z) <= np.finfo(np.float32).max).all():
        out, shape = arrays.codes(z)
        assert out.dtype == torch.float32 and out.shape == z.shape and shape == (z.shape[1],)
    else:
        with pytest.raises(ExplorerError, match="^codes"):
            arrays.codes(z)


def test_dcgan_style_codes_keep_their_shape():
    out, shape = arrays.codes(torch.zeros(4, 100, 1, 1))
    assert out.shape == (4, 100) and shape == (100, 1, 1)


@SETTINGS
@given(label=st.one_of(st.integers(-(2**63), 2**63 - 1), st.floats(-1e300, 1e300).map(round).map(float)))
def test_any_label_value_is_accepted_or_refused_before_names_are_built(label):
    y = np.array([0, label])
    if 0 <= label < arrays.MAX_CLASSES:
        ints, classes = arrays.labels(y, 2)
        assert len(classes) == int(label) + 1 if label else len(classes) == 1
    else:  # 10**12 used to build a 13 GB tuple of class names first
        with pytest.raises(ExplorerError, match=f"class numbers from 0 to {arrays.MAX_CLASSES - 1}"):
            arrays.labels(y, 2)


@SETTINGS
@given(d=st.integers(2, 100_000))
def test_codes_of_any_size_are_taken_or_refused_naming_the_limit(d):
    z = np.zeros((1, d), np.float32)
    if d <= arrays.MAX_LATENT_DIM:
        assert arrays.codes(z)[0].shape == (1, d)
    else:
        with pytest.raises(ExplorerError, match=f"{d:,} values each; the map takes codes of at most 512"):
            arrays.codes(z)
