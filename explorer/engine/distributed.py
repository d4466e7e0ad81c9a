"""Training one model on several processes: `torchrun --nproc-per-node N -m explorer train ...`.

torchrun starts N copies of the command and tells each its RANK, LOCAL_RANK and WORLD_SIZE. Each
process holds the whole data set and trains on its own shard of every epoch's permutation;
DistributedDataParallel averages the gradients over the processes (NCCL between GPUs, gloo between
CPU processes). Anything that ends a run early (a cancel, a non-finite loss) is agreed on by all
ranks at the same step, so no rank waits forever for the others. The window never uses this.
"""

from __future__ import annotations

import contextlib
import gc
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from explorer.utils.errors import ExplorerError

# a rank that died leaves the others waiting in a collective: gloo and NCCL give up after this
TIMEOUT = timedelta(minutes=2)


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def leader(self) -> bool:
        return self.rank == 0


def world() -> World:
    """This process's place among the training processes ((0, 1) outside torchrun)."""
    if dist.is_available() and dist.is_initialized():
        return World(dist.get_rank(), dist.get_world_size())
    return World()


def launched() -> bool:
    """Whether torchrun (or another launcher that sets its variables) started this process."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


@contextlib.contextmanager
def session(device: str = "auto"):
    """Join the process group torchrun set up (a no-op outside torchrun); yields the World and the
    device this rank trains on: its own GPU (LOCAL_RANK) under NCCL, else the CPU under gloo."""
    if not launched():
        yield World(), device
        return
    use_cuda = device != "cpu" and torch.cuda.is_available()
    if device == "cuda" and not use_cuda:
        raise ExplorerError("--device cuda was asked for but no CUDA GPU is available; use --device cpu or auto")
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group("nccl" if use_cuda else "gloo", timeout=TIMEOUT)
    try:
        yield world(), "cuda" if use_cuda else "cpu"
        # leave together: the other ranks return while rank 0 still writes the checkpoint, and a rank
        # that tore its group down first was seen to abort (SIGABRT) at exit, failing the whole run
        dist.barrier()
    finally:
        # DDP's reducer keeps the group alive through reference cycles; left to the interpreter's
        # exit, gloo's threads were destroyed still joinable ("terminate called without an active
        # exception", SIGABRT) in 1 run of 6. Collect it while the group can still shut down cleanly.
        gc.collect()
        dist.destroy_process_group()


def any_rank(*flags: bool, device: torch.device) -> list[bool]:
    """For each flag: whether it is set on any rank (one all-reduce for all of them)."""
    t = torch.tensor([float(f) for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v) for v in t.tolist()]


def mean_over_ranks(values: dict[str, float], device: torch.device) -> dict[str, float]:
    t = torch.tensor(list(values.values()), dtype=torch.float64 if device.type == "cpu" else torch.float32,
                     device=device)
    dist.all_reduce(t)
    return dict(zip(values, (t / dist.get_world_size()).tolist()))


class _Losses(nn.Module):
    """The model's loss methods as one forward(), which is what DDP hooks into."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, name: str, *args):
        return getattr(self.model, name)(*args)


class Replica:
    """Stands in for the model in a training step: the same loss methods, run through DDP so that
    the backward pass averages the gradients over all ranks."""

    def __init__(self, model: nn.Module, device: torch.device):
        self.model = model
        # a GAN's losses each use only some of its parts (D's loss leaves G and E without gradients)
        self.ddp = nn.parallel.DistributedDataParallel(
            _Losses(model), device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=model.kind == "gan")

    def __getattr__(self, name):
        if name in ("losses", "discriminator_loss", "generator_loss", "inversion_loss"):
            return lambda *args: self.ddp(name, *args)
        return getattr(self.model, name)
