"""The model picker: the shipped checkpoints, and any the user opened or trained, one row each."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem

from explorer.engine.checkpoint import Checkpoint
from explorer.engine.models.adapters import UserModel

COLUMNS = ("Model", "Kind", "Dim", "Loss")  # the dataset is in the tooltip: the dock is narrow


def row(ckpt: Checkpoint, name: str) -> list[str]:
    m = ckpt.meta
    loss = m.get("final_losses", {}).get("loss")
    return [name, kind_name(ckpt), str(ckpt.model.latent_dim), f"{loss:.4g}" if loss is not None else "–"]


def kind_name(ckpt: Checkpoint) -> str:
    """A user's decoder alone is explored as a generator is, but it may be any model's decoder: it is
    listed as what it is."""
    if isinstance(ckpt.model, UserModel) and not ckpt.model.has_encoder:
        return "Decoder"
    return ckpt.kind.upper()


class ModelList(QTreeWidget):
    chosen = Signal(str)  # the key of the model the user picked

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setColumnCount(len(COLUMNS))
        self.setHeaderLabels(COLUMNS)
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setToolTip("Click a model to explore it")
        self.setMinimumWidth(240)  # a name's ends and the loss readable side by side
        self.setTextElideMode(Qt.ElideMiddle)  # "vae-2d…mlp (12 epochs)": both ends say which it is
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.Stretch)  # the name takes what is left; Loss stays in view
        self.headerItem().setToolTip(2, "Latent dimensions")
        self.headerItem().setToolTip(3, "Final training loss (per image; the kinds' losses differ)")
        self.itemClicked.connect(lambda item, column: self.chosen.emit(item.data(0, Qt.UserRole)))
        self.itemActivated.connect(lambda item, column: self.chosen.emit(item.data(0, Qt.UserRole)))  # Enter
        self._items: dict[str, QTreeWidgetItem] = {}

    def sizeHint(self) -> QSize:
        return QSize(300, 300)  # fixed: rows arriving must not resize the dock (and the map beside it)

    def put(self, key: str, ckpt: Checkpoint, name: str) -> None:
        """Add a model, or update its row."""
        item = self._items.get(key)
        new = item is None
        if new:
            item = QTreeWidgetItem()
            item.setData(0, Qt.UserRole, key)
            self.addTopLevelItem(item)
            self._items[key] = item
        for column, text in enumerate(row(ckpt, name)):
            item.setText(column, text)
        item.setToolTip(0, f"{name}\n{ckpt.describe()}\n{ckpt.path or 'not saved yet'}")

    def remove(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.takeTopLevelItem(self.indexOfTopLevelItem(item))

    def keys(self) -> list[str]:
        return list(self._items)

    def mark_current(self, key: str | None) -> None:
        for k, item in self._items.items():
            font = QFont(item.font(0))
            font.setBold(k == key)
            for column in range(len(COLUMNS)):
                item.setFont(column, font)
        if key in self._items:
            self.setCurrentItem(self._items[key])
