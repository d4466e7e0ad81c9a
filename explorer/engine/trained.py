"""The checkpoints shipped in `trained/`, and their recorded SHA-256 sums."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePath

DEFAULT_MODEL = "vae-2d-mlp"
CLASSIFIER = "mnist-classifier"
SUMS_FILE = "SHA256SUMS"


def trained_dir() -> Path:
    """$EXPLORER_TRAINED_DIR, else the checkpoints a wheel carries (explorer/_trained, mapped from the
    repository's trained/ by setup.py), else trained/ beside the package in a checkout."""
    if os.environ.get("EXPLORER_TRAINED_DIR"):
        return Path(os.environ["EXPLORER_TRAINED_DIR"])
    here = Path(__file__).resolve().parents[1]  # the explorer package
    return here / "_trained" if (here / "_trained").is_dir() else here.parent / "trained"


def find(text: str) -> str:
    """A --checkpoint argument: the file it names, or else, for a bare name such as `vae-2d-mlp`,
    the shipped model of that name, from whatever folder the command runs in."""
    given = Path(text).expanduser()
    try:
        if given.exists() or len(given.parts) != 1:
            return text
        for name in (text, text + ".safetensors"):
            if (trained_dir() / name).is_file():
                return str(trained_dir() / name)
    except (OSError, ValueError):  # a name the system cannot look up: reading it will say so
        pass
    return text


def name_of(path) -> str:
    """The name a checkpoint path goes by (None: the default model), without touching the file system."""
    return DEFAULT_MODEL if path is None else PurePath(str(path)).stem


def shipped() -> list[Path]:
    """The latent models shipped (not the classifier), default first."""
    files = sorted(p for p in trained_dir().glob("*.safetensors") if p.stem != CLASSIFIER)
    return sorted(files, key=lambda p: p.stem != DEFAULT_MODEL)


def default_checkpoint() -> Path | None:
    path = trained_dir() / f"{DEFAULT_MODEL}.safetensors"
    return path if path.is_file() else None


def classifier_path() -> Path | None:
    path = trained_dir() / f"{CLASSIFIER}.safetensors"
    return path if path.is_file() else None


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def recorded_sums() -> dict[str, str]:
    """File name -> SHA-256 from trained/SHA256SUMS (the `sha256sum` format)."""
    sums = {}
    path = trained_dir() / SUMS_FILE
    if path.is_file():
        for line in path.read_text().splitlines():
            if line.strip():
                digest, name = line.split(maxsplit=1)
                sums[name.lstrip("*")] = digest
    return sums


def check_sums() -> list[str]:
    """What is wrong with the shipped files, one line each: a checkpoint SHA256SUMS does not list, a
    listed file that is missing, or one whose SHA-256 differs from the recorded one. Empty if none."""
    folder = trained_dir()
    if not (folder / SUMS_FILE).is_file():
        return [f"{folder / SUMS_FILE} is missing"]
    recorded = recorded_sums()
    problems = [f"{folder / name}: not listed in {SUMS_FILE}"
                for name in sorted({p.name for p in folder.glob("*.safetensors")} - set(recorded))]
    for name, digest in sorted(recorded.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{path}: listed in {SUMS_FILE} but missing")
        elif sha256(path) != digest:
            problems.append(f"{path}: SHA-256 differs from the one recorded in {SUMS_FILE}: altered or damaged")
    return problems
