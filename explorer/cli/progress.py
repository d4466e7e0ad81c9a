"""Progress on the terminal: a download's bytes, a fraction of some work, a training run's steps."""

from __future__ import annotations

import sys
import time


def download_bar():
    """A download's bytes: a bar on a terminal; into a log, one line per file when it is done (a bar there
    left 152 carriage-return updates on one line for MNIST's 9.9 MB training images)."""
    tty = sys.stderr.isatty()

    def show(done, total, name):
        if not total:
            return
        if tty:
            print(f"\rdownloading {name}: {done / total:6.1%} of {total / 1e6:.1f} MB", end="", file=sys.stderr)
        if done >= total:
            print("" if tty else f"downloaded {name} ({total / 1e6:.1f} MB)", file=sys.stderr)
    return show


def fraction_bar(what: str, width: int = 24):
    """A bar for work that reports the fraction done (on a terminal; silent otherwise)."""
    tty = sys.stderr.isatty()

    def show(fraction: float):
        if tty:
            filled = int(width * fraction)
            print(f"\r{what}: [{'#' * filled}{'.' * (width - filled)}] {fraction:5.1%}",
                  end="\n" if fraction >= 1 else "", file=sys.stderr)
    return show


def progress_bar(width: int = 24):
    """Per-step bar on a terminal; one line per epoch always."""
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(p):
        if p.note:
            print(f"\n{p.note}" if tty else p.note, file=sys.stderr)
            return
        terms = "  ".join(f"{k} {v:.4g}" for k, v in p.losses.items())
        if p.epoch_done:
            clear = f"\r{'':{width + 60}}\r" if tty else ""
            print(f"{clear}epoch {p.epoch:>3}/{p.epochs}  {terms}  ({p.seconds:.1f} s)", file=sys.stderr)
        elif tty and time.monotonic() - last[0] > 0.1:
            last[0] = time.monotonic()
            filled = int(width * p.fraction)
            eta = f"ETA {p.eta_seconds:.0f} s" if p.eta_seconds is not None else ""
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {p.fraction:5.1%}  {terms}  {eta}   ",
                  end="", file=sys.stderr)
    return show
