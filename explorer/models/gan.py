"""GAN: generator G maps noise z ~ N(0, I) to images, discriminator D tells real from generated.

Trained with the non-saturating form of the minimax loss, with the usual stabilisers (BatchNorm in
G, dropout in D, real labels smoothed to 0.9): with a 2-d latent, plain G and D collapse to one
digit within a few epochs. An optional inversion encoder E is fitted on generated pairs (z, G(z))
so that real images can be placed on the generator's latent map.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from explorer.config import ModelConfig
from explorer.models.base import LatentModel
from explorer.config import MNIST_SHAPE
from explorer.models.layers import Encoder, conv_features, deconv_start, to_image


REAL_LABEL = 0.9  # one-sided label smoothing: keeps D from becoming certain and starving G of gradient


def generator(arch: str, latent_dim: int, image_shape=MNIST_SHAPE) -> nn.Module:
    """z -> (N, C, H, W) logits."""
    if arch == "mlp":
        return nn.Sequential(
            nn.Linear(latent_dim, 128), nn.LeakyReLU(0.2),
            nn.Linear(128, 256), nn.BatchNorm1d(256), nn.LeakyReLU(0.2),
            nn.Linear(256, 512), nn.BatchNorm1d(512), nn.LeakyReLU(0.2),
            nn.Linear(512, math.prod(image_shape)), nn.Unflatten(1, tuple(image_shape)),
        )
    h, w = deconv_start(image_shape)
    return nn.Sequential(
        nn.Linear(latent_dim, 64 * h * w), nn.BatchNorm1d(64 * h * w), nn.ReLU(), nn.Unflatten(1, (64, h, w)),
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.ConvTranspose2d(32, image_shape[0], 4, stride=2, padding=1), *to_image(image_shape),
    )


def discriminator(arch: str, image_shape=MNIST_SHAPE) -> nn.Module:
    """(N, C, H, W) images -> (N, 1) logits of 'real'."""
    if arch == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(image_shape), 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(256, 1),
        )
    return nn.Sequential(
        nn.Conv2d(image_shape[0], 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(64 * math.prod(conv_features(image_shape)), 1),
    )


class GAN(LatentModel):
    def __init__(self, config: ModelConfig):
        super().__init__(config)
        shape = config.image_shape
        self.generator = generator(config.arch, config.latent_dim, shape)
        self.discriminator = discriminator(config.arch, shape)
        self.inverter = Encoder(config.arch, config.latent_dim, image_shape=shape) if config.inversion else None

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
        return F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, REAL_LABEL)) + \
            F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))

    def generator_loss(self, n: int, device) -> torch.Tensor:
        logits = self.discriminator(self.decode(self.noise(n, device)))
        return F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))

    def inversion_loss(self, n: int, device) -> torch.Tensor:
        z = self.noise(n, device)
        with torch.no_grad():
            x = self.decode(z)
        return F.mse_loss(self.inverter(x), z)
