"""Model kinds and the one factory that builds them from a config."""

from __future__ import annotations

import torch

from explorer.engine.config import ModelConfig
from explorer.engine.models.autoencoder import Autoencoder
from explorer.engine.models.base import LatentModel
from explorer.engine.models.classifier import Classifier
from explorer.engine.models.gan import GAN
from explorer.engine.models.vae import VAE, ConditionalVAE

KINDS = {"ae": Autoencoder, "vae": VAE, "cvae": ConditionalVAE, "gan": GAN}

__all__ = ["LatentModel", "Autoencoder", "VAE", "ConditionalVAE", "GAN", "Classifier", "build_model"]


def build_model(config: ModelConfig, seed: int | None = None) -> LatentModel:
    """A freshly initialised model; with a seed, the same seed gives the same weights."""
    if seed is None:
        return KINDS[config.kind](config)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return KINDS[config.kind](config)
