"""`explorer bench`: how fast and how good, measured on this machine, beside a tutorial-style loop.

Each part is a function (Settings) -> list of Rows, registered in PARTS by name; `--only` picks
parts. The GUI keeps its timings (start-up, the map) beside its code, in explorer/gui/bench.py: the
CLI passes that PARTS dict of the same shape to `run`, so this module never imports the GUI.
Timings are printed, never asserted.

The table is Markdown, one section per part, columns: figure | ours | tutorial loop (or a published
anchor) | ratio | target | pass. `--json` prints {"command", "machine", "seconds", "parts": {name:
{"title", "rows": [Row fields]}}}; every row has a stable "key" (e.g. "quality.vae-2d-mlp.elbo").
"""

from __future__ import annotations

import json
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

from explorer import checkpoint, export, latent, metrics, trained
from explorer.data import Split, data_root, load_split
from explorer.config import BENCH_LONG
from explorer.errors import ExplorerError

TUTORIAL = "DataLoader(torchvision MNIST, ToTensor, batch 128, shuffle), Adam lr 1e-3"
KERAS_VAE = {"loss": 146.9508, "recon": 140.1473, "kl": 6.7960}  # keras.io "Variational AutoEncoder", epoch 30/30


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
PARTS: dict[str, tuple[str, PartFn]] = {}


def part(name: str, title: str):
    def register(fn: PartFn) -> PartFn:
        PARTS[name] = (title, fn)
        return fn
    return register


# ---------------------------------------------------------------------------------------------- run


def run(args, extra_parts: dict[str, tuple[str, PartFn]] | None = None) -> int:
    """Entry point of `explorer bench` with our parts and `extra_parts` (the GUI's, from the CLI); prints
    the table (or JSON) on stdout, progress on stderr."""
    settings = Settings.from_args(args)
    parts = {**PARTS, **(extra_parts or {})}
    chosen = args.only or [name for name in parts if getattr(args, "full", False) or name not in BENCH_LONG]
    unknown = [p for p in chosen if p not in parts]
    if unknown:
        raise ExplorerError(f"unknown bench part {', '.join(unknown)}; choose from {', '.join(parts)}")
    report = measure({name: parts[name] for name in chosen}, settings)
    report["command"] = "python -m explorer bench" + (" --quick" if settings.quick else "") + \
        (f" --only {' '.join(chosen)}" if args.only else " --full" if getattr(args, "full", False) else "")
    print(json.dumps(report, indent=2) if args.json else markdown(report))
    return 0


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


from explorer import bench_training  # noqa: E402,F401 - registers the training parts here, in this order
from explorer import bench_reference  # noqa: E402,F401 - pytorch/examples' recipe beside ours at every latent size
from explorer import bench_maps  # noqa: E402,F401 - and the decodable maps' part after them


# ------------------------------------------------------------------------------------------ decode


def _checkpoints(s: Settings) -> list[Path]:
    return list(s.models) if s.models is not None else trained.shipped()


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ms = np.asarray(seconds) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


