"""A user's own model behind the LatentModel interface, so the window and the CLI explore it like ours.

`adapt` accepts, in this order of preference:
- one of our models (returned as it is);
- anything with encode() and decode() methods;
- anything with `encoder` and `decoder` sub-modules (the lecture's Autoencoder);
- `encoder=` and `decoder=`: nn.Modules or plain callables;
- a decoder alone (a GAN generator: `decoder=`, or a model with only decode()/decoder) with `codes=`.

An encoder may return the code (N, d) or a VAE's (mu, logvar): mu is the code, and the posterior can
be sampled. The user's model is run under no_grad, in eval mode, on the device of its own weights:
inputs go there and outputs come back to the CPU as float32. Every sub-module's training flag is
put back afterwards, so batch-norm statistics and weights are never changed.

Decoder outputs may be (N, C*H*W), (N, C, H, W), (N, H, W) or (N, H, W, C) with C 1 or 3. What the
values mean is `output`: "probabilities" (used as they are, clamped to [0, 1]), "logits" (through a
sigmoid) or "tanh" (in [-1, 1], mapped by (x + 1) / 2); "auto" decides once, on a probe decode when
the model is adapted: all values within [0, 1] are probabilities, else all within [-1, 1] tanh
outputs, else logits (each to within 1e-3 of rounding).
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from explorer.data import arrays
from explorer.data.datasets import Split
from explorer.data.limits import MAX_SIDE, MIN_SIDE
from explorer.engine.coding import to_input
from explorer.engine.config import OUTPUTS
from explorer.engine.models.base import LatentModel
from explorer.engine.models.gaussian import LOGVAR_MAX, LOGVAR_MIN, draw
from explorer.engine.models.guard import Guard
from explorer.utils.errors import ExplorerError, UserModelError

PROBE = 64  # images or codes run through the model once to learn its shapes and output range


class UserModel(LatentModel):
    """A user's encoder/decoder pair as a LatentModel. It holds their modules without registering them,
    so our .cpu()/.eval()/.to() leave their model where and as it is; it has no weights of its own
    (nothing of it is saved to a checkpoint). Inputs come and go on the CPU (`device`)."""

    device = torch.device("cpu")  # where latent.* hand inputs to it; it moves them on itself

    def __init__(self, encode, decode, owners: list, *, latent_dim: int, code_shape: tuple[int, ...],
                 image_shape: tuple[int, int, int], output: str, flat_output: bool, name: str,
                 returns_stats: bool = False, guard: Guard | None = None, drawn: tuple[int, ...] | None = None):
        super().__init__(config=None)
        self._fns = {"encode": encode, "decode": decode}  # a plain dict: not registered as sub-modules
        self._owners = owners
        self._guard = guard or Guard(name)  # every call into their code goes through it
        self._drawn = drawn  # what the decoder returned per code on the probe: every later decode must match
        self._latent_dim, self.code_shape, self._image_shape = latent_dim, code_shape, image_shape
        self.output, self.flat_output, self.name, self.returns_stats = output, flat_output, name, returns_stats

    @property
    def kind(self) -> str:
        return "gan" if self._fns["encode"] is None else "vae" if self.returns_stats else "ae"

    @property
    def latent_dim(self) -> int:
        return self._latent_dim

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self._image_shape

    @property
    def has_encoder(self) -> bool:
        return self._fns["encode"] is not None

    def describe(self) -> str:
        parts = "encoder and decoder" if self.has_encoder else "decoder only"
        c, h, w = self.image_shape
        return (f"your model ({parts}{', a VAE' if self.returns_stats else ''}), {self.latent_dim}-d "
                f"latent, {'grey' if c == 1 else 'colour'} {h}x{w} images, decoder outputs {self.output}")

    def encode_stats(self, x: torch.Tensor, labels=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(code, log-variance or None) of float images (N, C, H, W)."""
        if not self.has_encoder:
            raise ExplorerError(f"{self.name} has no encoder, so real images cannot be placed on its map")
        return _encode(self._guard, self._fns["encode"], self._owners, x, self.code_shape)

    def encode(self, x, labels=None):
        return self.encode_stats(x)[0]

    def decode(self, z, labels=None):
        out = _decode(self._guard, self._fns["decode"], self._owners, z.reshape(len(z), *self.code_shape))
        return to_unit(as_images(_drawn(out, self.name, len(z), self._drawn), self.image_shape, self.flat_output),
                       self.output)

    def sample_posterior(self, x, labels=None, generator: torch.Generator | None = None) -> torch.Tensor:
        mu, logvar = self.encode_stats(x)
        if logvar is None:
            raise ExplorerError(f"{self.name}'s encoder gives one code per image, not a distribution to sample")
        eps = torch.randn(mu.shape, generator=generator, device=generator.device if generator else "cpu")
        return draw(mu, logvar.clamp(LOGVAR_MIN, LOGVAR_MAX), eps.to(mu.device))

    def losses(self, x, labels=None):
        raise ExplorerError(f"{self.name} is your own model: train it in your code, not in the explorer")

    # our code calls these on every model; the user's model stays where and as they left it
    def cpu(self):
        return self

    def to(self, *args, **kwargs):
        return self

    def eval(self):
        return self


