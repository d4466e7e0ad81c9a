"""Command line: `explorer [gui|train|embed|grid|path|evaluate|bench] ...`.

Every user error ends as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import dataclasses
import io
import json
import signal
import sys
import time
from pathlib import Path

from explorer import __version__
from explorer.arguments import EXIT_ERROR
from explorer.arguments import Parser as _Parser
from explorer.arguments import finite as _finite
from explorer.arguments import int_from as _int_from
from explorer.arguments import non_negative as _non_negative
from explorer.arguments import positive as _positive
from explorer.errors import ExplorerError
from explorer.wording import count


def build_parser() -> _Parser:
    from explorer.config import ARCHS, MAX_BATCH, MAX_EPOCHS, MAX_LATENT_DIM, MAX_SEED, MODEL_KINDS, TrainConfig
    from explorer.data import DATASETS
    from explorer.latent import MAX_GRID, MAX_STEPS
    from explorer.trained import find

    parser = _Parser(prog="explorer", description="Explore the latent spaces of generative models trained on MNIST.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def data_args(p):
        p.add_argument("--data-dir", metavar="DIR",
                       help="torchvision root holding MNIST/raw/... (default: $EXPLORER_DATA_DIR, else a cache "
                            "folder; downloaded there when missing unless EXPLORER_NO_DOWNLOAD=1)")

    def ckpt_arg(p, required=True):  # --checkpoint, or --model-code with what goes with it
        from explorer.sources import add_arguments

        add_arguments(p, required, _int_from(2, MAX_LATENT_DIM), tuple(DATASETS))

    def plane_args(p):
        p.add_argument("--axes", nargs=2, type=_int_from(1, MAX_LATENT_DIM), default=(1, 2), metavar=("I", "J"),
                       help="for latent dim > 2: which principal axes span the plane (default 1 2)")
        p.add_argument("--label", type=_int_from(0, 9), help="for a conditional VAE: the digit to decode (default 0)")
        p.add_argument("--scale", type=_int_from(1, 16), default=1, help="enlarge each pixel N times (default 1)")

    def map_arg(p):
        p.add_argument("--map", choices=("pca", "umap", "tsne"), default="pca",
                       help="pca: the exact principal-axes plane (default); umap or tsne: a layout of the test "
                            "codes decoded through a learned inverse, exact on the data only (needs "
                            "pip install 'latent-explorer[maps]'; built once per model, then cached)")

    p = sub.add_parser("gui", help="open the explorer window (the default)")
    ckpt_arg(p, required=False)  # default: the shipped 2-d VAE
    data_args(p)
    p.set_defaults(run=cmd_gui)

    p = sub.add_parser("train", help="train a model and save it as a checkpoint")
    p.add_argument("--model", choices=(*MODEL_KINDS, "classifier"), default="vae")
    p.add_argument("--arch", choices=ARCHS, default="mlp")
    p.add_argument("--latent-dim", type=_int_from(2, MAX_LATENT_DIM), default=2)
    p.add_argument("--epochs", type=_int_from(1, MAX_EPOCHS), default=TrainConfig.epochs)
    p.add_argument("--batch-size", type=_int_from(1, MAX_BATCH), help="default: per model kind (AE/VAE 256, GAN 128)")
    p.add_argument("--lr", type=_positive, help="learning rate (default: per model kind)")
    p.add_argument("--beta", type=_non_negative, default=1.0, help="weight of the VAE's KL term (default 1)")
    p.add_argument("--no-inversion", action="store_true", help="GAN: do not fit an inversion encoder")
    p.add_argument("--dataset", choices=tuple(DATASETS), default="mnist")
    p.add_argument("--data", metavar="FILE.npz|FOLDER",
                   help="train on your own images instead: an .npz with 'images' (optional 'labels', 'classes') or "
                        "a folder with one subfolder of images per class; the model takes their channels and size")
    data_args(p)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--seed", type=_int_from(0, MAX_SEED), default=0)
    p.add_argument("--compile", action="store_true", help="torch.compile the model first")
    p.add_argument("--weights-dtype", choices=("float32", "float16", "bfloat16"), default="float32",
                   help="how the weights are stored in the file (float16 halves it)")
    p.add_argument("--out", required=True, metavar="FILE.safetensors")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("embed", help="write the latent codes of a split and their map positions to .npz "
                                     "(arrays z, uv and labels) or .csv (columns z1..zd, u, v, label)")
    ckpt_arg(p)
    p.add_argument("--split", choices=("train", "test"), default="test")
    p.add_argument("--map", choices=("pca", "umap", "tsne"),
                   help="also write each code's map position (u, v): on the principal-axes plane (pca, with "
                        "--axes), or in a UMAP or t-SNE layout of the split's codes")
    p.add_argument("--axes", nargs=2, type=_int_from(1, MAX_LATENT_DIM), default=(1, 2), metavar=("I", "J"),
                   help="with --map pca and latent dim > 2: which principal axes give u and v (default 1 2)")
    p.add_argument("--epoch", type=_int_from(1, MAX_EPOCHS), metavar="K",
                   help="the codes after epoch K of training instead, for the test images its timeline "
                        "followed (writes their test-split numbers as `index`)")
    data_args(p)
    p.add_argument("--out", required=True, metavar="FILE.npz|FILE.csv")
    p.set_defaults(run=cmd_embed)

    p = sub.add_parser(
        "grid", help="decode an n x n grid of latent points to one image",
        description="Decode an n x n grid over a rectangle of the map; row 0 (top) is the largest y. For a "
                    "latent dim > 2 the map is the plane through the mean of the test embeddings spanned by "
                    "their first two principal axes (or --axes I J); each grid point is decoded as the full "
                    "latent vector on that plane.")
    ckpt_arg(p)
    p.add_argument("--n", type=_int_from(1, MAX_GRID), default=12, help="cells per side (default 12)")
    p.add_argument("--range", nargs=4, type=_finite, metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
                   help="default: where the test data lies")
    plane_args(p)
    map_arg(p)
    data_args(p)
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(run=cmd_grid)

    p = sub.add_parser("path", help="decode evenly spaced points between two map points to a strip or GIF",
                       description="Decode --steps points from --from to --to (map coordinates; for latent dim > 2, "
                                   "on the principal-axes plane, see `explorer grid --help`).")
    ckpt_arg(p)
    p.add_argument("--from", dest="start", nargs=2, type=_finite, required=True, metavar=("X", "Y"))
    p.add_argument("--to", dest="end", nargs=2, type=_finite, required=True, metavar=("X", "Y"))
    p.add_argument("--steps", type=_int_from(1, MAX_STEPS), default=10)
    p.add_argument("--slerp", action="store_true", help="spherical interpolation between the two full codes")
    p.add_argument("--fps", type=_positive, default=10.0, help="GIF frames per second (default 10)")
    plane_args(p)
    map_arg(p)
    data_args(p)
    p.add_argument("--out", required=True, metavar="FILE.png|FILE.gif")
    p.set_defaults(run=cmd_path)

    p = sub.add_parser("timeline", help="replay how the map formed during training: a GIF of the test images' "
                                        "map after each epoch (or one epoch as a PNG)")
    ckpt_arg(p)
    p.add_argument("--epoch", type=_int_from(1, MAX_EPOCHS), metavar="K", help="only the map after epoch K (for a PNG)")
    p.add_argument("--size", type=_int_from(120, 2048), default=480, help="map size in pixels (default 480)")
    p.add_argument("--fps", type=_positive, default=4.0, help="GIF frames per second (default 4)")
    data_args(p)
    p.add_argument("--out", required=True, metavar="FILE.gif|FILE.png")
    p.set_defaults(run=cmd_timeline)

    p = sub.add_parser("evaluate", help="print test-split quality figures as JSON")
    ckpt_arg(p)
    p.add_argument("--classifier", type=find, metavar="PATH",
                   help="classifier for decodability and the GAN's Frechet distance (default: the shipped one, "
                        "for MNIST models)")
    data_args(p)
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("download", help="fetch a dataset's train and test splits into the data folder")
    p.add_argument("--dataset", choices=tuple(DATASETS), default="mnist")
    data_args(p)
    p.set_defaults(run=cmd_download)

    p = sub.add_parser("bench", help="measure speed and quality on this machine")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--quick", action="store_true",
                   help="about a minute: compare with the tutorial's 3-epoch loss, fewer decode calls")
    p.add_argument("--only", nargs="+", metavar="PART", help="run only these parts (see the table)")
    data_args(p)
    p.set_defaults(run=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    from explorer.interrupts import Terminated, raise_terminated

    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(_with_command(argv))
    # SIGTERM and SIGHUP unwind like Ctrl-C, so no command leaves a temp file or a partial download
    # (the window keeps Qt's own handling)
    terminate = (signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))
    previous = {} if args.command == "gui" else {s: signal.signal(s, raise_terminated) for s in terminate
                                                 if signal.getsignal(s) is not None}
    try:
        return args.run(args) or 0
    except ExplorerError as e:
        print(f"explorer: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except Terminated as e:
        print(f"explorer: stopped by {e}", file=sys.stderr)
        return 128 + e.signum
    except KeyboardInterrupt:
        print("explorer: interrupted", file=sys.stderr)
        return 130
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _with_command(argv: list[str]) -> list[str]:
    """`explorer --data-dir DIR` is `explorer gui --data-dir DIR`: options without a command go to the window."""
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help", "--version")):
        return ["gui", *argv]
    return argv


def cmd_gui(args) -> int:
    from explorer.gui.app import run

    if not args.model_code and not args.data:
        return run(checkpoint=args.checkpoint, data_dir=args.data_dir)
    # loaded here, so a bad file or model is one line before any window opens; the window takes them as they are
    model, data = None, None
    if args.model_code:
        ckpt, data = _source(args)
        model = ckpt.model
    else:
        data = _data(args, "mnist", "test")
    return run(checkpoint=args.checkpoint, data_dir=args.data_dir, model=model, data=data)


def cmd_train(args) -> int:
    from explorer import checkpoint
    from explorer.files import check_target, claim

    out = check_target(args.out, (checkpoint.SUFFIX,))  # fail before training, not after
    with claim(out):  # a second run on the same --out is refused now, not both reported saved
        return _train_into(out, args)


def _train_into(out: Path, args) -> int:
    import torch

    from explorer import checkpoint, latent, timeline
    from explorer.config import ModelConfig, TrainConfig
    from explorer.data import downloads_allowed, load_split
    from explorer.interrupts import StopRequests
    from explorer.models import Classifier, build_model
    from explorer.rescue import LastEpoch, save_or_rescue
    from explorer.training import defaults_for, resolve_device, run_meta, train

    resolve_device(args.device)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         device=args.device, dataset=args.dataset, compile=args.compile)
    if args.data:
        train_split = test_split = _data(args, args.dataset, "train")
        config = dataclasses.replace(config, dataset=train_split.dataset)
    else:
        asked = downloads_allowed()  # naming --dataset asks for it
        train_split = load_split(args.dataset, "train", args.data_dir, download=asked, progress=_download_bar())
        test_split = load_split(args.dataset, "test", args.data_dir, download=asked, progress=_download_bar())
    config.check_data(args.model, len(train_split), len(test_split))  # refused now, not after the training
    if args.model == "classifier":
        if args.data:
            raise ExplorerError("--data: the digit classifier trains on MNIST-like datasets only (--dataset)")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.seed)
            model = Classifier()
    else:
        extra = {"num_classes": len(train_split.classes)} if args.data and args.model == "cvae" else {}
        if extra and train_split.classes == ("unlabelled",):
            raise ExplorerError(f"--data {args.data}: a conditional VAE needs labelled images (a class per image)")
        model = build_model(ModelConfig(kind=args.model, arch=args.arch, latent_dim=args.latent_dim,
                                        beta=args.beta, inversion=not args.no_inversion,
                                        image_shape=tuple(latent.to_input(train_split.images[:1]).shape[1:]), **extra),
                            seed=args.seed)
    what = "a digit classifier" if args.model == "classifier" else model.config.describe()
    print(f"training {what} on "
          f"{count(len(train_split), config.dataset + ' image')}, {count(args.epochs, 'epoch')}; Ctrl-C, SIGTERM or "
          f"SIGHUP stops after saving the last complete epoch", file=sys.stderr)
    bar = _progress_bar()
    recorder = timeline.Recorder(model, test_split.images, test_split.labels) if args.model in ("ae", "vae", "cvae") else None

    def on_progress(p):
        bar(p)
        if recorder is not None:
            recorder(p)

    kept = LastEpoch(model, on_progress)
    with StopRequests() as stop:
        try:
            result = train(model, train_split.images, config, labels=train_split.labels,
                           callback=kept, should_stop=lambda: stop.requested)
        except (ExplorerError, RuntimeError, MemoryError) as e:  # not Ctrl-C twice: that is the way out unsaved
            arch = args.arch if args.model != "classifier" else "mlp"
            result = kept.result_after(e, *defaults_for(args.model, config, arch), resolve_device(args.device).type)
            if result is None:
                raise
        stop.saving()  # from here a signal waits: the statistics and the file take seconds, the run took longer
        if result.message:
            print(result.message, file=sys.stderr)
        if result.epochs_done == 0:
            raise ExplorerError(f"no epoch completed, nothing saved to {out}")
        model.cpu()
        stats = None if args.model == "classifier" else latent.infer_stats(model, test_split.images, test_split.labels)
        meta = run_meta(train_split.images, config.dataset, config, result)
        if args.model == "classifier":
            meta["test_accuracy"] = _accuracy(model, test_split)
        recorded = recorder.timeline(result.epochs_done) if recorder is not None else None
        path = save_or_rescue(out, lambda to: checkpoint.save(to, model, meta, stats, weights_dtype=args.weights_dtype,
                                                              timeline=recorded))
    print(f"saved {path} ({result.status}, {count(result.epochs_done, 'epoch')}, {result.seconds:.1f} s)", file=sys.stderr)
    return 0 if result.status == "finished" else 1


def cmd_embed(args) -> int:
    import numpy as np

    from explorer import latent
    from explorer.files import atomic_write, check_target

    out = check_target(args.out, (".npz", ".csv"), _inputs(args))  # fail before the work, not after
    ckpt, split = _open(args, args.split)
    index = None
    if args.epoch is not None:
        recorded = _timeline(ckpt, args, split)
        if args.split != "test":
            raise ExplorerError("the training timeline follows test images; leave out --split or use --split test")
        index, z = recorded.index, recorded.after(args.epoch)
        labels = split.labels.numpy()[index]
    else:
        z, labels = latent.embed(ckpt.model, split.images, split.labels), split.labels.numpy()
    columns = {} if index is None else {"index": index}
    columns.update({f"z{i + 1}": z[:, i] for i in range(z.shape[1])})
    if args.map == "pca" and index is not None:
        columns["u"], columns["v"] = recorded.positions(_plane(ckpt.stats, args) if ckpt.stats else None)[args.epoch - 1].T
    elif args.map == "pca":
        columns["u"], columns["v"] = _plane(ckpt.stats or latent.stats_from_embeddings(z), args).project(z).T
    elif args.map:
        columns["u"], columns["v"] = _learned_map(args, z).uv.T
    buf = io.BytesIO()
    if out.suffix.lower() == ".csv":
        table = np.column_stack([*columns.values(), labels])
        np.savetxt(buf, table, fmt=[("%d" if name == "index" else "%.9g") for name in columns] + ["%d"], delimiter=",",
                   header=",".join([*columns, "label"]), comments="")
    else:
        arrays = {"uv": np.column_stack([columns["u"], columns["v"]])} if args.map else {}
        if index is not None:
            arrays["index"] = index
        np.savez(buf, z=z, **arrays, labels=labels)
    atomic_write(out, lambda f: f.write(buf.getvalue()), (".npz", ".csv"))
    print(f"wrote {len(z):,} codes of {z.shape[1]} dimensions to {args.out}", file=sys.stderr)
    return 0


def _inputs(args) -> list:
    """The files a command reads: its --out may not be one of them."""
    return [getattr(args, name, None) for name in ("checkpoint", "classifier", "model_code")]


def cmd_grid(args) -> int:
    from explorer import export, latent
    from explorer.files import check_target

    check_target(args.out, (".png",), _inputs(args))  # fail before the work, not after
    ckpt, stats = _open_with_stats(args)
    surface = _surface(ckpt, stats, args)
    bounds = latent.check_bounds(args.range) if args.range else getattr(surface, "bounds", stats.bounds)
    image = export.grid_image(ckpt.model, surface, args.n, bounds, _label(ckpt, args))
    export.save_png(args.out, image, args.scale)
    print(f"wrote a {args.n}x{args.n} grid over x {bounds[0]:.3g}..{bounds[1]:.3g}, y {bounds[2]:.3g}..{bounds[3]:.3g} "
          f"to {args.out}", file=sys.stderr)
    return 0


def cmd_path(args) -> int:
    from explorer import export
    from explorer.files import check_target

    check_target(args.out, (".png", ".gif"), _inputs(args))
    ckpt, stats = _open_with_stats(args)
    frames = export.path_frames(ckpt.model, _surface(ckpt, stats, args), [args.start, args.end], args.steps,
                                args.slerp, _label(ckpt, args))
    export.save_strip(args.out, frames, args.scale, args.fps)
    print(f"wrote {args.steps} decodes to {args.out}", file=sys.stderr)
    return 0


def cmd_timeline(args) -> int:
    from explorer import checkpoint, export, timeline
    from explorer.data import load_split
    from explorer.files import check_target

    out = check_target(args.out, (".gif", ".png"))
    ckpt = checkpoint.load(args.checkpoint, expect="latent")
    test = load_split(ckpt.meta.get("dataset", "mnist"), "test", args.data_dir)
    recorded = _timeline(ckpt, args, test)
    labels, plane = test.labels.numpy()[recorded.index], ckpt.stats.plane() if ckpt.stats else None
    if args.epoch:
        recorded.after(args.epoch)  # a clear error for an epoch the run did not reach
        export.save_png(out, timeline.replay(recorded, labels, ckpt.name, plane, args.size, [args.epoch], test.classes)[0])
    else:
        timeline.save_replay(out, recorded, labels, ckpt.name, plane, args.size, args.fps, test.classes)
    print(f"wrote the map after {'epoch ' + str(args.epoch) if args.epoch else f'each of {recorded.epochs} epochs'} "
          f"to {args.out}", file=sys.stderr)
    return 0


def _timeline(ckpt, args, test):
    """The checkpoint's training timeline, checked against the test split it indexes."""
    if ckpt.timeline is None:
        raise ExplorerError(f"{args.checkpoint}: no training timeline in this file (it records the map after each "
                            f"epoch for AEs and VAEs trained by this version)")
    if ckpt.timeline.index.max() >= len(test):
        raise ExplorerError(f"{args.checkpoint}: its timeline follows test images up to number "
                            f"{ckpt.timeline.index.max()}, but this test split has {len(test):,}")
    return ckpt.timeline


