"""GAN: generator G maps noise z ~ N(0, I) to images, discriminator D tells real from generated.

Trained with the non-saturating form of the minimax loss, with the usual stabilisers (BatchNorm in
G, dropout in D, real labels smoothed to 0.9): with a 2-d latent, plain G and D collapse to one
digit within a few epochs. An optional inversion encoder E is fitted on generated pairs (z, G(z))
so that real images can be placed on the generator's latent map.

Anchored (config.anchor > 0, a VAE-GAN after Larsen et al. 2016): E is instead a VAE's encoder of real
images, and G's loss adds `anchor` times the VAE's loss per pixel (reconstruct x from a draw of
q(z|x), plus the KL to N(0, I)). The adversary still decides what G draws; the anchor makes every
digit own a region of the prior, which a plain 2-d GAN does not: ours left out three to four of the
ten digits on the 12x12 grid over +-2 sigma (bench/RESULTS.md). With config.mmd > 0 the anchor is a
Wasserstein autoencoder's instead (Tolstikhin et al. 2018): E gives one code per image, G reconstructs
x from it, and the codes of a batch are pulled towards N(0, I) by `mmd` times their maximum mean
discrepancy from as many prior draws. Nothing then makes G average two digits where their codes
would overlap, so between regions the adversary alone decides what G draws.

With config.confident > 0 (CatGAN's terms, Springenberg 2016, with the labels of the real images), a
namer learns the classes of real images beside D, and G's loss adds `confident` times the entropy of
the class each of its images is named less the entropy of the classes over the batch: G is asked for
images of one clear class, every class over a batch. The regions the anchor gives each digit then
meet at sharp borders instead of blends: the shipped recipe's grid went from 87% to 98% clean
(bench/RESULTS.md).

With config.average > 0, decodes come from an exponential moving average of G's weights over the
training steps (the losses train G as usual): the adversarial game never settles, and the average
draws steadier strokes than any one step's weights.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from explorer.data.limits import MNIST_SHAPE
from explorer.engine.config import ModelConfig
from explorer.engine.models.base import LatentModel
from explorer.engine.models.gaussian import draw, kl_to_prior, posterior
from explorer.engine.models.layers import Encoder, conv_features, deconv_start, to_image

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


def discriminator(arch: str, image_shape=MNIST_SHAPE, outputs: int = 1) -> nn.Module:
    """(N, C, H, W) images -> (N, outputs) logits: of 'real', or of each class for the namer."""
    if arch == "mlp":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(image_shape), 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(256, outputs),
        )
    return nn.Sequential(
        nn.Conv2d(image_shape[0], 32, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Dropout(0.3),
        nn.Flatten(), nn.Linear(64 * math.prod(conv_features(image_shape)), outputs),
    )


class GAN(LatentModel):
    def __init__(self, config: ModelConfig):
        super().__init__(config)
        shape = config.image_shape
        self.generator = generator(config.arch, config.latent_dim, shape)
        self.average = copy.deepcopy(self.generator).requires_grad_(False) if config.average else None
        self.discriminator = discriminator(config.arch, shape)
        self.namer = discriminator(config.arch, shape, config.num_classes) if config.confident else None
        stochastic = config.anchor and not config.mmd  # a VAE's anchor: (mu, log sigma^2)
        codes = 2 * config.latent_dim if stochastic else config.latent_dim
        self.inverter = Encoder(config.arch, codes, image_shape=shape) if config.inversion else None

    @property
    def drawing(self) -> nn.Module:
        """The generator that decodes: the average of G's weights when one is kept, else G."""
        return self.generator if self.average is None else self.average

    @torch.no_grad()
    def update_average(self) -> None:
        """After a step of G: move the average towards G's weights (and take its BatchNorm counts)."""
        for mean, now in zip(self.average.state_dict().values(), self.generator.state_dict().values()):
            if mean.dtype.is_floating_point:
                mean.lerp_(now, 1 - self.config.average)
            else:
                mean.copy_(now)

    @property
    def has_encoder(self) -> bool:
        return self.inverter is not None

    def encode(self, x, labels=None):
        if self.inverter is None:
            raise ValueError("this GAN has no inversion encoder, so it cannot place real images")
        return self.inverter(x)[:, : self.latent_dim]  # VAE-anchored: the posterior's mean

    def decode(self, z, labels=None):
        return torch.sigmoid(self.drawing(z))

    @torch.no_grad()
    def standing_statistics(self, batches: int = 100, size: int = 512, seed: int = 0) -> None:
        """Re-estimate G's BatchNorm statistics as the average over `batches` x `size` prior draws (BigGAN's
        "standing statistics"). Training only ever uses batch statistics; the running averages a decode
        uses lag the moving weights: the shipped GAN's Frechet distance was 282.4 with them, 155.8 with
        these (bench/RESULTS.md)."""
        drawing = self.drawing
        norms = [m for m in drawing.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
        momenta, training = [m.momentum for m in norms], drawing.training
        for m in norms:
            m.reset_running_stats()
            m.momentum = None  # a cumulative average: every draw counts the same
        drawing.train()
        draws = torch.Generator().manual_seed(seed)  # the training run's random state is left alone
        device = next(drawing.parameters()).device
        for _ in range(batches if norms else 0):
            drawing(torch.randn(size, self.latent_dim, generator=draws).to(device))
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        drawing.train(training)

    def noise(self, n: int, device) -> torch.Tensor:
        return torch.randn(n, self.latent_dim, device=device)

    def _fake(self, n: int, device) -> torch.Tensor:
        """G's images of n prior draws, as trained (not the average): what the adversary plays against."""
        return torch.sigmoid(self.generator(self.noise(n, device)))

    def discriminator_loss(self, real: torch.Tensor, labels=None) -> torch.Tensor:
        fake = self._fake(len(real), real.device).detach()
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake)
        loss = F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, REAL_LABEL)) + \
            F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        if self.namer is not None:  # the namer learns the classes from real images only
            loss = loss + F.cross_entropy(self.namer(real).float(), labels)
        return loss

    def generator_loss(self, real: torch.Tensor, labels=None) -> torch.Tensor:
        """Non-saturating adversarial loss on prior draws; anchored, plus the VAE's or WAE's terms on
        `real` (which train G and E together)."""
        fake = self._fake(len(real), real.device)
        logits = self.discriminator(fake)
        loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        if self.namer is not None:
            loss = loss + self.config.confident * naming_entropy(self.namer(fake).float())
        if not self.config.anchor:
            return loss
        if self.config.mmd:
            z = self.inverter(real).float()
            match = self.config.mmd * mmd_to_prior(z)
        else:
            mu, logvar = posterior(self.inverter(real))
            z = draw(mu, logvar, torch.randn_like(mu))
            match = self.config.anchor * kl_to_prior(mu, logvar).mean() / real[0].numel()
        recon = F.binary_cross_entropy_with_logits(self.generator(z).float(), real.float())  # mean per pixel
        return loss + self.config.anchor * recon + match

    def inversion_loss(self, real: torch.Tensor, labels=None) -> torch.Tensor:
        """Plain GANs: E learns z back from G(z) (E of an anchored GAN learns in generator_loss)."""
        z = self.noise(len(real), real.device)
        with torch.no_grad():
            x = self.decode(z)  # E places images on the map of the generator that decodes
        return F.mse_loss(self.inverter(x), z)


def naming_entropy(logits: torch.Tensor) -> torch.Tensor:
    """CatGAN's terms for G (Springenberg 2016): the mean entropy of the class each image is named
    (low: every image one clear class) less the entropy of the classes over the batch (high: all of them)."""
    p = logits.softmax(dim=1)
    each = -(p * logits.log_softmax(dim=1)).sum(dim=1).mean()
    mean = p.mean(dim=0)
    return each + (mean * mean.clamp_min(1e-8).log()).sum()


def mmd_to_prior(z: torch.Tensor) -> torch.Tensor:
    """The (unbiased) squared maximum mean discrepancy between codes z (N, d) and N prior draws, with
    the inverse multiquadratic kernel C / (C + |a - b|^2), C = 2d, of a Wasserstein autoencoder."""
    n, d = z.shape
    prior = torch.randn_like(z)
    scale = 2.0 * d

    def mean_kernel(a, b, same: bool):
        k = scale / (scale + torch.cdist(a, b) ** 2)
        return (k.sum() - k.diagonal().sum()) / (n * (n - 1)) if same else k.mean()

    return mean_kernel(z, z, True) + mean_kernel(prior, prior, True) - 2 * mean_kernel(z, prior, False)
