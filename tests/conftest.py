"""Shared test set-up: never download, render Qt offscreen, find the offline data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ["EXPLORER_NO_DOWNLOAD"] = "1"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
torch.set_num_threads(min(2, torch.get_num_threads()))

REPO = Path(__file__).resolve().parent.parent


def _data_dir() -> Path | None:
    chosen = os.environ.get("EXPLORER_DATA_DIR")
    if chosen:
        return Path(chosen)
    beside = REPO.parent / "shared" / "data"
    return beside if (beside / "MNIST" / "raw").is_dir() else None


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The offline MNIST root. When EXPLORER_DATA_DIR is set (as in CI) a missing folder fails the
    run instead of skipping, so the data tests cannot silently vanish."""
    path = _data_dir()
    if path is None:
        pytest.skip("no offline MNIST: set EXPLORER_DATA_DIR to a torchvision root")
    assert (path / "MNIST" / "raw").is_dir(), f"EXPLORER_DATA_DIR={path} holds no MNIST/raw"
    return path


@pytest.fixture(scope="session")
def mnist_test(data_dir):
    from explorer.data.datasets import load_split

    return load_split("mnist", "test", data_dir)


@pytest.fixture(scope="session")
def mnist_train(data_dir):
    from explorer.data.datasets import load_split

    return load_split("mnist", "train", data_dir)


@pytest.fixture
def tiny_images():
    """64 synthetic 28x28 'digits' (bright squares in different places), labels 0-9."""
    g = torch.Generator().manual_seed(0)
    images = torch.zeros(64, 28, 28, dtype=torch.uint8)
    labels = torch.arange(64) % 10
    for i in range(64):
        r, c = int(labels[i]) * 2 + 2, int(torch.randint(2, 20, (1,), generator=g))
        images[i, r : r + 6, c : c + 6] = 255
    return images, labels


def write_idx(path: Path, array, magic: int) -> None:
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(magic.to_bytes(4, "big") + dims + array.astype("uint8").tobytes())


@pytest.fixture(scope="session")
def small_root(tmp_path_factory, mnist_train, mnist_test) -> Path:
    """A torchvision root with the first 512 train and 256 test digits: real data, seconds to train on."""
    root = tmp_path_factory.mktemp("small-mnist")
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, split, n in (("train", mnist_train, 512), ("t10k", mnist_test, 256)):
        write_idx(raw / f"{prefix}-images-idx3-ubyte", split.images[:n].numpy(), 0x803)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", split.labels[:n].numpy(), 0x801)
    return root
