"""The training panel's loss curves: one per loss term on a log axis, as the run's steps report them."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg

CURVE_COLOURS = ("#8ab4f8", "#f28b82", "#81c995", "#fdd663")
CURVE_INTERVAL = 0.25  # s between loss-plot redraws (each one re-renders the axes)
LOSS_UNITS = {"ae": "MSE", "vae": "loss (nats)", "cvae": "loss (nats)"}  # what the y axis measures, by model kind
LEGEND_BRUSH = (32, 33, 36, 210)  # the window's background, nearly opaque: the legend reads over the curves


class LossAxis(pg.AxisItem):
    """The loss plot's log axis in plain numbers (0.05, 0.1, 0.2), labelled at 1, 2 and 5 times a power of
    ten only: pyqtgraph labels every minor tick, as 4·10¹ in units of 0.001 ("loss (x0.001)"), overlapping."""

    def __init__(self):
        super().__init__("left")
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values, scale, spacing):
        if not self.logMode:
            return super().tickStrings(values, scale, spacing)
        labels = []
        for v in values:
            x = 10.0 ** v
            mantissa = x / 10.0 ** np.floor(np.log10(x) + 1e-9)
            labels.append(f"{x:g}" if abs(mantissa - round(mantissa)) < 1e-6 and round(mantissa) in (1, 2, 5) else "")
        return labels


class LossCurves(pg.PlotWidget):
    """The losses of the run in progress against epochs, redrawn at most every CURVE_INTERVAL (each redraw
    re-renders the axes) and at the end of every epoch."""

    def __init__(self):
        super().__init__(axisItems={"left": LossAxis()})
        self.setMenuEnabled(False)
        self.setLogMode(y=True)
        self.setLabel("bottom", "epoch")
        self.setLabel("left", "loss")
        self.addLegend(offset=(-10, 10), brush=LEGEND_BRUSH)
        self.setMinimumSize(200, 160)  # narrow enough for the dock beside the map
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.points: dict[str, tuple[list, list]] = {}
        self._last_plot = 0.0

    def begin(self, kind: str, epochs: int) -> None:
        """Empty curves for a run of `epochs` epochs of a model of `kind`."""
        self.clear()
        self.addLegend(offset=(-10, 10), brush=LEGEND_BRUSH)
        self.setLabel("left", LOSS_UNITS.get(kind, "loss"))
        self.setXRange(0, epochs, padding=0.02)  # fixed: the x axis is not redrawn as data grows
        self.enableAutoRange(x=False, y=True)
        self.curves, self.points = {}, {}

    def add(self, p) -> None:
        """A step's losses (a training.Progress)."""
        x = (p.epoch - 1) + p.step / max(p.steps, 1)
        for k, v in p.losses.items():
            if k != "loss" and v == p.losses.get("loss"):
                continue  # the whole loss (an autoencoder's is its reconstruction): one curve, not two on top
            xs, ys = self.points.setdefault(k, ([], []))
            if v > 0:  # a log axis cannot show 0 or below
                xs.append(x)
                ys.append(v)
        now = time.monotonic()
        if p.epoch_done or now - self._last_plot >= CURVE_INTERVAL:
            self._last_plot = now
            self.redraw()

    def redraw(self) -> None:
        for k, (xs, ys) in self.points.items():
            if k not in self.curves:
                colour = CURVE_COLOURS[len(self.curves) % len(CURVE_COLOURS)]
                # the whole loss as a wide band under its terms: a VAE's is its reconstruction's plus a small
                # KL, and drawn as thin as that line it lay hidden under it
                whole = k == "loss"
                pen = pg.mkPen(colour + "90", width=6) if whole else pg.mkPen(colour, width=2)
                self.curves[k] = self.plot(name=k, pen=pen)
                self.curves[k].setZValue(0 if whole else 1)
            self.curves[k].setData(xs, ys)
