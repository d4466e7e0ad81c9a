import functools
import gzip
import http.client
import math
import os
import re
import tracemalloc
import urllib.error
import urllib.request
import zlib

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.data import datasets as data_module
from explorer.data.datasets import MAX_IDX_BYTES, load_split, read_idx
from explorer.utils.errors import ExplorerError
from tests.conftest import write_idx


def make_root(tmp_path, n=5, gz=False):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = np.arange(n * 784, dtype=np.uint8).reshape(n, 28, 28)
    labels = np.arange(n) % 10
    for name, array, magic in (("t10k-images-idx3-ubyte", images, 0x803), ("t10k-labels-idx1-ubyte", labels, 0x801)):
        write_idx(raw / name, array, magic)
        if gz:
            (raw / (name + ".gz")).write_bytes(gzip.compress((raw / name).read_bytes()))
            (raw / name).unlink()
    return tmp_path, images, labels


def test_offline_test_split_is_complete(mnist_test):
    assert mnist_test.images.shape == (10_000, 28, 28)
    assert mnist_test.images.dtype == torch.uint8 and mnist_test.images.is_contiguous()
    assert mnist_test.labels.dtype == torch.int64
    assert torch.bincount(mnist_test.labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_offline_train_split_has_the_recorded_digit_counts(mnist_train):
    assert len(mnist_train) == 24_680
    assert torch.bincount(mnist_train.labels).tolist() == [2438, 2808, 2417, 2562, 2413, 2208, 2436, 2564, 2359, 2475]


def test_loads_once_per_process(data_dir):
    assert load_split("mnist", "test", data_dir) is load_split("mnist", "test", data_dir)


@pytest.mark.parametrize("gz", [False, True])
def test_reads_plain_and_gzipped_idx(tmp_path, gz):
    root, images, labels = make_root(tmp_path, gz=gz)
    split = load_split("mnist", "test", root)
    assert np.array_equal(split.images.numpy(), images)
    assert split.labels.tolist() == labels.tolist()


def test_environment_variable_points_at_the_root(tmp_path, monkeypatch):
    root, images, _ = make_root(tmp_path)
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(root))
    assert np.array_equal(load_split("mnist", "test").images.numpy(), images)


def test_missing_data_offline_names_what_was_looked_for(tmp_path):
    with pytest.raises(ExplorerError) as e:
        load_split("fashion-mnist", "test", tmp_path)
    message = str(e.value)
    assert "t10k-images-idx3-ubyte" in message and str(tmp_path / "FashionMNIST" / "raw") in message
    assert "--data-dir" in message and "EXPLORER_DATA_DIR" in message


def corrupt_gzip_body(path):
    whole = gzip.compress(path.read_bytes())
    path.with_name(path.name + ".gz").write_bytes(whole[:10] + b"\xff" * 40 + whole[50:])  # header kept, body not
    path.unlink()
    return path.with_name(path.name + ".gz")


