"""The one door to the user's own code (their encoder, decoder, model factory): `Guard.call`.

Their code is untrusted in the plain sense: it may raise anything (SystemExit and KeyboardInterrupt
included), return anything, or never return. So each call runs on a helper thread of the guard's
own, one per model and calling thread (a daemon, kept while used, ended after RUNNER_IDLE s idle),
and the caller waits for it:
- whatever their code raises stays on the helper and comes back to the caller as one UserModelError
  naming their model, what it was given and their exception, with their traceback as `details`;
  a real Ctrl-C lands on the waiting thread (the CLI's main thread), not on theirs, and stops the
  command as it always did;
- a call that has not answered within ANSWER_WITHIN s is said (the watch's `on_slow`: the window's
  status bar; by default a line on stderr), and a caller whose watch gives up (a window closing, or a
  stuck call superseded by newer work) stops waiting with `Abandoned`: the helper is left to its fate,
  and as a daemon thread it holds up neither the window's close nor the interpreter's exit. A later
  call for the same model from the same thread queues behind the stuck one: a hung model costs one
  thread, however often it is asked again.
The caller's grad and inference modes and CUDA device (thread-local in torch) go with each call.
What their code returns is checked by the adapter (models/adapters.py), which raises UserModelError too.

Handing a call to the helper and back costs about 0.3 ms: a one-code decode of the lecture's
784-512-2 autoencoder took 1.1-1.8 ms unguarded and 1.5-2.0 ms guarded (2-core CPU shared with other
work, 3000 calls each), against the 16 ms of a 60 Hz frame.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from explorer.utils.errors import UserModelError

ANSWER_WITHIN = 5.0  # s a call may take before the user is told their model has not answered
POLL = 0.05  # s between looks at the watch while waiting: closing waits at most this for a stuck call
RUNNER_IDLE = 60.0  # s a helper thread waits for another call before it ends
_OURS = str(Path(__file__).resolve().parents[2]) + os.sep  # the explorer package: frames not shown as theirs


class Abandoned(BaseException):
    """The caller stopped waiting for the user's code (its watch gave up). A BaseException, so that no
    `except Exception` on the way up mistakes it for a failure to report."""


@dataclass(frozen=True)
class Watch:
    """How a thread waits on the user's code: `on_slow(text)` once a call has gone ANSWER_WITHIN s
    without an answer (text: "NAME's decoder has not answered for 5 s"), `on_late(text)` if that call
    answers after all ("NAME's decoder answered after 7 s"), and `give_up(stuck)` polled every POLL s
    (stuck: past ANSWER_WITHIN); True abandons the call."""

    on_slow: Callable[[str], None] | None = None
    give_up: Callable[[bool], bool] | None = None
    on_late: Callable[[str], None] | None = None


_local = threading.local()


def _say_on_stderr(text: str) -> None:
    print(f"{text}; still waiting (Ctrl-C stops)", file=sys.stderr, flush=True)


DEFAULT_WATCH = Watch(on_slow=_say_on_stderr)


@contextlib.contextmanager
def watching(watch: Watch):
    """Calls made by this thread inside the block wait as `watch` says."""
    before = getattr(_local, "watch", None)
    _local.watch = watch
    try:
        yield
    finally:
        _local.watch = before


class _Job:
    __slots__ = ("fn", "args", "grad", "inference", "cuda", "done", "result", "error")

    def __init__(self, fn, args):
        self.fn, self.args = fn, args
        self.grad, self.inference = torch.is_grad_enabled(), torch.is_inference_mode_enabled()
        self.cuda = torch.cuda.current_device() if torch.cuda.is_initialized() else None  # thread-local too
        self.done = threading.Event()
        self.result = self.error = None

    def run(self) -> None:
        try:
            with torch.inference_mode(self.inference), torch.set_grad_enabled(self.grad), \
                    (torch.cuda.device(self.cuda) if self.cuda is not None else contextlib.nullcontext()):
                self.result = self.fn(*self.args)
        except BaseException as e:  # noqa: BLE001 - theirs, whatever it is: the caller reports it
            self.error = e
        finally:
            self.done.set()


class Guard:
    """Calls into one user model (named `name` in every message)."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self._runners: dict[int, queue.SimpleQueue] = {}  # calling thread -> its helper's queue

    def call(self, fn, *args, what: str, given: str = ""):
        """fn(*args) on the helper: its result, or UserModelError for anything it raised, told as `what`
        ("Autoencoder's decoder", "make_model()") failing on `given` ("codes of shape (64, 2)")."""
        job = _Job(fn, args)
        self._submit(job)
        watch = getattr(_local, "watch", None) or DEFAULT_WATCH
        start, told = time.monotonic(), False
        while not job.done.wait(POLL):
            stuck = time.monotonic() - start >= ANSWER_WITHIN
            if stuck and not told:
                told = True
                if watch.on_slow is not None:
                    watch.on_slow(f"{what} has not answered for {ANSWER_WITHIN:g} s")
            if watch.give_up is not None and watch.give_up(stuck):
                raise Abandoned(what)
        if told and watch.on_late is not None:
            watch.on_late(f"{what} answered after {time.monotonic() - start:.0f} s")
        if job.error is not None:
            e, job.error = job.error, None  # their exception's frames are not kept past this message
            raise UserModelError(failure(what, given, e), details=their_traceback(e)) from None
        return job.result

    def _submit(self, job: _Job) -> None:
        me = threading.get_ident()
        with self._lock:
            jobs = self._runners.get(me)
            if jobs is None:
                jobs = self._runners[me] = queue.SimpleQueue()
                threading.Thread(target=self._serve, args=(me, jobs), name=f"your model {self.name}",
                                 daemon=True).start()
            jobs.put(job)  # under the lock: a helper ending idle cannot miss it

    def _serve(self, caller: int, jobs: queue.SimpleQueue) -> None:
        while True:
            try:
                job = jobs.get(timeout=RUNNER_IDLE)
            except queue.Empty:
                with self._lock:
                    if jobs.empty():
                        del self._runners[caller]
                        return
                continue
            job.run()
            del job  # nothing of the last call (its tensors) kept while idle


def failure(what: str, given: str, e: BaseException) -> str:
    """One line: whose code failed, on what, and their exception's type and first line."""
    try:
        text = str(e).strip()
    except BaseException:  # noqa: BLE001 - their exception's own __str__ is their code too
        text = "(its message could not be read: its __str__ failed)"
    first = text.splitlines()[0] if text else ""
    raised = f"{type(e).__name__}{': ' + first if first else ''}"
    return f"{what} {f'failed on {given}: ' if given else 'raised '}{raised} (an error in your model's code)"


def their_traceback(e: BaseException) -> str:
    """Their exception's traceback from their code down (the explorer's frames above it left out)."""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename.startswith(_OURS):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(e), e, tb))
