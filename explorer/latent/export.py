"""Decoded grids and strips as images, written atomically as PNG or GIF."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from explorer.engine import coding
from explorer.latent import geometry
from explorer.utils.errors import ExplorerError
from explorer.utils.files import atomic_write, check_target

MAX_SCALE = 16
MAX_PIXELS = 1 << 26  # 8192 x 8192: a 64 x 64 grid at scale 4, a 256-frame strip at scale 16
# GIF frame delays are whole hundredths of a second (at most 655 s), and viewers slow down anything
# faster than 50 frames a second
MIN_FPS, MAX_FPS = 0.1, 50.0


def tile(images: np.ndarray, cols: int) -> np.ndarray:
    """(N, h, w) or (N, h, w, 3) uint8 -> one (rows*h, cols*w[, 3]) image, row by row; blank where N runs out."""
    n, h, w = images.shape[:3]
    rows = -(-n // cols)
    canvas = np.zeros((rows * h, cols * w, *images.shape[3:]), dtype=np.uint8)
    for k, img in enumerate(images):
        r, c = divmod(k, cols)
        canvas[r * h : (r + 1) * h, c * w : (c + 1) * w] = img
    return canvas


def side_by_side(frame_sets: list[np.ndarray], gap: int = 2) -> np.ndarray:
    """Models' frames (each (T, h, w)) joined left to right frame by frame, `gap` black pixels between:
    (T, h, n*w + (n-1)*gap), one frame of every model at each step (a path played in all at once)."""
    t, h = frame_sets[0].shape[:2]
    blank = np.zeros((t, h, gap, *frame_sets[0].shape[3:]), dtype=np.uint8)
    parts = [part for frames in frame_sets for part in (frames, blank)][:-1]
    return np.concatenate(parts, axis=2)


def grid_bounds(surface, stats: coding.LatentStats) -> tuple[float, float, float, float]:
    """Where a decoded grid lies by default: where the test data lies (on a learned map, its layout's extent)."""
    return tuple(float(b) for b in getattr(surface, "bounds", stats.bounds))


def grid_image(model, plane: coding.Plane, n: int, bounds, label: int | None = None) -> np.ndarray:
    """The lecture's picture: n x n decodes over `bounds` on the plane, row 0 = largest y."""
    images = coding.decode(model, plane.to_latent(geometry.grid_coords(n, bounds)), label)
    return tile(images, n)


def path_frames(model, plane: coding.Plane, waypoints, steps: int, spherical=False, label=None) -> np.ndarray:
    """(steps, H, W[, 3]) decodes evenly spaced along a path of map points."""
    return coding.decode(model, geometry.path_codes(plane, waypoints, steps, spherical), label)


def walk_frames(model, start, vector, amounts, label=None) -> np.ndarray:
    """(len(amounts), H, W[, 3]) decodes of start + a * vector: the attribute slider's strip."""
    return coding.decode(model, geometry.walk(start, vector, amounts), label)


def thumbnails(images: np.ndarray) -> np.ndarray:
    """Images (N, h, w[, 3]) tiled in a square-ish grid, row by row: a selection as one picture."""
    if len(images) == 0:
        raise ExplorerError("nothing to export: the selection is empty")
    return tile(images, int(np.ceil(np.sqrt(len(images)))))


def check_size(height: int, width: int, scale: int) -> tuple[int, int]:
    """(width, height) of an image of height x width pixels enlarged `scale` times, or a clear error
    for a scale out of range or a result too large to write."""
    if not isinstance(scale, (int, np.integer)) or isinstance(scale, bool) or not 1 <= scale <= MAX_SCALE:
        raise ExplorerError(f"scale must be a whole number from 1 to {MAX_SCALE}, got {scale!r}")
    height, width = height * scale, width * scale
    if height * width > MAX_PIXELS:
        raise ExplorerError(f"a {width} x {height} image is too large to write (at most {MAX_PIXELS:,} pixels); "
                            f"choose a smaller scale or fewer cells")
    return width, height


def check_fps(fps: float) -> float:
    if not isinstance(fps, (int, float, np.floating)) or not MIN_FPS <= fps <= MAX_FPS:  # NaN fails both
        raise ExplorerError(f"frames per second must be from {MIN_FPS:g} to {MAX_FPS:g}, got {fps!r}")
    return float(fps)


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour enlargement of a grey (h, w) or colour (h, w, 3) image, so pixels stay crisp on a slide."""
    check_size(*image.shape[:2], scale)
    return image.repeat(scale, axis=0).repeat(scale, axis=1) if scale > 1 else image


def save_png(path: str | os.PathLike, image: np.ndarray, scale: int = 1) -> Path:
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(upscale(image, scale)))
    return atomic_write(path, lambda f: img.save(f, format="PNG"), (".png",))


def save_gif(path: str | os.PathLike, frames: np.ndarray, scale: int = 1, fps: float = 10.0,
             bounce: bool = True) -> Path:
    """An animation that loops; with `bounce` it plays forward then back, so the morph never jumps."""
    from PIL import Image

    if len(frames) == 0:
        raise ExplorerError("nothing to animate: the path has no frames")
    fps = check_fps(fps)
    order = list(frames) + (list(frames[-2:0:-1]) if bounce else [])
    images = [Image.fromarray(np.ascontiguousarray(upscale(f, scale))) for f in order]
    duration = round(1000 / fps)

    def write(f):
        buf = io.BytesIO()  # Pillow writes GIFs in several passes; build in memory, then one write
        images[0].save(buf, format="GIF", save_all=True, append_images=images[1:], duration=duration, loop=0)
        f.write(buf.getvalue())

    return atomic_write(path, write, (".gif",))


def save_strip(path: str | os.PathLike, frames: np.ndarray, scale: int = 1, fps: float = 10.0) -> Path:
    """A path's decodes as a PNG strip (one row) or a GIF animation, by the file's suffix."""
    if check_target(path, (".png", ".gif")).suffix.lower() == ".gif":
        return save_gif(path, frames, scale, fps)
    return save_png(path, tile(frames, len(frames)), scale)


def save_codes(path: str | os.PathLike, z: np.ndarray, labels: np.ndarray, uv: np.ndarray,
               split: np.ndarray, index: np.ndarray | None = None) -> Path:
    """Embeddings as .npz (arrays z, labels, uv, split) or .csv (one row per image: split, label,
    map u and v, then the full code z1..zd), by the file's suffix. With `index` (each image's number
    in its split) the .npz has an array `index` and the .csv an index column after the split."""
    z = np.asarray(z, dtype=np.float32)
    if Path(path).suffix.lower() == ".npz":
        def write(f):
            buf = io.BytesIO()
            extra = {} if index is None else {"index": np.asarray(index, dtype=np.int64)}
            np.savez(buf, z=z, labels=np.asarray(labels), uv=np.asarray(uv, dtype=np.float32), split=np.asarray(split),
                     **extra)
            f.write(buf.getvalue())

        return atomic_write(path, write, (".npz",))
    header = ",".join(["split", *(["index"] if index is not None else []), "label", "u", "v",
                       *(f"z{k + 1}" for k in range(z.shape[1]))])
    numbers = np.column_stack([uv, z])
    names = split if index is None else [f"{name},{int(i)}" for name, i in zip(split, index)]

    def write_csv(f):
        text = io.StringIO()
        text.write(header + "\n")
        for name, label, row in zip(names, labels, numbers):
            text.write(f"{name},{int(label)}," + ",".join(f"{v:.6g}" for v in row) + "\n")
        f.write(text.getvalue().encode())

    return atomic_write(path, write_csv, (".csv", ".npz"))
