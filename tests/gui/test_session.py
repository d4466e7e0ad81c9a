"""Sessions (Qt-free): which points a split choice shows, and opening with missing data."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.engine import checkpoint
from explorer.latent.session import open_session
from explorer.utils.errors import ExplorerError


def test_both_splits_are_one_list_that_remembers_where_each_point_came_from(gui_models, small_root):
    session = open_session(gui_models / "vae-2d-mlp.safetensors", small_root)
    both = session.points("both")
    assert len(both) == 256 + 512 and both.codes.shape == (768, 2)
    split, i = both.source(256 + 10)
    assert split.split == "train" and i == 10
    assert list(both.split_names()[[0, 255, 256, 767]]) == ["test", "test", "train", "train"]
    assert np.array_equal(session.points("test").codes, session.codes["test"])
    assert session.nearest_codes()[0] == "train"

    ks = np.array([767, 3, 256])  # any order, across the splits
    assert np.array_equal(both.images(ks), np.stack([both.source(k)[0].images[both.source(k)[1]].numpy() for k in ks]))
    assert both.indices()[ks].tolist() == [511, 3, 0] and both.sizes() == [("test", 256), ("train", 512)]


def test_missing_data_leaves_a_session_that_can_still_decode(gui_models, tmp_path):
    session = open_session(gui_models / "vae-2d-mlp.safetensors", tmp_path)
    assert session.points("test") is None and session.nearest_codes() is None
    assert set(session.data_errors) == {"test", "train"}
    assert session.stats is session.ckpt.stats  # the checkpoint's own, so the map still has its extent


def test_a_checkpoint_without_stats_gets_them_from_the_test_embeddings(gui_models, small_root, tmp_path):
    ckpt = checkpoint.load(gui_models / "vae-2d-mlp.safetensors")
    bare = checkpoint.Checkpoint(ckpt.model, ckpt.meta, None)
    session = open_session(bare, small_root)
    assert session.stats is not None and np.allclose(session.stats.mean, session.codes["test"].mean(axis=0))
    assert not session.saved and session.name == "untitled"


def test_the_classifier_is_not_a_model_to_explore(small_root, tmp_path):
    from explorer.engine.models import Classifier

    path = checkpoint.save(tmp_path / "clf.safetensors", Classifier())
    with pytest.raises(ExplorerError, match="classifier"):
        open_session(path, small_root)


def test_a_decoder_given_codes_is_not_called_a_gan_without_an_encoder(tmp_path):
    import torch

    from explorer.engine.checkpoint import checkpoint_of
    from explorer.engine.models.adapters import open_user_model

    opened = open_user_model(decoder=lambda z: torch.sigmoid(z.sum(1, keepdim=True)).expand(-1, 64).reshape(-1, 8, 8),
                             codes=np.random.default_rng(0).normal(size=(50, 2)), labels=np.arange(50) % 3)
    session = open_session(checkpoint_of(opened.model), tmp_path, given=opened)
    note = session.map_note((0, 1))
    assert "the decoder's latent plane, at the codes given" in note and "inversion encoder" not in note


def test_the_status_while_opening_says_only_the_test_images_are_placed_on_the_map(gui_models, small_root):
    """Issue 23: "Placing 24,680 train images…" showed while the map showed the test images."""
    said = []
    open_session(gui_models / "vae-2d-mlp.safetensors", small_root, report=said.append)
    assert "Placing 256 test images on the map…" in said
    train = [line for line in said if "512 train" in line]
    assert train and all(not line.startswith("Placing") and "Show: train" in line for line in train)
