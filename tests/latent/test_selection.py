import numpy as np
import pytest

from explorer.latent.selection import Selection, combine, in_polygon, in_rect, mean_code, pick
from explorer.utils.errors import ExplorerError


def test_rectangle_with_corners_in_any_order():
    pts = np.array([[0, 0], [1, 1], [2, 2], [-1, 0.5]])
    assert in_rect(pts, 1.5, -0.5, 1.5, -0.5).tolist() == [True, True, False, False]


def test_lasso_handles_concave_shapes():
    # a "U": the notch between the arms is outside
    u = np.array([[0, 0], [3, 0], [3, 3], [2, 3], [2, 1], [1, 1], [1, 3], [0, 3]])
    pts = np.array([[0.5, 2.5], [2.5, 2.5], [1.5, 2.0], [1.5, 0.5], [4.0, 1.0]])
    assert in_polygon(pts, u).tolist() == [True, True, False, True, False]


def test_degenerate_lasso_selects_nothing():
    assert not in_polygon(np.zeros((3, 2)), np.array([[0, 0], [1, 1]])).any()


def test_matches_a_brute_force_count_on_random_points():
    rng = np.random.default_rng(0)
    pts = rng.uniform(-1, 1, size=(20_000, 2))
    circle = np.stack([np.cos(t := np.linspace(0, 2 * np.pi, 200, endpoint=False)), np.sin(t)], axis=1) * 0.8
    inside = in_polygon(pts, circle)
    assert np.mean(inside == (np.linalg.norm(pts, axis=1) < 0.8)) > 0.995


def test_combine_replaces_adds_subtracts_and_intersects():
    current, hit = np.array([1, 1, 0, 0], dtype=bool), np.array([0, 1, 1, 0], dtype=bool)
    assert combine(current, hit, "replace").tolist() == [0, 1, 1, 0]
    assert combine(current, hit, "add").tolist() == [1, 1, 1, 0]
    assert combine(current, hit, "subtract").tolist() == [1, 0, 0, 0]
    assert combine(current, hit, "intersect").tolist() == [0, 1, 0, 0]
    with pytest.raises(ValueError):
        combine(current, hit, "xor")


def test_a_snapshot_restores_the_selection_it_was_taken_of():
    s = Selection()
    s.use("mnist", {"test": 4, "train": 2})
    shown = [("test", 4)]
    empty = s.snapshot()
    assert s.set(shown, [1, 0, 0, 0])
    one = s.snapshot()
    assert s.set(shown, [1, 1, 0, 0]) and not s.set(shown, [1, 1, 0, 0])  # no change: False
    s.restore(one)
    assert s.mask(shown).tolist() == [1, 0, 0, 0]
    s.set(shown, [0, 0, 0, 1])
    assert one[1]["test"].tolist() == [1, 0, 0, 0]  # a snapshot is a copy: later changes leave it as it was
    s.restore(empty)
    assert s.count() == 0
    s.use("fashion-mnist", {"test": 4})  # other images: a snapshot of the old ones does not apply
    s.restore(one)
    assert s.count() == 0


def test_selection_is_kept_per_split_and_survives_showing_another():
    s = Selection()
    s.use("mnist", {"test": 3, "train": 2})
    s.set([("test", 3)], [0, 1, 0])
    s.set([("train", 2)], [1, 1])  # only train shown: test keeps its selection
    assert s.mask([("test", 3), ("train", 2)]).tolist() == [0, 1, 0, 1, 1]
    s.set([("test", 3), ("train", 2)], [1, 0, 0, 0, 1])
    assert s.masks["test"].tolist() == [1, 0, 0] and s.masks["train"].tolist() == [0, 1]
    assert s.count() == 2 and s.count(["train"]) == 1
    s.use("mnist", {"test": 3, "train": 2})  # another model of the same data: the same images stay selected
    assert s.count() == 2
    s.use("fashion-mnist", {"test": 3})  # other images: nothing selected
    assert s.count() == 0


def test_groups_pick_the_codes_of_their_images():
    s = Selection()
    s.use("mnist", {"test": 3, "train": 2})
    s.set([("test", 3), ("train", 2)], [1, 0, 1, 0, 1])
    assert s.save_group("A", ["test", "train"]) == 3 and s.group_size("A") == 3
    assert s.save_group("B", ["train"]) == 1 and list(s.groups["B"]) == ["train"]  # only the splits shown
    s.set([("test", 3), ("train", 2)], [0, 0, 0, 0, 0])
    assert s.group_size("A") == 3 and s.group_size("C") == 0  # a saved group does not follow the selection
    codes = {"test": np.array([[0.0, 0], [1, 1], [2, 2]]), "train": np.array([[5.0, 5], [6, 6]])}
    assert pick(s.groups["A"], codes).tolist() == [[0, 0], [2, 2], [6, 6]]
    assert pick(s.groups["A"], {"test": codes["test"]}).tolist() == [[0, 0], [2, 2]]  # train not embedded
    assert np.allclose(mean_code(pick(s.groups["A"], codes)), [8 / 3, 8 / 3])


def test_mean_code_of_nothing_says_what_to_do():
    with pytest.raises(ExplorerError, match="nothing is selected"):
        mean_code(np.zeros((0, 4)))
