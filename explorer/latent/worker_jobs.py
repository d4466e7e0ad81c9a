"""What the worker threads run: plain functions over the core engine, free of Qt.

Each takes a request (a frozen snapshot of everything it needs, so the UI can move on) and a
`report` callback for progress, and returns a result the UI shows as it is.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from explorer.engine import checkpoint, coding, trained
from explorer.latent import decodability, export, geometry, interpolation
from explorer.latent.session import open_session
from explorer.utils.errors import ExplorerError


@dataclass(frozen=True)
class Draw:
    """Decode a draw z ~ q(z|x) from a VAE's encoder for a real image, instead of a given code."""

    image: np.ndarray  # (28, 28) uint8
    label: int  # the image's label (a conditional VAE's encoder takes it)
    seed: int  # the same seed gives the same draw


@dataclass(frozen=True)
class DecodeRequest:
    model: object
    z: np.ndarray  # (1, d) the full code (for a draw: the encoder's mean)
    uv: tuple[float, float]  # where it is on the map (for a code off the plane: its projection)
    label: int | None  # for a conditional model
    nearest: tuple[str, np.ndarray] | None  # (split name, codes) to find the nearest real image in
    draw: Draw | None = None
    source: str = ""  # what the code is, when it is not simply a place on the map ("test image #12")
    origin: str = ""  # who asked: click, slider, path, neighbour, draw, selection, attribute, code


@dataclass(frozen=True)
class Decoded:
    request: DecodeRequest
    image: np.ndarray  # (28, 28) uint8
    nearest: tuple[str, int, float] | None  # split name, index, distance
    z: np.ndarray  # (1, d) the code decoded: the request's, or the draw


def decode(req: DecodeRequest, report) -> Decoded:
    z = req.z
    if req.draw is not None:
        z = coding.sample_posterior(req.model, req.draw.image[None], np.array([req.draw.label]), req.draw.seed)
    image = coding.decode(req.model, z, req.label)[0]
    near = None
    if req.nearest is not None:
        name, codes = req.nearest
        i = int(geometry.nearest(codes, z[0], k=1)[0])
        near = (name, i, float(np.linalg.norm(codes[i] - z[0])))
    return Decoded(req, image, near, z)


@dataclass(frozen=True)
class ManifoldRequest:
    model: object
    plane: coding.Plane
    bounds: tuple[float, float, float, float]
    cells: int
    label: int | None


def manifold(req: ManifoldRequest, report) -> tuple[np.ndarray, tuple]:
    """The decoded-manifold layer: a cells x cells grid of decodes over bounds, as one image."""
    return export.grid_image(req.model, req.plane, req.cells, req.bounds, req.label), req.bounds


@dataclass(frozen=True)
class PathRequest:
    model: object
    plane: coding.Plane
    path: interpolation.Path  # never changed once made: an edit makes a new one
    label: int | None

    @property
    def waypoints(self) -> np.ndarray:
        return np.asarray(self.path.waypoints, dtype=np.float64).reshape(-1, 2)

    @property
    def steps(self) -> int:
        return self.path.steps

    @property
    def spherical(self) -> bool:
        return self.path.spherical


@dataclass(frozen=True)
class PathDecoded:
    request: PathRequest
    codes: np.ndarray  # (steps, d)
    positions: np.ndarray  # (steps, 2) on the map (projected, for spherical paths that leave the plane)
    frames: np.ndarray  # (steps, 28, 28) uint8


def path(req: PathRequest, report) -> PathDecoded:
    codes = req.path.codes(req.plane)
    return PathDecoded(req, codes, req.plane.project(codes), coding.decode(req.model, codes, req.label))


@dataclass(frozen=True)
class OpenRequest:
    source: object  # a path; a Checkpoint already in memory; None: the shipped default
    data_dir: object
    key: str | None = None  # the model's row, when known (a listed Checkpoint); a path's is its absolute path
    given: object = None  # adapters.Opened: a script's own images or codes, the map's points instead


@dataclass(frozen=True)
class Opened:
    key: str  # the row it goes in: one row per file, however its path was written
    session: object  # session.Session


def open_model(req: OpenRequest, report) -> Opened:
    """Open a model, file-system calls included (resolving a path can hang or fail on a broken mount:
    never on the UI thread); any failure is an ExplorerError with one line to show."""
    source = req.source
    if source is None:
        source = trained.default_checkpoint()
        if source is None:
            raise ExplorerError(f"no checkpoint was found in {trained.trained_dir()}: train a model (Ctrl+T) "
                                f"or open a checkpoint (Ctrl+O)")
    key = req.key
    if key is None:
        try:
            key = model_key(source)
        except (OSError, ValueError, RuntimeError) as e:  # a NUL byte, a symlink loop, an unreadable folder
            raise ExplorerError(f"{source}: cannot read this path ({e})") from e
    return Opened(key, open_session(source, req.data_dir, report, req.given))


