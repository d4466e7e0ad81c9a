"""`explorer bench --only decode`: one decode and a 30x30 grid on the CPU, against what a notebook does
(no_grad, a tensor from the array, back to numpy; keras.io's one decoder call per grid cell)."""

from __future__ import annotations

import numpy as np
import torch

from explorer.bench.harness import Row, Settings, check, percentiles, shipped_or_chosen, time_calls
from explorer.engine import checkpoint, coding
from explorer.latent import export, geometry


def part_decode(s: Settings) -> list[Row]:
    paths = shipped_or_chosen(s)
    if not paths:
        return [Row("decode.none", "decode latency", "ms", note="not measured: no checkpoints in trained/")]
    rows = []
    for path in paths:
        ckpt = checkpoint.load(path)
        model, name = ckpt.model.eval(), ckpt.name
        stats = ckpt.stats or coding.prior_stats(model.latent_dim)
        plane, bounds = stats.plane(), stats.bounds
        label = 0 if model.conditional else None
        rng = np.random.default_rng(0)
        uv = rng.uniform(bounds[[0, 2]], bounds[[1, 3]], size=(s.decode_calls, 2))
        codes = plane.to_latent(uv)

        def ours(z):
            coding.decode(model, z, label)

        def tutorial(z):  # what a notebook does: no_grad, a tensor from the array, back to numpy
            with torch.no_grad():
                y = None if label is None else torch.tensor([label])
                return (model.decode(torch.tensor(z[None]), y)[0, 0].numpy() * 255).astype(np.uint8)

        one = {f: time_calls(lambda i, f=f: f(codes[i]), s.decode_calls) for f in (ours, tutorial)}
        grid = time_calls(lambda i: export.grid_image(model, plane, 30, bounds, label), s.grid_calls)
        cells = plane.to_latent(geometry.grid_coords(30, bounds))

        def tutorial_grid(i):  # keras.io's plot_latent_space: one decoder call per cell
            figure = np.zeros((30 * 28, 30 * 28), dtype=np.uint8)
            for k, z in enumerate(cells):
                r, c = divmod(k, 30)
                figure[r * 28 : (r + 1) * 28, c * 28 : (c + 1) * 28] = tutorial(z)

        tut_grid = time_calls(tutorial_grid, s.tutorial_grid_calls)
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
                    f"explorer.engine.coding.decode (validated, uint8 out) vs no_grad + model.decode + numpy; grid: "
                    f"{s.grid_calls} calls of export.grid_image (one batched decode) vs {s.tutorial_grid_calls} "
                    f"of keras.io's plot_latent_space loop (one decode per cell); {torch.get_num_threads()} threads.")
    return rows
