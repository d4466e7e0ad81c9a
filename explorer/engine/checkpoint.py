"""Checkpoints: one .safetensors file holding the weights, what the data looks like in latent
space, and metadata (JSON in the header) saying what the model is and what it saw.

Loading never unpickles anything. The header is checked byte by byte before any tensor is read,
the metadata and every tensor's shape are checked against the model the metadata describes, and
only then is a new model built; a bad file raises ExplorerError and touches no existing state.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from explorer.engine import timeline, trained
from explorer.engine.checkpoint_header import (
    FORMAT,
    FORMAT_VERSION,
    WEIGHT_DTYPES,
    parse_header,
    parse_metadata,
    require,
)
from explorer.engine.coding import MAX_CODE_NORM, LatentStats
from explorer.engine.config import KIND_NAMES, ModelConfig
from explorer.engine.models import Classifier, build_model
from explorer.engine.timeline import Timeline
from explorer.utils.errors import ExplorerError
from explorer.utils.files import atomic_write
from explorer.utils.version import __version__
from explorer.utils.wording import count

SUFFIX = ".safetensors"
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin")
MAX_FILE = 1 << 30
_STATS = ("mean", "components", "variance", "bounds")
STATS_ORTHONORMAL_TOLERANCE = 1e-3  # float32 principal axes are orthonormal to about 1e-6
MIN_MAP_WIDTH = 1e-3  # coding.bounds_of pads every side by at least this much


@dataclass
class Checkpoint:
    model: torch.nn.Module  # a LatentModel, or the Classifier
    meta: dict
    stats: LatentStats | None = None
    path: Path | None = None
    timeline: Timeline | None = None  # the test sample's codes after each epoch of the run

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def name(self) -> str:
        return self.path.stem if self.path else "untitled"

    def describe(self) -> str:
        """One line for lists: kind, latent size, data, loss."""
        m = self.meta
        if "model" in m:
            parts = [ModelConfig.from_dict(m["model"]).describe()]
        else:  # the digit classifier, or a script's own model (which says what it is)
            parts = [getattr(self.model, "describe", lambda: KIND_NAMES.get(m["kind"], m["kind"]))()]
        if "train_images" in m or "epochs" in m:
            parts.append(f"{m.get('dataset', '?')}, {count(m.get('train_images', 0), 'image')}, "
                         f"{count(m.get('epochs', 0), 'epoch')}")
        loss = m.get("final_losses", {}).get("loss")
        if loss is not None:
            parts.append(f"loss {loss:.4g}")
        return " · ".join(parts)


def save(path: str | os.PathLike, model: torch.nn.Module, meta: dict | None = None,
         stats: LatentStats | None = None, weights_dtype: str = "float32", timeline: Timeline | None = None,
         say: Callable[[str], None] = lambda text: None) -> Path:
    """Write model + stats + metadata (+ the run's timeline) atomically; `meta` adds training facts
    (dataset, epochs, ...). Statistics or a timeline that load() would refuse are left out, and `say`
    told why: the weights are what a run is for, and are never lost to what was measured of them."""
    from safetensors.torch import save as to_bytes

    if weights_dtype not in WEIGHT_DTYPES:
        raise ExplorerError(f"weights dtype must be one of {', '.join(WEIGHT_DTYPES)}, got {weights_dtype!r}")
    info = dict(meta or {})
    info.update(
        app_version=__version__,
        kind=model.kind,
        weights_dtype=weights_dtype,
        created=info.get("created") or dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    if model.kind != "classifier":
        info["model"] = model.config.to_dict()
        if model.kind == "gan":
            info["has_inversion_encoder"] = model.has_encoder
    dtype = WEIGHT_DTYPES[weights_dtype][1]
    tensors = {f"model.{k}": v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    stats, timeline = _keepable(stats, timeline, say)
    if stats is not None:
        for name in _STATS:
            tensors[f"stats.{name}"] = torch.as_tensor(np.asarray(getattr(stats, name)), dtype=torch.float32)
    if timeline is not None:
        tensors.update(timeline.tensors())
    for name, t in tensors.items():  # load() refuses such a file: never write one
        if not bool(torch.isfinite(t).all()):
            source = model.state_dict()[name[len("model."):]] if name.startswith("model.") else t
            problem = ("holds NaN or infinite values" if not bool(torch.isfinite(source).all()) else
                       f"has values too large for {weights_dtype}; save it as float32")
            raise ExplorerError(f"cannot write {path}: tensor {name} {problem}")
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "explorer": json.dumps(info, sort_keys=True)}
    return atomic_write(path, lambda f: f.write(to_bytes(tensors, metadata=header)), (SUFFIX,))


def storable_dtype(model: torch.nn.Module, weights_dtype: str, say: Callable[[str], None]) -> str:
    """`weights_dtype`, or float32 (said) when a finite weight lies beyond its range: a finished run is
    kept at twice the size rather than refused."""
    limit = torch.finfo(WEIGHT_DTYPES[weights_dtype][1]).max
    if any(bool((v.detach().abs() > limit).any()) for v in model.state_dict().values() if v.is_floating_point()):
        say(f"weights beyond {weights_dtype}'s range ({limit:.4g}) are stored as float32")
        return "float32"
    return weights_dtype


def _keepable(stats: LatentStats | None, recorded: Timeline | None, say) -> tuple:
    """(stats, timeline), each as given or None where the file could not hold it."""
    if stats is not None:
        try:
            if not all(np.isfinite(getattr(stats, name)).all() for name in _STATS):
                raise ExplorerError("they hold NaN or infinite values")
            _check_stats(stats, "the latent statistics")
        except ExplorerError as e:
            say(f"the latent statistics were not saved ({e}); they are measured again on the data when the "
                f"file is opened")
            stats = None
    if recorded is not None and not np.isfinite(recorded.codes).all():
        say("the training timeline was not saved: its codes hold NaN or infinite values")
        recorded = None
    return stats, recorded


def load(path: str | os.PathLike, expect: str | None = None) -> Checkpoint:
    """Read and fully validate a checkpoint; raise ExplorerError naming the file and the problem.
    `expect` "latent" refuses the digit classifier, "classifier" refuses anything else. A bare name that
    is no file here (`load("vae-2d-mlp")`) is the shipped model of that name, from any folder."""
    path = Path(trained.find(os.fspath(path))).expanduser()
    where = str(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ExplorerError(f"{where}: refused: {path.suffix} files are Python pickles, and unpickling a file can "
                            f"run any code; only .safetensors checkpoints are opened")
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ExplorerError(f"{where}: not a file")
        if size > MAX_FILE:
            raise ExplorerError(f"{where}: {size:,} bytes is far larger than any checkpoint")
        raw = path.read_bytes()
    except (OSError, ValueError) as e:  # ValueError: a NUL byte in the name
        raise ExplorerError(f"{where}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    header, metadata = parse_header(raw, where)
    meta = parse_metadata(metadata, where)
    if expect is not None and (meta["kind"] == "classifier") != (expect == "classifier"):
        found = "the digit classifier" if meta["kind"] == "classifier" else f"a {KIND_NAMES[meta['kind']]}"
        wanted = "a digit classifier" if expect == "classifier" else "a latent model (AE, VAE or GAN)"
        raise ExplorerError(f"{where}: this is {found}, not {wanted}")
    model = _build(meta, where)
    weights_code = WEIGHT_DTYPES[meta["weights_dtype"]][0]
    expected = {f"model.{k}": tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k for k in header if k.startswith("model.")}
    require(not (missing := sorted(set(expected) - found)), where, f"missing tensors for this {meta['kind']}: "
             f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
    require(not (extra := sorted(set(header) - set(expected) - {f"stats.{s}" for s in _STATS} - set(timeline.KEYS))),
             where,
             f"unexpected tensors {', '.join(extra[:3])}{' ...' if len(extra) > 3 else ''}")
    for name, shape in expected.items():
        got = tuple(header[name]["shape"])
        require(got == shape, where, f"tensor {name} has shape {list(got)}, but this model needs {list(shape)}")
        require(header[name]["dtype"] == weights_code, where,
                 f"tensor {name} is {header[name]['dtype']}, but the metadata says {meta['weights_dtype']}")
    has_stats = [f"stats.{s}" in header for s in _STATS]
    require(all(has_stats) or not any(has_stats), where, "latent statistics are incomplete")
    if any(has_stats):
        d = getattr(model, "latent_dim", 0)
        for name, shape in zip(_STATS, ((d,), (d, d), (d,), (4,))):
            info = header[f"stats.{name}"]
            require(tuple(info["shape"]) == shape and info["dtype"] == "F32", where,
                     f"tensor stats.{name} should be F32 {list(shape)}, got {info['dtype']} {info['shape']}")
    _check_timeline(header, getattr(model, "latent_dim", 0), where)

    from safetensors.torch import load as from_bytes

    try:
        tensors = from_bytes(raw)
    except Exception as e:  # noqa: BLE001 - the header passed our checks; report whatever the reader found
        raise ExplorerError(f"{where}: not a readable safetensors file ({e})") from None
    for name, t in tensors.items():
        require(bool(torch.isfinite(t).all()), where, f"tensor {name} holds NaN or infinite values")
    model.load_state_dict({k[len("model."):]: t.float() for k, t in tensors.items() if k.startswith("model.")})
    model.eval()
    stats = None
    if any(has_stats):
        stats = _check_stats(LatentStats(*(tensors[f"stats.{s}"].double().numpy() for s in _STATS)), where)
    if timeline.INDEX in tensors:
        index = tensors[timeline.INDEX]
        require(bool((index >= 0).all()) and len(index.unique()) == len(index), where,
                 "the training timeline's test indices must be different numbers from 0 up")
    return Checkpoint(model, meta, stats, path, timeline.from_tensors(tensors))


def _check_timeline(header: dict, latent_dim: int, where: str) -> None:
    """Both timeline tensors or neither: (K,) I64 test indices and (E, K, d) F16 (or F32) codes, within bounds."""
    present = [name in header for name in timeline.KEYS]
    require(all(present) or not any(present), where, "the training timeline is incomplete")
    if not any(present):
        return
    index, codes = (header[name] for name in timeline.KEYS)
    ok = (index["dtype"] == "I64" and len(index["shape"]) == 1 and 0 < index["shape"][0] <= timeline.SAMPLE
          and codes["dtype"] in ("F16", "F32") and len(codes["shape"]) == 3 and 0 < codes["shape"][0] <= timeline.MAX_EPOCHS
          and codes["shape"][1:] == [index["shape"][0], latent_dim])
    require(ok, where, f"the training timeline should be I64 [K] indices and F16 or F32 [epochs, K, {latent_dim}] codes "
                        f"(K <= {timeline.SAMPLE}, epochs <= {timeline.MAX_EPOCHS}), got {index['dtype']} "
                        f"{index['shape']} and {codes['dtype']} {codes['shape']}")


def _check_stats(stats: LatentStats, where: str) -> LatentStats:
    """Finite is not enough: the map is drawn from these numbers, so they must also be ones a model
    could have produced (its codes decode alike beyond MAX_CODE_NORM, so nothing real lies further)."""
    limit = MAX_CODE_NORM
    require(np.abs(stats.mean).max() <= limit, where, f"stats.mean lies beyond {limit:g} from the origin")
    require(stats.variance.min() >= 0 and stats.variance.max() <= limit**2, where,
             f"stats.variance must lie between 0 and {limit**2:g}")
    c = stats.components
    require(np.abs(c @ c.T - np.eye(len(c))).max() <= STATS_ORTHONORMAL_TOLERANCE, where,
             "stats.components are not orthonormal principal axes")
    xmin, xmax, ymin, ymax = stats.bounds
    require(np.abs(stats.bounds).max() <= limit, where, f"stats.bounds lie beyond {limit:g} from the origin")
    require(xmax - xmin >= MIN_MAP_WIDTH and ymax - ymin >= MIN_MAP_WIDTH, where,
             f"stats.bounds must be xmin < xmax, ymin < ymax, at least {MIN_MAP_WIDTH:g} apart")
    return stats


def _build(meta: dict, where: str) -> torch.nn.Module:
    """A new model of the kind described. Its random initial weights are about to be replaced, so
    it is built on a forked random stream: opening a file leaves the caller's random state alone."""
    with torch.random.fork_rng(devices=[]):
        if meta["kind"] == "classifier":
            return Classifier()
        try:
            config = ModelConfig.from_dict(meta["model"])
        except (ExplorerError, TypeError) as e:
            raise ExplorerError(f"{where}: metadata describes no valid model ({e})") from None
        if config.kind == "gan" and meta.get("has_inversion_encoder") is not None:
            require(meta["has_inversion_encoder"] == config.inversion, where,
                     "metadata disagrees about the inversion encoder")
        return build_model(config)


def checkpoint_of(model, dataset: str = "your data") -> Checkpoint:
    """A Checkpoint holding a model that has no file (a user's adapted model), for code that opens models as
    checkpoints."""
    return Checkpoint(model, {"kind": model.kind, "dataset": dataset}, None, None)
