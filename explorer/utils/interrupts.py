"""Signals as requests to stop. A long command (`explorer train`) stops at a safe point on Ctrl-C,
SIGTERM (what `kill`, systemd and job schedulers send) or SIGHUP (the terminal closed) alike, and
saves what it has; once it is saving, a further signal waits for the file instead of losing it.
"""

from __future__ import annotations

import signal
import sys
import threading

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP where nothing can be saved: unwinds like Ctrl-C, so cleanup (temp files,
    partial downloads) still runs, instead of the process vanishing mid-write."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def raise_terminated(signum, frame):
    raise Terminated(signum)


class StopRequests:
    """Within `with StopRequests() as stop:` the first signal sets `stop.requested` (a training loop
    polls it between steps). A second Ctrl-C raises KeyboardInterrupt, the way out without saving,
    until `stop.saving()`; from then on every signal is only noted (and keeps `requested`), until
    `stop.watching()`."""

    def __init__(self, second_quits: bool = True, quiet: bool = False):
        self.requested = False
        self._saving = False
        self._previous = {}
        self.second_quits = second_quits  # False under torchrun, which passes one Ctrl-C on to every rank again
        self.quiet = quiet  # say nothing (the other ranks of a torchrun)

    def __enter__(self) -> "StopRequests":
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._on_signal) for s in STOP_SIGNALS
                              if signal.getsignal(s) is not None}  # None: not Python's to put back
        return self

    def __exit__(self, *exc) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def saving(self) -> None:
        self._saving = True

    def watching(self) -> None:
        """After a save, the next run (a ladder's next rung) stops on a signal again."""
        self._saving = False

    def _on_signal(self, signum, frame) -> None:
        name = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        if self._saving:
            self.requested = True  # what comes after this file (a ladder's next rung) does not start
            self._say(f"{name}: saving the run first; it ends once the file is written")
        elif not self.requested:
            self.requested = True
            again = "; Ctrl-C again to quit without saving" if signum == signal.SIGINT else ""
            self._say(f"{name}: stopping at the next step, then saving the last complete epoch{again}")
        elif signum == signal.SIGINT and self.second_quits:
            raise KeyboardInterrupt

    def _say(self, text: str) -> None:
        if not self.quiet:
            print(f"\n{text}", file=sys.stderr, flush=True)
