"""The decoded-grid export dialog: n x n decodes over the visible region or a typed range (as `explorer grid`)."""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QRadioButton, QSpinBox, QWidget)

from explorer.errors import ExplorerError
from explorer.export import MAX_SCALE
from explorer.latent import MAX_GRID, check_bounds


class GridExportDialog(QDialog):
    def __init__(self, visible: tuple[float, float, float, float], path: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export decoded grid")
        self.n = QSpinBox()
        self.n.setRange(1, MAX_GRID)
        self.n.setValue(12)
        self.n.setSuffix(" × n")
        self.scale = QSpinBox()
        self.scale.setRange(1, MAX_SCALE)
        self.scale.setValue(2)
        self.scale.setSuffix("× pixels")
        self.use_visible = QRadioButton("The visible region")
        self.use_typed = QRadioButton("This range:")
        self.use_visible.setChecked(True)
        self.range = [QDoubleSpinBox() for _ in range(4)]
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        for name, box, value in zip(("x", "to", "y", "to"), self.range, visible):
            box.setRange(-1e6, 1e6)
            box.setDecimals(3)
            box.setValue(value)
            box.valueChanged.connect(lambda _: self.use_typed.setChecked(True))
            row_layout.addWidget(QLabel(name))
            row_layout.addWidget(box)
        self.visible = visible
        self.path = QLineEdit(path)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row = QWidget()
        file_layout = QHBoxLayout(file_row)
        file_layout.setContentsMargins(0, 0, 0, 0)
        file_layout.addWidget(self.path, 1)
        file_layout.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        self.error = QLabel()
        self.error.setStyleSheet("color: #f28b82;")
        form = QFormLayout(self)
        form.addRow("Cells per side", self.n)
        form.addRow("Range", self.use_visible)
        form.addRow("", self.use_typed)
        form.addRow("", row)
        form.addRow("Scale", self.scale)
        form.addRow("File", file_row)
        form.addRow(self.error)
        form.addRow(buttons)

    def bounds(self) -> tuple[float, float, float, float]:
        if self.use_visible.isChecked():
            return self.visible
        return check_bounds([box.value() for box in self.range])

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export decoded grid", self.path.text(), "PNG image (*.png)")
        if path:
            self.path.setText(path)

    def _accept(self) -> None:
        try:
            self.bounds()
        except ExplorerError as e:
            self.error.setText(str(e))
            return
        if not self.path.text().strip():
            self.error.setText("choose a file to write")
            return
        self.accept()
