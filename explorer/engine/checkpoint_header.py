"""A checkpoint's header and metadata read as hostile bytes, before anything is built from them: the
safetensors header (its length, every tensor's dtype, shape and offsets, no gaps or overlaps), pickles
recognised without being unpickled, JSON whose integers are bounded, and each metadata field's type.
Every refusal is one ExplorerError naming the file and the problem."""

from __future__ import annotations

import json
import math
import pickletools
import struct

import torch

from explorer.data.limits import MAX_CLASSES
from explorer.engine.config import KIND_NAMES, MAX_BATCH, MAX_EPOCHS, MAX_LR, MAX_SEED
from explorer.engine.ladder import is_rung_record
from explorer.utils.errors import ExplorerError

FORMAT = "latent-explorer-checkpoint"
FORMAT_VERSION = "1"
MAX_HEADER = 1 << 20  # ours are a few KiB; anything near this is not one of ours
MAX_DIMS = 8  # ours have at most 4; a product of thousands of 20-digit sizes is slow to even compute
PICKLE_OPS = 10_000  # opcodes that parse in a row: no other kind of file gets this far as a pickle
WEIGHT_DTYPES = {"float32": ("F32", torch.float32), "float16": ("F16", torch.float16), "bfloat16": ("BF16", torch.bfloat16)}
_ITEMSIZE = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8}
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


def parse_header(raw: bytes, where: str) -> tuple[dict, dict]:
    n = struct.unpack("<Q", raw[:8])[0] if len(raw) >= 8 else 0
    if not (len(raw) > 8 and 8 + n <= len(raw) and raw[8:9] == b"{"):  # not shaped like safetensors
        if raw[:4] == b"PK\x03\x04":
            raise ExplorerError(f"{where}: refused: the file is a zip archive (a torch.save pickle checkpoint?); "
                                f"only .safetensors checkpoints are opened")
        if is_pickle(raw):
            raise ExplorerError(f"{where}: refused: the file is a Python pickle, and unpickling can run any code; "
                                f"only .safetensors checkpoints are opened")
    require(len(raw) >= 8, where, f"too short to be a safetensors file ({len(raw)} bytes)")
    require(8 + n <= len(raw), where, f"header length {n:,} runs past the end of the file ({len(raw):,} bytes); "
                                       f"the file is truncated or not safetensors")
    require(n <= MAX_HEADER, where, f"header length {n:,} bytes is not plausible; not a checkpoint of ours")
    try:
        header = strict_json(raw[8 : 8 + n].decode(), where, "header")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExplorerError(f"{where}: header is not valid JSON ({e}); not a safetensors file") from None
    except RecursionError:
        raise ExplorerError(f"{where}: header nests too deeply to be a safetensors header") from None
    require(isinstance(header, dict), where, "header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    require(isinstance(metadata, dict), where, "no metadata: this is not a Latent Explorer checkpoint")
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
        require(ok and len(info["shape"]) <= MAX_DIMS, where,
                 f"tensor {name!r}: bad entry (dtype must be F32, F16 or BF16, with shape and offsets)")
        begin, end = info["data_offsets"]
        nbytes = math.prod(info["shape"]) * _ITEMSIZE[info["dtype"]]
        require(0 <= begin <= end and end - begin == nbytes, where,
                 f"tensor {name!r}: offsets {begin}..{end} do not fit its {info['dtype']} shape {info['shape']}")
        spans.append((begin, end, name))
    body = len(raw) - 8 - n
    position = 0
    for begin, end, name in sorted(spans):
        require(begin == position, where, f"tensor {name!r}: data does not follow the previous tensor "
                                           f"(overlap or gap at byte {begin})")
        position = end
    require(position <= body, where, "tensor data runs past the end of the file; the file is truncated")
    require(position == body, where, f"{body - position:,} unexpected bytes after the tensor data")
    return header, metadata


def is_pickle(raw: bytes) -> bool:
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


def strict_json(text: str, where: str, what: str):
    """json.loads for hostile text: an integer literal longer than MAX_DIGITS (Python would spend
    seconds converting a million digits, or refuse with a ValueError past 4,300), a number too large
    for a float (json.loads makes it inf) and NaN or Infinity are refused with one clear line."""
    def integer(literal: str) -> int:
        require(len(literal.lstrip("-")) <= MAX_DIGITS, where, f"{what}: an integer of {len(literal):,} digits "
                                                               f"is not plausible; the file is damaged or hostile")
        return int(literal)

    def real(literal: str) -> float:
        value = float(literal)
        require(math.isfinite(value), where, f"{what}: the number {literal[:30]} is too large for a float")
        return value

    def constant(name: str):
        raise ExplorerError(f"{where}: {what}: {name} is not a number a checkpoint may hold")

    return json.loads(text, parse_int=integer, parse_float=real, parse_constant=constant)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def parse_metadata(metadata: dict, where: str) -> dict:
    require(metadata.get("format") == FORMAT, where, "metadata does not name the latent-explorer format")
    version = metadata.get("format_version")
    require(version is not None, where, "metadata has no format version; the file is damaged or not ours")
    require(version == FORMAT_VERSION, where,
             f"checkpoint format version {version!r} is not one this app reads ({FORMAT_VERSION}); "
             f"a newer Latent Explorer may open it")
    text = metadata.get("explorer")
    require(isinstance(text, str), where, "metadata: the model description is missing")
    try:
        meta = strict_json(text, where, "metadata")
    except (json.JSONDecodeError, RecursionError):
        raise ExplorerError(f"{where}: metadata is not valid JSON") from None
    require(isinstance(meta, dict), where, "metadata is not a JSON object")
    dtype, kind = meta.get("weights_dtype"), meta.get("kind")
    require(isinstance(dtype, str) and dtype in WEIGHT_DTYPES, where, f"metadata: unknown weights dtype {dtype!r}")
    require(isinstance(kind, str) and (kind in KIND_NAMES or kind == "classifier"), where,
             f"metadata: unknown model kind {kind!r}")
    if kind != "classifier":
        require(isinstance(meta.get("model"), dict) and meta["model"].get("kind") == kind, where,
                 "metadata: the model description is missing or does not match its kind")
    for key, wanted in _META_FIELDS.items():  # what describe() and the app show must be what it seems
        if key in meta:
            require(wanted(meta[key]), where, f"metadata: {key} has the wrong type ({meta[key]!r})")
    return meta


def require(ok: bool, where: str, problem: str) -> None:
    if not ok:
        raise ExplorerError(f"{where}: {problem}")
