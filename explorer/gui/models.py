"""The model registry: every model the window knows, by key (a file's absolute path, or "trained:N"
for a run of this window): those opened (Sessions) and the shipped ones listed but not opened yet
(Checkpoints). It opens models on its loader thread, file-system calls included, keeps the model
list panel in step, and makes the chosen one current in the view state.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from explorer.engine import checkpoint, trained
from explorer.gui.feedback import Feedback
from explorer.gui.panels.model_list import ModelList
from explorer.gui.state import ViewState
from explorer.gui.threads.workers import Workers
from explorer.latent import worker_jobs
from explorer.latent.session import Session

ASKER = "registry"


class ModelRegistry(QObject):
    listed = Signal()  # the shipped models are in the list
    added = Signal(str)  # a key now has an opened Session (or its Session was replaced)
    loading = Signal(str)  # the name of the model being opened to be shown; "" when it failed and none follows

    def __init__(self, state: ViewState, model_list: ModelList, workers: Workers, feedback: Feedback,
                 data_dir=None, parent=None):
        super().__init__(parent)
        self.state, self.list, self.feedback, self.data_dir = state, model_list, feedback, data_dir
        self.sessions: dict[str, Session] = {}
        self.catalog: dict[str, checkpoint.Checkpoint] = {}  # key -> shipped models listed, not opened yet
        self._fallback = False  # open the default model if the one asked for at start fails
        self._choosing: str | None = None  # a listed model being opened: a double-click asks twice
        self.loader = workers.add(worker_jobs.open_model, True, "load", self._opened, self._failed)
        self.loader.progress.connect(lambda r, text: feedback.set_busy(text))
        self.adder = workers.add(worker_jobs.open_model, False, "add", lambda r, opened: self.add(opened.session, opened.key),
                                 lambda r, message: feedback.show_message("Cannot open the model", message))
        self.lister = workers.add(lambda req, report: worker_jobs.catalog(), True, "catalog", self._listed,
                                  lambda r, message: None)  # a broken shipped file shows up when opened
        model_list.chosen.connect(self.choose)
        state.session_changed.connect(lambda session: model_list.mark_current(state.key))

    # --- opening ----------------------------------------------------------------------------------
    def start(self, path: str | None = None) -> None:
        """Open `path` (default: the shipped default model), and list the shipped models."""
        self.lister.submit(None, ASKER)
        self._fallback = path is not None
        self._open(worker_jobs.OpenRequest(path, self.data_dir), "Opening the model…")

    def open_with_points(self, source, data, key: str | None = None) -> None:
        """At start, a model (a path, or a Checkpoint such as --model-code's) shown over the images `data`
        (a data.Split, e.g. --data's) instead of its dataset's; the shipped models are listed too."""
        from explorer.engine.models.adapters import Opened

        self.lister.submit(None, ASKER)
        given = None if data is None else Opened(None, data, None, data.labels, data.classes)
        self.open(source, key, show=True, given=given)

    def open_path(self, path: str) -> None:
        """Open a checkpoint file: one row per file, however its path was written."""
        self.open(str(path))

    def open(self, source, key: str | None = None, show: bool = True, given=None) -> None:
        """Open a checkpoint file, or a Checkpoint in memory (a script's model, with the key naming its
        row; `given`: its own images or codes), embedding its images on the loader thread; with `show`
        it becomes the current model."""
        self._fallback = False
        self._open(worker_jobs.OpenRequest(source, self.data_dir, key, given), f"Opening {key or source}…", show)

    def choose(self, key: str) -> None:
        """Make a listed model current (opening it first if only listed)."""
        if key in self.sessions:
            if key != self.state.key:
                self.state.set_session(self.sessions[key], key)
        elif key in self.catalog and key != self._choosing:
            self._choosing = key
            self._open(worker_jobs.OpenRequest(self.catalog[key], self.data_dir, key), f"Opening {self.catalog[key].name}…")

    def _open(self, request: worker_jobs.OpenRequest, text: str, show: bool = True) -> None:
        if show:
            self.feedback.set_busy(text)
            self.loading.emit(name_of(request))
            self.loader.submit(request, ASKER)
        else:  # in order, none dropped: each joins the list
            self.adder.submit(request, ASKER)

    def _opened(self, r: int, opened: worker_jobs.Opened) -> None:
        self._choosing = None
        if not self.loader.is_newest(r):
            return  # the user has asked for another model since
        self.feedback.set_idle()
        session = self.add(opened.session, opened.key)
        self.state.set_session(session, opened.key)
        problems = "; ".join(f"{split}: {e}" for split, e in session.data_errors.items())
        if "test" in session.data_errors:  # the test images' reason only: the train split's repeats it
            self.feedback.show_message("Data not available", f"The model is open, but its images could not be "
                                                             f"read, so the map shows the decoded background only."
                                                             f"\n\n{session.data_errors['test']}")
        elif problems:
            self.feedback.say(f"Only the test images are on the map ({problems})", 15000)

    def _failed(self, r: int, message: str) -> None:
        self._choosing = None
        if self.loader.is_newest(r):
            self.feedback.set_idle()
        self.feedback.show_message("Cannot open the model", message)
        if self._fallback and self.state.session is None:
            self._fallback = False
            self._open(worker_jobs.OpenRequest(None, self.data_dir), "Opening the default model…")
        elif self.loader.is_newest(r):
            self.loading.emit("")

    def _listed(self, r: int, found) -> None:
        for key, ckpt in found:
            if key not in self.sessions:
                self.catalog[key] = ckpt
                self.list.put(key, ckpt, ckpt.name)
        self.list.mark_current(self.state.key)
        self.listed.emit()

    # --- what is known --------------------------------------------------------------------------------
    def add(self, session: Session, key: str | None = None) -> Session:
        """An opened model joins the list (from a file, a training run, the compare view or a script);
        the key defaults to its name. Returns it."""
        if not isinstance(session, Session):
            raise TypeError(f"expected a Session, got {type(session).__name__}")
        key = key or session.name
        self.sessions[key] = session
        self.catalog.pop(key, None)
        self.list.put(key, session.ckpt, session.name)
        self.added.emit(key)
        return session

    def remove(self, key: str) -> None:
        self.sessions.pop(key, None)
        self.catalog.pop(key, None)
        self.list.remove(key)

    def names(self) -> dict[str, str]:
        """Key -> name of every model listed, in the list's order."""
        return {k: (self.sessions[k].name if k in self.sessions else self.catalog[k].name)
                for k in self.list.keys() if k in self.sessions or k in self.catalog}


def name_of(request: worker_jobs.OpenRequest) -> str:
    """The name of the model a request opens, without touching the file system (that is the loader's job)."""
    source = request.source
    return source.name if isinstance(source, checkpoint.Checkpoint) else trained.name_of(source)
