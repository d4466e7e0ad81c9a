"""Background threads. Workers only compute and emit signals; they never touch widgets.

`Worker` runs one function on its own thread, request after request. With `latest_only` a new
request replaces the one still waiting (a drag that outruns the model never builds a queue of stale
decodes); otherwise requests run in order (exports). Each request says who asked for it, and the
worker answers, for any result, whether it is still the newest its asker wants (`is_newest`) or at
least not from before the asker `forget`s what it asked (`is_current`): no consumer keeps its own
counters. `Workers` is one window's registry: every worker made there, stopped together on close.
`TrainWorker` runs the core training loop. Every thread here is also in `THREADS` (weakly), so tests
can prove none outlives its window.

The user's own model runs behind models/guard.py: whatever it raises reaches the UI as one message with
their traceback as its details, and a call that hangs never holds a worker: after ANSWER_WITHIN s the
worker says so (`unanswered`), and it stops waiting when it is stopped, or when newer work waits for a
latest_only worker. Closing a window whose model's decoder never returns took 0.02 s (3 runs of
tests/gui/close_driver.py hanging-model on a 2-core CPU; before, close waited forever), and the
process then exits: the stuck call is left on a daemon thread (models/guard.py).
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from PySide6.QtCore import QObject, QThread, Signal

from explorer.data.datasets import load_split
from explorer.engine import coding, timeline, training
from explorer.engine.models import guard
from explorer.gui.feedback import Message
from explorer.utils.errors import ExplorerError, UserModelError

log = logging.getLogger(__name__)

THREADS: "weakref.WeakSet[QThread]" = weakref.WeakSet()
PROGRESS_INTERVAL = 0.05  # s between step reports sent to the UI; epoch ends always go through
ASKERS_KEPT = 4096  # requests whose asker is surely remembered: over a minute of dragging at 60 a second


def describe_error(e: BaseException) -> str:
    """What the user reads: our own errors as they are (an error of the user's model with their traceback
    as its details), anything else named as a bug with its cause."""
    if isinstance(e, UserModelError):
        return Message(str(e), e.details)
    if isinstance(e, ExplorerError):
        return str(e)
    log.error("unexpected error in a worker", exc_info=e)
    return f"unexpected error ({type(e).__name__}: {e}); this is a bug, please report it"


class Worker(QThread):
    """Runs fn(payload, report) for each submitted payload; report(obj) emits `progress`."""

    done = Signal(int, object)  # request id, result
    failed = Signal(int, object)  # request id, message (a str; a feedback.Message with details for the user's errors)
    progress = Signal(int, object)  # request id, whatever fn reported
    unanswered = Signal(str)  # the user's model has not answered for guard.ANSWER_WITHIN s (or answered late at last)

    def __init__(self, fn: Callable[[Any, Callable[[Any], None]], Any], latest_only: bool, name: str, parent=None):
        super().__init__(parent)
        self.setObjectName(name)
        self._fn = fn
        self._latest_only = latest_only
        self._queue: collections.deque = collections.deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._busy = False
        self._next_id = 0
        self._asker: dict[int, str] = {}  # request id -> who asked (UI thread only, as are the two below)
        self._newest: dict[str, int] = {}  # asker -> its newest request
        self._floor: dict[str, int] = {}  # asker -> requests up to this id no longer count
        self.runs = 0  # requests actually run (a burst of submits runs far fewer)
        THREADS.add(self)

    def submit(self, payload, asker: str = "") -> int:
        """Queue a request from `asker` (replacing the waiting one when latest_only); returns its id."""
        with self._wake:
            self._next_id += 1
            if self._latest_only:
                self._queue.clear()
            self._queue.append((self._next_id, payload))
            self._wake.notify()
            request = self._next_id
        self._asker[request] = asker
        self._newest[asker] = request
        if len(self._asker) > 2 * ASKERS_KEPT:  # answered long ago: forget who asked (now and then, not per submit)
            self._asker = {r: a for r, a in self._asker.items() if r > request - ASKERS_KEPT}
        if not self.isRunning() and not self._stopping:
            self.start()
        return request

    def is_newest(self, request: int) -> bool:
        """Whether `request` is the newest its asker made (a result of an older one is stale)."""
        asker = self._asker.get(request)
        return asker is not None and self._newest.get(asker) == request and self.is_current(request)

    def is_current(self, request: int) -> bool:
        """Whether `request` was made after its asker last called `forget` (a drag shows every decode
        that comes back, newest or not, as long as it is for the model still shown)."""
        asker = self._asker.get(request)
        return asker is not None and request > self._floor.get(asker, 0)

    def forget(self, asker: str = "") -> None:
        """Results of what `asker` asked so far no longer count (it now shows another model)."""
        self._floor[asker] = self._next_id

    def pending(self) -> int:
        """Requests submitted but not started (at most 1 when latest_only)."""
        with self._wake:
            return len(self._queue)

    def idle(self) -> bool:
        with self._wake:
            return not self._queue and not self._busy

    def stop(self) -> None:
        """Drop waiting requests, let the running one finish, and end the thread."""
        self.request_stop()
        self.wait()

    def request_stop(self) -> None:
        """Drop waiting requests and end the thread once the running one has finished, without waiting."""
        with self._wake:
            self._stopping = True
            self._queue.clear()
            self._wake.notify()

    def _give_up(self, stuck: bool) -> bool:
        """Whether to stop waiting on the user's model: when stopping, or when it is stuck and newer work waits."""
        return self._stopping or (stuck and self._latest_only and bool(self._queue))

    def run(self) -> None:
        said = lambda text: self.unanswered.emit(f"{text}; the window goes on meanwhile")  # noqa: E731
        with guard.watching(guard.Watch(on_slow=said, give_up=self._give_up, on_late=self.unanswered.emit)):
            self._serve()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._stopping:
                    self._wake.wait()
                if self._stopping:
                    return
                request, payload = self._queue.popleft()
                self._busy = True
            try:
                result = self._fn(payload, lambda obj, r=request: self.progress.emit(r, obj))
            except guard.Abandoned:
                pass  # stopping, or a newer request replaces it: nobody waits for this answer
            except BaseException as e:  # noqa: BLE001 - every failure reaches the UI as a message; the thread lives on
                self.failed.emit(request, describe_error(e))
            else:
                self.done.emit(request, result)
            finally:
                with self._wake:
                    self._busy = False
                    self.runs += 1


