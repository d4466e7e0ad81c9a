"""Decodability colouring: the background and the points coloured by the digit classifier's confidence."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, Qt

from explorer.engine import coding
from explorer.gui.map.decodability import BACKGROUND_OPACITY, CELLS, PALETTE, bins, colours
from explorer.latent import decodability, metrics
from explorer.latent.colours import TAB10

SHIPPED_VAE = Path(__file__).resolve().parents[2] / "trained" / "vae-2d-mlp.safetensors"  # decodes clear and vague


def turn_on(window, qtbot):
    deco = window.decodability
    window.activateWindow()
    with qtbot.waitSignals([deco.rendered, deco.scored], timeout=60_000):
        qtbot.keyClick(window, Qt.Key_Y)
    return deco


def test_background_cells_show_the_confidence_in_their_decode(open_window, qtbot):
    window = open_window(SHIPPED_VAE)
    window.actions.points.setChecked(False)  # nothing over the background
    deco = turn_on(window, qtbot)
    assert deco.on and window.actions.confidence.isChecked()

    # each cell: the classifier's confidence in the model's own decode of the cell's centre
    centres = decodability.cell_centres(CELLS, deco.bounds)
    s = window.state
    expected = metrics.confidence(deco.classifier, coding.decode(s.session.model, s.plane.to_latent(centres)))
    assert np.allclose(deco.values.ravel(), expected, atol=1e-5)
    assert expected.max() - expected.min() > 0.3  # the region holds clear and vague decodes
    assert np.allclose(deco.bounds, window.map.covering_square())

    # on screen, the cell under a pixel has that confidence's colour (over the black plot, at the layer's opacity)
    shot = window.map.grab().toImage()
    xmin, xmax, ymin, ymax = deco.bounds
    side = (xmax - xmin) / CELLS
    checked = 0
    for k in np.linspace(0, CELLS * CELLS - 1, 40).astype(int):
        u, v = centres[k]
        pixel = window.map.mapFromScene(window.map.view.mapViewToScene(QPointF(u, v)))
        if not window.map.view.sceneBoundingRect().contains(window.map.mapToScene(pixel)):
            continue  # this cell lies outside the view
        shown = shot.pixelColor(pixel)
        want = colours(expected[k]) * BACKGROUND_OPACITY
        assert np.allclose([shown.red(), shown.green(), shown.blue()], want, atol=4), (k, u, v)
        checked += 1
        assert abs(u - (xmin + side * (k % CELLS + 0.5))) < 1e-9  # row by row, top row first
    assert checked >= 10


def test_points_show_the_confidence_in_their_reconstruction(open_window, qtbot):
    window = open_window()
    deco = turn_on(window, qtbot)
    split = window.state.points.splits[0]
    expected = decodability.reconstruction_confidence(window.state.session.model, deco.classifier, split.images,
                                                      split.labels)
    assert np.allclose(deco.point_scores, expected, atol=1e-6)
    cloud = window.map.cloud
    assert cloud.palette == PALETTE and np.array_equal(cloud.colours, bins(expected))
    # the legend is the colour bar now
    assert deco.bar.isVisible() and not window.map_panel.legend.isVisible()

    # both splits: the train images are scored too, once, and the test scores are kept; while they are
    # scored, the test points keep their colours and the train points show their labels' colours
    with qtbot.waitSignal(deco.scored, timeout=60_000):
        window.map_panel.split.setCurrentText("both")
        assert cloud.palette == PALETTE + TAB10 and np.array_equal(cloud.colours[:256], bins(expected))
        assert np.array_equal(cloud.colours[256:], len(PALETTE) + window.state.points.labels[256:])
    assert len(cloud.colours) == len(window.state.points) == 256 + 512
    assert np.array_equal(cloud.colours[:256], bins(expected))

    qtbot.keyClick(window, Qt.Key_Y)  # back to the labels
    assert cloud.colours is None and window.map_panel.legend.isVisible() and not deco.layer.isVisible()


def scoring_under_way(qtbot, deco) -> None:
    """Wait until the bar reports scoring progress ("Scoring reconstructions… 41%").

    Polled, not `qtbot.waitSignal(deco.score_worker.progress)`: that signal comes from the worker thread
    many times a second, and PySide6 6.11 still delivers a queued (int, object) emission to the blocker's
    slot after pytest-qt has disconnected and freed it - a use after free that segfaulted CI (3 runs in 12
    under load; a 30-line script with a thread emitting such a signal crashes 2 runs in 6)."""
    qtbot.waitUntil(lambda: "%" in deco.bar.status, timeout=30_000)


def test_the_colouring_is_unavailable_without_the_classifier(open_window, qtbot, monkeypatch):
    monkeypatch.setattr(decodability.trained, "classifier_path", lambda: None)
    window = open_window()
    action = window.actions.confidence
    assert not action.isEnabled()
    assert "classifier" in action.toolTip() and "not in" in action.toolTip()
    window.decodability.set_shown(True)  # however it is asked for
    assert not window.decodability.on and window.map_panel.legend.isVisible()


def test_closing_the_window_cancels_the_scoring_under_way(open_window, qtbot, monkeypatch):
    monkeypatch.setattr(decodability, "CHUNK", 8)  # 32 chunks for the 256 test images
    real = decodability.metrics.confidence

    def slow_confidence(classifier, images):  # a slow machine: each chunk takes a while
        time.sleep(0.05)
        return real(classifier, images)
    monkeypatch.setattr(decodability.metrics, "confidence", slow_confidence)
    window = open_window()
    deco = window.decodability
    window.actions.confidence.setChecked(True)
    scoring_under_way(qtbot, deco)
    running = deco.scoring
    window.close()
    assert running.cancel.is_set() and not deco.score_worker.isRunning()
    assert not deco.scored_models()  # stopped part-way: nothing half-scored is kept


def test_while_another_model_is_scored_the_points_keep_their_colours_and_progress_shows(open_window, qtbot,
                                                                                        monkeypatch, gui_models):
    window = open_window()
    deco, cloud = turn_on(window, qtbot), window.map.cloud
    before = cloud.colours.copy()
    monkeypatch.setattr(decodability, "CHUNK", 8)  # 32 chunks for the 256 test images
    real = decodability.metrics.confidence

    def slow_confidence(classifier, images):  # a slow machine: scoring takes a while
        time.sleep(0.02)
        return real(classifier, images)
    monkeypatch.setattr(decodability.metrics, "confidence", slow_confidence)
    seen = []
    cloud_colours = cloud.set_colours

    def record(colours, palette=PALETTE, outline=False):
        seen.append((None if colours is None else colours.copy(), tuple(palette)))
        cloud_colours(colours, palette, outline)
    monkeypatch.setattr(cloud, "set_colours", record)
    window.models.open_path(gui_models / "ae-2d-mlp.safetensors")
    scoring_under_way(qtbot, deco)
    qtbot.waitUntil(lambda: len(seen) > 1 and seen[-1][1] == PALETTE, timeout=60_000)  # scored
    assert seen[0][1] == PALETTE + TAB10 and np.array_equal(seen[0][0], before)  # the old colours, not grey
    split = window.state.points.splits[0]
    expected = decodability.reconstruction_confidence(window.state.session.model, deco.classifier, split.images,
                                                      split.labels)
    assert seen[-1][1] == PALETTE and np.array_equal(seen[-1][0], bins(expected))
