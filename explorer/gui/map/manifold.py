"""The decoded-manifold layer behind the points: a grid of decodes over the visible region, redrawn
(on its own worker, newest request wins) when the region settles, the model, plane or label changes."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from explorer.gui.feedback import Feedback
from explorer.gui.map.latent_map import LatentMap
from explorer.gui.state import ViewState
from explorer.gui.threads.workers import Workers
from explorer.latent import worker_jobs

CELLS = 20  # decodes per side of the background layer


class ManifoldLayer(QObject):
    rendered = Signal()

    def __init__(self, state: ViewState, latent_map: LatentMap, workers: Workers, feedback: Feedback, parent=None):
        super().__init__(parent)
        self.state, self.map = state, latent_map
        self.shown = False
        self.worker = workers.add(worker_jobs.manifold, True, "manifold", self._ready,
                                  lambda r, message: feedback.show_message("Cannot draw the manifold", message))
        latent_map.region_settled.connect(lambda bounds: self.request())
        for signal in (state.plane_changed, state.label_changed, state.session_changed):
            signal.connect(lambda *_: self.request())

    def set_shown(self, shown: bool) -> None:
        self.shown = shown
        self.map.set_layer_visible("manifold", shown)
        self.request()

    def request(self) -> None:
        s = self.state
        if s.session is None or not self.shown:
            return
        self.worker.submit(worker_jobs.ManifoldRequest(s.session.model, s.plane, self.map.covering_square(), CELLS, s.label),
                           "manifold")

    def _ready(self, r: int, result) -> None:
        if self.worker.is_newest(r):
            self.map.set_background(*result)
            self.rendered.emit()
