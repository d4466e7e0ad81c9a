"""The interpolation path in the window: one interpolation.Path, however it was drawn (a straight line is two
waypoints, a freehand stroke many, the waypoint tool's clicks editable ones), decoded by the path
worker into the filmstrip, undoable, and saved or opened as JSON.

The path's waypoints are what the user edits (and what undo restores); steps, smooth and spherical
come from the filmstrip's controls, the plane's axes and the model's name from the window.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path as FilePath

import numpy as np
from PySide6.QtWidgets import QFileDialog

from explorer import interpolation, jobs
from explorer.errors import ExplorerError
from explorer.gui.panels.filmstrip import HINT

NEXT_WAYPOINT_HINT = "Click on the map to add the next waypoint; drag one to move it, right-click it to delete it"
_IDLE = object()  # no gesture under way


class PathEditor:
    def __init__(self, window):
        self.window = window
        self.path: interpolation.Path | None = None
        self.result: jobs.PathDecoded | None = None
        self._before = _IDLE  # waypoints when the gesture under way began
        self._note = ""  # said in the caption until the next edit (where an opened path came from)

    def waypoints(self) -> tuple | None:
        return None if self.path is None else tuple(self.path.waypoints)

    # --- editing ----------------------------------------------------------------------------------
    def map_changed(self, points: np.ndarray, finished: bool, what: str) -> None:
        """A tool changed the path; a finished gesture becomes one undoable edit, however many moves it had."""
        if self._before is _IDLE:
            self._before = self.waypoints()
        self.set_waypoints(points)
        if finished:
            before, self._before = self._before, _IDLE
            self._record(what, before)

    def set_waypoints(self, points, what: str | None = None) -> None:
        """Make the path go through map points (k, 2) (none: no path) and decode along it; with `what`,
        an undoable edit of that name. More than interpolation.MAX_WAYPOINTS are refused with a message."""
        before = self.waypoints()
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(points) == 0:
            self.clear(what)
            return
        try:
            self.path = self._with_settings(interpolation.Path(waypoints=[tuple(p) for p in points]))
        except ExplorerError as e:  # too many waypoints: keep the path as it was
            self.window.statusBar().showMessage(str(e), 8000)
            self._show_on_map()
            return
        self._note = ""
        self._show_on_map()
        self.request()
        if what:
            self._record(what, before)

    def clear(self, what: str | None = None) -> None:
        before = self.waypoints()
        self.path = self.result = None
        self._note = ""
        self.window.filmstrip.set_frames(None, HINT)
        self.window.map.set_path(None)
        if what and before is not None:
            self._record(what, before)

    def delete(self) -> None:
        """Del: the waypoint under the pointer (waypoint tool), else the whole path; both undoable."""
        k = self.window.map.hovered_waypoint if self.window.map.tool == "waypoint" else -1
        if self.path is not None and 0 <= k < len(self.path.waypoints):
            self.set_waypoints(np.delete(np.asarray(self.path.waypoints), k, axis=0), "Delete waypoint")
        else:
            self.clear("Clear path")

    def settings_changed(self) -> None:
        if self.path is not None:
            self.path = self._with_settings(self.path)
            self._show_on_map()
            self.request()

    def _with_settings(self, path: interpolation.Path) -> interpolation.Path:
        w = self.window
        return replace(path, steps=w.filmstrip.steps.value(), smooth=w.filmstrip.smooth.isChecked(),
                       spherical=w.filmstrip.spherical(), axes=w.axes, model=w.session.name if w.session else "")

    def _record(self, what: str, before) -> None:
        after = self.waypoints()
        if after != before:
            self.window.undo_stack.push(what, lambda: self._restore(before), lambda: self._restore(after))

    def _restore(self, waypoints) -> None:
        self.set_waypoints(np.zeros((0, 2)) if waypoints is None else np.array(waypoints))

    # --- decoding -----------------------------------------------------------------------------------
    def _show_on_map(self) -> None:
        w = self.window
        if self.path is None:
            w.map.set_path(None)
        elif w.plane is not None:
            w.map.set_path(np.asarray(self.path.waypoints), None, self.path.curve(w.plane))

    def request(self) -> None:
        w = self.window
        if w.session is None or self.path is None:
            return
        if len(self.path.waypoints) < 2:
            self.result = None
            w.filmstrip.set_frames(None, NEXT_WAYPOINT_HINT)
            w.map.set_path(np.asarray(self.path.waypoints), np.zeros((0, 2)))
            return
        w._submit(w.pather, "path", jobs.PathRequest(w.session.model, w.plane, self.path, w.label()))

    def ready(self, r: int, result: jobs.PathDecoded) -> None:
        w = self.window
        if r != w._latest.get("path") or self.path is None:
            return
        self.result = result
        w.filmstrip.set_frames(result.frames, describe(result.request.path) + self._note)
        w.map.set_path(result.request.waypoints, result.positions, result.request.path.curve(result.request.plane))
        w.path_decoded.emit(result)

    # --- files --------------------------------------------------------------------------------------
    def ask_save(self) -> None:
        if self.path is None:
            self.window.show_message("Nothing to save", "Draw a path on the map first (L, F or W).")
        elif file := QFileDialog.getSaveFileName(self.window, "Save path", f"{self.window.session.name}-path.json",
                                                 "Path (*.json)")[0]:
            self.save(file)

    def save(self, file: str) -> None:
        self.window.run_job((interpolation.save, file, self._with_settings(self.path)))

    def ask_open(self) -> None:
        if file := QFileDialog.getOpenFileName(self.window, "Open path", "", "Path (*.json);;All files (*)")[0]:
            self.open(file)

    def open(self, file: str) -> None:
        """Read a path file on the jobs thread; a bad file gets a message and the current path stays."""
        self.window.run_job((interpolation.load, file), lambda path: self._opened(path, FilePath(file).name), report=False,
                            failure="Cannot open the path")

    def _opened(self, path: interpolation.Path, name: str) -> None:
        w = self.window
        if w.session is None:
            return
        before, notes = self.waypoints(), []
        d = w.session.model.latent_dim
        if path.model and path.model != w.session.name:
            notes.append(f"drawn on {path.model}, shown here at the same map coordinates")
        i, j = path.axes
        if d > 2 and (i, j) != w.axes:
            if max(i, j) < d:
                w.set_axes(i, j)
            else:
                notes.append(f"its axes PC{i + 1} × PC{j + 1} are not in this {d}-d space, so it is on "
                             f"PC{w.axes[0] + 1} × PC{w.axes[1] + 1}")
        if path.spherical and not w.filmstrip.interpolation.isEnabled():
            notes.append("spherical interpolation needs a latent dimension above 2, so it is linear here")
        w.filmstrip.show_settings(path.steps, path.smooth, path.spherical)
        self.set_waypoints(np.asarray(path.waypoints))
        self._record("Open path", before)
        said = "".join(f"; {n}" for n in notes)
        self._note = f" — opened {name}{said}"
        w.statusBar().showMessage(f"Opened the path {name}{said}", 15000)


def describe(path: interpolation.Path) -> str:
    """The filmstrip's caption: how many decodes, how, along what."""
    (x0, y0), (x1, y1) = path.waypoints[0], path.waypoints[-1]
    k = len(path.waypoints)
    if path.spherical:
        shape = "an arc" if k == 2 else f"arcs through {k} waypoints"
    elif k == 2:
        shape = "a straight line"
    elif path.smooth:
        shape = f"a smooth curve through {k} waypoints"
    else:
        shape = f"straight segments through {k} waypoints"
    return (f"{path.steps} decodes, {'spherical' if path.spherical else 'linear'}, along {shape} "
            f"from ({x0:.2f}, {y0:.2f}) to ({x1:.2f}, {y1:.2f})")
