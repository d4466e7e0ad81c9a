"""The benchmark harness: a Row of the table, the Settings every part reads, measuring the chosen parts,
the machine they ran on, and the Markdown table.

The table is Markdown, one section per part, columns: figure | ours | tutorial loop (or a published
anchor) | ratio | target | pass. `--json` prints {"command", "machine", "seconds", "parts": {name:
{"title", "rows": [Row fields]}}}; every row has a stable "key" (e.g. "quality.vae-2d-mlp.elbo").
Timings are printed, never asserted.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from explorer.data.datasets import Split, data_root, load_split
from explorer.engine import checkpoint, trained
from explorer.utils.errors import ExplorerError


@dataclass
class Row:
    key: str  # stable id: part.subject.figure
    figure: str  # what is measured, in words
    unit: str  # s, ms, x, nats, mse, share, fd, MiB or "" (a plain number)
    ours: float | None = None
    reference: float | None = None  # the tutorial loop's figure, or a published anchor
    ratio: float | None = None  # how many times better ours is (reference time / our time)
    target: str = ""
    passed: bool | None = None
    ours_note: str = ""  # shown beside the figure, e.g. "(7 epochs)"
    reference_note: str = ""
    note: str = ""  # a footnote: how it was measured, or why it was not
    extra: dict = field(default_factory=dict)  # further numbers for --json (p50, per-epoch losses, ...)


@dataclass
class Settings:
    data_dir: str | None = None
    quick: bool = False
    tutorial_epochs: int = 20
    decode_calls: int = 1000
    grid_calls: int = 50
    tutorial_grid_calls: int = 5
    startup_runs: int = 3
    gpu_images: int = 60_000
    gpu_epochs: int = 20
    gpu_peak_n: int = 8192  # matrix size for the measured matmul peak
    models: list[Path] | None = None  # None: the shipped checkpoints
    classifier: Path | None = None  # None: the shipped classifier
    log: Callable[[str], None] = field(default=lambda s: print(f"bench: {s}", file=sys.stderr, flush=True))

    @classmethod
    def from_args(cls, args) -> "Settings":
        s = cls(data_dir=getattr(args, "data_dir", None), quick=bool(getattr(args, "quick", False)))
        if s.quick:  # minutes -> about a minute: the tutorial's 3-epoch loss, fewer calls
            s = replace(s, tutorial_epochs=3, decode_calls=200, grid_calls=10,
                        tutorial_grid_calls=2, startup_runs=1, gpu_images=20_000, gpu_epochs=5)
        return s


PartFn = Callable[[Settings], "list[Row]"]


def measure(parts: dict[str, tuple[str, PartFn]], settings: Settings) -> dict:
    start = time.perf_counter()
    info = machine()
    results = {}
    for name, (title, fn) in parts.items():
        settings.log(f"{name}: {title}")
        results[name] = {"title": title, "rows": [asdict(r) for r in fn(settings)]}
    info["load_average_after"] = _load_average()
    return {"machine": info, "seconds": round(time.perf_counter() - start, 1), "parts": results}


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory = round(pages * size / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        memory = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "memory_gib": memory,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "os": platform.platform(terse=True),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average_before": _load_average(),
    }


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def markdown(report: dict) -> str:
    m = report["machine"]
    gpu = m["gpu"] or "no GPU"
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores ({m['torch_threads']} torch threads), {m['memory_gib']} GiB, "
        f"{gpu}; {m['os']}, Python {m['python']}, torch {m['torch']}; load average {m['load_average_before']} "
        f"before, {m['load_average_after']} after.",
        f"Command: `{report['command']}` ({report['seconds']:.0f} s).",
    ]
    for part_result in report["parts"].values():
        rows = part_result["rows"]
        lines += ["", f"**{part_result['title']}**", "",
                  "| Figure | Ours | Tutorial loop / reference | Ratio | Target | Pass |",
                  "|---|---|---|---|---|---|"]
        notes = []
        for r in rows:
            mark = ""
            if r["note"]:
                notes.append(r["note"])
                mark = f" [{len(notes)}]"
            lines.append("| " + " | ".join([
                r["figure"] + mark,
                _cell(r["ours"], r["unit"], r["ours_note"]),
                _cell(r["reference"], r["unit"], r["reference_note"]),
                f"{r['ratio']:.1f}×" if r["ratio"] is not None else "",
                r["target"],
                {True: "yes", False: "**no**", None: ""}[r["passed"]],
            ]) + " |")
        lines += [""] + [f"- [{i}] {n}" for i, n in enumerate(notes, 1)] if notes else []
    return "\n".join(lines)


def _cell(value, unit: str, note: str) -> str:
    if value is None:
        return note or "—"
    text = {"s": f"{value:.3g} s", "ms": f"{value:.3g} ms", "x": f"{value:.3g}×", "MiB": f"{value:.0f} MiB",
            "share": f"{value:.1%}", "mse": f"{value:.5f}", "nats": f"{value:.2f}"}.get(unit, f"{value:.4g}")
    return f"{text} {note}".strip()


def check(value: float | None, op: str, bound: float) -> bool | None:
    if value is None or not math.isfinite(value):
        return None
    return value <= bound if op == "<=" else value >= bound


# ----------------------------------------------------------------------------------- training parts


def bench_split(s: Settings, name: str) -> Split:
    try:
        return load_split("mnist", name, s.data_dir, download=False)  # a benchmark never downloads
    except ExplorerError:
        raise ExplorerError(f"explorer bench needs MNIST already on disk and never downloads it; no {name} split "
                            f"under {data_root(s.data_dir) / 'MNIST' / 'raw'}: point --data-dir or "
                            f"EXPLORER_DATA_DIR at a torchvision root (`explorer train` downloads one)") from None


def bench_classifier(s: Settings):
    path = s.classifier or trained.classifier_path()
    return checkpoint.load(path).model.eval() if path else None


# ------------------------------------------------------------------------------------------ decode


def shipped_or_chosen(s: Settings) -> list[Path]:
    return list(s.models) if s.models is not None else trained.shipped()


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ms = np.asarray(seconds) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def time_calls(fn: Callable[[int], object], calls: int, warmup: int = 5) -> list[float]:
    for i in range(warmup):
        fn(i % calls)
    out = []
    for i in range(calls):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


# ------------------------------------------------------------------------------- timing a process


def time_lines(command: list[str], env: dict, lines: tuple[str, ...], timeout: float = 60) -> dict:
    """{line: (seconds from starting `command` to printing it, peak resident MiB by then)} for
    each of `lines` the command prints before it exits (or is killed after `timeout`)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    seen: dict[str, tuple[float, float | None]] = {}

    def read():
        for line in proc.stdout:
            if line.strip() in lines and line.strip() not in seen:
                seen[line.strip()] = (time.perf_counter() - start, _peak_rss_mib(proc.pid))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    reader.join(timeout=5)
    return seen


def _peak_rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None
