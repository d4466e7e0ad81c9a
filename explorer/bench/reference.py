"""`explorer bench --only reference`: our defaults against pytorch/examples' vae/main.py recipe at
every latent size.

The reference is our own code of that recipe: a 784-400-d MLP (ReLU; for the VAE two d-wide heads
for mu and log sigma^2, for the CVAE the one-hot label joined to the input and to the code),
torchvision's MNIST through ToTensor and a DataLoader (batch 128, shuffled), Adam at 1e-3, summed
BCE + KL (VAE, CVAE) or pixel MSE (AE), 10 epochs. Ours is `explorer train --model KIND
--latent-dim d --epochs 10` with nothing else set. Epochs alternate, one of the reference after
each of ours, so both see the same machine load; reading the data, building the models and
test evaluation are off both clocks.
"""

from __future__ import annotations

import time
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from explorer.bench import training
from explorer.bench.harness import Row, Settings, bench_split
from explorer.data.datasets import data_root
from explorer.engine.config import ModelConfig, TrainConfig
from explorer.engine.models import build_model
from explorer.engine.models.base import LatentModel
from explorer.engine.training import train, warm_up
from explorer.latent import metrics

LATENT_DIMS = (2, 5, 10, 20, 32)
KINDS = ("vae", "ae", "cvae")
EPOCHS = 10
HIDDEN = 400


class ReferenceNet(LatentModel):
    """pytorch/examples' VAE (fc1, fc21, fc22, fc3, fc4), and the AE and CVAE made the same way;
    it answers to metrics.elbo and metrics.reconstruction like our models."""

    def __init__(self, config: ModelConfig):
        super().__init__(config)
        c = config.num_classes if config.kind == "cvae" else 0
        self.conditional = c > 0
        d = config.latent_dim
        self.fc1, self.fc21 = nn.Linear(784 + c, HIDDEN), nn.Linear(HIDDEN, d)
        self.fc22 = nn.Linear(HIDDEN, d) if config.kind != "ae" else None
        self.fc3, self.fc4 = nn.Linear(d + c, HIDDEN), nn.Linear(HIDDEN, 784)

    def _cond(self, labels):
        return F.one_hot(labels.long(), self.config.num_classes).float() if self.conditional else None

    def _join(self, h, labels):
        return h if not self.conditional else torch.cat([h, self._cond(labels)], dim=1)

    def encode_stats(self, x, labels=None):
        h = F.relu(self.fc1(self._join(x.flatten(1), labels)))
        return self.fc21(h), self.fc22(h)

    def encode(self, x, labels=None):
        return self.fc21(F.relu(self.fc1(self._join(x.flatten(1), labels))))

    def decoder(self, z, cond=None):  # logits; cond: the one-hot label, as our decoders take it
        h = z if cond is None else torch.cat([z, cond], dim=1)
        return self.fc4(F.relu(self.fc3(h))).view(-1, 1, 28, 28)

    def decode(self, z, labels=None):
        return torch.sigmoid(self.decoder(z, self._cond(labels)))

    def losses(self, x, labels=None):
        if self.config.kind == "ae":
            recon = F.mse_loss(self.decode(self.encode(x, labels), labels), x)
            return {"loss": recon}
        mu, logvar = self.encode_stats(x, labels)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        bce = F.binary_cross_entropy_with_logits(self.decoder(z, self._cond(labels)), x, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return {"loss": (bce + kld) / len(x)}  # per image: the same gradient direction as the sum


def compare(kind: str, latent_dim: int, train_split, test, root, s: Settings, epochs: int = EPOCHS) -> Row:
    warm_up()  # the lazy imports of a first optimizer: a cost of starting, the same for both, off both clocks
    reference = training.tutorial_loop(partial(ReferenceNet, ModelConfig(kind=kind, latent_dim=latent_dim)), root)
    ref_seconds: list[float] = []
    ref_model = [None]

    def reference_epoch():
        t = time.perf_counter()
        ref_model[0] = next(reference)
        ref_seconds.append(time.perf_counter() - t)

    ours = build_model(ModelConfig(kind=kind, latent_dim=latent_dim), seed=0)
    our_seconds: list[float] = []
    clock = [time.perf_counter()]

    def on_epoch(p):
        if p.epoch_done:
            our_seconds.append(time.perf_counter() - clock[0])
            reference_epoch()
            clock[0] = time.perf_counter()

    result = train(ours, train_split.images, TrainConfig(epochs=epochs, device="cpu"), labels=train_split.labels,
                   callback=on_epoch)
    while len(ref_seconds) < epochs:
        reference_epoch()
    mine, theirs = metrics.held_out_loss(ours, kind, test), metrics.held_out_loss(ref_model[0], kind, test)
    speed = sum(ref_seconds) / sum(our_seconds)
    unit = "mse" if kind == "ae" else "nats"
    s.log(f"reference {kind} d={latent_dim}: ours {mine:.5g} in {sum(our_seconds):.1f} s, "
          f"reference {theirs:.5g} in {sum(ref_seconds):.1f} s")
    return Row(f"reference.{kind}.{latent_dim}", f"{kind.upper()} d={latent_dim}: test "
               f"{'pixel MSE' if kind == 'ae' else '−ELBO, nats/image'}", unit, mine, theirs, speed,
               "≤ reference, ≥ 4× faster", mine <= theirs and speed >= 4.0,
               ours_note=f"({sum(our_seconds):.1f} s, batch {result.batch_size}, lr {result.lr:g})",
               reference_note=f"({sum(ref_seconds):.1f} s)",
               extra={"ours_seconds": our_seconds, "reference_seconds": ref_seconds})


def part_reference(s: Settings) -> list[Row]:
    train_split, test, root = bench_split(s, "train"), bench_split(s, "test"), data_root(s.data_dir)
    kinds, dims = (("vae",), (2, 20)) if s.quick else (KINDS, LATENT_DIMS)
    rows = [compare(kind, d, train_split, test, root, s) for kind in kinds for d in dims]
    rows[0].note = ("ratio: reference wall time ÷ ours over the 10 epochs, interleaved epoch by epoch; reference: "
                    "784-400-d MLP, DataLoader(torchvision MNIST, ToTensor, batch 128, shuffle), Adam 1e-3, "
                    "BCE summed + KL (AE: MSE); ours: explorer train --model KIND --latent-dim d --epochs 10")
    return rows
