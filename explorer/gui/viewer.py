"""`explorer.view(...)`: the window on a script's or a notebook's own model, in one line (napari's viewer).

The Viewer is a thin handle on a MainWindow: every property goes through the window's ViewState, so
`ex.cursor = (u, v)` decodes exactly as a click does. The model opens on the loader thread after
`view()` has returned; until it is open, what a script sets is checked at once and queued, then applied
in order (napari's Viewer accepts every setter at once too), and `wait()` returns when all of it is
shown, or raises what went wrong (the model failed to open, a decode failed). `ex.events` are the
window's changes as signals a script subscribes to. In IPython the Qt event loop is handed to the shell
(as napari does), so `view()` returns at once and the window stays live between cells; in a script,
`explorer.run()` blocks until the windows close.
"""

from __future__ import annotations

import sys
import time
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal

from explorer.engine.checkpoint import checkpoint_of
from explorer.engine.models.adapters import open_user_model
from explorer.utils.errors import ExplorerError

NO_DISPLAY = ("no display to show the window on (DISPLAY and WAYLAND_DISPLAY are unset, as on a remote "
              "kernel): run the notebook where you can see its windows, set QT_QPA_PLATFORM=offscreen to "
              "drive the window without one, or write pictures with explorer's CLI (grid, path, embed)")
HEADLESS = ("offscreen", "minimal")  # Qt platforms whose windows nobody sees, so nobody can close them


class ViewerEvents(QObject):
    """What the window shows, as it changes: `ex.events.decoded.connect(fn)` calls fn(value) on the UI
    thread each time (napari's `viewer.events`). Disconnect with `.disconnect(fn)`."""

    cursor = Signal(object)  # (u, v) of the decoded map point, or None when there is no cursor
    code = Signal(object)  # the cursor's full code (d,) float32, or None
    decoded = Signal(object)  # the image shown (H, W) or (H, W, 3) uint8, or None when the decode failed
    selection = Signal(object)  # indices of the selected points
    error = Signal(str)  # the model could not be opened, or a decode failed: why


