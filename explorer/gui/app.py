"""Start the window: `explorer` or `explorer gui [--checkpoint PATH] [--data-dir DIR]`.

A first frame is shown at once, before torch, pyqtgraph and the panels are imported (about 1.2 s of
the 1.6 s to the window on the 2-core test machine, `python -X importtime`); the window takes its place
when built, and its map fills as the model loads on the loader thread.
"""

from __future__ import annotations

import signal
import socket
import sys

from PySide6.QtCore import QObject, QSocketNotifier, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

from explorer.engine import trained
from explorer.gui import display
from explorer.gui.threads import at_exit
from explorer.utils.errors import ExplorerError

WINDOW_SIZE = (1400, 900)  # on a screen with room for it; a smaller one (a 1366 x 768 laptop) gets it all
FRAME_ROOM = (20, 80)  # the window manager's title bar and borders, a taskbar the free area may not exclude


def application() -> QApplication:
    """The QApplication, created once, with a dark theme that suits the map and white-on-black digits."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
        app.setApplicationName("Latent Explorer")
        app.setStyle("Fusion")
        app.setPalette(dark_palette())
        display.release()  # the display check's connection: Qt has its own now
        at_exit.install(app)  # threads joined when it quits and at interpreter exit: never an abort
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


class FirstFrame(QMainWindow):
    """What the window looks like before it is built: its title and, where the map goes, which model
    is loading. Emits `painted` once it is on screen."""

    painted = Signal()

    def __init__(self, name: str):
        super().__init__()
        self.setWindowTitle("Latent Explorer")
        note = QLabel(f"Loading {name}…")
        note.setAlignment(Qt.AlignCenter)
        self.setCentralWidget(note)
        self.statusBar().showMessage("Starting…")
        self._painted = False

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self, self.painted.emit)  # after this frame has reached the screen


def show_fitted(window: QMainWindow) -> None:
    """Show `window` at WINDOW_SIZE where the screen has room for it and its frame, else maximised (sized
    to the screen's free area first, for a desktop that does not maximise)."""
    screen = window.screen().availableGeometry()
    width, height = WINDOW_SIZE
    if width + FRAME_ROOM[0] <= screen.width() and height + FRAME_ROOM[1] <= screen.height():
        window.resize(width, height)
        window.show()
        return
    window.setGeometry(screen)
    window.showMaximized()


def model_name(checkpoint, model=None) -> str:
    """The name to say while loading, without touching the file system (that runs on the loader)."""
    if model is not None:
        return getattr(model, "name", None) or "your model"
    return trained.name_of(checkpoint)


def run(checkpoint: str | None = None, data_dir: str | None = None, model=None, data=None) -> int:
    """Open the window on `checkpoint` (default: the shipped 2-d VAE), or on `model` (a LatentModel, e.g.
    --model-code's), over the images `data` (a data.Split) when given; returns the exit code."""
    display.check_display()  # Qt aborts the process when no display answers: one ExplorerError instead
    check_bindings()
    app = application()
    frame = FirstFrame(model_name(checkpoint, model))
    show_fitted(frame)
    shown, failed = [], []  # the window once built; what stopped it being built

    def build() -> None:
        if shown or failed or not frame.isVisible():  # built already, failed, or closed before it was
            return
        try:
            shown.append(open_window(frame, checkpoint, data_dir, model, data))
        except BaseException as e:  # raised below, as if no frame had been shown (not a frame left open forever)
            failed.append(e)
            app.exit(1)
    frame.painted.connect(build)
    QTimer.singleShot(500, frame, build)  # a frame that is never painted (minimised) still becomes the window
    with _close_on_interrupt(lambda: (shown[0] if shown else frame).close()):
        code = app.exec()
    if failed:
        frame.close()
        raise failed[0]
    return code


def open_window(frame: QMainWindow, checkpoint, data_dir, model, data):
    """Build the window where the first frame is, start loading the model on the loader thread, and show
    the window in the frame's place."""
    from explorer.engine.checkpoint import checkpoint_of
    from explorer.gui.main_window import MainWindow  # torch, pyqtgraph and every panel

    window = MainWindow(data_dir=data_dir)
    if model is None and data is None:
        window.start(checkpoint)  # its map says which model is loading until the points arrive
    else:
        dataset = data.dataset if data is not None else "mnist"
        source = checkpoint_of(model, dataset) if model is not None else checkpoint
        window.models.open_with_points(source or trained.default_checkpoint(), data, key=getattr(model, "name", None))
    window.setGeometry(frame.geometry())
    if frame.isMaximized():
        window.showMaximized()
    else:
        window.show()
    frame.close()
    frame.deleteLater()
    return window


class _close_on_interrupt:
    """Ctrl+C in the terminal closes the window properly (threads stopped) instead of killing it.

    Python runs signal handlers only between bytecodes, never inside Qt's C++ event loop, so the
    signal also writes a byte to a socket whose notifier wakes the loop.
    """

    def __init__(self, close):
        self.close = close

    def __enter__(self):
        self.reader, writer = socket.socketpair()
        self.writer = writer
        writer.setblocking(False)
        self.previous_fd = signal.set_wakeup_fd(writer.fileno())
        self.previous = signal.signal(signal.SIGINT, lambda *_: self.close())
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
