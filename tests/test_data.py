import gzip
import http.client
import re
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

from explorer.data import load_split
from explorer.errors import ExplorerError
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
    with pytest.raises(ExplorerError) as e:
        load_split("mnist", "test", tmp_path, download=True)
    message = str(e.value)
    assert "could not download t10k-images-idx3-ubyte.gz" in message
    assert "without a network, point --data-dir or EXPLORER_DATA_DIR" in message
    assert list(tmp_path.iterdir()) == []  # no partial download, no empty folders left to be mistaken for data


def test_unknown_dataset_and_split():
    with pytest.raises(ExplorerError, match="unknown dataset"):
        load_split("cifar", "test")
    with pytest.raises(ExplorerError, match="unknown split"):
        load_split("mnist", "validation")
