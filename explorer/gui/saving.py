"""Saving models, and nothing lost on close: closing or quitting the window while a model trained here
is unsaved, or while a run trains, asks Save, Discard or Cancel. Save stops a run at its last complete
epoch, asks a file for each unsaved model, writes them on the task worker and then closes the window.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox

from explorer.gui import last_folder
from explorer.gui.feedback import Feedback
from explorer.gui.models import ModelRegistry
from explorer.gui.threads.tasks import Tasks
from explorer.gui.training_link import TrainingLink
from explorer.latent import worker_jobs


def ask_unsaved(parent, text: str) -> str:
    """'save', 'discard' or 'cancel' (tests replace this function)."""
    box = QMessageBox(QMessageBox.Warning, "Unsaved model", text, QMessageBox.Save | QMessageBox.Discard |
                      QMessageBox.Cancel, parent)
    box.setDefaultButton(QMessageBox.Save)
    answer = box.exec()
    return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")


def default_file_name(name: str) -> str:
    """A model trained here is offered 'vae-2d-mlp-12ep.safetensors', never a shipped model's name."""
    base, _, rest = name.partition(" (")
    epochs = re.search(r"(\d+) epochs?|epoch (\d+)", rest)
    return f"{base}-{epochs[1] or epochs[2]}ep.safetensors" if epochs else f"{base}.safetensors"


def ask_path(parent, name: str) -> str:
    """A file to save the model `name` in, or '' (tests replace this function)."""
    path, _ = last_folder.getSaveFileName(parent, f"Save {name}", default_file_name(name),
                                          "Checkpoints (*.safetensors)")
    return path


def save_file(path, session) -> tuple:
    """(the file written, its row's key), on the task worker: resolving a path can hang."""
    written = worker_jobs.save_model(path, session)
    return written, worker_jobs.model_key(written)


class ModelSaving(QObject):

    def __init__(self, window, registry: ModelRegistry, training: TrainingLink, tasks: Tasks, feedback: Feedback):
        super().__init__(window)
        self.window, self.registry, self.training, self.tasks, self.feedback = (window, registry, training, tasks,
                                                                               feedback)
        self._closing = False  # the user has answered: the next close goes through
        self._waiting_for_run = False
        training.trained_ready.connect(lambda session: self._run_over())
        training.dialog.nothing_trained.connect(self._run_over)

    def unsaved(self) -> list[str]:
        """Keys of the models trained in this window and not written to a file."""
        return [key for key, session in self.registry.sessions.items() if not session.saved]

    def ask_save(self, key: str | None = None) -> None:
        session = self.registry.sessions.get(key or self.registry.state.key)
        if session is not None:
            path = ask_path(self.window, session.name)
            if path:
                self.save_model(path, key)

    def save_model(self, path: str, key: str | None = None, then=None) -> None:
        """Write a model (default: the current one) with its latent statistics; then `then()`. Its row
        now stands for the file (one row per file: opening the file again adds none)."""
        key = key or self.registry.state.key
        session = self.registry.sessions[key]

        def written(result):
            path, file_key = result
            session.ckpt.path = path
            session.saved = True
            if file_key != key:
                self.registry.remove(key)
                if self.training.last_trained_key == key:
                    self.training.last_trained_key = file_key
            self.registry.add(session, file_key)
            if self.registry.state.key == key:
                self.registry.state.set_session(session, file_key, keep_view=True)
            if then is None:
                self.tasks.report_written(path)
            else:
                then()
        self.tasks.run((save_file, path, session), written, report=False)

    def ask_save_ladder(self, keys: list[str]) -> None:
        """Save a ladder's rungs under one name, each beside it named by its rung, as `explorer train
        --ladder` names them (ladder.safetensors -> ladder-beta0.25.safetensors, ...)."""
        from explorer.engine.ladder import Rung, rung_of

        rungs = [(key, rung_of(self.registry.sessions[key].ckpt.meta)) for key in keys if key in self.registry.sessions]
        rungs = [(key, rung) for key, rung in rungs if rung is not None]
        if not rungs:
            return
        path = ask_path(self.window, "ladder")
        if path:
            for key, (setting, value) in rungs:
                self.save_model(str(Rung(setting, setting, value).path(path)), key)

    # --- closing ----------------------------------------------------------------------------------
    def discard_on_close(self) -> None:
        """The next close asks nothing and keeps nothing (a benchmark or script that trained)."""
        self._closing = True

    def may_close(self) -> bool:
        """True when the window may close now. Otherwise the user was asked: on Save the window closes
        itself once everything is written; on Cancel it stays."""
        running = self.training.dialog.running
        keys = self.unsaved()
        if self._closing or (not keys and not running):
            return True
        what = "A model is training" if running else f"{len(keys)} trained model{'s' * (len(keys) != 1)}"
        text = (f"{what} and not saved. Save before closing?" if running else
                f"{what} not saved: {', '.join(self.registry.sessions[k].name for k in keys)}. Save before closing?")
        choice = ask_unsaved(self.window, text)
        if choice == "discard":
            self._closing = True
            return True
        if choice == "save":
            if running:  # keep its last complete epoch, then save it with the others
                self._waiting_for_run = True
                self.training.dialog.cancel_training()
                self.feedback.say("Stopping the run at its last complete epoch, then saving…", 10000)
            else:
                self._save_all_then_close()
        return False

    def _run_over(self) -> None:
        if self._waiting_for_run:
            self._waiting_for_run = False
            self._save_all_then_close()

    def _save_all_then_close(self) -> None:
        """Ask a file for each unsaved model and start writing it at once, while the next is asked for
        (the first file used to wait for the last dialog); close once every one is written."""
        keys, left, asking = self.unsaved(), set(), [True]

        def close_now():  # everything asked for is written: close without asking again
            self._closing = True
            self.window.close()

        def one_written(key):
            left.discard(key)
            if not left and not asking:
                close_now()
        for key in keys:
            path = ask_path(self.window, self.registry.sessions[key].name)
            if not path:  # the files already chosen are still written
                self.feedback.say("Not closed: a model was left unsaved", 8000)
                return
            left.add(key)
            self.save_model(path, key, lambda key=key: one_written(key))
        asking.clear()
        if not left:
            close_now()
