"""A decodable non-linear map: a UMAP or t-SNE layout of the codes, the learned way back to codes, and
how far any map point lies from the data. Free of Qt.

It answers what coding.Plane answers, so grids, paths and the window decode on it alike:
to_latent(uv) gives full codes, project(z) places codes on the map. Off the data, to_latent is the
inverse network's extrapolation; `error` says how well it fits on the data, and distance_to_data lets
a view shade the parts of the map that no data point vouches for.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from explorer.data.datasets import default_root
from explorer.engine import coding
from explorer.latent import geometry
from explorer.latent.maps import inverse as inverse_net
from explorer.latent.maps.projection import NAMES, check_method, layout
from explorer.utils.errors import ExplorerError

PLACE_NEIGHBOURS = 8  # data codes averaged to place a code that is not one of them
CACHE_VERSION = "1"


@dataclass(frozen=True)
class LearnedMap:
    method: str  # 'umap' or 'tsne'
    uv: np.ndarray  # (N, 2) float32: where the layout put each data code
    codes: np.ndarray  # (N, d) float32: the data codes
    inverse: inverse_net.Inverse
    error: float  # inverse_net.relative_error on the data
    spacing: float  # median distance between a data point and its nearest neighbour on the map

    @property
    def bounds(self) -> np.ndarray:
        return coding.bounds_of(self.uv)

    def to_latent(self, uv) -> np.ndarray:
        return self.inverse(uv)

    def project(self, z) -> np.ndarray:
        """Map positions (M, 2) of codes (M, d): the distance-weighted mean position of the nearest data
        codes (a data code's own position; 0.6 ms for one code among 10,000 here, so the UI may call it)."""
        z = coding.check_codes(z, self.codes.shape[1]).astype(np.float32)
        k = min(PLACE_NEIGHBOURS, len(self.codes))
        dist, idx = geometry.nearest_each(torch.from_numpy(self.codes), torch.from_numpy(z), k)
        weights = 1.0 / np.maximum(dist, 1e-9)
        return (np.einsum("mk,mkc->mc", weights, self.uv[idx]) / weights.sum(axis=1, keepdims=True)).astype(np.float32)

    def distance_to_data(self, uv) -> np.ndarray:
        """(M,) distance from each map point to the nearest data point, in units of `spacing`:
        about 1 inside the data, large where the map is the inverse's extrapolation."""
        uv = np.asarray(uv, dtype=np.float32).reshape(-1, 2)
        dist, _ = geometry.nearest_each(torch.from_numpy(self.uv), torch.from_numpy(uv), 1)
        return dist[:, 0] / self.spacing

    def describe(self) -> str:
        return (f"{NAMES[self.method]} map with a learned inverse: off the data, decodes are its "
                f"extrapolation; on the data it misses codes by {self.error:.0%} of their spread (median)")


def build(codes, method: str, seed: int = 0, cache_dir: str | os.PathLike | None = None,
          steps: int = inverse_net.STEPS, should_stop: Callable[[], bool] = lambda: False,
          report: Callable[[float], None] = lambda fraction: None) -> LearnedMap:
    """The decodable `method` map of codes (N, d). With cache_dir, a map built before for the same
    codes, method and seed is read back instead (same model and split give the same codes)."""
    codes = np.ascontiguousarray(coding.check_codes(codes, np.shape(codes)[-1]), dtype=np.float32)
    check_method(method)
    path = Path(cache_dir) / f"{cache_key(codes, method, seed, steps)}.safetensors" if cache_dir else None
    if path is not None and (cached := _read(path, method, codes)) is not None:
        report(1.0)
        return cached
    report(0.0)
    uv = layout(codes, method, seed)
    if should_stop():
        raise inverse_net.Cancelled
    report(0.5)
    inverse = inverse_net.fit(uv, codes, seed, steps, should_stop=should_stop,
                              report=lambda f: report(0.5 + 0.5 * f))
    learned = LearnedMap(method, uv, codes, inverse, inverse_net.relative_error(inverse, uv, codes), _spacing(uv))
    if path is not None:
        _write(path, learned)
    return learned


def cache_key(codes: np.ndarray, method: str, seed: int, steps: int = inverse_net.STEPS) -> str:
    digest = hashlib.sha256(f"{CACHE_VERSION}:{method}:{seed}:{steps}:{codes.shape}".encode())
    digest.update(np.ascontiguousarray(codes, dtype=np.float32).tobytes())
    return digest.hexdigest()[:32]


def default_cache_dir() -> Path:
    """Beside the downloaded data, in the user's cache folder."""
    return default_root().parent / "maps"


def _spacing(uv: np.ndarray) -> float:
    sample = uv[np.random.default_rng(0).permutation(len(uv))[:2000]]
    dist, _ = geometry.nearest_each(torch.from_numpy(uv), torch.from_numpy(sample), 2)  # the first is the point itself
    return max(float(np.median(dist[:, 1])), 1e-9)


def _write(path: Path, learned: LearnedMap) -> None:
    """Cache the map (a cache that cannot be written costs only the time to build it again)."""
    from safetensors.torch import save

    from explorer.utils.files import atomic_write

    tensors = {"uv": torch.from_numpy(learned.uv), **learned.inverse.state()}
    meta = {"method": learned.method, "error": repr(learned.error), "spacing": repr(learned.spacing)}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda f: f.write(save(tensors, meta)), (".safetensors",))
    except (OSError, ExplorerError):
        pass


def _read(path: Path, method: str, codes: np.ndarray) -> LearnedMap | None:
    """The cached map, or None when there is none or it does not fit these codes (then it is rebuilt)."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    try:
        blob = path.read_bytes()
        tensors = load(blob)
        meta = _metadata(blob)
        uv = tensors.pop("uv").numpy()
        if meta.get("method") != method or uv.shape != (len(codes), 2) or not np.isfinite(uv).all():
            return None
        error, spacing = float(meta["error"]), float(meta["spacing"])
        inverse = inverse_net.Inverse.from_state(tensors, codes.shape[1])
    except (OSError, SafetensorError, KeyError, ValueError, RuntimeError):
        return None
    if not (np.isfinite(error) and np.isfinite(spacing) and spacing > 0):
        return None
    return LearnedMap(method, uv, codes, inverse, error, spacing)


def _metadata(blob: bytes) -> dict:
    import json

    size = int.from_bytes(blob[:8], "little")
    return json.loads(blob[8 : 8 + size]).get("__metadata__", {})
