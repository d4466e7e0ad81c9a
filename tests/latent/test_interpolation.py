import json

import numpy as np
import pytest

from explorer.engine import coding, config
from explorer.latent import interpolation
from explorer.utils.errors import ExplorerError


def test_straight_path_codes_lie_on_the_plane_evenly_spaced():
    stats = coding.stats_from_embeddings(np.random.default_rng(0).normal(size=(500, 5)) * [4, 3, 1, 1, 1])
    plane = stats.plane()
    p = interpolation.Path(waypoints=[(0, 0), (2, 0), (2, 2)], steps=5)
    codes = p.codes(plane)
    assert codes.shape == (5, 5)
    assert np.allclose(plane.project(codes), [[0, 0], [1, 0], [2, 0], [2, 1], [2, 2]], atol=1e-5)


def test_smooth_curve_passes_through_every_waypoint():
    waypoints = [(0, 0), (1, 2), (3, 1), (4, 3)]
    curve = interpolation.catmull_rom(waypoints)
    for w in waypoints:
        assert np.min(np.linalg.norm(curve - w, axis=1)) < 1e-9
    assert np.array_equal(curve[0], waypoints[0]) and np.array_equal(curve[-1], waypoints[-1])
    # smooth: no corner sharper than the polyline's at the waypoints
    turn = np.diff(np.unwrap(np.arctan2(*np.diff(curve, axis=0).T[::-1])))
    assert np.abs(turn).max() < 0.5


def test_spherical_path_keeps_the_norm_between_equal_norm_waypoints():
    plane = coding.prior_stats(2).plane()
    p = interpolation.Path(waypoints=[(3, 0), (0, 3)], steps=9, spherical=True)
    assert np.allclose(np.linalg.norm(p.codes(plane), axis=1), 3.0, atol=1e-5)
    assert np.allclose(p.map_points(plane)[[0, -1]], [(3, 0), (0, 3)])


def test_json_round_trip(tmp_path):
    p = interpolation.Path(waypoints=[(0.5, -1.0), (2.0, 3.0), (4.0, 0.0)], steps=12, smooth=True, axes=(1, 2),
                           model="vae")
    file = interpolation.save(tmp_path / "walk.json", p)
    again = interpolation.load(file)
    assert again == p
    assert json.loads(file.read_text())["format"] == "latent-explorer-path"


@pytest.mark.parametrize("text, problem", [
    ("{not json", "not valid JSON"),
    ('{"format": "other"}', "not a Latent Explorer path"),
    ('{"format": "latent-explorer-path", "version": 7, "waypoints": []}', "version 7"),
    ('{"format": "latent-explorer-path", "version": 1}', "malformed"),
    ('{"format": "latent-explorer-path", "version": 1, "waypoints": [[0, "x"]]}', "malformed"),
    ('{"format": "latent-explorer-path", "version": 1, "waypoints": [[0, 1]], "steps": 0}', "steps"),
    ('{"format": "latent-explorer-path", "version": 1, "waypoints": [[0, 1]], "steps": 3.7}', "steps"),
    ('{"format": "latent-explorer-path", "version": 1, "waypoints": [[0, 1]], "steps": Infinity}', "steps"),
    ('{"format": "latent-explorer-path", "version": 1, "waypoints": [[0, 1]], "axes": [Infinity, 1]}', "malformed"),
    ('{"format": "latent-explorer-path", "version": 1, "waypoints": [[0, 1]], "smooth": "false"}', "true or false"),
    ('{"format": "latent-explorer-path", "version": 1, "waypoints": [[0, 1e999]]}', "finite"),
    ('{"format": "latent-explorer-path", "version": 1, "waypoints": [[0, 1, 2]]}', "malformed"),
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "not valid JSON"),
    ("\udcff\udcfe", "cannot read"),
])
def test_bad_path_files_are_refused_with_the_reason(tmp_path, text, problem):
    file = tmp_path / "bad.json"
    file.write_bytes(text.encode("utf-8", "surrogateescape"))  # the last case: bytes that are not UTF-8
    with pytest.raises(ExplorerError, match=problem) as e:
        interpolation.load(file)
    assert str(file) in str(e.value)


def test_an_unreadable_name_is_refused(tmp_path):
    with pytest.raises(ExplorerError, match="cannot read"):
        interpolation.load(tmp_path / "nul\0byte.json")


def test_non_finite_waypoints_are_refused():
    with pytest.raises(ExplorerError, match="finite"):
        interpolation.Path(waypoints=[(0, float("inf"))])


def test_a_long_freehand_stroke_is_thinned_to_editable_waypoints_along_it():
    t = np.linspace(0, 2 * np.pi, 500)
    stroke = np.column_stack([np.cos(t), np.sin(t)])
    kept = interpolation.thinned(stroke)
    assert len(kept) == interpolation.MAX_WAYPOINTS
    assert np.array_equal(kept[[0, -1]], stroke[[0, -1]])
    assert np.allclose(np.linalg.norm(kept, axis=1), 1, atol=1e-3)  # still on the stroke
    steps = np.linalg.norm(np.diff(kept, axis=0), axis=1)
    assert steps.max() - steps.min() < 1e-3  # evenly spaced
    short = stroke[:10]
    assert np.array_equal(interpolation.thinned(short), short)


def test_a_waypoint_added_on_the_line_goes_between_its_ends_else_at_the_end():
    waypoints = [(0, 0), (4, 0), (4, 4)]
    line = np.asarray(waypoints, dtype=float)
    assert interpolation.insertion_index(waypoints, line, (1.0, 0.05), 0.1) == 1
    assert interpolation.insertion_index(waypoints, line, (4.02, 3.0), 0.1) == 2
    assert interpolation.insertion_index(waypoints, line, (2.0, 2.0), 0.1) == 3  # away from the line: appended
    assert interpolation.insertion_index(waypoints[:1], line[:1], (0.0, 0.0), 0.1) == 1
    # on a smooth curve, the stretch between waypoints 1 and 2 is found on the curve, not the chord
    curve = interpolation.Path(waypoints=[(0, 0), (2, 2), (4, 0), (6, 2)], smooth=True).outline()
    k = len(curve) // 2  # the middle of the curve, on the stretch from waypoint 1 to 2
    assert interpolation.insertion_index([(0, 0), (2, 2), (4, 0), (6, 2)], curve, curve[k], 1e-6) == 2


def test_the_line_drawn_for_a_spherical_path_is_its_arc_seen_on_the_map():
    stats = coding.stats_from_embeddings(np.random.default_rng(1).normal(size=(500, 4)) * [3, 2, 1, 1] + 1.5)
    plane = stats.plane()
    straight = interpolation.Path(waypoints=[(-2, 0), (2, 1)], steps=5)
    assert np.array_equal(straight.curve(plane), straight.outline())
    arc = interpolation.Path(waypoints=[(-2, 0), (2, 1)], steps=5, spherical=True)
    curve = arc.curve(plane)
    assert len(curve) == config.MAX_STEPS and np.allclose(curve[[0, -1]], [(-2, 0), (2, 1)], atol=1e-5)
    assert np.abs(curve[:, 1] - np.interp(curve[:, 0], [-2, 2], [0, 1])).max() > 0.05  # it bends off the chord
    for sample in arc.map_points(plane):  # every decoded sample lies on the drawn line
        assert np.min(np.linalg.norm(curve - sample, axis=1)) < 0.05
