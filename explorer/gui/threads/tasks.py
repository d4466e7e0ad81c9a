"""One-off jobs (exports, saves, opening a path file, loading the classifier) on one ordered worker:
run(fn, *args) off the UI thread, then a callback with the result; a failure becomes one message and
whatever was shown stays."""

from __future__ import annotations

import os
from typing import Callable

from PySide6.QtCore import QObject, Signal

from explorer.gui import last_folder
from explorer.gui.feedback import Feedback
from explorer.gui.threads.workers import Workers
from explorer.latent import worker_jobs


class Tasks(QObject):
    wrote = Signal(str)  # a file was written (the jobs run with report=True return its path)

    def __init__(self, workers: Workers, feedback: Feedback, parent=None):
        super().__init__(parent)
        self.feedback = feedback
        self.worker = workers.add(worker_jobs.call, False, "jobs", self._done, self._failed)
        self._callbacks: dict[int, tuple] = {}

    def run(self, job: tuple, on_done: Callable | None = None, report: bool = True,
            failure: str = "Could not write the file", on_failed: Callable[[str], None] | None = None) -> int:
        """Run fn(*args) (job = (fn, *args)); then on_done(result), and with `report` say which file was
        written. A failure shows its message under the title `failure` and calls on_failed(message)."""
        r = self.worker.submit(job, "tasks")
        self._callbacks[r] = (on_done, report, failure, on_failed)
        return r

    def pending(self) -> int:
        """Jobs asked for whose answer has not come back yet."""
        return len(self._callbacks)

    def _done(self, r: int, result) -> None:
        on_done, report, _, _ = self._callbacks.pop(r)
        if on_done:
            on_done(result)
        if report:
            self.report_written(result)

    def _failed(self, r: int, message: str) -> None:
        _, _, failure, on_failed = self._callbacks.pop(r)
        self.feedback.set_idle()
        self.feedback.show_message(failure, message)
        if on_failed:
            on_failed(message)

    def report_written(self, path) -> None:
        """Say that `path` was written; file dialogs start in its folder from now on (only once the write
        worked: a failed export to a missing folder left every later dialog pointing at it)."""
        last_folder.remember(os.path.abspath(path))
        self.feedback.say(f"Wrote {path}", 8000)
        self.wrote.emit(str(path))
