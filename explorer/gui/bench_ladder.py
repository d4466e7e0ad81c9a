"""How long the lecture's beta ladder takes here, trained and shown:
`python -m explorer.gui.bench_ladder [--epochs 10] [--values 0,0.25,1,4,16] [--data-dir DIR]`.

Trains the ladder with `explorer train --ladder beta=...` in a fresh process (train, save and the
table of figures per rung), then opens every rung in the compare view's small multiples (offscreen)
and times until each map and its decoded background are drawn. Prints one line per stage and the
load average, since a shared machine's other work counts in every figure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch  # noqa: F401 - before the QApplication


def train(values: str, epochs: int, data_dir, folder: Path) -> float:
    command = [sys.executable, "-m", "explorer", "train", "--ladder", f"beta={values}", "--epochs", str(epochs),
               "--out", str(folder / "ladder.safetensors"), *(["--data-dir", str(data_dir)] if data_dir else [])]
    start = time.perf_counter()
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def show(folder: Path, data_dir) -> float:
    """Seconds from asking the compare view for the rungs to every map drawn with its background."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from explorer.gui.app import application
    from explorer.gui.bench import wait_for
    from explorer.gui.main_window import MainWindow

    app = application()
    window = MainWindow(data_dir=data_dir)
    window.show()
    try:
        paths = sorted(folder.glob("ladder-*.safetensors"))
        start = time.perf_counter()
        for path in paths:  # each opened and its images placed, on the loader thread, in order
            window.models.open(str(path), show=False)
        wait_for(app, lambda: sum(s.name.startswith("ladder-") for s in window.models.sessions.values()) == len(paths))
        window.show_compare()
        compare = window.compare
        compare.show_models([k for k, s in window.models.sessions.items() if s.name.startswith("ladder-")])
        wait_for(app, lambda: all(c.session is not None and c.map.background.image is not None for c in compare.shown))
        return time.perf_counter() - start
    finally:
        window.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m explorer.gui.bench_ladder")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--values", default="0,0.25,1,4,16")
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        load = os.getloadavg()
        trained = train(args.values, args.epochs, args.data_dir, Path(folder))
        shown = show(Path(folder), args.data_dir)
        after = os.getloadavg()
    print(f"beta={args.values}, {args.epochs} epochs each: trained, saved and measured in {trained:.1f} s; "
          f"shown in the compare view in {shown:.1f} s; total {trained + shown:.1f} s "
          f"(load average {load[0]:.2f} before, {after[0]:.2f} after; {os.cpu_count()} CPUs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