def cmd_evaluate(args) -> int:
    from explorer import checkpoint, metrics, trained

    if args.model_code:
        from explorer.sources import evaluate

        ckpt, test = _open(args)
        print(json.dumps({"model": args.model_code, **evaluate(ckpt.model, test)}, indent=2))
        return 0
    ckpt = checkpoint.load(args.checkpoint, expect="latent")
    dataset = ckpt.meta.get("dataset", "mnist")
    classifier_file = args.classifier or (trained.classifier_path() if dataset == "mnist" and not args.data else None)
    classifier = checkpoint.load(classifier_file, expect="classifier").model if classifier_file else None
    test = _data(args, dataset, "test")
    train = _data(args, dataset, "train") if ckpt.model.has_encoder and not args.data else None
    if ckpt.stats is None:
        from explorer.latent import infer_stats

        ckpt.stats = infer_stats(ckpt.model, test.images, test.labels)
    result = metrics.evaluate(ckpt, test, train, classifier)
    print(json.dumps(result, indent=2))
    return 0


def cmd_download(args) -> int:
    from explorer.data import data_root, load_split

    for split in ("train", "test"):
        load_split(args.dataset, split, args.data_dir, download=True, progress=_download_bar())
    print(f"{args.dataset}: train and test splits are in {data_root(args.data_dir)}", file=sys.stderr)
    return 0


