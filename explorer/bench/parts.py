"""The parts of `explorer bench`, in the order they run, and how long each takes: for the parser's --help
and the README, without importing torch."""

# `explorer bench`'s parts, in the order they run, and about how long each takes in seconds on the
# development machine (AMD EPYC, 2 cores, no GPU, nothing else running): said by --help and the README.
# train, reference, maps, startup and map from bench/RESULTS.md; quality and decode took 500 s and 51 s
# with the 2 cores shared at load average 8.5 (2026-12-07), about 3.5 times their quiet time. The GPU part
# measures nothing without a GPU (about a minute with one). The long ones run only when named with --only,
# or with --full: the default is a few minutes.
BENCH_PARTS = {"train": 150, "gpu": 0, "decode": 15, "quality": 150, "reference": 325, "maps": 240,
               "startup": 20, "map": 15}
BENCH_LONG = ("quality", "reference", "maps")


def bench_time(names) -> str:
    """How long these bench parts take on the development machine, in words: "4 min", "20 s"."""
    seconds = sum(BENCH_PARTS[name] for name in names)
    return f"{seconds} s" if seconds < 90 else f"{seconds / 60:.1f} min".replace(".0 min", " min")
