"""The training timeline's replay: where the sample lay after each epoch, drawn as frames with a legend
and written as a looping GIF (the timeline itself, recorded during training, is engine.timeline's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from explorer.engine import coding
from explorer.engine.timeline import Timeline
from explorer.latent import export, scatter_image


def frames(recorded: Timeline, labels: np.ndarray, name: str, plane: coding.Plane | None = None, size: int = 480,
           epochs=None, classes=None) -> np.ndarray:
    """(len(epochs), size, size + legend, 3) uint8: the sample's map after each epoch asked for (default
    all), in one frame of reference, with a legend and the epoch in the corner (the replay GIF)."""
    positions = recorded.positions(plane)
    bounds = coding.bounds_of(positions.reshape(-1, 2))  # one frame of reference: the extent over all epochs
    return np.stack([scatter_image.draw(positions[k - 1], labels, bounds, size,
                                        f"{name}: after epoch {k} of {recorded.epochs}", classes)
                     for k in (epochs or range(1, recorded.epochs + 1))])


def save(path, recorded: Timeline, labels: np.ndarray, name: str, plane=None, size: int = 480,
         fps: float = 4.0, classes=None):
    """The replay as a looping GIF (a PNG: its last frame), written atomically; returns the path."""
    frames_ = frames(recorded, labels, name, plane, size, classes=classes)
    if Path(path).suffix.lower() == ".gif":
        return export.save_gif(path, frames_, fps=fps, bounce=False)
    return export.save_png(path, frames_[-1])
