"""Terminal progress: bars on a terminal, plain lines in a log (a CI log or `2> run.log`)."""

from __future__ import annotations

import io
import sys

from explorer.cli.progress import download_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_download_into_a_log_is_one_line_per_file_with_no_carriage_returns(monkeypatch):
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    show = download_bar()
    for done in range(0, 9_912_423, 65_536):
        show(done, 9_912_422, "train-images-idx3-ubyte.gz")
    show(9_912_422, 9_912_422, "train-images-idx3-ubyte.gz")
    assert log.getvalue() == "downloaded train-images-idx3-ubyte.gz (9.9 MB)\n"


def test_a_download_on_a_terminal_is_a_bar_that_ends_its_line(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    show = download_bar()
    for done in (0, 500_000, 1_000_000):
        show(done, 1_000_000, "t10k-labels")
    out = terminal.getvalue()
    assert out.count("\r") == 3 and out.endswith("100.0% of 1.0 MB\n")
