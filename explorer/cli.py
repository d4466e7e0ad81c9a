"""Command line: `explorer [gui|train|embed|grid|path|evaluate|bench] ...`.

Every user error ends as one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import signal
import sys
import time
from pathlib import Path

from explorer import __version__
from explorer.errors import ExplorerError

EXIT_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def _int_from(low: int, high: int | None = None):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{value} is out of range ({low} to {high})" if high else
                                             f"{value} must be at least {low}")
        return value
    return parse


def _finite(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _positive(text: str) -> float:
    value = _finite(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
    return value


def _non_negative(text: str) -> float:
    value = _finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    from explorer.config import ARCHS, MAX_LATENT_DIM, MODEL_KINDS, TrainConfig
    from explorer.data import DATASETS
    from explorer.latent import MAX_GRID, MAX_STEPS

    parser = _Parser(prog="explorer", description="Explore the latent spaces of generative models trained on MNIST.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def data_args(p):
        p.add_argument("--data-dir", metavar="DIR",
                       help="torchvision root holding MNIST/raw/... (default: $EXPLORER_DATA_DIR, else a cache "
                            "folder; downloaded there when missing unless EXPLORER_NO_DOWNLOAD=1)")

    def ckpt_arg(p):
        p.add_argument("--checkpoint", required=True, metavar="PATH", help="a .safetensors checkpoint")

    def plane_args(p):
        p.add_argument("--axes", nargs=2, type=_int_from(1), default=(1, 2), metavar=("I", "J"),
                       help="for latent dim > 2: which principal axes span the plane (default 1 2)")
        p.add_argument("--label", type=_int_from(0, 9), help="for a conditional VAE: the digit to decode (default 0)")
        p.add_argument("--scale", type=_int_from(1, 16), default=1, help="enlarge each pixel N times (default 1)")

    p = sub.add_parser("gui", help="open the explorer window (the default)")
    p.add_argument("--checkpoint", metavar="PATH", help="model to open (default: the shipped 2-d VAE)")
    data_args(p)
    p.set_defaults(run=cmd_gui)

    p = sub.add_parser("train", help="train a model and save it as a checkpoint")
    p.add_argument("--model", choices=(*MODEL_KINDS, "classifier"), default="vae")
    p.add_argument("--arch", choices=ARCHS, default="mlp")
    p.add_argument("--latent-dim", type=_int_from(2, MAX_LATENT_DIM), default=2)
    p.add_argument("--epochs", type=_int_from(1), default=TrainConfig.epochs)
    p.add_argument("--batch-size", type=_int_from(1),
                   help="default: per model kind and latent size (AE/VAE 256, from 10-d up 128; GAN 128)")
    p.add_argument("--lr", type=_positive, help="peak learning rate (default: per model kind and latent size)")
    p.add_argument("--beta", type=_non_negative, default=1.0, help="weight of the VAE's KL term (default 1)")
    p.add_argument("--no-inversion", action="store_true", help="GAN: do not fit an inversion encoder")
    p.add_argument("--dataset", choices=tuple(DATASETS), default="mnist")
    data_args(p)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--seed", type=_int_from(0), default=0)
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
    p.add_argument("--classifier", metavar="PATH", help="classifier for decodability and the GAN's Frechet distance "
                                                        "(default: the shipped one, for MNIST models)")
    p.add_argument("--samples", type=_int_from(1), default=100, metavar="K",
                   help="VAE/CVAE: posterior draws per image for the importance-sampled NLL (default 100)")
    p.add_argument("--seed", type=_int_from(0), default=0, help="seed of the posterior draws (default 0)")
    data_args(p)
    p.set_defaults(run=cmd_evaluate)

    p = sub.add_parser("bench", help="measure speed and quality on this machine")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--quick", action="store_true",
                   help="about a minute: compare with the tutorial's 3-epoch loss, fewer decode calls")
    p.add_argument("--only", nargs="+", metavar="PART", help="run only these parts (see the table)")
    data_args(p)
    p.set_defaults(run=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command is None:
        args = build_parser().parse_args(["gui", *(argv if argv is not None else sys.argv[1:])])
    try:
        return args.run(args) or 0
    except ExplorerError as e:
        print(f"explorer: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("explorer: interrupted", file=sys.stderr)
        return 130


def cmd_gui(args) -> int:
    from explorer.gui.app import run

    return run(checkpoint=args.checkpoint, data_dir=args.data_dir)


def cmd_train(args) -> int:
    from explorer import distributed

    # under torchrun: join the other ranks (gloo on CPUs, NCCL on GPUs); alone: nothing changes
    with distributed.session(args.device) as (ranks, device):
        return _train(args, ranks, device)


def _train(args, ranks, device: str) -> int:
    import torch

    from explorer import checkpoint, latent
    from explorer.config import ModelConfig, TrainConfig
    from explorer.data import load_split
    from explorer.files import check_target
    from explorer.models import Classifier, build_model
    from explorer.training import resolve_device, run_meta, train

    out = check_target(args.out, (checkpoint.SUFFIX,))  # fail before training, not after
    resolve_device(args.device)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         device=device, dataset=args.dataset, compile=args.compile)
    say = (lambda *a, **k: print(*a, **k)) if ranks.leader else (lambda *a, **k: None)  # rank 0 speaks
    if args.model == "classifier":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.seed)
            model = Classifier()
    else:
        model = build_model(ModelConfig(kind=args.model, arch=args.arch, latent_dim=args.latent_dim,
                                        beta=args.beta, inversion=not args.no_inversion), seed=args.seed)
    train_split = load_split(args.dataset, "train", args.data_dir, progress=_download_bar())
    test_split = load_split(args.dataset, "test", args.data_dir, progress=_download_bar())
    what = "a digit classifier" if args.model == "classifier" else model.config.describe()
    on = f" on {ranks.size} processes (torchrun), batch {args.batch_size or 'default'} each" if ranks.size > 1 else ""
    say(f"training {what} on "
        f"{len(train_split):,} {args.dataset} images{on}, {args.epochs} epochs; Ctrl-C stops after saving "
        f"the last complete epoch", file=sys.stderr)

    stop = {"requested": False}

    def on_interrupt(signum, frame):
        if stop["requested"] and ranks.size == 1:  # torchrun passes one Ctrl-C on again: not a second
            raise KeyboardInterrupt
        stop["requested"] = True
        say("\nstopping at the next step; Ctrl-C again to quit without saving", file=sys.stderr)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        result = train(model, train_split.images, config, labels=train_split.labels,
                       callback=_progress_bar() if ranks.leader else None, should_stop=lambda: stop["requested"])
    finally:
        signal.signal(signal.SIGINT, previous)
    if result.message:
        say(result.message, file=sys.stderr)
    if result.epochs_done == 0:
        raise ExplorerError(f"no epoch completed, nothing saved to {out}")
    if not ranks.leader:  # every rank holds the same weights; rank 0 writes them
        return 0 if result.status == "finished" else 1
    model.cpu()
    stats = None if args.model == "classifier" else latent.infer_stats(model, test_split.images, test_split.labels)
    meta = run_meta(train_split.images, args.dataset, config, result)
    if args.model == "classifier":
        meta["test_accuracy"] = _accuracy(model, test_split)
    path = _save_or_rescue(out, lambda to: checkpoint.save(to, model, meta, stats, weights_dtype=args.weights_dtype))
    print(f"saved {path} ({result.status}, {result.epochs_done} epochs, {result.seconds:.1f} s)", file=sys.stderr)
    return 0 if result.status == "finished" else 1


def _save_or_rescue(out: Path, save) -> Path:
    """save(out); if that fails after a long run, save to the temp folder instead so nothing is lost."""
    import tempfile

    try:
        return save(out)
    except ExplorerError as e:
        rescue = Path(tempfile.gettempdir()) / f"{out.stem}-{time.strftime('%Y%m%d-%H%M%S')}{out.suffix}"
        try:
            save(rescue)
        except ExplorerError:
            raise e from None
        raise ExplorerError(f"{e}; the trained model was saved to {rescue} instead") from None


def cmd_embed(args) -> int:
    import numpy as np

    from explorer import latent
    from explorer.files import atomic_write, check_target

    out = check_target(args.out, (".npz", ".csv"))  # fail before the work, not after
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


def cmd_grid(args) -> int:
    from explorer import export, latent

    ckpt, stats = _open_with_stats(args)
    bounds = latent.check_bounds(args.range) if args.range else stats.bounds
    image = export.grid_image(ckpt.model, _plane(stats, args), args.n, bounds, _label(ckpt, args))
    export.save_png(args.out, image, args.scale)
    print(f"wrote a {args.n}x{args.n} grid over x {bounds[0]:.3g}..{bounds[1]:.3g}, y {bounds[2]:.3g}..{bounds[3]:.3g} "
          f"to {args.out}", file=sys.stderr)
    return 0


def cmd_path(args) -> int:
    from explorer import export

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
    result = metrics.evaluate(ckpt, test, train, classifier, seed=args.seed, nll_samples=args.samples)
    print(json.dumps(result, indent=2))
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
