"""The training timeline: where a fixed sample of test images lay in latent space after each epoch.

A recorder embeds the same sample after every epoch of a run (a few KB an epoch, stored in the
checkpoint as float16, or float32 when they outgrow it), so the birth of a latent space can be replayed
afterwards: positions() puts every epoch on a map, each aligned to the last one so the replay shows the
layout forming rather than axes flipping. Free of Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.engine import coding
from explorer.utils.errors import ExplorerError

SAMPLE = 500  # test images followed: 2 KB an epoch for a 2-d model, 16 KB for a 16-d one
MAX_EPOCHS = 1000  # epochs recorded at most (a run's first 1000)
INDEX, CODES = KEYS = ("timeline.index", "timeline.codes")  # its tensors' names in a checkpoint


@dataclass(frozen=True)
class Timeline:
    index: np.ndarray  # (K,) which test images were followed
    codes: np.ndarray  # (E, K, d) float32: their codes after each of E epochs

    def __post_init__(self):
        if self.codes.ndim != 3 or self.index.ndim != 1 or self.codes.shape[1] != len(self.index):
            raise ExplorerError(f"a timeline needs (epochs, {len(self.index)}, d) codes, got {self.codes.shape}")

    @property
    def epochs(self) -> int:
        return len(self.codes)

    def after(self, epoch: int) -> np.ndarray:
        """Codes (K, d) after epoch `epoch` (1-based)."""
        if not 1 <= epoch <= self.epochs:
            raise ExplorerError(f"epoch must be from 1 to {self.epochs} (the epochs this run recorded), got {epoch}")
        return self.codes[epoch - 1]

    def positions(self, plane: coding.Plane | None = None) -> np.ndarray:
        """(E, K, 2) map positions. A 2-d latent space is its own map, so its codes are shown as they
        are. Above 2-d the last epoch lies on `plane` (the map the finished model is shown on; default:
        its sample's principal plane) and every earlier epoch on its own principal plane, turned or
        mirrored and moved to lie as close to the last as it can (orthogonal Procrustes): the replay
        shows the layout forming, not principal axes flipping from one epoch to the next."""
        codes = self.codes.astype(np.float64)
        if codes.shape[2] == 2:
            return codes.astype(np.float32)
        final = (plane or coding.stats_from_embeddings(codes[-1]).plane()).project(codes[-1]).astype(np.float64)
        own = [coding.stats_from_embeddings(z).plane().project(z).astype(np.float64) for z in codes[:-1]]
        return np.stack([*(_align(p, final) for p in own), final]).astype(np.float32)

    def tensors(self) -> dict[str, torch.Tensor]:
        """float16 codes (half the bytes), or float32 where a run's codes outgrow float16 (beyond 65504:
        a run at a high learning rate can end with finite losses and codes of 1e5 and more)."""
        with np.errstate(invalid="ignore"):  # NaN codes: kept as float32, for save() to say so
            fits = bool(np.abs(self.codes).max() <= np.finfo(np.float16).max)
        return {INDEX: torch.from_numpy(self.index.astype(np.int64)),
                CODES: torch.from_numpy(self.codes.astype(np.float16 if fits else np.float32))}


def sample_index(n_images: int, seed: int = 0) -> np.ndarray:
    """SAMPLE test images (all of them when fewer), the same ones for the same split and seed, in order."""
    return np.sort(np.random.default_rng(seed).permutation(n_images)[:SAMPLE])


class Recorder:
    """Call it with each Progress of a training run: after every complete epoch it embeds the sample.
    Models without an encoder (a GAN without its inversion encoder) record nothing."""

    def __init__(self, model, images: torch.Tensor, labels: torch.Tensor | None = None, seed: int = 0):
        self.model = model
        self.index = sample_index(len(images), seed)
        self.images = images[torch.from_numpy(self.index)]
        self.labels = None if labels is None else labels[torch.from_numpy(self.index)]
        self.codes: list[np.ndarray] = []

    def __call__(self, progress) -> None:
        if not progress.epoch_done or not self.model.has_encoder or len(self.codes) >= MAX_EPOCHS:
            return
        was_training = self.model.training
        self.model.eval()
        try:
            self.codes.append(coding.embed(self.model, self.images, self.labels))
        finally:
            self.model.train(was_training)

    def add(self, codes: np.ndarray) -> None:
        """Record an epoch from the codes of all the images (N, d), for a caller that has them already."""
        if len(self.codes) < MAX_EPOCHS:
            self.codes.append(codes[self.index])

    def timeline(self, epochs: int) -> Timeline | None:
        """The first `epochs` recorded (those of the weights kept), or None when none were."""
        kept = self.codes[:epochs]
        return Timeline(self.index, np.stack(kept)) if kept else None


def from_tensors(tensors: dict[str, torch.Tensor]) -> Timeline | None:
    if CODES not in tensors:
        return None
    return Timeline(tensors[INDEX].numpy(), tensors[CODES].float().numpy())


def _align(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """points (K, 2) turned or mirrored about their centre by the orthogonal matrix that brings them
    nearest to `target` (K, 2), and moved onto the target's centre."""
    centred, aim = points - points.mean(axis=0), target - target.mean(axis=0)
    u, _, vt = np.linalg.svd(centred.T @ aim)
    return centred @ (u @ vt) + target.mean(axis=0)
