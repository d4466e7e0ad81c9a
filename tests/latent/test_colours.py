"""A colour per class: distinct for any number of classes the loader accepts, the same for a class
however many others there are, and the lecture's tab10 for the first ten."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.data.limits import MAX_CLASSES
from explorer.latent.colours import TAB10, class_colours


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, MAX_CLASSES), m=st.integers(0, MAX_CLASSES))
def test_every_class_gets_its_own_colour_kept_whatever_else_is_shown(n, m):
    colours = class_colours(n)
    assert len(colours) == n and len(set(colours)) == n
    assert all(len(c) == 7 and c.startswith("#") for c in colours)
    small, large = sorted((n, m))
    assert class_colours(large)[:small] == class_colours(small)  # a class keeps its colour
    assert colours[:10] == TAB10[:n]


def test_more_classes_than_the_loader_accepts_are_refused():
    with pytest.raises(ValueError, match=f"0 to {MAX_CLASSES} classes"):
        class_colours(MAX_CLASSES + 1)


@settings(max_examples=20, deadline=None)
@given(present=st.lists(st.integers(0, 40), min_size=1, max_size=8, unique=True))
def test_the_replays_legend_shows_each_class_present_in_its_own_colour(present):
    import numpy as np

    from explorer.latent import scatter_image

    present = sorted(present)
    labels = np.array(present)
    image = scatter_image.draw(np.zeros((len(labels), 2)), labels, (-1, 1, -1, 1), size=240,
                               classes=[f"c{k}" for k in range(41)])
    colours = class_colours(41)
    for row, k in enumerate(present):  # a swatch per class present, top down, in the class's colour
        swatch = image[8 + row * scatter_image.LEGEND_ROW + 5, 240 + 13]
        assert "#%02x%02x%02x" % tuple(swatch) == colours[k]