def model_key(path) -> str:
    """How the window names a checkpoint file: its absolute path."""
    return str(Path(path).expanduser().resolve())


def catalog() -> list[tuple[str, object]]:
    """The shipped latent models that load, as (path, Checkpoint); ones that fail are left out."""
    found = []
    for path in trained.shipped():
        try:
            found.append((model_key(path), checkpoint.load(path)))
        except Exception:  # noqa: BLE001 - a broken shipped file shows up when the user opens it
            continue
    return found


def call(req: tuple, report):
    """Run fn(*args) for the one-off jobs (exports, saves); returns what it returns."""
    fn, *args = req
    return fn(*args)


def save_model(path, session) -> Path:
    """Write the session's model; its stats go with it so the map looks the same when reopened."""
    return checkpoint.save(path, session.model, session.ckpt.meta, session.stats, timeline=session.ckpt.timeline)


@dataclass(frozen=True)
class DecodeEach:
    """Several decodes at once, shown together: (model, codes (n, d), labels or None) per part."""

    parts: tuple  # None for a part with nothing to decode
    uv: tuple[float, float] | None = None  # the map point they stand for, if any


def decode_each(req: DecodeEach, report) -> list[np.ndarray | None]:
    return [None if part is None else coding.decode(*part) for part in req.parts]


@dataclass(frozen=True)
class NeighboursRequest:
    codes: np.ndarray  # (N, d) the points on the map
    query: np.ndarray  # (d,) the code at the cursor
    k: int


def neighbours(req: NeighboursRequest, report) -> tuple[NeighboursRequest, np.ndarray, np.ndarray]:
    """The k codes nearest the query in the full latent space (not on the map's plane), closest first,
    with their distances."""
    idx = geometry.nearest(req.codes, req.query, req.k)
    return req, idx, np.linalg.norm(req.codes[idx] - req.query, axis=1)


@dataclass(frozen=True)
class ConfidenceGridRequest:
    model: object
    classifier: object
    plane: coding.Plane
    bounds: tuple[float, float, float, float]
    cells: int
    label: int | None


def confidence_grid(req: ConfidenceGridRequest, report) -> tuple[ConfidenceGridRequest, np.ndarray]:
    return req, decodability.confidence_grid(req.model, req.classifier, req.plane, req.cells, req.bounds, req.label)


@dataclass(frozen=True)
class ReconstructionRequest:
    model: object
    classifier: object
    splits: tuple  # data.Split to score, in order
    cancel: threading.Event  # set when the answer is no longer wanted


def reconstruction_confidence(req: ReconstructionRequest, report) -> tuple[ReconstructionRequest, dict | None]:
    """The request, with split name -> the classifier's confidence in each image's reconstruction
    (None if cancelled)."""
    out = {}
    for n, split in enumerate(req.splits):
        conf = decodability.reconstruction_confidence(
            req.model, req.classifier, split.images, split.labels, req.cancel.is_set,
            lambda f, n=n: report((n + f) / len(req.splits)))
        if conf is None:
            return req, None
        out[split.split] = conf
    return req, out


@dataclass(frozen=True)
class LearnedMapRequest:
    codes: np.ndarray  # (N, d) the points' codes, in the map's order
    method: str  # "umap" or "tsne"
    cancel: threading.Event  # set when the map is no longer wanted
    cache_dir: Path | None = None
    shade_cells: int = 256  # per side of the far-from-data shading: 0.2 s for 10,000 points here


@dataclass(frozen=True)
class LearnedMapResult:
    request: LearnedMapRequest
    learned: object  # maps.LearnedMap
    shade: np.ndarray  # (cells, cells) distance to the data in spacings, row 0 at the top of shade_bounds
    shade_bounds: tuple[float, float, float, float]


def learned_map(req: LearnedMapRequest, report) -> LearnedMapResult | None:
    """Lay the codes out and learn the way back (maps.build), then how far each part of the map around
    them lies from the data; None if cancelled."""
    from explorer.latent import maps
    from explorer.latent.maps.inverse import Cancelled

    try:
        learned = maps.build(req.codes, req.method, cache_dir=req.cache_dir, should_stop=req.cancel.is_set,
                             report=lambda f: report(0.95 * f))
    except Cancelled:
        return None
    xmin, xmax, ymin, ymax = learned.bounds
    w, h = xmax - xmin, ymax - ymin
    bounds = (xmin - 2 * w, xmax + 2 * w, ymin - 2 * h, ymax + 2 * h)  # five times the data's extent
    centres = decodability.cell_centres(req.shade_cells, bounds, largest=req.shade_cells)
    shade = learned.distance_to_data(centres).reshape(req.shade_cells, req.shade_cells)
    report(1.0)
    return LearnedMapResult(req, learned, shade, bounds)
