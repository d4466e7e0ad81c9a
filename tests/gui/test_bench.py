"""The GUI benchmark runs end to end and reports every figure (the figures themselves are not judged)."""

from __future__ import annotations

import json
import math

from explorer.gui import bench


def test_bench_reports_every_figure(capsys, small_root, gui_models, monkeypatch):
    monkeypatch.setenv("EXPLORER_TRAINED_DIR", str(gui_models))
    assert bench.main(["--points", "2000", "--repeat", "2", "--json", "--epochs", "1", "--moves", "10",
                       "--data-dir", str(small_root)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["points"] == 2000
    timings = {k: v for k, v in results.items() if k.endswith("(ms)") or k.endswith("(s)")}
    assert len(timings) == 15 and all(math.isfinite(v) and v > 0 for v in timings.values())


def test_the_map_part_reports_every_row_from_a_fresh_process(small_root, gui_models, monkeypatch):
    from explorer.bench.harness import Settings

    monkeypatch.setenv("EXPLORER_TRAINED_DIR", str(gui_models))
    assert {"startup", "map"} <= set(bench.PARTS)  # `explorer bench` runs them with the others
    rows = bench.part_map(Settings(data_dir=str(small_root), quick=True))
    assert [r.key for r in rows] == ["map.set_points_ms", "map.frame_ms", "map.hide_digit_ms", "map.move_p50_ms",
                                     "map.move_p99_ms", "map.train_gap_ms", "map.train_gap_p99_ms"]
    assert all(math.isfinite(r.ours) and r.ours > 0 for r in rows)
    assert rows[0].target == "≤ 150 ms" and rows[0].passed is not None
