"""`explorer train` and the other commands under real signals, in real processes: every ending that
can save, saves the last complete epoch, and no signal leaves a temp file or a half-written one."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from explorer.cli import main
from explorer.engine import checkpoint
from tests.conftest import REPO

# Runs `explorer ARGS...` with hooks: a line on stderr when a chosen stage starts, then a pause in
# it long enough for the test to send its signal there.
DRIVER = r"""
import os, sys, time
from explorer.utils import files
from explorer.cli import main
from explorer.engine import coding

stage = os.environ.get("PAUSE_IN")

def announce(name, seconds=1.5):
    print(f"@{name}", file=sys.stderr, flush=True)
    time.sleep(seconds)

if stage == "statistics":
    infer = coding.infer_stats
    coding.infer_stats = lambda *a, **k: (announce("statistics"), infer(*a, **k))[1]
elif stage == "write":
    fsync = os.fsync
    files.os.fsync = lambda fd: (announce("write"), fsync(fd))[1]
sys.exit(main(sys.argv[1:]))
"""


def start(args, tmp_path, pause_in=None):
    env = {**os.environ, "PYTHONPATH": str(REPO), "PAUSE_IN": pause_in or ""}
    return subprocess.Popen([sys.executable, "-u", "-c", DRIVER, *map(str, args)], cwd=tmp_path, env=env,
                            stderr=subprocess.PIPE, text=True)


def wait_for(process, marker, timeout=120):
    """stderr lines up to the first that starts with `marker`."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line)
        if line.lstrip().startswith(marker):
            return lines
    process.kill()
    raise AssertionError(f"never saw {marker!r}: {''.join(lines)}")


def finish(process, lines):
    try:
        rest = process.communicate(timeout=120)[1]
    except subprocess.TimeoutExpired:  # it did not stop: fail without leaving it running
        process.kill()
        raise
    return process.returncode, "".join(lines) + rest


def train_args(root, out, epochs=10_000):
    return ["train", "--epochs", epochs, "--batch-size", 64, "--data-dir", root, "--out", out]


def only(folder, *names):
    assert sorted(os.listdir(folder)) == sorted(names)  # no temp file, no lock left behind


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)  # Ctrl-C: below
def test_a_signal_while_training_saves_the_last_complete_epoch(sig, small_root, tmp_path):
    out = tmp_path / "m.safetensors"
    process = start(train_args(small_root, out), tmp_path)
    lines = wait_for(process, "epoch   2/")
    process.send_signal(sig)
    code, err = finish(process, lines)
    assert code == 1 and "Traceback" not in err, err
    assert f"saved {out} (cancelled" in err
    meta = checkpoint.load(out).meta
    assert meta["status"] == "cancelled" and meta["epochs"] >= 2
    only(tmp_path, out.name)


@pytest.mark.parametrize("stage, signals", [("statistics", [signal.SIGINT, signal.SIGINT]),
                                            ("write", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])],
                         ids=["Ctrl-C twice in the statistics", "SIGTERM, SIGHUP, Ctrl-C in the write"])
def test_signals_while_saving_wait_for_the_file(stage, signals, small_root, tmp_path):
    out = tmp_path / "m.safetensors"
    process = start(train_args(small_root, out, epochs=2), tmp_path, pause_in=stage)
    lines = wait_for(process, f"@{stage}")
    for sig in signals:
        process.send_signal(sig)
        time.sleep(0.2)
    code, err = finish(process, lines)
    assert code == 0 and f"saved {out} (finished, 2 epochs" in err and "Traceback" not in err, err
    assert checkpoint.load(out).meta["epochs"] == 2
    only(tmp_path, out.name)


def test_a_signal_during_any_commands_write_leaves_the_whole_file_and_no_temp(small_root, tmp_path):
    sig = signal.SIGTERM
    model = tmp_path / "m.safetensors"
    checkpoint.save(model, checkpoint.load(REPO / "trained" / "vae-2d-mlp.safetensors").model)
    out = tmp_path / "codes.npz"
    process = start(["embed", "--checkpoint", model, "--data-dir", small_root, "--out", out], tmp_path, "write")
    lines = wait_for(process, "@write")
    process.send_signal(sig)
    code, err = finish(process, lines)
    assert code == 128 + sig and "Traceback" not in err, err  # the signal still ends the command, once written
    with np.load(out) as f:
        assert f["z"].shape == (256, 2)
    only(tmp_path, model.name, out.name)


HOLD_CLAIM = "import sys; from explorer.utils.files import claim\nwith claim(sys.argv[1]):\n print('held', flush=True); sys.stdin.read()"


def test_a_second_run_on_the_same_file_is_refused_before_it_trains(small_root, tmp_path, capsys):
    """Another process (a run still training) holds the file: this run says so at once, not "saved"."""
    out = tmp_path / "m.safetensors"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_CLAIM, out], env={**os.environ, "PYTHONPATH": str(REPO)},
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        code = main(list(map(str, train_args(small_root, out, epochs=1))))
        err = capsys.readouterr().err
        assert code == 2 and err == (f"explorer: error: cannot write {out}: another Latent Explorer run is writing "
                                     f"it now; wait for it to end or choose another name\n")
        assert not out.exists()
    finally:
        holder.communicate("")
    assert main(list(map(str, train_args(small_root, out, epochs=1)))) == 0  # once it is done, the file is free
    only(tmp_path, out.name)
