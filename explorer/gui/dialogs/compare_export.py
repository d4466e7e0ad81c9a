"""Exports of the compare view for slides: the small multiples as one PNG (maps with their notes and
decodes) at 1x, 2x or 4x, the decodes of the cursor's code across the models as one PNG, and a path
played in every model at once as one GIF. Rendering is Qt's on this thread (tens of ms); encoding and
writing run on the jobs thread."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QMenu, QPushButton, QWidget

from explorer.engine import coding
from explorer.gui import last_folder
from explorer.gui.dialogs.exports import write_png
from explorer.gui.threads.tasks import Tasks
from explorer.gui.widgets.filmstrip import STRIP_FPS, STRIP_SCALE
from explorer.latent import export

SCALES = (1, 2, 4)
DECODE_SCALE = 4  # the decodes' PNG: 112 px digits, as the filmstrip's
PATH_STEPS = 24  # a GIF's frames along a path: about 2.4 s at 10 frames a second


def render(widget: QWidget, scale: int) -> QImage:
    """`widget` as drawn on screen, `scale` times its pixels (plots redrawn in the finer pixels)."""
    ratio = scale * widget.devicePixelRatioF()
    image = QImage(round(widget.width() * ratio), round(widget.height() * ratio), QImage.Format_RGB32)
    image.setDevicePixelRatio(ratio)
    image.fill(widget.palette().window().color())
    for view in widget.findChildren(pg.GraphicsView):
        view.scene().prepareForPaint()  # pyqtgraph's items update before they are drawn
    painter = QPainter(image)
    QWidget.render(widget, painter, QPoint(0, 0))  # as drawn, children included
    painter.end()
    return image


def path_frames(cells: list, path) -> np.ndarray:
    """On the jobs thread: the path's decodes in every model, side by side at each step (each model's
    own plane gives the codes of the path's map points)."""
    sets = [coding.decode(c.session.model, path.codes(c.plane, PATH_STEPS), c.decode_label()) for c in cells]
    return export.side_by_side(sets)


class CompareExports:
    """The compare view's Export button and what it writes."""

    def __init__(self, compare, tasks: Tasks, path_source):
        self.compare, self.tasks = compare, tasks
        self.path_source = path_source  # () -> the main window's path (interpolation.Path) or None
        self.button = QPushButton("Export")
        menu = QMenu(self.button)
        for scale in SCALES:
            menu.addAction(f"Maps as PNG ({scale}×)…", lambda scale=scale: self.ask("maps", scale))
        menu.addAction("Decodes at the cursor as PNG…", lambda: self.ask("decodes", DECODE_SCALE))
        menu.addAction("Path in every model as GIF…", lambda: self.ask("path", STRIP_SCALE))
        self.button.setMenu(menu)
        self.button.setToolTip("For slides: the maps as one PNG, the decodes of one code across the models, or "
                               "the main window's path (else a line through the cursor) played in every model")

    def ask(self, what: str, scale: int) -> None:
        name, filters = {"maps": ("compare.png", "PNG image (*.png)"), "decodes": ("decodes.png", "PNG image (*.png)"),
                         "path": ("path.gif", "GIF animation (*.gif)")}[what]
        path, _ = last_folder.getSaveFileName(self.compare, "Export", name, filters)
        if path:
            {"maps": self.maps, "decodes": self.decodes, "path": self.path_gif}[what](path, scale)

    def maps(self, path: str, scale: int = 1) -> None:
        self.tasks.run((write_png, path, render(self.compare.grid_area, scale)))

    def decodes(self, path: str, scale: int = DECODE_SCALE) -> None:
        images = [c.image for c in self.compare.shown]
        if any(image is None for image in images):
            self.compare.feedback.show_message("Nothing to export", "Click on a map first: every model decodes "
                                                                    "the same point, and these are exported.")
            return
        self.tasks.run((export.save_png, path, export.side_by_side([i[None] for i in images])[0], scale))

    def path_gif(self, path: str, scale: int = STRIP_SCALE) -> None:
        cells, route = [c for c in self.compare.shown if c.session is not None], self.path()
        self.tasks.run((lambda: export.save_gif(path, path_frames(cells, route), scale, STRIP_FPS),))

    def path(self):
        """The main window's path, or a line across the first map's view through the cursor."""
        from explorer.latent.interpolation import Path

        drawn = self.path_source()
        if drawn is not None and len(drawn.waypoints) >= 2:
            return drawn
        xmin, xmax, ymin, ymax = self.compare.shown[0].map.visible_bounds()
        v = self.compare.cursor[1] if self.compare.cursor is not None else (ymin + ymax) / 2
        return Path([(xmin + 0.1 * (xmax - xmin), v), (xmax - 0.1 * (xmax - xmin), v)], steps=PATH_STEPS)
