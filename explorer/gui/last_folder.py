"""File dialogs that start in the folder last used for any file, this session and the next (kept in
QSettings; the tests point QSettings at a temporary folder, never the user's own settings).

The same signatures as QFileDialog's static functions, so a call site changes only its module; `ask`
is the one place a dialog is shown (tests replace it).
"""

from __future__ import annotations

from pathlib import PurePath

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QHeaderView, QTreeView

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


def named(session, what: str, suffix: str) -> str:
    """Every export's suggested name: the model's, then what it is ("vae-2d-mlp-map.png"); a model
    trained here without its epochs in brackets. No model: just what it is."""
    base = session.name.partition(" (")[0] if session is not None else ""
    return f"{base}-{what}{suffix}" if base else f"{what}{suffix}"


def place(name: str) -> str:
    """A suggested file name in the last folder (a name with a folder of its own stays as it is)."""
    last = folder()
    return str(PurePath(last) / name) if last and PurePath(name).name == name else name


def ask(parent, caption: str, start: str, filters: str, saving: bool) -> tuple[str, str]:
    """(the file chosen or "", the filter it was chosen with). Qt's own dialog (where the desktop has no
    native one) sizes its Size column to its contents: it elided "918.5 KiB" to "918…KiB"."""
    dialog = QFileDialog(parent, caption, start, filters)
    dialog.setAcceptMode(QFileDialog.AcceptSave if saving else QFileDialog.AcceptOpen)
    dialog.setFileMode(QFileDialog.AnyFile if saving else QFileDialog.ExistingFile)
    view = dialog.findChild(QTreeView)  # None when a native dialog is shown instead
    if view is not None:
        view.header().setSectionResizeMode(1, QHeaderView.ResizeToContents)
    try:
        if not dialog.exec() or not dialog.selectedFiles():
            return "", ""
        return dialog.selectedFiles()[0], dialog.selectedNameFilter()
    finally:
        dialog.deleteLater()


def getSaveFileName(parent, caption: str, name: str, filters: str) -> tuple[str, str]:  # noqa: N802 - Qt's name
    path, chosen = ask(parent, caption, place(name), filters, saving=True)
    remember(path)
    return path, chosen


def getOpenFileName(parent, caption: str, start: str, filters: str) -> tuple[str, str]:  # noqa: N802 - Qt's name
    """Opens in the last folder, else in `start`."""
    path, chosen = ask(parent, caption, folder() or start, filters, saving=False)
    remember(path)
    return path, chosen
