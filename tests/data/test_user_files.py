"""The user's own datasets: an .npz or a folder of class subfolders, loaded as the same resident Split as MNIST."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from explorer.data import user_files
from explorer.data.limits import MAX_DATA_BYTES
from explorer.data.user_files import load_data
from explorer.utils.errors import ExplorerError

rng = np.random.default_rng(0)


def test_an_npz_with_images_labels_and_class_names(tmp_path):
    images = rng.random((7, 3, 32, 32), dtype=np.float32)  # float, channels first
    np.savez(tmp_path / "d.npz", images=images, labels=np.array([0, 1, 1, 0, 2, 2, 1]),
             classes=np.array(["cat", "dog", "owl"]))
    split = load_data(tmp_path / "d.npz")
    assert split.images.shape == (7, 32, 32, 3) and split.images.dtype.is_floating_point is False
    assert np.abs(split.images.numpy() / 255 - images.transpose(0, 2, 3, 1)).max() <= 0.5 / 255 + 1e-6
    assert split.labels.tolist() == [0, 1, 1, 0, 2, 2, 1] and split.classes == ("cat", "dog", "owl")
    assert split.dataset == "d.npz" and split.split == "all" and len(split) == 7
    assert load_data(tmp_path / "d.npz") is split  # resident: read once while the file is unchanged


def test_string_labels_and_no_labels(tmp_path):
    np.savez(tmp_path / "s.npz", images=np.zeros((3, 8, 8), np.uint8), labels=np.array(["b", "a", "b"]))
    split = load_data(tmp_path / "s.npz")
    assert split.labels.tolist() == [1, 0, 1] and split.classes == ("a", "b")
    np.savez(tmp_path / "u.npz", images=np.zeros((3, 8, 8), np.uint8))
    assert load_data(tmp_path / "u.npz").classes == ("unlabelled",)


def write_folder(root, classes, size, colour=True, per_class=3):
    for c in classes:
        (root / c).mkdir(parents=True)
        for k in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3) if colour else (size, size), dtype=np.uint8)
            Image.fromarray(pixels).save(root / c / f"{k}.png")


def test_a_folder_of_64x64_colour_images_one_subfolder_per_class(tmp_path):
    write_folder(tmp_path / "faces", ["alice", "bob"], 64)
    split = load_data(tmp_path / "faces")
    assert split.images.shape == (6, 64, 64, 3) and split.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert split.classes == ("alice", "bob") and split.dataset == "faces"
    with Image.open(tmp_path / "faces" / "bob" / "2.png") as im:
        assert np.array_equal(split.images[5].numpy(), np.asarray(im))


def test_grey_pictures_stay_grey_and_loose_images_are_unlabelled(tmp_path):
    root = tmp_path / "digits"
    root.mkdir()
    for k in range(4):
        Image.fromarray(rng.integers(0, 256, (16, 12), dtype=np.uint8)).convert("RGB").save(root / f"{k}.jpg", quality=100)
    split = load_data(root)
    assert split.images.shape == (4, 16, 12) and split.classes == ("unlabelled",)


@pytest.mark.parametrize("make, message", [
    (lambda p: np.savez(p / "x.npz", pixels=np.zeros((2, 8, 8))), r"no array named 'images' \(found pixels\)"),
    (lambda p: np.savez(p / "x.npz", images=np.array([{"a": 1}], dtype=object)), "only plain numeric"),
    (lambda p: (p / "x.npz").write_bytes(b"not a zip"), "not a readable .npz"),
    (lambda p: np.savez(p / "x.npz", images=np.zeros((2, 8, 8), np.uint8), labels=np.zeros(3)),
     r"labels have shape \(3,\); expected \(2,\)"),
    (lambda p: np.savez(p / "x.npz", images=np.full((2, 8, 8), 2.0)), r"float pixels must lie in \[0, 1\]"),
    (lambda p: np.savez(p / "x.npz", images=np.zeros((2, 4, 4), np.uint8)), "4x4 pixels"),
], ids=["no images", "pickled objects", "not a zip", "labels count", "0-255 floats", "too small"])
def test_a_bad_npz_gets_one_line_naming_the_problem(tmp_path, make, message):
    make(tmp_path)
    with pytest.raises(ExplorerError, match=message) as e:
        load_data(tmp_path / "x.npz")
    assert "\n" not in str(e.value)


def test_a_bad_folder_gets_one_line(tmp_path):
    write_folder(tmp_path / "mixed", ["a"], 32)
    Image.fromarray(np.zeros((32, 30, 3), np.uint8)).save(tmp_path / "mixed" / "a" / "9.png")
    with pytest.raises(ExplorerError, match=r"9.png: 30x32 pixels, but 0.png is 32x32"):
        load_data(tmp_path / "mixed")
    (tmp_path / "broken" / "a").mkdir(parents=True)
    (tmp_path / "broken" / "a" / "x.png").write_bytes(b"no png")
    with pytest.raises(ExplorerError, match="not an image Pillow can read"):
        load_data(tmp_path / "broken")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExplorerError, match="no images found"):
        load_data(tmp_path / "empty")
    with pytest.raises(ExplorerError, match="expected an .npz file or a folder"):
        load_data(tmp_path / "mixed" / "a" / "0.png")
    with pytest.raises(ExplorerError, match="cannot read"):
        load_data(tmp_path / "missing.npz")
    (tmp_path / "zero.npz").symlink_to("/dev/zero")  # a device never ends: refused, not read
    with pytest.raises(ExplorerError, match="zero.npz: not a plain file"):
        load_data(tmp_path / "zero.npz")


# --- sizes are checked before anything is allocated; any number of classes; 16-bit images -----------

def npz_with_member(path, shape, dtype, data: bytes, name="images"):
    """An .npz whose member `name` declares `shape` of `dtype` in its header but holds `data`."""
    import io
    import zipfile

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                               "fortran_order": False, "shape": shape})
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}.npy", buf.getvalue() + data)


@settings(max_examples=40, deadline=None)
@given(shape=st.tuples(st.integers(1, 10**9), st.integers(8, 256), st.integers(8, 256)),
       dtype=st.sampled_from(["u1", "<f4", "<f8"]), held=st.integers(0, 4096))
def test_a_header_claiming_more_than_the_member_holds_is_refused_before_reading(tmp_path_factory, shape, dtype, held):
    path = tmp_path_factory.mktemp("npz") / "x.npz"
    declared = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
    npz_with_member(path, shape, dtype, bytes(min(held, declared)))
    if held >= declared:
        assert load_data(path).images.shape[0] == shape[0]
        return
    with pytest.raises(ExplorerError) as e:
        load_data(path)
    message = str(e.value)
    assert "\n" not in message and ("holds" in message and "damaged" in message or
                                    f"at most {MAX_DATA_BYTES:,} bytes are read" in message)


def test_a_label_array_claiming_a_trillion_labels_is_refused_naming_the_limit(tmp_path):
    npz_with_member(tmp_path / "x.npz", (2, 8, 8), "u1", bytes(128))
    import zipfile

    with zipfile.ZipFile(tmp_path / "x.npz", "a") as z:
        buf = __import__("io").BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": "<i8", "fortran_order": False, "shape": (10**12,)})
        z.writestr("labels.npy", buf.getvalue() + bytes(16))
    with pytest.raises(ExplorerError, match=f"'labels' has shape \\(1000000000000,\\) of int64, 8,000,000,000,000 "
                                            f"bytes; at most {MAX_DATA_BYTES:,} bytes are read"):
        load_data(tmp_path / "x.npz")


def test_a_member_that_inflates_past_the_limit_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(user_files, "MAX_DATA_BYTES", 10_000)
    np.savez_compressed(tmp_path / "bomb.npz", images=np.zeros((50, 16, 16), np.uint8))  # 12.8 KB from a few bytes
    assert (tmp_path / "bomb.npz").stat().st_size < 1000
    with pytest.raises(ExplorerError, match="'images' inflates to 12,928 bytes; at most 10,000 bytes are read"):
        load_data(tmp_path / "bomb.npz")
    write_folder(tmp_path / "many", ["a", "b"], 32, per_class=2)  # 4 x 32 x 32 x 3 = 12,288 bytes
    with pytest.raises(ExplorerError, match="4 images of 32x32 pixels take 12,288 bytes; at most 10,000"):
        load_data(tmp_path / "many")


@settings(max_examples=15, deadline=None)
@given(names=st.lists(st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=6), min_size=1,
                      max_size=25, unique=True))
def test_a_folder_of_any_number_of_classes_keeps_their_names(tmp_path_factory, names):
    root = tmp_path_factory.mktemp("classes") / "set"
    write_folder(root, names, 8, colour=False, per_class=1)
    split = load_data(root)
    assert split.classes == tuple(sorted(names))
    assert split.labels.tolist() == list(range(len(names)))


@settings(max_examples=20, deadline=None)
@given(pixels=arrays(np.uint16, (8, 8), elements=st.integers(0, 65535)))
def test_16_bit_grey_pngs_are_scaled_not_saturated(tmp_path_factory, pixels):
    root = tmp_path_factory.mktemp("deep")
    Image.fromarray(pixels).save(root / "a.png")
    with Image.open(root / "a.png") as im:
        assert im.mode.startswith("I")  # Pillow reads it as 16-bit, not as 8-bit
    stored = load_data(root).images[0].numpy()
    assert np.abs(stored.astype(int) - pixels.astype(float) * 255 / 65535).max() <= 0.5 + 1e-9
