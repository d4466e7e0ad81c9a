"""The commands that train, evaluate, download, benchmark and open the window (`explorer gui|train|evaluate|
download|bench`); the map's commands are in map_commands."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import sys
from pathlib import Path

from explorer.cli import progress
from explorer.utils.errors import ExplorerError
from explorer.utils.wording import count


def cmd_gui(args) -> int:
    from explorer.gui.app import run

    if not args.model_code and not args.data:
        return run(checkpoint=args.checkpoint, data_dir=args.data_dir)  # its first frame comes before torch
    from explorer.cli import command_inputs
    # loaded here, so a bad file or model is one line before any window opens; the window takes them as they are
    model, data = None, None
    if args.model_code:
        ckpt, data = command_inputs.from_code(args)
        model = ckpt.model
    else:
        data = command_inputs.data(args, "mnist", "test")
    return run(checkpoint=args.checkpoint, data_dir=args.data_dir, model=model, data=data)


def cmd_train(args) -> int:
    from explorer.cli import command_inputs
    from explorer.engine import checkpoint, distributed
    from explorer.utils.files import check_target, claim

    out = check_target(args.out, (checkpoint.SUFFIX,), command_inputs.inputs(args))  # fail before training, not after
    if args.ladder is not None:
        from explorer.cli import train_ladder

        train_ladder.check(args)  # before joining any other rank
    # under torchrun: join the other ranks (gloo on CPUs, NCCL on GPUs); alone: nothing changes
    with distributed.session(args.device) as (ranks, device):
        if args.ladder is not None:
            return train_ladder.run(args, _train_into, ranks, device)
        if not ranks.leader:  # rank 0 alone writes the file, so it alone claims it
            return _train_into(out, args, ranks, device)
        with claim(out):  # a second run on the same --out is refused now, not both reported saved
            return _train_into(out, args, ranks, device)


def _train_into(out: Path, args, ranks, device: str, stop=None, rung: dict | None = None) -> int:
    """Train one model as args say and save it to `out`; `stop`: a ladder's StopRequests, `rung`: the
    ladder's setting and value for this model, recorded in its metadata."""
    import torch

    from explorer.cli import command_inputs
    from explorer.data import user_files
    from explorer.data.datasets import downloads_allowed, load_split
    from explorer.engine import checkpoint, coding, timeline
    from explorer.engine.config import ModelConfig, TrainConfig
    from explorer.engine.models import Classifier, build_model
    from explorer.engine.rescue import save_or_rescue
    from explorer.engine.training import resolve_device, run_meta, train
    from explorer.utils.interrupts import StopRequests

    resolve_device(args.device)
    config = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                         device=device, dataset=args.dataset, compile=args.compile, amp=not args.float32,
                         jitter=args.jitter)
    say = (lambda *a, **k: print(*a, **k)) if ranks.leader else (lambda *a, **k: None)  # rank 0 speaks
    if args.data:
        train_split = test_split = command_inputs.data(args, args.dataset, "train")
        config = dataclasses.replace(config, dataset=train_split.dataset)
    else:
        asked = downloads_allowed()  # naming --dataset asks for it
        train_split = load_split(args.dataset, "train", args.data_dir, download=asked, progress=progress.download_bar())
        test_split = load_split(args.dataset, "test", args.data_dir, download=asked, progress=progress.download_bar())
    config.check_data(args.model, len(train_split), len(test_split))  # refused now, not after the training
    if args.model == "classifier":
        if args.data:
            raise ExplorerError("--data: the digit classifier trains on MNIST-like datasets only (--dataset)")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(args.seed)
            model = Classifier()
    else:
        who = "a conditional VAE" if args.model == "cvae" else "--confident" if args.model == "gan" and args.confident \
            else None  # the models that learn from the labels
        extra = {"num_classes": len(train_split.classes)} if args.data and who else {}
        if extra and train_split.classes == ("unlabelled",):
            raise ExplorerError(f"--data {args.data}: {who} needs labelled images (a class per image)")
        model = build_model(ModelConfig(kind=args.model, arch=args.arch, latent_dim=args.latent_dim,
                                        beta=args.beta, inversion=not args.no_inversion, anchor=args.anchor,
                                        mmd=args.mmd, average=args.average, confident=args.confident,
                                        widths=tuple(args.widths) if args.widths else None,
                                        decoder_widths=tuple(args.decoder_widths) if args.decoder_widths else None,
                                        activation=args.activation,
                                        image_shape=tuple(coding.to_input(train_split.images[:1]).shape[1:]), **extra),
                            seed=args.seed)
    what = "a digit classifier" if args.model == "classifier" else model.config.describe()
    on = f" on {ranks.size} processes (torchrun), batch {args.batch_size or 'default'} each" if ranks.size > 1 else ""
    say(f"training {what} on {count(len(train_split), config.dataset + ' image')}{on}, {count(args.epochs, 'epoch')}; "
        f"Ctrl-C, SIGTERM or SIGHUP stops after saving the last complete epoch", file=sys.stderr)
    bar = progress.progress_bar() if ranks.leader else (lambda p: None)
    follow = ranks.leader and args.model != "classifier"  # a GAN through its encoder (none without one)
    recorder = timeline.Recorder(model, test_split.images, test_split.labels) if follow else None

    def on_progress(p):
        bar(p)
        if recorder is not None:
            recorder(p)

    # under torchrun a second Ctrl-C is torchrun passing the first one on, not a way out unsaved
    own = StopRequests(second_quits=ranks.size == 1, quiet=not ranks.leader) if stop is None else None
    with own if own is not None else contextlib.nullcontext(stop) as stop:
        result = train(model, train_split.images, config, labels=train_split.labels,
                       callback=on_progress, should_stop=lambda: stop.requested)
        stop.saving()  # from here a signal waits: the statistics and the file take seconds, the run took longer
        if result.message:
            say(result.message, file=sys.stderr)
        if result.epochs_done == 0:
            raise ExplorerError(f"no epoch completed, nothing saved to {out}")
        if not ranks.leader:  # every rank holds the same weights; rank 0 writes them
            return 0 if result.status == "finished" else 1
        model.cpu()
        stats = None if args.model == "classifier" else coding.infer_stats(model, test_split.images, test_split.labels)
        meta = run_meta(train_split.images, config.dataset, config, result)
        if rung is not None:
            meta["ladder"] = rung
        if args.data:  # opened later without --data, the file says which images to pass
            meta.update(user_files.remembered(train_split, args.data))
        if args.model == "classifier":
            meta["test_accuracy"] = _accuracy(model, test_split)
        recorded = recorder.timeline(result.epochs_done) if recorder is not None else None
        # what save() leaves out, said once (cached by text) whether the file lands at --out or is rescued
        note = functools.cache(lambda text: print(f"note: {text}", file=sys.stderr))
        dtype = checkpoint.storable_dtype(model, args.weights_dtype, note)
        path = save_or_rescue(out, lambda to: checkpoint.save(to, model, meta, stats, weights_dtype=dtype,
                                                              timeline=recorded, say=note))
    print(f"saved {path} ({result.status}, {count(result.epochs_done, 'epoch')}, {result.seconds:.1f} s)", file=sys.stderr)
    return 0 if result.status == "finished" else 1


