"""One training loop for every model kind, free of Qt.

The dataset stays resident on the device as one float tensor and is shuffled by an index
permutation each epoch: no DataLoader, no per-sample work. Progress goes out through a callback,
a cancel flag is checked between steps, and the weights of the last complete epoch are kept
whenever a run is cancelled or its loss stops being finite.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from explorer.engine import distributed
from explorer.engine.coding import to_input
from explorer.engine.config import WIDE_FROM_DIM, TrainConfig, wide
from explorer.engine.jitter import jitter
from explorer.utils.errors import ExplorerError

# Default (batch size, peak learning rate) per model kind; `explorer bench` measured these (README).
# The MLP VAE trains fastest at 8e-3, but at 1e-2 it collapses to the mean image (206 nats, KL 0),
# and the conv nets already do at 8e-3: conv runs are capped at CONV_MAX_LR.
# The CVAE's label inputs make its steps dearer, so it takes batch 384 at every size: 4.0x the
# reference's speed at batch 256 (5-d), 4.7x and more at 384.
DEFAULTS = {"ae": (256, 3e-3), "vae": (256, 8e-3), "cvae": (384, 8e-3), "gan": (128, 2e-4), "classifier": (256, 2e-3)}
CONV_MAX_LR = 2e-3
# From 10-d up (one hidden layer of 512, config.default_widths), batch 384 at a peak of 4e-3: the
# fastest setting that stays clear of pytorch/examples' recipe at every size. Test loss after 10
# epochs, bf16, quiet (reference recipe in brackets): VAE 20-d 108.3 nats in 3.3 s (110.1 in 18 s);
# batch 256 106.9 in 4.3 s, 128 105.8 in 8.6 s, 512 110.3 in 3.3 s; at 5e-3 109.8. A step costs
# about 2.3 ms whatever its size (casts, Adam, bf16 matrix products' set-up), so fewer, larger
# steps are what make an epoch faster. AE and CVAE the same way (AE 20-d MSE 0.0085 at batch 256).
WIDE_DEFAULTS = (384, 4e-3)
# The CVAE from 5-d to 9-d trains best at a lower peak rate than at 2-d: 5-d, 10 epochs, batch 384:
# 119.1 nats at 5e-3, 120.3 at 4e-3 and 120.4 at 3e-3 (the reference recipe: 121.4); at 8e-3 and
# batch 256, 121.7. (2-d at batch 384, 8e-3: 133.6 against the reference's 138.3.)
CVAE_LR_FROM_5D = 5e-3
# Except for GANs (DCGAN's constant rate keeps G and D in balance), the learning rate stays at its
# peak and then falls linearly to zero over the last DECAY of the run: the high rate makes most of
# the progress, the decay settles the weights (2-d VAE, 10 epochs: 149.4 nats, 151.1 without it).
# No warm-up: the first full-size Adam steps shape the 2-d layout, and a 5% warm-up cost the 2-d
# VAE 3 nats after 12 epochs. Adam's beta2 0.99 (not 0.999) follows the falling rate sooner: one
# epoch less to the same VAE loss.
DECAY = 0.3
BETAS = (0.9, 0.99)
# bf16 autocast on CPUs with native bf16 arithmetic (AVX512-BF16, AMX): its matrix products run 4 to
# 8x faster than float32 on this 2-core CPU; a whole epoch of the 20-d VAE 1.2x (batch 128) to 1.45x
# (batch 256), at the same test loss (105.8 nats either way at batch 128). Only where measured: GANs
# and the classifier stay float32 there.
CPU_BF16_KINDS = ("ae", "vae", "cvae")
MIN_CUDA_BATCH = 16  # below this, an out-of-memory GPU gives way to the CPU


@dataclass
class Progress:
    """One report: after a step (`epoch_done` False) or after a whole epoch (mean losses)."""

    epoch: int  # 1-based epoch this report belongs to
    epochs: int
    step: int  # steps done in this epoch
    steps: int
    losses: dict[str, float]
    seconds: float  # since training started
    epoch_done: bool = False
    note: str = ""  # something the user should read (a fallback, a retry)

    @property
    def fraction(self) -> float:
        return ((self.epoch - 1) + self.step / max(self.steps, 1)) / self.epochs

    @property
    def eta_seconds(self) -> float | None:
        f = self.fraction
        return self.seconds * (1 - f) / f if f > 0 else None


@dataclass
class TrainResult:
    status: str  # "finished" | "cancelled" | "diverged" | "failed" (an error after at least one epoch)
    epochs_done: int
    history: list[dict[str, float]] = field(default_factory=list)  # mean losses per complete epoch
    message: str = ""
    seconds: float = 0.0
    batch_size: int = 0
    device: str = "cpu"
    lr: float = 0.0  # the peak learning rate
    precision: str = "float32"  # or "bfloat16 autocast"

    @property
    def final_losses(self) -> dict[str, float]:
        return self.history[-1] if self.history else {}


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ExplorerError("--device cuda was asked for but no CUDA GPU is available; use --device cpu or auto")
    if name not in ("cpu", "cuda"):
        raise ExplorerError(f"device must be auto, cpu or cuda, got {name!r}")
    return torch.device(name)


def lr_scale(progress: float) -> float:
    """Multiplier of the peak learning rate at `progress` (0 to 1) through the run."""
    return max(0.0, min(1.0, (1.0 - progress) / DECAY))


def defaults_for(kind: str, config: TrainConfig, arch: str = "mlp", latent_dim: int = 2) -> tuple[int, float]:
    """(batch size, peak learning rate): the config's where it sets them, else the defaults."""
    batch, lr = WIDE_DEFAULTS if wide(kind, arch, latent_dim) else DEFAULTS[kind]
    if kind == "cvae" and 5 <= latent_dim < WIDE_FROM_DIM:
        lr = CVAE_LR_FROM_5D
    if arch == "conv":
        lr = min(lr, CONV_MAX_LR)
    return config.batch_size or batch, config.lr or lr


