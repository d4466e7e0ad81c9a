"""Decodable non-linear maps: a layout, its learned inverse, placement of new codes, the cache."""

import numpy as np
import pytest

from explorer.latent.maps import inverse, learned, projection
from explorer.utils.errors import ExplorerError

CENTRES = np.eye(8)[:4] * 6.0  # four clusters, far apart in 8-d
FEW = 500  # inverse steps: plenty for four clusters


@pytest.fixture(scope="module")
def clusters():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 60)
    return (CENTRES[labels] + rng.normal(scale=0.5, size=(len(labels), 8))).astype(np.float32), labels


@pytest.fixture(scope="module")
def tsne_map(clusters, tmp_path_factory):
    pytest.importorskip("sklearn")
    return learned.build(clusters[0], "tsne", cache_dir=tmp_path_factory.mktemp("maps"), steps=FEW)


def nearest_centre(codes):
    return np.argmin(((codes[:, None, :] - CENTRES[None]) ** 2).sum(-1), axis=1)


def test_decoding_a_data_point_of_the_map_gives_a_code_of_its_own_cluster(tsne_map, clusters):
    codes, labels = clusters
    assert tsne_map.uv.shape == (len(codes), 2)
    assert (nearest_centre(tsne_map.to_latent(tsne_map.uv)) == labels).mean() > 0.95
    assert tsne_map.error < 0.5


def test_codes_are_placed_among_their_cluster(tsne_map, clusters):
    codes, labels = clusters
    np.testing.assert_allclose(tsne_map.project(codes[:10]), tsne_map.uv[:10], atol=1e-3)  # data codes: their own place
    placed = tsne_map.project(CENTRES)  # codes that are no data point
    for k, (u, v) in enumerate(placed):
        own = tsne_map.uv[labels == k]
        nearest = labels[np.argmin(((tsne_map.uv - [u, v]) ** 2).sum(1))]
        assert nearest == k, f"the centre of cluster {k} was placed among cluster {nearest}"
        assert own[:, 0].min() <= u <= own[:, 0].max() and own[:, 1].min() <= v <= own[:, 1].max()


def test_far_from_the_data_is_many_spacings_away_and_the_data_itself_is_not(tsne_map):
    inside = tsne_map.distance_to_data(tsne_map.uv)
    assert np.median(inside) == 0
    xmin, xmax, ymin, ymax = tsne_map.bounds
    far = tsne_map.distance_to_data([[xmax + 10 * (xmax - xmin), ymax]])
    assert far[0] > 50


def test_a_second_build_reads_the_cache_and_a_damaged_cache_is_rebuilt(clusters, tmp_path, monkeypatch):
    codes = clusters[0]
    first = learned.build(codes, "tsne", cache_dir=tmp_path, steps=FEW)
    monkeypatch.setattr(learned, "layout", lambda *a, **k: pytest.fail("the cached map was laid out again"))
    again = learned.build(codes, "tsne", cache_dir=tmp_path, steps=FEW)
    np.testing.assert_array_equal(again.uv, first.uv)
    np.testing.assert_allclose(again.to_latent(first.uv[:20]), first.to_latent(first.uv[:20]), atol=1e-5)
    assert again.error == first.error
    for damage in (b"", b"\xff" * 40, (tmp_path / next(tmp_path.iterdir()).name).read_bytes()[:100]):
        for f in tmp_path.iterdir():
            f.write_bytes(damage)
        monkeypatch.setattr(learned, "layout", projection.layout)
        rebuilt = learned.build(codes, "tsne", cache_dir=tmp_path, steps=FEW)
        np.testing.assert_array_equal(rebuilt.uv, first.uv)  # the same seed lays the same map out


def test_other_codes_or_another_method_never_read_a_cached_map(clusters, tmp_path):
    codes = clusters[0]
    assert learned.cache_key(codes, "tsne", 0) != learned.cache_key(codes[:-1], "tsne", 0)
    assert learned.cache_key(codes, "tsne", 0) != learned.cache_key(codes, "umap", 0)
    assert learned.cache_key(codes, "tsne", 0) != learned.cache_key(codes, "tsne", 1)
    assert learned.cache_key(codes, "tsne", 0) != learned.cache_key(codes, "tsne", 0, steps=FEW)
    shifted = codes.copy()
    shifted[0, 0] += 1e-3
    assert learned.cache_key(codes, "tsne", 0) != learned.cache_key(shifted, "tsne", 0)


def test_building_can_be_cancelled_and_reports_progress_to_the_end(clusters):
    pytest.importorskip("sklearn")
    with pytest.raises(inverse.Cancelled):
        learned.build(clusters[0], "tsne", should_stop=lambda: True)
    seen = []
    learned.build(clusters[0][:40], "tsne", steps=FEW, report=seen.append)
    assert seen[0] == 0 and seen[-1] == 1 and seen == sorted(seen)


@pytest.mark.parametrize("codes, method, says", [
    (np.zeros((3, 4)), "tsne", "at least 5 codes"),
    (np.zeros((50, 4)), "isomap", "map must be one of"),
    (np.zeros((50, 4)), "pca", "plane"),
])
def test_what_cannot_be_laid_out_says_why(codes, method, says):
    with pytest.raises(ExplorerError, match=says):
        learned.build(codes, method)


def test_a_missing_library_names_the_extra_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def without_umap(name, *args, **kwargs):
        if name == "umap" or name.startswith("sklearn"):
            raise ImportError(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_umap)
    for method in ("umap", "tsne"):
        with pytest.raises(ExplorerError, match=r"latent-explorer\[maps\]"):
            projection.layout(np.zeros((10, 3)), method)


def test_umap_places_new_codes_among_their_cluster(clusters):
    pytest.importorskip("umap")
    codes, labels = clusters
    umap_map = learned.build(codes, "umap", steps=FEW)
    # data codes: their own place, up to BLAS rounding (which differs in the last bits between CPUs)
    spread = np.ptp(umap_map.uv)
    np.testing.assert_allclose(umap_map.project(codes[:10]), umap_map.uv[:10], rtol=0, atol=1e-5 * spread)
    placed = umap_map.project(CENTRES)
    nearest = labels[np.argmin(((umap_map.uv[None] - placed[:, None]) ** 2).sum(-1), axis=1)]
    assert list(nearest) == [0, 1, 2, 3]
    assert (nearest_centre(umap_map.to_latent(umap_map.uv)) == labels).mean() > 0.95
