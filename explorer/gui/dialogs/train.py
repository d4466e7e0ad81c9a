"""The training panel: choose a model and a run, watch its progress and loss curves, cancel it. It
lives in a dock beside the map (never over it), so the map re-forming after each epoch stays in view.

It owns the TrainWorker and passes on what the main window needs: a snapshot after every epoch (to
redraw the map) and how the run ended. It is not modal: the window stays usable while training runs.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from explorer.data.limits import DATASETS, MAX_LATENT_DIM
from explorer.engine import ladder as ladders
from explorer.engine.config import (
    ARCHS,
    ENCODER_KINDS,
    KIND_NAMES,
    MAX_ANCHOR,
    MAX_CONFIDENT,
    MAX_MMD,
    ModelConfig,
    TrainConfig,
)
from explorer.engine.models import build_model
from explorer.engine.training import defaults_for
from explorer.gui.dialogs.train_curves import LossCurves
from explorer.gui.dialogs.train_ladder import LadderRow, rung_configs
from explorer.gui.dialogs.train_words import detected_device, in_form_words, offered_devices
from explorer.gui.docks import reveal, scrolling
from explorer.gui.threads.workers import TrainWorker
from explorer.utils.errors import ExplorerError

PLOT_HEIGHT = 260  # pixels the loss curves get while training, where the panel has them


def format_seconds(s: float | None) -> str:
    if s is None:
        return "–"
    s = int(round(s))
    return f"{s // 60}:{s % 60:02d}" if s >= 60 else f"{s} s"


def weight_box(maximum: float, decimals: int, off: str, tip: str, step: float = 1.0) -> QDoubleSpinBox:
    """A spin box for one of a model's weights, from 0 (shown as `off`) to `maximum`."""
    box = QDoubleSpinBox()
    box.setRange(0.0, maximum)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setSpecialValueText(off)
    box.setToolTip(tip)
    return box


