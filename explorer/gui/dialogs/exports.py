"""Exports from the window: decoded grid, filmstrip, map image, embeddings.

Each `ask_*` asks where (a file dialog) and then calls the method that writes; the writing runs on
the jobs thread through explorer.latent.export, atomically, and failures become messages.
"""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QIODevice, QPoint
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from explorer.gui import last_folder
from explorer.gui.dialogs.export import GridExportDialog, MapExportDialog, StripExportDialog
from explorer.gui.feedback import Feedback
from explorer.gui.map.map_panel import MapPanel
from explorer.gui.state import ViewState
from explorer.gui.threads.tasks import Tasks
from explorer.gui.widgets.filmstrip import STRIP_FPS, STRIP_SCALE
from explorer.latent import export
from explorer.utils.files import atomic_write


def write_png(path: str, image: QImage):
    """Encode image as PNG and write it atomically (a file-system call can hang). On the jobs thread: a
    4x map (3544 x 2440) took 2.9 s to encode on a 2-core machine, which froze the window."""
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    image.save(buffer, "PNG")
    data = bytes(buffer.data())
    return atomic_write(path, lambda f: f.write(data), (".png",))


class Exports:
    def __init__(self, state: ViewState, map_panel: MapPanel, tasks: Tasks, feedback: Feedback):
        self.state, self.map_panel, self.tasks, self.feedback = state, map_panel, tasks, feedback
        self.map = map_panel.map
        self.strip_choice: tuple[str, int, float] | None = None  # the last filmstrip export's file, scale, rate

    def _ask(self, title: str, name: str, filters: str) -> str:
        path, _ = last_folder.getSaveFileName(self.map.window(), title, name, filters)
        return path

    def ask_grid(self) -> None:
        if self.state.session is None:
            return
        data = export.grid_bounds(self.state.plane, self.state.session.stats)
        name = last_folder.place(last_folder.named(self.state.session, "grid", ".png"))
        image_size = tuple(self.state.session.model.image_shape[-2:])
        dialog = GridExportDialog(data, self.map.visible_bounds(), name, self.map.window(), image_size)
        if dialog.exec():
            self.grid(dialog.path.text(), dialog.n.value(), dialog.bounds(), dialog.scale.value())

    def grid(self, path: str, n: int, bounds, scale: int = 1) -> None:
        """n x n decodes over bounds as one PNG, exactly as `explorer grid` writes it."""
        model, plane, label = self.state.session.model, self.state.plane, self.state.label

        def write():
            return export.save_png(path, export.grid_image(model, plane, n, bounds, label), scale)
        self.tasks.run((write,))

    def ask_strip(self) -> None:
        result = self.state.path_result
        if result is None:
            self.feedback.show_message("Nothing to export", "Draw a path on the map first (L, F or W).")
            return
        name = last_folder.place(last_folder.named(self.state.session, "path", ".png"))
        choice = self.strip_choice or (name, STRIP_SCALE, STRIP_FPS)
        dialog = StripExportDialog(len(result.frames), *choice, parent=self.map.window())
        if dialog.exec():
            self.strip_choice = (dialog.path.text().strip(), dialog.scale.value(), dialog.fps.value())
            self.strip(*self.strip_choice)

    def strip(self, path: str, scale: int = STRIP_SCALE, fps: float = STRIP_FPS) -> None:
        """The path's decodes as a PNG strip or a GIF (by the suffix), each pixel `scale` x `scale`."""
        self.tasks.run((export.save_strip, path, self.state.path_result.frames, scale, fps))

    def ask_map(self) -> None:
        dialog = MapExportDialog(last_folder.place(last_folder.named(self.state.session, "map", ".png")),
                                 self.map.window())
        if dialog.exec():
            self.map_image(dialog.path.text().strip(), dialog.scale.currentData())

    def map_image(self, path: str, scale: int = 1) -> None:
        """The map as it is on screen under its legend (or colour bar), `scale` times the screen's pixels:
        Qt renders it on this thread (about 20 ms at 4x here); the PNG is encoded and written on the jobs thread."""
        self.tasks.run((write_png, path, self.render_map(scale)))

    def render_map(self, scale: int = 1) -> QImage:
        """The map as it is on screen under its legend (or colour bar), `scale` times the screen's pixels."""
        key, latent_map = self.map_panel.shown_key(), self.map
        top = key.height() if key is not None else 0
        ratio = scale * latent_map.devicePixelRatioF()
        image = QImage(round(latent_map.width() * ratio), round((top + latent_map.height()) * ratio),
                       QImage.Format_RGB32)
        image.setDevicePixelRatio(ratio)  # the widgets paint at their own size, in finer pixels
        image.fill(self.map_panel.palette().window().color())
        latent_map.scene().prepareForPaint()  # pyqtgraph's items update before they are drawn
        painter = QPainter(image)
        if key is not None:
            key.render(painter, QPoint(0, 0))
        QWidget.render(latent_map, painter, QPoint(0, top))  # as drawn (a GraphicsView's own render is its scene's)
        painter.end()
        return image

    def ask_codes(self) -> None:
        if self.state.points is None:
            self.feedback.show_message("Nothing to export", "There are no embedded images on the map.")
        elif path := self._ask("Export embeddings", last_folder.named(self.state.session, "embeddings", ".csv"),
                               "CSV table (*.csv);;NumPy arrays (*.npz)"):
            self.codes(path)

    def codes(self, path: str) -> None:
        """Every point on the map: its full code, its map position, label and split."""
        p, plane = self.state.points, self.state.plane
        self.tasks.run((export.save_codes, path, p.codes, p.labels, plane.project(p.codes), p.split_names()))
