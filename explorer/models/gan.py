"""GAN: generator G maps noise z ~ N(0, I) to images, discriminator D tells real from generated.

Trained with the non-saturating form of the minimax loss, with the usual stabilisers (BatchNorm in
G, dropout in D, real labels smoothed to 0.9): with a 2-d latent, plain G and D collapse to one
digit within a few epochs. An optional inversion encoder E is fitted on generated pairs (z, G(z))
so that real images can be placed on the generator's latent map.

Anchored (config.anchor > 0, a VAE-GAN after Larsen et al. 2016): E is instead a VAE's encoder of real
images, and G's loss adds `anchor` times the VAE's loss per pixel (reconstruct x from a draw of
q(z|x), plus the KL to N(0, I)). The adversary still decides what G draws; the anchor makes every
digit own a region of the prior, which a plain 2-d GAN does not: ours left out three to four of the
ten digits on the 12x12 grid over +-2 sigma (bench/RESULTS.md).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from explorer.config import MNIST_SHAPE, ModelConfig
from explorer.models.base import LatentModel
from explorer.models.gaussian import draw, kl_to_prior, posterior
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
        codes = 2 * config.latent_dim if config.anchor else config.latent_dim  # anchored: (mu, log sigma^2)
        self.inverter = Encoder(config.arch, codes, image_shape=shape) if config.inversion else None

    @property
    def has_encoder(self) -> bool:
        return self.inverter is not None

    def encode(self, x, labels=None):
        if self.inverter is None:
            raise ValueError("this GAN has no inversion encoder, so it cannot place real images")
        return self.inverter(x)[:, : self.latent_dim]  # anchored: the posterior's mean

    def decode(self, z, labels=None):
        return torch.sigmoid(self.generator(z))

    @torch.no_grad()
    def standing_statistics(self, batches: int = 100, size: int = 512, seed: int = 0) -> None:
        """Re-estimate G's BatchNorm statistics as the average over `batches` x `size` prior draws (BigGAN's
        "standing statistics"). Training only ever uses batch statistics; the running averages a decode
        uses lag the moving weights: the shipped GAN's Frechet distance was 282.4 with them, 155.8 with
        these (bench/RESULTS.md)."""
        norms = [m for m in self.generator.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        momenta, training = [m.momentum for m in norms], self.generator.training
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average: every draw counts the same
        self.generator.train()
        draws = torch.Generator().manual_seed(seed)  # the training run's random state is left alone
        device = next(self.generator.parameters()).device
        for _ in range(batches if norms else 0):
            self.generator(torch.randn(size, self.latent_dim, generator=draws).to(device))
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        self.generator.train(training)

    def noise(self, n: int, device) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=device)

    def discriminator_loss(self, real: torch.Tensor) -> torch.Tensor:
        fake = self.decode(self.noise(len(real), real.device)).detach()
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        return F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, REAL_LABEL)) + \
            F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))

    def generator_loss(self, real: torch.Tensor) -> torch.Tensor:
        """Non-saturating adversarial loss on prior draws; anchored, plus the VAE terms on `real` (which
        train G and E together)."""
        logits = self.discriminator(self.decode(self.noise(len(real), real.device)))
        loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        if not self.config.anchor:
            return loss
        mu, logvar = posterior(self.inverter(real))
        z = draw(mu, logvar, torch.randn_like(mu))
        recon = F.binary_cross_entropy_with_logits(self.generator(z).float(), real.float())  # mean per pixel
        kl = kl_to_prior(mu, logvar).mean() / real[0].numel()
        return loss + self.config.anchor * (recon + kl)

    def inversion_loss(self, real: torch.Tensor) -> torch.Tensor:
        """Plain GANs: E learns z back from G(z) (E of an anchored GAN learns in generator_loss)."""
        z = self.noise(len(real), real.device)
        with torch.no_grad():
            x = self.decode(z)
        return F.mse_loss(self.inverter(x), z)