@contextlib.contextmanager
def running(owners: list[nn.Module]):
    """no_grad and eval mode for one call; every sub-module's own training flag restored afterwards."""
    flags = [(m, m.training) for owner in owners for m in owner.modules()]
    try:
        for owner in owners:
            owner.eval()
        with torch.no_grad():
            yield
    finally:
        for m, flag in flags:
            m.training = flag


def _placement(owners) -> tuple[torch.device, torch.dtype]:
    """The device and float dtype of the user's first weight (or buffer): where their model wants inputs."""
    for owner in owners:
        for t in (*owner.parameters(), *owner.buffers()):
            return t.device, t.dtype if t.is_floating_point() else torch.float32
    return torch.device("cpu"), torch.float32


def _run(fn, owners, x: torch.Tensor):
    """fn(x) as the user's model runs here: on the guard's helper thread, in `running`, on its device."""
    with running(owners):
        return fn(x.to(*_placement(owners)))


def _encode(guard: Guard, encode, owners, x: torch.Tensor, code_shape: tuple[int, ...] | None = None):
    out = guard.call(_run, encode, owners, x, what=f"{guard.name}'s encoder",
                     given=f"images of shape {arrays.shape_text(x.shape)}")
    return _split_stats(out, guard.name, len(x), code_shape)


def _decode(guard: Guard, decode, owners, z: torch.Tensor):
    return guard.call(_run, decode, owners, z, what=f"{guard.name}'s decoder",
                      given=f"codes of shape {arrays.shape_text(z.shape)}")


def adapt(model=None, *, encoder=None, decoder=None, images=None, codes=None, output: str = "auto",
          name: str | None = None) -> LatentModel:
    """A LatentModel for `model` (or `encoder`/`decoder`), probed on a few `images` (uint8 or float, any
    of arrays.IMAGE_SHAPES) or, for a decoder alone, `codes` (N, d)."""
    if isinstance(model, LatentModel):
        return model
    if output not in OUTPUTS:
        raise ExplorerError(f"output must be one of {', '.join(OUTPUTS)}, got {output!r}")
    encode, decode, owners = _functions(model, encoder, decoder, codes)
    name = name or (type(model).__name__ if model is not None else
                    getattr(decoder, "__name__", None) or type(decoder).__name__)
    guard = Guard(name)
    stored = arrays.images(images) if images is not None else None
    if encode is not None:
        if stored is None:
            raise ExplorerError(f"{name} has an encoder: give images= to place on the map (codes= is for a "
                                f"decoder alone)")
        x = to_input(stored[:PROBE])
        mu, logvar = _encode(guard, encode, owners, x)
        z, code_shape = mu.reshape(len(mu), -1), tuple(mu.shape[1:])
        if z.shape[1] < 2:
            raise ExplorerError(f"{name}'s encoder gives codes of shape {arrays.shape_text(mu.shape)}; the map "
                                f"needs at least 2 latent dimensions")
        arrays.code_size(z.shape[1], f"{name}'s encoder's codes")
    else:
        z, code_shape = arrays.codes(codes)
        z, logvar = z[:PROBE], None
    z_in = z.reshape(len(z), *code_shape)
    raw = _drawn(_decode(guard, decode, owners, z_in), name, len(z_in), None)
    image_shape, flat = _image_shape(raw, name, stored)
    values = as_images(raw, image_shape, flat)
    return UserModel(encode, decode, owners, latent_dim=z.shape[1], code_shape=code_shape, image_shape=image_shape,
                     output=_output_kind(values) if output == "auto" else output, flat_output=flat, name=name,
                     returns_stats=logvar is not None, guard=guard, drawn=tuple(raw.shape[1:]))


