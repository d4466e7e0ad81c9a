"""What the user is told: messages that need reading, a line in the status bar, and a busy indicator.
Panels say it here; the window shows it (a non-modal message box, its status bar, a progress bar), so
a panel can be built and tested without a window."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Feedback(QObject):
    message_shown = Signal(str, str)  # title, text: a message the user must see
    status = Signal(str, int)  # a line for the status bar, and for how many ms (0: until replaced)
    busy = Signal(str)  # work under way, with what it is
    idle = Signal()

    def show_message(self, title: str, text: str) -> None:
        self.message_shown.emit(title, text)

    def say(self, text: str, ms: int = 8000) -> None:
        self.status.emit(text, ms)

    def set_busy(self, text: str) -> None:
        self.busy.emit(text)

    def set_idle(self) -> None:
        self.idle.emit()
