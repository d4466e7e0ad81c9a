"""Where a command's model and images come from when they are not ours: `--model-code FILE.py:NAME`
with `--weights`, and `--data FILE.npz|FOLDER` (or a torchvision dataset). The CLI's glue, kept apart
so that commands.py stays a list of commands."""

from __future__ import annotations

import sys

import torch

from explorer.cli import progress
from explorer.data.datasets import Split, load_split
from explorer.data.limits import DATASETS
from explorer.engine import coding, user_code
from explorer.engine.checkpoint import checkpoint_of
from explorer.engine.models.adapters import adapt
from explorer.latent import metrics
from explorer.utils.errors import ExplorerError

__all__ = ["images", "model_from_code", "evaluate", "checkpoint_of", "inputs", "open_encoder",
           "open_with_stats", "test_split", "data", "from_code"]


def images(data: str | None, dataset: str, split: str, data_dir=None, progress=None, meta: dict | None = None) -> Split:
    """--data's images (an .npz or a class folder), else the split of a torchvision dataset under --data-dir;
    for a model trained on the user's images (`meta` says which), a message naming them."""
    from explorer.data import user_files

    if data:
        return user_files.load_data(data)
    if dataset not in DATASETS:
        raise ExplorerError(user_files.pass_data(dataset, meta))
    return load_split(dataset, split, data_dir, progress=progress)


def model_from_code(spec: str, weights: str | None, data: Split | None, output: str = "auto",
                    latent_dim: int | None = None):
    """The user's FILE.py:NAME as a LatentModel, probed on `data` (the images tell its latent size and
    image shape), or with `latent_dim`, a decoder alone probed with codes drawn from N(0, I)."""
    made = user_code.load_model(spec, weights)
    parts = {"encoder": made[0], "decoder": made[1]} if isinstance(made, tuple) and len(made) == 2 else {"model": made}
    name = spec.rpartition(":")[2]
    if latent_dim:
        codes = torch.randn(64, latent_dim, generator=torch.Generator().manual_seed(0))
        return adapt(decoder=parts.get("decoder") or parts["model"], codes=codes, output=output, name=name)
    return adapt(**parts, images=data.images, output=output, name=name)


def evaluate(model, test: Split) -> dict:
    """What applies to a model we did not train: reconstruction error, and the 5-NN accuracy of its codes
    (the data's first half as the reference, the rest as queries) when the images are labelled."""
    result = {"kind": model.kind, "latent_dim": model.latent_dim, "image_shape": list(model.image_shape),
              "decoder_output": model.output, "test_images": len(test)}
    result.update(metrics.reconstruction(model, test))
    if len(test.classes) > 1 and len(test) >= 10:
        z, y, half = coding.embed(model, test.images), test.labels.numpy(), len(test) // 2
        result["knn5_accuracy"] = metrics.knn_accuracy(z[:half], y[:half], z[half:], y[half:])
    return result


# --- what a command reads, from its arguments ---------------------------------------------------------


INPUTS = ("checkpoint", "classifier", "model_code", "weights", "data")  # the arguments that name what is read


def inputs(args) -> list:
    """The files and folders a command reads, from its arguments: the one list every command checks its
    --out against (files.check_target), so no output replaces or lands inside one of them."""
    found = [getattr(args, name, None) for name in INPUTS]
    if found[2]:  # --model-code FILE.py:NAME reads FILE.py
        found[2] = found[2].rpartition(":")[0] or found[2]
    return found


def open_encoder(args, split_name: str = "test"):
    if args.model_code:
        ckpt, split = from_code(args, split_name)
    else:
        from explorer.engine import checkpoint

        ckpt = checkpoint.load(args.checkpoint, expect="latent")
        split = data(args, ckpt.meta.get("dataset", "mnist"), split_name, ckpt.meta)
    if not ckpt.model.has_encoder:
        raise ExplorerError(f"{args.checkpoint or args.model_code}: this model has no encoder, so it cannot embed images")
    return ckpt, split


def open_with_stats(args):
    """(checkpoint, test split or None): the checkpoint's latent statistics are filled in from the test
    embeddings when the file has none (older files, your own models); the split is returned when that,
    or --model-code's probe, read it, so that no command reads it twice."""
    from explorer.engine import checkpoint

    if args.model_code:
        ckpt, test = from_code(args)
    else:
        ckpt = checkpoint.load(args.checkpoint, expect="latent")
        test = None
    if ckpt.stats is None:
        needs_data = ckpt.model.has_encoder and ckpt.model.kind != "gan"
        if needs_data and test is None:
            test = test_split(args, ckpt)
        ckpt.stats = coding.infer_stats(ckpt.model, *(test.images, test.labels) if needs_data else ())
    return ckpt, test


def test_split(args, ckpt):
    """The images a command lays out or measures a checkpoint on: --data's, else its dataset's test split."""
    return data(args, ckpt.meta.get("dataset", "mnist"), "test", ckpt.meta)


def data(args, dataset: str, split_name: str, meta: dict | None = None):
    """--data's images, else the split of a torchvision dataset under --data-dir (`meta`: the checkpoint's)."""
    return images(getattr(args, "data", None), dataset, split_name, args.data_dir, progress.download_bar(), meta)


def from_code(args, split_name: str = "test"):
    """(checkpoint holding the adapted --model-code model, its data): the data are read first, as the probe."""
    alone = args.latent_dim and not args.data  # a decoder alone is probed with codes: no images to read
    split = None if alone else data(args, args.dataset or "mnist", split_name)
    model = model_from_code(args.model_code, args.weights, split, args.output, args.latent_dim)
    print(f"{model.name}: {model.describe()}", file=sys.stderr)
    return checkpoint_of(model, split.dataset if split else "codes"), split
