"""`--map` in the CLI: embed writes map positions, grid and path decode through a learned map."""

import numpy as np
import pytest
from PIL import Image

from explorer.cli import main
from explorer.engine import checkpoint, coding, trained
from explorer.latent import geometry

pytest.importorskip("sklearn")


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")  # one for the module: the t-SNE map is built once, then read back


@pytest.fixture
def vae16(monkeypatch, cache_home):
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    return trained.trained_dir() / "vae-16d-mlp.safetensors"


def run(argv, capsys):
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_embed_writes_the_map_positions_it_was_asked_for(vae16, small_root, tmp_path, capsys):
    for map_name in ("pca", "tsne"):
        out = tmp_path / f"{map_name}.npz"
        code, err = run(["embed", "--checkpoint", vae16, "--data-dir", small_root, "--map", map_name, "--out", out], capsys)
        assert code == 0, err
        saved = np.load(out)
        assert saved["uv"].shape == (256, 2) and saved["z"].shape == (256, 16)
    stats = checkpoint.load(vae16, expect="latent").stats
    np.testing.assert_allclose(np.load(tmp_path / "pca.npz")["uv"], stats.plane().project(np.load(tmp_path / "pca.npz")["z"]),
                               atol=1e-5)
    assert "t-SNE" in err.replace("TSNE", "t-SNE") and "extrapolation" in err
    plain = tmp_path / "plain.npz"
    assert run(["embed", "--checkpoint", vae16, "--data-dir", small_root, "--out", plain], capsys)[0] == 0
    assert "uv" not in np.load(plain)  # without --map, the file is as before


def test_grid_on_a_tsne_map_decodes_what_its_inverse_gives(vae16, small_root, tmp_path, capsys):
    out = tmp_path / "grid.png"
    code, err = run(["grid", "--checkpoint", vae16, "--data-dir", small_root, "--map", "tsne", "--n", "4",
                     "--out", out], capsys)
    assert code == 0, err
    image = np.asarray(Image.open(out))
    assert image.shape == (4 * 28, 4 * 28)
    # the same map again comes from the cache, and its inverse is what the grid decoded
    from explorer.data.datasets import load_split
    from explorer.latent import maps

    model = checkpoint.load(vae16, expect="latent").model
    test = load_split("mnist", "test", small_root)
    learned = maps.build(coding.embed(model, test.images, test.labels), "tsne", cache_dir=maps.default_cache_dir())
    expected = coding.decode(model, learned.to_latent(geometry.grid_coords(4, learned.bounds)))
    np.testing.assert_array_equal(image[:28, :28], expected[0])


def test_path_on_a_tsne_map_and_what_the_map_option_refuses(vae16, small_root, tmp_path, capsys):
    out = tmp_path / "path.png"
    code, err = run(["path", "--checkpoint", vae16, "--data-dir", small_root, "--map", "tsne",
                     "--from", "-10", "0", "--to", "10", "0", "--steps", "5", "--out", out], capsys)
    assert code == 0, err
    assert np.asarray(Image.open(out)).shape == (28, 5 * 28)
    code, err = run(["grid", "--checkpoint", vae16, "--data-dir", small_root, "--map", "tsne", "--axes", "2", "3",
                     "--out", tmp_path / "g.png"], capsys)
    assert code == 2 and "--axes applies only to --map pca" in err


def test_a_learned_map_lays_out_the_images_given_with_data(vae16, small_root, tmp_path, capsys):
    from explorer.data.datasets import load_split
    from explorer.latent import maps

    test = load_split("mnist", "test", small_root)
    mine = tmp_path / "mine.npz"
    np.savez(mine, images=test.images[:120].numpy(), labels=test.labels[:120].numpy())
    out = tmp_path / "grid.png"
    code, err = run(["grid", "--checkpoint", vae16, "--data", mine, "--data-dir", tmp_path / "nothing-here",
                     "--map", "tsne", "--n", "3", "--out", out], capsys)
    assert code == 0, err
    model = checkpoint.load(vae16, expect="latent").model
    learned = maps.build(coding.embed(model, test.images[:120]), "tsne", cache_dir=maps.default_cache_dir())
    expected = coding.decode(model, learned.to_latent(geometry.grid_coords(3, learned.bounds)))
    np.testing.assert_array_equal(np.asarray(Image.open(out))[:28, :28], expected[0])