def _functions(model, encoder, decoder, codes):
    """(encode or None, decode, modules whose mode and device matter)."""
    if model is not None and (encoder is not None or decoder is not None):
        raise ExplorerError("give either a model or encoder=/decoder=, not both")
    if model is not None:
        if callable(getattr(model, "encode", None)) and callable(getattr(model, "decode", None)):
            encoder, decoder = model.encode, model.decode
        elif callable(getattr(model, "encoder", None)) and callable(getattr(model, "decoder", None)):
            encoder, decoder = model.encoder, model.decoder
        elif codes is not None:  # a generator: the model itself, or its decode()/decoder
            decoder = getattr(model, "decode", None) or getattr(model, "decoder", None) or model
        else:
            raise ExplorerError(
                f"model: a {type(model).__name__} has neither encode()/decode() methods nor encoder/decoder "
                f"sub-modules; pass encoder= and decoder=, or for a decoder alone decoder= and codes=")
        owners = [model]
    else:
        owners = [m for m in (encoder, decoder) if m is not None]
    if decoder is None or not callable(decoder):
        raise ExplorerError("decoder: give a decoder (an nn.Module or a function of codes (N, d))")
    if encoder is not None and not callable(encoder):
        raise ExplorerError(f"encoder must be an nn.Module or a function, got {type(encoder).__name__}")
    if encoder is not None and codes is not None:
        raise ExplorerError("codes= is for a decoder alone; with an encoder, give images= and the codes are "
                            "computed from them")
    if encoder is None and codes is None:
        raise ExplorerError("a decoder alone needs codes= (N, d): the latent codes to place on the map")
    owners = [m.__self__ if hasattr(m, "__self__") else m for m in owners]
    return encoder, decoder, [m for m in owners if isinstance(m, nn.Module)]


def _split_stats(out, name: str, n: int, code_shape: tuple[int, ...] | None = None):
    """The code (and log-variance) from what an encoder returned: a tensor or a (mu, logvar) pair, one
    code per image, of the probe's shape (`code_shape`, once known), finite."""
    logvar = None
    if isinstance(out, (tuple, list)):
        if len(out) != 2 or not all(isinstance(t, torch.Tensor) for t in out):
            raise UserModelError(f"{name}'s encoder returned {len(out)} values; expected a code (N, d) or "
                                 f"(mu, logvar) of a VAE")
        out, logvar = out
    expected = arrays.shape_text((n, *code_shape)) if code_shape else f"({n}, d)"
    for what, t in (("code", out), ("log-variance", logvar)):
        if t is None and what == "log-variance":
            continue
        if not isinstance(t, torch.Tensor):
            raise UserModelError(f"{name}'s encoder returned a {type(t).__name__}; expected a tensor {expected}")
        if t.is_complex() or t.ndim < 2 or len(t) != n or (code_shape and tuple(t.shape[1:]) != code_shape):
            raise UserModelError(f"{name}'s encoder returned a {what} of shape {arrays.shape_text(t.shape)} "
                                 f"({str(t.dtype).removeprefix('torch.')}) for {n} images; expected {expected}")
    out = out.detach().float().cpu()
    if logvar is not None:
        logvar = logvar.detach().float().cpu().reshape(len(logvar), -1)
        if logvar.shape[1] != out[0].numel() or bool(logvar.isnan().any()):
            raise UserModelError(f"{name}'s encoder returned a log-variance of shape "
                                 f"{arrays.shape_text(logvar.shape)}{' with NaN' if logvar.isnan().any() else ''}; "
                                 f"expected one number for each of the code's {out[0].numel()}, none NaN")
    bad = int((~torch.isfinite(out.reshape(n, -1))).any(1).sum())
    if bad:
        raise UserModelError(f"{name}'s encoder returned NaN or infinite codes for {bad} of {n} images; "
                             f"its weights may not be trained or loaded")
    return out, logvar


def _drawn(out, name: str, n: int, expected: tuple[int, ...] | None):
    """What the decoder returned for n codes, if it is a real tensor of n images of the probe's shape
    (`expected`, once known), all finite; otherwise the UserModelError that says what it returned."""
    if not isinstance(out, torch.Tensor):
        raise UserModelError(f"{name}'s decoder returned a {type(out).__name__}; expected a tensor of images")
    if out.ndim == 0 or len(out) != n or out.is_complex():
        raise UserModelError(f"{name}'s decoder returned shape {arrays.shape_text(out.shape)} "
                             f"({str(out.dtype).removeprefix('torch.')}) for {n} codes; expected {n} real images")
    if expected is not None and tuple(out.shape[1:]) != expected:
        raise UserModelError(f"{name}'s decoder returned shape {arrays.shape_text(out.shape)} for {n} codes; it "
                             f"returned {arrays.shape_text(('N', *expected))} before, and must keep to it")
    if not bool(torch.isfinite(out).all()):
        raise UserModelError(f"{name}'s decoder returned NaN or infinite values for {n} codes; its weights may "
                             f"not be trained or loaded")
    return out