class Workers(QObject):
    """One window's worker registry: panels make their workers here, and the window's close stops them all."""

    unanswered = Signal(str)  # any worker's: the user's model has not answered (what to tell the user)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._all: list[Worker] = []

    def add(self, fn, latest_only: bool, name: str, on_done=None, on_failed=None) -> Worker:
        """A new worker running fn, with its done and failed signals connected when given."""
        worker = Worker(fn, latest_only, name, parent=self)
        worker.unanswered.connect(self.unanswered)
        if on_done is not None:
            worker.done.connect(on_done)
        if on_failed is not None:
            worker.failed.connect(on_failed)
        self._all.append(worker)
        return worker

    def __iter__(self):
        return iter(list(self._all))

    def stop(self) -> None:
        """Drop what waits, let what runs finish, end every thread (a QThread destroyed running aborts)."""
        for worker in self._all:
            worker.stop()


class TrainWorker(QThread):
    """Trains `model` on the training split with the core loop; reports steps, epoch snapshots and
    exactly one ending: completed, cancelled, diverged (each with a Run; diverged also for an error after
    an epoch was kept) or failed (a message).

    After each complete epoch it sends a CPU copy of the model with the test embeddings, so the map can
    show the space organising while this thread goes on training the original.
    """

    step = Signal(object)  # training.Progress, at most every PROGRESS_INTERVAL
    epoch = Signal(object)  # Snapshot; epoch 0 is the untrained model
    completed = Signal(object)  # Run
    cancelled = Signal(object)  # Run
    diverged = Signal(object)  # Run: stopped by a non-finite loss, or by an error after an epoch was kept
    failed = Signal(str)  # an error before any epoch was complete

    def __init__(self, model, config, data_dir=None, parent=None):
        super().__init__(parent)
        self.setObjectName("training")
        self.model = model
        self.config = config
        self.data_dir = data_dir
        self._cancel = threading.Event()
        THREADS.add(self)

    def cancel(self) -> None:
        self._cancel.set()

    def request_stop(self) -> None:
        """End the run at its next step, without waiting (at exit; the window's close asks first)."""
        self.cancel()

    def run(self) -> None:
        try:
            # Leave a core to the window: CPU ops on every core (and their spinning threads) starve the UI
            # thread on a small machine. The setting is this thread's own (OpenMP); decoding is unaffected.
            torch.set_num_threads(max(1, torch.get_num_threads() - 1))
            train_split = load_split(self.config.dataset, "train", self.data_dir)
            try:
                test_split = load_split(self.config.dataset, "test", self.data_dir)
            except ExplorerError:
                test_split = None  # train anyway; the map just has no points to show
            last = [0.0]
            recorder = (timeline.Recorder(self.model, test_split.images, test_split.labels)
                        if test_split is not None else None)

            def report(p):
                if p.epoch_done:
                    shot = snapshot(self.model, p, test_split, len(train_split))
                    self.epoch.emit(shot)
                    if recorder is not None and shot.codes is not None:
                        recorder.add(shot.codes)  # the sample's codes are among those the map just got
                now = time.monotonic()
                if p.epoch_done or p.note or now - last[0] >= PROGRESS_INTERVAL:
                    last[0] = now
                    self.step.emit(p)

            self.epoch.emit(snapshot(self.model, None, test_split, len(train_split)))
            result = training.train(self.model, train_split.images, self.config, labels=train_split.labels,
                                    callback=report, should_stop=self._cancel.is_set)
            self.model.cpu()
            meta = training.run_meta(train_split.images, self.config.dataset, self.config, result)
            run = Run(self.model, result, meta, recorder.timeline(result.epochs_done) if recorder is not None else None)
        except Exception as e:  # noqa: BLE001 - reaches the UI as a message, the app keeps working
            self.failed.emit(describe_error(e))
            return
        {"finished": self.completed, "cancelled": self.cancelled}.get(result.status, self.diverged).emit(run)


@dataclass
class Run:
    """How a training run ended: the model (weights of its last complete epoch), result and metadata."""

    model: object
    result: object  # training.TrainResult
    meta: dict
    timeline: object = None  # timeline.Timeline of the test sample after each kept epoch


@dataclass
class Snapshot:
    """A copy of the model in training as of one complete epoch, with where the test images lie."""

    model: object
    progress: object  # training.Progress of the epoch's end; None for the untrained model
    codes: np.ndarray | None  # (N, d) test codes
    split: object  # data.Split the codes are of (the test split), or None
    stats: coding.LatentStats
    train_images: int

    @property
    def epoch(self) -> int:
        return self.progress.epoch if self.progress else 0


def snapshot(model, progress, test_split, train_images: int) -> Snapshot:
    copy = training.copy_model(model)
    has_data = test_split is not None and copy.has_encoder
    codes = coding.embed(copy, test_split.images, test_split.labels) if has_data else None
    if codes is not None and copy.kind != "gan":
        stats = coding.stats_from_embeddings(codes)
    else:
        stats = coding.prior_stats(copy.latent_dim)
    return Snapshot(copy, progress, codes, test_split, stats, train_images)
