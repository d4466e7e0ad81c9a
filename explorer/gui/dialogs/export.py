"""Export dialogs: the decoded grid (n x n decodes over the visible region or a typed range, as
`explorer grid`) and the filmstrip (a PNG strip or a GIF animation, at a chosen scale and rate)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from explorer.engine.config import DEFAULT_SCALE, GRID_CELLS, MAX_GRID
from explorer.gui import last_folder
from explorer.latent import export
from explorer.latent.export import MAX_SCALE
from explorer.latent.geometry import check_bounds
from explorer.utils.errors import ExplorerError


def file_row(edit: QLineEdit, caption: str, filters: str) -> QWidget:
    """A file name with a Browse… button beside it that asks for a file to write (starting from the name
    typed, in the last folder used); room for a path of 40 characters before it scrolls."""
    edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("x" * 40))
    button = QPushButton("Browse…")

    def browse():
        path, _ = last_folder.getSaveFileName(edit.window(), caption, edit.text(), filters)
        if path:
            edit.setText(path)

    button.clicked.connect(browse)
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    return row


class GridExportDialog(QDialog):
    """Its defaults are `explorer grid`'s (the cells, the scale, where the data lies): the same image.
    The output size is shown, and Save disabled with the reason, as the choices are typed."""

    def __init__(self, data: tuple[float, float, float, float], visible: tuple[float, float, float, float],
                 path: str, parent=None, image_size: tuple[int, int] = (28, 28)):
        super().__init__(parent)
        self.setWindowTitle("Export decoded grid")
        self.image_size = image_size  # (height, width) of one decode
        self.n = QSpinBox()
        self.n.setRange(1, MAX_GRID)
        self.n.setValue(GRID_CELLS)
        self.n.setToolTip(f"The grid has this many decodes across and as many down (1 to {MAX_GRID})")
        self.scale = QSpinBox()
        self.scale.setRange(1, MAX_SCALE)
        self.scale.setValue(DEFAULT_SCALE)
        self.scale.setSuffix("× pixels")
        self.use_data = QRadioButton("Where the data lies (as explorer grid)")
        self.use_visible = QRadioButton("The visible region")
        self.use_typed = QRadioButton("This range:")
        self.use_data.setChecked(True)
        self.range = [QDoubleSpinBox() for _ in range(4)]
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        for name, box, value in zip(("x", "to", "y", "to"), self.range, data):
            box.setRange(-1e6, 1e6)
            box.setDecimals(3)
            box.setValue(value)
            box.valueChanged.connect(lambda _: self.use_typed.setChecked(True))
            box.valueChanged.connect(self._update)
            row_layout.addWidget(QLabel(name))
            row_layout.addWidget(box)
        self.data, self.visible = data, visible
        self.path = QLineEdit(path)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        self.size = QLabel()
        self.error = QLabel()
        self.error.setStyleSheet("color: #f28b82;")
        self.error.setWordWrap(True)
        self.error.setMinimumHeight(2 * self.error.fontMetrics().lineSpacing())  # the longest reason, never cut
        for signal in (self.n.valueChanged, self.scale.valueChanged, self.path.textChanged,
                       self.use_data.toggled, self.use_visible.toggled, self.use_typed.toggled):
            signal.connect(self._update)
        form = QFormLayout(self)
        form.addRow("Cells per side", self.n)
        form.addRow("Range", self.use_data)
        form.addRow("", self.use_visible)
        form.addRow("", self.use_typed)
        form.addRow("", row)
        form.addRow("Scale", self.scale)
        form.addRow("File", file_row(self.path, "Export decoded grid", "PNG image (*.png)"))
        form.addRow("Size", self.size)
        form.addRow(self.error)
        form.addRow(self.buttons)
        self._update()

    def bounds(self) -> tuple[float, float, float, float]:
        if self.use_data.isChecked():
            return self.data
        if self.use_visible.isChecked():
            return self.visible
        return check_bounds([box.value() for box in self.range])

    def check(self) -> str:
        """What is wrong with the choices, or "" when they can be written."""
        n, (h, w) = self.n.value(), self.image_size
        try:
            self.bounds()
            export.check_size(n * h, n * w, self.scale.value())
            if not self.path.text().strip():
                raise ExplorerError("choose a file to write")
        except ExplorerError as e:
            return str(e)
        return ""

    def _update(self) -> None:
        n, (h, w), scale = self.n.value(), self.image_size, self.scale.value()
        self.size.setText(f"{n} × {n} decodes of {w * scale} × {h * scale} px: {n * w * scale:,} × {n * h * scale:,} px")
        problem = self.check()
        self.error.setText(problem)
        save = self.buttons.button(QDialogButtonBox.Save)
        save.setEnabled(not problem)
        save.setToolTip(problem)

    def _accept(self) -> None:
        if not self.check():
            self.accept()


class MapExportDialog(QDialog):
    """Where to write the map image (with its legend or colour bar), and how much larger than on screen."""

    SCALES = (1, 2, 4)

    def __init__(self, path: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export map image")
        self.path = QLineEdit(path)
        self.scale = QComboBox()
        for k in self.SCALES:
            self.scale.addItem(f"{k}× the screen's pixels", k)
        self.scale.setCurrentIndex(1)  # 2x: sharp on a slide
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(lambda: self.path.text().strip() and self.accept())
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("File", file_row(self.path, "Export map image", "PNG image (*.png)"))
        form.addRow("Scale", self.scale)
        form.addRow(buttons)


class StripExportDialog(QDialog):
    """Where to write the filmstrip, how much to enlarge it and, for a GIF, how fast it plays."""

    def __init__(self, frames: int, path: str, scale: int, fps: float, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export filmstrip")
        self.frames = frames
        self.path = QLineEdit(path)
        self.path.textChanged.connect(self._update)
        self.scale = QSpinBox()
        self.scale.setRange(1, MAX_SCALE)
        self.scale.setValue(scale)
        self.scale.setSuffix("× pixels")
        self.scale.valueChanged.connect(self._update)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(export.MIN_FPS, export.MAX_FPS)
        self.fps.setDecimals(1)
        self.fps.setSingleStep(1.0)
        self.fps.setValue(fps)
        self.fps.setSuffix(" frames/s")
        self.fps.valueChanged.connect(self._update)
        self.fps.setToolTip("How fast the GIF plays (it goes forward, then back)")
        self.size = QLabel()
        self.error = QLabel()
        self.error.setStyleSheet("color: #f28b82;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("File", file_row(self.path, "Export filmstrip", "PNG strip (*.png);;GIF animation (*.gif)"))
        form.addRow("Scale", self.scale)
        form.addRow("GIF rate", self.fps)
        form.addRow("Size", self.size)
        form.addRow(self.error)
        form.addRow(buttons)
        self._update()

    def is_gif(self) -> bool:
        return Path(self.path.text().strip()).suffix.lower() == ".gif"

    def check(self) -> str:
        """What is wrong with the choices, or "" when they can be written."""
        try:
            if not self.path.text().strip():
                raise ExplorerError("choose a file to write")
            if Path(self.path.text().strip()).suffix.lower() not in (".png", ".gif"):
                raise ExplorerError("the file must end in .png (a strip) or .gif (an animation)")
            if self.is_gif():
                export.check_fps(self.fps.value())
            export.check_size(28, 28 * (1 if self.is_gif() else self.frames), self.scale.value())
        except ExplorerError as e:
            return str(e)
        return ""

    def _update(self) -> None:
        self.fps.setEnabled(self.is_gif())
        side = 28 * self.scale.value()
        loop = max(1, 2 * self.frames - 2)  # export.save_gif plays forward, then back
        self.size.setText(f"{self.frames} frames of {side} × {side} px, played forward then back: {loop} frames "
                          f"a loop ({loop / self.fps.value():.1f} s)" if self.is_gif() else
                          f"{self.frames * side} × {side} px")
        self.error.setText(self.check())

    def _accept(self) -> None:
        if not self.check():
            self.accept()
