"""The commands that read a model's map: embed, grid, path and timeline (the CLI's parser sends them here).

Map coordinates are the principal-axes plane of the test codes (--axes), or with --map umap|tsne a
layout of those codes decoded through its learned inverse (explorer.latent.maps).
"""

from __future__ import annotations

import io
import sys

from explorer.cli import command_inputs, progress
from explorer.engine import coding
from explorer.latent import geometry, replay
from explorer.utils.errors import ExplorerError


def cmd_embed(args) -> int:
    import numpy as np

    from explorer.utils.files import atomic_write, check_target

    out = check_target(args.out, (".npz", ".csv"), command_inputs.inputs(args))  # fail before the work, not after
    if args.epoch is not None:
        _has_timeline(args)
    ckpt, split = command_inputs.open_encoder(args, args.split)
    index = None
    if args.epoch is not None:
        recorded = _timeline(ckpt, args, split)
        if args.split != "test":
            raise ExplorerError("the training timeline follows test images; leave out --split or use --split test")
        index, z = recorded.index, recorded.after(args.epoch)
        labels = split.labels.numpy()[index]
    else:
        z, labels = coding.embed(ckpt.model, split.images, split.labels), split.labels.numpy()
    broken = int((~np.isfinite(z)).any(axis=1).sum())
    if broken:  # a diverged checkpoint (the user's own model is refused where it returns them)
        raise ExplorerError(f"{args.checkpoint or args.model_code}: {broken:,} of {len(z):,} codes are NaN or "
                            f"infinite; nothing written to {args.out}")
    columns = {} if index is None else {"index": index}
    columns.update({f"z{i + 1}": z[:, i] for i in range(z.shape[1])})
    if args.map == "pca" and index is not None:
        columns["u"], columns["v"] = recorded.positions(_plane(ckpt.stats, args) if ckpt.stats else None)[args.epoch - 1].T
    elif args.map == "pca":
        columns["u"], columns["v"] = _plane(ckpt.stats or coding.stats_from_embeddings(z), args).project(z).T
    elif args.map:
        columns["u"], columns["v"] = _learned_map(args, z).uv.T
    buf = io.BytesIO()
    classes = np.array(split.classes)
    named = list(split.classes) != [str(k) for k in range(len(split.classes))]  # names that are not the numbers
    if out.suffix.lower() == ".csv":
        table = np.column_stack([*columns.values(), labels])
        fmt = [("%d" if name == "index" else "%.9g") for name in columns] + ["%d"]
        header = [*columns, "label"]
        if named:  # the class's name beside its number, quoted where it holds a comma or a quote
            table = np.column_stack([table.astype(object), [_csv_text(c) for c in classes[labels]]])
            fmt, header = fmt + ["%s"], header + ["class"]
        np.savetxt(buf, table, fmt=fmt, delimiter=",", header=",".join(header), comments="")
    else:
        arrays = {"uv": np.column_stack([columns["u"], columns["v"]])} if args.map else {}
        if index is not None:
            arrays["index"] = index
        np.savez(buf, z=z, **arrays, labels=labels, classes=classes)
    atomic_write(out, lambda f: f.write(buf.getvalue()), (".npz", ".csv"))
    print(f"wrote {len(z):,} codes of {z.shape[1]} dimensions to {args.out}", file=sys.stderr)
    return 0


def _csv_text(text: str) -> str:
    return f'"{text.replace(chr(34), chr(34) * 2)}"' if any(c in text for c in ',"\n\r') else text


def cmd_grid(args) -> int:
    from explorer.latent import export
    from explorer.utils.files import check_target

    check_target(args.out, (".png",), command_inputs.inputs(args))  # fail before the work, not after
    ckpt, test = command_inputs.open_with_stats(args)
    surface = _surface(ckpt, test, args)
    bounds = geometry.check_bounds(args.range) if args.range else export.grid_bounds(surface, ckpt.stats)
    image = export.grid_image(ckpt.model, surface, args.n, bounds, _label(ckpt, args))
    export.save_png(args.out, image, args.scale)
    print(f"wrote a {args.n}x{args.n} grid over x {bounds[0]:.3g}..{bounds[1]:.3g}, y {bounds[2]:.3g}..{bounds[3]:.3g} "
          f"to {args.out}", file=sys.stderr)
    return 0


