"""Coding: images to codes and codes to pixels with any model, and where the data's codes lie.

The map is a plane in latent space. For a 2-d latent it is the latent space itself (as in the
lecture); for d > 2 it is the plane through the mean of the test embeddings spanned by two of their
principal axes, and every map point (u, v) stands for the full code origin + u * a1 + v * a2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.data import arrays
from explorer.data.limits import MAX_DATA_BYTES
from explorer.utils.errors import ExplorerError

# Codes further out are decoded at this distance, in the same direction: the pictures stopped
# changing long before (the decoders are piecewise linear until the sigmoid), and near float32's
# largest value (3e38) the decoders' arithmetic overflows to NaN.
MAX_CODE_NORM = 1e6
# Map coordinates (grid ranges, path points) are refused beyond this: far past where codes stop
# changing, and small enough that no float64 step in between overflows.
MAX_MAP_COORD = 1e12
EMBED_BATCH = 4096


@dataclass(frozen=True)
class Plane:
    origin: np.ndarray  # (d,)
    axes: np.ndarray  # (2, d), orthonormal rows

    def to_latent(self, uv: np.ndarray) -> np.ndarray:
        uv = limit_norm(np.asarray(uv, dtype=np.float64).reshape(-1, 2), MAX_MAP_COORD)  # float32 cannot hold 1e300
        return (self.origin + uv @ self.axes).astype(np.float32)

    def project(self, z: np.ndarray) -> np.ndarray:
        return ((np.asarray(z, dtype=np.float64) - self.origin) @ self.axes.T).astype(np.float32)

    def distance(self, z: np.ndarray) -> np.ndarray:
        """How far each code (N, d) lies from the plane: the length of what projecting it leaves out."""
        offset = np.asarray(z, dtype=np.float64).reshape(-1, len(self.origin)) - self.origin
        return np.linalg.norm(offset - (offset @ self.axes.T) @ self.axes, axis=1)

    def prior_circles(self, radii=(1.0, 2.0, 3.0)) -> tuple[np.ndarray, list[tuple[float, float]]]:
        """Where the prior N(0, I) has the density it has at distance r from 0, on this plane: circles
        about the plane's point nearest the origin. Returns that centre (u, v) and (r, radius on the
        plane) for each r the plane reaches (a plane at distance h from 0 cuts the sphere |z| = r in a
        circle of radius sqrt(r^2 - h^2))."""
        centre = -(self.origin @ self.axes.T)  # project(0), in float64
        h2 = max(float(self.origin @ self.origin) - float(centre @ centre), 0.0)
        return centre, [(r, float(np.sqrt(r * r - h2))) for r in radii if r * r > h2]


@dataclass(frozen=True)
class LatentStats:
    """What a checkpoint records about where the data lies in its latent space."""

    mean: np.ndarray  # (d,)
    components: np.ndarray  # (d, d), principal axes as rows, by decreasing variance
    variance: np.ndarray  # (d,)
    bounds: np.ndarray  # (4,) xmin, xmax, ymin, ymax of the data on the default plane

    @property
    def latent_dim(self) -> int:
        return len(self.mean)

    def plane(self, i: int = 0, j: int = 1) -> Plane:
        """The map plane for principal axes i and j; a 2-d latent is shown as it is."""
        d = self.latent_dim
        if not (0 <= i < d and 0 <= j < d and i != j):
            raise ExplorerError(f"axes must be two different numbers from 1 to {d}, got {i + 1} and {j + 1}")
        if d == 2:
            return Plane(np.zeros(2), np.eye(2)[[i, j]])
        return Plane(self.mean.astype(np.float64), self.components[[i, j]].astype(np.float64))

    def ranges(self, spread: float = 4.0, prior: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(low, high) per latent dimension: the mean +- `spread` standard deviations of the data, from
        its covariance components.T @ diag(variance) @ components (at least +-1e-3, so a range is never
        empty). With `prior`, widened to cover +- `spread` too, where N(0, I) puts its samples: a VAE
        leaves some dimensions unused, its codes all near 0 there, while draws from q(z|x) spread wide."""
        std = np.sqrt(np.clip(np.einsum("kd,k,kd->d", self.components, self.variance, self.components), 0, None))
        half = spread * np.maximum(std, 1e-3)
        low, high = self.mean - half, self.mean + half
        if prior:
            low, high = np.minimum(low, -spread), np.maximum(high, spread)
        return low, high

    def explained(self, i: int = 0, j: int = 1) -> float:
        """Share of the embeddings' variance the plane (i, j) shows."""
        total = float(self.variance.sum())
        return float(self.variance[[i, j]].sum() / total) if total > 0 else 0.0


