"""What the window shows: one model, its data and where that data lies in its latent space. Free of Qt.

A Session is built on a worker thread (loading, possibly downloading, and embedding take a while) and
then handed to the UI, which only reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from explorer.data.datasets import Split, load_split
from explorer.data.limits import DATASETS
from explorer.data.user_files import pass_data
from explorer.engine import checkpoint, coding
from explorer.engine.models.adapters import UserModel
from explorer.latent.maps import NAMES
from explorer.utils.errors import ExplorerError

SPLIT_CHOICES = ("test", "train", "both")


@dataclass
class Points:
    """The map's points for a split choice: codes, labels, and where each came from."""

    codes: np.ndarray  # (N, d)
    labels: np.ndarray  # (N,)
    splits: list[Split]  # the splits in order; point k is in splits[s] at k - offsets[s]
    offsets: list[int]

    def __len__(self) -> int:
        return len(self.labels)

    def source(self, k: int) -> tuple[Split, int]:
        s = int(np.searchsorted(self.offsets, k, side="right")) - 1
        return self.splits[s], k - self.offsets[s]

    def split_names(self) -> np.ndarray:
        return np.repeat([s.split for s in self.splits], [len(s) for s in self.splits])

    def sizes(self) -> list[tuple[str, int]]:
        """(split name, number of images) in order: how a selection over these points is laid out."""
        return [(s.split, len(s)) for s in self.splits]

    def indices(self) -> np.ndarray:
        """Each point's number in its own split."""
        return np.concatenate([np.arange(len(s)) for s in self.splits])

    def images(self, ks: np.ndarray) -> np.ndarray:
        """The original images (len(ks), h, w) uint8 of points ks."""
        ks = np.asarray(ks, dtype=np.int64)
        which = np.searchsorted(self.offsets, ks, side="right") - 1
        out = np.empty((len(ks), *self.splits[0].images.shape[1:]), dtype=np.uint8)
        for s, split in enumerate(self.splits):
            here = which == s
            if here.any():
                out[here] = split.images[ks[here] - self.offsets[s]].numpy()
        return out


@dataclass
class Session:
    ckpt: checkpoint.Checkpoint
    stats: coding.LatentStats
    splits: dict[str, Split] = field(default_factory=dict)  # "test", "train" where they could be read
    codes: dict[str, np.ndarray] = field(default_factory=dict)  # split -> (N, d), when the model can embed
    data_errors: dict[str, str] = field(default_factory=dict)  # split -> why it could not be read
    saved: bool = True  # False for a model trained in this window and not yet saved
    title: str = ""  # what to call a model that has no file yet

    @property
    def model(self):
        return self.ckpt.model

    @property
    def name(self) -> str:
        return self.ckpt.name if self.ckpt.path or not self.title else self.title

    @property
    def dataset(self) -> str:
        return self.ckpt.meta.get("dataset", "mnist")

    def map_note(self, axes: tuple[int, int], learned=None) -> str:
        """What the map shows for this model, in a few sentences (rich text); `learned`: the
        maps.LearnedMap shown instead of the principal plane."""
        model, d = self.model, self.model.latent_dim
        notes = [f"<b>{self.name}</b>: {self.ckpt.describe()}"]
        if learned is not None:
            notes.append(f"Map: a {NAMES[learned.method]} layout of the {len(learned.uv):,} codes shown; a point of it is decoded "
                         f"through a network fitted to undo the layout, which misses the codes by {learned.error:.0%} "
                         f"of their spread on the data. Away from the data (shaded) its decodes are extrapolation")
        elif d > 2:
            i, j = axes
            notes.append(f"Map: the plane through the mean of the test embeddings spanned by principal axes "
                         f"{i + 1} and {j + 1} ({self.stats.explained(i, j):.0%} of their variance); every point is "
                         f"a full {d}-d code on that plane")
        if model.kind == "gan" and isinstance(model, UserModel):  # a user's decoder alone, given codes
            notes.append("Map: the decoder's latent plane, at the codes given; with no encoder, the images shown "
                         "for them are its decodes")
        elif model.kind == "gan":
            notes.append("Map: the generator's latent plane" + (
                "; real images placed by its inversion encoder" if model.has_encoder else
                ". This GAN has no inversion encoder, so real images cannot be placed: the background shows "
                "what it draws"))
        if model.kind == "ae":
            notes.append("No prior holds this space together: turn on the decoded manifold (B) to see the gaps "
                         "between the clusters that decode to nothing")
        if model.conditional:
            notes.append("The decoder also gets the label, so the map holds the style; the digit drawn is the "
                         "one picked in Decode as")
        if "test" in self.data_errors:
            notes.append("No images could be read (see the message); the background shows the decoded space")
        return ". ".join(notes) + "."

    def points(self, choice: str) -> Points | None:
        """The embedded images for "test", "train" or "both"; None when there are none to show."""
        names = [n for n in (("test", "train") if choice == "both" else (choice,)) if n in self.codes]
        if not names:
            return None
        lengths = [len(self.codes[n]) for n in names]
        return Points(
            codes=np.concatenate([self.codes[n] for n in names]),
            labels=np.concatenate([self.splits[n].labels.numpy() for n in names]),
            splits=[self.splits[n] for n in names],
            offsets=list(np.cumsum([0, *lengths[:-1]])),
        )

    def nearest_codes(self) -> tuple[str, np.ndarray] | None:
        """Where to look for the real image nearest a decoded point: the training images if embedded."""
        for name in ("train", "test"):
            if name in self.codes:
                return name, self.codes[name]
        return None