@part("decode", "Decoding on the CPU: one point, and a 30×30 grid")
def part_decode(s: Settings) -> list[Row]:
    paths = _checkpoints(s)
    if not paths:
        return [Row("decode.none", "decode latency", "ms", note="not measured: no checkpoints in trained/")]
    rows = []
    for path in paths:
        ckpt = checkpoint.load(path)
        model, name = ckpt.model.eval(), ckpt.name
        stats = ckpt.stats or latent.prior_stats(model.latent_dim)
        plane, bounds = stats.plane(), stats.bounds
        label = 0 if model.conditional else None
        rng = np.random.default_rng(0)
        uv = rng.uniform(bounds[[0, 2]], bounds[[1, 3]], size=(s.decode_calls, 2))
        codes = plane.to_latent(uv)

        def ours(z):
            latent.decode(model, z, label)

        def tutorial(z):  # what a notebook does: no_grad, a tensor from the array, back to numpy
            with torch.no_grad():
                y = None if label is None else torch.tensor([label])
                return (model.decode(torch.tensor(z[None]), y)[0, 0].numpy() * 255).astype(np.uint8)

        one = {f: _time_calls(lambda i, f=f: f(codes[i]), s.decode_calls) for f in (ours, tutorial)}
        grid = _time_calls(lambda i: export.grid_image(model, plane, 30, bounds, label), s.grid_calls)
        cells = plane.to_latent(latent.grid_coords(30, bounds))

        def tutorial_grid(i):  # keras.io's plot_latent_space: one decoder call per cell
            figure = np.zeros((30 * 28, 30 * 28), dtype=np.uint8)
            for k, z in enumerate(cells):
                r, c = divmod(k, 30)
                figure[r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28] = tutorial(z)

        tut_grid = _time_calls(tutorial_grid, s.tutorial_grid_calls)
        (o50, o99), (t50, t99) = percentiles(one[ours]), percentiles(one[tutorial])
        (g50, g99), (tg50, tg99) = percentiles(grid), percentiles(tut_grid)
        rows += [
            Row(f"decode.{name}.one_p99", f"{name}: one decode, p99", "ms", o99, t99, t99 / o99, "≤ 2 ms",
                check(o99, "<=", 2.0), f"(p50 {o50:.3g})", f"(p50 {t50:.3g})",
                extra={"ours_p50": o50, "tutorial_p50": t50, "calls": s.decode_calls}),
            Row(f"decode.{name}.grid_p99", f"{name}: 30×30 grid, p99", "ms", g99, tg99, tg99 / g99, "≤ 50 ms",
                check(g99, "<=", 50.0), f"(p50 {g50:.3g})", f"(p50 {tg50:.3g})",
                extra={"ours_p50": g50, "tutorial_p50": tg50, "calls": s.grid_calls,
                       "tutorial_calls": s.tutorial_grid_calls}),
        ]
    rows[0].note = (f"random points within each model's data range; one decode: {s.decode_calls} calls of "
                    f"explorer.latent.decode (validated, uint8 out) vs no_grad + model.decode + numpy; grid: "
                    f"{s.grid_calls} calls of export.grid_image (one batched decode) vs {s.tutorial_grid_calls} "
                    f"of keras.io's plot_latent_space loop (one decode per cell); {torch.get_num_threads()} threads.")
    return rows


def _time_calls(fn: Callable[[int], object], calls: int, warmup: int = 5) -> list[float]:
    for i in range(warmup):
        fn(i % calls)
    out = []
    for i in range(calls):
        t = time.perf_counter()
        fn(i)
        out.append(time.perf_counter() - t)
    return out


# ----------------------------------------------------------------------------------------- quality


@part("quality", "Quality on the test split (`explorer evaluate`), every shipped model")
def part_quality(s: Settings) -> list[Row]:
    paths = _checkpoints(s)
    if not paths:
        return [Row("quality.none", "quality", "", note="not measured: no checkpoints in trained/")]
    test = bench_split(s, "test")
    train_split = bench_split(s, "train")
    classifier = bench_classifier(s)
    rows = []
    for path in paths:
        ckpt = checkpoint.load(path)
        ckpt.model.eval()
        if ckpt.stats is None:
            ckpt.stats = latent.infer_stats(ckpt.model, test.images, test.labels)
        s.log(f"evaluating {ckpt.name}")
        r = metrics.evaluate(ckpt, test, train_split if ckpt.model.has_encoder else None, classifier)
        rows += quality_rows(ckpt.name, r, ckpt.meta)
    if classifier is None:
        rows.append(Row("quality.classifier", "decodability, Fréchet distance", "",
                        note="not measured: no classifier (trained/mnist-classifier.safetensors)"))
    return rows


