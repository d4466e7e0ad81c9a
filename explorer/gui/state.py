"""What the window shows, in one evented object: the open model, the map's plane, the points and where
they lie, the cursor, the label a conditional model decodes with, the decode shown, the path and the
selection.

Each setter validates, stores, then emits one signal; nothing else writes this state, so a panel, a
test or a script changes what the window shows here and every view follows (napari's evented models,
with Qt signals). A compound change (another model) calls the plain setters in turn, so each listener
hears the part it cares about. The maths stays in the core: the state asks the session and the plane.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Signal

from explorer.gui.undo import UndoStack
from explorer.latent import worker_jobs
from explorer.latent.interpolation import Path
from explorer.latent.selection import Selection
from explorer.latent.session import SPLIT_CHOICES, Points, Session
from explorer.utils.errors import ExplorerError

ON_PLANE = 1e-4  # a code this close to the map plane is on it (float32 rounding)
ORIGINS = ("click", "slider", "path", "neighbour", "draw", "selection", "attribute", "code")


@dataclass(frozen=True)
class Cursor:
    """The code decoded, and where the map shows it."""

    uv: tuple[float, float]  # on the map (a code off the plane: its projection)
    code: np.ndarray  # (d,) the full latent code
    origin: str  # one of ORIGINS: what put it there
    note: str = ""  # what the code is, said under the decode ("frame 3 of 12 on the path")
    on_map: bool = False  # the map point is what was picked (a click): a new plane or model decodes it anew
    draw: worker_jobs.Draw | None = None  # decode a draw from q(z|x) for a real image, placed once drawn


class ViewState(QObject):
    session_changed = Signal(object)  # Session or None, after its plane, points and cursor are set
    plane_changed = Signal(object)  # coding.Plane (the axes are `axes`)
    points_changed = Signal()  # `points` or `points_uv` (where they lie on the map) changed
    cursor_changed = Signal(object)  # Cursor or None
    label_changed = Signal(object)  # int, or None for a model without labels
    decoded = Signal(object)  # worker_jobs.Decoded now shown
    decode_failed = Signal(object)  # why the cursor's decode failed (a str, with `.details` for the user's own
    # errors: their traceback): no decode is shown until the next one
    path_changed = Signal(object)  # interpolation.Path or None
    path_decoded = Signal(object)  # worker_jobs.PathDecoded of the current path
    selection_changed = Signal()  # the selection, or a group kept from it

    def __init__(self, parent=None):
        super().__init__(parent)
        self.session: Session | None = None
        self.key: str | None = None  # the session's row in the model registry
        self.axes = (0, 1)
        self.plane = None  # a coding.Plane, or the learned map shown instead (to_latent, project)
        self.learned = None  # maps.LearnedMap shown instead of the principal plane, when one is
        self.split = "test"
        self.points: Points | None = None
        self.points_uv: np.ndarray | None = None  # (N, 2) where the points lie on the map
        self.cursor: Cursor | None = None
        self.label: int | None = None
        self.shown_decode: worker_jobs.Decoded | None = None
        self.path: Path | None = None
        self.path_result: worker_jobs.PathDecoded | None = None
        self.selection = Selection()
        self.history = UndoStack(parent=self)  # the window's one undo history: paths and selections

    # --- the model and its map --------------------------------------------------------------------
    def set_session(self, session: Session | None, key: str | None = None, keep_view: bool = False) -> None:
        """Show `session`. A new model starts on principal axes 1 and 2 with no edits to undo; a point
        picked on the map and the path (both map coordinates) stay where they were and are decoded by
        the new model. With keep_view (the same run, one epoch on) the axes and any cursor stay too."""
        if session is not None and not isinstance(session, Session):
            raise TypeError(f"expected a Session, got {type(session).__name__}")
        self.session, self.key = session, key
        self.learned = None  # a map of another model's codes (LearnedMaps builds this one's anew)
        d = session.model.latent_dim if session is not None else 2
        if not keep_view or max(self.axes) >= d:
            self.axes = (0, 1)
        picked, path = (self.cursor.uv if self.cursor is not None and self.cursor.on_map else None), self.path
        if not keep_view:
            self.shown_decode = None
            self.set_cursor(None)
            self.set_path(None)
            self.history.clear()  # the edits were on another model's map
        self.label = (min(self.label or 0, session.model.config.num_classes - 1)
                      if session is not None and session.model.conditional else None)
        self._set_plane()
        self._set_points()
        if not keep_view and session is not None:
            if path is not None:
                self.set_path(replace(path, axes=self.axes, model=session.name, spherical=path.spherical and d > 2))
            if picked is not None:
                self.set_cursor(picked)
        self.session_changed.emit(session)

    def set_axes(self, i: int, j: int) -> None:
        """Map the plane of principal axes i and j (0-based); the cursor keeps its code, the path its
        waypoints (map points, as when another model is opened), decoded on the new plane."""
        d = self._require_session().model.latent_dim
        if not (0 <= i < d and 0 <= j < d and i != j):
            raise ExplorerError(f"axes ({i}, {j}) are not two different axes of this {d}-d space")
        self.axes = (int(i), int(j))
        self._set_plane()
        self._set_points()
        self._new_plane_under_cursor_and_path()

    def _new_plane_under_cursor_and_path(self) -> None:
        if self.cursor is not None:  # the same code, seen on the new plane
            self.cursor = replace(self.cursor, uv=self.project(self.cursor.code), on_map=False)
            self.cursor_changed.emit(self.cursor)
        if self.path is not None:  # it was cleared without a word (issue 23): its map points stay
            self.set_path(replace(self.path, axes=self.axes))

    def set_split(self, choice: str) -> None:
        """Which images are the map's points: "test", "train" or "both"."""
        if choice not in SPLIT_CHOICES:
            raise ExplorerError(f"unknown split {choice!r}; choose from {', '.join(SPLIT_CHOICES)}")
        self.split = choice
        self._set_points()

    def set_learned_map(self, learned) -> None:
        """Show a learned UMAP or t-SNE map of the points (maps.LearnedMap built from exactly the points'
        codes) instead of the principal plane; None: the plane again. The cursor keeps its code, the path
        its waypoints (map points), decoded on the new map."""
        if learned is not None and (self.points is None or not np.array_equal(learned.codes, self.points.codes)):
            raise ExplorerError("that map was laid out for other points than the ones shown")
        self.learned = learned
        self._set_plane()
        self._set_points()
        self._new_plane_under_cursor_and_path()

    def _set_plane(self) -> None:
        self.plane = (self.learned or self.session.stats.plane(*self.axes)) if self.session is not None else None
        self.plane_changed.emit(self.plane)

    def _set_points(self) -> None:
        s = self.session
        self.points = s.points(self.split) if s is not None else None
        if self.points is not None:
            self.selection.use(s.dataset, dict(self.points.sizes()))
        if self.learned is not None and (self.points is None or not np.array_equal(self.points.codes, self.learned.codes)):
            self.learned = None  # other points (another split): the plane, until their own map is laid out
            self._set_plane()
        if self.points is None:
            self.points_uv = None
        else:
            self.points_uv = self.learned.uv if self.learned is not None else self.plane.project(self.points.codes)
        self.points_changed.emit()

    def project(self, code: np.ndarray) -> tuple[float, float]:
        """Where one code (d,) lies on the map."""
        return tuple(float(x) for x in self.plane.project(np.reshape(code, (1, -1)))[0])

    def describe_place(self, uv, code: np.ndarray) -> str:
        """Where a code is shown on the map, and for d > 2 how far off the plane it lies."""
        d = self._require_session().model.latent_dim
        u, v = ("u", "v") if d > 2 else ("z₁", "z₂")
        text = f"{u} = {uv[0]:.3f}   {v} = {uv[1]:.3f}"
        if self.learned is not None:
            far = float(self.learned.distance_to_data([uv])[0])
            # in units of the map's usual gap between neighbouring points (a bare "81.7 point spacings" puzzled)
            text += f"   nearest data point: {far:.1f}× the usual gap"
            text += "" if far < 3 else ", so the inverse extrapolates"
        elif d > 2:
            gap = float(self.plane.distance(np.reshape(code, (1, -1)))[0])
            text += f"   distance from the map plane: {gap:.2f}" if gap > ON_PLANE else "   on the map plane"
        return text

    def _require_session(self) -> Session:
        if self.session is None:
            raise ExplorerError("no model is open")
        return self.session

    # --- the cursor, its label and its decode -----------------------------------------------------------
    def set_cursor(self, uv, note: str = "") -> None:
        """Decode map point uv = (u, v), as a click does; None: no cursor."""
        if uv is None:
            self.cursor = None
            self.cursor_changed.emit(None)
            return
        self._require_session()
        u, v = (float(x) for x in np.asarray(uv, dtype=np.float64).reshape(2))
        if not (np.isfinite(u) and np.isfinite(v)):
            raise ExplorerError(f"the cursor must be a finite map point, got ({u}, {v})")
        code = self.plane.to_latent([u, v])[0].astype(np.float32)
        self.cursor = Cursor((u, v), code, "click", note, on_map=True)
        self.cursor_changed.emit(self.cursor)

    def set_code(self, code, origin: str, note: str = "", uv=None, draw: worker_jobs.Draw | None = None) -> None:
        """Decode a full code (d,) that may lie off the map's plane (the sliders, a path frame, a
        neighbour, a selection's mean, an attribute walk); the cursor goes to uv (default: its projection)."""
        d = self._require_session().model.latent_dim
        if origin not in ORIGINS:
            raise ValueError(f"unknown cursor origin {origin!r}")
        code = np.asarray(code, dtype=np.float32).reshape(-1)
        if code.shape != (d,) or not np.isfinite(code).all():
            raise ExplorerError(f"a code for this model is {d} finite numbers, got shape {code.shape}")
        uv = self.project(code) if uv is None else (float(uv[0]), float(uv[1]))
        self.cursor = Cursor(uv, code, origin, note, draw=draw)
        self.cursor_changed.emit(self.cursor)

    def set_label(self, label: int | None) -> None:
        """The digit a conditional model draws (None for the others)."""
        s = self.session
        if s is None or not s.model.conditional:
            label = None
        elif label is None or not 0 <= int(label) < s.model.config.num_classes:
            raise ExplorerError(f"label {label} is not one of this model's {s.model.config.num_classes} classes")
        if label != self.label:
            self.label = None if label is None else int(label)
            self.label_changed.emit(self.label)

    def show_decoded(self, result: worker_jobs.Decoded) -> None:
        """A decode of the cursor came back; a draw is placed where it fell."""
        if result.request.model is not getattr(self.session, "model", None):
            return  # for a model no longer shown
        self.shown_decode = result
        draw = result.request.draw
        if draw is not None and self.cursor is not None and self.cursor.draw is draw:
            self.cursor = replace(self.cursor, code=result.z[0], uv=self.project(result.z[0]), draw=None)
            self.cursor_changed.emit(self.cursor)
        self.decoded.emit(result)

    def show_decode_failed(self, message) -> None:
        """The cursor's decode failed: the last image is no longer what the cursor decodes to, so none is
        shown (the next good decode shows again)."""
        self.shown_decode = None
        self.decode_failed.emit(message)

    @property
    def decoded_image(self) -> np.ndarray | None:
        """The decode shown (h, w) uint8, None before the first."""
        return None if self.shown_decode is None else self.shown_decode.image

    # --- the path -------------------------------------------------------------------------------------
    def set_path(self, path: Path | None) -> None:
        if path is not None and not isinstance(path, Path):
            raise TypeError(f"expected an interpolation.Path, got {type(path).__name__}")
        self.path = path
        self.path_result = None
        self.path_changed.emit(path)
        if self.cursor is not None and self.cursor.origin == "path":  # "frame 15 of 20 on the path": not now
            self.cursor = replace(self.cursor, origin="code", note="")
            self.cursor_changed.emit(self.cursor)

    def show_path_decoded(self, result: worker_jobs.PathDecoded) -> None:
        if result.request.path is self.path:
            self.path_result = result
            self.path_decoded.emit(result)

    # --- the selection --------------------------------------------------------------------------------
    def selection_mask(self) -> np.ndarray:
        """The selection over the map's points (N,) bool."""
        return self.selection.mask(self.points.sizes() if self.points is not None else [])

    @property
    def selected(self) -> np.ndarray:
        """Indices of the selected points on the map."""
        return np.flatnonzero(self.selection_mask())

    def set_selection(self, selected, edit: str | None = None) -> bool:
        """Select these points (a bool mask over the map's points, or their indices); with `edit`, one
        undoable edit of that name. False when nothing changed."""
        n = 0 if self.points is None else len(self.points)
        selected = np.asarray(selected)
        if selected.dtype != bool:
            if selected.size and (selected.min() < 0 or selected.max() >= n):
                raise ExplorerError(f"point indices must be in 0..{n - 1}")
            mask = np.zeros(n, dtype=bool)
            mask[selected.astype(np.int64)] = True
            selected = mask
        if selected.shape != (n,):
            raise ExplorerError(f"a selection is one flag per point on the map ({n}), got shape {selected.shape}")
        before = self.selection.snapshot()
        if not self.selection.set(self.points.sizes() if self.points is not None else [], selected):
            return False
        if edit:
            after = self.selection.snapshot()
            self.history.push(edit, lambda: self._restore_selection(before), lambda: self._restore_selection(after))
        self.selection_changed.emit()
        return True

    def keep_group(self, name: str) -> int:
        """Keep the selection (of the splits shown) as group `name` for attribute arithmetic; its size."""
        size = self.selection.save_group(name, [n for n, _ in (self.points.sizes() if self.points else [])])
        self.selection_changed.emit()
        return size

    def _restore_selection(self, snapshot) -> None:
        self.selection.restore(snapshot)
        self.selection_changed.emit()
