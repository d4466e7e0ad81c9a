"""The training panel's ladder: one setting stepped over a few values, one model per value trained one
after another (see explorer.engine.ladder). This row reads the ladder from the form; the panel runs it."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QLineEdit, QVBoxLayout, QWidget

from explorer.engine import ladder as ladders
from explorer.engine.config import MAX_SEED
from explorer.utils.errors import ExplorerError
from explorer.utils.numeric import finite, int_from

# what the row offers, in the order a lecture uses them: (setting, shown as, example values)
SETTINGS = (("beta", "β (KL weight)", "0, 0.25, 1, 4, 16"), ("latent-dim", "latent dimensions", "2, 5, 10, 20"),
            ("epochs", "epochs", "1, 3, 10"), ("lr", "learning rate", "0.001, 0.003, 0.01"),
            ("batch-size", "batch size", "64, 256, 1024"), ("seed", "seed", "0, 1, 2"),
            ("anchor", "anchor (GAN)", "0, 50, 150"), ("confident", "confident G (GAN)", "0, 1, 5"))


class LadderRow(QWidget):
    """Off, or a setting and its values: "β (KL weight)" and "0, 0.25, 1, 4, 16"."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setting = QComboBox()
        self.setting.addItem("off (one model)", None)
        for key, name, _ in SETTINGS:
            self.setting.addItem(name, key)
        self.setting.setToolTip(f"Train one model per value of this setting, one after another (up to "
                                f"{ladders.MAX_RUNGS}); each appears in the model list and the compare view "
                                "as it finishes. The other fields give every rung's remaining settings.")
        self.values = QLineEdit()
        self.values.setToolTip("The setting's values, separated by commas")
        self.setting.currentIndexChanged.connect(self._setting_changed)
        layout = QVBoxLayout(self)  # the values below the setting: the dock beside the map is narrow
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.setting)
        layout.addWidget(self.values)
        self._setting_changed()

    def _setting_changed(self) -> None:
        key = self.setting.currentData()
        self.values.setEnabled(key is not None)
        example = next((e for k, _, e in SETTINGS if k == key), "")
        self.values.setPlaceholderText(f"e.g. {example}" if key else "")
        if key and not self.values.text().strip():
            self.values.setText(example)

    def set_ladder(self, setting: str | None, values: str = "") -> None:
        self.setting.setCurrentIndex(max(0, self.setting.findData(setting)))
        if values:
            self.values.setText(values)

    def rungs(self) -> list[ladders.Rung]:
        """The rungs the row describes, none when off; ExplorerError says what is wrong with the values."""
        key = self.setting.currentData()
        if key is None:
            return []
        read = int_from(0, MAX_SEED) if key in ladders.WHOLE else finite
        try:
            values = ladders.read_values(key, self.values.text(), read)
        except ValueError as e:
            raise ExplorerError(f"ladder: {e}") from None
        dest = ladders.CONFIG_FIELDS[key][1]
        return [ladders.Rung(key, dest, v) for v in values]

    def setEnabled(self, enabled: bool) -> None:  # noqa: N802 - Qt's name
        super().setEnabled(enabled)
        if enabled:
            self._setting_changed()


def rung_configs(rung: ladders.Rung, model_config, run_config) -> tuple:
    """(model config, run config) of one rung; ExplorerError names the rung whose value they refuse."""
    try:
        return ladders.apply(rung, model_config, run_config)
    except ExplorerError as e:
        raise ExplorerError(f"ladder rung {rung.label}: {e}") from None
