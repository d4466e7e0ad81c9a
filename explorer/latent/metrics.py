"""How good a model is, on the test split: the figures `explorer evaluate` prints."""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from explorer.data import arrays
from explorer.data.datasets import Split
from explorer.engine import coding
from explorer.engine.models.gaussian import draw, kl_to_prior
from explorer.latent import geometry
from explorer.utils.errors import ExplorerError

BATCH = 2000
# importance-sampled NLL: K = 100 draws by default. On 1,000 test images the shipped 2-d VAE gives
# 141.9 (-ELBO), 139.7 (K = 10), 138.7 (100), 138.1 (1000): the last 0.6 nats cost ten times the
# time. 20,000 decodes at once (63 MB of logits).
NLL_SAMPLES = 100
NLL_BATCH = 200
NLL_DECODES = 20_000
LOG_2PI = math.log(2 * math.pi)


@torch.no_grad()
def reconstruction(model, split: Split) -> dict[str, float]:
    """Mean pixel MSE and Bernoulli NLL (BCE summed over pixels, nats/image) of encode -> decode."""
    mse = bce = 0.0
    for x, y in _batches(model, split):
        xh = model.decode(model.encode(x, y), y).float().clamp(1e-6, 1 - 1e-6)
        mse += F.mse_loss(xh, x, reduction="sum").item()
        bce += F.binary_cross_entropy(xh, x, reduction="sum").item()
    n = len(split)
    return {"recon_mse": mse / (n * math.prod(model.image_shape)), "recon_bce": bce / n}


@torch.no_grad()
def elbo(model, split: Split, samples: int = 1, seed: int = 0) -> dict[str, float]:
    """Test ELBO in nats per image under a Bernoulli likelihood on grey values (as Keras' VAE
    example): E_q[log p(x|z)] - KL(q(z|x) || N(0, I)), E_q by `samples` draws (seeded)."""
    gen = torch.Generator(device=coding.model_device(model)).manual_seed(seed)
    rec = kl = 0.0
    for x, y in _batches(model, split):
        mu, logvar = model.encode_stats(x, y)
        kl += kl_to_prior(mu, logvar).sum().item()
        for _ in range(samples):
            eps = torch.randn(mu.shape, generator=gen, device=mu.device)
            logits = model.decoder(draw(mu, logvar, eps), model._cond(y))
            rec += F.binary_cross_entropy_with_logits(logits, x, reduction="sum").item() / samples
    n = len(split)
    return {"elbo": -(rec + kl) / n, "elbo_recon": rec / n, "elbo_kl": kl / n}


def held_out_loss(model, kind: str, split: Split) -> float:
    """The loss a model of this kind trains on, over `split` (the test split): AE pixel MSE, VAE and
    CVAE negative ELBO per image (one posterior draw per image from a fixed seed)."""
    was_training = model.training
    model.eval()
    try:
        return reconstruction(model, split)["recon_mse"] if kind == "ae" else -elbo(model, split, seed=0)["elbo"]
    finally:
        model.train(was_training)


@torch.no_grad()
def importance_nll(model, split: Split, samples: int = NLL_SAMPLES, seed: int = 0) -> dict[str, float]:
    """-log p(x) in nats per image by importance sampling with q(z|x) as the proposal (Burda et al.,
    2016): -log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x), K = `samples` (seeded).

    Per image the log of a mean is at least the mean of the logs, so the estimate is never above the
    K-draw -ELBO of the same draws, and it falls towards -log p(x) as K grows. Same likelihood as
    `elbo` (Bernoulli on grey values)."""
    if not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    gen = torch.Generator(device=coding.model_device(model)).manual_seed(seed)
    total = 0.0
    chunk = max(1, NLL_DECODES // NLL_BATCH)  # draws decoded at once per image
    for x, y in _batches(model, split, NLL_BATCH):
        mu, logvar = (t.float() for t in model.encode_stats(x, y))
        std = torch.exp(0.5 * logvar)
        log_w = []
        for s in range(0, samples, chunk):
            k = min(chunk, samples - s)
            eps = torch.randn((k, *mu.shape), generator=gen, device=mu.device)
            z = mu + std * eps  # (k, B, d)
            cond = None if y is None else y.repeat(k)
            logits = model.decoder(z.flatten(0, 1), model._cond(cond)).float()
            target = x.expand(k, *x.shape).flatten(0, 1)
            log_px = -F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)
            log_pz = -0.5 * (z.pow(2) + LOG_2PI).sum(-1)
            log_qz = -0.5 * (eps.pow(2) + LOG_2PI + logvar).sum(-1)
            log_w.append(log_px.view(k, -1) + log_pz - log_qz)
        log_w = torch.cat(log_w)  # (K, B)
        total += -(torch.logsumexp(log_w, 0) - math.log(samples)).double().sum().item()
    return {"nll": total / len(split), "nll_samples": samples}


def knn_accuracy(train_z: np.ndarray, train_y: np.ndarray, test_z: np.ndarray, test_y: np.ndarray, k: int = 5) -> float:
    """Share of test codes whose k nearest train codes vote for the right label."""
    train_labels = torch.as_tensor(np.asarray(train_y), dtype=torch.long)
    classes = int(train_labels.max()) + 1 if len(train_labels) else 1
    _, nearest = geometry.nearest_each(torch.as_tensor(np.asarray(train_z)), torch.as_tensor(np.asarray(test_z)), k)
    votes = F.one_hot(train_labels[torch.from_numpy(nearest)], classes).sum(dim=1)
    return (votes.argmax(dim=1) == torch.as_tensor(np.asarray(test_y))).sum().item() / len(test_z)


