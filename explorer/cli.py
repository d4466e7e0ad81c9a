"""Command line: `explorer [gui|train|embed|grid|path|evaluate|bench] ...`.

Every user error ends as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

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

    def ckpt_arg(p):
        p.add_argument("--checkpoint", required=True, type=find, metavar="PATH",
                       help="a .safetensors checkpoint, or the name of a shipped one (vae-2d-mlp, ...)")

    def plane_args(p):
        p.add_argument("--axes", nargs=2, type=_int_from(1, MAX_LATENT_DIM), default=(1, 2), metavar=("I", "J"),
                       help="for latent dim > 2: which principal axes span the plane (default 1 2)")
        p.add_argument("--label", type=_int_from(0, 9), help="for a conditional VAE: the digit to decode (default 0)")
        p.add_argument("--scale", type=_int_from(1, 16), default=1, help="enlarge each pixel N times (default 1)")

    p = sub.add_parser("gui", help="open the explorer window (the default)")
    p.add_argument("--checkpoint", type=find, metavar="PATH",
                   help="model to open: a file or a shipped model's name (default: the shipped 2-d VAE)")
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
    data_args(p)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--seed", type=_int_from(0, MAX_SEED), default=0)
    p.add_argument("--compile", action="store_true", help="torch.compile the model first")
    p.add_argument("--weights-dtype", choices=("float32", "float16", "bfloat16"), default="float32",
                   help="how the weights are stored in the file (float16 halves it)")
    p.add_argument("--out", required=True, metavar="FILE.safetensors")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("embed", help="write the latent codes of a split to .npz (arrays z and labels) or .csv "
                                     "(columns z1..zd, label)")
    ckpt_arg(p)
    p.add_argument("--split", choices=("train", "test"), default="test")
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
    data_args(p)
    p.add_argument("--out", required=True, metavar="FILE.png|FILE.gif")
    p.set_defaults(run=cmd_path)

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

    return run(checkpoint=args.checkpoint, data_dir=args.data_dir)


def cmd_train(args) -> int:
    from explorer import checkpoint
    from explorer.files import check_target, claim

    out = check_target(args.out, (checkpoint.SUFFIX,))  # fail before training, not after
    with claim(out):  # a second run on the same --out is refused now, not both reported saved
        return _train_into(out, args)


def _train_into(out: Path, args) -> int:
    import torch

    from explorer import checkpoint, latent
    from explorer.config import ModelConfig, TrainConfig
    from explorer.data import downloads_allowed, load_split
    from explorer.interrupts import StopRequests
    from explorer.models import Classifier, build_model
    from explorer.rescue import LastEpoch, save_or_rescue
    from explorer.training import defaults_for, resolve_device, run_meta, train

    resolve_device(args.device)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         device=args.device, dataset=args.dataset, compile=args.compile)
    if args.model == "classifier":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.seed)
            model = Classifier()
    else:
        model = build_model(ModelConfig(kind=args.model, arch=args.arch, latent_dim=args.latent_dim,
                                        beta=args.beta, inversion=not args.no_inversion), seed=args.seed)
    asked = downloads_allowed()  # naming --dataset asks for it
    train_split = load_split(args.dataset, "train", args.data_dir, download=asked, progress=_download_bar())
    test_split = load_split(args.dataset, "test", args.data_dir, download=asked, progress=_download_bar())
    config.check_data(args.model, len(train_split), len(test_split))  # refused now, not after the training
    what = "a digit classifier" if args.model == "classifier" else model.config.describe()
    print(f"training {what} on "
          f"{count(len(train_split), args.dataset + ' image')}, {count(args.epochs, 'epoch')}; Ctrl-C, SIGTERM or "
          f"SIGHUP stops after saving the last complete epoch", file=sys.stderr)
    kept = LastEpoch(model, _progress_bar())
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
        meta = run_meta(train_split.images, args.dataset, config, result)
        if args.model == "classifier":
            meta["test_accuracy"] = _accuracy(model, test_split)
        path = save_or_rescue(out, lambda to: checkpoint.save(to, model, meta, stats, weights_dtype=args.weights_dtype))
    print(f"saved {path} ({result.status}, {count(result.epochs_done, 'epoch')}, {result.seconds:.1f} s)", file=sys.stderr)
    return 0 if result.status == "finished" else 1


def cmd_embed(args) -> int:
    import numpy as np

    from explorer import latent
    from explorer.files import atomic_write, check_target

    out = check_target(args.out, (".npz", ".csv"), _inputs(args))  # fail before the work, not after
    ckpt, split = _open(args, args.split)
    z = latent.embed(ckpt.model, split.images, split.labels)
    buf = io.BytesIO()
    if out.suffix.lower() == ".csv":
        names = ",".join([*(f"z{i + 1}" for i in range(z.shape[1])), "label"])
        table = np.column_stack([z, split.labels.numpy()])
        np.savetxt(buf, table, fmt=["%.9g"] * z.shape[1] + ["%d"], delimiter=",", header=names, comments="")
    else:
        np.savez(buf, z=z, labels=split.labels.numpy())
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
    bounds = latent.check_bounds(args.range) if args.range else stats.bounds
    image = export.grid_image(ckpt.model, _plane(stats, args), args.n, bounds, _label(ckpt, args))
    export.save_png(args.out, image, args.scale)
    print(f"wrote a {args.n}x{args.n} grid over x {bounds[0]:.3g}..{bounds[1]:.3g}, y {bounds[2]:.3g}..{bounds[3]:.3g} "
          f"to {args.out}", file=sys.stderr)
    return 0


def cmd_path(args) -> int:
    from explorer import export
    from explorer.files import check_target

    check_target(args.out, (".png", ".gif"), _inputs(args))
    ckpt, stats = _open_with_stats(args)
    frames = export.path_frames(ckpt.model, _plane(stats, args), [args.start, args.end], args.steps,
                                args.slerp, _label(ckpt, args))
    export.save_strip(args.out, frames, args.scale, args.fps)
    print(f"wrote {args.steps} decodes to {args.out}", file=sys.stderr)
    return 0


def cmd_evaluate(args) -> int:
    from explorer import checkpoint, metrics, trained
    from explorer.data import load_split

    ckpt = checkpoint.load(args.checkpoint, expect="latent")
    dataset = ckpt.meta.get("dataset", "mnist")
    classifier_file = args.classifier or (trained.classifier_path() if dataset == "mnist" else None)
    classifier = checkpoint.load(classifier_file, expect="classifier").model if classifier_file else None
    test = load_split(dataset, "test", args.data_dir)
    train = load_split(dataset, "train", args.data_dir) if ckpt.model.has_encoder else None
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

    return run(args)


def _open(args, split_name: str = "test"):
    from explorer import checkpoint
    from explorer.data import load_split

    ckpt = checkpoint.load(args.checkpoint, expect="latent")
    split = load_split(ckpt.meta.get("dataset", "mnist"), split_name, args.data_dir)
    if not ckpt.model.has_encoder:
        raise ExplorerError(f"{args.checkpoint}: this model has no encoder, so it cannot embed images")
    return ckpt, split


def _open_with_stats(args):
    """Checkpoint and its latent statistics, from the file or (older files) from the test embeddings."""
    from explorer import checkpoint, latent
    from explorer.data import load_split

    ckpt = checkpoint.load(args.checkpoint, expect="latent")
    if ckpt.stats is None:
        needs_data = ckpt.model.has_encoder and ckpt.model.kind != "gan"
        test = load_split(ckpt.meta.get("dataset", "mnist"), "test", args.data_dir) if needs_data else None
        ckpt.stats = latent.infer_stats(ckpt.model, *(test.images, test.labels) if test else ())
    return ckpt, ckpt.stats


def _plane(stats, args):
    i, j = args.axes
    return stats.plane(i - 1, j - 1)


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
