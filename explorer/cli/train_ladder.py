"""`explorer train --ladder SETTING=V1,V2,...`: one model per rung, trained one after another, each
saved beside --out under its rung's name as soon as it is done, then a table of what each rung
measures on the test split. A stop (Ctrl-C, SIGTERM, SIGHUP) ends the rung being trained as a single
run ends (its last complete epoch saved) and trains no further rung; the finished rungs stay.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from explorer.engine import ladder as ladders
from explorer.utils.errors import ExplorerError
from explorer.utils.wording import count

# what each rung's row shows, from metrics.evaluate's figures: (heading, key, format)
COLUMNS = (("recon", "recon", "{:.1f}"), ("KL", "kl", "{:.2f}"), ("-ELBO", "neg_elbo", "{:.1f}"),
           ("5-NN", "knn5", "{:.3f}"), ("decodable", "decodability", "{:.2f}"))


def check(args) -> list[ladders.Rung]:
    """The rungs of args.ladder, refused now (before any training) where the run could not make them."""
    ladder: ladders.Ladder = args.ladder
    if args.model == "classifier":
        raise ExplorerError("--ladder trains models with a latent space (--model ae, vae, cvae or gan), "
                            "not the digit classifier")
    given = getattr(args, ladder.dest)
    if given != ladder.default:
        raise ExplorerError(f"--{ladder.setting} {ladders.value_text(given)} and --ladder {ladder.setting}=... "
                            f"both set {ladder.setting}; drop --{ladder.setting}")
    if (why := ladders.refusal(ladder.setting, args.model)) is not None:
        raise ExplorerError(f"--ladder {why}")
    from explorer.engine.config import MODEL_KINDS, ModelConfig, TrainConfig

    for rung in ladder.rungs():  # every rung's settings hold together, or none is trained
        a = rung_args(args, rung)
        try:
            TrainConfig(epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, seed=a.seed)
            if a.model in MODEL_KINDS:
                ModelConfig(kind=a.model, arch=a.arch, latent_dim=a.latent_dim, beta=a.beta,
                            inversion=not a.no_inversion, anchor=a.anchor, mmd=a.mmd, average=a.average,
                            confident=a.confident, activation=a.activation)
        except ExplorerError as e:
            raise ExplorerError(f"--ladder rung {rung.label}: {e}") from None
    return ladder.rungs()


def rung_args(args, rung: ladders.Rung) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), rung.dest: rung.value, "ladder": None})


def run(args, train_into, ranks, device) -> int:
    """Train every rung with `train_into` (the single run of `explorer train`) under one stop request."""
    from explorer.cli import command_inputs
    from explorer.utils.files import check_target, claim
    from explorer.utils.interrupts import StopRequests

    rungs = check(args)
    out = Path(args.out)
    inputs = command_inputs.inputs(args)  # every name refused now, not at its rung, and none may be an input
    paths = [check_target(r.path(out), (out.suffix,), inputs) for r in rungs]
    say = print if ranks.leader else (lambda *a, **k: None)
    say(f"ladder of {count(len(rungs), 'rung')}: {', '.join(r.label for r in rungs)}", file=sys.stderr)
    done: list[tuple[ladders.Rung, Path, int]] = []
    failure = None  # a rung's error ends the ladder; the rungs before it are summed up first
    with StopRequests(second_quits=ranks.size == 1, quiet=not ranks.leader) as stop:
        for k, (rung, path) in enumerate(zip(rungs, paths), 1):
            stop.watching()
            if stop.requested:  # between two rungs
                break
            say(f"\nrung {k}/{len(rungs)}: {rung.label} -> {path.name}", file=sys.stderr)
            try:
                with claim(path) if ranks.leader else contextlib.nullcontext():
                    code = train_into(path, rung_args(args, rung), ranks, device, stop=stop, rung=rung.meta())
            except ExplorerError as e:
                failure = None if stop.requested else f"rung {rung.label}: {e}"  # stopped before its first epoch
                break
            done.append((rung, path, code))
            if stop.requested:
                break
    left = rungs[len(done):]
    if left:
        say(f"{'stopped' if failure is None else 'ended'}: {count(len(left), 'rung')} not saved "
            f"({', '.join(r.label for r in left)}); {count(len(done), 'rung')} saved", file=sys.stderr)
    if ranks.leader and done:
        print(table([r for r, _, _ in done], summarize([path for _, path, _ in done], args)))
    if failure is not None:
        raise ExplorerError(failure)
    return 0 if not left and all(code == 0 for _, _, code in done) else 1


def summarize(paths: list[Path], args) -> list[dict]:
    """figures() of each saved rung, on the test split of the data it trained on."""
    from explorer.cli import command_inputs
    from explorer.engine import checkpoint, trained
    from explorer.latent.decodability import load_classifier

    splits, rows = {}, []  # the rungs share their data: each split and the classifier are read once
    for path in paths:
        ckpt = checkpoint.load(path, expect="latent")
        dataset = ckpt.meta.get("dataset", "mnist")
        if dataset not in splits:
            test = command_inputs.data(args, dataset, "test")
            train = command_inputs.data(args, dataset, "train") if not args.data else None  # no 5-NN of a set against itself
            judge = dataset == "mnist" and not args.data and trained.classifier_path() is not None
            splits[dataset] = test, train, load_classifier() if judge else None
        rows.append(figures(ckpt, *splits[dataset]))
    return rows


def figures(ckpt, test, train, classifier=None) -> dict:
    """A rung's trade-off figures (tradeoff.measure) as the table's row."""
    from explorer.latent import tradeoff

    row = tradeoff.measure(ckpt.name, ckpt, ckpt.stats, test, train, classifier)
    return {"status": ckpt.meta.get("status"), "epochs": ckpt.meta.get("epochs"), "recon": row.recon, "kl": row.kl,
            "neg_elbo": row.neg_elbo, "knn5": row.knn5, "decodability": row.decodability}


def table(rungs: list[ladders.Rung], rows: list[dict]) -> str:
    """One line per rung: its value, how its run ended, and its figures (recon and KL in nats per image)."""
    head = ["rung", "run", *(h for h, _, _ in COLUMNS)]
    body = [[r.label, f"{row['status']}, {count(row['epochs'] or 0, 'epoch')}",
             *("-" if row[key] is None else fmt.format(row[key]) for _, key, fmt in COLUMNS)]
            for r, row in zip(rungs, rows)]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths)))
             for line in [head, *body]]
    return "\n".join(line.rstrip() for line in lines) + "\n(recon and KL: nats per image on the test split; " \
                                                         "decodable: share of the map's 12 x 12 grid named a digit)"
