"""The GUI benchmark runs end to end and reports every figure (the figures themselves are not judged)."""

from __future__ import annotations

import json
import math

from explorer.gui import bench


def test_bench_reports_every_figure(capsys, small_root, gui_models, monkeypatch):
    monkeypatch.setenv("EXPLORER_TRAINED_DIR", str(gui_models))
    assert bench.main(["--points", "2000", "--repeat", "2", "--json", "--epochs", "1",
                       "--data-dir", str(small_root)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["points"] == 2000
    timings = {k: v for k, v in results.items() if k.endswith("(ms)") or k.endswith("(s)")}
    assert len(timings) == 10 and all(math.isfinite(v) and v > 0 for v in timings.values())
