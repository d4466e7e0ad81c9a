"""What the user is told: messages that need reading, a line in the status bar, and a busy indicator.
Panels say it here; the window shows it (a non-modal message box, its status bar, a progress bar), so
a panel can be built and tested without a window."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Message(str):
    """A message with details the user may ask for (the traceback of an error in their own model)."""

    def __new__(cls, text: str, details: str = ""):
        message = super().__new__(cls, text)
        message.details = details
        return message


class Feedback(QObject):
    message_shown = Signal(str, object)  # title, text: a message the user must see (a Message keeps its details)
    status = Signal(str, int)  # a line for the status bar, and for how many ms (0: until replaced)
    busy = Signal(str)  # work under way, with what it is
    idle = Signal()

    def show_message(self, title: str, text: str) -> None:
        """Show `text`; the details of a Message are there on request."""
        self.message_shown.emit(title, text)

    def say(self, text: str, ms: int = 8000) -> None:
        self.status.emit(text, ms)

    def set_busy(self, text: str) -> None:
        self.busy.emit(text)

    def set_idle(self) -> None:
        self.idle.emit()
