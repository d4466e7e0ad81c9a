"""Variational autoencoder, and its conditional variant whose encoder and decoder also see the label.

Loss per image, in nats: Bernoulli reconstruction (binary cross-entropy summed over pixels, on
grey values) + beta * KL(q(z|x) || N(0, I)), with KL = 1/2 sum(sigma^2 + mu^2 - 1 - log sigma^2).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from explorer.engine.config import ModelConfig
from explorer.engine.models.base import LatentModel
from explorer.engine.models.gaussian import draw, kl_to_prior, posterior
from explorer.engine.models.layers import Decoder, Encoder


class VAE(LatentModel):
    def __init__(self, config: ModelConfig):
        super().__init__(config)
        cond = config.num_classes if self.conditional else 0
        self.encoder = Encoder(config.arch, 2 * config.latent_dim, cond, config.activation, config.image_shape,
                               config.widths)
        self.decoder = Decoder(config.arch, config.latent_dim, cond, config.activation, config.image_shape,
                               config.decoder_widths)

    def _cond(self, labels: torch.Tensor | None) -> torch.Tensor | None:
        if not self.conditional:
            return None
        if labels is None:
            raise ValueError("a conditional VAE needs the labels to encode or decode")
        return F.one_hot(labels.long(), self.config.num_classes).float()

    def encode_stats(self, x, labels=None) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, log sigma^2) of q(z|x); log-variance clamped so exp() cannot overflow."""
        return posterior(self.encoder(x, self._cond(labels)))

    def encode(self, x, labels=None):
        return self.encode_stats(x, labels)[0]

    def decode(self, z, labels=None):
        return torch.sigmoid(self.decoder(z, self._cond(labels)))

    def sample_posterior(self, x, labels=None, generator: torch.Generator | None = None) -> torch.Tensor:
        """One draw z = mu + sigma * eps from q(z|x) (the reparameterisation trick); `generator` makes
        it reproducible without touching the global random state another thread may be using."""
        mu, logvar = self.encode_stats(x, labels)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return draw(mu, logvar, eps)

    def losses(self, x, labels=None, seen=None):
        """The negative ELBO's terms for x; `seen`, if given, is what the encoder is shown instead
        (jitter): any q(z|.) gives a lower bound on log p(x), so the loss stays one."""
        mu, logvar = self.encode_stats(x if seen is None else seen, labels)
        z = draw(mu, logvar, torch.randn_like(mu))
        logits = self.decoder(z, self._cond(labels))
        n = x.shape[0]
        recon = F.binary_cross_entropy_with_logits(logits.float(), x.float(), reduction="sum") / n
        kl = kl_to_prior(mu, logvar).sum() / n
        return {"loss": recon + self.config.beta * kl, "recon": recon, "kl": kl}


class ConditionalVAE(VAE):
    conditional = True
