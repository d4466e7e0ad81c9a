"""One cell of the compare view's small multiples: a model picker, its map and the decode at the
shared cursor; and the grid that lays 2 to 8 cells out so their maps are as large as the window allows."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from explorer.gui.map.latent_map import LatentMap
from explorer.gui.panels.decoded_view import PixelImage
from explorer.gui.state import ViewState

MIN_MODELS, MAX_MODELS = 2, 8
# what a cell holds besides its map, in pixels: the picker, a two-line note and the caption above and
# below it (about 100 px together at the default font), and the decode below the map, a quarter of
# the map's height (at 8 models in 1280 x 720 that is a 50 px decode, 2x the 28 px digit)
CHROME_HEIGHT = 100
CHROME_WIDTH = 12
DECODE_SHARE = 0.25
MIN_DECODE = 56
AXIS_WIDTH = 48  # px: room for "-0.025" or "-1000" at the default font


def grid_shape(n: int, width: float, height: float) -> tuple[int, int]:
    """(rows, columns) for n cells in width x height that give each map the largest square side;
    of equal sides, the one with fewer empty cells. 1280 x 680: 2 models side by side, 8 in 2 rows of 4."""
    if not MIN_MODELS <= n <= MAX_MODELS:
        raise ValueError(f"the compare view shows {MIN_MODELS} to {MAX_MODELS} models, not {n}")
    best = None
    for cols in range(1, n + 1):
        rows = math.ceil(n / cols)
        side = min(width / cols - CHROME_WIDTH, (height / rows - CHROME_HEIGHT) / (1 + DECODE_SHARE))
        key = (round(side), -(rows * cols - n))
        if best is None or key > best[0]:
            best = (key, (rows, cols))
    return best[1]


class Cell(QWidget):
    """What one model shows in the compare view. Its model, plane, points and label are a ViewState of
    its own, as in the main window."""

    def __init__(self, index: int, parent=None):
        super().__init__(parent)
        self.index = index
        self.state = ViewState()
        self.picker = QComboBox()
        self.picker.setToolTip(f"The model in cell {index + 1}")
        self.picker.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(8)
        self.label = QComboBox()
        self.label.setToolTip("A conditional model decodes a code together with a label: which digit to draw")
        self.label.hide()
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.RichText)
        self.note.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        # two lines always, so the maps of one row line up whatever their notes say (the rest: its tooltip)
        self.note.setFixedHeight(2 * self.note.fontMetrics().lineSpacing() + 2)
        self.map = LatentMap()
        self.map.set_layer_visible("manifold", True)
        self.map.setMinimumSize(80, 80)
        # one width for every map's tick labels: the views keep their aspect, so a view narrowed by longer
        # labels ("-0.25" against "0") shows a taller region than a linked one beside it
        self.map.getAxis("left").setWidth(AXIS_WIDTH)
        self.ghost = pg.ScatterPlotItem(symbol="+", size=14, pen=pg.mkPen("#ffffff", width=1.5))
        self.ghost.setZValue(12)  # where the pointer is on another map
        self.map.addItem(self.ghost)
        self.decoded = PixelImage(MIN_DECODE)
        self.caption = QLabel()
        self.caption.setAlignment(Qt.AlignCenter)
        self.wanted: str | None = None  # the model picked (shown once it has opened)
        self.image: np.ndarray | None = None  # the decode shown
        self.label.currentIndexChanged.connect(lambda k: self.session is not None and k >= 0 and
                                               self.state.set_label(k))

        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(QLabel(f"<b>{index + 1}</b>"))
        head.addWidget(self.picker, 1)
        head.addWidget(self.label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(head)
        layout.addWidget(self.note)
        layout.addWidget(self.map, 4)
        layout.addWidget(self.decoded, 1)
        layout.addWidget(self.caption)

    @property
    def session(self):
        return self.state.session

    @property
    def plane(self):
        return self.state.plane

    @property
    def points(self):
        return self.state.points

    @property
    def latent_dim(self) -> int | None:
        return None if self.session is None else self.session.model.latent_dim

    def code(self, u: float, v: float) -> np.ndarray:
        return self.plane.to_latent([u, v])

    def decode_label(self) -> int | None:
        return self.state.label

    def describe_plane(self, same_size: int, sizes: int) -> None:
        """The note under the picker: the model, and what its coordinates are beside the other maps
        (`same_size`: other models shown of its latent size; `sizes`: latent sizes shown)."""
        session = self.session
        d = session.model.latent_dim
        parts, more = [f"<b>{session.name}</b>"], [f"{session.name}: {session.ckpt.describe()}"]
        if d > 2:
            parts.append(f"own principal plane (PC1 × PC2, {session.stats.explained(0, 1):.0%} of variance)")
            more.append(f"Coordinates are this model's own principal plane: PC1 × PC2 of its {d}-d test codes, "
                        f"not another model's space.")
        if sizes > 1:
            parts.append("<i>on its own plane</i>, not linked" if not same_size
                         else f"linked with the other {d}-d models")
            more.append(f"Pan and zoom move the maps of the models of one latent size together; this is the only "
                        f"{d}-d model shown." if not same_size else
                        f"Pan and zoom move this map with the other {d}-d models' maps only.")
        self.note.setText(" · ".join(parts))
        self.note.setToolTip("\n".join(more))
