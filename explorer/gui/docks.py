"""Where panels go: the window's dock areas, handed to a panel instead of the window itself."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget


class Docks:
    def __init__(self, window: QMainWindow):
        self._window = window

    def add(self, title: str, widget: QWidget, area, scroll: bool = False) -> QDockWidget:
        """A movable, floatable, closable dock named `title` (also its object name) in `area`. With
        `scroll`, a tall panel scrolls instead of setting the window's least height: the training form
        (724 px) made the window 1035 px tall, past a 1000 px screen, hiding the status bar."""
        dock = QDockWidget(title, self._window)
        dock.setObjectName(title)
        if scroll:
            scroller = QScrollArea()
            scroller.setWidget(widget)
            scroller.setWidgetResizable(True)
            scroller.setFrameShape(QFrame.NoFrame)
            scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
            bar = scroller.verticalScrollBar().sizeHint().width()
            scroller.setMinimumWidth(widget.minimumSizeHint().width() + bar)  # it never scrolls sideways
            widget = scroller
        dock.setWidget(widget)
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

    def resize(self, docks: list[QDockWidget], sizes: list[int], orientation=Qt.Vertical) -> None:
        self._window.resizeDocks(docks, sizes, orientation)

    def all(self) -> list[QDockWidget]:
        return self._window.findChildren(QDockWidget)
