"""The waypoint tool, undo of path edits, path files and the filmstrip export dialog, driven as a user
drives them: clicks, drags, right clicks and keys on the real window."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from explorer.engine import coding
from explorer.gui.dialogs.export import StripExportDialog
from explorer.latent import interpolation

from .helpers import at, drag, map_point, pixel_of


def ok(dialog) -> None:
    """Press the dialog's Save button, as a user does."""
    dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Save).click()


def strip_of(window, waypoints, **settings) -> np.ndarray:
    """What the model decodes along a path through map points, with the filmstrip's settings."""
    f = window.filmstrip
    path = interpolation.Path(waypoints=[tuple(p) for p in waypoints], steps=settings.get("steps", f.steps.value()),
                      smooth=settings.get("smooth", f.smooth.isChecked()), spherical=f.spherical())
    return coding.decode(window.state.session.model, path.codes(window.state.plane), window.state.label)


def shows(window, waypoints) -> bool:
    """The window's path goes through these map points and its strip has been decoded along them."""
    def same(a):
        return np.shape(a) == np.shape(waypoints) and np.allclose(a, waypoints, atol=1e-9)
    r = window.state.path_result
    path = window.state.path
    return path is not None and same(path.waypoints) and r is not None and same(r.request.waypoints)


def key(qtbot, window, k, modifiers=Qt.NoModifier):
    qtbot.keyClick(window.map, k, modifiers)


def active(qtbot, window):
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    return window


def click_waypoints(qtbot, window, fractions):
    pixels = [pixel_of(window, *at(window, *f)) for f in fractions]
    for p in pixels:
        qtbot.mouseClick(window.map.viewport(), Qt.LeftButton, pos=p)
    return pixels, [map_point(window, p) for p in pixels]


def test_waypoint_tool_adds_moves_and_deletes_waypoints_and_the_strip_follows(open_window, qtbot):
    window = active(qtbot, open_window())
    key(qtbot, window, Qt.Key_W)
    assert window.map.tool == "waypoint" and window.actions.waypoint.isChecked()
    viewport = window.map.viewport()
    pixels, points = click_waypoints(qtbot, window, [(0.2, 0.2), (0.5, 0.8), (0.8, 0.3)])
    qtbot.waitUntil(lambda: shows(window, points), timeout=5000)
    assert np.array_equal(window.filmstrip.frames, strip_of(window, points))
    assert window.map.path_handles.isVisible() and len(window.map.path_handles.data) == 3

    # a click on the line between the first two waypoints bends it there (even on one of its dots)
    on_dot = pixel_of(window, *window.state.path_result.positions[1])
    qtbot.mouseClick(viewport, Qt.LeftButton, pos=on_dot)
    points.insert(1, map_point(window, on_dot))
    qtbot.waitUntil(lambda: shows(window, points), timeout=5000)

    # drag the last waypoint: the strip is decoded again while it moves, and ends where it is dropped
    seen = []
    window.state.path_decoded.connect(lambda r: seen.append(r.request.waypoints[-1].copy()))
    end = pixels[2] + QPoint(-60, 40)
    steps = [pixels[2] + QPoint(-12 * k, 8 * k) for k in range(1, 6)]
    drag(qtbot, viewport, [pixels[2], *steps], settle=lambda: qtbot.waitUntil(
        lambda: len(seen) and np.allclose(seen[-1], window.state.path.waypoints[-1]), timeout=5000))
    points[-1] = map_point(window, end)
    qtbot.waitUntil(lambda: shows(window, points), timeout=5000)
    assert len({tuple(p) for p in seen}) >= 4  # live: each settled position was decoded on the way
    assert np.array_equal(window.filmstrip.frames, strip_of(window, points))

    # smooth: a curve through the waypoints, and the strip follows the curve
    with qtbot.waitSignal(window.state.path_decoded, timeout=5000):
        window.filmstrip.smooth.setChecked(True)
    assert len(window.map.path_line.getData()[0]) > len(points)
    assert np.array_equal(window.filmstrip.frames, strip_of(window, points, smooth=True))
    assert "smooth curve through 4 waypoints" in window.filmstrip.caption.text()

    # a right click on a waypoint deletes it; so does Del with the pointer on it
    qtbot.mouseClick(viewport, Qt.RightButton, pos=pixel_of(window, *points[1]))
    del points[1]
    qtbot.waitUntil(lambda: shows(window, points), timeout=5000)
    qtbot.mouseMove(viewport, pixel_of(window, *points[0]))
    qtbot.waitUntil(lambda: window.map.hovered_waypoint == 0, timeout=5000)
    key(qtbot, window, Qt.Key_Delete)
    del points[0]
    qtbot.waitUntil(lambda: shows(window, points), timeout=5000)
    assert np.array_equal(window.filmstrip.frames, strip_of(window, points, smooth=True))


