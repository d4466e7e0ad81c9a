"""What a field takes from the keyboard and the wheel, for every field of the app, by one event filter
on the application (so a dialog or panel added later is covered without using a subclass):

- the wheel changes a spin box or a choice only when it has the focus; otherwise the wheel scrolls the
  panel under it (a wheel over the training form had flipped Device from auto to cuda);
- a number typed past a spin box's maximum becomes the maximum, and a tooltip says so (Qt's own
  validator dropped the digit: "300" typed into Steps read 30);
- while a text or number field has the focus, a key it types (a letter, Space, Del) goes to the field,
  never to a single-key shortcut (b typed in Epochs had toggled the manifold); Ctrl shortcuts still fire,
  and Esc leaves the field for the map, so that Space and the letters are shortcuts again.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTextEdit,
    QToolTip,
)

WHEEL_FIELDS = (QAbstractSpinBox, QComboBox)
TEXT_FIELDS = (QAbstractSpinBox, QLineEdit, QTextEdit, QPlainTextEdit)


def field_of(widget, kinds):
    """The field `widget` is, or is part of (a spin box's or a combo's own line edit)."""
    for w in (widget, widget.parent() if widget is not None else None):
        if isinstance(w, kinds):
            return w
    return None


def typed(event) -> bool:
    """A key that types into a field: no Ctrl, Alt or Meta, and it writes a character or deletes one."""
    if event.modifiers() & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier):
        return False
    return bool(event.text() and event.text().isprintable()) or event.key() in (Qt.Key_Delete, Qt.Key_Backspace)


def number_typed(box: QAbstractSpinBox, key_text: str) -> float | None:
    """The number the box's text would read with `key_text` typed at its cursor (over its selection)."""
    edit = box.lineEdit()
    text = edit.text()
    if edit.hasSelectedText():
        start = edit.selectionStart()
        text = text[:start] + key_text + text[start + len(edit.selectedText()):]
    else:
        at = edit.cursorPosition()
        text = text[:at] + key_text + text[at:]
    prefix, suffix = box.prefix(), box.suffix()
    if prefix and text.startswith(prefix):
        text = text[len(prefix):]
    if suffix and text.endswith(suffix):
        text = text[:-len(suffix)]
    text = text.strip().replace(box.locale().groupSeparator(), "")
    value, ok = box.locale().toDouble(text)
    return value if ok else None


def said_maximum(box: QAbstractSpinBox) -> str:
    maximum = box.maximum()
    shown = box.textFromValue(maximum).strip()
    return f"At most {shown}{box.suffix()}: {box.prefix().strip() or 'the value'} is set to its maximum"


def leave(field) -> None:
    """Give the focus back to the main part of the field's window (the map), if it has one."""
    window = field.window()
    central = window.centralWidget() if hasattr(window, "centralWidget") else None
    if central is not None:
        central.setFocus(Qt.OtherFocusReason)


class FieldInput(QObject):
    """The application's event filter for its fields (see the module's text); install() adds it once."""

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind == QEvent.Wheel:
            field = field_of(watched, WHEEL_FIELDS)
            if field is not None and not field.hasFocus():
                event.ignore()  # not taken: the panel under it scrolls instead
                return True
        elif kind == QEvent.ShortcutOverride:
            field = field_of(watched, TEXT_FIELDS)
            if field is not None and not field.isReadOnly() and typed(event):
                event.accept()  # the field's key, not a shortcut's
                return True
            if field is not None and event.key() == Qt.Key_Escape and event.modifiers() == Qt.NoModifier:
                leave(field)  # Esc leaves the field (and does what Esc does): Space and the letters work again
        elif kind == QEvent.KeyPress and isinstance(watched, (QSpinBox, QDoubleSpinBox)):
            return self._clamp(watched, event)
        elif kind == QEvent.Polish and isinstance(watched, WHEEL_FIELDS):
            watched.setFocusPolicy(Qt.StrongFocus)  # no focus from a passing wheel either
        return False

    @staticmethod
    def _clamp(box, event) -> bool:
        text = event.text()
        if not text or not text.isprintable() or box.isReadOnly():
            return False
        value = number_typed(box, text)
        if value is None or value <= box.maximum():
            return False
        box.setValue(box.maximum())
        box.lineEdit().deselect()
        box.lineEdit().end(False)
        tip = said_maximum(box)
        box.setProperty("clamped", tip)
        QToolTip.showText(box.mapToGlobal(QPoint(0, box.height())), tip, box)
        return True


def install(app: QApplication | None = None) -> FieldInput:
    """Filter the application's events once (a second window shares the first's filter)."""
    app = app or QApplication.instance()
    guard = app.findChild(FieldInput)
    if guard is None:
        guard = FieldInput(app)
        app.installEventFilter(guard)
    return guard
