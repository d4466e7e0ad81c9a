"""GAN: generator G maps noise z ~ N(0, I) to images, discriminator D tells real from generated.

Trained with the non-saturating form of the minimax loss. An optional inversion encoder E is fitted
on generated pairs (z, G(z)) so that real images can be placed on the generator's latent map.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from explorer.config import ModelConfig
from explorer.models.base import LatentModel
from explorer.models.layers import Decoder, Encoder


class GAN(LatentModel):
    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.generator = Decoder(config.arch, config.latent_dim)
        self.discriminator = Encoder(config.arch, 1, act=lambda: nn.LeakyReLU(0.2))
        self.inverter = Encoder(config.arch, config.latent_dim) if config.inversion else None

    @property
    def has_encoder(self) -> bool:
        return self.inverter is not None

    def encode(self, x, labels=None):
        if self.inverter is None:
            raise ValueError("this GAN has no inversion encoder, so it cannot place real images")
        return self.inverter(x)

    def decode(self, z, labels=None):
        return torch.sigmoid(self.generator(z))

    def noise(self, n: int, device) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=device)

    def discriminator_loss(self, real: torch.Tensor) -> torch.Tensor:
        fake = self.decode(self.noise(len(real), real.device)).detach()
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        return F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + \
            F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))

    def generator_loss(self, n: int, device) -> torch.Tensor:
        logits = self.discriminator(self.decode(self.noise(n, device)))
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))

    def inversion_loss(self, n: int, device) -> torch.Tensor:
        z = self.noise(n, device)
        with torch.no_grad():
            x = self.decode(z)
        return F.mse_loss(self.inverter(x), z)
