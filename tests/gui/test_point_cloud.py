"""The points layer: drawn in the palette's colours where the data is, hit-tested in pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor

from explorer.gui.map.point_cloud import PALETTE, PointCloud

from .helpers import colour_at


def same_hue(colour: QColor, expected: str) -> bool:
    gap = abs(colour.hue() - QColor(expected).hue())
    return min(gap, 360 - gap) <= 4


def test_points_are_drawn_in_their_label_colour_and_hidden_labels_are_not(plot):
    cloud = PointCloud(size=9, alpha=255)
    plot.addItem(cloud)
    cloud.set_points(np.array([[2.0, 2.0], [7.0, 7.0]]), np.array([3, 8]))
    assert colour_at(plot, 2, 2).name() == QColor(PALETTE[3]).name()
    assert colour_at(plot, 7, 7).name() == QColor(PALETTE[8]).name()
    shown = np.ones(10, dtype=bool)
    shown[3] = False
    cloud.set_shown_labels(shown)
    assert colour_at(plot, 2, 2).name() != QColor(PALETTE[3]).name()
    assert colour_at(plot, 7, 7).name() == QColor(PALETTE[8]).name()


def test_point_at_finds_the_nearest_shown_point_within_the_pixel_radius(plot):
    cloud = PointCloud()
    plot.addItem(cloud)
    cloud.set_points(np.array([[2.0, 2.0], [2.1, 2.0], [8.0, 8.0]]), np.array([0, 1, 2]))
    pixel = (0.05, 0.05)  # map units per pixel
    assert cloud.point_at(QPointF(2.09, 2.0), pixel) == 1
    assert cloud.point_at(QPointF(5.0, 5.0), pixel) == -1  # nothing within 6 pixels
    shown = np.ones(10, dtype=bool)
    shown[1] = False
    cloud.set_shown_labels(shown)
    assert cloud.point_at(QPointF(2.09, 2.0), pixel) == 0
    cloud.set_points(np.zeros((0, 2)), np.zeros(0, dtype=int))
    assert cloud.point_at(QPointF(2.0, 2.0), pixel) == -1
    plot.grab()  # painting nothing is fine


def test_points_can_be_coloured_by_another_palette_and_new_points_return_to_labels(plot):
    cloud = PointCloud(size=9, alpha=255)
    plot.addItem(cloud)
    xy, labels = np.array([[2.0, 2.0], [7.0, 7.0]]), np.array([3, 8])
    cloud.set_points(xy, labels)
    cloud.set_colours(np.array([1, 0]), ("#204060", "#e0c020"))
    assert colour_at(plot, 2, 2).name() == "#e0c020" and colour_at(plot, 7, 7).name() == "#204060"
    shown = np.ones(10, dtype=bool)
    shown[8] = False
    cloud.set_shown_labels(shown)  # labels still decide what is shown
    assert colour_at(plot, 7, 7).name() != "#204060"
    with pytest.raises(ValueError):
        cloud.set_colours(np.array([0]), ("#204060",))
    cloud.set_points(xy, labels)
    assert cloud.colours is None and colour_at(plot, 2, 2).name() == QColor(PALETTE[3]).name()


def test_points_at_lists_the_shown_points_within_the_radius_nearest_first(plot):
    cloud = PointCloud()
    plot.addItem(cloud)
    cloud.set_points(np.array([[2.0, 2.0], [2.2, 2.0], [2.1, 2.0], [3.0, 2.0]]), np.array([0, 1, 2, 3]))
    pixel = (0.05, 0.05)
    assert list(cloud.points_at(QPointF(2.21, 2.0), pixel)) == [1, 2, 0]  # within 6 pixels = 0.3
    shown = np.ones(10, dtype=bool)
    shown[2] = False
    cloud.set_shown_labels(shown)
    assert list(cloud.points_at(QPointF(2.21, 2.0), pixel)) == [1, 0]


def test_selected_points_are_drawn_on_top_and_the_others_fade(plot):
    cloud = PointCloud(size=9, alpha=255)
    plot.addItem(cloud)
    # the selected point is first in data order, under an unselected one at the same place
    cloud.set_points(np.array([[2.0, 2.0], [2.0, 2.0], [7.0, 7.0]]), np.array([3, 8, 8]))
    assert colour_at(plot, 2, 2).name() == QColor(PALETTE[8]).name()
    cloud.set_selected(np.array([True, False, False]))
    assert colour_at(plot, 2, 2).name() == QColor(PALETTE[3]).name()
    faded = colour_at(plot, 7, 7)
    assert faded.name() != QColor(PALETTE[8]).name() and faded.lightness() < QColor(PALETTE[8]).lightness()
    cloud.set_selected(np.zeros(3, dtype=bool))  # nothing selected: everything as before
    assert colour_at(plot, 7, 7).name() == QColor(PALETTE[8]).name()


def test_points_denser_than_the_discs_are_drawn_as_a_density_image_and_sparse_ones_as_discs(plot, monkeypatch):
    from explorer.gui.map import point_cloud

    monkeypatch.setattr(point_cloud, "DENSE_AT", 2000)
    rng = np.random.default_rng(0)
    labels = np.repeat([3, 8], 5000)
    xy = np.where(labels[:, None] == 3, [2.5, 2.5], [7.5, 7.5]) + rng.normal(scale=0.4, size=(10_000, 2))
    cloud = PointCloud(size=5, alpha=255)
    plot.addItem(cloud)
    cloud.set_points(xy, labels)
    red, olive = colour_at(plot, 2.5, 2.5), colour_at(plot, 7.5, 7.5)
    assert cloud.dense
    assert same_hue(red, PALETTE[3]) and same_hue(olive, PALETTE[8])
    cloud.set_selected(labels == 8)  # the others fade, the selection stays as bright
    faded, bright = colour_at(plot, 2.5, 2.5), colour_at(plot, 7.5, 7.5)
    assert same_hue(faded, PALETTE[3]) and faded.value() < red.value() / 2
    assert bright.name() == olive.name()
    cloud.set_selected(None)
    plot.setRange(xRange=(2.4, 2.6), yRange=(2.4, 2.6), padding=0)  # a few hundred points in view
    plot.grab()
    assert not cloud.dense
    one = int(np.argmin(np.abs(xy - [2.5, 2.5]).sum(axis=1)))
    assert colour_at(plot, *xy[one]).name() == QColor(PALETTE[3]).name()


def test_hit_tests_among_many_points_are_exact(plot):
    rng = np.random.default_rng(1)
    xy = rng.uniform(0, 10, size=(50_000, 2))
    labels = rng.integers(0, 10, 50_000)
    cloud = PointCloud()
    plot.addItem(cloud)
    cloud.set_points(xy, labels)
    shown = np.ones(10, dtype=bool)
    shown[4] = False
    cloud.set_shown_labels(shown)
    for pos, pixel in zip(rng.uniform(0, 10, size=(30, 2)), rng.uniform(0.001, 0.05, size=(30, 2))):
        d2 = np.square((xy[:, 0] - pos[0]) / pixel[0]) + np.square((xy[:, 1] - pos[1]) / pixel[1])
        expected = np.flatnonzero((labels != 4) & (d2 <= 36))
        expected = expected[np.argsort(d2[expected], kind="stable")]
        np.testing.assert_array_equal(cloud.points_at(QPointF(*pos), tuple(pixel)), expected)