def cmd_path(args) -> int:
    from explorer.latent import export
    from explorer.utils.files import check_target

    check_target(args.out, (".png", ".gif"), command_inputs.inputs(args))
    ckpt, test = command_inputs.open_with_stats(args)
    frames = export.path_frames(ckpt.model, _surface(ckpt, test, args), [args.start, args.end], args.steps,
                                args.slerp, _label(ckpt, args))
    export.save_strip(args.out, frames, args.scale, args.fps)
    print(f"wrote {args.steps} decodes to {args.out}", file=sys.stderr)
    return 0


def cmd_timeline(args) -> int:
    from explorer.engine import checkpoint
    from explorer.latent import export
    from explorer.utils.files import check_target

    out = check_target(args.out, (".gif", ".png"), command_inputs.inputs(args))
    _has_timeline(args)
    ckpt = checkpoint.load(args.checkpoint, expect="latent")
    test = command_inputs.test_split(args, ckpt)
    recorded = _timeline(ckpt, args, test)
    labels, plane = test.labels.numpy()[recorded.index], ckpt.stats.plane() if ckpt.stats else None
    if args.epoch:
        recorded.after(args.epoch)  # a clear error for an epoch the run did not reach
        export.save_png(out, replay.frames(recorded, labels, ckpt.name, plane, args.size, [args.epoch], test.classes)[0])
    else:
        replay.save(out, recorded, labels, ckpt.name, plane, args.size, args.fps, test.classes)
    print(f"wrote the map after {'epoch ' + str(args.epoch) if args.epoch else f'each of {recorded.epochs} epochs'} "
          f"to {args.out}", file=sys.stderr)
    return 0


def _has_timeline(args) -> None:
    """Refuse --model-code where a training timeline is needed (before their code runs)."""
    if args.model_code:
        raise ExplorerError(f"--model-code {args.model_code}: a timeline is the map after each epoch of a run this "
                            f"explorer trained, kept in its checkpoint; your own model has none (use --checkpoint)")


def _timeline(ckpt, args, test):
    """The checkpoint's training timeline, checked against the test split it indexes."""
    if ckpt.timeline is None:
        raise ExplorerError(f"{args.checkpoint}: no training timeline in this file (it records the map after each "
                            f"epoch for AEs and VAEs trained by this version)")
    if ckpt.timeline.index.max() >= len(test):
        raise ExplorerError(f"{args.checkpoint}: its timeline follows test images up to number "
                            f"{ckpt.timeline.index.max()}, but this test split has {len(test):,}")
    return ckpt.timeline


def _plane(stats, args):
    i, j = args.axes
    return stats.plane(i - 1, j - 1)


def _surface(ckpt, test, args):
    """What map coordinates mean: the principal-axes plane, or a learned map of the codes of the test
    images (--data's, if given; `test` if they were read already)."""
    if args.map == "pca":
        return _plane(ckpt.stats, args)
    if not ckpt.model.has_encoder:
        raise ExplorerError(f"{args.checkpoint or args.model_code}: this model has no encoder, so there are no "
                            f"codes to lay out; use --map pca")
    test = test if test is not None else command_inputs.test_split(args, ckpt)
    return _learned_map(args, coding.embed(ckpt.model, test.images, test.labels))


def _learned_map(args, z):
    """The --map layout of codes z with its learned inverse (cached), its fit said on stderr."""
    from explorer.latent import maps

    if tuple(args.axes) != (1, 2):
        raise ExplorerError("--axes applies only to --map pca")
    learned = maps.build(z, args.map, cache_dir=maps.default_cache_dir(), report=progress.fraction_bar(f"{args.map} map"))
    print(learned.describe(), file=sys.stderr)
    return learned


def _label(ckpt, args):
    if getattr(args, "label", None) is not None and not ckpt.model.conditional:
        raise ExplorerError("--label applies only to a conditional VAE")
    return (args.label or 0) if ckpt.model.conditional else None
