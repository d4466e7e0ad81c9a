"""Writing files so that a failure never leaves a partial file: temp file beside the target, then rename.

A write also claims its target (a lock beside it), so two runs never both report saving one file,
and Ctrl-C, SIGTERM or SIGHUP arriving mid-write wait until the file is whole and the temp is gone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import stat
import threading
from pathlib import Path
from typing import Callable, Iterable, Iterator

from explorer.utils.errors import ExplorerError
from explorer.utils.interrupts import STOP_SIGNALS

try:
    import fcntl
except ImportError:  # Windows: no claims, the rest works
    fcntl = None

TEMP_NAME_BYTES = 100  # of the target's name kept in the temp file's: name + 15 must fit in 255 bytes
_claimed: set[str] = set()  # targets this process holds: a write inside a run's claim does not claim again


def check_target(path: str | os.PathLike, suffixes: tuple[str, ...], inputs: Iterable = ()) -> Path:
    """The path to write to, or a clear error if it cannot be one (wrong suffix, a folder, no folder,
    or one of the command's `inputs`, however it is reached: a symlink, a hard link, another spelling)."""
    path = Path(path).expanduser()
    if path.suffix.lower() not in suffixes:
        raise ExplorerError(f"cannot write {path}: the name must end in {' or '.join(suffixes)}")
    try:
        if path.is_dir():
            raise ExplorerError(f"cannot write {path}: it is a folder")
        if not path.parent.is_dir():
            problem = "is not a folder" if path.parent.exists() else "does not exist"
            raise ExplorerError(f"cannot write {path}: folder {path.parent} {problem}")
        for source in inputs:
            if source is None:
                continue
            if _same_file(path, Path(source).expanduser()):
                raise ExplorerError(f"cannot write {path}: it is {source}, an input of this command; "
                                    f"choose another name")
            if _inside(path, Path(source).expanduser()):
                raise ExplorerError(f"cannot write {path}: it is inside {source}, a folder this command reads; "
                                    f"write it elsewhere")
    except (OSError, ValueError) as e:  # a name too long, a NUL byte: the OS refuses to even look
        raise ExplorerError(f"cannot write {path}: {_cause(e)}") from None
    return path


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path` lies in `folder` or any folder below it, however either is spelled or linked."""
    if not folder.is_dir():
        return False
    where = Path(os.path.realpath(path.parent)) / path.name
    return where.is_relative_to(os.path.realpath(folder))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)  # follows symlinks, sees hard links
    except (OSError, ValueError):  # one of them does not exist (yet): they cannot be the same file
        return False


@contextlib.contextmanager
def claim(path: str | os.PathLike) -> Iterator[Path]:
    """Hold the right to write `path` for the block. Another process's claim on it is refused with
    one clear line, at once: a second `explorer train --out X` stops before training, not after."""
    path = Path(path).expanduser()
    key = os.path.join(os.path.realpath(path.parent), path.name)
    if fcntl is None or key in _claimed:
        yield path
        return
    lock = path.with_name(f".{path.name.encode()[:TEMP_NAME_BYTES].decode(errors='ignore')}.lock")
    fd = _lock(lock, path)
    _claimed.add(key)
    try:
        yield path
    finally:
        _claimed.discard(key)
        with contextlib.suppress(OSError):
            lock.unlink()  # before unlocking: a waiting claim then sees its file was replaced and retries
        os.close(fd)


def _lock(lock: Path, path: Path) -> int:
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except (OSError, ValueError) as e:
            raise ExplorerError(f"could not write {path}: {_cause(e)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ExplorerError(f"cannot write {path}: another Latent Explorer run is writing it now; "
                                f"wait for it to end or choose another name") from None
        except OSError:  # a file system without locks (some network mounts): write unclaimed
            return fd
        try:
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                return fd
        except OSError:
            pass
        os.close(fd)  # the holder removed this lock file as we took it: take the new one


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP arriving in the block take effect when it ends, as they would have
    at its start. Python runs signal handlers only in the main thread, so elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    # a handler not installed from Python (None) could not be put back: such a signal is left alone
    previous = {s: signal.signal(s, lambda signum, frame: arrived.append(signum))
                for s in STOP_SIGNALS if signal.getsignal(s) is not None}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for s in dict.fromkeys(arrived):
            signal.raise_signal(s)


def atomic_write(path: str | os.PathLike, write: Callable[[object], None], suffixes: tuple[str, ...]) -> Path:
    """Call write(binary_file) on a temp file, then move it over `path` in one step.

    On any failure the target is untouched (an existing file stays intact), the temp file is
    removed, and an ExplorerError names the path and the cause.
    """
    path = check_target(path, suffixes)
    stem = path.name.encode()[:TEMP_NAME_BYTES].decode(errors="ignore")
    tmp = path.with_name(f".{stem}.{secrets.token_hex(4)}.tmp")
    with signals_deferred(), claim(path):
        try:
            # os.open with 0o666 honours the umask, so the file gets the usual permissions (mkstemp: 0600)
            with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            _sync_folder(path.parent)
        except ExplorerError:
            raise
        except Exception as e:  # noqa: BLE001 - any failure while writing is reported the same way
            raise ExplorerError(f"could not write {path}: {_cause(e)}") from None
        finally:
            with contextlib.suppress(OSError, ValueError):  # gone after the rename; never hide the cause
                tmp.unlink(missing_ok=True)
    return path


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a power cut right after it could otherwise lose it): fsync the folder,
    where the OS allows it (about 1 ms; not on Windows, nor on some network file systems)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_limited(path: str | os.PathLike, limit: int, what: str) -> bytes:
    """The bytes of a small file the user names (a path file, ...), refused in one line when it is not a
    plain file (a device such as /dev/zero never ends, a FIFO never answers) or holds more than `limit`
    bytes: at most limit + 1 bytes are ever read."""
    path = Path(path).expanduser()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO would block the open itself
    except (OSError, ValueError) as e:  # ValueError: a NUL in the name
        raise ExplorerError(f"{path}: cannot read ({_cause(e)})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ExplorerError(f"{path}: not a {what} (it is not a plain file)")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as e:
        raise ExplorerError(f"{path}: cannot read ({_cause(e)})") from None
    finally:
        os.close(fd)
    if size > limit:
        raise ExplorerError(f"{path}: larger than any {what} (at most {limit:,} bytes are read)")
    return b"".join(chunks)


def _cause(e: BaseException) -> str:
    return e.strerror if isinstance(e, OSError) and e.strerror else str(e)
