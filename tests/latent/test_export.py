import errno
import os

import numpy as np
import pytest
from PIL import Image

from explorer.engine import coding
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.latent import export
from explorer.utils.errors import ExplorerError


@pytest.fixture(scope="module")
def model():
    return build_model(ModelConfig(kind="vae"), seed=0).eval()


def test_grid_image_is_the_tiled_decodes_top_row_first(model):
    plane = coding.prior_stats(2).plane()
    image = export.grid_image(model, plane, 4, [-2, 2, -1, 1])
    assert image.shape == (112, 112) and image.dtype == np.uint8
    top_left = coding.decode(model, [[-2.0, 1.0]])[0]
    bottom_right = coding.decode(model, [[2.0, -1.0]])[0]
    assert np.array_equal(image[:28, :28], top_left) and np.array_equal(image[-28:, -28:], bottom_right)


def test_png_and_gif_have_the_expected_sizes(model, tmp_path):
    frames = export.path_frames(model, coding.prior_stats(2).plane(), [[-1, 0], [1, 0]], 6)
    export.save_strip(tmp_path / "s.png", frames, scale=2)
    with Image.open(tmp_path / "s.png") as im:
        assert im.size == (6 * 56, 56)
    export.save_strip(tmp_path / "s.gif", frames)
    with Image.open(tmp_path / "s.gif") as im:
        assert im.size == (28, 28) and im.n_frames == 10  # forward 6, back 4: loops without a jump


FRAMES = np.zeros((3, 28, 28), np.uint8)
WRITERS = {
    "png": (lambda path: export.save_png(path, np.zeros((28, 28), np.uint8)), ".png"),
    "gif": (lambda path: export.save_gif(path, FRAMES), ".gif"),
    "strip as png": (lambda path: export.save_strip(path, FRAMES), ".png"),
    "strip as gif": (lambda path: export.save_strip(path, FRAMES), ".gif"),
}


def explode_part_way(self, fp, format=None, **kw):
    fp.write(b"partial")
    raise OSError(5, "Input/output error")


def read_only(*args, **kwargs):
    raise OSError(errno.EROFS, "Read-only file system")


@pytest.mark.parametrize("failure, cause", [((Image.Image, "save", explode_part_way), "Input/output error"),
                                            (("os.open", read_only), "Read-only file system")],
                         ids=["encoder fails part-way", "read-only folder"])
@pytest.mark.parametrize("writer", WRITERS)
def test_a_failed_export_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch, writer, failure, cause):
    save, suffix = WRITERS[writer]
    target = tmp_path / f"out{suffix}"
    target.write_bytes(b"old")
    monkeypatch.setattr(*failure)
    with pytest.raises(ExplorerError) as e:
        save(target)
    monkeypatch.undo()
    assert str(target) in str(e.value) and cause in str(e.value)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == [target.name]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions (simulated above)")
def test_read_only_folder(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ExplorerError, match="could not write.*Permission denied"):
            export.save_png(tmp_path / "x.png", np.zeros((28, 28), np.uint8))
    finally:
        tmp_path.chmod(0o700)


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("name, problem", [("missing/x", "does not exist"), ("folder", "is a folder"),
                                           ("x.jpg", "must end in"), ("bad\0name", "null byte")])
def test_bad_targets_are_refused(tmp_path, writer, name, problem):
    save, suffix = WRITERS[writer]
    (tmp_path / f"folder{suffix}").mkdir()
    target = tmp_path / (name if name.endswith(".jpg") else name + suffix)
    with pytest.raises(ExplorerError, match=problem) as e:
        save(target)
    assert str(tmp_path) in str(e.value) and sorted(os.listdir(tmp_path)) == [f"folder{suffix}"]


def test_an_image_too_large_to_write_is_refused_before_it_is_built():
    with pytest.raises(ExplorerError, match="28672 x 28672 image is too large.*smaller scale"):
        export.upscale(np.zeros((28 * 64, 28 * 64), np.uint8), export.MAX_SCALE)


