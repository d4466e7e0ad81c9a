"""`explorer bench`: the parts in the order they run, and the command that measures the chosen ones.

Each part is a function (Settings) -> list of Rows. The GUI keeps its timings (start-up, the map) beside
its code, in explorer/gui/bench.py: the CLI passes those parts in the same shape to `run`, so the
benchmarks never import the GUI. Timings are printed, never asserted.
"""

from __future__ import annotations

import json

from explorer.bench import decoding, maps, quality, reference, training
from explorer.bench.harness import PartFn, Settings, markdown, measure
from explorer.bench.parts import BENCH_LONG
from explorer.utils.errors import ExplorerError

PARTS: dict[str, tuple[str, PartFn]] = {
    "train": ("Training on the CPU: the engine's defaults vs a tutorial loop", training.part_train),
    "gpu": ("Training on a GPU: 20 epochs of full-size MNIST", training.part_gpu),
    "decode": ("Decoding on the CPU: one point, and a 30×30 grid", decoding.part_decode),
    "quality": ("Quality on the test split (`explorer evaluate`), every shipped model", quality.part_quality),
    "reference": ("Every latent size: our defaults vs pytorch/examples' vae/main.py recipe (10 epochs each)",
                  reference.part_reference),
    "maps": ("Decodable UMAP and t-SNE maps: layout, learned inverse, fit (shipped 16-d VAE)", maps.part_maps),
}


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
