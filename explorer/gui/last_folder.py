"""File dialogs that start in the folder last used for any file, this session and the next (kept in
QSettings; the tests point QSettings at a temporary folder, never the user's own settings).

The same signatures as QFileDialog's static functions, so a call site changes only its module.
"""

from __future__ import annotations

from pathlib import PurePath

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

KEY = "files/last_folder"


def settings() -> QSettings:
    return QSettings("latent-explorer", "latent-explorer")


def folder() -> str | None:
    """The folder of the last file chosen or written, None before the first."""
    value = settings().value(KEY)
    return str(value) if value else None


def remember(path: str) -> None:
    """A file was chosen: dialogs start in its folder from now on (only the name is looked at, not the disk)."""
    if path and PurePath(path).is_absolute():
        settings().setValue(KEY, str(PurePath(path).parent))


def place(name: str) -> str:
    """A suggested file name in the last folder (a name with a folder of its own stays as it is)."""
    last = folder()
    return str(PurePath(last) / name) if last and PurePath(name).name == name else name


def getSaveFileName(parent, caption: str, name: str, filters: str) -> tuple[str, str]:  # noqa: N802 - Qt's name
    path, chosen = QFileDialog.getSaveFileName(parent, caption, place(name), filters)
    remember(path)
    return path, chosen


def getOpenFileName(parent, caption: str, start: str, filters: str) -> tuple[str, str]:  # noqa: N802 - Qt's name
    """Opens in the last folder, else in `start`."""
    path, chosen = QFileDialog.getOpenFileName(parent, caption, folder() or start, filters)
    remember(path)
    return path, chosen
