"""The map's *Map* choice for latent sizes above 2: the exact principal plane, or a UMAP or t-SNE layout
of the points decoded through a learned inverse (explorer.latent.maps), laid out on its own worker with
progress and cancel, cached per model and points. Where the map lies far from any data point, the
inverse extrapolates: that part of the map is shaded, and the note under the header says so."""

from __future__ import annotations

import threading

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QLabel

from explorer.gui.feedback import Feedback
from explorer.gui.map.map_panel import MapPanel
from explorer.gui.state import ViewState
from explorer.gui.threads.workers import Workers
from explorer.latent import maps, worker_jobs

CHOICES = {name: method for method, name in maps.NAMES.items()}
NEAR = 2.0  # point spacings from the data at which shading starts
SHADE_ALPHA = 150  # of the shading where the map is furthest from the data


def shading(distance: np.ndarray) -> np.ndarray:
    """(h, w, 4) uint8 grey over the map where it lies more than NEAR spacings from the data, darker further."""
    strength = np.clip((distance - NEAR) / (4 * NEAR), 0, 1)
    rgba = np.zeros((*distance.shape, 4), dtype=np.uint8)
    rgba[..., :3] = 90
    rgba[..., 3] = np.rint(SHADE_ALPHA * strength)
    return rgba


class LearnedMaps(QObject):
    shown = Signal(object)  # the maps.LearnedMap now shown, or None for the plane

    def __init__(self, state: ViewState, map_panel: MapPanel, workers: Workers, feedback: Feedback, parent=None):
        super().__init__(parent)
        self.state, self.map_panel, self.feedback = state, map_panel, feedback
        self.method = "pca"
        self._running: worker_jobs.LearnedMapRequest | None = None
        self.combo = QComboBox()
        self.combo.addItems(CHOICES)
        self.combo.setToolTip("PCA plane: exact. UMAP and t-SNE show the clusters of a wide latent space; a point "
                              "of theirs is decoded through a network fitted to undo the layout, exact only near "
                              "the data (the rest is shaded)")
        self.combo.activated.connect(lambda k: self.set_method(CHOICES[self.combo.itemText(k)]))
        self.label = QLabel("Map")
        controls = map_panel.controls
        at = controls.indexOf(map_panel.axes_box)
        controls.insertWidget(at, self.combo)
        controls.insertWidget(at, self.label)
        self.layer = pg.ImageItem(axisOrder="row-major")
        self.layer.setZValue(-8)  # above the manifold and decodability, below the points
        self.layer.hide()
        map_panel.map.addItem(self.layer)
        self.worker = workers.add(worker_jobs.learned_map, True, "learned map", self._ready,
                                  lambda r, message: self._failed(message))
        self.worker.progress.connect(self._progress)
        state.session_changed.connect(lambda session: self._offer())
        state.points_changed.connect(self._points_changed)
        self._offer()

    def _offer(self) -> None:
        s = self.state.session
        wide = s is not None and s.model.latent_dim > 2 and s.model.has_encoder
        self.combo.setVisible(wide)
        self.label.setVisible(wide)
        if not wide and self.method != "pca":
            self.set_method("pca")

    def set_method(self, method: str) -> None:
        """'pca', 'umap' or 'tsne': lay the points out anew unless the map shown is already that."""
        if method not in maps.METHODS:
            raise ValueError(f"unknown map {method!r}")
        self.method = method
        self.combo.setCurrentText(maps.NAMES[method])
        self.map_panel.axes_box.setVisible(method == "pca" and self.combo.isVisible())
        self._request()

    def stop(self) -> None:
        if self._running is not None:
            self._running.cancel.set()
            self._running = None
            self.feedback.set_idle()

    def _points_changed(self) -> None:
        learned = self.state.learned
        self.layer.setVisible(learned is not None)
        if self.method != "pca" and (learned is None or learned.method != self.method):
            self._request()  # other points: their own layout

    def _request(self) -> None:
        s = self.state
        self.stop()
        if self.method == "pca" or s.points is None:
            if s.learned is not None:
                s.set_learned_map(None)
            self.shown.emit(None)
            return
        if s.learned is not None and s.learned.method == self.method:
            return
        self._running = worker_jobs.LearnedMapRequest(s.points.codes, self.method, threading.Event(), maps.default_cache_dir())
        self.worker.submit(self._running, "map")
        self._say("laying out")

    def _progress(self, r: int, fraction: float) -> None:
        if self.worker.is_newest(r) and self._running is not None:
            self._say("laying out" if fraction < 0.5 else f"fitting its inverse, {2 * fraction - 1:.0%}")

    def _say(self, step: str) -> None:
        """The layout itself reports no progress (1 to 2 minutes for UMAP of 10,000 codes here, numba's
        first compile included), so the status names the step: the layout, then the inverse's fit in %.
        Choosing the PCA plane cancels (Esc is the Explore tool)."""
        self.feedback.set_busy(f"{self.combo.currentText()} map of {len(self._running.codes):,} points: {step} "
                               f"(choose PCA plane to cancel)…")

    def _ready(self, r: int, result: worker_jobs.LearnedMapResult | None) -> None:
        if result is None or result.request is not self._running:
            return  # cancelled, or for other points
        self._running = None
        self.feedback.set_idle()
        s = self.state
        if s.points is None or not np.array_equal(result.request.codes, s.points.codes):
            return
        s.set_learned_map(result.learned)
        xmin, xmax, ymin, ymax = result.shade_bounds
        # row-major images are drawn with row 0 at the smallest v: the grid's top row goes down
        self.layer.setImage(np.ascontiguousarray(shading(result.shade)[::-1]), levels=(0, 255), autoLevels=False)
        self.layer.setRect(xmin, ymin, xmax - xmin, ymax - ymin)
        self.layer.show()
        self.shown.emit(result.learned)
        self.feedback.say(result.learned.describe(), 10000)

    def _failed(self, message: str) -> None:
        self._running = None
        self.feedback.set_idle()
        self.feedback.show_message("Cannot lay out that map", message)
        self.set_method("pca")
