"""Decodability colouring: the map's background by how recognisable each place's decode is, the points
by how recognisable their reconstructions are, and a colour bar that says what the colours mean.

The judge is the shipped digit classifier (its top softmax probability, explorer.latent.decodability). The
background is scored in a worker once pan/zoom settles, like the decoded manifold; the points once
per model and split, in another worker, and kept.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRect, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from explorer.gui.feedback import Feedback
from explorer.gui.map.map_panel import MapPanel
from explorer.gui.state import ViewState
from explorer.gui.threads.tasks import Tasks
from explorer.gui.threads.workers import Workers
from explorer.latent import decodability, worker_jobs

CELLS = 32  # scored cells per side of the view: 1,024 decodes, about half a second on two CPU cores
BINS = 32  # colours the points are drawn in
CACHED = 8  # (model, split) point scores kept
COLOURMAP = pg.colormap.get("inferno")  # perceptually even, dark to bright: no colour reads as a class
BACKGROUND_OPACITY = 0.5
TICKS = ((0.0, "0"), (0.1, "0.1 chance"), (0.5, "0.5"), (1.0, "1"))
WHAT = "Background: the decodes there · points: their reconstructions"
EXPLAINED = ("Classifier confidence that the decode is a digit: dark = unrecognisable, bright = a clear digit. "
             "Background: the decode at each place. Points: each image's reconstruction, decode(encode(x)).")


def colours(confidence: np.ndarray) -> np.ndarray:
    """uint8 RGB (..., 3) of confidences in [0, 1]."""
    return np.ascontiguousarray(COLOURMAP.map(np.clip(confidence, 0.0, 1.0), mode="byte")[..., :3])


def bins(confidence: np.ndarray) -> np.ndarray:
    """The colour each point is drawn in: an index into PALETTE."""
    return np.clip((np.asarray(confidence) * BINS).astype(np.int64), 0, BINS - 1)


PALETTE = tuple(QColor(*colours(np.array((b + 0.5) / BINS))).name() for b in range(BINS))


def kept_palette(cloud) -> tuple[str, ...]:
    """While scoring: the score bins shown before, then the labels' colours (a class k is len(PALETTE) + k)."""
    return PALETTE + tuple(cloud.label_palette)


