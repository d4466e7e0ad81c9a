"""What the training form offers and how it speaks: the devices there are to train on (cuda only with a
CUDA GPU: a wheel had picked it on a CPU-only machine), and the engine's messages in the form's words
(the engine names command-line options: "--device cuda was asked for" is "Device cuda was asked for")."""

from __future__ import annotations

import re

import torch


def offered_devices() -> list[str]:
    """What the Device field offers: cuda only where a CUDA GPU is there to train on."""
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])


FIELDS = {"--model": "Model", "--arch": "Architecture", "--latent-dim": "Latent dimensions", "--beta": "β",
          "--jitter": "Jitter", "--anchor": "Anchor", "--mmd": "Anchor MMD", "--average": "Average G",
          "--confident": "Confident G", "--epochs": "Epochs", "--batch-size": "Batch size", "--lr": "Learning rate",
          "--dataset": "Dataset", "--device": "Device"}


def in_form_words(message: str) -> str:
    """A message of the engine's in the form's words: its fields where the engine names a command-line
    option ("--device cuda was asked for" is "Device cuda was asked for")."""
    return re.sub(r"--[a-z][a-z-]*", lambda m: FIELDS.get(m[0], m[0].lstrip("-")), message)


def detected_device() -> str:
    if torch.cuda.is_available():
        return f"CUDA GPU: {torch.cuda.get_device_name(0)}"
    return "CPU only (no CUDA GPU found)"
