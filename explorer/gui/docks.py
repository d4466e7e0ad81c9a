"""Where panels go: the window's dock areas, handed to a panel instead of the window itself."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget


class Docks:
    def __init__(self, window: QMainWindow):
        self._window = window

    def add(self, title: str, widget: QWidget, area) -> QDockWidget:
        """A movable, floatable, closable dock named `title` (also its object name) in `area`. The panel
        scrolls in its dock when the dock is smaller than the panel's least size, so no panel sets the
        window's: their least sizes together asked 1147 x 777 px at start and 1182 x 819 with the training
        and attribute panels open, past a 1280 x 720 or 1366 x 768 laptop's screen (the training form
        alone, 724 px tall, made the window 1035 px tall), and a window held larger than its screen laid
        its docks over one another."""
        dock = QDockWidget(title, self._window)
        dock.setObjectName(title)
        dock.setWidget(scrolling(widget))
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable |
                         QDockWidget.DockWidgetClosable)
        self._window.addDockWidget(area, dock)
        return dock

    def find(self, title: str) -> QDockWidget | None:
        return self._window.findChild(QDockWidget, title)

    def split(self, first: QDockWidget, second: QDockWidget, orientation=Qt.Vertical) -> None:
        self._window.splitDockWidget(first, second, orientation)

    def tabify(self, first: QDockWidget, second: QDockWidget) -> None:
        self._window.tabifyDockWidget(first, second)

    def tabify_when_shown(self, first: QDockWidget, second: QDockWidget) -> None:
        """Make `second` (hidden now) a tab beside `first` when it is first shown. Tabbed while hidden, the
        pair's tab bar was left in view where the layout once put it, over the filmstrip or the Models list."""
        def shown(visible: bool) -> None:
            if visible:
                second.visibilityChanged.disconnect(shown)
                self._window.tabifyDockWidget(first, second)
                second.show()
                second.raise_()
        second.visibilityChanged.connect(shown)

    def resize(self, docks: list[QDockWidget], sizes: list[int], orientation=Qt.Vertical) -> None:
        self._window.resizeDocks(docks, sizes, orientation)

    def all(self) -> list[QDockWidget]:
        return self._window.findChildren(QDockWidget)


def reveal(widget: QWidget) -> QDockWidget | None:
    """Show the dock `widget` lies in, in front of the docks tabbed with it; returns that dock (None: in none)."""
    dock = widget.parentWidget()
    while dock is not None and not isinstance(dock, QDockWidget):  # it scrolls inside its dock
        dock = dock.parentWidget()
    if dock is not None:
        dock.show()
        dock.raise_()
    return dock


def scrolling(widget: QWidget) -> QScrollArea:
    """`widget` in a frameless scroll area that fills it while it has room and scrolls where it has not."""
    scroller = QScrollArea()
    scroller.setWidget(widget)
    scroller.setWidgetResizable(True)
    scroller.setFrameShape(QFrame.NoFrame)
    return scroller
