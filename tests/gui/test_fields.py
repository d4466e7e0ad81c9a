"""Every field of the app, as a user types and scrolls over it: the wheel changes a field only when it
has the focus, a number typed past a spin box's maximum becomes the maximum and says so, and a key
typed into a number field never fires a single-key shortcut (issue 23, items 7 and 8)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QDoubleSpinBox, QSpinBox

from explorer.gui.dialogs.export import GridExportDialog, StripExportDialog

from .helpers import at


def wheel(widget, notches: int = 3) -> None:
    """Turn the wheel over the middle of `widget`, through the application as the window system does."""
    centre = QPointF(widget.rect().center())
    for _ in range(notches):
        event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(), QPoint(0, -120),
                            Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
        QApplication.sendEvent(widget, event)


def show_training(window, qtbot):
    qtbot.keyClick(window.map, Qt.Key_T, Qt.ControlModifier)
    qtbot.waitUntil(window.train_dialog.isVisible, timeout=5000)
    return window.train_dialog


def test_the_wheel_over_the_training_form_changes_no_field_until_one_is_clicked(open_window, qtbot):
    window = open_window()
    dialog = show_training(window, qtbot)
    window.map.setFocus()
    before = (dialog.device.currentText(), dialog.kind.currentText(), dialog.epochs.value(), dialog.beta.value())
    for field in (dialog.device, dialog.kind, dialog.epochs, dialog.beta):
        wheel(field)
    assert (dialog.device.currentText(), dialog.kind.currentText(), dialog.epochs.value(),
            dialog.beta.value()) == before
    assert not any(f.hasFocus() for f in (dialog.device, dialog.kind, dialog.epochs, dialog.beta))

    qtbot.mouseClick(dialog.epochs.lineEdit(), Qt.LeftButton)  # the field the user means to change
    assert dialog.epochs.hasFocus()
    wheel(dialog.epochs, 2)
    assert dialog.epochs.value() == before[2] - 2


def every_spin_box(window):
    """The window's spin boxes (its panels, the training form) and the export dialogs'."""
    grid = GridExportDialog((-1, 1, -1, 1), (-1, 1, -1, 1), "grid.png", window)
    strip = StripExportDialog(20, "path.gif", 4, 10.0, window)
    boxes = window.findChildren(QAbstractSpinBox) + grid.findChildren(QAbstractSpinBox)
    return [b for b in boxes + strip.findChildren(QAbstractSpinBox) if isinstance(b, (QSpinBox, QDoubleSpinBox))]


def test_a_number_typed_past_the_maximum_becomes_the_maximum_in_every_spin_box(open_window, qtbot):
    window = open_window()
    show_training(window, qtbot)
    typed_into = []
    for box in every_spin_box(window):
        if not box.isEnabled():
            continue
        box.setFocus()
        qtbot.keyClick(box, Qt.Key_A, Qt.ControlModifier)
        digits = "9" * (len(str(int(box.maximum()))) + 2)  # "300" into Steps (at most 256) had read 30
        qtbot.keyClicks(box, digits)
        assert box.value() == box.maximum(), (box.prefix(), box.suffix(), box.text())
        assert "At most" in box.property("clamped") and box.textFromValue(box.maximum()) in box.property("clamped")
        typed_into.append(box)
    assert {window.filmstrip.steps, window.neighbours.panel.k, window.train_dialog.epochs} <= set(typed_into)
    assert len(typed_into) >= 15

    steps = window.filmstrip.steps  # within the range a number types as before
    steps.setFocus()
    qtbot.keyClick(steps, Qt.Key_A, Qt.ControlModifier)
    qtbot.keyClicks(steps, "30")
    qtbot.keyClick(steps, Qt.Key_Return)
    assert steps.value() == 30


def test_keys_typed_into_a_number_field_fire_no_single_key_shortcut(open_window, qtbot):
    window = open_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.path_editor.set_waypoints([at(window, 0.2, 0.3), at(window, 0.8, 0.7)], "Draw path")
    qtbot.waitUntil(lambda: window.filmstrip.frames is not None, timeout=10_000)
    dialog = show_training(window, qtbot)
    for box in (dialog.epochs, window.filmstrip.steps):
        qtbot.mouseClick(box.lineEdit(), Qt.LeftButton)
        value = box.value()
        for key in (Qt.Key_B, Qt.Key_L, Qt.Key_Space, Qt.Key_K):
            qtbot.keyClick(box, key)
        assert box.value() == value
        assert not window.actions.manifold.isChecked() and window.map.tool == "explore"  # b in Epochs: no manifold
        assert not window.filmstrip.play.isChecked()
    qtbot.keyClick(window.filmstrip.steps, Qt.Key_N, Qt.ControlModifier)  # Ctrl shortcuts still fire
    assert window.state.path is None and window.map.tool == "waypoint"

    steps = window.filmstrip.steps
    qtbot.mouseClick(steps.lineEdit(), Qt.LeftButton)
    qtbot.keyClick(steps, Qt.Key_Escape)  # Esc leaves the field: the keys are shortcuts again
    assert not steps.hasFocus()
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key_Space)
    assert window.filmstrip.play.isChecked()
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key_Space)
    qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=window.map.viewport().rect().center())
    qtbot.keyClick(window.map, Qt.Key_B)  # away from the fields the letters are shortcuts again
    assert window.actions.manifold.isChecked()
