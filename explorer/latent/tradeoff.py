"""The trade-off a ladder walks along, measured per model on the test split: its reconstruction term
(distortion) against its KL (rate), test -ELBO, 5-NN accuracy of its codes and the decodability of its
map; a table of them as CSV; and the same test digits reconstructed by each model, one strip per model.
Free of Qt."""

from __future__ import annotations

import io
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from explorer.engine import coding
from explorer.engine.ladder import rung_of, value_text
from explorer.latent import metrics
from explorer.latent.export import tile
from explorer.utils.files import atomic_write

COLUMNS = ("name", "setting", "value", "recon", "kl", "neg_elbo", "knn5", "decodability")
STRIP_DIGITS = 10  # the first test image of each digit 0-9


@dataclass(frozen=True)
class Row:
    """One model's figures, None where they do not apply (an AE has no KL; a GAN's decoder alone
    reconstructs nothing). recon, kl and neg_elbo in nats per image."""

    name: str
    setting: str | None
    value: float | None
    recon: float | None
    kl: float | None
    neg_elbo: float | None
    knn5: float | None
    decodability: float | None

    @property
    def rung(self) -> str:
        return "" if self.setting is None else f"{self.setting}={value_text(self.value)}"


def measure(name: str, ckpt, stats, test, train=None, classifier=None, codes: dict | None = None) -> Row:
    """The figures of one model: `test`, `train` splits (train for the 5-NN; None leaves it out), the
    digit classifier for decodability (None leaves it out), `codes` the splits' codes if already embedded."""
    model, codes = ckpt.model, codes or {}
    recon = kl = neg_elbo = knn = judged = None
    if model.has_encoder:
        if model.kind in ("vae", "cvae"):
            e = metrics.elbo(model, test)
            recon, kl, neg_elbo = e["elbo_recon"], e["elbo_kl"], -e["elbo"]
        else:
            recon = metrics.reconstruction(model, test)["recon_bce"]
        if train is not None:
            train_z = codes.get("train")
            train_z = coding.embed(model, train.images, train.labels) if train_z is None else train_z
            test_z = codes.get("test")
            test_z = coding.embed(model, test.images, test.labels) if test_z is None else test_z
            knn = metrics.knn_accuracy(train_z, train.labels.numpy(), test_z, test.labels.numpy())
    if classifier is not None and stats is not None:
        judged = metrics.map_decodability(model, classifier, stats)
    setting, value = rung_of(ckpt.meta) or (None, None)
    return Row(name, setting, value, recon, kl, neg_elbo, knn, judged)


def csv_text(rows: list[Row]) -> str:
    out = io.StringIO()
    out.write(",".join(COLUMNS) + "\n")
    for row in rows:
        cells = asdict(row)
        out.write(",".join("" if cells[c] is None else (f"{cells[c]:.6g}" if isinstance(cells[c], float)
                                                        else _csv_cell(str(cells[c]))) for c in COLUMNS) + "\n")
    return out.getvalue()


def _csv_cell(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n') else text


def save_csv(path: str | os.PathLike, rows: list[Row]) -> Path:
    data = csv_text(rows).encode()
    return atomic_write(path, lambda f: f.write(data), (".csv",))


def strip_images(test) -> tuple[np.ndarray, np.ndarray]:
    """(images, labels) of the test digits every strip shows: the first of each class, in class order."""
    labels = test.labels.numpy()
    picks = [int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)[:STRIP_DIGITS]]
    return test.images[picks].numpy(), labels[picks]


def reconstruction_strips(models: list, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One image: the originals on the top row, then each model's reconstructions of them, a row per
    model (blank for a model without an encoder)."""
    rows = [images]
    for model in models:
        if not model.has_encoder:
            rows.append(np.zeros_like(images))
            continue
        y = labels if model.conditional else None
        codes = coding.embed(model, images, None if y is None else torch.as_tensor(y))
        rows.append(coding.decode(model, codes, y))
    return tile(np.concatenate(rows), len(images))