def cmd_bench(args) -> int:
    from explorer.bench import run

    try:  # the window's parts (start-up, map) live beside the GUI; the core parts run without Qt
        from explorer.gui.bench import PARTS as gui_parts
    except ImportError as e:
        print(f"bench: no GUI parts ({e})", file=sys.stderr)
        gui_parts = {}
    return run(args, gui_parts)


def _open(args, split_name: str = "test"):
    if args.model_code:
        ckpt, split = _source(args, split_name)
    else:
        from explorer import checkpoint

        ckpt = checkpoint.load(args.checkpoint, expect="latent")
        split = _data(args, ckpt.meta.get("dataset", "mnist"), split_name)
    if not ckpt.model.has_encoder:
        raise ExplorerError(f"{args.checkpoint or args.model_code}: this model has no encoder, so it cannot embed images")
    return ckpt, split


def _open_with_stats(args):
    """Checkpoint and its latent statistics, from the file or (older files, your own models) from the
    test embeddings."""
    from explorer import checkpoint, latent

    if args.model_code:
        ckpt, test = _source(args)
    else:
        ckpt = checkpoint.load(args.checkpoint, expect="latent")
        test = None
    if ckpt.stats is None:
        needs_data = ckpt.model.has_encoder and ckpt.model.kind != "gan"
        if needs_data and test is None:
            test = _data(args, ckpt.meta.get("dataset", "mnist"), "test")
        ckpt.stats = latent.infer_stats(ckpt.model, *(test.images, test.labels) if needs_data else ())
    return ckpt, ckpt.stats


