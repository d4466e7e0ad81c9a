"""Undo and redo for the window's edits (paths, selections...): one history, newest last.

A feature makes its change, then pushes how to undo and redo it as two callables with a name for
the menu ("Move waypoint"). Anything the window may show can go on it; nothing here knows paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from PySide6.QtCore import QObject, Signal

LIMIT = 200  # edits kept; the oldest go first


@dataclass(frozen=True)
class Edit:
    text: str
    undo: Callable[[], None]
    redo: Callable[[], None]


class UndoStack(QObject):
    changed = Signal()  # what can be undone or redone changed

    def __init__(self, limit: int = LIMIT, parent=None):
        super().__init__(parent)
        self.limit = limit
        self._done: list[Edit] = []
        self._undone: list[Edit] = []

    def push(self, text: str, undo: Callable[[], None], redo: Callable[[], None]) -> None:
        """Record an edit already made; anything undone before it can no longer be redone."""
        self._done = (self._done + [Edit(text, undo, redo)])[-self.limit:]
        self._undone.clear()
        self.changed.emit()

    def undo(self) -> None:
        if self._done:
            edit = self._done.pop()
            self._undone.append(edit)
            edit.undo()
            self.changed.emit()

    def redo(self) -> None:
        if self._undone:
            edit = self._undone.pop()
            self._done.append(edit)
            edit.redo()
            self.changed.emit()

    def undo_text(self) -> str | None:
        return self._done[-1].text if self._done else None

    def redo_text(self) -> str | None:
        return self._undone[-1].text if self._undone else None

    def clear(self) -> None:
        self._done.clear()
        self._undone.clear()
        self.changed.emit()