def quality_rows(name: str, r: dict, meta: dict) -> list[Row]:
    trained_on = f"({meta.get('train_images', 0):,} images, {meta.get('epochs', '?')} epochs)"
    gan, conditional = r["kind"] == "gan", r["kind"] == "cvae"
    rows = []
    if "recon_mse" in r:
        through = " G(E(x))" if gan else ""
        rows += [
            Row(f"quality.{name}.recon_mse", f"{name}: reconstruction{through}, pixel MSE", "mse", r["recon_mse"],
                ours_note=trained_on, note="a GAN reconstructs through its inversion encoder E, fitted to G's "
                                           "samples, never to real images" if gan else ""),
            Row(f"quality.{name}.recon_bce", f"{name}: reconstruction{through}, BCE nats/image", "nats",
                r["recon_bce"]),
        ]
    if "elbo" in r:
        keras = KERAS_VAE if name == "vae-2d-mlp" else {}
        rows.append(Row(
            f"quality.{name}.elbo", f"{name}: test −ELBO, nats/image (Bernoulli)", "nats", -r["elbo"],
            keras.get("loss"), ours_note=f"(= {r['elbo_recon']:.2f} + KL {r['elbo_kl']:.2f})",
            reference_note=f"(= {keras['recon']:.2f} + KL {keras['kl']:.2f}, Keras)" if keras else "",
            note=keras_comparison(r, meta) if keras else "",
            extra={"elbo": r["elbo"], "recon": r["elbo_recon"], "kl": r["elbo_kl"]}))
    if "nll" in r:
        rows.append(Row(f"quality.{name}.nll", f"{name}: test NLL, nats/image (importance-sampled)", "nats", r["nll"],
                        ours_note=f"(K = {r['nll_samples']})",
                        note="-log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x) with z_k ~ q(z|x) (Burda et al. 2016); "
                             "never above the -ELBO, and falls towards -log p(x) as K grows"))
    if "knn5_accuracy" in r:
        rows.append(Row(f"quality.{name}.knn5", f"{name}: 5-NN accuracy of test codes", "share", r["knn5_accuracy"],
                        note="near chance, as it should be: the decoder is given the digit, so the codes hold only "
                             "style" if conditional else ""))
    if "decodability" in r:
        rows.append(Row(f"quality.{name}.decodability", f"{name}: decodability (12×12 grid, confidence ≥ 0.9)",
                        "share", r["decodability"], extra={"grid": r["decodability_grid"]},
                        note="averaged over the ten digits the decoder can be given" if conditional else ""))
    if "frechet_distance" in r:
        rows.append(Row(f"quality.{name}.frechet", f"{name}: Fréchet distance, 10,000 samples vs test", "fd",
                        r["frechet_distance"], note="on the shipped classifier's 128 penultimate features"))
    if "prior_grid_clean" in r:
        digits = r["prior_grid_digits"]
        rows.append(Row(f"quality.{name}.prior_grid", f"{name}: 12×12 grid over ±2σ of the prior, clean cells",
                        "share", r["prior_grid_clean"], extra={"digits": digits},
                        ours_note=f"({len(digits)} digits: {' '.join(map(str, digits))})",
                        note="cells the classifier names with confidence ≥ 0.9"))
    return rows


def keras_comparison(r: dict, meta: dict) -> str:
    gap = KERAS_VAE["loss"] + r["elbo"]
    return (f"keras.io's 2-d VAE example (conv encoder and decoder, 134k weights) ends its 30th epoch (batch 128) over "
            f"all 70,000 MNIST images at loss {KERAS_VAE['loss']} = BCE {KERAS_VAE['recon']} + KL {KERAS_VAE['kl']}: "
            f"a training figure, averaged over the epoch while the weights still move, with the 10,000 test images "
            f"among those it trained on. Ours is the ELBO on those 10,000 test images, which it never saw (784-256-128 "
            f"MLP, 469k weights, {meta.get('train_images', 0):,} train images, {meta.get('epochs', '?')} epochs, one "
            f"seeded posterior draw per image). Both are the Bernoulli likelihood on grey values (binary cross-"
            f"entropy summed over the 784 pixels) plus the analytic KL, in nats per image, so they measure the same "
            f"thing. Ours is {abs(gap):.1f} nats {'lower (better)' if gap > 0 else 'higher (worse)'} on unseen "
            f"images, with a third of the data: its MLP has 3.5x the weights, and its KL ({r['elbo_kl']:.2f} nats) "
            f"is close to Keras' ({KERAS_VAE['kl']}), so the difference is in reconstruction.")


# ------------------------------------------------------------------------------- timing a process


def time_lines(command: list[str], env: dict, lines: tuple[str, ...], timeout: float = 60) -> dict:
    """{line: (seconds from starting `command` to printing it, peak resident MiB by then)} for
    each of `lines` the command prints before it exits (or is killed after `timeout`)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            cwd=Path(__file__).parent.parent)
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
