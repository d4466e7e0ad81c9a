"""What the user is told: messages that need reading, a line in the status bar, and a busy indicator.
Panels say it here; the window shows it (a non-modal message box, its status bar, a progress bar), so
a panel can be built and tested without a window."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

DETAILS_KEPT = 16  # messages whose details are remembered for the box that shows them


class Message(str):
    """A message with details the user may ask for (the traceback of an error in their own model)."""

    def __new__(cls, text: str, details: str = ""):
        message = super().__new__(cls, text)
        message.details = details
        return message


class Feedback(QObject):
    message_shown = Signal(str, str)  # title, text: a message the user must see (its details: `details_of`)
    status = Signal(str, int)  # a line for the status bar, and for how many ms (0: until replaced)
    busy = Signal(str)  # work under way, with what it is
    idle = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._details: dict[str, str] = {}

    def show_message(self, title: str, text: str, details: str = "") -> None:
        """Show `text`; its details (given, or those of a Message) are there on request."""
        details = details or getattr(text, "details", "")
        if details:
            self._details.pop(str(text), None)
            self._details[str(text)] = details
            while len(self._details) > DETAILS_KEPT:
                del self._details[next(iter(self._details))]
        self.message_shown.emit(title, str(text))

    def details_of(self, text: str) -> str:
        """The details of a message shown, if it had any."""
        return self._details.get(text, "")

    def say(self, text: str, ms: int = 8000) -> None:
        self.status.emit(text, ms)

    def set_busy(self, text: str) -> None:
        self.busy.emit(text)

    def set_idle(self) -> None:
        self.idle.emit()
