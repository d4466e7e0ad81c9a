"""Interpolation paths through waypoints on the map, and their JSON files.

A path is a list of map points plus how to walk it: straight segments between the waypoints or a
smooth curve through them (centripetal Catmull-Rom, which never overshoots into loops), with the
codes along it on the map plane; or, `spherical`, slerp between the full codes of consecutive
waypoints (for d > 2 that arc leaves the plane). Samples are spaced evenly by length on the map.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path as FilePath

import numpy as np

from explorer.data.limits import MAX_LATENT_DIM
from explorer.engine import coding, config
from explorer.latent import geometry
from explorer.utils.errors import ExplorerError
from explorer.utils.files import atomic_write, read_limited

PATH_FORMAT = "latent-explorer-path"
MAX_WAYPOINTS = 64
MAX_PATH_FILE = 1 << 20  # bytes: a saved path of MAX_WAYPOINTS is about 5 KB; /dev/zero or a stray file is refused
MAX_MODEL_NAME = 1000  # characters of the model a file names (shown in a status line)
CURVE_SAMPLES = 32  # per segment, to measure a curve's length


@dataclass
class Path:
    waypoints: list[tuple[float, float]] = field(default_factory=list)
    steps: int = 10
    smooth: bool = False  # a Catmull-Rom curve through the waypoints instead of straight segments
    spherical: bool = False  # slerp between consecutive waypoints' codes (then `smooth` does not apply)
    axes: tuple[int, int] = (0, 1)  # the map plane's principal axes (d > 2)
    model: str = ""  # the checkpoint it was drawn on, for the user's reference

    def __post_init__(self):
        self.waypoints = [(float(x), float(y)) for x, y in self.waypoints]
        self.axes = tuple(int(a) for a in self.axes)
        if len(self.axes) != 2 or self.axes[0] == self.axes[1] or min(self.axes) < 0:
            raise ExplorerError(f"axes must be two different principal axes (0-based), got {list(self.axes)}")
        if len(self.waypoints) > MAX_WAYPOINTS:
            raise ExplorerError(f"a path has at most {MAX_WAYPOINTS} waypoints, got {len(self.waypoints)}")
        if not np.isfinite(np.asarray(self.waypoints, dtype=float)).all():
            raise ExplorerError("waypoints must be finite numbers")
        geometry.check_count(self.steps, config.MAX_STEPS, "steps")

    def outline(self) -> np.ndarray:
        """The path's shape on the map: the waypoints, or the smooth curve through them."""
        waypoints = np.asarray(self.waypoints, dtype=np.float64).reshape(-1, 2)
        if self.smooth and not self.spherical and len(waypoints) >= 3:
            return catmull_rom(waypoints, CURVE_SAMPLES)
        return waypoints

    def codes(self, plane: coding.Plane, steps: int | None = None) -> np.ndarray:
        """(steps, d) latent codes evenly spaced along the path."""
        if not self.waypoints:
            raise ExplorerError("a path needs at least one point")
        return geometry.path_codes(plane, self.outline(), steps or self.steps, self.spherical)

    def map_points(self, plane: coding.Plane, steps: int | None = None) -> np.ndarray:
        """Where those codes lie on the map (a slerp arc is drawn as its projection)."""
        return plane.project(self.codes(plane, steps))

    def curve(self, plane: coding.Plane) -> np.ndarray:
        """The line to draw on the map: the outline, or the projection of a spherical path's arcs
        (finely sampled: they bend away from the straight segments between the waypoints)."""
        if self.spherical and len(self.waypoints) >= 2:
            return self.map_points(plane, config.MAX_STEPS).astype(np.float64)
        return self.outline()

    def to_json(self) -> str:
        return json.dumps({"format": PATH_FORMAT, "version": 1, **asdict(self)}, indent=2)

    @classmethod
    def from_json(cls, text: str, where: str = "path") -> "Path":
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as e:
            raise ExplorerError(f"{where}: not valid JSON ({e})") from None
        if not isinstance(data, dict) or data.get("format") != PATH_FORMAT:
            raise ExplorerError(f"{where}: not a Latent Explorer path file")
        if data.get("version") != 1:
            raise ExplorerError(f"{where}: path format version {data.get('version')!r} is not one this app reads (1)")
        flags = {name: data.get(name, False) for name in ("smooth", "spherical")}
        if not all(isinstance(v, bool) for v in flags.values()):
            raise ExplorerError(f"{where}: malformed path (smooth and spherical must be true or false)")
        # every field checked before anything is made of it: the window applies a path whole or not at all
        waypoints, axes, model = data.get("waypoints"), data.get("axes", [0, 1]), data.get("model", "")
        if not isinstance(waypoints, list) or not 1 <= len(waypoints) <= MAX_WAYPOINTS:
            raise ExplorerError(f"{where}: malformed path (waypoints must be a list of 1 to {MAX_WAYPOINTS} [x, y] "
                                f"points, got {_kind(waypoints)})")
        if not all(isinstance(p, list) and len(p) == 2 and all(_is_number(c) for c in p) for p in waypoints):
            bad = next(p for p in waypoints if not (isinstance(p, list) and len(p) == 2 and all(map(_is_number, p))))
            raise ExplorerError(f"{where}: malformed path (waypoints: each must be [x, y], two numbers; got "
                                f"{_kind(bad)})")
        if not (isinstance(axes, list) and len(axes) == 2 and all(_is_int(a) and 0 <= a < MAX_LATENT_DIM for a in axes)
                and axes[0] != axes[1]):
            raise ExplorerError(f"{where}: malformed path (axes must be two different whole numbers from 0 to "
                                f"{MAX_LATENT_DIM - 1}, got {_kind(axes)})")
        if not isinstance(model, str) or len(model) > MAX_MODEL_NAME:
            raise ExplorerError(f"{where}: malformed path (model must be a name of at most {MAX_MODEL_NAME} "
                                f"characters, got {_kind(model)})")
        try:
            return cls(waypoints=[tuple(p) for p in waypoints],
                       steps=data.get("steps", 10),  # check_count refuses anything but a whole number in range
                       **flags, axes=tuple(axes), model=model)
        except ExplorerError as e:
            raise ExplorerError(f"{where}: {e}") from None


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _kind(x) -> str:
    """What a JSON value is, said briefly (a string of megabytes is not repeated back)."""
    if isinstance(x, str):
        return f"a string of {len(x):,} characters" if len(x) > 40 else repr(x)
    if isinstance(x, list):
        return f"a list of {len(x):,}" if len(x) > 4 or not all(_is_number(v) for v in x) else repr(x)
    return "nothing" if x is None else f"a {type(x).__name__}" if isinstance(x, dict) else repr(x)