def truncate_gzip(path):
    whole = gzip.compress(path.read_bytes())
    path.with_name(path.name + ".gz").write_bytes(whole[: len(whole) // 2])
    path.unlink()
    return path.with_name(path.name + ".gz")


def replace(path, data):
    path.write_bytes(data)
    return path


IMAGES, LABELS = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
HEADER = (0x803).to_bytes(4, "big")

# name -> (which file, how to damage it, what the message must say, what it must tell the user to do)
DAMAGED = {
    "truncated": (IMAGES, lambda p: replace(p, p.read_bytes()[:-100]), "truncated or corrupt", "replace it"),
    "empty": (IMAGES, lambda p: replace(p, b""), "not an IDX image file .magic nothing", "replace it"),
    "wrong magic": (LABELS, lambda p: replace(p, p.with_name(IMAGES).read_bytes()), "not an IDX label file",
                    "replace it"),
    "images magic on garbage": (IMAGES, lambda p: replace(p, b"GIF89a" + p.read_bytes()), "magic 47494638",
                                "replace it"),
    "counts that overflow": (IMAGES, lambda p: replace(p, HEADER + b"\xff" * 12 + b"\0" * 10),
                             "header says 4294967295 items", "replace it"),
    "not 28x28": (IMAGES, lambda p: write_idx(p, np.zeros((5, 14, 56)), 0x803) or p, "images are 14x56", "28x28"),
    "label 10": (LABELS, lambda p: write_idx(p, np.full(5, 10), 0x801) or p, "labels must be 0-9, found 10", "0-9"),
    "gzip body corrupt": (IMAGES, corrupt_gzip_body, "cannot read", "replace it"),
    "gzip cut short": (IMAGES, truncate_gzip, "cannot read", "replace it"),
}


@pytest.mark.parametrize("damage", DAMAGED)
def test_a_damaged_file_is_named_with_what_to_do(tmp_path, damage):
    root, _, _ = make_root(tmp_path)
    name, how, says, advice = DAMAGED[damage]
    path = how(root / "MNIST" / "raw" / name)
    with pytest.raises(ExplorerError) as e:
        load_split("mnist", "test", root)
    message = str(e.value)
    assert message.startswith(f"{path}: ") and re.search(says, message) and advice in message, message


def test_a_data_folder_name_the_system_cannot_look_up_is_missing_data(tmp_path):
    with pytest.raises(ExplorerError, match="mnist test data not found.*--data-dir"):
        load_split("mnist", "test", tmp_path / ("x" * 300))  # longer than a file name may be


def test_count_mismatch_between_images_and_labels(tmp_path):
    root, _, _ = make_root(tmp_path)
    write_idx(root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.zeros(3), 0x801)
    with pytest.raises(ExplorerError, match="5 images but 3 labels.*replace them") as e:
        load_split("mnist", "test", root)
    assert str(root / "MNIST" / "raw") in str(e.value)


def test_a_repaired_file_loads_after_an_error(tmp_path):
    """A failure is not cached: once the user replaces the file, the next load works."""
    root, images, _ = make_root(tmp_path)
    path = root / "MNIST" / "raw" / IMAGES
    good = path.read_bytes()
    path.write_bytes(good[:-1])
    with pytest.raises(ExplorerError):
        load_split("mnist", "test", root)
    path.write_bytes(good)
    assert np.array_equal(load_split("mnist", "test", root).images.numpy(), images)


class CutConnection:
    """A response that sends some bytes and then drops the connection."""

    length = 1000

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n):
        if getattr(self, "sent", False):
            raise http.client.IncompleteRead(b"", 900)
        self.sent = True
        return b"\0" * 100


@pytest.mark.parametrize("network", ["down", "cut mid-file"])
def test_no_network_while_downloads_are_allowed(tmp_path, monkeypatch, network):
    def urlopen(url, timeout=None):
        if network == "down":
            raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")
        return CutConnection()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    monkeypatch.delenv("EXPLORER_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the default root, under a cache not made yet
    with pytest.raises(ExplorerError) as e:
        load_split("mnist", "test", None, download=True)
    message = str(e.value)
    assert "could not download t10k-images-idx3-ubyte.gz" in message and "http" not in message
    assert message.endswith("point --data-dir DIR or EXPLORER_DATA_DIR at a folder that holds MNIST/raw/, "
                            "or run `explorer download` once online")
    assert list(tmp_path.iterdir()) == []  # no partial download, no empty folders left to be mistaken for data


def test_unknown_dataset_and_split():
    with pytest.raises(ExplorerError, match="unknown dataset"):
        load_split("cifar", "test")
    with pytest.raises(ExplorerError, match="unknown split"):
        load_split("mnist", "validation")


BOMB_BYTES = 256 << 20  # zeros, 256 MiB inflated; about 250 KB as gzip


@functools.cache
def bomb() -> bytes:
    """A gzip member that inflates to BOMB_BYTES: appended to a member holding an IDX header, it makes
    a file whose body is far longer than its header says."""
    zeros, packer = bytes(1 << 20), zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    return b"".join([*(packer.compress(zeros) for _ in range(BOMB_BYTES >> 20)), packer.flush()])


@settings(max_examples=15, deadline=None)
@given(count=st.integers(0, 10_000), rows=st.integers(0, 64), cols=st.integers(0, 64))  # claims up to 41 MB
def test_a_gzip_bomb_is_refused_with_memory_bounded_by_what_its_header_claims(tmp_path_factory, count, rows, cols):
    path = tmp_path_factory.mktemp("bomb") / "t10k-images-idx3-ubyte.gz"
    header = (0x803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (count, rows, cols))
    path.write_bytes(gzip.compress(header) + bomb())
    tracemalloc.start()
    try:
        with pytest.raises(ExplorerError, match="file has more; it is truncated or corrupt"):
            read_idx(path, 0x803)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the claimed size in a few buffers (gzip's reader copies it up to three times), never the 256 MiB
    assert peak < 4 * count * rows * cols + (4 << 20)


@given(dims=st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
       .filter(lambda d: math.prod(d) > MAX_IDX_BYTES))
def test_a_header_claiming_more_than_any_dataset_is_refused_before_reading(tmp_path_factory, dims):
    path = tmp_path_factory.mktemp("claim") / "t10k-images-idx3-ubyte"
    path.write_bytes((0x803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims))
    with pytest.raises(ExplorerError, match="more than the 1,073,741,824 any MNIST-like file holds"):
        read_idx(path, 0x803)


@pytest.mark.parametrize("command", [["embed", "--out", "codes.npz"], ["grid", "--out", "g.png"], ["evaluate"]])
def test_a_checkpoint_of_another_dataset_never_reaches_the_network_unasked(command, tmp_path, monkeypatch, capsys):
    from explorer.cli import main
    from explorer.engine import checkpoint
    from explorer.engine.config import ModelConfig
    from explorer.engine.models import build_model

    monkeypatch.delenv("EXPLORER_NO_DOWNLOAD")  # downloads allowed: only asking may start one
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("the network was tried"))
    model = checkpoint.save(tmp_path / "fashion.safetensors", build_model(ModelConfig(kind="ae"), seed=0),
                            {"dataset": "fashion-mnist"})
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.chdir(tmp_path)
    code = main([command[0], "--checkpoint", str(model), "--data-dir", str(data), *command[1:]])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "fashion-mnist test data not found" in err and "explorer download --dataset fashion-mnist" in err
    assert list(data.iterdir()) == [] and sorted(os.listdir(tmp_path)) == ["data", "fashion.safetensors"]


def test_download_fetches_both_splits_when_asked(tmp_path, monkeypatch, capsys):
    from explorer.cli import main

    fetched = []
    monkeypatch.setattr(data_module, "download_split", lambda dataset, split, root, progress=None:
                        fetched.append((dataset, split, root)) or make_split_files(root, dataset, split))
    assert main(["download", "--dataset", "kmnist", "--data-dir", str(tmp_path)]) == 0
    assert [f[:2] for f in fetched] == [("kmnist", "train"), ("kmnist", "test")]
    assert "kmnist: train and test splits are in" in capsys.readouterr().err


def make_split_files(root, dataset, split):
    raw = root / data_module.DATASETS[dataset] / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    prefix = "train" if split == "train" else "t10k"
    write_idx(raw / f"{prefix}-images-idx3-ubyte", np.zeros((3, 28, 28)), 0x803)
    write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.zeros(3), 0x801)
