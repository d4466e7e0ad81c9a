"""MNIST-like datasets as resident uint8 tensors.

Files live in a torchvision root (`ROOT/MNIST/raw/train-images-idx3-ubyte[.gz]`, ...), so a folder
torchvision made works here and the other way round. They are read with a strict IDX parser so a
truncated or foreign file gives a message that names it, and downloaded from torchvision's mirrors
(checksums checked) only when missing and allowed.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from explorer.data.limits import DATASETS
from explorer.utils.errors import ExplorerError

SPLITS = ("train", "test")
# as torchvision names them; here so that listing them does not import torchvision (slow to start)
CLASSES = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "kmnist": ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
}
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_IMAGES_MAGIC, _LABELS_MAGIC = 0x00000803, 0x00000801
# The largest MNIST-like file (EMNIST ByClass images) holds 640 MB; a header that claims more is
# refused before anything is read, and a (compressed) body is never read past what its header claims.
MAX_IDX_BYTES = 1 << 30

# progress(done_bytes, total_bytes or None, file name)
DownloadProgress = Callable[[int, "int | None", str], None]


@dataclass(frozen=True)
class Split:
    """One split of a dataset: images uint8 (N, H, W) grey or (N, H, W, 3) colour (MNIST's are (N, 28, 28);
    see user_files for the user's own) and labels (N,) int64, both contiguous."""

    images: torch.Tensor
    labels: torch.Tensor
    dataset: str
    split: str
    classes: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def describe(self, i: int) -> str:
        """How item i is named to the user: "test image #12"; a point given as a code with no image of its own
        (explorer.view(codes=...)) is "point #12", never a test image."""
        return f"point #{i:,}" if self.split == "codes" else f"{self.split} image #{i:,}"


def default_root() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "latent-explorer" / "data"


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """--data-dir, else $EXPLORER_DATA_DIR, else the user's cache folder."""
    chosen = data_dir or os.environ.get("EXPLORER_DATA_DIR")
    return Path(chosen).expanduser() if chosen else default_root()


def downloads_allowed() -> bool:
    return os.environ.get("EXPLORER_NO_DOWNLOAD", "") in ("", "0")


def classes(dataset: str) -> tuple[str, ...]:
    _class_name(dataset)  # validates the name
    return CLASSES[dataset]


def load_split(
    dataset: str = "mnist",
    split: str = "test",
    data_dir: str | os.PathLike | None = None,
    download: bool | None = None,
    progress: DownloadProgress | None = None,
) -> Split:
    """Load a split once per process; later calls return the same tensors.

    A missing split is downloaded when `download` is True; by default (None) only MNIST is, and only
    when downloads are allowed: a checkpoint that names another dataset never reaches the network
    unless the user asks (`explorer download`, or training on that dataset).
    """
    if split not in SPLITS:
        raise ExplorerError(f"unknown split {split!r}; choose train or test")
    folder = data_root(data_dir).resolve() / _class_name(dataset) / "raw"
    names = _FILES[split]
    if any(_find(folder, n) is None for n in names):
        if download is None:
            download = dataset == "mnist" and downloads_allowed()
        if not download:
            missing = ", ".join(n for n in names if _find(folder, n) is None)
            get = ("allow downloads (unset EXPLORER_NO_DOWNLOAD)" if not downloads_allowed() else
                   f"fetch it with `explorer download --dataset {dataset}`")
            raise ExplorerError(
                f"{dataset} {split} data not found: looked for {missing} (or .gz) in {folder}; "
                f"point --data-dir or EXPLORER_DATA_DIR at a torchvision root that holds "
                f"{_class_name(dataset)}/raw/, or {get}"
            )
        download_split(dataset, split, folder.parent.parent, progress)
    return _read_split(dataset, split, folder)


@functools.lru_cache(maxsize=8)
def _read_split(dataset: str, split: str, folder: Path) -> Split:
    paths = [_find(folder, n) for n in _FILES[split]]
    images = read_idx(paths[0], _IMAGES_MAGIC)
    labels = read_idx(paths[1], _LABELS_MAGIC)
    if images.shape[1:] != (28, 28):
        raise ExplorerError(f"{paths[0]}: images are {images.shape[1]}x{images.shape[2]}, expected 28x28")
    if len(images) != len(labels):
        raise ExplorerError(
            f"{paths[0].parent}: {len(images)} images but {len(labels)} labels; "
            f"the files do not belong together, replace them"
        )
    if len(labels) and labels.max() >= 10:
        raise ExplorerError(f"{paths[1]}: labels must be 0-9, found {int(labels.max())}")
    return Split(
        images=torch.from_numpy(images),
        labels=torch.from_numpy(labels.astype(np.int64)),
        dataset=dataset,
        split=split,
        classes=classes(dataset),
    )


def read_idx(path: Path, magic: int) -> np.ndarray:
    """Parse an IDX file (optionally gzipped); refuse anything that is not exactly one.

    Reads the header first and then at most one byte more than the body it announces, so a small
    .gz that would inflate to gigabytes costs no more memory than the data it claims to hold.
    """
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    try:
        with gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb") as f:
            head = f.read(header)
            if len(head) < header or int.from_bytes(head[:4], "big") != magic:
                found = head[:4].hex() if len(head) >= 4 else "nothing"
                raise ExplorerError(
                    f"{path}: not an IDX {'image' if ndim == 3 else 'label'} file (magic {found}, "
                    f"expected {magic:08x}); replace it with the dataset's original file"
                )
            dims = [int.from_bytes(head[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
            size = math.prod(dims)  # exact: np.prod of four-byte sizes can overflow
            if size > MAX_IDX_BYTES:
                raise ExplorerError(f"{path}: header says {dims[0]} items ({header + size:,} bytes), more than the "
                                    f"{MAX_IDX_BYTES:,} any MNIST-like file holds; it is corrupt, replace it")
            body = f.read(size + 1)  # the one byte more tells a file longer than its header says
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError; a corrupt body is a zlib.error
        raise ExplorerError(f"{path}: cannot read ({e}); replace it with the dataset's original file, "
                            f"or delete it so it is downloaded again") from None
    if len(body) != size:
        found = f"{header + len(body):,} bytes" if len(body) < size else "more"
        raise ExplorerError(
            f"{path}: header says {dims[0]} items ({header + size:,} bytes) but the file has {found}; "
            f"it is truncated or corrupt, replace it"
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(dims).copy()


def download_split(dataset: str, split: str, root: Path, progress: DownloadProgress | None = None) -> None:
    """Fetch the split's two files from torchvision's mirrors into ROOT/<Class>/raw, checking md5."""
    import torchvision.datasets as tvd

    cls = getattr(tvd, _class_name(dataset))
    folder = root / cls.__name__ / "raw"
    created: list[Path] = []  # every folder made for it, down from the first that was there (~/.cache/latent-explorer)
    try:
        made = folder
        while not made.exists() and made.parent != made:
            created.insert(0, made)
            made = made.parent
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _remove_empty(created)
        raise ExplorerError(f"cannot create {folder} for the download ({e}); choose another --data-dir") from None
    try:
        _download_files(cls, split, folder, dataset, progress)
    except BaseException:  # a failure or an interrupt: the folders made for it go too, if nothing landed there
        _remove_empty(created)
        raise


def _remove_empty(folders: list[Path]) -> None:
    for path in reversed(folders):
        try:
            path.rmdir()  # only if empty: a file that did arrive stays
        except OSError:
            return


def _download_files(cls, split: str, folder: Path, dataset: str, progress: DownloadProgress | None) -> None:
    from torchvision.datasets.utils import check_integrity

    resources = {name: md5 for name, md5 in cls.resources}
    for base in _FILES[split]:
        name, target = base + ".gz", folder / (base + ".gz")
        if check_integrity(str(target), resources[name]):
            continue
        errors = []
        for mirror in cls.mirrors:
            try:
                _fetch(mirror + name, target, progress)
            except Exception as e:  # noqa: BLE001 - OSError, an HTTP protocol error, a cut connection: try the next
                errors.append(str(getattr(e, "reason", None) or e))
                continue
            if check_integrity(str(target), resources[name]):
                break
            errors.append("checksum mismatch")
            target.unlink(missing_ok=True)
        else:  # one sentence saying what to do; the mirrors' addresses would only hide it
            command = "explorer download" + (f" --dataset {dataset}" if dataset != "mnist" else "")
            raise ExplorerError(
                f"could not download {name} for {dataset} ({'; '.join(dict.fromkeys(errors))}): point "
                f"--data-dir DIR or EXPLORER_DATA_DIR at a folder that holds {cls.__name__}/raw/, or run "
                f"`{command}` once online"
            )


def _fetch(url: str, target: Path, progress: DownloadProgress | None) -> None:
    partial = target.with_name(target.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as response, open(partial, "wb") as out:
            total = response.length
            done = 0
            while chunk := response.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total, target.name)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _find(folder: Path, name: str) -> Path | None:
    for candidate in (folder / name, folder / (name + ".gz")):
        try:
            if candidate.is_file():
                return candidate
        except OSError:  # e.g. a --data-dir name too long to look up: the same as not there
            pass
    return None


def _class_name(dataset: str) -> str:
    try:
        return DATASETS[dataset]
    except KeyError:
        raise ExplorerError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}") from None
