"""The real application in a subprocess: closing the window mid-work exits cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DRIVER = Path(__file__).with_name("close_driver.py")
REPO = Path(__file__).resolve().parents[2]
# The offscreen platform's stub for a window-manager call; the real platforms implement it.
PLATFORM_NOISE = "This plugin does not support propagateSizeHints()"


@pytest.mark.parametrize("scenario", ["training", "decoding", "loading", "hanging-model"])
def test_closing_the_window_mid_work_exits_0_without_qt_warnings(scenario, gui_models, small_root):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EXPLORER_TRAINED_DIR=str(gui_models),
               EXPLORER_NO_DOWNLOAD="1", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, str(DRIVER), scenario, str(gui_models / "vae-2d-mlp.safetensors"),
                           str(small_root)], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    stderr = [line for line in done.stderr.splitlines() if line.strip() and line.strip() != PLATFORM_NOISE]
    if scenario == "hanging-model":  # the process ends though the user's decoder never returns
        assert done.stdout.startswith("closed in"), done.stdout
    assert done.returncode == 0, done.stderr
    assert stderr == [], "\n".join(stderr)  # no "QThread: Destroyed while thread is still running", no traceback


def test_a_bad_checkpoint_on_the_command_line_opens_the_window_with_a_message_and_the_default(
        open_window, qtbot, tmp_path, gui_models):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    window = open_window(bad, wait=False)
    messages = []
    window.feedback.message_shown.connect(lambda title, text: messages.append(text))
    qtbot.waitUntil(lambda: window.state.session is not None, timeout=20_000)
    assert str(bad) in messages[0] and window.state.session.name == "vae-2d-mlp"


def test_without_a_display_the_command_says_so_instead_of_aborting():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "explorer", "gui"], env=dict(env, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 2
    assert done.stderr.startswith("explorer: error: no display") and "Traceback" not in done.stderr


# Run in a fresh process: what the user sees at each stage of start-up, and whether torch was imported by then.
STARTUP_STAGES = """
import sys
import explorer.gui.app as app
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel
qapp = app.application()
said = []
def say(line):
    if line not in said:
        said.append(line)
        print(line, flush=True)
def watch():
    shown = [w for w in qapp.topLevelWidgets() if w.isVisible()]
    window = next((w for w in shown if type(w).__name__ == "MainWindow"), None)
    if window is None:
        if shown:
            texts = [label.text() for w in shown for label in w.findChildren(QLabel)]
            say(f"frame torch={'torch' in sys.modules} pyqtgraph={'pyqtgraph' in sys.modules} {texts}")
        return QTimer.singleShot(1, watch)
    if window.state.session is None:
        say(f"window note={window.map_panel.note.text()}")
        return QTimer.singleShot(1, watch)
    say(f"points={len(window.state.points_uv)} note={window.map_panel.note.text()}")
    window.close()
QTimer.singleShot(0, watch)
"""
BY_FUNCTION = "sys.exit(app.run(sys.argv[1], sys.argv[2]))"
BY_COMMAND = """from explorer.cli import main  # `explorer --checkpoint PATH --data-dir DIR`: the parser loads no torch
sys.exit(main(["--checkpoint", sys.argv[1], "--data-dir", sys.argv[2]]))"""


@pytest.mark.parametrize("launch", [BY_FUNCTION, BY_COMMAND], ids=["app.run", "command"])
def test_the_window_shows_before_torch_is_imported_and_fills_as_the_model_loads(gui_models, small_root, launch):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EXPLORER_TRAINED_DIR=str(gui_models),
               EXPLORER_NO_DOWNLOAD="1", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", STARTUP_STAGES + launch, str(gui_models / "ae-2d-mlp.safetensors"),
                           str(small_root)], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    frame, window, drawn = done.stdout.splitlines()
    assert frame.startswith("frame torch=False pyqtgraph=False") and "Loading ae-2d-mlp…" in frame
    assert window == "window note=Loading ae-2d-mlp…"
    assert drawn.startswith("points=") and int(drawn.split()[0].split("=")[1]) > 0 and "Loading" not in drawn


def test_when_no_model_can_be_opened_the_map_stops_saying_loading(open_window, qtbot, tmp_path, monkeypatch):
    from explorer.gui.main_window import NO_MODEL

    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a checkpoint")
    monkeypatch.setenv("EXPLORER_TRAINED_DIR", str(tmp_path / "empty"))  # no default to fall back on either
    window = open_window(bad, wait=False)
    assert window.map_panel.note.text() == "Loading bad…"
    qtbot.waitUntil(lambda: window.map_panel.note.text() == NO_MODEL, timeout=20_000)
    assert window.state.session is None


FAILING_BUILD = """
import explorer.gui.app as app
from explorer.utils.errors import ExplorerError
def broken(*args):
    raise ExplorerError("the window could not be built")
app.open_window = broken
try:
    app.run(None, None)
except ExplorerError as e:
    print("raised:", e)
"""


def test_a_window_that_cannot_be_built_ends_the_run_with_its_error_instead_of_leaving_the_frame_open():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", FAILING_BUILD], env=env, capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    assert done.returncode == 0 and done.stdout.strip() == "raised: the window could not be built", done.stderr