def test_undo_and_redo_path_edits(open_window, qtbot):
    window = active(qtbot, open_window())
    window.set_tool("waypoint")
    pixels, points = click_waypoints(qtbot, window, [(0.25, 0.25), (0.75, 0.6)])
    qtbot.waitUntil(lambda: shows(window, points), timeout=5000)
    first = window.filmstrip.frames.copy()
    moved = pixels[1] + QPoint(-50, 50)
    drag(qtbot, window.map.viewport(), [pixels[1], (pixels[1] + moved) / 2, moved])
    after = [points[0], map_point(window, moved)]
    qtbot.waitUntil(lambda: shows(window, after), timeout=5000)
    assert window.actions.undo.text() == "&Undo move waypoint"  # one edit for the whole drag
    window.path_editor.set_waypoints(np.zeros((interpolation.MAX_WAYPOINTS + 1, 2)), "Add waypoint")
    assert "at most 64 waypoints" in window.statusBar().currentMessage() and shows(window, after)
    assert window.actions.undo.text() == "&Undo move waypoint"  # refused: nothing to undo

    key(qtbot, window, Qt.Key_Z, Qt.ControlModifier)
    qtbot.waitUntil(lambda: shows(window, points), timeout=5000)
    assert np.array_equal(window.filmstrip.frames, first)
    key(qtbot, window, Qt.Key_Z, Qt.ControlModifier)  # undo the second click: one waypoint, nothing to decode
    assert window.state.path.waypoints == [points[0]] and window.filmstrip.frames is None
    key(qtbot, window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    key(qtbot, window, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)
    qtbot.waitUntil(lambda: shows(window, after), timeout=5000)
    assert not window.actions.redo.isEnabled()

    window.set_tool("explore")
    key(qtbot, window, Qt.Key_Delete)  # clears the whole path...
    assert window.state.path is None and window.filmstrip.frames is None
    key(qtbot, window, Qt.Key_Z, Qt.ControlModifier)  # ...and undo brings it back
    qtbot.waitUntil(lambda: shows(window, after), timeout=5000)

    # a line drawn over it is one edit too
    window.set_tool("line")
    a, b = pixel_of(window, *at(window, 0.1, 0.9)), pixel_of(window, *at(window, 0.9, 0.1))
    drag(qtbot, window.map.viewport(), [a, (a + b) / 2, b])
    qtbot.waitUntil(lambda: shows(window, [map_point(window, a), map_point(window, b)]), timeout=5000)
    window.actions.undo.trigger()
    qtbot.waitUntil(lambda: shows(window, after), timeout=5000)


def test_a_saved_path_opens_to_the_same_strip_on_any_model(open_window, qtbot, tmp_path, gui_models):
    window = open_window()
    window.set_tool("waypoint")
    window.filmstrip.steps.setValue(7)
    window.filmstrip.smooth.setChecked(True)
    _, points = click_waypoints(qtbot, window, [(0.2, 0.3), (0.4, 0.8), (0.7, 0.4), (0.85, 0.7)])
    qtbot.waitUntil(lambda: shows(window, points), timeout=5000)
    strip = window.filmstrip.frames.copy()
    with qtbot.waitSignal(window.tasks.wrote, timeout=10_000) as blocker:
        window.path_editor.save(str(tmp_path / "walk.json"))
    saved = json.loads(open(blocker.args[0]).read())
    assert saved["model"] == "vae-2d-mlp" and saved["steps"] == 7 and saved["smooth"] is True

    window.filmstrip.steps.setValue(12)
    window.filmstrip.smooth.setChecked(False)
    window.path_editor.clear()
    with qtbot.waitSignal(window.state.path_decoded, timeout=10_000):
        window.path_editor.open(str(tmp_path / "walk.json"))
    assert shows(window, points) and np.array_equal(window.filmstrip.frames, strip)
    assert window.filmstrip.steps.value() == 7 and window.filmstrip.smooth.isChecked()
    assert window.state.history.undo_text() == "Open path"

    # a bad file: a message, and the path stays as it was
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "latent-explorer-path", "version": 1, "waypoints": [[0, "x"]]}')
    with qtbot.waitSignal(window.feedback.message_shown, timeout=10_000) as blocker:
        window.path_editor.open(str(bad))
    assert blocker.args[0] == "Cannot open the path" and str(bad) in blocker.args[1]
    assert shows(window, points)

    # on another model: the same map coordinates, and the caption says where it was drawn
    with qtbot.waitSignal(window.state.session_changed, timeout=20_000):
        window.models.open_path(str(gui_models / "ae-2d-mlp.safetensors"))
    qtbot.waitUntil(lambda: shows(window, points), timeout=10_000)  # the path stays, decoded by the new model
    with qtbot.waitSignal(window.state.path_decoded, timeout=10_000):
        window.path_editor.open(str(tmp_path / "walk.json"))
    assert shows(window, points) and np.array_equal(window.filmstrip.frames, strip_of(window, points))
    assert "drawn on vae-2d-mlp" in window.filmstrip.caption.text()


