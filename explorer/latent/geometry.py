"""Geometry of the map: grids, paths (lerp, slerp, by arc length), neighbours and attribute directions.

Everything here works on map points and codes as arrays; turning them into pictures is `coding`'s.
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.engine.coding import MAX_CODE_NORM, MAX_MAP_COORD
from explorer.engine.config import MAX_GRID, MAX_STEPS
from explorer.utils.errors import ExplorerError


def check_count(n: int, largest: int, what: str) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 1 <= n <= largest:
        raise ExplorerError(f"{what} must be a whole number from 1 to {largest}, got {n!r}")
    return int(n)


def check_bounds(bounds) -> tuple[float, float, float, float]:
    xmin, xmax, ymin, ymax = (float(b) for b in bounds)
    if not all(np.isfinite([xmin, xmax, ymin, ymax])):
        raise ExplorerError("the range must be finite numbers")
    if xmin >= xmax or ymin >= ymax:
        raise ExplorerError(f"the range needs xmin < xmax and ymin < ymax, got {xmin:g} {xmax:g} {ymin:g} {ymax:g}")
    _within_map([xmin, xmax, ymin, ymax], "the range")
    return xmin, xmax, ymin, ymax


def grid_coords(n: int, bounds) -> np.ndarray:
    """(n*n, 2) map points of an n x n grid, row by row, row 0 at the top (largest y)."""
    n = check_count(n, MAX_GRID, "grid size")
    xmin, xmax, ymin, ymax = check_bounds(bounds)
    if n == 1:
        return np.array([[(xmin + xmax) / 2, (ymin + ymax) / 2]])
    xs, ys = np.linspace(xmin, xmax, n), np.linspace(ymax, ymin, n)
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def lerp(a, b, n: int) -> np.ndarray:
    return _along(np.array([[0.0], [1.0]]), np.stack([a, b]), n, _lerp_at)


def slerp(a, b, n: int) -> np.ndarray:
    """Spherical interpolation about the origin: keeps the norm typical of samples from N(0, I)."""
    return _along(np.array([[0.0], [1.0]]), np.stack([a, b]), n, _slerp_at)


def resample_polyline(points, n: int) -> np.ndarray:
    """n points evenly spaced by arc length along the polyline through `points` (k, dims)."""
    return _along(points, points, n, _lerp_at)


def path_codes(surface, waypoints, n: int, spherical: bool = False) -> np.ndarray:
    """Codes (n, d) along a path through map points, evenly spaced by length on the map: the codes of
    points on its straight segments, or with `spherical`, slerp between the full codes of each segment's
    ends. `surface` turns map points into codes: a Plane, or any map with to_latent (maps.LearnedMap)."""
    waypoints = _within_map(_finite_points(np.asarray(waypoints, dtype=np.float64).reshape(-1, 2)), "path points")
    if not spherical:
        return np.asarray(surface.to_latent(resample_polyline(waypoints, n)), dtype=np.float32)
    codes = np.asarray(surface.to_latent(waypoints), dtype=np.float64)
    return _along(waypoints, codes, n, _slerp_at).astype(np.float32)


def _along(measure, values, n: int, at) -> np.ndarray:
    """n samples of `values` (k, q) interpolated with `at`, spaced by the arc length of `measure` (k, p)."""
    measure, values = np.asarray(measure, dtype=np.float64), np.asarray(values, dtype=np.float64)
    n = check_count(n, MAX_STEPS, "steps")
    if len(values) == 0:
        raise ExplorerError("a path needs at least one point")
    _finite_points(measure)
    _finite_points(values)
    seg = np.linalg.norm(np.diff(measure, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    if not np.isfinite(cum[-1]):
        raise ExplorerError("the path is too long to measure; keep its points within about 1e150")
    if len(values) == 1 or cum[-1] == 0:
        return np.repeat(values[:1], n, axis=0)
    out = np.empty((n, values.shape[1]))
    for k, s in enumerate(np.linspace(0.0, cum[-1], n) if n > 1 else [0.0]):
        i = min(int(np.searchsorted(cum, s, side="right")) - 1, len(seg) - 1)
        out[k] = at(values[i], values[i + 1], (s - cum[i]) / seg[i] if seg[i] else 0.0)
    out[0] = values[0]  # exact endpoints, whatever the rounding
    if n > 1:
        out[-1] = values[-1]
    return out


def _finite_points(points: np.ndarray) -> np.ndarray:
    if not np.isfinite(points).all():
        raise ExplorerError("path points must be finite numbers (no NaN or infinity)")
    return points


def _within_map(values, what: str):
    peak = float(np.abs(values).max(initial=0.0))
    if peak > MAX_MAP_COORD:
        raise ExplorerError(f"{what} must lie within ±{MAX_MAP_COORD:g} on the map, got {peak:g} (codes further "
                            f"than {MAX_CODE_NORM:g} from the origin all decode alike)")
    return values


def _lerp_at(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    return a + t * (b - a)


def _slerp_at(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    omega = np.arccos(np.clip(np.dot(a / na, b / nb), -1.0, 1.0)) if na and nb else 0.0
    if omega < 1e-6 or np.pi - omega < 1e-6:  # (anti)parallel or at the origin: no unique great circle
        return _lerp_at(a, b, t)
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def nearest(codes: np.ndarray, query, k: int = 5) -> np.ndarray:
    """Indices of the k codes nearest to `query` (d,), closest first."""
    codes = np.asarray(codes, dtype=np.float32)
    k = min(int(k), len(codes))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    dist = np.sum((codes - np.asarray(query, dtype=np.float32)) ** 2, axis=1)
    idx = np.argpartition(dist, k - 1)[:k]
    return idx[np.argsort(dist[idx], kind="stable")]


def direction(codes_from: np.ndarray, codes_to: np.ndarray) -> np.ndarray:
    """The attribute vector mean(to) - mean(from): adding it moves a code from one group towards the other."""
    if len(codes_from) == 0 or len(codes_to) == 0:
        raise ExplorerError("both groups need at least one point")
    return (np.mean(codes_to, axis=0) - np.mean(codes_from, axis=0)).astype(np.float32)


def walk(start, vector, amounts) -> np.ndarray:
    """Codes start + a * vector for each a in `amounts` (the attribute slider's strip)."""
    return (np.asarray(start, dtype=np.float64) + np.outer(amounts, vector)).astype(np.float32)


NEAREST_CHUNK = 2048  # query rows per distance block: 2048 x 70,000 float32 is 570 MB at most


def nearest_each(points: torch.Tensor, queries: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(M, k) distances and indices of the k points nearest each of M queries, closest first (by blocks
    of queries; `nearest` is the one-query form)."""
    # cdist's matrix-product form is fast but loses precision with the codes' norm: codes of norm 6 were
    # found 2e-3 from themselves, codes near 523 in 1-d had a neighbour ranked before themselves. Centred,
    # only the spread counts; and the k kept are measured again exactly, so a data code is 0 from itself.
    points = points.float()
    centre = points.mean(dim=0)
    points = points - centre
    dists, idxs = [], []
    for s in range(0, len(queries), NEAREST_CHUNK):
        q = queries[s : s + NEAREST_CHUNK].float() - centre
        _, i = torch.cdist(q, points).topk(k, dim=1, largest=False)
        d, order = (points[i] - q[:, None]).norm(dim=-1).sort(dim=1, stable=True)
        dists.append(d.numpy())
        idxs.append(i.gather(1, order).numpy())
    return np.concatenate(dists), np.concatenate(idxs)
