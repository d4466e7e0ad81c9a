"""`--model-code FILE.py:NAME [--weights W.safetensors]`: the user's own model, from their own file.

Importing FILE.py runs it, as `python FILE.py` would: that is the point (it is their code, named on
purpose), and the command line says so. NAME is a class (built with no arguments) or a function
returning a model (or an (encoder, decoder) pair). Weights come only from a .safetensors file: a
pickle (.pt, .pth, ...) can run any code when read and is refused.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from pathlib import Path

from torch import nn

from explorer.engine.checkpoint import PICKLE_SUFFIXES
from explorer.engine.models.guard import Guard
from explorer.utils.errors import ExplorerError, UserModelError


def load_model(spec: str, weights: str | None = None):
    """The object FILE.py:NAME makes (weights loaded into it if given): a model, or an (encoder, decoder) pair."""
    path, name = _parse(spec)
    module = _import(path)
    target = getattr(module, name, None)
    if target is None or not callable(target):
        found = ", ".join(n for n, v in vars(module).items() if inspect.isclass(v) and issubclass(v, nn.Module)
                          and v.__module__ == module.__name__) or "none"
        raise ExplorerError(f"--model-code {spec}: {path.name} defines no class or function {name!r} "
                            f"(its nn.Module classes: {found})")
    try:
        model = Guard(name).call(target, what=f"{name}()")
    except UserModelError as e:
        raise UserModelError(f"--model-code {spec}: {e}", e.details) from None
    if weights is not None:
        load_weights(model, weights)
    return model


def _parse(spec: str) -> tuple[Path, str]:
    file, sep, name = spec.rpartition(":")
    if not sep or not file or not name.isidentifier():
        raise ExplorerError(f"--model-code {spec!r}: expected FILE.py:NAME, e.g. my_model.py:Autoencoder")
    path = Path(file).expanduser()
    if path.suffix != ".py":
        raise ExplorerError(f"--model-code {spec}: {path.name} is not a Python file (.py)")
    if not path.is_file():
        raise ExplorerError(f"--model-code {spec}: {path} not found")
    return path.resolve(), name


def _import(path: Path):
    """Run the file as a module of its own (named by its path, so two files called model.py do not clash)."""
    module_name = f"explorer_user_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses and pickling-free tools look the module up here
    sys.path.insert(0, str(path.parent))  # so the file can import its neighbours, as when run directly
    try:
        Guard(path.name).call(spec.loader.exec_module, module, what="importing it")
    except UserModelError as e:
        sys.modules.pop(module_name, None)
        raise UserModelError(f"{path}: {e}", e.details) from None
    finally:
        sys.path.remove(str(path.parent))
    return module


def load_weights(model, weights: str) -> None:
    """Load a .safetensors state dict into `model` (an nn.Module, or an (encoder, decoder) pair of them)."""
    path = Path(weights).expanduser()
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ExplorerError(f"--weights {path}: refused: {path.suffix} files are Python pickles, and unpickling can "
                            f"run any code; save the weights with safetensors.torch.save_file(model.state_dict(), "
                            f"'{path.stem}.safetensors')")
    target = _module_of(model)
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        state = load_file(str(path))
    except FileNotFoundError:
        raise ExplorerError(f"--weights {path}: not found") from None
    except (SafetensorError, OSError, ValueError) as e:
        raise ExplorerError(f"--weights {path}: not a readable .safetensors file ({e})") from None
    try:
        target.load_state_dict(state, strict=True)
    except RuntimeError as e:  # missing/unexpected keys, shape mismatches: torch lists them on separate lines
        detail = " ".join(line.strip() for line in str(e).splitlines()[1:4])
        raise ExplorerError(f"--weights {path}: does not fit the model: {detail}") from None


def _module_of(model) -> nn.Module:
    if isinstance(model, nn.Module):
        return model
    if isinstance(model, (tuple, list)) and all(isinstance(m, nn.Module) for m in model):
        return nn.ModuleList(model)
    raise ExplorerError(f"--weights: the model is a {type(model).__name__}, not an nn.Module, so there is "
                        f"nothing to load weights into")
