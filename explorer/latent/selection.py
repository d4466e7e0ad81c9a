"""Which map points fall inside a box or a lasso (a polygon), without Qt."""

from __future__ import annotations

import numpy as np

from explorer.utils.errors import ExplorerError


def in_rect(points: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Boolean mask of the (N, 2) points inside the rectangle (corners in any order)."""
    points = np.asarray(points)
    (xa, xb), (ya, yb) = sorted((x0, x1)), sorted((y0, y1))
    x, y = points[:, 0], points[:, 1]
    return (x >= xa) & (x <= xb) & (y >= ya) & (y <= yb)


def in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Boolean mask of the (N, 2) points inside the closed polygon (K, 2), even-odd rule.

    One ray-crossing test per polygon edge over all points at once: K numpy passes, not N*K Python steps.
    """
    points, polygon = np.asarray(points, dtype=np.float64), np.asarray(polygon, dtype=np.float64)
    inside = np.zeros(len(points), dtype=bool)
    if len(polygon) < 3:
        return inside
    x, y = points[:, 0], points[:, 1]
    for (xa, ya), (xb, yb) in zip(polygon, np.roll(polygon, -1, axis=0)):
        if ya == yb:
            continue  # a horizontal edge never crosses a horizontal ray
        crosses = (ya > y) != (yb > y)
        x_at = xa + (y - ya) * (xb - xa) / (yb - ya)
        inside ^= crosses & (x < x_at)
    return inside


MODES = ("replace", "add", "subtract", "intersect")


def combine(current: np.ndarray, hit: np.ndarray, mode: str) -> np.ndarray:
    """The selection after a box, lasso or click that hit `hit`: replace it, add to it, take away from it
    or keep only what is in both."""
    if mode == "replace":
        return hit.copy()
    if mode == "add":
        return current | hit
    if mode == "subtract":
        return current & ~hit
    if mode == "intersect":
        return current & hit
    raise ValueError(f"unknown selection mode {mode!r}")


def pick(masks: dict[str, np.ndarray], arrays: dict[str, np.ndarray]) -> np.ndarray:
    """The rows of arrays[split] (codes, labels) where masks[split] is set, split after split; splits
    missing from `arrays` (not embedded by this model) are left out."""
    parts = [arrays[name][m] for name, m in masks.items() if name in arrays and len(arrays[name]) == len(m)]
    return np.concatenate(parts) if parts else next(iter(arrays.values()), np.zeros(0))[:0]


def mean_code(codes: np.ndarray) -> np.ndarray:
    """The mean full code (d,) of the selected images: a point in latent space, not on the map."""
    if len(codes) == 0:
        raise ExplorerError("nothing is selected: select points on the map first (S)")
    return np.asarray(codes, dtype=np.float64).mean(axis=0).astype(np.float32)


class Selection:
    """Which images of a dataset are selected, one boolean mask per split, and named groups saved from it
    (the attribute arithmetic's A and B). It keeps no history of its own: the window's one undo stack
    holds `snapshot()`s taken before and after each change and `restore`s them.

    Images are named by split and index, not by map position, so a selection outlives a change of
    model (the same digits, placed by another model) or of the split shown (masks of the splits not
    shown are kept as they were).
    """

    def __init__(self):
        self.dataset: str | None = None
        self.masks: dict[str, np.ndarray] = {}
        self.groups: dict[str, dict[str, np.ndarray]] = {}

    def use(self, dataset: str, sizes: dict[str, int]) -> None:
        """Make room for the splits of `dataset` with these sizes; another dataset starts afresh."""
        if dataset != self.dataset:
            self.__init__()
            self.dataset = dataset
        for name, n in sizes.items():
            if len(self.masks.get(name, ())) != n:
                self.masks[name] = np.zeros(n, dtype=bool)

    def mask(self, splits: list[tuple[str, int]]) -> np.ndarray:
        """The selection over these splits (name, size), concatenated in order."""
        self.use(self.dataset, dict(splits))
        return np.concatenate([self.masks[name] for name, _ in splits]) if splits else np.zeros(0, dtype=bool)

    def set(self, splits: list[tuple[str, int]], mask: np.ndarray) -> bool:
        """Select `mask` over these splits (the others keep theirs); False when nothing changed."""
        mask = np.asarray(mask, dtype=bool)
        if np.array_equal(mask, self.mask(splits)):
            return False
        for (name, _), part in zip(splits, np.split(mask, np.cumsum([n for _, n in splits])[:-1])):
            self.masks[name] = part.copy()
        return True

    def count(self, splits: list[str] | None = None) -> int:
        """Images selected in these splits (default: all)."""
        return int(sum(m.sum() for name, m in self.masks.items() if splits is None or name in splits))

    def save_group(self, name: str, splits: list[str]) -> int:
        """Keep what is selected in these splits (those shown) as group `name`; returns its size."""
        self.groups[name] = {split: self.masks[split].copy() for split in splits if split in self.masks}
        return self.group_size(name)

    def group_size(self, name: str) -> int:
        return int(sum(m.sum() for m in self.groups.get(name, {}).values()))

    def snapshot(self) -> tuple[str | None, dict[str, np.ndarray]]:
        """What is selected now (dataset and a copy of every mask), for `restore`."""
        return self.dataset, {name: m.copy() for name, m in self.masks.items()}

    def restore(self, snapshot: tuple[str | None, dict[str, np.ndarray]]) -> None:
        """Select again what `snapshot()` returned; masks of splits it lacks are cleared."""
        dataset, masks = snapshot
        if dataset != self.dataset:
            return  # taken over other images (another dataset): nothing of it applies
        sizes = {name: len(m) for name, m in self.masks.items()}
        self.masks = {name: (masks[name].copy() if len(masks.get(name, ())) == n else np.zeros(n, dtype=bool))
                      for name, n in sizes.items()}