def test_a_path_on_other_axes_opens_on_those_axes(open_window, qtbot, tmp_path, gui_models):
    window = open_window(gui_models / "vae-3d-mlp.safetensors")
    arc = interpolation.Path(waypoints=[(-1, 0.5), (1, -0.5)], steps=6, spherical=True, axes=(0, 2),
                             model="vae-3d-mlp")
    file = interpolation.save(tmp_path / "arc.json", arc)
    with qtbot.waitSignal(window.state.path_decoded, timeout=10_000) as blocker:
        window.path_editor.open(str(file))
    assert window.state.axes == (0, 2) and window.map_panel.axis_v.currentIndex() == 2
    assert window.filmstrip.spherical() and blocker.args[0].request.spherical
    expected = interpolation.Path(waypoints=[(-1, 0.5), (1, -0.5)], steps=6, spherical=True).codes(window.state.plane)
    assert np.allclose(blocker.args[0].codes, expected)
    assert np.array_equal(window.filmstrip.frames, coding.decode(window.state.session.model, expected))
    assert "drawn on" not in window.filmstrip.caption.text()
    line = np.column_stack(window.map.path_line.getData())
    assert np.allclose(line, window.state.path.curve(window.state.plane))  # the arc as seen on the map, not the chord


def test_filmstrip_export_uses_the_scale_and_rate_chosen(open_window, qtbot, tmp_path, monkeypatch):
    window = open_window()
    window.filmstrip.steps.setValue(5)
    with qtbot.waitSignal(window.state.path_decoded, timeout=5000):
        window.path_editor.set_waypoints(np.array([at(window, 0.2, 0.2), at(window, 0.8, 0.8)]))

    dialog = StripExportDialog(5, str(tmp_path / "walk.txt"), 4, 10.0, window)
    assert ".png" in dialog.error.text()  # a suffix it cannot write
    ok(dialog)
    assert dialog.result() == 0
    dialog.path.setText(str(tmp_path / "walk.png"))
    assert not dialog.fps.isEnabled() and dialog.size.text() == f"{5 * 112} × 112 px" and not dialog.error.text()
    dialog.path.setText(str(tmp_path / "walk.gif"))
    assert dialog.fps.isEnabled()
    dialog.fps.setValue(1000)  # out of range: the box keeps it within what a GIF can show
    assert dialog.fps.value() == 50

    def choose(dialog):
        dialog.path.setText(str(tmp_path / "walk.gif"))
        dialog.scale.setValue(3)
        dialog.fps.setValue(25)
        ok(dialog)
        return dialog.result()

    monkeypatch.setattr(StripExportDialog, "exec", choose)
    with qtbot.waitSignal(window.tasks.wrote, timeout=10_000) as blocker:
        window.exports.ask_strip()
    gif = Image.open(blocker.args[0])
    assert gif.size == (84, 84) and gif.n_frames == 2 * 5 - 2 and gif.info["duration"] == 40
    assert window.exports.strip_choice == (str(tmp_path / "walk.gif"), 3, 25.0)  # offered again next time


