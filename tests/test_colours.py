"""A colour per class: distinct for any number of classes the loader accepts, the same for a class
however many others there are, and the lecture's tab10 for the first ten."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.colours import TAB10, class_colours
from explorer.config import MAX_CLASSES


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
