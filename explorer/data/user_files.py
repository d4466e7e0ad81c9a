"""Datasets from the user's own files, as the same resident Split that MNIST loads into:

- an .npz with an array `images` (any of arrays.IMAGE_SHAPES, uint8 or float in [0, 1]) and optional
  `labels` (N,) (whole numbers or class names) and `classes` (a name per label number);
- a folder with one subfolder of images per class (PNG, JPEG, BMP, GIF, WebP, TIFF, read by Pillow),
  or images directly in it for an unlabelled set. All must have one size; they are kept grey when
  every pixel of every image is grey (R = G = B), else RGB.

The whole file is one set of images (split "all"): the map shows all of it and `explorer train`
trains on all of it. Arrays are read with allow_pickle=False: an .npz holding Python objects is refused.
"""

from __future__ import annotations

import functools
import math
import os
import stat
import zipfile
from pathlib import Path

import numpy as np
import torch

from explorer.data import arrays
from explorer.data.datasets import Split
from explorer.data.limits import MAX_DATA_BYTES, MAX_SIDE, MIN_SIDE
from explorer.utils.errors import ExplorerError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
SPLIT = "all"
MEMBERS = ("images", "labels", "classes")  # the arrays read from an .npz


def load_data(path: str | os.PathLike) -> Split:
    """The images (and labels) of an .npz file or a class folder; read once while the file is unchanged."""
    path = Path(path).expanduser()
    try:
        info = path.stat()
    except (OSError, ValueError) as e:
        raise ExplorerError(f"--data {path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    if path.is_dir():
        return _load_folder(path.resolve(), info.st_mtime_ns)
    if path.suffix.lower() != ".npz":
        raise ExplorerError(f"--data {path}: expected an .npz file or a folder of images (one subfolder per class)")
    if not stat.S_ISREG(info.st_mode):  # a device (/dev/zero) never ends, a FIFO never answers
        raise ExplorerError(f"--data {path}: not a plain file; expected an .npz file or a folder of images")
    return _load_npz(path.resolve(), info.st_mtime_ns, info.st_size)


def remembered(split: Split, data: str | os.PathLike) -> dict:
    """What a checkpoint trained on the user's images keeps of them: their class names and where they are."""
    kept = {"data": str(Path(data).expanduser().resolve())}
    if split.classes != ("unlabelled",):
        kept["classes"] = list(split.classes)
    return kept


def pass_data(dataset: str, meta: dict | None, checkpoint=None) -> str:
    """What to say when a model trained on the user's images is opened without them: which to pass
    (for the window, given the checkpoint's path: the whole command that opens it with them)."""
    meta = meta or {}
    where, classes = meta.get("data"), meta.get("classes")
    named = f"; its classes: {', '.join(classes[:5])}{', ...' if len(classes) > 5 else ''}" if classes else ""
    images = where or "DATA"
    how = f"open it with: explorer gui --checkpoint {checkpoint} --data {images}" if checkpoint else f"pass --data {images}"
    if where:
        return f"this model was trained on your images {dataset} ({where}{named}); {how}"
    return f"this model was trained on {dataset}{named}, not a dataset this app reads itself; {how} (those images)"


@functools.lru_cache(maxsize=4)
def _load_npz(path: Path, mtime_ns: int, size: int) -> Split:
    where = str(path)
    if not zipfile.is_zipfile(path):  # np.load would take anything else for a pickle or a bare .npy
        raise ExplorerError(f"{where}: not a readable .npz file (it is no zip archive); save it with np.savez")
    _check_sizes(path, where)
    try:
        with np.load(path, allow_pickle=False) as f:
            if "images" not in f.files:
                raise ExplorerError(f"{where}: no array named 'images' (found {', '.join(f.files) or 'none'}); "
                                    f"save the images as np.savez(FILE, images=..., labels=...)")
            members = {k: f[k] for k in MEMBERS if k in f.files}
    except ExplorerError:
        raise
    except ValueError as e:  # object arrays (pickles) and malformed array headers
        raise ExplorerError(f"{where}: cannot read its arrays ({e}); only plain numeric and text arrays are read") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise ExplorerError(f"{where}: not a readable .npz file ({e})") from None
    images = arrays.images(members["images"], f"{path.name}: images")
    labels, classes = _labels(members.get("labels"), members.get("classes"), len(images), path.name)
    return Split(images=images, labels=labels, dataset=path.name, split=SPLIT, classes=classes)


def _check_sizes(path: Path, where: str) -> None:
    """Refuse an .npz whose arrays would take more than MAX_DATA_BYTES, or more than the member holds,
    from the zip's declared sizes and each .npy header, before any array is allocated."""
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                name = info.filename.removesuffix(".npy")
                if name not in MEMBERS:
                    continue
                if info.file_size > MAX_DATA_BYTES:
                    raise ExplorerError(f"{where}: its array '{name}' inflates to {info.file_size:,} bytes; at most "
                                        f"{MAX_DATA_BYTES:,} bytes are read")
                with z.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    shape, _, dtype = (np.lib.format.read_array_header_1_0(f) if version == (1, 0) else
                                       np.lib.format.read_array_header_2_0(f))
                    held = info.file_size - f.tell()  # the bytes after the header
                need = math.prod(shape) * dtype.itemsize
                if need > MAX_DATA_BYTES:
                    raise ExplorerError(f"{where}: its array '{name}' has shape {arrays.shape_text(shape)} of {dtype}, "
                                        f"{need:,} bytes; at most {MAX_DATA_BYTES:,} bytes are read")
                if need > held:
                    raise ExplorerError(f"{where}: its array '{name}' claims shape {arrays.shape_text(shape)} "
                                        f"({need:,} bytes) but holds {held:,} bytes; the file is damaged")
    except ExplorerError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as e:
        raise ExplorerError(f"{where}: cannot read its arrays ({e}); only plain numeric and text arrays are read") from None


def _labels(labels, classes, n: int, name: str) -> tuple[torch.Tensor, tuple[str, ...]]:
    if labels is not None and classes is not None and labels.dtype.kind in "US":
        names = arrays.class_names(classes, 0, f"{name}: classes")
        index = {c: i for i, c in enumerate(names)}
        unknown = sorted(set(labels.astype(str).tolist()) - set(index))
        if unknown:
            raise ExplorerError(f"{name}: labels {', '.join(unknown[:3])} are not among its classes")
        return torch.tensor([index[v] for v in labels.astype(str).tolist()], dtype=torch.int64), names
    ints, found = arrays.labels(labels, n, f"{name}: labels")
    if classes is None:
        return ints, found
    return ints, arrays.class_names(classes, len(found), f"{name}: classes")


@functools.lru_cache(maxsize=4)
def _load_folder(root: Path, mtime_ns: int) -> Split:
    from PIL import Image

    try:
        entries = sorted(root.iterdir())
        folders = [d for d in entries if d.is_dir() and not d.name.startswith(".")]
        files = {d: sorted(f for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
                 for d in folders}
    except OSError as e:
        raise ExplorerError(f"{root}: cannot list its images ({e.strerror or e})") from None
    loose = [f for f in entries if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    classes = [d for d in folders if files[d]]
    if classes and loose:
        raise ExplorerError(f"{loose[0]}: images must all be in class subfolders, or all directly in {root}")
    paths = [f for d in classes for f in files[d]] if classes else loose
    if not paths:
        raise ExplorerError(f"{root}: no images found (looked for {', '.join(IMAGE_SUFFIXES)} in its subfolders "
                            f"and in it)")
    images, size = None, None
    for k, path in enumerate(paths):
        try:
            with Image.open(path) as im:
                if size is None:
                    size = im.size
                    if not all(MIN_SIDE <= s <= MAX_SIDE for s in size):
                        raise ExplorerError(f"{path}: {size[0]}x{size[1]} pixels; each side must be from "
                                            f"{MIN_SIDE} to {MAX_SIDE}")
                    need = len(paths) * size[0] * size[1] * 3
                    if need > MAX_DATA_BYTES:
                        raise ExplorerError(f"{root}: {len(paths):,} images of {size[0]}x{size[1]} pixels take "
                                            f"{need:,} bytes; at most {MAX_DATA_BYTES:,} bytes are read")
                    images = np.empty((len(paths), size[1], size[0], 3), dtype=np.uint8)  # filled in place
                if im.size != size:
                    raise ExplorerError(f"{path}: {im.size[0]}x{im.size[1]} pixels, but {paths[0].name} is "
                                        f"{size[0]}x{size[1]}; all images must have one size")
                images[k] = _rgb(im, path)
        except ExplorerError:
            raise
        except Exception as e:  # noqa: BLE001 - Pillow raises many kinds for a damaged or foreign file
            raise ExplorerError(f"{path}: not an image Pillow can read ({e})") from None
    step = 4096  # images compared at a time: a mask of all of them would be as large as the images
    if all((images[s : s + step] == images[s : s + step, ..., :1]).all() for s in range(0, len(images), step)):
        images = images[..., 0]
    counts = [len(files[d]) for d in classes]
    labels = torch.from_numpy(np.repeat(np.arange(len(classes)), counts)) if classes else torch.zeros(len(paths), dtype=torch.int64)
    names = tuple(d.name for d in classes) if classes else ("unlabelled",)
    return Split(images=torch.from_numpy(np.ascontiguousarray(images)), labels=labels.to(torch.int64),
                 dataset=root.name, split=SPLIT, classes=names)


def _rgb(im, path: Path) -> np.ndarray:
    """(H, W, 3) uint8 of an image; 16-bit grey (Pillow's modes I;16 and I) scaled from 0-65535, not
    clipped at 255 as Pillow's own conversion does."""
    if im.mode.startswith("I;16") or im.mode == "I":
        wide = np.asarray(im, dtype=np.int64)  # Pillow gives I;16 as uint16 and I as int32
        if wide.size and (wide.min() < 0 or wide.max() > 65535):
            raise ExplorerError(f"{path}: {im.mode} pixels from {wide.min()} to {wide.max()}; 16-bit images "
                                f"(0 to 65535) are read")
        grey = np.rint(wide * (255 / 65535)).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    return np.asarray(im.convert("RGB"))
