"""The lecture's autoencoder: x -> z -> x_hat, trained on pixel MSE, no labels."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from explorer.engine.config import ModelConfig
from explorer.engine.models.base import LatentModel
from explorer.engine.models.layers import Decoder, Encoder


class Autoencoder(LatentModel):
    def __init__(self, config: ModelConfig):
        super().__init__(config)
        self.encoder = Encoder(config.arch, config.latent_dim, 0, config.activation, config.image_shape, config.widths)
        self.decoder = Decoder(config.arch, config.latent_dim, 0, config.activation, config.image_shape,
                               config.decoder_widths)

    def encode(self, x, labels=None):
        return self.encoder(x)

    def decode(self, z, labels=None):
        return torch.sigmoid(self.decoder(z))

    def losses(self, x, labels=None, seen=None):
        """Pixel MSE of reconstructing x; `seen`, if given, is what the encoder is shown instead (jitter)."""
        recon = F.mse_loss(self.decode(self.encode(x if seen is None else seen)), x)
        return {"loss": recon, "recon": recon}