class ColourBar(QWidget):
    """The legend in decodability mode: the scale from 0 to 1, what it means, and what is being scored."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.strip = GradientStrip()
        self.text = QLabel()
        # Ignored: the text takes the room there is and never widens the map panel (which would squeeze the docks)
        self.text.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.strip)
        layout.addWidget(self.text, 1)
        self.setToolTip(EXPLAINED)
        self.set_status("")

    def set_status(self, text: str) -> None:
        """What is being scored, under the meaning of the colours; empty once everything shown is scored."""
        self.status = text
        self.text.setText(f"<b>Decodability</b>: classifier confidence that the decode is a digit<br>"
                          f"<span style='color: #9aa0a6'>{text or WHAT}</span>")


class GradientStrip(QWidget):
    """The colour map from 0 to 1 with its ticks."""

    HEIGHT, WIDTH, LEFT = 10, 180, 6

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFixedSize(self.WIDTH + 2 * self.LEFT, self.HEIGHT + 14)

    def paintEvent(self, event):
        p = QPainter(self)
        ramp = colours(np.linspace(0, 1, self.WIDTH))[None].repeat(self.HEIGHT, axis=0)
        p.drawImage(QRect(self.LEFT, 1, self.WIDTH, self.HEIGHT),
                    QImage(ramp.data, self.WIDTH, self.HEIGHT, 3 * self.WIDTH, QImage.Format_RGB888))
        p.setPen(self.palette().color(self.foregroundRole()))
        font = p.font()
        font.setPixelSize(10)
        p.setFont(font)
        for value, text in TICKS:
            x = self.LEFT + round(value * (self.WIDTH - 1))
            p.drawLine(x, self.HEIGHT + 1, x, self.HEIGHT + 3)
            last = value == TICKS[-1][0]  # the last label ends at its tick, inside the widget
            p.drawText(QRect(x - 57 if last else x - 3, self.HEIGHT + 2, 60, 12),
                       Qt.AlignRight if last else Qt.AlignLeft, text)
        p.end()


class Decodability(QObject):
    """The decodability colouring of the map: the background scored cell by cell, the points by their
    reconstructions. Toggled with set_shown; it says when it cannot be shown and when it turned off."""

    rendered = Signal()  # the background now shows the scores of `values` over `bounds`
    scored = Signal()  # the points now show their reconstructions' scores
    availability = Signal(object)  # None when it can be shown, else why not
    turned_off = Signal()  # it switched itself off (unavailable, or the classifier failed to load)

    def __init__(self, state: ViewState, map_panel: MapPanel, workers: Workers, tasks: Tasks, feedback: Feedback,
                 parent=None):
        super().__init__(parent)
        self.state, self.map_panel, self.tasks, self.feedback = state, map_panel, tasks, feedback
        self.map = map_panel.map
        self.on = False
        self.classifier = None
        self._loading = False
        self.values: np.ndarray | None = None  # (CELLS, CELLS) scores shown, row 0 at the top
        self.bounds = None
        self.point_scores: np.ndarray | None = None  # the points' scores shown
        self._last_bins: dict[tuple[str, str], np.ndarray] = {}  # (dataset, split) -> colours last shown
        self._scores: OrderedDict = OrderedDict()  # (id(model), split) -> (model, scores)
        self._scoring: worker_jobs.ReconstructionRequest | None = None

        self.layer = pg.ImageItem(axisOrder="row-major")
        self.layer.setZValue(-9)  # above the decoded manifold, below the points
        self.layer.setOpacity(BACKGROUND_OPACITY)
        self.layer.hide()
        self.map.addItem(self.layer)
        self.bar = ColourBar()
        self.bar.hide()
        map_panel.add_key(self.bar)  # the room the legend had

        self.grid_worker = workers.add(worker_jobs.confidence_grid, True, "decodability grid", self._grid_ready, self._failed)
        self.score_worker = workers.add(worker_jobs.reconstruction_confidence, True, "decodability points",
                                        self._scores_ready, self._failed)
        self.score_worker.progress.connect(self._scoring_progress)
        self.map.cloud.points_set.connect(self.refresh)
        self.map.region_settled.connect(lambda bounds: self._request_grid())
        state.label_changed.connect(lambda label: self._request_grid())
        state.session_changed.connect(lambda session: self.update_availability())

    @property
    def scoring(self) -> worker_jobs.ReconstructionRequest | None:
        """The scoring under way (cancel it with its event), None when none is."""
        return self._scoring

    def scored_models(self) -> list:
        """The models whose reconstructions are scored and kept."""
        return [model for model, _ in self._scores.values()]

    def stop(self) -> None:
        if self._scoring is not None:
            self._scoring.cancel.set()

    # --- on and off -------------------------------------------------------------------------------
    def unavailable(self) -> str | None:
        s = self.state.session
        return "no model is open" if s is None else decodability.unavailable(s.dataset)

    def update_availability(self) -> None:
        reason = self.unavailable()
        self.availability.emit(reason)
        if reason is not None and self.on:
            self.set_shown(False)
            self.turned_off.emit()

    def set_shown(self, on: bool) -> None:
        reason = self.unavailable()
        if on and reason is not None:
            self.turned_off.emit()
            self.feedback.say(f"Decodability colouring is unavailable: {reason}", 10000)
            return
        self.on = on
        self.layer.setVisible(on)
        self.bar.setVisible(on)
        self.map_panel.legend.setVisible(not on)
        if not on:
            self.stop()
            self._scoring = None
            self.point_scores = None
            self._last_bins.clear()
            self.map.cloud.set_colours(None)
            return
        if self.classifier is None:
            if not self._loading:
                self._loading = True
                self.bar.set_status("Loading the digit classifier…")
                self.tasks.run((decodability.load_classifier,), self._classifier_loaded, report=False,
                               failure="Cannot judge decodability", on_failed=self._load_failed)
            return
        self.refresh()

    def _classifier_loaded(self, classifier) -> None:
        self.classifier, self._loading = classifier, False
        self.refresh()

    def _load_failed(self, message: str) -> None:  # the message is shown already
        self._loading = False
        self.set_shown(False)
        self.turned_off.emit()

    def refresh(self) -> None:
        """New points, plane or model on the map: score what is not scored yet."""
        if self.on and self.classifier is not None:
            self._request_grid()
            self._colour_points()

    # --- the background ----------------------------------------------------------------------------
    def _request_grid(self) -> None:
        s = self.state.session
        if not self.on or self.classifier is None or s is None:
            return
        self.grid_worker.submit(worker_jobs.ConfidenceGridRequest(
            s.model, self.classifier, self.state.plane, self.map.covering_square(), CELLS, self.state.label), "grid")

    def _grid_ready(self, r: int, result) -> None:
        req, values = result
        s = self.state.session
        if not self.grid_worker.is_newest(r) or not self.on or s is None or req.model is not s.model:
            return
        self.values, self.bounds = values, req.bounds
        xmin, xmax, ymin, ymax = req.bounds
        # row-major images are drawn with row 0 at the smallest v: flip the grid's top row down
        self.layer.setImage(np.ascontiguousarray(colours(values)[::-1]), levels=(0, 255), autoLevels=False)
        self.layer.setRect(xmin, ymin, xmax - xmin, ymax - ymin)
        self.rendered.emit()

    # --- the points -------------------------------------------------------------------------------
    def _colour_points(self) -> None:
        s, points = self.state.session, self.state.points
        if points is None or s is None or not s.model.has_encoder:
            self.bar.set_status("")
            return
        found = [self._scores.get((id(s.model), split.split)) for split in points.splits]
        if all(found):
            self.point_scores = np.concatenate([scores for _, scores in found])
            per_split = {(s.dataset, split.split): bins(scores) for split, (_, scores) in zip(points.splits, found)}
            self.map.cloud.set_colours(np.concatenate(list(per_split.values())), PALETTE, outline=False)
            self._last_bins.update(per_split)
            self.bar.set_status("")
            self.scored.emit()
            return
        self.map.cloud.set_colours(self._kept_colours(), kept_palette(self.map.cloud), outline=False)
        missing = tuple(split for split, f in zip(points.splits, found) if f is None)
        running = self._scoring
        if running is not None and running.model is s.model and running.splits == missing:
            return  # already on it
        if running is not None:
            running.cancel.set()
        self._scoring = worker_jobs.ReconstructionRequest(s.model, self.classifier, missing, threading.Event())
        self.score_worker.submit(self._scoring, "points")
        self.bar.set_status(f"Scoring {sum(len(split) for split in missing):,} reconstructions…")

    def _kept_colours(self) -> np.ndarray:
        """Until the new scores are ready each split keeps the colours it shows: the scores last shown for
        its images (an epoch or a model ago), else its labels' colours (indices into kept_palette)."""
        points, dataset = self.state.points, self.state.session.dataset
        kept = len(PALETTE) + np.asarray(points.labels, dtype=np.int64)
        for split, start in zip(points.splits, points.offsets):
            last = self._last_bins.get((dataset, split.split))
            if last is not None and len(last) == len(split):
                kept[start : start + len(split)] = last
        return kept

    def _scoring_progress(self, r: int, fraction: float) -> None:
        if self.score_worker.is_newest(r) and self.on:
            self.bar.set_status(f"Scoring reconstructions… {fraction:.0%}")

    def _scores_ready(self, r: int, result) -> None:
        req, scores = result
        if scores is None:
            return  # cancelled
        for name, values in scores.items():
            self._scores[(id(req.model), name)] = (req.model, values)  # the model kept: its id stays unique
        while len(self._scores) > CACHED:
            self._scores.popitem(last=False)
        if req is self._scoring:
            self._scoring = None
            if self.on:
                self._colour_points()

    def _failed(self, r: int, message: str) -> None:
        self.feedback.show_message("Cannot judge decodability", message)
