"""More classes than the ten digits: every point is drawn, each class in its own colour, and the legend
has a toggle (or a menu entry) for every class that hides exactly that class."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from explorer.gui.map.map_panel import TOGGLES, MapPanel
from explorer.gui.map.point_cloud import PointCloud
from explorer.latent.colours import class_colours

from .helpers import colour_at


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(classes=st.integers(1, 1000), data=st.data())
def test_a_point_of_any_class_is_drawn_in_that_classs_colour(plot, classes, data):
    k = data.draw(st.integers(0, classes - 1), label="class")
    cloud = PointCloud(size=11, alpha=255)
    plot.addItem(cloud)
    # the class drawn, and the largest class number, so the palette must cover every label
    cloud.set_points(np.array([[3.0, 3.0], [8.0, 8.0]]), np.array([k, classes - 1]))
    assert colour_at(plot, 3, 3).name() == QColor(class_colours(classes)[k]).name()
    shown = np.ones(classes, dtype=bool)
    shown[k] = False
    cloud.set_shown_labels(shown)
    assert colour_at(plot, 3, 3).name() != QColor(class_colours(classes)[k]).name()
    plot.removeItem(cloud)


def test_the_legend_of_25_classes_has_toggles_then_a_menu_and_each_hides_its_class(qtbot):
    panel = MapPanel()
    panel.resize(1200, 600)
    panel.show()
    qtbot.waitExposed(panel)
    names = [f"kind {k}" for k in range(25)]
    labels = np.repeat(np.arange(25), 4)
    panel.map.set_points(np.random.default_rng(0).normal(size=(100, 2)), labels, 25)
    legend = panel.legend
    legend.set_classes(names, np.bincount(labels))
    visible = [b for b in legend.buttons if b.isVisible()]
    assert [b.text() for b in visible] == names[:TOGGLES]
    assert class_colours(25)[11] in visible[11].styleSheet()  # the class's colour, not its place's
    assert legend.more.isVisible() and legend.more.text() == "+13"
    assert [a.text() for a in legend.more.menu().actions()] == names[TOGGLES:]
    qtbot.mouseClick(visible[7], Qt.LeftButton)
    cloud = panel.map.cloud
    assert not cloud.shown[labels == 7].any() and cloud.shown[labels != 7].all()
    legend.more.menu().actions()[11].trigger()  # class 23, from the menu
    assert not cloud.shown[labels == 23].any() and cloud.shown[(labels != 7) & (labels != 23)].all()
    legend.set_classes(names, np.bincount(labels))  # new points of the same classes keep what is hidden
    assert not cloud.shown[labels == 7].any() and not legend.shown()[23] and legend.shown().sum() == 23
    qtbot.mouseClick(legend.all, Qt.LeftButton)
    assert cloud.shown.all() and legend.more.menu().actions()[11].isChecked()
    qtbot.mouseClick(visible[2], Qt.LeftButton)
    panel.map.set_points(np.zeros((3, 2)), np.arange(3), 3)
    legend.set_classes(names[:3], None)  # other classes: no menu, three toggles, all of them shown
    assert not legend.more.isVisible() and sum(b.isVisible() for b in legend.buttons) == 3
    assert legend.shown().all() and cloud.shown.all()
    panel.close()


def test_a_window_shows_twelve_classes_given_from_python(open_window, qtbot, mnist_test):
    """The issue's case: labels 0-11 from Python drew no points at all (IndexError in set_points)."""
    from explorer.engine.checkpoint import checkpoint_of
    from explorer.engine.models.adapters import open_user_model

    torch.manual_seed(0)
    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 2))
    decoder = torch.nn.Sequential(torch.nn.Linear(2, 784), torch.nn.Sigmoid())
    labels = np.arange(240) % 12
    opened = open_user_model(encoder=encoder, decoder=decoder, images=mnist_test.images[:240], labels=labels)
    window = open_window()
    with qtbot.waitSignal(window.state.session_changed, timeout=30_000):
        window.models.open(checkpoint_of(opened.model), key="twelve", given=opened)
    qtbot.waitUntil(lambda: len(window.map.cloud) == 240, timeout=10_000)
    cloud, legend = window.map.cloud, window.map_panel.legend
    assert cloud.palette == class_colours(12) and cloud.shown.all()
    assert [b.text() for b in legend.buttons if b.isVisible()] == [str(k) for k in range(12)]
    qtbot.mouseClick(legend.buttons[11], Qt.LeftButton)
    assert not cloud.shown[labels == 11].any() and cloud.shown[labels != 11].all()