@pytest.mark.parametrize("fps", [0.001, 0.0, -1.0, 60.0, float("nan")])
def test_gif_frame_rates_a_viewer_cannot_show_are_refused(tmp_path, fps):
    with pytest.raises(ExplorerError, match="frames per second must be from 0.1 to 50"):
        export.save_gif(tmp_path / "a.gif", FRAMES, fps=fps)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("fps, delay", [(0.1, 10_000), (10, 100), (50, 20)])
def test_gif_frame_delay_follows_the_frame_rate(tmp_path, fps, delay):
    frames = np.stack([np.full((28, 28), v, np.uint8) for v in (0, 100, 200)])  # distinct: Pillow merges equal
    export.save_gif(tmp_path / "a.gif", frames, fps=fps)  # frames into one, adding their delays
    with Image.open(tmp_path / "a.gif") as im:
        assert im.info["duration"] == delay and im.info["loop"] == 0


def test_codes_export_as_csv_rows_and_npz_arrays(tmp_path):
    z = np.array([[0.5, -1.25, 2.0], [1.0, 0.0, -3.5]], dtype=np.float32)
    uv = np.array([[0.1, 0.2], [0.3, 0.4]])
    export.save_codes(tmp_path / "c.csv", z, np.array([7, 2]), uv, np.array(["test", "train"]))
    lines = (tmp_path / "c.csv").read_text().splitlines()
    assert lines == ["split,label,u,v,z1,z2,z3", "test,7,0.1,0.2,0.5,-1.25,2", "train,2,0.3,0.4,1,0,-3.5"]
    export.save_codes(tmp_path / "c.npz", z, np.array([7, 2]), uv, np.array(["test", "train"]))
    with np.load(tmp_path / "c.npz") as f:
        assert np.array_equal(f["z"], z) and list(f["split"]) == ["test", "train"] and f["uv"].shape == (2, 2)
    with pytest.raises(ExplorerError, match=r"\.csv or \.npz"):
        export.save_codes(tmp_path / "c.txt", z, np.array([7, 2]), uv, np.array(["test", "train"]))


def test_codes_export_with_each_images_index(tmp_path):
    z = np.array([[0.5, -1.25], [1.0, 0.0]], dtype=np.float32)
    uv, labels, split, index = np.zeros((2, 2)), np.array([7, 2]), np.array(["test", "train"]), np.array([41, 3])
    export.save_codes(tmp_path / "c.csv", z, labels, uv, split, index)
    assert (tmp_path / "c.csv").read_text().splitlines() == ["split,index,label,u,v,z1,z2", "test,41,7,0,0,0.5,-1.25",
                                                             "train,3,2,0,0,1,0"]
    export.save_codes(tmp_path / "c.npz", z, labels, uv, split, index)
    with np.load(tmp_path / "c.npz") as f:
        assert f["index"].tolist() == [41, 3] and f["labels"].tolist() == [7, 2]


def test_walk_frames_decode_the_codes_along_the_direction(model):
    start, vector = np.array([0.5, -0.5]), np.array([1.0, 2.0])
    frames = export.walk_frames(model, start, vector, [-1.0, 0.0, 1.5])
    assert np.array_equal(frames, coding.decode(model, [[-0.5, -2.5], [0.5, -0.5], [2.0, 2.5]]))


def test_thumbnails_tile_a_selection_in_a_square_grid():
    images = np.arange(10 * 28 * 28, dtype=np.uint32).reshape(10, 28, 28).astype(np.uint8)
    grid = export.thumbnails(images)
    assert grid.shape == (3 * 28, 4 * 28)  # 10 images: 4 columns, 3 rows, the last two cells blank
    assert np.array_equal(grid[28:56, 28:56], images[5]) and not grid[56:, 56:].any()
    with pytest.raises(ExplorerError, match="selection is empty"):
        export.thumbnails(images[:0])
