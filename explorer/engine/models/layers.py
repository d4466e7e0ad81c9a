"""Encoder and decoder bodies shared by every model: an MLP and a small conv net, for images of
shape (C, H, W) (MNIST's (1, 28, 28) by default; grey or RGB, sides 8 to 256)."""

from __future__ import annotations

import math

import torch
from torch import nn

from explorer.data.limits import MNIST_SHAPE

MLP_WIDTHS = (256, 128)  # when none are given (config.default_widths picks them per latent size)
CONV_CHANNELS = (32, 64)
CONV_HIDDEN = 64  # the dense layer between conv features and the code
ACTIVATIONS = {"relu": nn.ReLU, "silu": nn.SiLU}  # by config.ACTIVATIONS' names


def conv_features(image_shape) -> tuple[int, int]:
    """Height and width after two 4x4 convolutions of stride 2 and padding 1: each halves a side (rounding down)."""
    return image_shape[1] // 2 // 2, image_shape[2] // 2 // 2


def deconv_start(image_shape) -> tuple[int, int]:
    """Where a decoder's two stride-2 transposed convolutions start: 4x this covers the image (then cropped)."""
    return math.ceil(image_shape[1] / 4), math.ceil(image_shape[2] / 4)


class Crop(nn.Module):
    """Keeps the top-left (height, width) of (N, C, h, w): a decoder's 4x upsampling can overshoot a side
    that is not a multiple of 4."""

    def __init__(self, height: int, width: int):
        super().__init__()
        self.height, self.width = height, width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., : self.height, : self.width]


def to_image(image_shape) -> list[nn.Module]:
    """[Crop] when the transposed convolutions overshoot the image, else nothing (no weights either way)."""
    h, w = deconv_start(image_shape)
    return [] if (4 * h, 4 * w) == tuple(image_shape[1:]) else [Crop(*image_shape[1:])]


class Encoder(nn.Module):
    """(N, C, H, W) images [+ (N, c) condition] -> (N, out_features)."""

    def __init__(self, arch: str, out_features: int, cond_features: int = 0, activation: str = "relu",
                 image_shape: tuple[int, int, int] = MNIST_SHAPE, widths: tuple[int, ...] | None = None):
        super().__init__()
        act = ACTIVATIONS[activation]
        if arch == "mlp":
            self.body = nn.Flatten()
            features, widths = math.prod(image_shape), widths or MLP_WIDTHS
        else:
            c1, c2 = CONV_CHANNELS
            self.body = nn.Sequential(
                nn.Conv2d(image_shape[0], c1, 4, stride=2, padding=1), act(),
                nn.Conv2d(c1, c2, 4, stride=2, padding=1), act(),
                nn.Flatten(),
            )
            features, widths = c2 * math.prod(conv_features(image_shape)), (CONV_HIDDEN,)
        layers, width = [], features + cond_features
        for w in widths:
            layers += [nn.Linear(width, w), act()]
            width = w
        self.head = nn.Sequential(*layers, nn.Linear(width, out_features))

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.body(x)
        return self.head(h if cond is None else torch.cat([h, cond], dim=1))


class Decoder(nn.Module):
    """(N, d) codes [+ (N, c) condition] -> (N, C, H, W) logits; an MLP's `widths` go from the code out."""

    def __init__(self, arch: str, in_features: int, cond_features: int = 0, activation: str = "relu",
                 image_shape: tuple[int, int, int] = MNIST_SHAPE, widths: tuple[int, ...] | None = None):
        super().__init__()
        act = ACTIVATIONS[activation]
        width = in_features + cond_features
        if arch == "mlp":
            layers = []
            for w in widths or MLP_WIDTHS[::-1]:
                layers += [nn.Linear(width, w), act()]
                width = w
            self.net = nn.Sequential(*layers, nn.Linear(width, math.prod(image_shape)),
                                     nn.Unflatten(1, tuple(image_shape)))
        else:
            c1, c2 = CONV_CHANNELS
            start = deconv_start(image_shape)
            self.net = nn.Sequential(
                nn.Linear(width, CONV_HIDDEN), act(),
                nn.Linear(CONV_HIDDEN, c2 * math.prod(start)), act(),
                nn.Unflatten(1, (c2, *start)),
                nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), act(),
                nn.ConvTranspose2d(c1, image_shape[0], 4, stride=2, padding=1),
                *to_image(image_shape),
            )

    def forward(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z if cond is None else torch.cat([z, cond], dim=1))
