"""What defines a model and a training run; a checkpoint records both."""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields

from explorer.data.limits import MAX_CLASSES, MAX_LATENT_DIM, MAX_SIDE, MIN_SIDE, MNIST_SHAPE
from explorer.utils.errors import ExplorerError
from explorer.utils.wording import count

MODEL_KINDS = ("ae", "vae", "cvae", "gan")
# the kinds whose encoder trains on real images: jitter is for them, and their MLP and training
# defaults grow with the latent size (wide)
ENCODER_KINDS = ("ae", "vae", "cvae")
# The limits of a grid and a path: here, where nothing imports torch, so that `explorer` alone can show
# its window before torch loads (about a second)
MAX_GRID = 64  # n x n decoded grid
MAX_STEPS = 256  # decodes along a path
# `explorer grid`'s defaults, which the window's grid export (Ctrl+E) starts from: the same image
GRID_CELLS = 12
DEFAULT_SCALE = 1
OUTPUTS = ("auto", "probabilities", "logits", "tanh")  # what a user's decoder returns (models/adapters.py)
ARCHS = ("mlp", "conv")
ACTIVATIONS = ("relu", "silu")  # of the AE's, VAE's and CVAE's hidden layers
KIND_NAMES = {"ae": "Autoencoder", "vae": "VAE", "cvae": "Conditional VAE", "gan": "GAN"}
MAX_BETA = 1000.0  # beta-VAE papers go up to about 250; far beyond, the KL term alone is trained
MAX_MMD = 100_000.0  # a batch's MMD is at most about 2: far above 1000 the codes are all G's loss sees
# CatGAN's terms are at most log(classes) nats; at 20 the shipped recipe's grid was already less clean
# than at 5 (bench/RESULTS.md), and far above the rest of G's loss only the namer would count
MAX_CONFIDENT = 1000.0
MAX_ANCHOR = 1000.0  # at about 800 (the pixels of a digit) G is a VAE's decoder and the adversary is noise
# Stated ranges for a training run, so that a mistyped value is refused before any work, not
# midway with a traceback. Seeds: what torch.manual_seed takes (larger ones overflow its uint64).
MAX_EPOCHS = 100_000
MAX_BATCH = 1 << 20
MAX_SEED = 2**64 - 1
MAX_LR = 1.0  # Adam's step is about lr per weight: above 1 every run diverges at once
MIN_IMAGES = 2  # a batch statistic, a shuffle, a spread of codes: all need two images
MAX_WIDTH = 4096
# The MLP's hidden widths (encoder; the decoder mirrors them unless set) when a config does not set them.
# Checkpoints saved before ModelConfig recorded widths all had LEGACY_WIDTHS.
LEGACY_WIDTHS = (256, 128)
WIDE_FROM_DIM = 10


def wide(kind: str, arch: str, latent_dim: int) -> bool:
    """Whether a model gets the widths and training defaults of the larger latent sizes."""
    return kind in ENCODER_KINDS and arch == "mlp" and latent_dim >= WIDE_FROM_DIM


def default_widths(kind: str, arch: str, latent_dim: int) -> tuple[int, ...]:
    """From 10-d up one hidden layer of 512; below, 256-128 (bench/RESULTS.md). A second layer of 256
    between the 512 and the code holds the codes back (10 epochs, batch 256 at 4e-3, bf16, test: VAE
    10-d 111.0 nats against 119.7, 32-d 107.2 against 115.1) and costs 1.3x the time; 256-128 is 12
    nats worse than either at 20-d. At 2-d, 512-256 is worse than 256-128 (153.0 against 147.4)."""
    return (512,) if wide(kind, arch, latent_dim) else LEGACY_WIDTHS


