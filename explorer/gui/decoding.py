"""The cursor's decode service: whenever the cursor, its label or the model changes, decode the cursor
on the decode worker (the newest request wins) and hand the result to the state, which shows it.

A click, a slider, a script setting `state.set_cursor` all end here the same way:
state.cursor_changed -> request -> worker (torch.inference_mode, off the UI thread) -> state.show_decoded.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from explorer.gui.feedback import Feedback
from explorer.gui.state import Cursor, ViewState
from explorer.gui.threads.workers import Workers
from explorer.latent import worker_jobs

ASKER = "cursor"


FAILED = "Cannot decode"  # the title of the message a failed decode shows


class DecodeService(QObject):
    recovered = Signal()  # a good decode after failed ones: what was said about them is over

    def __init__(self, state: ViewState, workers: Workers, feedback: Feedback, parent=None):
        super().__init__(parent)
        self.state = state
        self._draws = 0  # seeds of the draws from q(z|x), one per request
        self.feedback = feedback
        self._failing = False  # the last decode failed, and the status bar says so
        self.worker = workers.add(worker_jobs.decode, True, "decode", self._decoded, self._failed)
        state.cursor_changed.connect(self._cursor_changed)
        state.label_changed.connect(lambda label: self.redecode())
        state.session_changed.connect(self._session_changed)

    def _cursor_changed(self, cursor: Cursor | None) -> None:
        if cursor is not None and not (cursor.origin == "draw" and cursor.draw is None):  # a draw placed: done
            self.request(cursor)

    def _session_changed(self, session) -> None:
        self.worker.forget(ASKER)  # what was asked of the last model is not shown on this one
        self.redecode()

    def redecode(self) -> None:
        """The model or label changed under the cursor: a picked map point is decoded anew on the
        current plane; a code (slider, path frame...) stays that code."""
        s, cursor = self.state, self.state.cursor
        if s.session is None or cursor is None:
            return
        if cursor.on_map:
            s.set_cursor(cursor.uv, cursor.note)
        else:
            self.request(cursor)

    def request(self, cursor: Cursor) -> worker_jobs.DecodeRequest | None:
        s = self.state.session
        if s is None:
            return None
        request = worker_jobs.DecodeRequest(s.model, cursor.code[None], cursor.uv, self.state.label, s.nearest_codes(),
                                     cursor.draw, cursor.note, cursor.origin)
        self.worker.submit(request, ASKER)
        return request

    def draw(self, k: int) -> None:
        """Decode a draw z ~ q(z|x) for point k's image (a fresh seed each time); placed once drawn."""
        points = self.state.points
        split, i = points.source(k)
        self._draws += 1
        draw = worker_jobs.Draw(split.images[i].numpy(), int(split.labels[i]), self._draws)
        self.state.set_code(points.codes[k], "draw", f"a draw from q(z|x) for {split.describe(i)} "
                                                     f"({split.classes[draw.label]}), seed {draw.seed}", draw=draw)

    def _decoded(self, r: int, result: worker_jobs.Decoded) -> None:
        if not self.worker.is_current(r):
            return  # asked for before another model was opened
        if result.request.draw is not None and not self.worker.is_newest(r):
            return  # the user has moved on: placing this draw now would pull the cursor back
        self.state.show_decoded(result)
        if self._failing:  # the failure said in the status bar (and its message) is over
            self._failing = False
            self.feedback.say("", 0)
            self.recovered.emit()

    def _failed(self, r: int, message: str) -> None:
        """Said in a message the first time (with the details of an error of the user's model), then where
        the decode would be and in the status bar: a drag over a region that fails would stack one box per
        move. The next good decode takes their place and closes the message."""
        if not self.worker.is_current(r):
            return  # asked of a model no longer shown
        self.state.show_decode_failed(message)
        if not self._failing:
            self.feedback.show_message(FAILED, message)  # the window puts its first line in the status bar too
        else:
            self.feedback.say(f"{FAILED}: {message.splitlines()[0] if message else ''}", 10000)
        self._failing = True
