"""The window on a student's laptop: its least size fits a 1280 x 720 screen with room for a title bar and a
taskbar, before and after every panel has filled; it never grows by itself; no dock lies over another at
any size; and the loss curves of a run are in view, with their legend, at 1280 x 720."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QDockWidget

from .helpers import at, pixel_of

LAPTOP = QSize(1280, 720)
LEAST = QSize(1200, 640)  # a 1280 x 720 screen less a window manager's title bar and a taskbar


def fits(size: QSize, room: QSize = LEAST) -> bool:
    return size.width() <= room.width() and size.height() <= room.height()


def front_docks(window) -> list[QDockWidget]:
    """The docks the user sees: shown, and not behind another dock's tab."""
    return [d for d in window.findChildren(QDockWidget) if d.isVisible() and not d.visibleRegion().isEmpty()]


def overlapping(window) -> list[tuple[str, str]]:
    docks = front_docks(window)
    return [(a.windowTitle(), b.windowTitle()) for k, a in enumerate(docks) for b in docks[k + 1:]
            if a.geometry().intersects(b.geometry())]


def settled(window, qtbot) -> None:
    qtbot.waitUntil(lambda: all(w.idle() for w in window.workers) and window.tasks.pending() == 0, timeout=30_000)
    qtbot.wait(100)  # the layout settles


def train_one_epoch(window, qtbot) -> None:
    dialog = window.train_dialog
    qtbot.keyClick(window.map, Qt.Key_T, Qt.ControlModifier)
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    dialog.epochs.setValue(1)
    dialog.batch.setValue(64)
    dialog.device.setCurrentText("cpu")
    with qtbot.waitSignal(window.training.trained_ready, timeout=60_000):
        qtbot.mouseClick(dialog.start, Qt.LeftButton)


def test_the_least_size_fits_a_laptop_and_the_window_never_grows_as_its_panels_fill(open_window, qtbot):
    window = open_window()
    window.resize(LAPTOP)
    settled(window, qtbot)
    assert window.size() == LAPTOP and fits(window.minimumSizeHint())
    map_area = window.map_panel.geometry()  # the map is the largest thing on the screen
    assert all(map_area.width() * map_area.height() > d.width() * d.height() for d in front_docks(window))

    train_one_epoch(window, qtbot)  # the training panel, its curves, the trained model's timeline
    window.actions.attribute.trigger()
    qtbot.waitUntil(window.attributes.dock.isVisible, timeout=5000)
    with qtbot.waitSignal(window.neighbours.shown, timeout=10_000):  # the decode and its neighbours
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=pixel_of(window, *at(window, 0.6, 0.4)))
    settled(window, qtbot)
    assert window.timeline.dock.isVisible() and window.train_dock.isVisible()
    assert fits(window.minimumSizeHint()) and fits(window.minimumSize())
    assert window.size() == LAPTOP  # 1400 -> 1435 -> 1532 px wide as the panels filled, when they set its least size
    assert not overlapping(window)


@pytest.mark.parametrize("size", [LAPTOP, QSize(800, 600)])
def test_no_dock_lies_over_another_with_every_panel_open(open_window, qtbot, size):
    window = open_window()
    qtbot.keyClick(window.map, Qt.Key_T, Qt.ControlModifier)
    window.actions.attribute.trigger()
    window.actions.code_dock.trigger()
    window.selecting.show_panel()
    window.resize(size)
    settled(window, qtbot)
    assert window.size() == size  # it fits: a window held larger than its screen laid its docks over one another
    assert {"Attribute arithmetic", "Latent code", "Selection", "Decoded"} <= {d.windowTitle() for d in front_docks(window)}
    assert not overlapping(window)
    inside = QRect(0, 0, size.width(), size.height())
    assert all(inside.contains(d.geometry()) for d in front_docks(window))


def test_a_runs_loss_curves_and_their_legend_are_in_view_at_1280_x_720(open_window, qtbot):
    window = open_window()
    window.resize(LAPTOP)
    settled(window, qtbot)
    train_one_epoch(window, qtbot)
    settled(window, qtbot)
    plot = window.train_dialog.plot
    view = plot.viewport()
    shown = view.visibleRegion().boundingRect()  # what the scrolling panel and its dock leave in view
    assert shown.height() >= 200 and shown.width() >= 200 and shown.size() == view.size()
    legend = plot.getPlotItem().legend
    names = [label.text for _, label in legend.items]
    assert names == ["loss", "recon", "kl"]
    box = plot.mapFromScene(legend.sceneBoundingRect()).boundingRect()
    assert shown.contains(box)  # the legend whole, inside the part of the plot in view
    curves = window.train_dialog.curves
    assert curves["loss"].zValue() < curves["recon"].zValue()  # the whole loss never hides its terms