@dataclass(frozen=True)
class ModelConfig:
    kind: str = "vae"
    arch: str = "mlp"
    latent_dim: int = 2
    beta: float = 1.0  # weight of the KL term (VAE, CVAE)
    inversion: bool = True  # GAN: also fit an encoder images -> z on generated pairs
    anchor: float = 0.0  # GAN: weight of the VAE terms that tie G to an encoder of real images (models/gan.py)
    mmd: float = 0.0  # anchored GAN: a WAE's anchor instead, its codes matched to N(0, I) by MMD at this weight
    confident: float = 0.0  # GAN: weight of CatGAN's terms, G's images named one clear class (models/gan.py)
    average: float = 0.0  # GAN: decode with an exponential average of G's weights, this decay per step
    num_classes: int = 10  # CVAE: labels the decoder is conditioned on; a confident GAN: classes it names
    image_shape: tuple[int, int, int] = MNIST_SHAPE  # (channels, height, width) of the images it models
    widths: tuple[int, ...] | None = None  # MLP hidden widths, image to code; None: default_widths(...)
    decoder_widths: tuple[int, ...] | None = None  # the decoder's, code to image; None: `widths` mirrored
    activation: str = "relu"  # AE, VAE, CVAE hidden layers (a GAN's are its own)

    def __post_init__(self):
        if self.kind not in MODEL_KINDS:
            raise ExplorerError(f"unknown model kind {self.kind!r}; choose one of {', '.join(MODEL_KINDS)}")
        if self.arch not in ARCHS:
            raise ExplorerError(f"unknown architecture {self.arch!r}; choose one of {', '.join(ARCHS)}")
        if not isinstance(self.latent_dim, int) or not 2 <= self.latent_dim <= MAX_LATENT_DIM:
            raise ExplorerError(f"latent dimension must be an integer from 2 to {MAX_LATENT_DIM}, got {self.latent_dim!r}")
        if not _real(self.beta) or not 0 <= self.beta <= MAX_BETA:
            raise ExplorerError(f"beta must be a number from 0 to {MAX_BETA:g}, got {self.beta!r}")
        if self.activation not in ACTIVATIONS:
            raise ExplorerError(f"unknown activation {self.activation!r}; choose one of {', '.join(ACTIVATIONS)}")
        if self.kind == "gan" and self.activation != "relu":
            raise ExplorerError("a GAN's generator and discriminator have activations of their own; "
                                "--activation is for the AE, VAE and CVAE")
        if not isinstance(self.inversion, bool):
            raise ExplorerError(f"inversion must be true or false, got {self.inversion!r}")
        if not _real(self.anchor) or not 0 <= self.anchor <= MAX_ANCHOR:
            raise ExplorerError(f"anchor must be a number from 0 to {MAX_ANCHOR:g}, got {self.anchor!r}")
        if not _real(self.mmd) or not 0 <= self.mmd <= MAX_MMD:
            raise ExplorerError(f"mmd must be a number from 0 to {MAX_MMD:g}, got {self.mmd!r}")
        if not _real(self.average) or not 0 <= self.average < 1:
            raise ExplorerError(f"average must be a decay from 0 (none) to below 1, got {self.average!r}")
        if not _real(self.confident) or not 0 <= self.confident <= MAX_CONFIDENT:
            raise ExplorerError(f"confident must be a number from 0 to {MAX_CONFIDENT:g}, got {self.confident!r}")
        if (self.mmd or self.average or self.confident) and self.kind != "gan":
            raise ExplorerError("--mmd, --average and --confident are for a GAN (--model gan)")
        if self.mmd and not self.anchor:
            raise ExplorerError("--mmd sets how an anchored GAN's encoder is matched to the prior; "
                                "it needs --anchor above 0")
        if self.anchor and not self.inversion:
            raise ExplorerError("an anchored GAN trains its encoder with the generator; it cannot go without one "
                                "(drop --no-inversion or set --anchor 0)")
        if type(self.num_classes) is not int or not 2 <= self.num_classes <= MAX_CLASSES:
            raise ExplorerError(f"classes must be an integer from 2 to {MAX_CLASSES}, got {self.num_classes!r}")
        object.__setattr__(self, "image_shape", check_image_shape(self.image_shape))
        # resolved, so a checkpoint records them
        widths = default_widths(self.kind, self.arch, self.latent_dim) if self.widths is None else self.widths
        object.__setattr__(self, "widths", _checked_widths("widths", widths))
        mirrored = self.widths[::-1] if self.decoder_widths is None else self.decoder_widths
        object.__setattr__(self, "decoder_widths", _checked_widths("decoder widths", mirrored))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{"widths": LEGACY_WIDTHS, **{k: v for k, v in d.items() if k in known}})

    def describe(self) -> str:
        size = "" if self.image_shape == MNIST_SHAPE else ", {}x{}x{} images".format(*self.image_shape)
        name = ("WAE-GAN" if self.mmd else "VAE-GAN") if self.kind == "gan" and self.anchor else KIND_NAMES[self.kind]
        return f"{name} ({self.arch.upper()}, {self.latent_dim}-d latent{size})"


