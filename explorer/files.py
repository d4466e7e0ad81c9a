"""Writing files so that a failure never leaves a partial file: temp file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Callable

from explorer.errors import ExplorerError

TEMP_NAME_BYTES = 100  # of the target's name kept in the temp file's: name + 15 must fit in 255 bytes


def check_target(path: str | os.PathLike, suffixes: tuple[str, ...]) -> Path:
    """The path to write to, or a clear error if it cannot be one (wrong suffix, a folder, no folder)."""
    path = Path(path).expanduser()
    if path.suffix.lower() not in suffixes:
        raise ExplorerError(f"cannot write {path}: the name must end in {' or '.join(suffixes)}")
    try:
        if path.is_dir():
            raise ExplorerError(f"cannot write {path}: it is a folder")
        if not path.parent.is_dir():
            problem = "is not a folder" if path.parent.exists() else "does not exist"
            raise ExplorerError(f"cannot write {path}: folder {path.parent} {problem}")
    except (OSError, ValueError) as e:  # a name too long, a NUL byte: the OS refuses to even look
        raise ExplorerError(f"cannot write {path}: {_cause(e)}") from None
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[object], None], suffixes: tuple[str, ...]) -> Path:
    """Call write(binary_file) on a temp file, then move it over `path` in one step.

    On any failure the target is untouched (an existing file stays intact), the temp file is
    removed, and an ExplorerError names the path and the cause.
    """
    path = check_target(path, suffixes)
    stem = path.name.encode()[:TEMP_NAME_BYTES].decode(errors="ignore")
    tmp = path.with_name(f".{stem}.{secrets.token_hex(4)}.tmp")
    try:
        # os.open with 0o666 honours the umask, so the file gets the usual permissions (mkstemp: 0600)
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except ExplorerError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure while writing is reported the same way
        raise ExplorerError(f"could not write {path}: {_cause(e)}") from None
    finally:
        with contextlib.suppress(OSError, ValueError):  # gone after the rename; never hide the cause
            tmp.unlink(missing_ok=True)
    return path


def _cause(e: BaseException) -> str:
    return e.strerror if isinstance(e, OSError) and e.strerror else str(e)
