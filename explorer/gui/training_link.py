"""The training link: a run in the training panel (a dock beside the map) shows on the map as it goes. After each epoch the
model in training becomes the current one (its row "trained:N" in the model list), so the space is
seen organising; at the end its model is placed with both splits; a run with no complete epoch
leaves nothing behind and the model shown before comes back.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from explorer.engine import checkpoint, training
from explorer.engine import ladder as ladders
from explorer.gui.dialogs.train import TrainDialog
from explorer.gui.feedback import Feedback
from explorer.gui.models import ModelRegistry
from explorer.gui.state import ViewState
from explorer.gui.threads.tasks import Tasks
from explorer.latent.session import Session, open_session


class TrainingLink(QObject):
    trained_ready = Signal(object)  # Session of a finished run, placed with both splits
    rung_ready = Signal(str)  # the key of a ladder's finished rung (after trained_ready)

    def __init__(self, state: ViewState, registry: ModelRegistry, dialog: TrainDialog, tasks: Tasks,
                 feedback: Feedback, data_dir=None, parent=None):
        super().__init__(parent)
        self.state, self.registry, self.dialog, self.tasks, self.feedback = state, registry, dialog, tasks, feedback
        self.data_dir = data_dir
        self.training_key: str | None = None  # the run under way
        self.last_trained_key: str | None = None
        self._before: tuple = (None, None)  # (session, key) shown when the run started
        self._count = 0
        self._warmed_up = False
        dialog.epoch_snapshot.connect(self._snapshot)
        dialog.run_ended.connect(self._ended)
        dialog.nothing_trained.connect(self._discarded)
        dialog.message.connect(feedback.show_message)

    def show_dialog(self) -> None:
        if not self._warmed_up:  # while the form is filled in, not in the first epoch: see training.warm_up
            self._warmed_up = True
            self.tasks.run((training.warm_up,), report=False, failure="Could not prepare training")
        self.dialog.reveal()

    def _snapshot(self, snap) -> None:
        """After each epoch the map shows the model in training (while the user watches this run)."""
        model = snap.model
        if snap.epoch == 0:
            self._count += 1
            self.training_key = f"trained:{self._count}"
            self._before = (self.state.session, self.state.key)
        meta = {"kind": model.kind, "model": model.config.to_dict(), "epochs": snap.epoch,
                "dataset": self.dialog.dataset.currentText(), "train_images": snap.train_images}
        if snap.progress is not None:
            meta["final_losses"] = snap.progress.losses
        session = Session(checkpoint.Checkpoint(model, meta), snap.stats, saved=False,
                          title=f"{model.kind}-{model.latent_dim}d-{model.config.arch}{self._rung()} "
                                f"(training, epoch {snap.epoch})")
        if snap.codes is not None:
            session.splits["test"], session.codes["test"] = snap.split, snap.codes
        key = self.training_key
        self.registry.add(session, key)
        if snap.epoch == 0:
            self.state.set_session(session, key)
        elif self.state.key == key:  # still watching this run: keep the view, cursor and path; decode them again
            self.state.set_session(session, key, keep_view=True)

    def _ended(self, run) -> None:
        """The run's model (its last complete epoch) is placed with both splits and becomes current."""
        key, self.training_key = self.training_key, None
        self.last_trained_key = key
        model = run.model
        meta = dict(run.meta, kind=model.kind, model=model.config.to_dict())
        n = run.result.epochs_done
        title = f"{model.kind}-{model.latent_dim}d-{model.config.arch}{self._rung()} ({n} epoch{'s' * (n != 1)})"
        if self.state.key == key:
            self.feedback.set_busy("Placing the images with the trained model…")
        self.tasks.run((open_session, checkpoint.Checkpoint(model, meta, timeline=run.timeline), self.data_dir),
                       lambda session: self._placed(key, title, session), report=False,
                       failure="Cannot place the images with the trained model")

    def _rung(self) -> str:
        """The "-beta0.25" in the name of a ladder's run, as in its file from the command line."""
        return "" if self.dialog.rung is None else f"-{self.dialog.rung.setting}{self.dialog.rung.text}"

    def _placed(self, key: str, title: str, session: Session) -> None:
        session.title = title
        self.registry.add(session, key)
        if self.state.key == key:
            self.feedback.set_idle()
            self.state.set_session(session, key)
        self.trained_ready.emit(session)
        if ladders.META_KEY in session.ckpt.meta:
            self.rung_ready.emit(key)

    def _discarded(self) -> None:
        """A run that produced no complete epoch leaves no model behind: back to the one shown before."""
        key, self.training_key = self.training_key, None
        if key is None:
            return
        self.registry.remove(key)
        session, previous_key = self._before
        if self.state.key == key:
            self.state.set_session(session, previous_key if session is not None else None)
