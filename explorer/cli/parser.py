"""The command line's parser: every command, its options and their stated ranges. It imports nothing that
loads torch: each command's module is imported when it runs."""

from __future__ import annotations

import importlib

from explorer.utils.numeric import Parser as _Parser
from explorer.utils.numeric import finite as _finite
from explorer.utils.numeric import int_from as _int_from
from explorer.utils.numeric import non_negative as _non_negative
from explorer.utils.numeric import positive as _positive
from explorer.utils.version import __version__


def build_parser() -> _Parser:
    from explorer.bench.parts import BENCH_LONG, BENCH_PARTS, bench_time
    from explorer.data.limits import DATASETS, MAX_LATENT_DIM
    from explorer.engine.config import (
        ACTIVATIONS,
        ARCHS,
        DEFAULT_SCALE,
        GRID_CELLS,
        MAX_BATCH,
        MAX_EPOCHS,
        MAX_GRID,
        MAX_SEED,
        MAX_STEPS,
        MAX_WIDTH,
        MODEL_KINDS,
        OUTPUTS,
        ModelConfig,
        TrainConfig,
    )
    from explorer.engine.ladder import spec_type as ladder_spec
    from explorer.engine.trained import find

    parser = _Parser(prog="explorer", description="Explore the latent spaces of generative models trained on MNIST.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    def data_args(p):
        p.add_argument("--data-dir", metavar="DIR",
                       help="torchvision root holding MNIST/raw/... (default: $EXPLORER_DATA_DIR, else a cache "
                            "folder; downloaded there when missing unless EXPLORER_NO_DOWNLOAD=1)")

    def ckpt_arg(p, required=True):
        """Which model and images a command works on: --checkpoint, or --model-code with what goes with it."""
        which = p.add_mutually_exclusive_group(required=required)
        which.add_argument("--checkpoint", type=find, metavar="PATH",
                           help="a .safetensors checkpoint, or the name of a shipped one (vae-2d-mlp, ...)")
        which.add_argument("--model-code", metavar="FILE.py:NAME",
                           help="your own model: imports FILE.py, which RUNS THAT FILE'S CODE (use only your own "
                                "files), and builds NAME: a class (called with no arguments) or a function returning "
                                "a model (with encode()/decode(), or encoder/decoder sub-modules) or an (encoder, "
                                "decoder) pair")
        p.add_argument("--weights", metavar="W.safetensors", help="with --model-code: load this state dict into "
                                                                  "the model (safetensors only; .pt/.pth pickles are "
                                                                  "refused)")
        p.add_argument("--output", choices=OUTPUTS, default="auto",
                       help="with --model-code: what the decoder returns (default auto: values in [0, 1] are "
                            "probabilities, in [-1, 1] tanh outputs, otherwise logits)")
        p.add_argument("--latent-dim", type=_int_from(2, MAX_LATENT_DIM),
                       help="with --model-code, for a decoder alone (a GAN generator): its code size; it is "
                            "probed with codes drawn from N(0, I)")
        p.add_argument("--data", metavar="FILE.npz|FOLDER",
                       help="images to place on the map: an .npz with 'images' (optional 'labels', 'classes') or "
                            "a folder with one subfolder of images per class (default: the model's dataset)")
        p.add_argument("--dataset", choices=tuple(DATASETS), help="with --model-code and no --data: a torchvision "
                                                                   "dataset (default mnist)")
        p.add_argument("--debug", action="store_true", help="with --model-code: when your model's code fails, also "
                                                             "print its traceback")

    def plane_args(p):
        p.add_argument("--axes", nargs=2, type=_int_from(1, MAX_LATENT_DIM), default=(1, 2), metavar=("I", "J"),
                       help="for latent dim > 2: which principal axes span the plane (default 1 2)")
        p.add_argument("--label", type=_int_from(0, 9), help="for a conditional VAE: the digit to decode (default 0)")
        p.add_argument("--scale", type=_int_from(1, 16), default=DEFAULT_SCALE,
                       help=f"enlarge each pixel N times (default {DEFAULT_SCALE})")

    def map_arg(p):
        p.add_argument("--map", choices=("pca", "umap", "tsne"), default="pca",
                       help="pca: the exact principal-axes plane (default); umap or tsne: a layout of the test "
                            "codes decoded through a learned inverse, exact on the data only (needs "
                            "pip install 'latent-explorer[maps]'; built once per model, then cached)")

    p = sub.add_parser("gui", help="open the explorer window (the default)")
    ckpt_arg(p, required=False)  # default: the shipped 2-d VAE
    data_args(p)
    p.set_defaults(run=_later("commands", "cmd_gui"))

    p = sub.add_parser("train", help="train a model and save it as a checkpoint")
    p.add_argument("--model", choices=(*MODEL_KINDS, "classifier"), default="vae")
    p.add_argument("--arch", choices=ARCHS, default="mlp")
    p.add_argument("--latent-dim", type=_int_from(2, MAX_LATENT_DIM), default=2)
    p.add_argument("--widths", type=_int_from(1, MAX_WIDTH), nargs="+", metavar="N",
                   help="the MLP's hidden widths, encoder side (the decoder mirrors them unless --decoder-widths); "
                        "default by latent size: 256 128, from 10-d up 512")
    p.add_argument("--decoder-widths", type=_int_from(1, MAX_WIDTH), nargs="+", metavar="N",
                   help="the decoder's hidden widths, from the code out (default: --widths mirrored)")
    p.add_argument("--activation", choices=ACTIVATIONS, default=ModelConfig.activation,
                   help="of the hidden layers (AE, VAE, CVAE; default relu)")
    p.add_argument("--epochs", type=_int_from(1, MAX_EPOCHS), default=TrainConfig.epochs)
    p.add_argument("--batch-size", type=_int_from(1, MAX_BATCH),
                   help="default: per model kind and latent size (AE/VAE 256, from 10-d up 384; CVAE 384; GAN 128)")
    p.add_argument("--lr", type=_positive, help="peak learning rate (default: per model kind and latent size)")
    p.add_argument("--beta", type=_non_negative, default=1.0, help="weight of the VAE's KL term (default 1)")
    p.add_argument("--no-inversion", action="store_true", help="GAN: do not fit an inversion encoder")
    p.add_argument("--anchor", type=_non_negative, default=0.0,
                   help="GAN: weight of a VAE's loss that ties G to an encoder of real images (a VAE-GAN; 0, the "
                        "default: the plain minimax GAN)")
    p.add_argument("--mmd", type=_non_negative, default=0.0,
                   help="anchored GAN: a Wasserstein autoencoder's anchor instead of the VAE's, its codes matched "
                        "to the prior by maximum mean discrepancy at this weight (the shipped GAN: 1000)")
    p.add_argument("--confident", type=_non_negative, default=0.0, metavar="W",
                   help="GAN: a namer learns the classes of real images, and G is asked, at weight W, for images "
                        "it names as one clear class, all classes over a batch (CatGAN)")
    p.add_argument("--average", type=_non_negative, default=0.0, metavar="DECAY",
                   help="GAN: decode with an exponential moving average of G's weights, DECAY per step "
                        "(e.g. 0.999; default 0: the weights as trained)")
    p.add_argument("--dataset", choices=tuple(DATASETS), default="mnist")
    p.add_argument("--data", metavar="FILE.npz|FOLDER",
                   help="train on your own images instead: an .npz with 'images' (optional 'labels', 'classes') or "
                        "a folder with one subfolder of images per class; the model takes their channels and size")
    data_args(p)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--seed", type=_int_from(0, MAX_SEED), default=0)
    p.add_argument("--compile", action="store_true", help="torch.compile the model first")
    p.add_argument("--jitter", action="store_true",
                   help="AE, VAE, CVAE: the encoder sees each training image slightly turned, shifted and scaled, "
                        "and learns the code of the image itself (2-d VAE, 50 epochs: 140.6 nats and 5-NN 0.799 "
                        "against 141.2 and 0.775)")
    p.add_argument("--float32", action="store_true",
                   help="no bf16 autocast (used by default on GPUs and CPUs with native bf16): slower, and for long "
                        "runs of small models a little better (2-d VAE, 50 epochs: 140.5 nats against 141.2)")
    p.add_argument("--weights-dtype", choices=("float32", "float16", "bfloat16"), default="float32",
                   help="how the weights are stored in the file (float16 halves it)")
    p.add_argument("--out", required=True, metavar="FILE.safetensors")
    p.add_argument("--ladder", type=ladder_spec(p), metavar="SETTING=V1,V2,...",
                   help="train one model per value of a numeric setting, one after another (e.g. beta=0,0.25,1,4,16 "
                        "or latent-dim=2,5,10,20), each saved beside --out named by its value "
                        "(ladder-beta0.25.safetensors), then print what each measures")
    p.set_defaults(run=_later("commands", "cmd_train"))

    p = sub.add_parser("embed", help="write the latent codes of a split and their map positions to .npz "
                                     "(arrays z, uv, labels and classes) or .csv (columns z1..zd, u, v, label, "
                                     "and class when the classes have names)")
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
    p.set_defaults(run=_later("map_commands", "cmd_embed"))

    p = sub.add_parser(
        "grid", help="decode an n x n grid of latent points to one image",
        description="Decode an n x n grid over a rectangle of the map; row 0 (top) is the largest y. For a "
                    "latent dim > 2 the map is the plane through the mean of the test embeddings spanned by "
                    "their first two principal axes (or --axes I J); each grid point is decoded as the full "
                    "latent vector on that plane.")
    ckpt_arg(p)
    p.add_argument("--n", type=_int_from(1, MAX_GRID), default=GRID_CELLS,
                   help=f"cells per side (default {GRID_CELLS})")
    p.add_argument("--range", nargs=4, type=_finite, metavar=("XMIN", "XMAX", "YMIN", "YMAX"),
                   help="default: where the test data lies")
    plane_args(p)
    map_arg(p)
    data_args(p)
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(run=_later("map_commands", "cmd_grid"))

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
    p.set_defaults(run=_later("map_commands", "cmd_path"))

    p = sub.add_parser("timeline", help="replay how the map formed during training: a GIF of the test images' "
                                        "map after each epoch (or one epoch as a PNG)")
    ckpt_arg(p)
    p.add_argument("--epoch", type=_int_from(1, MAX_EPOCHS), metavar="K", help="only the map after epoch K (for a PNG)")
    p.add_argument("--size", type=_int_from(120, 2048), default=480, help="map size in pixels (default 480)")
    p.add_argument("--fps", type=_positive, default=4.0, help="GIF frames per second (default 4)")
    data_args(p)
    p.add_argument("--out", required=True, metavar="FILE.gif|FILE.png")
    p.set_defaults(run=_later("map_commands", "cmd_timeline"))

    p = sub.add_parser("evaluate", help="print test-split quality figures as JSON")
    ckpt_arg(p)
    p.add_argument("--classifier", type=find, metavar="PATH",
                   help="classifier for decodability and the GAN's Frechet distance (default: the shipped one, "
                        "for MNIST models)")
    p.add_argument("--samples", type=_int_from(1, 100_000), default=100, metavar="K",
                   help="VAE/CVAE: posterior draws per image for the importance-sampled NLL (default 100)")
    p.add_argument("--seed", type=_int_from(0, MAX_SEED), default=0, help="seed of the posterior draws (default 0)")
    data_args(p)
    p.set_defaults(run=_later("commands", "cmd_evaluate"))

    p = sub.add_parser("download", help="fetch a dataset's train and test splits into the data folder")
    p.add_argument("--dataset", choices=tuple(DATASETS), default="mnist")
    data_args(p)
    p.set_defaults(run=_later("commands", "cmd_download"))

    short = [name for name in BENCH_PARTS if name not in BENCH_LONG]
    p = sub.add_parser("bench", help="measure speed and quality on this machine",
                       description=f"Without --only or --full: {', '.join(short)}, about {bench_time(short)} on the "
                                   "development machine (2 cores, no GPU; a GPU adds about a minute). Each part "
                                   "there: " + ", ".join(f"{name} {bench_time([name]) if BENCH_PARTS[name] else 'nothing without a GPU'}"
                                                        for name in BENCH_PARTS)
                                   + ".")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--quick", action="store_true",
                   help="about a minute: compare with the tutorial's 3-epoch loss, fewer decode calls")
    p.add_argument("--only", nargs="+", metavar="PART", help=f"run only these parts: {', '.join(BENCH_PARTS)}")
    p.add_argument("--full", action="store_true",
                   help=f"every part, the long ones ({', '.join(BENCH_LONG)}) included: about "
                        f"{bench_time(BENCH_PARTS)} there")
    data_args(p)
    p.set_defaults(run=_later("commands", "cmd_bench"))
    return parser


def _later(module: str, name: str):
    """explorer.cli.module.name, imported when the command runs: the parser imports nothing that loads torch,
    so `explorer` alone shows its window's first frame before torch is imported."""
    return lambda args: getattr(importlib.import_module(f"explorer.cli.{module}"), name)(args)
