"""Path files (Ctrl+Shift+P in the window) are checked whole when read: any JSON at all either gives
a Path whose every field is what the window relies on, or one line naming the file; never a crash
half-way through applying it (tests/gui/test_path_editor.py opens such files in the window)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.data.limits import MAX_LATENT_DIM
from explorer.engine import config
from explorer.latent import interpolation
from explorer.utils.errors import ExplorerError

VALID = {"format": "latent-explorer-path", "version": 1, "waypoints": [[0.5, -1.0], [2.0, 3.0]], "steps": 7,
         "smooth": True, "spherical": False, "axes": [0, 2], "model": "vae-3d-mlp"}
FIELDS = sorted(VALID)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8)

# values of each field that look nearly right: the classes a hand-edited or generated file falls into
BAD = st.one_of(
    st.tuples(st.just("axes"), st.one_of(
        st.lists(st.integers(0, 5), min_size=0, max_size=4).filter(lambda a: len(a) != 2),  # length 3, 1, 0
        st.integers(0, 5).map(lambda a: [a, a]),  # equal
        st.tuples(st.integers(-(2**40), -1), st.integers(0, 5)).map(list),  # negative
        st.integers(MAX_LATENT_DIM, 2**70).map(lambda a: [0, a]),  # beyond any model
        st.sampled_from([["0", "1"], [0.0, 1.0], [True, False], "01", None, {"i": 0, "j": 1}]))),
    st.tuples(st.just("model"), st.one_of(st.integers(interpolation.MAX_MODEL_NAME + 1, 50_000).map(lambda n: "m" * n),
                                          st.sampled_from([3, ["a"], {"name": "x"}, None, True]))),
    st.tuples(st.just("waypoints"), st.one_of(
        st.lists(st.lists(st.floats(-9, 9), min_size=3, max_size=3), min_size=1, max_size=3),
        st.sampled_from([[], "12", [["1", "2"]], [[True, 0]], [[0, 1]] * (interpolation.MAX_WAYPOINTS + 1),
                         {"x": 1}, [[0, None]], [[0, float("nan")]], [[0, 1e999]], None, [0, 1]]))),
    st.tuples(st.just("steps"), st.one_of(st.sampled_from([0, -1, True, "7", 2.5, None, [7]]),
                                          st.integers(config.MAX_STEPS + 1, 2**70))),
    st.tuples(st.sampled_from(["smooth", "spherical"]), st.sampled_from(["true", 1, None, [True]])),
)


def bad_file(change) -> dict:
    field, value = change
    return {**VALID, field: value}


def assert_whole(p: interpolation.Path) -> None:
    """Everything the window's slots take from a path, as they take it."""
    assert 1 <= len(p.waypoints) <= interpolation.MAX_WAYPOINTS
    assert all(type(x) is float and type(y) is float for x, y in p.waypoints)
    assert len(p.axes) == 2 and p.axes[0] != p.axes[1] and all(type(a) is int and 0 <= a < MAX_LATENT_DIM
                                                               for a in p.axes)
    assert type(p.steps) is int and 1 <= p.steps <= config.MAX_STEPS
    assert type(p.smooth) is bool and type(p.spherical) is bool
    assert type(p.model) is str and len(p.model) <= interpolation.MAX_MODEL_NAME


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=3),
       dropped=st.sets(st.sampled_from(FIELDS), max_size=2))
def test_any_json_is_a_whole_path_or_one_line_naming_the_file(tmp_path, changes, dropped):
    doc = {k: v for k, v in {**VALID, **changes}.items() if k not in dropped}
    file = tmp_path / "any.json"
    file.write_text(json.dumps(doc))
    try:
        p = interpolation.load(file)
    except ExplorerError as e:
        assert str(e).startswith(str(file)) and "\n" not in str(e)
        assert len(str(e)) < 500  # a field of megabytes is described, not repeated back
    else:
        assert_whole(p)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(change=BAD)
def test_nearly_right_fields_are_refused_with_the_field_named(tmp_path, change):
    file = tmp_path / "bad.json"
    file.write_text(json.dumps(bad_file(change)))
    with pytest.raises(ExplorerError) as e:
        interpolation.load(file)
    field = change[0]
    assert str(e.value).startswith(str(file)) and "\n" not in str(e.value) and len(str(e.value)) < 500
    assert field in str(e.value) or (field == "waypoints" and "finite" in str(e.value)), str(e.value)


def test_a_file_of_megabytes_is_not_read_whole(tmp_path):
    file = tmp_path / "huge.json"
    file.write_text(json.dumps({**VALID, "model": "m" * 3_000_000}))
    with pytest.raises(ExplorerError, match="larger than any path file"):
        interpolation.load(file)
    with pytest.raises(ExplorerError, match="not a path file"):
        interpolation.load("/dev/zero")