class TrainDialog(QWidget):
    epoch_snapshot = Signal(object)  # workers.Snapshot
    run_ended = Signal(object)  # workers.Run with epochs_done >= 1 (finished, cancelled or diverged)
    nothing_trained = Signal()  # the run failed or ended before its first epoch was complete
    message = Signal(str, str)  # title, text: for the main window's message box
    save_requested = Signal()
    ladder_started = Signal(object)  # [ladder.Rung]: a ladder's runs follow, one run_ended per rung kept
    save_ladder_requested = Signal()

    def __init__(self, data_dir=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Train a new model")
        self.data_dir = data_dir
        self.worker: TrainWorker | None = None
        self.rung: ladders.Rung | None = None  # the ladder rung of the run under way, if it is one
        self._rungs_left: list[tuple] = []  # (rung, model config, run config) still to train
        self._rung_count = self._rung_index = 0

        self.kind = QComboBox()
        for key, name in KIND_NAMES.items():
            self.kind.addItem(name, key)
        self.kind.setCurrentIndex(list(KIND_NAMES).index("vae"))
        self.arch = QComboBox()
        for arch in ARCHS:
            self.arch.addItem(arch.upper(), arch)
        self.latent_dim = QSpinBox()
        self.latent_dim.setRange(2, MAX_LATENT_DIM)
        self.latent_dim.setValue(2)
        self.beta = QDoubleSpinBox()
        self.beta.setRange(0.0, 1000.0)
        self.beta.setDecimals(3)
        self.beta.setValue(1.0)
        self.beta.setToolTip("Weight of the KL term: 0 is an autoencoder, more buys a smoother, more complete space")
        self.jitter = QCheckBox("Jitter the encoder's images")
        self.jitter.setToolTip("AE, VAE, CVAE: the encoder sees each training image slightly turned, shifted and "
                               "scaled, and learns the code of the image itself; its codes generalise better (2-d "
                               "VAE, 50 epochs: 140.6 nats and 5-NN 0.799 on the test images, against 141.2 and "
                               "0.775)")
        self.inversion = QCheckBox("Fit an inversion encoder")
        self.inversion.setToolTip("GAN only: an encoder fitted to the generator's samples, so that real images "
                                  "can be placed on its map")
        self.inversion.setChecked(True)
        self.anchor = weight_box(MAX_ANCHOR, 1, "0 (plain GAN)",
                                 "GAN only: weight of a VAE's loss that ties the generator to an encoder of real "
                                 "images (a VAE-GAN). 0 trains the lecture's plain minimax GAN, which in 2-d leaves "
                                 "some digits out; the shipped GAN used 150")
        self.mmd = weight_box(MAX_MMD, 0, "0 (a VAE's KL)",
                              "Anchored GAN only: match the encoder's codes to the prior by their MMD at this weight "
                              "instead of a VAE's KL term (a WAE-GAN): fewer blends between digits. The shipped GAN "
                              "used 1000: 87% of its ±2σ grid clean digits with its average, against 60% with the KL",
                              step=100)
        self.average = weight_box(0.9999, 4, "0 (off)",
                                  "GAN only: decode with a moving average of the generator's weights, this decay per "
                                  "step; steadier strokes than any one step's weights (the shipped GAN: 0.999)",
                                  step=0.001)
        self.confident = weight_box(MAX_CONFIDENT, 1, "0 (off)",
                                    "GAN only: a namer learns the digits of the real images, and the generator is "
                                    "asked, at this weight, for images it names as one clear digit, every digit over "
                                    "a batch (CatGAN). The shipped GAN used 5: 98% of its ±2σ grid clean digits, "
                                    "against 87% without")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 10_000)
        self.epochs.setValue(TrainConfig.epochs)  # the engine's default, which its schedule is tuned for
        self.batch = QSpinBox()
        self.batch.setRange(0, 65_536)
        self.lr = QLineEdit()
        self.dataset = QComboBox()
        self.dataset.addItems(list(DATASETS))
        self.device = QComboBox()
        self.offer_devices()
        self.detected = QLabel(detected_device())
        self.ladder = LadderRow()
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.arch.currentIndexChanged.connect(self._kind_changed)  # conv nets train at a lower rate
        self.latent_dim.valueChanged.connect(self._kind_changed)  # from 10-d up: batch 384, rate 4e-3
        self.anchor.valueChanged.connect(self._kind_changed)  # anchored, the encoder is part of the model
        self._kind_changed()

        form = QFormLayout()
        form.addRow("Model", self.kind)
        form.addRow("Architecture", self.arch)
        form.addRow("Latent dimensions", self.latent_dim)
        form.addRow("β (KL weight)", self.beta)
        form.addRow("", self.jitter)
        form.addRow("", self.inversion)
        form.addRow("Anchor", self.anchor)
        form.addRow("Anchor MMD", self.mmd)
        form.addRow("Average G", self.average)
        form.addRow("Confident G", self.confident)
        form.addRow("Epochs", self.epochs)
        form.addRow("Batch size", self.batch)
        form.addRow("Learning rate", self.lr)
        form.addRow("Dataset", self.dataset)
        form.addRow("Device", self.device)
        form.addRow("", self.detected)
        form.addRow("Ladder", self.ladder)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFormat("")
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)
        self.plot = LossCurves()

        self.start = QPushButton("Start")
        self.start.setDefault(True)
        self.cancel = QPushButton("Cancel training")
        self.save = QPushButton("Save model…")
        self.save.setToolTip("The trained model is already the current model; save it as a .safetensors file")
        self.start.clicked.connect(self.start_training)
        self.cancel.clicked.connect(self.cancel_training)
        self.save.clicked.connect(self.save_requested)
        self.save_ladder = QPushButton("Save ladder…")
        self.save_ladder.setToolTip("Save every finished rung of the last ladder under one name, each named by its "
                                    "rung (ladder-beta0.25.safetensors), as `explorer train --ladder` does")
        self.save_ladder.clicked.connect(self.save_ladder_requested)
        self.save_ladder.setEnabled(False)

        buttons = QGridLayout()
        for k, button in enumerate((self.start, self.cancel, self.save, self.save_ladder)):
            buttons.addWidget(button, k // 2, k % 2)
        # one column, as the dock beside the map is narrow: the form (724 px of fields) scrolls above, the
        # buttons, progress and loss curves below it; a run gives the curves the room (the form is read-only
        # meanwhile). Below the form, the curves were under the fold of a laptop's screen
        fields = QWidget()
        fields.setLayout(form)
        self.form_area = scrolling(fields)
        self.form_area.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.form_area.setMinimumWidth(fields.minimumSizeHint().width() + self.form_area.verticalScrollBar()
                                       .sizeHint().width())  # it never scrolls sideways
        results = QWidget()
        below = QVBoxLayout(results)
        below.setContentsMargins(0, 0, 0, 0)
        below.addLayout(buttons)
        below.addWidget(self.progress)
        below.addWidget(self.status)
        below.addWidget(self.plot, 1)
        self.split = QSplitter(Qt.Vertical)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.form_area)
        self.split.addWidget(results)
        self.split.setStretchFactor(0, 1)  # the form takes the room until a run gives it to the curves
        self.split.setSizes([1 << 16, 1])  # from the start too (a proportion: the curves keep their least height)
        layout = QVBoxLayout(self)
        layout.addWidget(self.split)
        self._set_running(False)
        self.save.setEnabled(False)
        self._saveable_before = False

    @property
    def curves(self) -> dict:
        """The loss curves drawn, by term."""
        return self.plot.curves

    def reveal(self) -> None:
        """Show the panel: its dock, brought to the front of its tabs."""
        dock = reveal(self)
        self.show()
        if dock is not None and isinstance(dock.parentWidget(), QMainWindow):  # as wide as the form, once
            width = self.minimumSizeHint().width() + self.style().pixelMetric(QStyle.PM_ScrollBarExtent)
            if dock.width() < width:
                dock.parentWidget().resizeDocks([dock], [width], Qt.Horizontal)
        self.kind.setFocus()
        self.offer_devices()

    def offer_devices(self) -> None:
        """Offer the devices there are now (auto stays chosen where the device chosen has gone)."""
        devices = offered_devices()
        if [self.device.itemText(k) for k in range(self.device.count())] != devices:
            chosen = self.device.currentText()
            self.device.clear()
            self.device.addItems(devices)
            self.device.setCurrentText(chosen if chosen in devices else "auto")

    def show_curves(self) -> None:
        """Give the loss curves the panel's room, PLOT_HEIGHT where it has that, the form the rest."""
        total = sum(self.split.sizes())
        results = self.split.widget(1).minimumSizeHint().height() - self.plot.minimumHeight() + PLOT_HEIGHT
        self.split.setSizes([max(total - results, self.form_area.minimumSizeHint().height()), results])

    # --- reading the form -----------------------------------------------------------------------
    def configs(self) -> tuple[ModelConfig, TrainConfig]:
        """The run the form describes; ExplorerError names the field that is wrong."""
        text = self.lr.text().strip()
        try:
            lr = float(text) if text else None
        except ValueError:
            raise ExplorerError(f"learning rate: {text!r} is not a number") from None
        model = ModelConfig(kind=self.kind.currentData(), arch=self.arch.currentData(),
                            latent_dim=self.latent_dim.value(), beta=self.beta.value(),
                            inversion=self.inversion.isChecked(), anchor=self.anchor.value(),
                            mmd=self.mmd.value() if self.mmd.isEnabled() else 0.0,
                            average=self.average.value() if self.average.isEnabled() else 0.0,
                            confident=self.confident.value() if self.confident.isEnabled() else 0.0)
        run = TrainConfig(epochs=self.epochs.value(), batch_size=self.batch.value() or None, lr=lr,
                          device=self.device.currentText(), dataset=self.dataset.currentText(),
                          jitter=self.jitter.isChecked() and model.kind in ENCODER_KINDS)
        return model, run

    def _kind_changed(self) -> None:
        kind = self.kind.currentData()
        batch, lr = defaults_for(kind, TrainConfig(), self.arch.currentData(), self.latent_dim.value())
        self.batch.setSpecialValueText(f"default ({batch})")
        self.lr.setPlaceholderText(f"default ({lr:g})")
        self.beta.setEnabled(kind in ("vae", "cvae"))
        self.jitter.setEnabled(kind in ENCODER_KINDS)
        self.anchor.setEnabled(kind == "gan")
        anchored = kind == "gan" and self.anchor.value() > 0
        if anchored:  # an anchored GAN trains its encoder with the generator: it cannot go without one
            self.inversion.setChecked(True)
        self.inversion.setEnabled(kind == "gan" and not anchored)
        self.mmd.setEnabled(anchored)
        self.average.setEnabled(kind == "gan")
        self.confident.setEnabled(kind == "gan")

    # --- running ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.worker is not None

    def start_training(self) -> bool:
        if self.running:
            return False
        try:
            model_config, run_config = self.configs()
            rungs = self.ladder.rungs()
            plan = [(None, model_config, run_config)]
            if rungs:  # every rung's settings hold together, or none is trained
                plan = [(r, *rung_configs(r, model_config, run_config)) for r in rungs]
            model = build_model(plan[0][1], seed=plan[0][2].seed)
        except ExplorerError as e:
            self.status.setText(in_form_words(str(e)))
            self.message.emit("Cannot start training", in_form_words(str(e)))
            return False
        self._rungs_left, self._rung_count, self._rung_index = plan[1:], len(rungs), 0
        if rungs:
            self.save_ladder.setEnabled(False)
            self.ladder_started.emit(rungs)
        self._start_run(plan[0][0], plan[0][1], plan[0][2], model)
        return True

    def _start_run(self, rung, model_config: ModelConfig, run_config: TrainConfig, model=None) -> None:
        self.rung = rung
        self._rung_index += 1
        if model is None:
            model = build_model(model_config, seed=run_config.seed)
        self.show_curves()
        self.plot.begin(model_config.kind, run_config.epochs)
        self._saveable_before = self.save.isEnabled()  # an earlier run's model, still there if this one fails
        self.save.setEnabled(False)
        self.progress.setValue(0)
        self.status.setText(f"Starting: {model_config.describe()} on {run_config.dataset}…")
        worker = TrainWorker(model, run_config, self.data_dir, parent=self)
        worker.step.connect(self._on_step)
        worker.epoch.connect(self.epoch_snapshot)
        worker.completed.connect(lambda run: self._ended(run, "Finished"))
        worker.cancelled.connect(lambda run: self._ended(run, "Cancelled"))
        worker.diverged.connect(lambda run: self._ended(run, "Stopped"))
        worker.failed.connect(self._failed)
        self.worker = worker
        self._set_running(True)
        worker.start()

    def _rung_said(self, text: str) -> str:
        """`text` headed by the rung it is about, when a ladder runs."""
        if self.rung is None:
            return text
        return f"Rung {self._rung_index}/{self._rung_count} ({self.rung.label}): {text}"

    def cancel_training(self) -> None:
        if self.worker is not None:
            self._rungs_left = []  # a ladder trains no further rung; the finished ones stay
            self.worker.cancel()
            self.status.setText("Stopping at the next step; keeping the last complete epoch…")
            self.cancel.setEnabled(False)

    def shutdown(self) -> None:
        """Stop a run and wait for its thread (the window is closing)."""
        self._rungs_left = []
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait()
            self.worker = None

    def _on_step(self, p) -> None:
        if p.note:
            self.status.setText(p.note)
            return
        self.progress.setValue(int(1000 * p.fraction))
        self.progress.setFormat(f"{p.fraction:.0%}")
        terms = "  ".join(f"{k} {v:.4g}" for k, v in p.losses.items())
        self.status.setText(self._rung_said(f"Epoch {p.epoch}/{p.epochs}, step {p.step}/{p.steps}   {terms}\n")
                            + f"Elapsed {format_seconds(p.seconds)}, about {format_seconds(p.eta_seconds)} left")
        self.plot.add(p)

    def _ended(self, run, how: str) -> None:
        self._finish_worker()
        self.plot.redraw()
        result = run.result
        n, took = result.epochs_done, format_seconds(result.seconds)
        if how == "Cancelled":  # the engine's message repeats this: say it once
            self.status.setText(f"Cancelled after {took}: {n} complete epoch{'s' * (n != 1)} kept." if n else
                                f"Cancelled after {took}, before the first epoch was complete: nothing kept.")
        else:
            self.status.setText(f"{how} after {n} epoch{'s' * (n != 1)} ({took}). {result.message}")
        if result.status in ("diverged", "failed"):
            self.message.emit("Training stopped", result.message)
        self.status.setText(self._rung_said(self.status.text()))
        if result.epochs_done >= 1:
            self.save.setEnabled(True)
            if self.rung is not None:
                run.meta = {**run.meta, ladders.META_KEY: self.rung.meta()}
                self.save_ladder.setEnabled(True)
            self.run_ended.emit(run)
        else:
            self.save.setEnabled(self._saveable_before)
            self.nothing_trained.emit()
        if self._rungs_left and how != "Cancelled":
            self._start_run(*self._rungs_left.pop(0))

    def _failed(self, message: str) -> None:
        self._finish_worker()
        self._rungs_left = []  # a ladder ends at a rung that could not train; the finished ones stay
        message = in_form_words(message)
        self.save.setEnabled(self._saveable_before)  # the model trained before is still there to save
        self.status.setText(self._rung_said(f"Training failed: {message}"))
        self.message.emit("Training failed", message)
        self.nothing_trained.emit()

    def _finish_worker(self) -> None:
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.wait()  # it has emitted its last signal; returns at once
            worker.deleteLater()
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        for w in (self.kind, self.arch, self.latent_dim, self.beta, self.jitter, self.inversion, self.anchor,
                  self.mmd, self.average, self.confident, self.epochs, self.batch, self.lr, self.dataset, self.device,
                  self.ladder, self.start):
            w.setEnabled(not running)
        if not running:
            self._kind_changed()  # enables the fields this kind of model has
        self.cancel.setEnabled(running)
        if not running:
            self.progress.setFormat("")
