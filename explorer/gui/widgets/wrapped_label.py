"""A caption that wraps to the width it is given and says how tall that makes it."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSizePolicy


class WrappedLabel(QLabel):
    """Wraps its text, never asks for width (no caption may widen the window), and sets its minimum
    height to what the wrapped text needs: a dock's layout does not ask a label's height for its width,
    so a caption wrapped to three lines clipped itself (the path caption) or squeezed the widget under
    it (the neighbours' second row)."""

    def __init__(self, text: str = "", lines: int = 1, parent=None):
        """`lines`: room kept for that many lines, so a caption that grows to them moves nothing."""
        super().__init__(text, parent)
        self.lines = lines
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Minimum)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        height = max(self.heightForWidth(max(1, self.width())), self.lines * self.fontMetrics().lineSpacing())
        if height != self.minimumHeight():
            self.setMinimumHeight(height)
