"""Checkpoints: one .safetensors file holding the weights, what the data looks like in latent
space, and metadata (JSON in the header) saying what the model is and what it saw.

Loading never unpickles anything. The header is checked byte by byte before any tensor is read,
the metadata and every tensor's shape are checked against the model the metadata describes, and
only then is a new model built; a bad file raises ExplorerError and touches no existing state.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import pickletools
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from explorer.utils.version import __version__
from explorer.data.limits import MAX_CLASSES
from explorer.engine import timeline, trained
from explorer.engine.coding import MAX_CODE_NORM, LatentStats
from explorer.engine.config import KIND_NAMES, MAX_BATCH, MAX_EPOCHS, MAX_LR, MAX_SEED, ModelConfig
from explorer.engine.ladder import is_rung_record
from explorer.engine.models import Classifier, build_model
from explorer.engine.timeline import Timeline
from explorer.utils.errors import ExplorerError
from explorer.utils.files import atomic_write
from explorer.utils.wording import count

FORMAT = "latent-explorer-checkpoint"
FORMAT_VERSION = "1"
SUFFIX = ".safetensors"
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".bin")
MAX_HEADER = 1 << 20  # ours are a few KiB; anything near this is not one of ours
MAX_FILE = 1 << 30
MAX_DIMS = 8  # ours have at most 4; a product of thousands of 20-digit sizes is slow to even compute
PICKLE_OPS = 10_000  # opcodes that parse in a row: no other kind of file gets this far as a pickle
WEIGHT_DTYPES = {"float32": ("F32", torch.float32), "float16": ("F16", torch.float16), "bfloat16": ("BF16", torch.bfloat16)}
_ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}
_STATS = ("mean", "components", "variance", "bounds")
MAX_DIGITS = 20  # an integer in our headers is a size, an offset or a seed: below 2**64, so 20 digits at most
MAX_TRAIN_IMAGES = 10**9
# what each metadata field may hold: the app shows them, and a retrain reuses some
_META_FIELDS = {
    **dict.fromkeys(("dataset", "app_version", "created", "status", "device"), lambda v: isinstance(v, str)),
    "train_images": lambda v: _is_int(v) and 0 <= v <= MAX_TRAIN_IMAGES,
    "epochs": lambda v: _is_int(v) and 0 <= v <= MAX_EPOCHS,
    "batch_size": lambda v: _is_int(v) and 0 <= v <= MAX_BATCH,
    "seed": lambda v: _is_int(v) and 0 <= v <= MAX_SEED,
    "lr": lambda v: _is_number(v) and 0 <= v <= MAX_LR,
    "train_seconds": lambda v: _is_number(v) and v >= 0,
    "final_losses": lambda v: isinstance(v, dict) and all(_is_number(x) for x in v.values()),
    "ladder": is_rung_record,  # the rung of `explorer train --ladder` this model is: {"beta": 0.25}
    "data": lambda v: isinstance(v, str),  # the user's images it was trained on (user_files.remembered)
    "classes": lambda v: isinstance(v, list) and len(v) <= MAX_CLASSES and all(isinstance(c, str) for c in v),
}
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
    header, metadata = _parse_header(raw, where)
    meta = _parse_metadata(metadata, where)
    if expect is not None and (meta["kind"] == "classifier") != (expect == "classifier"):
        found = "the digit classifier" if meta["kind"] == "classifier" else f"a {KIND_NAMES[meta['kind']]}"
        wanted = "a digit classifier" if expect == "classifier" else "a latent model (AE, VAE or GAN)"
        raise ExplorerError(f"{where}: this is {found}, not {wanted}")
    model = _build(meta, where)
    weights_code = WEIGHT_DTYPES[meta["weights_dtype"]][0]
    expected = {f"model.{k}": tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k for k in header if k.startswith("model.")}
    _require(not (missing := sorted(set(expected) - found)), where, f"missing tensors for this {meta['kind']}: "
             f"{', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''}")
    _require(not (extra := sorted(set(header) - set(expected) - {f"stats.{s}" for s in _STATS} - set(timeline.KEYS))),
             where,
             f"unexpected tensors {', '.join(extra[:3])}{' ...' if len(extra) > 3 else ''}")
    for name, shape in expected.items():
        got = tuple(header[name]["shape"])
        _require(got == shape, where, f"tensor {name} has shape {list(got)}, but this model needs {list(shape)}")
        _require(header[name]["dtype"] == weights_code, where,
                 f"tensor {name} is {header[name]['dtype']}, but the metadata says {meta['weights_dtype']}")
    has_stats = [f"stats.{s}" in header for s in _STATS]
    _require(all(has_stats) or not any(has_stats), where, "latent statistics are incomplete")
    if any(has_stats):
        d = getattr(model, "latent_dim", 0)
        for name, shape in zip(_STATS, ((d,), (d, d), (d,), (4,))):
            info = header[f"stats.{name}"]
            _require(tuple(info["shape"]) == shape and info["dtype"] == "F32", where,
                     f"tensor stats.{name} should be F32 {list(shape)}, got {info['dtype']} {info['shape']}")
    _check_timeline(header, getattr(model, "latent_dim", 0), where)

    from safetensors.torch import load as from_bytes

    try:
        tensors = from_bytes(raw)
    except Exception as e:  # noqa: BLE001 - the header passed our checks; report whatever the reader found
        raise ExplorerError(f"{where}: not a readable safetensors file ({e})") from None
    for name, t in tensors.items():
        _require(bool(torch.isfinite(t).all()), where, f"tensor {name} holds NaN or infinite values")
    model.load_state_dict({k[len("model."):]: t.float() for k, t in tensors.items() if k.startswith("model.")})
    model.eval()
    stats = None
    if any(has_stats):
        stats = _check_stats(LatentStats(*(tensors[f"stats.{s}"].double().numpy() for s in _STATS)), where)
    if timeline.INDEX in tensors:
        index = tensors[timeline.INDEX]
        _require(bool((index >= 0).all()) and len(index.unique()) == len(index), where,
                 "the training timeline's test indices must be different numbers from 0 up")
    return Checkpoint(model, meta, stats, path, timeline.from_tensors(tensors))


def _check_timeline(header: dict, latent_dim: int, where: str) -> None:
    """Both timeline tensors or neither: (K,) I64 test indices and (E, K, d) F16 (or F32) codes, within bounds."""
    present = [name in header for name in timeline.KEYS]
    _require(all(present) or not any(present), where, "the training timeline is incomplete")
    if not any(present):
        return
    index, codes = (header[name] for name in timeline.KEYS)
    ok = (index["dtype"] == "I64" and len(index["shape"]) == 1 and 0 < index["shape"][0] <= timeline.SAMPLE
          and codes["dtype"] in ("F16", "F32") and len(codes["shape"]) == 3 and 0 < codes["shape"][0] <= timeline.MAX_EPOCHS
          and codes["shape"][1:] == [index["shape"][0], latent_dim])
    _require(ok, where, f"the training timeline should be I64 [K] indices and F16 or F32 [epochs, K, {latent_dim}] codes "
                        f"(K <= {timeline.SAMPLE}, epochs <= {timeline.MAX_EPOCHS}), got {index['dtype']} "
                        f"{index['shape']} and {codes['dtype']} {codes['shape']}")


def _check_stats(stats: LatentStats, where: str) -> LatentStats:
    """Finite is not enough: the map is drawn from these numbers, so they must also be ones a model
    could have produced (its codes decode alike beyond MAX_CODE_NORM, so nothing real lies further)."""
    limit = MAX_CODE_NORM
    _require(np.abs(stats.mean).max() <= limit, where, f"stats.mean lies beyond {limit:g} from the origin")
    _require(stats.variance.min() >= 0 and stats.variance.max() <= limit**2, where,
             f"stats.variance must lie between 0 and {limit**2:g}")
    c = stats.components
    _require(np.abs(c @ c.T - np.eye(len(c))).max() <= STATS_ORTHONORMAL_TOLERANCE, where,
             "stats.components are not orthonormal principal axes")
    xmin, xmax, ymin, ymax = stats.bounds
    _require(np.abs(stats.bounds).max() <= limit, where, f"stats.bounds lie beyond {limit:g} from the origin")
    _require(xmax - xmin >= MIN_MAP_WIDTH and ymax - ymin >= MIN_MAP_WIDTH, where,
             f"stats.bounds must be xmin < xmax, ymin < ymax, at least {MIN_MAP_WIDTH:g} apart")
    return stats


def _parse_header(raw: bytes, where: str) -> tuple[dict, dict]:
    n = struct.unpack("<Q", raw[:8])[0] if len(raw) >= 8 else 0
    if not (len(raw) > 8 and 8 + n <= len(raw) and raw[8:9] == b"{"):  # not shaped like safetensors
        if raw[:4] == b"PK\x03\x04":
            raise ExplorerError(f"{where}: refused: the file is a zip archive (a torch.save pickle checkpoint?); "
                                f"only .safetensors checkpoints are opened")
        if _is_pickle(raw):
            raise ExplorerError(f"{where}: refused: the file is a Python pickle, and unpickling can run any code; "
                                f"only .safetensors checkpoints are opened")
    _require(len(raw) >= 8, where, f"too short to be a safetensors file ({len(raw)} bytes)")
    _require(8 + n <= len(raw), where, f"header length {n:,} runs past the end of the file ({len(raw):,} bytes); "
                                       f"the file is truncated or not safetensors")
    _require(n <= MAX_HEADER, where, f"header length {n:,} bytes is not plausible; not a checkpoint of ours")
    try:
        header = _strict_json(raw[8 : 8 + n].decode(), where, "header")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExplorerError(f"{where}: header is not valid JSON ({e}); not a safetensors file") from None
    except RecursionError:
        raise ExplorerError(f"{where}: header nests too deeply to be a safetensors header") from None
    _require(isinstance(header, dict), where, "header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    _require(isinstance(metadata, dict), where, "no metadata: this is not a Latent Explorer checkpoint")
    spans = []
    for name, info in header.items():
        ok = (
            isinstance(info, dict)
            and isinstance(info.get("dtype"), str) and info["dtype"] in _ITEMSIZE
            and isinstance(info.get("shape"), list)
            and all(_is_int(s) and s >= 0 for s in info["shape"])
            and isinstance(info.get("data_offsets"), list)
            and len(info["data_offsets"]) == 2
            and all(_is_int(o) for o in info["data_offsets"])
        )
        _require(ok and len(info["shape"]) <= MAX_DIMS, where,
                 f"tensor {name!r}: bad entry (dtype must be F32, F16 or BF16, with shape and offsets)")
        begin, end = info["data_offsets"]
        nbytes = math.prod(info["shape"]) * _ITEMSIZE[info["dtype"]]
        _require(0 <= begin <= end and end - begin == nbytes, where,
                 f"tensor {name!r}: offsets {begin}..{end} do not fit its {info['dtype']} shape {info['shape']}")
        spans.append((begin, end, name))
    body = len(raw) - 8 - n
    position = 0
    for begin, end, name in sorted(spans):
        _require(begin == position, where, f"tensor {name!r}: data does not follow the previous tensor "
                                           f"(overlap or gap at byte {begin})")
        position = end
    _require(position <= body, where, "tensor data runs past the end of the file; the file is truncated")
    _require(position == body, where, f"{body - position:,} unexpected bytes after the tensor data")
    return header, metadata


def _is_pickle(raw: bytes) -> bool:
    """Whether the file is a Python pickle: one that names its protocol (0x80 then 2 to 5, as pickle and
    torch.save write) and parses up to STOP or for PICKLE_OPS opcodes, or an unversioned one that parses
    to a STOP on its last byte. pickletools only reads the opcodes; it never imports or builds anything,
    so this is safe on hostile input. A damaged safetensors file can read as a short pickle: CI had its
    8-byte length read as a string opcode that swallowed the JSON header, then POP and STOP."""
    versioned = raw[:1] == b"\x80" and raw[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")
    try:
        for ops, (op, _, pos) in enumerate(pickletools.genops(raw)):
            if op.name == "STOP":
                return versioned or pos == len(raw) - 1
            if ops >= PICKLE_OPS:
                return True
    except Exception:  # noqa: BLE001 - any parse failure means "not a pickle"
        pass
    return False


def _strict_json(text: str, where: str, what: str):
    """json.loads for hostile text: an integer literal longer than MAX_DIGITS (Python would spend
    seconds converting a million digits, or refuse with a ValueError past 4,300), a number too large
    for a float (json.loads makes it inf) and NaN or Infinity are refused with one clear line."""
    def integer(literal: str) -> int:
        _require(len(literal.lstrip("-")) <= MAX_DIGITS, where, f"{what}: an integer of {len(literal):,} digits "
                                                               f"is not plausible; the file is damaged or hostile")
        return int(literal)

    def real(literal: str) -> float:
        value = float(literal)
        _require(math.isfinite(value), where, f"{what}: the number {literal[:30]} is too large for a float")
        return value

    def constant(name: str):
        raise ExplorerError(f"{where}: {what}: {name} is not a number a checkpoint may hold")

    return json.loads(text, parse_int=integer, parse_float=real, parse_constant=constant)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _parse_metadata(metadata: dict, where: str) -> dict:
    _require(metadata.get("format") == FORMAT, where, "metadata does not name the latent-explorer format")
    version = metadata.get("format_version")
    _require(version is not None, where, "metadata has no format version; the file is damaged or not ours")
    _require(version == FORMAT_VERSION, where,
             f"checkpoint format version {version!r} is not one this app reads ({FORMAT_VERSION}); "
             f"a newer Latent Explorer may open it")
    text = metadata.get("explorer")
    _require(isinstance(text, str), where, "metadata: the model description is missing")
    try:
        meta = _strict_json(text, where, "metadata")
    except (json.JSONDecodeError, RecursionError):
        raise ExplorerError(f"{where}: metadata is not valid JSON") from None
    _require(isinstance(meta, dict), where, "metadata is not a JSON object")
    dtype, kind = meta.get("weights_dtype"), meta.get("kind")
    _require(isinstance(dtype, str) and dtype in WEIGHT_DTYPES, where, f"metadata: unknown weights dtype {dtype!r}")
    _require(isinstance(kind, str) and (kind in KIND_NAMES or kind == "classifier"), where,
             f"metadata: unknown model kind {kind!r}")
    if kind != "classifier":
        _require(isinstance(meta.get("model"), dict) and meta["model"].get("kind") == kind, where,
                 "metadata: the model description is missing or does not match its kind")
    for key, wanted in _META_FIELDS.items():  # what describe() and the app show must be what it seems
        if key in meta:
            _require(wanted(meta[key]), where, f"metadata: {key} has the wrong type ({meta[key]!r})")
    return meta


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
            _require(meta["has_inversion_encoder"] == config.inversion, where,
                     "metadata disagrees about the inversion encoder")
        return build_model(config)


def _require(ok: bool, where: str, problem: str) -> None:
    if not ok:
        raise ExplorerError(f"{where}: {problem}")


def checkpoint_of(model, dataset: str = "your data") -> Checkpoint:
    """A Checkpoint holding a model that has no file (a user's adapted model), for code that opens models as
    checkpoints."""
    return Checkpoint(model, {"kind": model.kind, "dataset": dataset}, None, None)
