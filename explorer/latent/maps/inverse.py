"""A learned inverse of a 2-d layout: a small network from map positions back to full latent codes.

UMAP and t-SNE give positions for the data but no way back, so nothing drawn on them can be decoded;
umap-learn's own inverse_transform is slow and interpolates inside the data's triangulation only. This
network is fitted on the data's (map position, code) pairs and is defined everywhere on the map: on the
data it matches the codes to within `error`, and away from it it extrapolates (say so to the user).
Free of Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from explorer.utils.errors import ExplorerError

WIDTH = 256
STEPS = 3000  # Adam steps: on 10,000 codes of a 16-d VAE the median error stopped falling near here
BATCH = 512
CHECK_EVERY = 100  # steps between looks at the cancel flag and progress reports


class Cancelled(Exception):
    """Fitting was stopped by its should_stop callback."""


def network(latent_dim: int) -> nn.Module:
    return nn.Sequential(nn.Linear(2, WIDTH), nn.SiLU(), nn.Linear(WIDTH, WIDTH), nn.SiLU(),
                         nn.Linear(WIDTH, WIDTH), nn.SiLU(), nn.Linear(WIDTH, latent_dim))


@dataclass(frozen=True)
class Inverse:
    """uv (M, 2) -> codes (M, d), with the scalings it was fitted under."""

    net: nn.Module
    uv_mean: np.ndarray  # (2,)
    uv_scale: float
    code_mean: np.ndarray  # (d,)
    code_scale: np.ndarray  # (d,)

    def __call__(self, uv) -> np.ndarray:
        uv = (np.asarray(uv, dtype=np.float64).reshape(-1, 2) - self.uv_mean) / self.uv_scale
        with torch.inference_mode():
            out = self.net(torch.from_numpy(uv.astype(np.float32))).double().numpy()
        return (out * self.code_scale + self.code_mean).astype(np.float32)

    def state(self) -> dict[str, torch.Tensor]:
        """Everything needed to rebuild it, as tensors (for safetensors)."""
        scalings = {"uv_mean": self.uv_mean, "uv_scale": np.array([self.uv_scale]),
                    "code_mean": self.code_mean, "code_scale": self.code_scale}
        return {**{f"net.{k}": v.contiguous() for k, v in self.net.state_dict().items()},
                **{k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in scalings.items()}}

    @classmethod
    def from_state(cls, tensors: dict[str, torch.Tensor], latent_dim: int) -> "Inverse":
        net = network(latent_dim)
        net.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
        return cls(net.eval(), tensors["uv_mean"].numpy(), float(tensors["uv_scale"][0]),
                   tensors["code_mean"].numpy(), tensors["code_scale"].numpy())


def fit(uv: np.ndarray, codes: np.ndarray, seed: int = 0, steps: int = STEPS,
        should_stop: Callable[[], bool] = lambda: False,
        report: Callable[[float], None] = lambda fraction: None) -> Inverse:
    """Fit uv (N, 2) -> codes (N, d) by mean squared error on standardised codes; Cancelled if
    should_stop() turns true (checked every CHECK_EVERY steps)."""
    uv, codes = np.asarray(uv, dtype=np.float64), np.asarray(codes, dtype=np.float64)
    if uv.ndim != 2 or uv.shape[1] != 2 or codes.ndim != 2 or len(uv) != len(codes):
        raise ExplorerError(f"need (N, 2) map positions and (N, d) codes, got {uv.shape} and {codes.shape}")
    if len(uv) < 2 or not (np.isfinite(uv).all() and np.isfinite(codes).all()):
        raise ExplorerError("need at least two finite map positions and codes to learn the way back")
    uv_mean, code_mean = uv.mean(axis=0), codes.mean(axis=0)
    uv_scale = float(uv.std()) or 1.0
    code_scale = np.where(codes.std(axis=0) > 0, codes.std(axis=0), 1.0)
    x = torch.from_numpy(((uv - uv_mean) / uv_scale).astype(np.float32))
    y = torch.from_numpy(((codes - code_mean) / code_scale).astype(np.float32))
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # the layers' initial weights
    net = network(codes.shape[1])
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    for step in range(steps):
        if step % CHECK_EVERY == 0:
            if should_stop():
                raise Cancelled
            report(step / steps)
        batch = torch.randint(len(x), (min(BATCH, len(x)),), generator=generator)
        loss = nn.functional.mse_loss(net(x[batch]), y[batch])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    report(1.0)
    return Inverse(net.eval(), uv_mean, uv_scale, code_mean, code_scale)


def relative_error(inverse: Inverse, uv: np.ndarray, codes: np.ndarray) -> float:
    """Median distance between each code and the inverse of its map position, over the median distance
    of the codes from their mean: 0 is exact, 1 is no better than answering the mean code."""
    codes = np.asarray(codes, dtype=np.float64)
    miss = np.linalg.norm(inverse(uv) - codes, axis=1)
    spread = np.linalg.norm(codes - codes.mean(axis=0), axis=1)
    return float(np.median(miss) / max(float(np.median(spread)), 1e-12))
