"""Every worker thread has ended before the process does.

A QThread destroyed while it runs aborts the whole process ("QThread: Destroyed while thread 'load' is
still running", SIGABRT, exit 134). Closing a window stops its threads, but a script that raised, or
ended without `explorer.run()` while a window was open, left them running when Python tore its objects
down: the user's own exception (or a clean end) became an abort. So when the application quits, and at
interpreter exit, every thread still running is asked to stop (what waits is dropped, what runs
finishes) and joined, for at most EXIT_WAIT_S. One that does not end by then (a model that never
answers) cannot be stopped from outside: the process says so in one line and exits at once with
status 1, instead of aborting.
"""

from __future__ import annotations

import atexit
import os
import sys
import time

EXIT_WAIT_S = 10.0  # the longest a request runs in normal use is opening a model (a few seconds here)
_registered = False


def install(app) -> None:
    """Join the threads when `app` quits, and at interpreter exit (once per process)."""
    global _registered
    app.aboutToQuit.connect(lambda: stop_threads(EXIT_WAIT_S, exiting=False))
    if not _registered:
        _registered = True
        atexit.register(lambda: stop_threads(EXIT_WAIT_S, exiting=True))


def running_threads() -> list:
    """Our worker threads still running (none when no window was ever made)."""
    workers = sys.modules.get("explorer.gui.threads.workers")
    if workers is None:
        return []
    import shiboken6

    return [t for t in list(workers.THREADS) if shiboken6.isValid(t) and t.isRunning()]


def stop_threads(wait_s: float, exiting: bool) -> list[str]:
    """Ask every running worker thread to stop and join each, for `wait_s` in all; the names of those
    still running. `exiting` (interpreter exit): if any is, say so and end the process now."""
    threads = running_threads()
    for thread in threads:
        if hasattr(thread, "request_stop"):  # else a thread that ends by itself: only joined
            thread.request_stop()
    deadline = time.monotonic() + wait_s
    left = [t.objectName() for t in threads if not t.wait(max(0, int(1000 * (deadline - time.monotonic()))))]
    if left and exiting:
        print(f"explorer: exiting without waiting for the {', '.join(left)} thread"
              f"{'s' if len(left) > 1 else ''}, still busy after {wait_s:g} s (a model that does not answer?)",
              file=sys.stderr)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(1)  # a running QThread destroyed would abort (SIGABRT) on the way out
    return left
