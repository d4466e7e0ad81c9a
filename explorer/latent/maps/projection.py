"""Non-linear 2-d layouts of latent codes: UMAP (umap-learn) and t-SNE (scikit-learn). Free of Qt.

Both are optional: `pip install 'latent-explorer[maps]'` brings them, and without them a clear
message says so. The PCA plane (coding.Plane) needs neither and stays the exact, default map.
"""

from __future__ import annotations

import numpy as np

from explorer.utils.errors import ExplorerError

METHODS = ("pca", "umap", "tsne")
NAMES = {"pca": "PCA plane", "umap": "UMAP", "tsne": "t-SNE"}
INSTALL = "pip install 'latent-explorer[maps]'"


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ExplorerError(f"map must be one of {', '.join(METHODS)}, got {method!r}")
    return method


def layout(codes: np.ndarray, method: str, seed: int = 0) -> np.ndarray:
    """(N, 2) float32: where `method` ('umap' or 'tsne') puts each code (N, d), reproducible by `seed`.
    Only the positions are kept. New codes are placed among their nearest data codes (maps.learned),
    never by UMAP's own transform: its first call in a process compiles numba code for over three
    minutes on a 2-core machine, and a map read from the cache has no UMAP object."""
    codes = np.ascontiguousarray(codes, dtype=np.float32)
    if len(codes) < 5:
        raise ExplorerError(f"a {method} map needs at least 5 codes, got {len(codes)}")
    if check_method(method) == "umap":
        return _umap(codes, seed)
    if method == "tsne":
        return _tsne(codes, seed)
    raise ExplorerError("the PCA map is a plane in latent space; use the latent statistics' plane for it")


def _umap(codes: np.ndarray, seed: int) -> np.ndarray:
    try:
        import umap  # noqa: PLC0415 - heavy (numba), imported only when asked for
    except ImportError:
        raise ExplorerError(f"the UMAP map needs umap-learn: {INSTALL}") from None
    # n_jobs=1: a random_state makes umap-learn single-threaded anyway, and says so in a warning
    fitted = umap.UMAP(n_neighbors=min(15, len(codes) - 1), random_state=seed, n_jobs=1).fit(codes)
    return np.asarray(fitted.embedding_, dtype=np.float32)


def _tsne(codes: np.ndarray, seed: int) -> np.ndarray:
    try:
        from sklearn.manifold import TSNE  # noqa: PLC0415
    except ImportError:
        raise ExplorerError(f"the t-SNE map needs scikit-learn: {INSTALL}") from None
    perplexity = min(30.0, (len(codes) - 1) / 3)  # scikit-learn requires perplexity < N
    uv = TSNE(perplexity=perplexity, init="pca", random_state=seed).fit_transform(codes)
    return np.asarray(uv, dtype=np.float32)
