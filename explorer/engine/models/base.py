"""The interface the rest of the app uses, whatever the model kind."""

from __future__ import annotations

import torch
from torch import nn

from explorer.engine.config import ModelConfig


class LatentModel(nn.Module):
    """A generative model with a latent space of `latent_dim` dimensions.

    Images are float (N, C, H, W) in [0, 1], (C, H, W) = `image_shape` (MNIST's (1, 28, 28) unless the
    config says otherwise); codes are float (N, latent_dim).
    `labels` (N,) int64 matters only to conditional models and is ignored by the others.
    """

    conditional = False

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config

    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.config.image_shape

    @property
    def has_encoder(self) -> bool:
        return True

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def losses(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Training terms for one batch; 'loss' is the one to minimise. Models with an encoder may also
        take `seen`: what the encoder is shown in place of x (jitter)."""
        raise NotImplementedError