def test_a_freehand_stroke_stays_freehand_and_ctrl_n_starts_a_new_path(open_window, qtbot):
    window = active(qtbot, open_window())
    viewport = window.map.viewport()
    key(qtbot, window, Qt.Key_F)
    start = pixel_of(window, *at(window, 0.2, 0.2))
    stroke = [start + QPoint(8 * k, 6 * k) for k in range(12)]
    drag(qtbot, viewport, stroke)
    qtbot.waitUntil(lambda: window.state.path is not None and len(window.state.path.waypoints) > 5, timeout=5000)
    drawn = list(window.state.path.waypoints)
    key(qtbot, window, Qt.Key_W)  # a click now starts a waypoint path; the stroke's points are no waypoints
    _, clicked = click_waypoints(qtbot, window, [(0.7, 0.3)])
    assert window.state.path.waypoints == clicked and window.state.path.waypoints != drawn
    key(qtbot, window, Qt.Key_Z, Qt.ControlModifier)  # the stroke comes back whole
    assert window.state.path.waypoints == drawn

    key(qtbot, window, Qt.Key_N, Qt.ControlModifier)  # New path: no path, the waypoint tool ready
    assert window.state.path is None and window.map.tool == "waypoint"
    _, clicked = click_waypoints(qtbot, window, [(0.3, 0.3), (0.6, 0.6)])
    assert window.state.path.waypoints == clicked
    key(qtbot, window, Qt.Key_Z, Qt.ControlModifier)
    key(qtbot, window, Qt.Key_Z, Qt.ControlModifier)
    key(qtbot, window, Qt.Key_Z, Qt.ControlModifier)  # undoes the new path: the stroke again
    assert window.state.path.waypoints == drawn


def test_a_bad_path_file_opened_with_ctrl_shift_p_is_one_message_and_changes_nothing(open_window, qtbot, tmp_path,
                                                                                       gui_models, monkeypatch):
    """Generated nearly-right files (axes of length 3, equal or negative axes, a model name of
    megabytes, wrong types, ...) on a 3-d model with a path drawn on PC1 x PC3: each is one message
    naming the file, and the axes, the path, the filmstrip's settings and the undo history stay."""
    from hypothesis import HealthCheck, given, settings

    from explorer.gui import last_folder
    from tests.latent.test_path_files import BAD, bad_file

    window = open_window(gui_models / "vae-3d-mlp.safetensors")
    window.set_axes(0, 2)
    window.path_editor.set_waypoints([at(window, 0.2, 0.3), at(window, 0.8, 0.6)], "Draw path")
    qtbot.waitUntil(lambda: window.state.path_result is not None, timeout=10_000)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    f = window.filmstrip

    def shown():
        return (window.state.axes, np.asarray(window.path_editor.waypoints()).tolist(), f.steps.value(),
                f.smooth.isChecked(), f.spherical(), window.state.history.undo_text(),
                window.map_panel.axis_v.currentIndex())

    before = shown()
    messages = []
    window.feedback.message_shown.connect(lambda title, text: messages.append((title, text)))
    chosen = []
    monkeypatch.setattr(last_folder, "getOpenFileName", lambda *args, **kwargs: (chosen[-1], ""))

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(change=BAD)
    def opening(change):
        file = tmp_path / f"bad{len(chosen)}.json"
        file.write_text(json.dumps(bad_file(change)))
        chosen.append(str(file))
        seen = len(messages)
        qtbot.keyClick(window.map, Qt.Key_P, Qt.ControlModifier | Qt.ShiftModifier)
        qtbot.waitUntil(lambda: len(messages) > seen, timeout=10_000)
        title, text = messages[-1]
        assert len(messages) == seen + 1 and title == "Cannot open the path" and text.startswith(str(file))
        assert "\n" not in text and len(text) < 500
        assert shown() == before
        for box in window.findChildren(QMessageBox):  # read: OK, and the window has the keyboard again
            box.button(QMessageBox.Ok).click()
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)

    opening()


def test_a_path_drawn_while_another_tab_covers_the_filmstrip_brings_the_filmstrip_forward(open_window, qtbot):
    window = active(qtbot, open_window())
    window.actions.attribute.trigger()  # its dock is a tab over the filmstrip's
    path_dock, attributes = window.filmstrip_dock, window.attributes.dock
    qtbot.waitUntil(lambda: not attributes.visibleRegion().isEmpty(), timeout=5000)
    assert path_dock.visibleRegion().isEmpty()
    key(qtbot, window, Qt.Key_L)
    ends = [pixel_of(window, *at(window, 0.2, 0.3)), pixel_of(window, *at(window, 0.8, 0.7))]
    with qtbot.waitSignal(window.state.path_decoded, timeout=10_000):
        drag(qtbot, window.map.viewport(), ends)
    qtbot.waitUntil(lambda: not path_dock.visibleRegion().isEmpty(), timeout=5000)
    assert attributes.visibleRegion().isEmpty() and attributes.isVisible()  # behind its tab, still open
    assert window.filmstrip.strip.frames is not None and window.filmstrip.strip.visibleRegion().boundingRect().height() > 0
