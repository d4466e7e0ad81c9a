"""What defines a model and a training run; a checkpoint records both."""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass, fields

from explorer.errors import ExplorerError

MODEL_KINDS = ("ae", "vae", "cvae", "gan")
ARCHS = ("mlp", "conv")
KIND_NAMES = {"ae": "Autoencoder", "vae": "VAE", "cvae": "Conditional VAE", "gan": "GAN"}
MAX_LATENT_DIM = 512
MAX_CLASSES = 1000  # a checkpoint's metadata could otherwise ask for a model of any size
MAX_WIDTH = 4096
# The MLP's hidden widths (encoder; the decoder mirrors them) when a config does not set them.
# Checkpoints saved before ModelConfig recorded widths all had LEGACY_WIDTHS.
LEGACY_WIDTHS = (256, 128)
WIDE_FROM_DIM = 10


def default_widths(kind: str, arch: str, latent_dim: int) -> tuple[int, ...]:
    """From 10-d up 512-256 (bench/RESULTS.md): the 20-d VAE after 10 epochs at batch 256, 3e-3,
    bf16 reached 112.3 nats against 119.8 with 256-128. Below, 256-128 (2-d: 153.0 with 512-256
    against 147.4)."""
    wide = kind in ("ae", "vae", "cvae") and arch == "mlp" and latent_dim >= WIDE_FROM_DIM
    return (512, 256) if wide else LEGACY_WIDTHS


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "vae"
    arch: str = "mlp"
    latent_dim: int = 2
    beta: float = 1.0  # weight of the KL term (VAE, CVAE)
    inversion: bool = True  # GAN: also fit an encoder images -> z on generated pairs
    num_classes: int = 10  # CVAE: labels the decoder is conditioned on
    widths: tuple[int, ...] | None = None  # MLP hidden widths; None: default_widths(...)

    def __post_init__(self):
        if self.kind not in MODEL_KINDS:
            raise ExplorerError(f"unknown model kind {self.kind!r}; choose one of {', '.join(MODEL_KINDS)}")
        if self.arch not in ARCHS:
            raise ExplorerError(f"unknown architecture {self.arch!r}; choose one of {', '.join(ARCHS)}")
        if not isinstance(self.latent_dim, int) or not 2 <= self.latent_dim <= MAX_LATENT_DIM:
            raise ExplorerError(f"latent dimension must be an integer from 2 to {MAX_LATENT_DIM}, got {self.latent_dim!r}")
        if not isinstance(self.beta, numbers.Real) or not 0 <= self.beta < float("inf"):
            raise ExplorerError(f"beta must be a finite number >= 0, got {self.beta!r}")
        if not isinstance(self.inversion, bool):
            raise ExplorerError(f"inversion must be true or false, got {self.inversion!r}")
        if type(self.num_classes) is not int or not 2 <= self.num_classes <= MAX_CLASSES:
            raise ExplorerError(f"classes must be an integer from 2 to {MAX_CLASSES}, got {self.num_classes!r}")
        widths = default_widths(self.kind, self.arch, self.latent_dim) if self.widths is None else self.widths
        if not isinstance(widths, (tuple, list)) or not 1 <= len(widths) <= 4 or \
                not all(type(w) is int and 1 <= w <= MAX_WIDTH for w in widths):
            raise ExplorerError(f"widths must be 1 to 4 integers from 1 to {MAX_WIDTH}, got {self.widths!r}")
        object.__setattr__(self, "widths", tuple(widths))  # resolved, so a checkpoint records them

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{"widths": LEGACY_WIDTHS, **{k: v for k, v in d.items() if k in known}})

    def describe(self) -> str:
        return f"{KIND_NAMES[self.kind]} ({self.arch.upper()}, {self.latent_dim}-d latent)"


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 12  # the learning-rate schedule spans them (see training.DECAY)
    batch_size: int | None = None  # None: the model kind's default (see training.DEFAULTS)
    lr: float | None = None
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    dataset: str = "mnist"
    amp: bool = True  # bf16 autocast on CUDA, and for AE/VAE on CPUs with native bf16 (training.use_bf16)
    compile: bool = False

    def __post_init__(self):
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise ExplorerError(f"epochs must be a positive integer, got {self.epochs!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, int) or self.batch_size < 1):
            raise ExplorerError(f"batch size must be a positive integer, got {self.batch_size!r}")
        if self.lr is not None and not (0 < self.lr < float("inf")):
            raise ExplorerError(f"learning rate must be a positive number, got {self.lr!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ExplorerError(f"device must be auto, cpu or cuda, got {self.device!r}")