class _Script(QObject):
    """What a script asked of one window: setters waiting for the model, and the newest failure not yet
    raised. A child of the window, so it lives exactly as long as the window, whatever the script keeps."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.queued: list[Callable[[], None]] = []
        self.error: str | None = None  # raised by the next wait(): a model not opened, a setter refused once open
        self.decode_error: str | None = None  # the last decode failed: raised by wait() unless a good one follows
        self.open_error: str | None = None  # the model never opened: setters cannot apply
        self.events = ViewerEvents(self)
        s, e = window.state, self.events
        s.cursor_changed.connect(lambda c: (e.cursor.emit(None if c is None else c.uv),
                                            e.code.emit(None if c is None else c.code.copy())))
        s.decoded.connect(self._decoded)
        s.decode_failed.connect(self._decode_failed)
        s.selection_changed.connect(lambda: e.selection.emit(s.selected))
        s.session_changed.connect(self._session)
        window.models.loader.failed.connect(self._open_failed)
        window.models.adder.failed.connect(lambda r, message: self._failed(message))  # add_model's

    def is_open(self) -> bool:
        return self.window.state.session is not None

    def apply(self, setter: Callable[[], None]) -> None:
        """Now if the model is open, else once it is."""
        if self.is_open():
            setter()
        elif self.open_error is not None:
            raise ExplorerError(f"the model is not open: {self.open_error}")
        else:
            self.queued.append(setter)

    def _session(self, session) -> None:
        if session is None:
            return
        queued, self.queued = self.queued, []
        for setter in queued:  # each on its own: a cursor refused does not lose the selection set after it
            try:
                setter()
            except ExplorerError as e:
                self._failed(str(e))

    def _decoded(self, result) -> None:
        self.decode_error = None  # a good decode since: what failed before is no longer what is shown
        self.events.decoded.emit(result.image.copy())

    def _decode_failed(self, message) -> None:
        self.decode_error = message
        self.events.decoded.emit(None)
        self.events.error.emit(message)

    def _failed(self, message) -> None:
        self.error = message
        self.events.error.emit(message)

    def _open_failed(self, r: int, message) -> None:
        if not self.is_open():
            self.open_error = message
            self.queued.clear()
        self._failed(message)

    def take_error(self):
        """The failure wait() raises (one not yet raised), then forgotten; None if none."""
        error = self.error if self.error is not None else self.decode_error
        self.error = self.decode_error = None
        return error


class Viewer:
    """One window on a model; see explorer.view."""

    def __init__(self, window):
        self.window = window
        self._script = _Script(window)

    @property
    def state(self):
        return self.window.state

    @property
    def events(self) -> ViewerEvents:
        """Signals of what the window shows: cursor, code, decoded, selection, error (see ViewerEvents)."""
        return self._script.events

    @property
    def cursor(self) -> tuple[float, float] | None:
        """The map point decoded (a code off the map plane: where it projects); None before any."""
        c = self.state.cursor
        return None if c is None else c.uv

    @cursor.setter
    def cursor(self, uv) -> None:
        if uv is None:
            self._script.apply(lambda: self.state.set_cursor(None))
            return
        point = _numbers(uv)
        if point is None or point.shape != (2,) or not np.isfinite(point).all():
            raise ExplorerError(f"the cursor is a map point (u, v) of two finite numbers, got {uv!r}")
        u, v = float(point[0]), float(point[1])
        self._script.apply(lambda: self.state.set_cursor((u, v)))

    @property
    def code(self) -> np.ndarray | None:
        """The cursor's full latent code (d,) float32 (for a 2-d model its map point); None before any.
        Set it to decode any code, on the map plane or off it (the cursor moves to where it projects)."""
        c = self.state.cursor
        return None if c is None else c.code.copy()

    @code.setter
    def code(self, code) -> None:
        d = self._latent_dim()
        z = _numbers(code)
        if z is None or z.shape != (d,) or not np.isfinite(z).all():
            raise ExplorerError(f"a code of this model is {d} finite numbers, got "
                                f"{'shape ' + str(z.shape) if z is not None else repr(code)[:80]}")
        z = z.astype(np.float32)
        self._script.apply(lambda: self.state.set_code(z, "code", "a code set from a script"))

    @property
    def decoded(self) -> np.ndarray | None:
        """The image the decoded view shows, (H, W) or (H, W, 3) uint8; None before the first decode and
        after a failed one. Decoding runs on a worker: call wait() after moving the cursor."""
        image = self.state.decoded_image
        return None if image is None else image.copy()

    @property
    def selection(self) -> np.ndarray:
        """Indices of the selected points (into the images or codes given)."""
        return self.state.selected

    @selection.setter
    def selection(self, indices) -> None:
        chosen = _array(indices)
        n = self._points_given()
        if chosen is None:
            raise ExplorerError(f"a selection is point indices (ints) or a mask, got {repr(indices)[:80]}")
        if chosen.dtype == bool:
            if n is not None and chosen.shape != (n,):
                raise ExplorerError(f"a selection mask is one flag per point ({n}), got shape {chosen.shape}")
        elif chosen.size and (not np.issubdtype(chosen.dtype, np.integer) or chosen.ndim != 1):
            raise ExplorerError(f"a selection is point indices (ints) or a mask, got {chosen.dtype} of shape "
                                f"{chosen.shape}")
        elif chosen.size and n is not None and (chosen.min() < 0 or chosen.max() >= n):
            raise ExplorerError(f"point indices must be in 0..{n - 1}")
        self._script.apply(lambda: self.state.set_selection(chosen, edit="Select from a script"))

    @property
    def codes(self) -> np.ndarray | None:
        """Every point's latent code (N, d), in the order given (read-only); None until the model is open."""
        points = self.state.points
        return None if points is None else _read_only(points.codes)

    @property
    def positions(self) -> np.ndarray | None:
        """Where each point lies on the map (N, 2): its (u, v) on the plane or the UMAP/t-SNE layout shown
        (read-only); None until the model is open."""
        return None if self.state.points_uv is None else _read_only(self.state.points_uv)

    @property
    def labels(self) -> np.ndarray | None:
        """Each point's label (N,) as a class index; None until the model is open."""
        points = self.state.points
        return None if points is None else _read_only(points.labels)

    @property
    def description(self) -> str | None:
        """What the window says of the model: its name, latent size, images and what its decoder returns
        ("Autoencoder (yours): 2-d latent, grey 28x28 images, ..."); None until the model is open."""
        session = self.state.session
        return None if session is None else f"{session.model.name}: {session.model.describe()}"

    def screenshot(self, path=None, canvas_only: bool = False, scale: int = 1) -> np.ndarray:
        """The window as it is on screen (canvas_only: the map alone under its legend, at `scale` times
        the screen's pixels), as an (H, W, 3) uint8 RGB array; with `path`, also written there as a PNG."""
        from explorer.gui.dialogs.exports import write_png

        if scale not in (1, 2, 4):
            raise ExplorerError(f"scale is 1, 2 or 4, got {scale!r}")
        settle(self.window, 10.0)  # what was set is drawn first
        image = self.window.exports.render_map(scale) if canvas_only else self.window.grab().toImage()
        if path is not None:
            write_png(str(path), image)
        return _rgb_array(image)

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

    def wait(self, timeout: float = 60.0) -> None:
        """Process events until the model is open, everything set has been applied, every worker is idle
        and its results are shown (for scripts and tests). Raises ExplorerError with the reason when the
        model could not be opened or the last decode failed (your model's own error), and after `timeout`
        seconds."""
        settle(self.window, timeout)
        error = self._script.take_error()
        if error is not None:
            raise ExplorerError(str(error))

    def close(self) -> None:
        self.window.close()

    def _latent_dim(self) -> int:
        s = self.state.session
        model = s.model if s is not None else getattr(self._given, "model", None)
        if model is None:
            raise ExplorerError("no model is open")
        return int(model.latent_dim)

    def _points_given(self) -> int | None:
        if self.state.points is not None:
            return len(self.state.points)
        given = self._given
        return None if given is None else len(given.labels)

    @property
    def _given(self):
        return getattr(self.window, "_given_points", None)


