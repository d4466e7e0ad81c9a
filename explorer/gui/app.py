"""Start the window: `explorer` or `explorer gui [--checkpoint PATH] [--data-dir DIR]`."""

from __future__ import annotations

import os
import signal
import socket
import sys

import torch  # noqa: F401 - import torch before the QApplication exists (its thread pools must come first)
from PySide6.QtCore import QObject, QSocketNotifier
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from explorer import trained
from explorer.errors import ExplorerError
from explorer.gui.main_window import MainWindow
from explorer.models.adapters import checkpoint_of

WINDOW_SIZE = (1400, 900)


def application() -> QApplication:
    """The QApplication, created once, with a dark theme that suits the map and white-on-black digits."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Latent Explorer")
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
    return app


def dark_palette() -> QPalette:
    p = QPalette()
    for role, colour in ((QPalette.Window, "#202124"), (QPalette.WindowText, "#e8eaed"), (QPalette.Base, "#17181a"),
                         (QPalette.AlternateBase, "#27292c"), (QPalette.Text, "#e8eaed"), (QPalette.Button, "#2d2f33"),
                         (QPalette.ButtonText, "#e8eaed"), (QPalette.Highlight, "#8ab4f8"),
                         (QPalette.HighlightedText, "#202124"), (QPalette.ToolTipBase, "#303134"),
                         (QPalette.ToolTipText, "#e8eaed"), (QPalette.PlaceholderText, "#9aa0a6"),
                         (QPalette.Link, "#8ab4f8")):
        p.setColor(role, QColor(colour))
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor("#6f7378"))
    return p


def check_bindings() -> None:
    """Refuse Qt bindings that corrupt Python's reference counts instead of crashing minutes later.

    PySide6 6.12.0 under Python < 3.12 releases a reference to None on every call that returns
    nothing; None is then freed after a few thousand calls and Python aborts ("deallocating None").
    """
    if sys.version_info >= (3, 12):  # None is immortal there
        return
    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(100):
        probe.setObjectName("probe")
    if sys.getrefcount(None) < before - 50:
        import PySide6

        raise ExplorerError(f"PySide6 {PySide6.__version__} has a reference-counting bug under Python "
                            f"{sys.version_info.major}.{sys.version_info.minor} that crashes the window; "
                            f"install an earlier one (pip install 'PySide6-Essentials<6.12') or use Python 3.12+")


def check_display() -> None:
    """On Linux without a display Qt aborts the process; say what to do instead."""
    if sys.platform.startswith("linux") and not any(os.environ.get(v) for v in
                                                    ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        raise ExplorerError("no display to open the window on (DISPLAY is not set): run it on a desktop or "
                            "over `ssh -X`, or use the command-line tools (explorer --help)")


def run(checkpoint: str | None = None, data_dir: str | None = None, model=None, data=None) -> int:
    """Open the window on `checkpoint` (default: the shipped 2-d VAE), or on `model` (a LatentModel, e.g.
    --model-code's), over the images `data` (a data.Split) when given; returns the exit code."""
    check_display()
    check_bindings()
    app = application()
    window = MainWindow(data_dir=data_dir)
    window.resize(*WINDOW_SIZE)
    window.show()
    if model is None and data is None:
        window.start(checkpoint)
    else:
        source = checkpoint_of(model, data.dataset if data is not None else "mnist") if model is not None else checkpoint
        window.models.open_with_points(source or trained.default_checkpoint(), data,
                                       key=getattr(model, "name", None))
    with _close_on_interrupt(window):
        return app.exec()


class _close_on_interrupt:
    """Ctrl+C in the terminal closes the window properly (threads stopped) instead of killing it.

    Python runs signal handlers only between bytecodes, never inside Qt's C++ event loop, so the
    signal also writes a byte to a socket whose notifier wakes the loop.
    """

    def __init__(self, window):
        self.window = window

    def __enter__(self):
        self.reader, writer = socket.socketpair()
        self.writer = writer
        writer.setblocking(False)
        self.previous_fd = signal.set_wakeup_fd(writer.fileno())
        self.previous = signal.signal(signal.SIGINT, lambda *_: self.window.close())
        self.notifier = QSocketNotifier(self.reader.fileno(), QSocketNotifier.Read)
        self.notifier.activated.connect(lambda: self.reader.recv(64))
        return self

    def __exit__(self, *exc):
        self.notifier.setEnabled(False)
        signal.signal(signal.SIGINT, self.previous)
        signal.set_wakeup_fd(self.previous_fd)
        self.reader.close()
        self.writer.close()
        return False
