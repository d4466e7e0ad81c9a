import gzip

import numpy as np
import pytest
import torch

from explorer.data import load_split, read_idx
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


def test_truncated_file_is_named(tmp_path):
    root, _, _ = make_root(tmp_path)
    path = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ExplorerError, match="truncated or corrupt") as e:
        load_split("mnist", "test", root)
    assert str(path) in str(e.value)


def test_wrong_magic_is_refused(tmp_path):
    root, _, _ = make_root(tmp_path)
    labels = root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte"
    images = root / "MNIST" / "raw" / "t10k-images-idx3-ubyte"
    labels.write_bytes(images.read_bytes())  # an image file where the labels belong
    with pytest.raises(ExplorerError, match="not an IDX label file"):
        load_split("mnist", "test", root)


def test_count_mismatch_between_images_and_labels(tmp_path):
    root, _, _ = make_root(tmp_path)
    write_idx(root / "MNIST" / "raw" / "t10k-labels-idx1-ubyte", np.zeros(3), 0x801)
    with pytest.raises(ExplorerError, match="5 images but 3 labels"):
        load_split("mnist", "test", root)


def test_corrupt_gzip_is_named(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    path.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ExplorerError, match="cannot read"):
        read_idx(path, 0x801)


def test_unknown_dataset_and_split():
    with pytest.raises(ExplorerError, match="unknown dataset"):
        load_split("cifar", "test")
    with pytest.raises(ExplorerError, match="unknown split"):
        load_split("mnist", "validation")