def save(path: str | os.PathLike, p: Path) -> FilePath:
    text = p.to_json().encode()
    return atomic_write(path, lambda f: f.write(text), (".json",))


def load(path: str | os.PathLike) -> Path:
    path = FilePath(path).expanduser()
    try:
        text = read_limited(path, MAX_PATH_FILE, "path file").decode("utf-8")
    except UnicodeDecodeError as e:
        raise ExplorerError(f"{path}: cannot read ({e})") from None
    return Path.from_json(text, str(path))


def thinned(points, most: int = MAX_WAYPOINTS) -> np.ndarray:
    """A drawn polyline (k, 2) as at most `most` points, evenly spaced along it, ends kept: a freehand
    stroke becomes a path of editable waypoints. Shorter polylines are returned as they are."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return points if len(points) <= most else geometry.resample_polyline(points, most)


def insertion_index(waypoints, curve, point, tolerance: float) -> int:
    """Where a waypoint added at `point` goes: between the two waypoints whose stretch of the drawn
    `curve` (a polyline through every waypoint, in order) passes within `tolerance` of it, so a click on
    the line bends it there; otherwise after the last waypoint."""
    waypoints = np.asarray(waypoints, dtype=np.float64).reshape(-1, 2)
    curve = np.asarray(curve, dtype=np.float64).reshape(-1, 2)
    if len(waypoints) < 2 or len(curve) < 2:
        return len(waypoints)
    a, b, p = curve[:-1], curve[1:], np.asarray(point, dtype=np.float64)
    ab = b - a
    t = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-300), 0, 1)
    gaps = np.linalg.norm(a + t[:, None] * ab - p, axis=1)
    segment = int(np.argmin(gaps))
    if gaps[segment] > tolerance:
        return len(waypoints)
    # each waypoint's place on the curve, searching forward so a curve crossing itself keeps the order
    at, start = [], 0
    for w in waypoints:
        start += int(np.argmin(np.linalg.norm(curve[start:] - w, axis=1)))
        at.append(start)
    return int(np.clip(np.searchsorted(at, segment, side="right"), 1, len(waypoints) - 1))


def catmull_rom(points, samples_per_segment: int = CURVE_SAMPLES) -> np.ndarray:
    """A centripetal Catmull-Rom curve through every point (endpoints included)."""
    p = np.asarray(points, dtype=np.float64)
    keep = np.concatenate([[True], np.linalg.norm(np.diff(p, axis=0), axis=1) > 1e-12])
    p = p[keep]  # repeated points would divide by zero
    if len(p) < 3:
        return p
    ends = np.vstack([2 * p[0] - p[1], p, 2 * p[-1] - p[-2]])  # mirrored phantom ends
    out = [p[:1]]
    for i in range(1, len(ends) - 2):
        p0, p1, p2, p3 = ends[i - 1 : i + 3]
        t0 = 0.0
        t1 = t0 + np.linalg.norm(p1 - p0) ** 0.5
        t2 = t1 + np.linalg.norm(p2 - p1) ** 0.5
        t3 = t2 + np.linalg.norm(p3 - p2) ** 0.5
        t = np.linspace(t1, t2, samples_per_segment + 1)[1:, None]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        out.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    curve = np.vstack(out)
    curve[-1] = p[-1]
    return curve
