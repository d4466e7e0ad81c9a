"""Whether the window can be shown at all, found out before Qt is asked: on Linux, Qt aborts the whole
process (SIGABRT, exit 134) when its platform has no display to connect to ("could not connect to display"),
which in Jupyter kills the kernel and the student's trained model with it. So the display is tried here
first, the way Qt's own platforms would try it, and a display that cannot be reached is one ExplorerError.

- QT_QPA_PLATFORM naming a platform that needs no display server (offscreen, minimal, vnc, eglfs...):
  nothing to check.
- xcb (X11, Qt's default): connect to $DISPLAY with libxcb, as Qt's xcb platform does (authentication
  included). 0.1 ms to a local server that has other clients. An X server with no other client resets
  when its last client leaves (Xvfb, xvfb-run) and refuses connections meanwhile: on a 1400 x 950 Xvfb
  here a third of the connections made straight after a disconnect failed, each reset taking up to
  0.3 s under load, and with the check's connection closed first Qt found a 1920 x 1080 Xvfb resetting
  and aborted. So the check's connection stays open until the QApplication has its own (`release`),
  and a refused connection to a local server whose socket is there is tried again (a stale socket of
  a server gone is then refused 1.5 s later).
- wayland: the compositor's socket ($XDG_RUNTIME_DIR/$WAYLAND_DISPLAY) must accept a connection.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import socket
import sys
import time
from pathlib import Path

from explorer.utils.errors import ExplorerError

RETRY_AFTER_S = (0.1, 0.4, 1.0)  # a local X server resetting (see above) answers again within these
_held: list = []  # (libxcb, connection) of the check, open until the QApplication has connected

NEEDS_A_SERVER = ("xcb", "wayland", "wayland-egl", "wayland-brcm")
UNSET = ("no display to open the window on (DISPLAY is not set): run it on a desktop or over `ssh -X`, "
         "or use the command-line tools (explorer --help)")
UNREACHABLE = ("cannot open the window: {where} cannot be reached (no display server answers there): start it, "
               "correct the variable, or set QT_QPA_PLATFORM=offscreen to run without showing the window")


def check_display(unset: str = UNSET) -> None:
    """Raise ExplorerError, before any QApplication exists, when Qt could not show a window: `unset`
    when no display is named at all, else which display does not answer. Nothing to check off Linux,
    or once a QApplication exists (it has connected already)."""
    if not sys.platform.startswith("linux") or _application_exists():
        return
    chosen = [p.split(":")[0].strip() for p in os.environ.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    if any(p not in NEEDS_A_SERVER for p in chosen):
        return  # offscreen, minimal, vnc...: Qt needs no display server (in a fallback list, it is reached)
    x11 = os.environ.get("DISPLAY", "")
    wayland = os.environ.get("WAYLAND_DISPLAY", "")
    tries_x = not chosen or "xcb" in chosen
    tries_wayland = not chosen or any(p.startswith("wayland") for p in chosen)
    if not ((tries_x and x11) or (tries_wayland and wayland)):
        raise ExplorerError(unset)
    if (tries_x and x11 and x_server_answers(x11, hold=True)) or (tries_wayland and wayland and
                                                                 wayland_answers(wayland)):
        return
    named = [f"the display {var}={value}" for var, value, tried in
             (("DISPLAY", x11, tries_x), ("WAYLAND_DISPLAY", wayland, tries_wayland)) if tried and value]
    raise ExplorerError(UNREACHABLE.format(where=" and ".join(named)))


def x_server_answers(display: str, hold: bool = False) -> bool:
    """Whether an X server accepts a connection on `display` (libxcb's xcb_connect, as Qt does; where
    libxcb is missing, Qt's xcb platform cannot load either, so only the server's socket is tried).
    With `hold`, the connection stays open until `release()`."""
    xcb = _libxcb()
    if xcb is None:
        return _x_socket_answers(display)
    local = _local_socket(display)
    pauses = RETRY_AFTER_S if local is not None and local.exists() else ()
    for pause in (0.0, *pauses):
        time.sleep(pause)
        connection = xcb.xcb_connect(display.encode(errors="replace"), None)  # never NULL: an error connection
        if xcb.xcb_connection_has_error(connection) == 0:
            if hold:
                _held.append((xcb, connection))
            else:
                xcb.xcb_disconnect(connection)
            return True
        xcb.xcb_disconnect(connection)
    return False


def release() -> None:
    """Close the check's connection: the QApplication has its own by now, so the server does not reset."""
    while _held:
        xcb, connection = _held.pop()
        xcb.xcb_disconnect(connection)


def _libxcb():
    """libxcb by its soname (2 ms), else by search (find_library runs ldconfig: 14 ms here); None if absent."""
    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        library = ctypes.util.find_library("xcb")
        if library is None:
            return None
        xcb = ctypes.CDLL(library)
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    return xcb


def _local_socket(display: str) -> Path | None:
    """The Unix socket of a local display (":1", "unix:1.0"); None for a remote one or nonsense."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    return Path(f"/tmp/.X11-unix/X{number}") if host in ("", "unix") and number.isdigit() else None


def _x_socket_answers(display: str) -> bool:
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    local = _local_socket(display)
    try:
        if local is not None:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(2)
                s.connect(str(local))
        else:
            socket.create_connection((host, 6000 + int(number)), timeout=2).close()
    except OSError:
        return False
    return True


def wayland_answers(name: str) -> bool:
    path = Path(name) if name.startswith("/") else Path(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent")) / name
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(str(path))
    except OSError:
        return False
    return True


def _application_exists() -> bool:
    widgets = sys.modules.get("PySide6.QtWidgets")
    return widgets is not None and widgets.QApplication.instance() is not None
