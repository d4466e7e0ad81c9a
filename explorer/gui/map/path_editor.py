"""The interpolation path in the window: one interpolation.Path, however it was drawn (a straight line is two
waypoints, a freehand stroke many, the waypoint tool's clicks editable ones), decoded by the path
worker into the filmstrip, undoable, and saved or opened as JSON.

The path's waypoints are what the user edits (and what undo restores); steps, smooth and spherical
come from the filmstrip's controls, the plane's axes and the model's name from the view state, which
holds the path; the editor only turns gestures and files into paths and decodes them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path as FilePath

import numpy as np
from PySide6.QtCore import QObject

from explorer.gui import last_folder
from explorer.gui.docks import reveal
from explorer.gui.feedback import Feedback
from explorer.gui.map.latent_map import LatentMap
from explorer.gui.state import ViewState
from explorer.gui.threads.tasks import Tasks
from explorer.gui.threads.workers import Workers
from explorer.gui.widgets.filmstrip import HINT, Filmstrip
from explorer.latent import interpolation, worker_jobs
from explorer.utils.errors import ExplorerError

NEXT_WAYPOINT_HINT = "Click on the map to add the next waypoint; drag one to move it, right-click it to delete it"
_IDLE = object()  # no gesture under way


class PathEditor(QObject):
    """Keeps the state's path in step with the map's tools and the filmstrip, decodes it, and files it."""

    def __init__(self, state: ViewState, latent_map: LatentMap, filmstrip: Filmstrip, workers: Workers, tasks: Tasks,
                 feedback: Feedback, parent=None):
        super().__init__(parent)
        self.state, self.map, self.filmstrip, self.tasks, self.feedback = state, latent_map, filmstrip, tasks, feedback
        self.worker = workers.add(worker_jobs.path, True, "path", self._ready,
                                  lambda r, message: feedback.show_message("Cannot decode the path", message))
        self._before = _IDLE  # waypoints when the gesture under way began
        self._note = ""  # said in the caption until the next edit (where an opened path came from)
        self.freehand = False  # the path is a freehand stroke (its points are no waypoints to edit)
        latent_map.path_changed.connect(self.map_changed)
        filmstrip.settings_changed.connect(self.settings_changed)
        filmstrip.frame_selected.connect(self._frame_selected)
        state.path_changed.connect(self._path_changed)
        state.path_decoded.connect(self._decoded)
        state.session_changed.connect(lambda session: self.request())
        state.label_changed.connect(lambda label: self.request())

    def waypoints(self) -> tuple | None:
        return None if self.state.path is None else tuple(self.state.path.waypoints)

    # --- editing ----------------------------------------------------------------------------------
    def map_changed(self, points: np.ndarray, finished: bool, what: str) -> None:
        """A tool changed the path; a finished gesture becomes one undoable edit, however many moves it had.
        A freehand stroke stays freehand: a waypoint click after it starts a new path."""
        if self._before is _IDLE:
            self._before = self.waypoints()
        if what == "Add waypoint" and self.freehand and self.state.path is not None:
            drawn = set(self.state.path.waypoints)
            points = np.array([p for p in points if tuple(p) not in drawn]).reshape(-1, 2)
        if finished:
            self.freehand = what == "Draw freehand path" or (self.freehand and what not in ("Draw line", "Add waypoint"))
        self.set_waypoints(points)
        if finished:
            before, self._before = self._before, _IDLE
            self._record(what, before)
            reveal(self.filmstrip)  # in front of a tab (attribute arithmetic) that covered it: the path's decodes

    def set_waypoints(self, points, what: str | None = None) -> None:
        """Make the path go through map points (k, 2) (none: no path) and decode along it; with `what`,
        an undoable edit of that name. More than interpolation.MAX_WAYPOINTS are refused with a message."""
        before = self.waypoints()
        points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(points) == 0:
            self.clear(what)
            return
        try:
            path = self._with_settings(interpolation.Path(waypoints=[tuple(p) for p in points]))
        except ExplorerError as e:  # too many waypoints: keep the path as it was
            self.feedback.say(str(e), 8000)
            self._show_on_map()
            return
        self._note = ""
        self.state.set_path(path)
        if what:
            self._record(what, before)

    def clear(self, what: str | None = None) -> None:
        before = self.waypoints()
        self._note = ""
        self.state.set_path(None)
        if what and before is not None:
            self._record(what, before)

    def new_path(self) -> None:
        """Ctrl+N: clear the path (undoable) and click the new one's waypoints."""
        self.clear("New path")
        self.freehand = False

    def delete(self) -> None:
        """Del: the waypoint under the pointer (waypoint tool), else the whole path; both undoable."""
        k = self.map.hovered_waypoint if self.map.tool == "waypoint" else -1
        if self.state.path is not None and 0 <= k < len(self.state.path.waypoints):
            self.set_waypoints(np.delete(np.asarray(self.state.path.waypoints), k, axis=0), "Delete waypoint")
        else:
            self.clear("Clear path")

    def settings_changed(self) -> None:
        if self.state.path is not None:
            self.state.set_path(self._with_settings(self.state.path))

    def _with_settings(self, path: interpolation.Path) -> interpolation.Path:
        f, s = self.filmstrip, self.state
        return replace(path, steps=f.steps.value(), smooth=f.smooth.isChecked(), spherical=f.spherical(),
                       axes=s.axes, model=s.session.name if s.session else "")

    def _record(self, what: str, before) -> None:
        after = self.waypoints()
        if after != before:
            self.state.history.push(what, lambda: self._restore(before), lambda: self._restore(after))

    def _restore(self, waypoints) -> None:
        self.set_waypoints(np.zeros((0, 2)) if waypoints is None else np.array(waypoints))

    # --- decoding -----------------------------------------------------------------------------------
    def _path_changed(self, path) -> None:
        if path is None:
            self.filmstrip.set_frames(None, HINT)
        self._show_on_map()
        self.request()

    def _show_on_map(self) -> None:
        path, plane = self.state.path, self.state.plane
        if path is None:
            self.map.set_path(None)
        elif plane is not None:
            self.map.set_path(np.asarray(path.waypoints), None, path.curve(plane))

    def request(self) -> None:
        s, path = self.state, self.state.path
        if s.session is None or path is None:
            return
        if len(path.waypoints) < 2:
            self.filmstrip.set_frames(None, NEXT_WAYPOINT_HINT)
            self.map.set_path(np.asarray(path.waypoints), np.zeros((0, 2)))
            return
        self.worker.submit(worker_jobs.PathRequest(s.session.model, s.plane, path, s.label), "path")

    def _ready(self, r: int, result: worker_jobs.PathDecoded) -> None:
        if self.worker.is_newest(r):
            self.state.show_path_decoded(result)

    def _decoded(self, result: worker_jobs.PathDecoded) -> None:
        self.filmstrip.set_frames(result.frames, describe(result.request.path) + self._note)
        self.map.set_path(result.request.waypoints, result.positions, result.request.path.curve(result.request.plane))

    def _frame_selected(self, k: int) -> None:
        result = self.state.path_result
        if result is None or k >= len(result.frames) or self.state.session is None:
            return
        self.state.set_code(result.codes[k], "path", f"frame {k + 1} of {len(result.frames)} on the path",
                            uv=result.positions[k])

    # --- files --------------------------------------------------------------------------------------
    def ask_save(self) -> None:
        if self.state.path is None:
            self.feedback.show_message("Nothing to save", "Draw a path on the map first (L, F or W).")
        elif file := last_folder.getSaveFileName(self.map.window(), "Save path",
                                                 last_folder.named(self.state.session, "path", ".json"), "Path (*.json)")[0]:
            self.save(file)

    def save(self, file: str) -> None:
        self.tasks.run((interpolation.save, file, self._with_settings(self.state.path)))

    def ask_open(self) -> None:
        if file := last_folder.getOpenFileName(self.map.window(), "Open path", "", "Path (*.json);;All files (*)")[0]:
            self.open(file)

    def open(self, file: str) -> None:
        """Read a path file on the jobs thread; a bad file gets a message and the current path stays."""
        self.tasks.run((interpolation.load, file), lambda path: self._opened(path, FilePath(file).name), report=False,
                       failure="Cannot open the path")

    def _opened(self, path: interpolation.Path, name: str) -> None:
        s = self.state
        if s.session is None:
            return
        before, notes = self.waypoints(), []
        d = s.session.model.latent_dim
        if path.model and path.model != s.session.name:
            notes.append(f"drawn on {path.model}, shown here at the same map coordinates")
        i, j = path.axes  # the file was checked whole when read (two different axes): decide, then apply
        axes = (i, j) if d > 2 and (i, j) != s.axes and max(i, j) < d else None
        if d > 2 and (i, j) != s.axes and axes is None:
            notes.append(f"its axes PC{i + 1} × PC{j + 1} are not in this {d}-d space, so it is on "
                         f"PC{s.axes[0] + 1} × PC{s.axes[1] + 1}")
        if path.spherical and not self.filmstrip.interpolation.isEnabled():
            notes.append("spherical interpolation needs a latent dimension above 2, so it is linear here")
        if axes is not None:
            s.set_axes(*axes)
        self.filmstrip.show_settings(path.steps, path.smooth, path.spherical)
        self.set_waypoints(np.asarray(path.waypoints))
        self._record("Open path", before)
        reveal(self.filmstrip)
        said = "".join(f"; {n}" for n in notes)
        self._note = f" — opened {name}{said}"
        self.feedback.say(f"Opened the path {name}{said}", 15000)


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
