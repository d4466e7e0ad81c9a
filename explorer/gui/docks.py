"""Where panels go: the window's dock areas, handed to a panel instead of the window itself."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget


class Docks:
    def __init__(self, window: QMainWindow):
        self._window = window

    def add(self, title: str, widget: QWidget, area) -> QDockWidget:
        """A movable, floatable, closable dock named `title` (also its object name) in `area`."""
        dock = QDockWidget(title, self._window)
        dock.setObjectName(title)
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