def open_session(source: str | Path | checkpoint.Checkpoint, data_dir=None,
                 report: Callable[[str], None] = lambda text: None, given=None) -> Session:
    """Load a checkpoint (unless given one), its dataset's splits, and embed them; with `given` (an
    adapters.Opened: a script's own images or codes) those are the map's points instead.

    A bad checkpoint raises ExplorerError. Missing or broken data does not: the session then lacks
    those points and says why in `data_errors`, so the model can still be explored by decoding.
    """
    if isinstance(source, checkpoint.Checkpoint):
        ckpt = source
    else:
        report(f"Opening {Path(source).name}…")
        ckpt = checkpoint.load(source)
    if given is not None:
        return _given_session(ckpt, given, report)
    if ckpt.kind == "classifier":
        raise ExplorerError(f"{ckpt.path}: this is the digit classifier, not a latent model; open an AE, VAE or GAN")
    model = ckpt.model.cpu().eval()
    session = Session(ckpt, ckpt.stats or coding.prior_stats(model.latent_dim), saved=ckpt.path is not None)
    for name in ("test", "train"):
        if session.dataset not in DATASETS:  # trained on the user's own images (one set): say which to open it with
            session.data_errors["test"] = pass_data(session.dataset, ckpt.meta, ckpt.path or "FILE")
            break
        report(f"Reading the {session.dataset} {name} images…")
        try:
            session.splits[name] = load_split(session.dataset, name, data_dir, progress=_download_report(report))
        except ExplorerError as e:
            session.data_errors[name] = str(e)
            continue
        if model.has_encoder:
            n = len(session.splits[name])  # the train images are encoded for Show: train or both, not shown yet
            report(f"Placing {n:,} test images on the map…" if name == "test" else
                   f"Encoding {n:,} train images too (Show: train or both puts them on the map)…")
            split = session.splits[name]
            session.codes[name] = coding.embed(model, split.images, split.labels)
    if ckpt.stats is None and "test" in session.codes and model.kind != "gan":
        session.stats = coding.stats_from_embeddings(session.codes["test"])
    return session


def _given_session(ckpt: checkpoint.Checkpoint, given, report) -> Session:
    """A script's model with its own points: images embedded by its encoder, or codes (a decoder alone)
    whose images are what they decode to, so hovering a point still shows a picture."""
    model = ckpt.model
    if given.data is not None:
        split = given.data
        report(f"Placing {len(split):,} images on the map…")
        codes = coding.embed(model, split.images, split.labels)
    else:
        report(f"Decoding {len(given.codes):,} codes…")
        codes = given.codes
        split = Split(images=torch.from_numpy(coding.decode(model, codes)), labels=given.labels,
                      dataset=ckpt.meta.get("dataset", "codes"), split="codes", classes=given.classes)
    stats = coding.stats_from_embeddings(codes) if len(codes) >= 2 else coding.prior_stats(model.latent_dim)
    return Session(ckpt, stats, {"test": split}, {"test": codes}, title=ckpt.meta.get("title", model.kind))


def _download_report(report):
    def show(done, total, name):
        report(f"Downloading {name}: {done / total:.0%}" if total else f"Downloading {name}: {done / 1e6:.1f} MB")
    return show
