"""Where a model's decodes look like digits: the digit classifier's confidence over a region of the
map, and in each image's reconstruction. Free of Qt.

The classifier (trained/mnist-classifier) was trained on real MNIST digits; its top softmax
probability says how sure it is that an image is some digit: near 1 for a clean digit, towards
0.1 (ten equally likely classes) for a blob that is none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from explorer.engine import checkpoint, coding, config, trained
from explorer.latent import geometry, metrics
from explorer.utils.errors import ExplorerError

CHUNK = 2000  # images scored between checks of the cancel flag


def load_classifier(path: str | Path | None = None):
    """The digit classifier (default: the shipped one), in eval mode; ExplorerError saying why not."""
    path = path or trained.classifier_path()
    if path is None:
        raise ExplorerError(f"the digit classifier ({trained.CLASSIFIER}.safetensors) is not in "
                            f"{trained.trained_dir()}")
    return checkpoint.load(path, expect="classifier").model.eval()


def unavailable(dataset: str) -> str | None:
    """Why decodability cannot be judged for a model trained on `dataset`, or None if it can."""
    if dataset != "mnist":
        return f"the digit classifier knows MNIST digits only; this model was trained on {dataset}"
    if trained.classifier_path() is None:
        return f"the digit classifier ({trained.CLASSIFIER}.safetensors) is not in {trained.trained_dir()}"
    return None


def cell_centres(n: int, bounds, largest: int = config.MAX_GRID) -> np.ndarray:
    """(n*n, 2) centres of the n x n equal cells tiling bounds, row by row, row 0 at the top."""
    n = geometry.check_count(n, largest, "grid size")
    xmin, xmax, ymin, ymax = geometry.check_bounds(bounds)
    steps = (np.arange(n) + 0.5) / n
    gx, gy = np.meshgrid(xmin + steps * (xmax - xmin), ymax - steps * (ymax - ymin))
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def confidence_grid(model, classifier, plane: coding.Plane, n: int, bounds, label: int | None = None) -> np.ndarray:
    """(n, n) classifier confidence in the decode of each cell's centre; row 0 is the top of bounds."""
    images = coding.decode(model, plane.to_latent(cell_centres(n, bounds)), label)
    return metrics.confidence(classifier, images).reshape(n, n)


def reconstruction_confidence(model, classifier, images, labels=None,
                              should_stop: Callable[[], bool] = lambda: False,
                              report: Callable[[float], None] = lambda fraction: None) -> np.ndarray | None:
    """(N,) classifier confidence in decode(encode(x)) for uint8 images (N, 28, 28); a conditional
    model encodes and decodes with the image's own label. None if should_stop() turned true."""
    if not model.has_encoder:
        raise ExplorerError("this model has no encoder, so its reconstructions cannot be judged")
    out = np.empty(len(images), dtype=np.float32)
    for s in range(0, len(images), CHUNK):
        if should_stop():
            return None
        y = None if labels is None else labels[s : s + CHUNK]
        codes = coding.embed(model, images[s : s + CHUNK], y)
        decoded = coding.decode(model, codes, np.asarray(y) if model.conditional else None)
        out[s : s + CHUNK] = metrics.confidence(classifier, decoded)
        report(min(s + CHUNK, len(images)) / len(images))
    return out
