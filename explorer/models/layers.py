"""Encoder and decoder bodies shared by every model: an MLP and a small conv net for 28x28 images."""

from __future__ import annotations

import torch
from torch import nn

MLP_WIDTHS = (256, 128)  # when none are given (config.default_widths picks them per latent size)
CONV_CHANNELS = (32, 64)
CONV_HIDDEN = 64  # the dense layer between conv features and the code


class Encoder(nn.Module):
    """(N, 1, 28, 28) images [+ (N, c) condition] -> (N, out_features)."""

    def __init__(self, arch: str, out_features: int, cond_features: int = 0, act: type[nn.Module] = nn.ReLU,
                 widths: tuple[int, ...] | None = None):
        super().__init__()
        if arch == "mlp":
            self.body = nn.Flatten()
            features, widths = 28 * 28, widths or MLP_WIDTHS
        else:
            c1, c2 = CONV_CHANNELS
            self.body = nn.Sequential(
                nn.Conv2d(1, c1, 4, stride=2, padding=1), act(),
                nn.Conv2d(c1, c2, 4, stride=2, padding=1), act(),
                nn.Flatten(),
            )
            features, widths = c2 * 7 * 7, (CONV_HIDDEN,)
        layers, width = [], features + cond_features
        for w in widths:
            layers += [nn.Linear(width, w), act()]
            width = w
        self.head = nn.Sequential(*layers, nn.Linear(width, out_features))

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(x)
        return self.head(h if cond is None else torch.cat([h, cond], dim=1))


class Decoder(nn.Module):
    """(N, d) codes [+ (N, c) condition] -> (N, 1, 28, 28) logits."""

    def __init__(self, arch: str, in_features: int, cond_features: int = 0, widths: tuple[int, ...] | None = None):
        super().__init__()
        width = in_features + cond_features
        if arch == "mlp":
            layers = []
            for w in reversed(widths or MLP_WIDTHS):
                layers += [nn.Linear(width, w), nn.ReLU()]
                width = w
            self.net = nn.Sequential(*layers, nn.Linear(width, 28 * 28), nn.Unflatten(1, (1, 28, 28)))
        else:
            c1, c2 = CONV_CHANNELS
            self.net = nn.Sequential(
                nn.Linear(width, CONV_HIDDEN), nn.ReLU(),
                nn.Linear(CONV_HIDDEN, c2 * 7 * 7), nn.ReLU(),
                nn.Unflatten(1, (c2, 7, 7)),
                nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),
                nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),
            )

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z if cond is None else torch.cat([z, cond], dim=1))
