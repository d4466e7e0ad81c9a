"""A small MNIST classifier: judges whether a decoded image looks like a digit (decodability) and
gives the features for the GAN's Frechet distance. Not a latent model."""

from __future__ import annotations

import torch
from torch import nn


class Classifier(nn.Module):
    kind = "classifier"
    FEATURES = 128

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, self.FEATURES), nn.ReLU(),
        )
        self.head = nn.Linear(self.FEATURES, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def losses(self, x, labels):
        loss = nn.functional.cross_entropy(self(x), labels)
        return {"loss": loss}
