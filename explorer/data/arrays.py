"""What a user hands the explorer from Python or a file: images, labels, codes. Each is checked and
brought to one form, or refused with one sentence naming the argument, the shape (or values) given
and what was expected.

Images are kept as the app stores MNIST: uint8 (N, H, W) grey or (N, H, W, 3) colour, resident in
memory (a quarter of float32's size: 60,000 RGB 64x64 images are 737 MB as uint8); `coding.to_input`
makes the float (N, C, H, W) in [0, 1] a model takes, a batch at a time. Float images in [0, 1] are
rounded to the nearest 1/255 on the way in (at most 0.002 off per pixel).
"""

from __future__ import annotations

import numpy as np
import torch

from explorer.data.limits import MAX_CLASSES, MAX_LATENT_DIM, MAX_SIDE, MIN_SIDE
from explorer.utils.errors import ExplorerError

IMAGE_SHAPES = "(N, H, W), (N, 1, H, W), (N, 3, H, W) or (N, H, W, 3)"
ROUNDING = 1e-3  # float pixels this far outside [0, 1] are rounding, not a different scale
CHUNK = 4096  # images converted at a time


def shape_text(shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def as_array(x, name: str) -> np.ndarray:
    """A torch tensor (any device) or NumPy array as a NumPy array; anything else refused."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy() if x.dtype != torch.bfloat16 else x.detach().float().cpu().numpy()
    if isinstance(x, np.ndarray):
        return x
    raise ExplorerError(f"{name} must be a torch tensor or a NumPy array, got {type(x).__name__}")


def images(x, name: str = "images") -> torch.Tensor:
    """uint8 (N, H, W) or (N, H, W, 3) from images of any of IMAGE_SHAPES, uint8 0-255 or float in [0, 1]."""
    a = as_array(x, name)
    shape = a.shape
    if a.ndim == 2 and a.shape[1] >= MIN_SIDE * MIN_SIDE:
        side = int(round(a.shape[1] ** 0.5))
        hint = f"; rows of {a.shape[1]} pixels: reshape to (N, {side}, {side})" if side * side == a.shape[1] else ""
        raise ExplorerError(f"{name} have shape {shape_text(shape)}; expected {IMAGE_SHAPES}{hint}")
    if a.ndim == 4 and a.shape[1] in (1, 3) and a.shape[3] not in (1, 3):
        a = a.transpose(0, 2, 3, 1)  # channels first -> last, as stored
    if a.ndim == 4 and a.shape[3] == 1:
        a = a[..., 0]
    if a.ndim not in (3, 4) or (a.ndim == 4 and a.shape[3] != 3):
        raise ExplorerError(f"{name} have shape {shape_text(shape)}; expected {IMAGE_SHAPES}")
    n, h, w = a.shape[:3]
    if n == 0:
        raise ExplorerError(f"{name} are empty (shape {shape_text(shape)}); give at least one image")
    if not (MIN_SIDE <= h <= MAX_SIDE and MIN_SIDE <= w <= MAX_SIDE):
        raise ExplorerError(f"{name} are {h}x{w} pixels (shape {shape_text(shape)}); each side must be from "
                            f"{MIN_SIDE} to {MAX_SIDE} pixels")
    return torch.from_numpy(np.ascontiguousarray(_pixels(a, name)))


def _pixels(a: np.ndarray, name: str) -> np.ndarray:
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind in "iu":
        low, high = int(a.min()), int(a.max())
        if low < 0 or high > 255:
            raise ExplorerError(f"{name}: integer pixels must be 0 to 255, found {low} to {high}")
        return a.astype(np.uint8)
    if a.dtype.kind != "f":
        raise ExplorerError(f"{name} must hold uint8 pixels (0-255) or floats in [0, 1], got dtype {a.dtype}")
    if not all(np.isfinite(a[s : s + CHUNK]).all() for s in range(0, len(a), CHUNK)):
        raise ExplorerError(f"{name} hold NaN or infinite values; every pixel must be a finite number in [0, 1]")
    low, high = float(a.min()), float(a.max())
    if low < -ROUNDING or high > 1 + ROUNDING:
        hint = " (0-255 as floats: divide by 255)" if high <= 255 and low >= 0 else \
            " (normalised: undo the normalisation)" if low < 0 else ""
        raise ExplorerError(f"{name}: float pixels must lie in [0, 1], found {low:.4g} to {high:.4g}{hint}")
    out = np.empty(a.shape, dtype=np.uint8)
    for s in range(0, len(a), CHUNK):  # a chunk at a time: float copies of all the images would be 4-8x theirs
        out[s : s + CHUNK] = np.rint(np.clip(a[s : s + CHUNK], 0, 1) * 255)
    return out


def labels(y, n: int, name: str = "labels") -> tuple[torch.Tensor, tuple[str, ...]]:
    """int64 (n,) labels and the class names: from whole numbers >= 0 (classes "0", "1", ...) or
    strings (classes are the distinct names, sorted). None gives every image label 0 of one class."""
    if y is None:
        return torch.zeros(n, dtype=torch.int64), ("unlabelled",)
    if isinstance(y, (list, tuple)):
        y = np.asarray(y)
    a = as_array(y, name)
    if a.ndim != 1 or len(a) != n:
        raise ExplorerError(f"{name} have shape {shape_text(a.shape)}; expected ({n},), one per image")
    if a.dtype.kind in "USO":
        if not all(isinstance(v, str) for v in a.tolist()):
            raise ExplorerError(f"{name} must be all whole numbers or all strings (class names)")
        names, ints = np.unique(a.astype(str), return_inverse=True)
        classes = tuple(str(c) for c in names)
    elif a.dtype.kind in "iuf":
        if a.dtype.kind == "f" and not (np.isfinite(a).all() and (a == np.round(a)).all()):
            raise ExplorerError(f"{name} must be whole numbers (class indices) or strings, got fractional or "
                                f"non-finite floats")
        if n and (a.min() < 0 or a.max() >= MAX_CLASSES):  # checked on the given values: the names are built after
            low, high = a.min(), a.max()
            found = f"{float(low if low < 0 else high):.6g}"
            raise ExplorerError(f"{name} must be class numbers from 0 to {MAX_CLASSES - 1} (at most {MAX_CLASSES} "
                                f"classes are shown), found {found}")
        ints = a.astype(np.int64)
        classes = tuple(str(c) for c in range(int(ints.max()) + 1 if n else 1))
    else:
        raise ExplorerError(f"{name} must be whole numbers or strings, got dtype {a.dtype}")
    if len(classes) > MAX_CLASSES:
        raise ExplorerError(f"{name} name {len(classes)} classes; at most {MAX_CLASSES} are shown")
    return torch.from_numpy(np.ascontiguousarray(ints, dtype=np.int64)), classes


def class_names(classes, count: int, name: str = "classes") -> tuple[str, ...]:
    """Names given for `count` label values, as strings."""
    a = as_array(classes, name) if not isinstance(classes, (list, tuple)) else np.asarray(classes)
    if a.ndim != 1 or len(a) < count:
        raise ExplorerError(f"{name} have shape {shape_text(a.shape)}; expected at least ({count},), "
                            f"a name for each label 0 to {count - 1}")
    return tuple(str(c) for c in a.tolist())


def codes(z, name: str = "codes") -> tuple[torch.Tensor, tuple[int, ...]]:
    """float32 (N, d) codes and the shape one code had, (d,) or e.g. (d, 1, 1) for a DCGAN generator."""
    a = as_array(z, name)
    if a.ndim < 2 or a.shape[0] == 0 or a.shape[1] < 2 or any(s != 1 for s in a.shape[2:]):
        raise ExplorerError(f"{name} have shape {shape_text(a.shape)}; expected (N, d) with N >= 1 and d >= 2 "
                            f"(or (N, d, 1, 1))")
    code_size(a.shape[1], name)
    if a.dtype.kind not in "iuf":
        raise ExplorerError(f"{name} must be numbers, got dtype {a.dtype}")
    if not np.isfinite(a).all():
        raise ExplorerError(f"{name} hold NaN or infinite values; every code must be finite")
    with np.errstate(over="ignore"):
        z = np.ascontiguousarray(a.reshape(len(a), -1), dtype=np.float32)
    if not np.isfinite(z).all():
        raise ExplorerError(f"{name} hold values beyond float32's range (about 3.4e38); models take float32 codes")
    return torch.from_numpy(z), tuple(a.shape[1:])


def code_size(d: int, name: str = "codes") -> int:
    """d, the values in one code, or refused above MAX_LATENT_DIM: the map's principal axes take a d x d
    eigendecomposition (512: 15 s here on 10,000 codes, 2048: 65 s) and every code is held on the map."""
    if d > MAX_LATENT_DIM:
        raise ExplorerError(f"{name} have {d:,} values each; the map takes codes of at most {MAX_LATENT_DIM} "
                            f"dimensions")
    return d


def check_fits(model, images) -> None:
    """Refuse uint8 images (N, H, W[, 3]) of another size or channel count than the model takes, in one
    line naming both, before any reaches the model (where it would be a matmul's shape error)."""
    shape = (1 if images.ndim == 3 else images.shape[3], *images.shape[1:3])
    wanted = tuple(model.image_shape)
    if shape != wanted:
        raise ExplorerError(f"the images are {_shape_words(shape)}, but this model takes {_shape_words(wanted)} "
                            f"images; give it images like those it was trained on")


def _shape_words(shape) -> str:
    c, h, w = shape
    return f"{h}x{w} {'grey' if c == 1 else 'colour' if c == 3 else f'{c}-channel'} (C, H, W = {c}, {h}, {w})"