def _data(args, dataset: str, split_name: str):
    """--data's images, else the split of a torchvision dataset under --data-dir."""
    from explorer import sources

    return sources.images(getattr(args, "data", None), dataset, split_name, args.data_dir, _download_bar())


def _source(args, split_name: str = "test"):
    """(checkpoint holding the adapted --model-code model, its data): the data are read first, as the probe."""
    from explorer import sources

    alone = args.latent_dim and not args.data  # a decoder alone is probed with codes: no images to read
    split = None if alone else _data(args, args.dataset or "mnist", split_name)
    model = sources.model_from_code(args.model_code, args.weights, split, args.output, args.latent_dim)
    print(model.describe(), file=sys.stderr)
    return sources.checkpoint_of(model, split.dataset if split else "codes"), split


def _plane(stats, args):
    i, j = args.axes
    return stats.plane(i - 1, j - 1)


def _surface(ckpt, stats, args):
    """What map coordinates mean: the principal-axes plane, or a learned map of the test codes."""
    if args.map == "pca":
        return _plane(stats, args)
    from explorer import latent
    from explorer.data import load_split

    if not ckpt.model.has_encoder:
        raise ExplorerError(f"{args.checkpoint}: this model has no encoder, so there are no codes to lay out; "
                            f"use --map pca")
    test = load_split(ckpt.meta.get("dataset", "mnist"), "test", args.data_dir)
    return _learned_map(args, latent.embed(ckpt.model, test.images, test.labels))


