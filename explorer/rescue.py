"""What a training run keeps however it ends: the weights of its last complete epoch when it stops
on an error, and a copy in the temp folder when its file cannot be written."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

from explorer.errors import ExplorerError
from explorer.training import Progress, TrainResult


class LastEpoch:
    """A training callback that passes reports on to `callback` and keeps a CPU copy of the weights
    and losses after every complete epoch (a few MB, once per epoch), so that a run that ends with an
    error (out of memory even on the CPU, a failing kernel) can still be saved."""

    def __init__(self, model, callback: Callable[[Progress], None]):
        self.model, self.callback = model, callback
        self.weights, self.history = None, []
        self.start = time.perf_counter()

    def __call__(self, p: Progress) -> None:
        if p.epoch_done:
            self.weights = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
            self.history.append(dict(p.losses))
        self.callback(p)

    def result_after(self, error: BaseException, batch: int, lr: float, device: str) -> TrainResult | None:
        """The model set back to its last complete epoch and how the run ended; None if no epoch completed."""
        if self.weights is None:
            return None
        self.model.load_state_dict(self.weights)
        self.model.eval()
        cause = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        message = f"training stopped: {cause}; kept the weights of epoch {len(self.history)}"
        return TrainResult("failed", len(self.history), self.history, message, time.perf_counter() - self.start,
                           batch, device, lr)


def save_or_rescue(out: Path, save: Callable[[Path], Path]) -> Path:
    """save(out); if that fails after a long run, save to the temp folder instead so nothing is lost."""
    try:
        return save(out)
    except ExplorerError as e:
        rescue = Path(tempfile.gettempdir()) / f"{out.stem}-{time.strftime('%Y%m%d-%H%M%S')}{out.suffix}"
        try:
            save(rescue)
        except ExplorerError:
            raise e from None
        raise ExplorerError(f"{e}; the trained model was saved to {rescue} instead") from None