def cmd_evaluate(args) -> int:
    from explorer.cli import command_inputs
    from explorer.engine import checkpoint, trained
    from explorer.latent import metrics

    if args.model_code:
        ckpt, test = command_inputs.open_encoder(args)
        print(json.dumps({"model": args.model_code, **command_inputs.evaluate(ckpt.model, test)}, indent=2))
        return 0
    ckpt, test = command_inputs.open_with_stats(args)
    dataset = ckpt.meta.get("dataset", "mnist")
    classifier_file = args.classifier or (trained.classifier_path() if dataset == "mnist" and not args.data else None)
    classifier = checkpoint.load(classifier_file, expect="classifier").model if classifier_file else None
    test = test if test is not None else command_inputs.test_split(args, ckpt)
    train = command_inputs.data(args, dataset, "train", ckpt.meta) if ckpt.model.has_encoder and not args.data else None
    result = metrics.evaluate(ckpt, test, train, classifier, seed=args.seed, nll_samples=args.samples)
    print(json.dumps(result, indent=2))
    return 0


def cmd_download(args) -> int:
    from explorer.data.datasets import data_root, load_split

    for split in ("train", "test"):
        load_split(args.dataset, split, args.data_dir, download=True, progress=progress.download_bar())
    print(f"{args.dataset}: train and test splits are in {data_root(args.data_dir)}", file=sys.stderr)
    return 0


def cmd_bench(args) -> int:
    from explorer.bench.run import run

    try:  # the window's parts (start-up, map) live beside the GUI; the core parts run without Qt
        from explorer.gui.bench import PARTS as gui_parts
    except ImportError as e:
        print(f"bench: no GUI parts ({e})", file=sys.stderr)
        gui_parts = {}
    return run(args, gui_parts)


def _accuracy(model, split) -> float:
    import torch

    from explorer.engine.coding import to_input

    with torch.no_grad():
        predicted = torch.cat([model(to_input(split.images[s : s + 2000])).argmax(1) for s in range(0, len(split), 2000)])
    return float((predicted == split.labels).float().mean())