def _learned_map(args, z):
    """The --map layout of codes z with its learned inverse (cached), its fit said on stderr."""
    from explorer import maps

    if tuple(args.axes) != (1, 2):
        raise ExplorerError("--axes applies only to --map pca")
    learned = maps.build(z, args.map, cache_dir=maps.default_cache_dir(), report=_fraction_bar(f"{args.map} map"))
    print(learned.describe(), file=sys.stderr)
    return learned


def _label(ckpt, args):
    if getattr(args, "label", None) is not None and not ckpt.model.conditional:
        raise ExplorerError("--label applies only to a conditional VAE")
    return (args.label or 0) if ckpt.model.conditional else None


def _accuracy(model, split) -> float:
    import torch

    from explorer.latent import to_input

    with torch.no_grad():
        predicted = torch.cat([model(to_input(split.images[s : s + 2000])).argmax(1) for s in range(0, len(split), 2000)])
    return float((predicted == split.labels).float().mean())


def _download_bar():
    def show(done, total, name):
        if total:
            print(f"\rdownloading {name}: {done / total:6.1%} of {total / 1e6:.1f} MB", end="", file=sys.stderr)
            if done >= total:
                print(file=sys.stderr)
    return show


def _fraction_bar(what: str, width: int = 24):
    """A bar for work that reports the fraction done (on a terminal; silent otherwise)."""
    tty = sys.stderr.isatty()

    def show(fraction: float):
        if tty:
            filled = int(width * fraction)
            print(f"\r{what}: [{'#' * filled}{'.' * (width - filled)}] {fraction:5.1%}",
                  end="\n" if fraction >= 1 else "", file=sys.stderr)
    return show


def _progress_bar(width: int = 24):
    """Per-step bar on a terminal; one line per epoch always."""
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(p):
        if p.note:
            print(f"\n{p.note}" if tty else p.note, file=sys.stderr)
            return
        terms = "  ".join(f"{k} {v:.4g}" for k, v in p.losses.items())
        if p.epoch_done:
            clear = f"\r{'':{width + 60}}\r" if tty else ""
            print(f"{clear}epoch {p.epoch:>3}/{p.epochs}  {terms}  ({p.seconds:.1f} s)", file=sys.stderr)
        elif tty and time.monotonic() - last[0] > 0.1:
            last[0] = time.monotonic()
            filled = int(width * p.fraction)
            eta = f"ETA {p.eta_seconds:.0f} s" if p.eta_seconds is not None else ""
            print(f"\r[{'#' * filled}{'.' * (width - filled)}] {p.fraction:5.1%}  {terms}  {eta}   ",
                  end="", file=sys.stderr)
    return show
