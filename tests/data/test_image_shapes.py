"""Our models, checkpoints and exports at any image size from 8 to 256 pixels, grey or colour."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import save_file

from explorer.engine import checkpoint, coding
from explorer.engine.config import ModelConfig
from explorer.engine.models import build_model
from explorer.latent import export
from explorer.utils.errors import ExplorerError

SHAPES = [(1, 28, 28), (3, 32, 32), (3, 64, 64), (1, 30, 18), (3, 8, 8)]


@pytest.mark.parametrize("shape", SHAPES, ids=["x".join(map(str, s)) for s in SHAPES])
@pytest.mark.parametrize("kind, arch", [("ae", "mlp"), ("vae", "conv"), ("cvae", "conv"), ("gan", "conv"), ("gan", "mlp")])
def test_every_model_takes_and_draws_images_of_its_shape(kind, arch, shape):
    model = build_model(ModelConfig(kind=kind, arch=arch, latent_dim=3, image_shape=shape), seed=0)
    x = torch.rand(4, *shape)
    labels = torch.tensor([0, 1, 2, 3])
    if kind == "gan":
        assert model.discriminator(x).shape == (4, 1)
        model.eval()
    else:
        assert torch.isfinite(model.losses(x, labels)["loss"])
    assert model.encode(x, labels).shape == (4, 3)
    assert model.decode(torch.zeros(4, 3), labels).shape == (4, *shape)
    images = coding.decode(model.eval(), np.zeros((2, 3)), 0 if kind == "cvae" else None)
    assert images.shape == ((2, *shape[1:]) if shape[0] == 1 else (2, *shape[1:], 3))


@pytest.mark.parametrize("shape", [(2, 28, 28), (1, 7, 28), (1, 28, 257), (3, 28), [1, 28.0, 28], "1x28x28"])
def test_an_impossible_image_shape_is_refused(shape):
    with pytest.raises(ExplorerError, match="image shape must be"):
        ModelConfig(image_shape=shape)


def test_the_shape_is_saved_and_old_checkpoints_still_load(tmp_path):
    model = build_model(ModelConfig(kind="vae", arch="conv", image_shape=(3, 40, 24)), seed=0)
    loaded = checkpoint.load(checkpoint.save(tmp_path / "c.safetensors", model))
    assert loaded.model.image_shape == (3, 40, 24) and loaded.meta["model"]["image_shape"] == [3, 40, 24]
    z = np.random.default_rng(0).normal(size=(3, 2))
    assert np.array_equal(coding.decode(loaded.model, z), coding.decode(model.eval(), z))
    assert "3x40x24 images" in loaded.describe()


def test_a_checkpoint_from_before_image_shapes_loads_as_mnist_sized(tmp_path):
    path = checkpoint.save(tmp_path / "old.safetensors", build_model(ModelConfig(kind="ae"), seed=0))
    with safe_open(path, "pt") as f:
        tensors, header = {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
    meta = json.loads(header["explorer"])
    del meta["model"]["image_shape"]  # as every checkpoint written before this field was
    save_file(tensors, path, metadata={**header, "explorer": json.dumps(meta)})
    old = checkpoint.load(path)
    assert "image_shape" not in old.meta["model"] and old.model.image_shape == (1, 28, 28)


def test_colour_grids_strips_and_gifs(tmp_path):
    model = build_model(ModelConfig(kind="ae", arch="conv", image_shape=(3, 16, 16)), seed=0).eval()
    plane = coding.prior_stats(2).plane()
    grid = export.grid_image(model, plane, 3, [-1, 1, -1, 1])
    assert grid.shape == (48, 48, 3)
    assert np.array_equal(grid[-16:, -16:], coding.decode(model, [[1.0, -1.0]])[0])
    export.save_png(tmp_path / "g.png", grid, scale=2)
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode == "RGB" and im.size == (96, 96)
        assert np.array_equal(np.asarray(im)[::2, ::2], grid)
    frames = export.path_frames(model, plane, [[-1, 0], [1, 0]], 5)
    assert frames.shape == (5, 16, 16, 3)
    export.save_strip(tmp_path / "p.png", frames, scale=3)
    with Image.open(tmp_path / "p.png") as im:
        assert im.size == (5 * 48, 48)
    export.save_strip(tmp_path / "p.gif", frames)
    with Image.open(tmp_path / "p.gif") as im:
        assert im.size == (16, 16) and im.n_frames == 8
    assert export.thumbnails(frames).shape == (32, 48, 3)


def test_a_big_grid_of_big_images_is_refused_before_it_is_drawn():
    with pytest.raises(ExplorerError, match="too large to write"):
        export.check_size(64 * 256, 64 * 256, 1)


def test_the_digit_classifier_refuses_colour_decodes():
    from explorer.engine.models import Classifier
    from explorer.latent.metrics import confidence

    with pytest.raises(ExplorerError, match="grey 28x28"):
        confidence(Classifier(), np.zeros((2, 32, 32, 3), np.uint8))
