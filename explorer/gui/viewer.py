"""`explorer.view(...)`: the window on a script's or a notebook's own model, in one line (napari's viewer).

The Viewer is a thin handle on a MainWindow: every property goes through the window's ViewState, so
`ex.cursor = (u, v)` decodes exactly as a click does. In IPython the Qt event loop is handed to the
shell (as napari does), so `view()` returns at once and the window stays live between cells; in a
script, `explorer.run()` blocks until the windows close.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from explorer.errors import ExplorerError
from explorer.models.adapters import checkpoint_of, open_user_model

NO_DISPLAY = ("no display to show the window on (DISPLAY and WAYLAND_DISPLAY are unset, as on a remote "
              "kernel): run the notebook where you can see its windows, set QT_QPA_PLATFORM=offscreen to "
              "drive the window without one, or write pictures with explorer's CLI (grid, path, embed)")


class Viewer:
    """One window on a model; see explorer.view."""

    def __init__(self, window):
        self.window = window

    @property
    def state(self):
        return self.window.state

    @property
    def cursor(self) -> tuple[float, float] | None:
        """The map point decoded (a code off the map plane: where it projects); None before any."""
        c = self.state.cursor
        return None if c is None else c.uv

    @cursor.setter
    def cursor(self, uv) -> None:
        self.state.set_cursor(uv)

    @property
    def decoded(self) -> np.ndarray | None:
        """The image the decoded view shows, (H, W) or (H, W, 3) uint8; None before the first decode.
        Decoding runs on a worker: call wait() after moving the cursor."""
        return self.state.decoded_image

    @property
    def selection(self) -> np.ndarray:
        """Indices of the selected points (into the images or codes given)."""
        return self.state.selected

    @selection.setter
    def selection(self, indices) -> None:
        self.state.set_selection(np.asarray(indices), edit="Select from a script")  # a mask or indices

    def add_model(self, model=None, images=None, labels=None, *, name: str | None = None, show: bool = False,
                  **kwargs) -> None:
        """Another model in the model list (the compare view works across them); with no images or codes
        it uses the first model's. kwargs as for explorer.view (encoder=, decoder=, codes=, output=)."""
        first = self._given
        if images is None and kwargs.get("codes") is None and first is not None:
            if first.data is not None:
                images, labels = first.data.images, first.data.labels if labels is None else labels
            else:
                kwargs["codes"], labels = first.codes, first.labels if labels is None else labels
        _open(self.window, open_user_model(model, images, labels, name=name, **kwargs), name, show)

    def wait(self, timeout: float = 10.0) -> None:
        """Process events until every worker is idle and its results are shown (for scripts and tests);
        ExplorerError after `timeout` seconds."""
        from PySide6.QtCore import QCoreApplication, QEventLoop

        deadline = time.monotonic() + timeout
        while True:
            QCoreApplication.processEvents(QEventLoop.AllEvents, 50)
            if all(w.idle() for w in self.window.workers) and self.window.tasks.pending() == 0:
                QCoreApplication.processEvents()  # results the workers just sent
                if all(w.idle() for w in self.window.workers):
                    return
            if time.monotonic() > deadline:
                raise ExplorerError(f"the window was still busy after {timeout:g} s")
            time.sleep(0.005)

    def close(self) -> None:
        self.window.close()

    @property
    def _given(self):
        return getattr(self.window, "_given_points", None)


def view(model=None, images=None, labels=None, *, encoder=None, decoder=None, codes=None, output: str = "auto",
         name: str | None = None) -> Viewer:
    """Open a window on `model` (ours, anything with encode()/decode(), or encoder/decoder sub-modules,
    or a VAE whose encoder returns (mu, logvar)), or on encoder=/decoder= (modules or functions), with
    `images` (N, H, W), (N, C, H, W) or (N, H, W, 3), uint8 or float in [0, 1], and optional `labels`
    (ints or class names); a decoder alone takes codes (N, d) instead of images. Returns a Viewer."""
    opened = open_user_model(model, images, labels, encoder=encoder, decoder=decoder, codes=codes, output=output,
                             name=name)
    from explorer.gui.app import application, check_display, show_fitted

    check_display(NO_DISPLAY)  # before the window's modules load: a kernel without a display hears at once
    from explorer.gui.main_window import MainWindow

    app = application()
    window = MainWindow()
    window._given_points = opened
    show_fitted(window)
    _hand_loop_to_ipython()
    _open(window, opened, name or opened.model.name, True)
    app.processEvents()
    return Viewer(window)


def run() -> None:
    """Block until every explorer window is closed; return at once when none is open, or in IPython,
    where the shell runs the event loop."""
    from PySide6.QtWidgets import QApplication

    from explorer.gui.main_window import MainWindow

    app = QApplication.instance()
    if app is None or _ipython_loop() or not any(isinstance(w, MainWindow) and w.isVisible()
                                                  for w in app.topLevelWidgets()):
        return
    app.exec()


def _open(window, opened, name, show: bool) -> None:
    ckpt = checkpoint_of(opened.model, dataset=opened.data.dataset if opened.data is not None else "codes")
    ckpt.meta["title"] = name or opened.model.name
    window.models.open(ckpt, key=ckpt.meta["title"], show=show, given=opened)


def _shell():
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None and hasattr(ipython, "get_ipython") else None


def _hand_loop_to_ipython() -> None:
    """In IPython, let the shell run Qt's event loop between cells (%gui qt), as napari does."""
    shell = _shell()
    if shell is not None and getattr(shell, "active_eventloop", None) != "qt":
        shell.enable_gui("qt")


def _ipython_loop() -> bool:
    shell = _shell()
    return shell is not None and getattr(shell, "active_eventloop", None) == "qt"
