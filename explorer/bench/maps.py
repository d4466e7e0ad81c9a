"""`explorer bench --only maps`: how long a decodable UMAP or t-SNE map takes to lay out and to learn its
way back, for the shipped 16-d VAE's test codes (10,000) and for every image on disk, and how well its
inverse fits. Registered into explorer.bench's PARTS."""

from __future__ import annotations

import time

import numpy as np

from explorer.bench.harness import Row, Settings, bench_split
from explorer.engine import checkpoint, coding, trained
from explorer.latent import maps
from explorer.latent.maps import inverse, projection
from explorer.utils.errors import ExplorerError

MODEL = "vae-16d-mlp"


def part_maps(s: Settings) -> list[Row]:
    path = trained.trained_dir() / f"{MODEL}.safetensors"
    if not path.is_file():
        return [Row("maps.missing", "decodable maps", "s", ours_note=f"not measured: no {MODEL} in trained/")]
    model = checkpoint.load(path, expect="latent").model
    test = bench_split(s, "test")
    codes = {"test": coding.embed(model, test.images, test.labels)}
    if not s.quick:
        train = bench_split(s, "train")
        codes["all"] = np.concatenate([codes["test"], coding.embed(model, train.images, train.labels)])
    rows = []
    for method in ("umap", "tsne"):
        for name, z in codes.items():
            s.log(f"maps: {method} of {len(z):,} codes")
            try:
                start = time.perf_counter()
                uv = projection.layout(z, method)
                laid = time.perf_counter() - start
                start = time.perf_counter()
                fitted = inverse.fit(uv, z)
                fit = time.perf_counter() - start
            except ExplorerError as e:  # the optional extra is not installed
                rows.append(Row(f"maps.{method}.{name}", f"{maps.NAMES[method]} of {len(z):,} codes", "s",
                                ours_note=f"not measured: {e}"))
                continue
            key = f"maps.{method}.{len(z)}"
            rows += [Row(f"{key}.layout_s", f"{maps.NAMES[method]} layout of {len(z):,} codes", "s", laid),
                     Row(f"{key}.inverse_s", f"its learned inverse, {inverse.STEPS} steps", "s", fit),
                     Row(f"{key}.error", "inverse's median miss on the data / codes' spread", "share",
                         inverse.relative_error(fitted, uv, z))]
    return rows
