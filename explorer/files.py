"""Writing files so that a failure never leaves a partial file: temp file beside the target, then rename."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Callable

from explorer.errors import ExplorerError


def check_target(path: str | os.PathLike, suffixes: tuple[str, ...]) -> Path:
    """The path to write to, or a clear error if it cannot be one (wrong suffix, a folder, no folder)."""
    path = Path(path).expanduser()
    if path.suffix.lower() not in suffixes:
        raise ExplorerError(f"cannot write {path}: the name must end in {' or '.join(suffixes)}")
    if path.is_dir():
        raise ExplorerError(f"cannot write {path}: it is a folder")
    if not path.parent.is_dir():
        raise ExplorerError(f"cannot write {path}: folder {path.parent} does not exist")
    return path


def atomic_write(path: str | os.PathLike, write: Callable[[object], None], suffixes: tuple[str, ...]) -> Path:
    """Call write(binary_file) on a temp file, then move it over `path` in one step.

    On any failure the target is untouched (an existing file stays intact), the temp file is
    removed, and an ExplorerError names the path and the cause.
    """
    path = check_target(path, suffixes)
    tmp = None
    try:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        # os.open with 0o666 honours the umask, so the file gets the usual permissions (mkstemp: 0600)
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        tmp = None
    except ExplorerError:
        raise
    except Exception as e:  # noqa: BLE001 - any failure while writing is reported the same way
        raise ExplorerError(f"could not write {path}: {e.strerror if isinstance(e, OSError) and e.strerror else e}") from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return path