def confidence(classifier, images: np.ndarray) -> np.ndarray:
    """The classifier's top softmax probability for each uint8 image (N, 28, 28)."""
    return judge(classifier, images)[0]


@torch.no_grad()
def judge(classifier, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(top softmax probability, the digit it names) for each uint8 image (N, 28, 28)."""
    if tuple(np.shape(images)[1:]) != (28, 28):
        raise ExplorerError(f"the digit classifier judges grey 28x28 images; these are {np.shape(images)[1:]}")
    top, digit = [np.zeros(0, dtype=np.float32)], [np.zeros(0, dtype=np.int64)]
    for s in range(0, len(images), BATCH):
        x = coding.to_input(images[s : s + BATCH], coding.model_device(classifier))
        p, k = classifier(x).softmax(dim=1).max(dim=1)
        top.append(p.float().cpu().numpy())
        digit.append(k.cpu().numpy())
    return np.concatenate(top), np.concatenate(digit)


def prior_grid(model, classifier, n: int = 12, spread: float = 2.0, threshold: float = 0.9) -> dict:
    """What a generator draws over its prior: the n x n grid over +-spread sigma of the first two axes
    (the rest 0), the share of decodes the classifier names with confidence >= threshold, and which
    digits those are."""
    plane = coding.prior_stats(model.latent_dim).plane()
    top, digit = _judge_grid(model, classifier, plane, (-spread, spread, -spread, spread), n)
    clean = top >= threshold
    return {"prior_grid_clean": float(clean.mean()), "prior_grid_digits": sorted({int(d) for d in digit[clean]})}


def decodability(model, classifier, plane: coding.Plane, bounds, n: int = 12, threshold: float = 0.9,
                 label: int | None = None) -> float:
    """Share of the n x n grid over `bounds` whose decodes the classifier names with confidence >= threshold."""
    return float((_judge_grid(model, classifier, plane, bounds, n, label)[0] >= threshold).mean())


def map_decodability(model, classifier, stats: coding.LatentStats) -> float:
    """decodability() of the 12 x 12 grid over where the test codes lie on the principal plane; for a
    conditional model, averaged over the ten labels its decoder can be given."""
    plane = stats.plane()
    if model.conditional:
        return float(np.mean([decodability(model, classifier, plane, stats.bounds, label=c) for c in range(10)]))
    return decodability(model, classifier, plane, stats.bounds)


def _judge_grid(model, classifier, plane: coding.Plane, bounds, n: int, label: int | None = None):
    """judge() of the decodes of the n x n grid over `bounds` on `plane`."""
    return judge(classifier, coding.decode(model, plane.to_latent(geometry.grid_coords(n, bounds)), label))


@torch.no_grad()
def features(classifier, images: np.ndarray) -> np.ndarray:
    out = []
    for s in range(0, len(images), BATCH):
        x = coding.to_input(images[s : s + BATCH], coding.model_device(classifier))
        out.append(classifier.features(x).double().cpu().numpy())
    return np.concatenate(out)


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """|mu_a - mu_b|^2 + tr(Sa + Sb - 2 (Sa Sb)^1/2) between Gaussians fitted to two feature sets."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    sa, sb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    # tr((Sa Sb)^1/2) = sum of sqrt of eigenvalues of Sa^1/2 Sb Sa^1/2 (symmetric, so eigh is stable)
    w, v = np.linalg.eigh(sa)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ sb @ root_a), 0, None)).sum()
    return float(np.sum((mu_a - mu_b) ** 2) + np.trace(sa) + np.trace(sb) - 2 * cross)


def evaluate(ckpt, test: Split, train: Split | None = None, classifier=None, samples: int = 10_000,
             seed: int = 0, nll_samples: int = NLL_SAMPLES) -> dict:
    """Every figure that applies to this checkpoint's model (`samples`: the GAN's draws for the Frechet
    distance; `nll_samples`: K of the VAEs' importance-sampled NLL, 0 to leave it out)."""
    model, stats = ckpt.model, ckpt.stats
    result: dict = {"model": ckpt.name, "kind": model.kind, "latent_dim": model.latent_dim,
                    "test_images": len(test)}
    if model.has_encoder:
        result.update(reconstruction(model, test))
        if model.kind in ("vae", "cvae"):
            result.update(elbo(model, test, seed=seed))
            if nll_samples:
                result.update(importance_nll(model, test, nll_samples, seed=seed))
            result["likelihood"] = "Bernoulli on grey values (binary cross-entropy), nats per image"
        if train is not None:
            result["knn5_accuracy"] = knn_accuracy(
                coding.embed(model, train.images, train.labels), train.labels.numpy(),
                coding.embed(model, test.images, test.labels), test.labels.numpy(),
            )
    if classifier is not None and stats is not None:
        result["decodability"] = map_decodability(model, classifier, stats)
        result["decodability_grid"] = {"n": 12, "bounds": [round(float(b), 4) for b in stats.bounds], "threshold": 0.9}
        if model.kind == "gan":
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                z = torch.randn(samples, model.latent_dim).numpy()
            fake = features(classifier, coding.decode(model, z))
            result["frechet_distance"] = frechet_distance(fake, features(classifier, test.images.numpy()))
            result.update(prior_grid(model, classifier))
    return result


def _batches(model, split: Split, batch: int = BATCH):
    arrays.check_fits(model, split.images)
    device = coding.model_device(model)
    for s in range(0, len(split), batch):
        x = coding.to_input(split.images[s : s + batch], device)
        y = split.labels[s : s + batch].to(device) if model.conditional else None
        yield x, y