def _checked_widths(name: str, widths) -> tuple[int, ...]:
    if not isinstance(widths, (tuple, list)) or not 1 <= len(widths) <= 4 or \
            not all(type(w) is int and 1 <= w <= MAX_WIDTH for w in widths):
        raise ExplorerError(f"{name} must be 1 to 4 integers from 1 to {MAX_WIDTH}, got {widths!r}")
    return tuple(widths)


def check_image_shape(shape) -> tuple[int, int, int]:
    """(C, H, W) as a tuple of ints (JSON gives a list), grey or RGB, each side from 8 to 256 pixels."""
    ok = isinstance(shape, (tuple, list)) and len(shape) == 3 and all(type(s) is int for s in shape)
    if not ok or shape[0] not in (1, 3) or not all(MIN_SIDE <= s <= MAX_SIDE for s in shape[1:]):
        raise ExplorerError(f"image shape must be (channels 1 or 3, height, width) with sides from {MIN_SIDE} to "
                            f"{MAX_SIDE} pixels, got {shape!r}")
    return tuple(shape)


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
    jitter: bool = False  # AE, VAE, CVAE: the encoder sees each image slightly moved (explorer.engine.jitter)

    def __post_init__(self):
        if not _whole(self.epochs) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise ExplorerError(f"epochs must be a whole number from 1 to {MAX_EPOCHS:,}, got {self.epochs!r}")
        if self.batch_size is not None and (not _whole(self.batch_size) or not 1 <= self.batch_size <= MAX_BATCH):
            raise ExplorerError(f"batch size must be a whole number from 1 to {MAX_BATCH:,}, got {self.batch_size!r}")
        if self.lr is not None and (not _real(self.lr) or not 0 < self.lr <= MAX_LR):
            raise ExplorerError(f"learning rate must be a number above 0 and at most {MAX_LR:g}, got {self.lr!r}")
        if not _whole(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise ExplorerError(f"seed must be a whole number from 0 to 2**64 - 1, got {self.seed!r}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ExplorerError(f"device must be auto, cpu or cuda, got {self.device!r}")

    def check_data(self, kind: str, train_images: int, test_images: int | None = None) -> None:
        """Refuse, before any training, a run these splits cannot carry to a saved file."""
        if train_images < MIN_IMAGES:
            raise ExplorerError(f"the {self.dataset} train split has {count(train_images, 'image')}; training needs "
                                f"at least {MIN_IMAGES}")
        if test_images is not None and test_images < MIN_IMAGES:  # where the codes lie is measured on it
            raise ExplorerError(f"the {self.dataset} test split has {count(test_images, 'image')}; the map needs "
                                f"at least {MIN_IMAGES}")
        if self.batch_size is not None and self.batch_size > train_images:
            raise ExplorerError(f"batch size {self.batch_size:,} is more than the {train_images:,} training images; "
                                f"choose at most {train_images:,}")
        if self.jitter and kind not in ENCODER_KINDS:
            raise ExplorerError("jitter is for models that encode real images (AE, VAE, CVAE), "
                                f"not a {KIND_NAMES.get(kind, kind)}")
        if kind == "gan" and self.batch_size == 1:  # BatchNorm in training mode needs two values per channel
            raise ExplorerError("a GAN trains with batches of at least 2 (its BatchNorm layers need them)")


def _whole(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)