def _image_shape(raw, name: str, stored: torch.Tensor | None) -> tuple[tuple[int, int, int], bool]:
    """(C, H, W) of what the decoder draws, and whether it draws flat rows; checked against the images."""
    given = tuple(to_input(stored[:1]).shape[1:]) if stored is not None else None
    shape = tuple(raw.shape[1:])
    flat = len(shape) == 1
    if flat:
        side = math.isqrt(shape[0])
        found = given if given and math.prod(given) == shape[0] else (1, side, side) if side * side == shape[0] else None
    elif len(shape) == 2:
        found = (1, *shape)
    elif len(shape) == 3 and shape[0] in (1, 3) and shape[2] not in (1, 3):
        found = shape
    elif len(shape) == 3 and shape[2] in (1, 3):
        found = (shape[2], shape[0], shape[1])
    else:
        found = None
    expected = arrays.shape_text(("N", *given)) if given else "(N, C, H, W), (N, H, W, C), (N, H, W) or (N, H*W)"
    if found is None or found[0] not in (1, 3) or not all(MIN_SIDE <= s <= MAX_SIDE for s in found[1:]):
        raise ExplorerError(f"{name}'s decoder returned shape {arrays.shape_text(raw.shape)}; expected {expected} "
                            f"with C 1 or 3 and sides from {MIN_SIDE} to {MAX_SIDE}")
    if given and found != given:
        raise ExplorerError(f"{name}'s decoder draws {arrays.shape_text(('N', *found))} images but the images are "
                            f"{arrays.shape_text(('N', *given))}; they must match")
    return found, flat


def as_images(out, image_shape, flat: bool) -> torch.Tensor:
    """The decoder's output as float32 (N, C, H, W) on the CPU."""
    out = out.detach().float().cpu()
    c, h, w = image_shape
    if flat or out.ndim == 3:
        return out.reshape(len(out), c, h, w)
    if out.shape[1:] != (c, h, w):  # channels last
        out = out.permute(0, 3, 1, 2)
    return out


def _output_kind(values: torch.Tensor) -> str:
    low, high = float(values.min()), float(values.max())
    if low >= -arrays.ROUNDING and high <= 1 + arrays.ROUNDING:
        return "probabilities"
    if low >= -1 - arrays.ROUNDING and high <= 1 + arrays.ROUNDING:
        return "tanh"
    return "logits"


def to_unit(x: torch.Tensor, output: str) -> torch.Tensor:
    """Decoder values -> pixels in [0, 1], by what they are."""
    if output == "logits":
        return torch.sigmoid(x)
    if output == "tanh":
        return ((x + 1) / 2).clamp(0, 1)
    return x.clamp(0, 1)


@dataclass(frozen=True)
class Opened:
    """What `explorer.view(...)` shows: the adapted model and its points, checked and in the app's forms."""

    model: LatentModel
    data: Split | None  # the images (resident uint8) with labels and class names; None for codes alone
    codes: np.ndarray | None  # (N, d) float32 codes given for a decoder alone; None when images are embedded
    labels: torch.Tensor  # (N,) int64, for data or codes
    classes: tuple[str, ...]


def open_user_model(model=None, images=None, labels=None, *, encoder=None, decoder=None, codes=None,
                    output: str = "auto", name: str | None = None) -> Opened:
    """The issue's `view()` arguments, checked: images or codes, labels one per point (ints or class names)."""
    if images is not None and codes is not None:
        raise ExplorerError("give images= (with an encoder) or codes= (for a decoder alone), not both")
    stored = arrays.images(images) if images is not None else None  # once: adapt takes the stored uint8 as they are
    adapted = adapt(model, encoder=encoder, decoder=decoder, images=stored, codes=codes, output=output, name=name)
    if images is None and codes is None:
        raise ExplorerError("give images= to place on the map (or codes= for a decoder alone)")
    z = arrays.codes(codes)[0].numpy() if codes is not None else None
    ints, classes = arrays.labels(labels, len(stored) if stored is not None else len(z))
    data = None if stored is None else Split(images=stored, labels=ints, dataset=adapted.name, split="all",
                                             classes=classes)
    return Opened(adapted, data, z, ints, classes)