def settle(window, timeout: float | None) -> None:
    """Process events until every worker of `window` is idle and what they sent is shown; ExplorerError
    after `timeout` seconds (None: no limit)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    def idle() -> bool:
        return all(w.idle() for w in window.workers) and window.tasks.pending() == 0

    def runs() -> int:
        return sum(w.runs for w in window.workers)

    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        QCoreApplication.processEvents(QEventLoop.AllEvents, 50)
        if idle():
            before = runs()
            QCoreApplication.processEvents()  # results the workers just sent (a model opened: its queued setters)
            if idle() and runs() == before:  # else work asked and done meanwhile: its result is still on its way
                return
        if deadline is not None and time.monotonic() > deadline:
            raise ExplorerError(f"the window was still busy after {timeout:g} s")
        time.sleep(0.005)


def view(model=None, images=None, labels=None, *, encoder=None, decoder=None, codes=None, output: str = "auto",
         name: str | None = None) -> Viewer:
    """Open a window on `model` (ours, anything with encode()/decode(), or encoder/decoder sub-modules,
    or a VAE whose encoder returns (mu, logvar)), or on encoder=/decoder= (modules or functions), with
    `images` (N, H, W), (N, C, H, W) or (N, H, W, 3), uint8 or float in [0, 1], and optional `labels`
    (ints or class names); a decoder alone takes codes (N, d) instead of images. Returns a Viewer at once;
    the model opens on the window's loader thread, and what is set meanwhile applies once it is open."""
    opened = open_user_model(model, images, labels, encoder=encoder, decoder=decoder, codes=codes, output=output,
                             name=name)
    from explorer.gui.app import application, show_fitted
    from explorer.gui.display import check_display

    check_display(NO_DISPLAY)  # before Qt can abort: a kernel without a display hears it, and lives on
    from explorer.gui.main_window import MainWindow

    app = application()
    window = MainWindow()
    window._given_points = opened
    viewer = Viewer(window)
    show_fitted(window)
    _hand_loop_to_ipython()
    _open(window, opened, name or opened.model.name, True)
    app.processEvents()
    return viewer


def run() -> None:
    """Block until every explorer window is closed; return at once when none is open, or in IPython,
    where the shell runs the event loop. On a platform nobody sees (QT_QPA_PLATFORM=offscreen or
    minimal), where no one could close a window, wait until every window has shown what it was asked
    (as Viewer.wait does), then return."""
    from PySide6.QtWidgets import QApplication

    from explorer.gui.main_window import MainWindow

    app = QApplication.instance()
    if app is None or _ipython_loop():
        return
    windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if not windows:
        return
    if app.platformName() in HEADLESS:
        for window in windows:
            settle(window, None)  # as long as it works: a million points open in a minute on a slow machine
        return
    app.exec()


def _open(window, opened, name, show: bool) -> None:
    ckpt = checkpoint_of(opened.model, dataset=opened.data.dataset if opened.data is not None else "codes")
    ckpt.meta["title"] = name or opened.model.name
    window.models.open(ckpt, key=ckpt.meta["title"], show=show, given=opened)


def _array(value, dtype=None) -> np.ndarray | None:
    """`value` as an array, or None when it is none (ragged lists, text where numbers belong)."""
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        return None


def _numbers(value) -> np.ndarray | None:
    """`value` as float64 numbers, or None when it is not numbers (True and False are not coordinates)."""
    given = _array(value)
    real = np.issubdtype(given.dtype, np.integer) or np.issubdtype(given.dtype, np.floating) if given is not None \
        else False
    if given is None or not (real or given.size == 0):
        return None
    return _array(given, np.float64)


def _read_only(array: np.ndarray) -> np.ndarray:
    view = np.asarray(array).view()
    view.flags.writeable = False
    return view


def _rgb_array(image) -> np.ndarray:
    """A QImage as an (H, W, 3) uint8 RGB array (its own copy)."""
    from PySide6.QtGui import QImage

    rgb = image.convertToFormat(QImage.Format_RGB888)
    h, w, stride = rgb.height(), rgb.width(), rgb.bytesPerLine()
    return np.frombuffer(rgb.constBits(), dtype=np.uint8, count=h * stride).reshape(h, stride)[:, :3 * w] \
        .reshape(h, w, 3).copy()


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
