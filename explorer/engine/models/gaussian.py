"""The diagonal Gaussian posterior q(z|x) = N(mu, sigma^2) that the VAE, the conditional VAE and the
anchored GAN's encoder share: its parameters, a draw from it, and its KL divergence from N(0, I)."""

from __future__ import annotations

import torch

# log sigma^2 is clamped to this range, so that exp() can neither overflow nor vanish in float32
LOGVAR_MIN, LOGVAR_MAX = -30.0, 20.0


def posterior(h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(mu, log sigma^2) from an encoder's (N, 2d) output: its two halves, the second clamped."""
    mu, logvar = h.chunk(2, dim=1)
    return mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX)


def draw(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = mu + sigma * eps (the reparameterisation trick) for standard normal `eps`."""
    return mu + torch.exp(0.5 * logvar) * eps


def kl_to_prior(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(q(z|x) || N(0, I)) of each image, in nats: 1/2 sum(sigma^2 + mu^2 - 1 - log sigma^2), (N,) float32."""
    return 0.5 * (logvar.exp() + mu.pow(2) - 1.0 - logvar).float().sum(dim=1)