def use_bf16(kind: str, device: torch.device) -> bool:
    """Whether autocast to bf16 pays for this model on this device (when TrainConfig.amp)."""
    if device.type == "cuda":
        return True
    native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)() or \
        getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
    return kind in CPU_BF16_KINDS and native  # elsewhere the CPU emulates bf16, slower than float32


@contextlib.contextmanager
def denormals_flushed():
    """Flush denormal floats to zero on this thread, then restore what was set. While the rate decays,
    Adam's small updates leave denormals, which the CPU handles in microcode: the 20-d VAE's last three
    epochs took 0.57-0.65 s instead of 0.43. Flushed, every epoch takes 0.43 s and the test loss is the
    same to the last digit (106.92 nats)."""
    was = torch.tensor([1e-40]).mul_(2.0).item() == 0.0  # a denormal read as zero: already flushing
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(was)


@denormals_flushed()
def train(
    model: nn.Module,
    images: torch.Tensor,
    config: TrainConfig,
    labels: torch.Tensor | None = None,
    callback: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainResult:
    """Train `model` in place on uint8 `images` (N, H, W) or (N, H, W, 3) of its image shape; return how it ended.

    Whatever the ending, the model holds the weights of its last complete epoch (or its initial
    weights if none completed). An error after at least one complete epoch (out of memory even on
    the CPU, a failing kernel) ends the run as "failed" with that epoch kept; before it, it is
    raised. Under torchrun every rank calls this with the same arguments.
    """
    config.check_data(model.kind, len(images))  # too few images, a batch larger than them: refused before any step
    shape = tuple(to_input(images[:1]).shape[1:])
    if shape != tuple(getattr(model, "image_shape", shape)):
        raise ExplorerError("the images are {}x{}x{} but the model is built for {}x{}x{}".format(*shape, *model.image_shape))
    if getattr(model, "namer", None) is not None:  # a confident GAN learns the classes of real images
        classes = model.config.num_classes
        if labels is None or len(labels) != len(images) or not 0 <= int(labels.min()) <= int(labels.max()) < classes:
            raise ExplorerError(f"a confident GAN (--confident) needs a label from 0 to {classes - 1} for every image")
    kind, arch, latent_dim = model.kind, getattr(getattr(model, "config", None), "arch", "mlp"), \
        getattr(model, "latent_dim", 2)
    batch, lr = defaults_for(kind, config, arch, latent_dim)
    device = resolve_device(config.device)
    ranks = distributed.world()
    if ranks.size > 1 and device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    run = _Run(config, lr, callback or (lambda p: None), should_stop or (lambda: False), time.perf_counter(), ranks)
    torch.manual_seed(config.seed + ranks.rank)  # each rank its own noise, the same for the same world
    order = torch.Generator().manual_seed(config.seed)  # one permutation per epoch, shared by all ranks
    history: list[dict[str, float]] = []
    good = _snapshot(model)
    epoch = 1

    def result(status: str, message: str = "") -> TrainResult:
        model.load_state_dict(good)
        model.eval()
        precision = "bfloat16 autocast" if config.amp and use_bf16(kind, device) else "float32"
        return TrainResult(status, len(history), history, message, time.perf_counter() - run.start, batch,
                           device.type, lr, precision)

    def failed(error: BaseException) -> TrainResult:
        if not history:
            raise error
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return result("failed", f"training stopped: {cause}; kept the weights of epoch {len(history)}")

    while True:  # one pass per device/batch setting; an out-of-memory error restarts the epoch smaller
        try:
            model.to(device).train()
            data = to_input(images, device)
            targets = labels.to(device) if labels is not None else None
            replica = distributed.Replica(model, device) if ranks.size > 1 else model
            optimizers = _optimizers(model, kind, lr)
            step_fn = _make_step(replica, kind, optimizers, device, config)
            scheduled = [] if kind == "gan" else list(optimizers.values())
            for epoch in range(epoch, config.epochs + 1):
                shard = torch.randperm(len(data), generator=order)[ranks.rank :: ranks.size].to(device)
                status, outcome = train_epoch(run, step_fn, scheduled, data, targets, shard, batch, epoch)
                if status != "done":
                    return result(status, outcome)
                history.append(outcome)
                if kind == "gan":
                    model.standing_statistics()
                good = _snapshot(model)
            return result("finished")
        except torch.cuda.OutOfMemoryError:
            if ranks.size > 1:
                raise ExplorerError(f"out of memory at batch size {batch} on rank {ranks.rank}; "
                                    "pass a smaller --batch-size") from None
            # handled below, where the failed step's tensors (held by the traceback) are already freed
        except (ExplorerError, RuntimeError, MemoryError) as e:  # not KeyboardInterrupt: the way out unsaved
            return failed(e)
        model.load_state_dict(good)
        model.eval()  # as every ending leaves it, should nothing smaller be left to try
        data = targets = replica = step_fn = optimizers = scheduled = None  # free the device copies first
        if device.type == "cuda":
            torch.cuda.empty_cache()
        try:
            batch, device, note = _smaller_load(batch, device, epoch, defaults_for(kind, config, arch, latent_dim)[0])
        except ExplorerError as e:
            return failed(e)
        run.report(Progress(epoch, config.epochs, 0, 0, {}, run.seconds(), note=note))


@dataclass(frozen=True)
class _Run:
    """What every epoch of one run needs besides the data."""

    config: TrainConfig
    lr: float  # peak rate
    report: Callable[[Progress], None]
    stop: Callable[[], bool]
    start: float
    ranks: distributed.World

    def seconds(self) -> float:
        return time.perf_counter() - self.start


def train_epoch(run: _Run, step_fn, scheduled, data, targets, shard, batch: int, epoch: int) -> tuple[str, object]:
    """One pass over this rank's `shard` (indices into data): ("done", mean losses), or ("cancelled" |
    "diverged", message). Ranks agree on stopping at every step, so all stop at the same one."""
    epochs, kept = run.config.epochs, epoch - 1
    steps = max(len(shard) // batch, 1)  # drop the ragged last batch: a new permutation each epoch covers it
    device = data.device
    sums: dict[str, torch.Tensor] = {}
    for step in range(steps):
        stop = run.stop()
        if run.ranks.size > 1:
            [stop] = distributed.any_rank(stop, device=device)
        if stop:
            return "cancelled", f"cancelled during epoch {epoch}; kept epoch {kept}"
        for opt in scheduled:
            opt.param_groups[0]["lr"] = run.lr * lr_scale((epoch - 1 + (step + 0.5) / steps) / epochs)
        idx = shard[step * batch : (step + 1) * batch]
        terms = step_fn(data[idx], None if targets is None else targets[idx])
        for k, v in terms.items():
            sums[k] = sums[k] + v if k in sums else v
        if device.type == "cpu" or step + 1 == steps:  # on a GPU, syncing every step costs speed
            losses = {k: float(v) for k, v in terms.items()}
            bad = ", ".join(f"{k}={v}" for k, v in losses.items() if not math.isfinite(v))
            if run.ranks.size > 1:
                [bad] = distributed.any_rank(bool(bad), device=device)
                bad = "on some rank" if bad else ""
            if bad:
                return "diverged", (f"training stopped: loss became non-finite ({bad}) in epoch {epoch}, "
                                    f"step {step + 1}; kept the weights of epoch {kept}; try a lower learning rate")
            run.report(Progress(epoch, epochs, step + 1, steps, losses, run.seconds()))
    means = {k: float(v) / steps for k, v in sums.items()}
    if run.ranks.size > 1:
        means = distributed.mean_over_ranks(means, device)
    if not all(map(math.isfinite, means.values())):
        return "diverged", (f"training stopped: loss became non-finite in epoch {epoch}; "
                            f"kept the weights of epoch {kept}; try a lower learning rate")
    run.report(Progress(epoch, epochs, steps, steps, means, run.seconds(), epoch_done=True))
    return "done", means


def _smaller_load(batch: int, device: torch.device, epoch: int, full_batch: int) -> tuple[int, torch.device, str]:
    """After running out of memory: half the batch, then the CPU (which has room for the full batch)."""
    if batch // 2 >= MIN_CUDA_BATCH:
        return batch // 2, device, f"out of memory; retrying epoch {epoch} with batch size {batch // 2}"
    if device.type != "cpu":
        return full_batch, torch.device("cpu"), (f"GPU out of memory even at batch size {batch}; "
                                                 f"continuing epoch {epoch} on the CPU")
    raise ExplorerError(f"out of memory even at batch size {batch} on the CPU; close other programs and try again")


def _snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _optimizers(model: nn.Module, kind: str, lr: float) -> dict[str, torch.optim.Optimizer]:
    """Adam for each loss the step minimises, by the name of that loss."""
    fused = {"fused": True}  # one kernel for the whole update instead of a dozen per tensor
    if kind == "gan":
        betas = (0.5, 0.999)
        judges = [*model.discriminator.parameters(), *(model.namer.parameters() if model.namer else [])]
        opts = {"d": torch.optim.Adam(judges, lr=lr, betas=betas, **fused),
                "g": torch.optim.Adam(model.generator.parameters(), lr=lr, betas=betas, **fused)}
        if model.config.anchor:  # E learns from G's loss, at G's pace
            opts["g"] = torch.optim.Adam([*model.generator.parameters(), *model.inverter.parameters()], lr=lr,
                                         betas=betas, **fused)
        elif model.inverter is not None:
            opts["inv"] = torch.optim.Adam(model.inverter.parameters(), lr=5 * lr, **fused)
        return opts
    return {"loss": torch.optim.Adam(model.parameters(), lr=lr, betas=BETAS, **fused)}


def _make_step(model: nn.Module, kind: str, optimizers: dict, device: torch.device, config: TrainConfig):
    """A function (x, labels) -> dict of detached loss terms that does one optimisation step."""
    amp = (
        torch.autocast(device.type, dtype=torch.bfloat16)
        if config.amp and use_bf16(kind, device)
        else contextlib.nullcontext()
    )
    if config.compile:
        for child in model.children():
            child.compile()

    if kind == "gan":
        losses = {"d": model.discriminator_loss, "g": model.generator_loss, "inv": model.inversion_loss}

        def gan_step(x, labels):
            terms = {}
            for name, opt in optimizers.items():
                with amp:
                    loss = losses[name](x, labels)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                terms[name] = loss.detach()
            if model.average is not None:
                model.update_average()
            return terms

        return gan_step

    opt = optimizers["loss"]

    def step(x, labels):
        with amp:
            terms = model.losses(x, labels, jitter(x)) if config.jitter else model.losses(x, labels)
        opt.zero_grad(set_to_none=True)
        terms["loss"].backward()
        opt.step()
        return {k: v.detach() for k, v in terms.items()}

    return step


def warm_up() -> None:
    """Import what training imports lazily on its first run: creating the first optimizer imports
    torch._dynamo (about a second here), and the first map statistics numpy.ma. Imports hold the GIL
    in bursts, so a window calls this on a worker before the user starts training, not during it."""
    torch.optim.Adam([nn.Parameter(torch.zeros(1))])
    np.percentile(np.zeros(2), 50)


def run_meta(images: torch.Tensor, dataset: str, config: TrainConfig, result: TrainResult) -> dict:
    """What a checkpoint records about the run that made it (the same from the CLI and the window)."""
    return {
        "dataset": dataset,
        "train_images": len(images),
        # exactly which images: a user can hash their own files' images to compare
        "train_images_sha256": hashlib.sha256(images.numpy().tobytes()).hexdigest(),
        "epochs": result.epochs_done,
        "batch_size": result.batch_size,
        "lr": result.lr,
        "seed": config.seed,
        "device": result.device,
        "precision": result.precision,
        "jitter": config.jitter,
        "world_size": distributed.world().size,  # processes that trained it together (torchrun)
        "train_seconds": round(result.seconds, 1),
        "status": result.status,
        "final_losses": result.final_losses,
    }


def copy_model(model: nn.Module) -> nn.Module:
    """An independent copy (on the CPU) for a reader on another thread while training continues."""
    return copy.deepcopy(model).cpu().eval()
