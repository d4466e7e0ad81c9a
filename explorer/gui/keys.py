"""Shortcuts wherever the focus is, except where a key would type text: a number field (a spin box)
cannot take Space or a letter, so those go to the window's shortcuts (Space plays the path, L draws a
line...) even while the cursor blinks in *Steps*. Text fields keep every key.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication


def typed_into_number(event) -> bool:
    """A key no number field can take: Space or a letter, alone or with Shift."""
    plain = event.modifiers() & ~Qt.ShiftModifier == Qt.NoModifier
    return plain and (event.key() == Qt.Key_Space or Qt.Key_A <= event.key() <= Qt.Key_Z)


class NumberFieldKeys(QObject):
    """Installed on each spin box as it first takes the focus: its shortcut overrides for keys it
    cannot use are turned down, so the shortcut fires."""

    def __init__(self, parent=None):
        super().__init__(parent)
        QApplication.instance().focusChanged.connect(self._focus_changed)

    def _focus_changed(self, old, now) -> None:
        box = now if isinstance(now, QAbstractSpinBox) else now.parent() if now is not None else None
        if isinstance(box, QAbstractSpinBox) and not box.property("number_keys") and box.window() is self.parent():
            box.setProperty("number_keys", True)
            box.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.ShortcutOverride and typed_into_number(event):
            event.ignore()  # not the field's: the window's shortcut takes it
            return True
        return False
