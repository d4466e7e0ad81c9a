"""The trade-off beside a ladder (from the compare view): each model's reconstruction term against its
KL, the rate-distortion curve the beta knob walks along, with its test -ELBO, 5-NN accuracy and
decodability in a table, and the same test digits reconstructed by each model, a row each. The figures
are measured on a worker (explorer.latent.tradeoff); the plot and table export as PNG and CSV."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from explorer.gui import last_folder
from explorer.gui.dialogs.compare_export import render
from explorer.gui.dialogs.exports import write_png
from explorer.gui.panels.decoded_view import PixelImage
from explorer.gui.threads.tasks import Tasks
from explorer.gui.threads.workers import Workers
from explorer.latent import decodability, tradeoff

HEADINGS = ("model", "rung", "recon", "KL", "−ELBO", "5-NN", "decodable")
FORMATS = ("{:.1f}", "{:.2f}", "{:.1f}", "{:.3f}", "{:.2f}")


def measure_all(sessions: list, report) -> tuple[list[tradeoff.Row], object]:
    """On a worker: every session's figures on its own test split (5-NN against its train codes), and
    the reconstruction strips of the first session's test digits."""
    rows = []
    classifier = None
    for k, session in enumerate(sessions):
        report(f"Measuring {session.name} ({k + 1} of {len(sessions)})…")
        test, train = session.splits.get("test"), session.splits.get("train")
        if test is None:
            rows.append(tradeoff.Row(session.name, None, None, None, None, None, None, None))
            continue
        if classifier is None and decodability.unavailable(session.dataset) is None:
            classifier = decodability.load_classifier()
        judge = classifier if session.dataset == "mnist" else None
        rows.append(tradeoff.measure(session.name, session.ckpt, session.stats, test, train, judge, session.codes))
    first = next((s for s in sessions if "test" in s.splits), None)
    strips = None
    if first is not None:
        images, labels = tradeoff.strip_images(first.splits["test"])
        strips = tradeoff.reconstruction_strips([s.model for s in sessions], images, labels)
    return rows, strips


class TradeoffWindow(QWidget):
    measured = Signal()  # the plot, table and strips show the models asked for

    def __init__(self, workers: Workers, tasks: Tasks, feedback, parent=None):
        super().__init__(parent, Qt.Window)
        self.setWindowTitle("Trade-off — Latent Explorer")
        self.tasks = tasks
        self.rows: list[tradeoff.Row] = []
        self.worker = workers.add(measure_all, True, "trade-off", self._measured,
                                  lambda r, message: feedback.show_message("Cannot measure the models", message))
        self.worker.progress.connect(lambda r, text: self.status.setText(text))
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "KL, rate (nats per image)")
        self.plot.setLabel("left", "reconstruction, distortion (nats per image)")
        self.plot.setMinimumSize(360, 260)
        self.plot.getViewBox().setDefaultPadding(0.12)  # room for the rungs' labels at the edges
        self.table = QTableWidget(0, len(HEADINGS))
        self.table.setHorizontalHeaderLabels(HEADINGS)
        self.table.verticalHeader().hide()
        self.strips = PixelImage(120)
        self.strips.setToolTip("Top row: test digits; below, each model's reconstructions of them, in the "
                               "table's order")
        self.status = QLabel()
        self.status.setWordWrap(True)
        png = QPushButton("Export PNG…")
        png.clicked.connect(self.ask_png)
        csv = QPushButton("Export CSV…")
        csv.clicked.connect(self.ask_csv)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(png)
        buttons.addWidget(csv)
        top = QHBoxLayout()
        top.addWidget(self.plot, 3)
        top.addWidget(self.strips, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 3)
        layout.addWidget(self.table, 2)
        layout.addLayout(buttons)
        for keys in ("Ctrl+W", "Esc"):
            QShortcut(QKeySequence(keys), self, self.close)

    def measure(self, sessions: list) -> None:
        self.status.setText(f"Measuring {len(sessions)} models…")
        self.worker.submit(list(sessions), "trade-off")

    def _measured(self, r: int, result) -> None:
        if not self.worker.is_newest(r):
            return
        self.rows, strips = result
        self.strips.set_image(strips)
        self._draw()
        self.status.setText("Recon and KL in nats per image on the test split; decodable: share of the map's "
                            "12 × 12 grid the digit classifier names")
        self.measured.emit()

    def _draw(self) -> None:
        self.plot.clear()
        shown = [(k, r) for k, r in enumerate(self.rows) if r.kl is not None and r.recon is not None]
        if shown:
            xs, ys = [r.kl for _, r in shown], [r.recon for _, r in shown]
            self.plot.plot(xs, ys, pen=pg.mkPen("#8ab4f8", width=2), symbol="o", symbolSize=9,
                           symbolBrush="#fdd663")
            for _, r in shown:
                text = pg.TextItem(r.rung or r.name, anchor=(0, 1), color="#e8eaed")
                text.setPos(r.kl, r.recon)
                self.plot.addItem(text)
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            values = (r.recon, r.kl, r.neg_elbo, r.knn5, r.decodability)
            cells = (r.name, r.rung, *("–" if v is None else f.format(v) for v, f in zip(values, FORMATS)))
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter if j >= 2 else Qt.AlignLeft | Qt.AlignVCenter)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()

    def ask_png(self) -> None:
        path, _ = last_folder.getSaveFileName(self, "Export the trade-off", "tradeoff.png",
                                              "PNG image (*.png)")
        if path:
            self.export_png(path)

    def export_png(self, path: str, scale: int = 2) -> None:
        """The plot, strips and table as on screen, `scale` times its pixels (encoded on the jobs thread)."""
        self.tasks.run((write_png, path, render(self, scale)))

    def ask_csv(self) -> None:
        path, _ = last_folder.getSaveFileName(self, "Export the figures", "tradeoff.csv",
                                              "CSV table (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> None:
        self.tasks.run((tradeoff.save_csv, path, list(self.rows)))