def stats_from_embeddings(z: np.ndarray) -> LatentStats:
    z = np.asarray(z, dtype=np.float64)
    if z.ndim != 2 or len(z) < 2:
        raise ExplorerError("need at least two embeddings to find the data's principal axes")
    mean = z.mean(axis=0)
    variance, vectors = np.linalg.eigh(np.cov(z - mean, rowvar=False))
    order = np.argsort(variance)[::-1]
    variance, components = np.clip(variance[order], 0, None), vectors[:, order].T
    # a fixed sign per axis, so the same model always gives the same map
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    components = components * signs[:, None]
    stats = LatentStats(mean, components, variance, np.zeros(4))
    return LatentStats(mean, components, variance, bounds_of(stats.plane().project(z)))


def bounds_of(uv: np.ndarray) -> np.ndarray:
    """xmin, xmax, ymin, ymax framing map points (N, 2): the central 99% of each axis, a little padded,
    so a few outliers do not shrink the data to a dot."""
    lo, hi = np.percentile(uv, 0.5, axis=0), np.percentile(uv, 99.5, axis=0)
    pad = 0.05 * (hi - lo) + 1e-3
    return np.array([lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]])


def prior_stats(latent_dim: int, spread: float = 3.0) -> LatentStats:
    """For a GAN: its latent space is N(0, I), so the map is two coordinate axes through 0."""
    return LatentStats(
        np.zeros(latent_dim), np.eye(latent_dim), np.ones(latent_dim), np.array([-spread, spread, -spread, spread])
    )


def to_input(images: torch.Tensor | np.ndarray, device=None) -> torch.Tensor:
    """uint8 images as stored and shown, (N, H, W) grey or (N, H, W, 3) colour, -> float (N, C, H, W)
    in [0, 1], the models' input."""
    images = torch.as_tensor(images).to(device)
    x = images.unsqueeze(1) if images.ndim == 3 else images.permute(0, 3, 1, 2)
    return x.float().div_(255)


def to_display(x: np.ndarray) -> np.ndarray:
    """float (N, C, H, W) in [0, 1] -> uint8 (N, H, W) grey or (N, H, W, 3) colour, as images are stored."""
    x = np.rint(np.clip(x, 0, 1) * 255).astype(np.uint8)
    return x[:, 0] if x.shape[1] == 1 else np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def model_device(model) -> torch.device:
    """Where the model wants its inputs: a model that says so (an adapted user model moves them itself),
    else where its first weight lives (the CPU for a model without weights)."""
    if getattr(model, "device", None) is not None:
        return torch.device(model.device)
    first = next(iter(model.parameters()), None)
    return first.device if first is not None else torch.device("cpu")


def embed(model, images: torch.Tensor, labels: torch.Tensor | None = None) -> np.ndarray:
    """Codes (N, d) float32 of uint8 images (N, H, W[, 3]) (the VAE's mean; the GAN's inversion encoder)."""
    if not model.has_encoder:
        raise ExplorerError("this model has no encoder, so real images cannot be placed on its map")
    arrays.check_fits(model, images)
    need = len(images) * model.latent_dim * 4
    if need > MAX_DATA_BYTES:
        raise ExplorerError(f"the codes of {len(images):,} images of {model.latent_dim} dimensions would take "
                            f"{need:,} bytes; at most {MAX_DATA_BYTES:,} are held")
    device = model_device(model)
    out = np.empty((len(images), model.latent_dim), dtype=np.float32)
    with torch.inference_mode():
        for s in range(0, len(images), EMBED_BATCH):
            y = None if labels is None else labels[s : s + EMBED_BATCH].to(device)
            out[s : s + EMBED_BATCH] = model.encode(to_input(images[s : s + EMBED_BATCH], device), y).float().cpu().numpy()
    return out


