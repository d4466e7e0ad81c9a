import os

import numpy as np
import pytest
from PIL import Image

from explorer import export, latent
from explorer.config import ModelConfig
from explorer.errors import ExplorerError
from explorer.models import build_model


@pytest.fixture(scope="module")
def model():
    return build_model(ModelConfig(kind="vae"), seed=0).eval()


def test_grid_image_is_the_tiled_decodes_top_row_first(model):
    plane = latent.prior_stats(2).plane()
    image = export.grid_image(model, plane, 4, [-2, 2, -1, 1])
    assert image.shape == (112, 112) and image.dtype == np.uint8
    top_left = latent.decode(model, [[-2.0, 1.0]])[0]
    bottom_right = latent.decode(model, [[2.0, -1.0]])[0]
    assert np.array_equal(image[:28, :28], top_left) and np.array_equal(image[-28:, -28:], bottom_right)


def test_png_and_gif_have_the_expected_sizes(model, tmp_path):
    frames = export.path_frames(model, latent.prior_stats(2).plane(), [[-1, 0], [1, 0]], 6)
    export.save_strip(tmp_path / "s.png", frames, scale=2)
    with Image.open(tmp_path / "s.png") as im:
        assert im.size == (6 * 56, 56)
    export.save_strip(tmp_path / "s.gif", frames)
    with Image.open(tmp_path / "s.gif") as im:
        assert im.size == (28, 28) and im.n_frames == 10  # forward 6, back 4: loops without a jump


def test_failed_write_keeps_the_old_file_and_leaves_no_temp(model, tmp_path, monkeypatch):
    target = tmp_path / "grid.png"
    target.write_bytes(b"old")

    def explode(self, fp, format=None, **kw):
        fp.write(b"partial")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Image.Image, "save", explode)
    with pytest.raises(ExplorerError) as e:
        export.save_png(target, np.zeros((28, 28), np.uint8))
    assert str(target) in str(e.value) and "Input/output error" in str(e.value)
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["grid.png"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_folder(tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ExplorerError, match="could not write"):
            export.save_png(tmp_path / "x.png", np.zeros((28, 28), np.uint8))
    finally:
        tmp_path.chmod(0o700)


@pytest.mark.parametrize("name, problem", [("missing/x.png", "does not exist"), ("x.jpg", "must end in .png"),
                                           (".", "is a folder")])
def test_bad_targets_are_refused(tmp_path, name, problem):
    target = tmp_path / name
    if name == ".":
        target = tmp_path / "folder.png"
        target.mkdir()
        problem = "is a folder"
    with pytest.raises(ExplorerError, match=problem):
        export.save_png(target, np.zeros((28, 28), np.uint8))


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