def sample_posterior(model, images: torch.Tensor, labels: torch.Tensor | None = None, seed: int = 0) -> np.ndarray:
    """One draw z ~ q(z|x) per uint8 image (N, H, W[, 3]) from a VAE's encoder, reproducible by `seed`."""
    if not hasattr(model, "sample_posterior"):
        raise ExplorerError("only a VAE's encoder gives a distribution to sample codes from")
    arrays.check_fits(model, images)
    device = model_device(model)
    generator = torch.Generator(device=device).manual_seed(int(seed))
    y = None if labels is None else torch.as_tensor(labels).to(device)
    with torch.inference_mode():
        z = model.sample_posterior(to_input(images, device), y, generator=generator)
    return z.float().cpu().numpy()


def check_codes(z, latent_dim: int) -> np.ndarray:
    """Codes as float64 (N, d), or a clear error for the wrong shape or a value that is not finite."""
    z = np.asarray(z, dtype=np.float64)
    if z.ndim == 1:
        z = z[None]
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ExplorerError(f"latent codes must have {latent_dim} values each, got shape {tuple(z.shape)}")
    if not np.isfinite(z).all():
        raise ExplorerError("latent codes must be finite numbers (no NaN or infinity)")
    return z


def limit_norm(z: np.ndarray, limit: float = MAX_CODE_NORM) -> np.ndarray:
    """Finite codes (N, d), each further than `limit` from the origin moved in to `limit` along its direction."""
    peak = np.abs(z).max(axis=1, keepdims=True)
    unit = np.divide(z, peak, out=np.zeros_like(z), where=peak > 0)  # scaled first: squares of 1e200 overflow
    size = np.linalg.norm(unit, axis=1, keepdims=True)
    with np.errstate(over="ignore"):  # inf > limit is the right answer
        far = peak * size > limit
    return np.where(far, unit / np.where(size > 0, size, 1) * limit, z)


def decode_float(model, z, labels=None) -> np.ndarray:
    """float32 images (N, C, H, W) in [0, 1] for codes (N, d), (C, H, W) the model's image shape; any finite
    code decodes.
    Conditional models need one label per code (or one for all)."""
    x = np.empty((len(z), *model.image_shape), dtype=np.float32)
    for s, batch in _decoded(model, z, labels):
        x[s : s + len(batch)] = batch
    return x


def decode(model, z, labels=None) -> np.ndarray:
    """uint8 images (N, H, W) grey or (N, H, W, 3) colour for codes (N, d); see decode_float. Made a batch
    at a time: a million 28x28 codes take their 0.8 GB of pixels, not 3 GB of floats and their copies."""
    c, h, w = model.image_shape
    x = np.empty((len(z), h, w) if c == 1 else (len(z), h, w, c), dtype=np.uint8)
    for s, batch in _decoded(model, z, labels):
        x[s : s + len(batch)] = to_display(batch)
    return x


def _decoded(model, z, labels):
    """(start, float32 (n, C, H, W) decodes) for codes z, EMBED_BATCH at a time."""
    z = np.asarray(z)
    z = z[None] if z.ndim == 1 else z
    check_codes(z[:0], model.latent_dim)  # the shape, before any work; the values a batch at a time
    device = model_device(model)
    if labels is not None:
        labels = torch.as_tensor(np.broadcast_to(np.asarray(labels, dtype=np.int64), (len(z),)).copy())
    elif model.conditional:
        raise ExplorerError("this model decodes with a label; choose which digit to draw")
    with torch.inference_mode():
        for s in range(0, len(z), EMBED_BATCH):
            y = None if labels is None else labels[s : s + EMBED_BATCH].to(device)
            codes = limit_norm(check_codes(z[s : s + EMBED_BATCH], model.latent_dim)).astype(np.float32)
            x = model.decode(torch.from_numpy(codes).to(device), y).float().cpu().numpy()
            if not np.isfinite(x).all():
                raise ExplorerError("the model decoded these codes to pixels that are not numbers; its weights "
                                    "may be damaged")
            yield s, x


def infer_stats(model, images: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> LatentStats:
    """Where the data lies: from the embeddings of `images` (the test split), or, for a GAN or
    when there is nothing to embed, from the prior N(0, I)."""
    if model.kind == "gan" or not model.has_encoder or images is None:
        return prior_stats(model.latent_dim)
    return stats_from_embeddings(embed(model, images, labels))
