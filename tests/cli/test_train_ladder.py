"""`explorer train --ladder SETTING=V1,V2,...`: one checkpoint per rung beside --out, each recording
its rung, a table of what each measures, bad ladders refused in one line before any training, and a
stop mid-ladder keeping the finished rungs."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.engine import checkpoint
from explorer.engine.ladder import Rung, is_rung_record, value_text
from tests.cli.test_cli import assert_one_clear_line, run_cli
from tests.utils.test_interrupts import finish, only, start, wait_for


def ladder_args(root, out, spec, *more):
    return ["train", "--epochs", 1, "--batch-size", 64, "--data-dir", root, "--out", out, "--ladder", spec, *more]


def test_a_beta_ladder_saves_one_checkpoint_per_rung_that_reopens_with_its_rung(small_root, tmp_path, capsys):
    out = tmp_path / "ladder.safetensors"
    assert run_cli(ladder_args(small_root, out, "beta=0,0.25,4"), capsys)[0] == 0
    only(tmp_path, "ladder-beta0.safetensors", "ladder-beta0.25.safetensors", "ladder-beta4.safetensors")
    for name, beta in (("beta0", 0.0), ("beta0.25", 0.25), ("beta4", 4.0)):
        ckpt = checkpoint.load(tmp_path / f"ladder-{name}.safetensors")
        assert ckpt.meta["ladder"] == {"beta": beta}
        assert ckpt.meta["model"]["beta"] == beta and ckpt.meta["status"] == "finished"
        assert ckpt.model.config.beta == beta


def test_the_table_lists_every_rung_with_its_figures(small_root, tmp_path, capsys):
    from explorer.cli import main

    out = tmp_path / "sizes.safetensors"
    assert main([str(a) for a in ladder_args(small_root, out, "latent-dim=2,3")]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert lines[0].split() == ["rung", "run", "recon", "KL", "-ELBO", "5-NN", "decodable"]
    for line, dim in zip(lines[1:3], (2, 3)):
        cells = line.split()
        assert cells[0] == f"latent-dim={dim}" and cells[1:4] == ["finished,", "1", "epoch"]
        recon, kl, neg_elbo, knn, decodable = map(float, cells[4:9])
        assert neg_elbo == pytest.approx(recon + kl, abs=0.15)  # each printed to one or two decimals
        assert 0 <= knn <= 1 and 0 <= decodable <= 1
        assert checkpoint.load(tmp_path / f"sizes-latent-dim{dim}.safetensors").model.latent_dim == dim
    assert "rung 2/2: latent-dim=3 -> sizes-latent-dim3.safetensors" in captured.err


def test_an_autoencoder_ladder_has_no_kl_to_show(small_root, tmp_path, capsys):
    from explorer.cli import main

    out = tmp_path / "ae.safetensors"
    assert main([str(a) for a in ladder_args(small_root, out, "seed=1,2", "--model", "ae")]) == 0
    rows = capsys.readouterr().out.splitlines()[1:3]
    assert [row.split()[0] for row in rows] == ["seed=1", "seed=2"]
    assert all(row.split()[5:7] == ["-", "-"] for row in rows)  # no KL, no ELBO
    assert checkpoint.load(tmp_path / "ae-seed2.safetensors").meta["ladder"] == {"seed": 2}


BAD_LADDERS = [
    (["--ladder", "beta"], "write SETTING=V1,V2,..."),
    (["--ladder", "=0,1"], "write SETTING=V1,V2,..."),
    (["--ladder", "temperature=0,1"], "unknown setting 'temperature'; a ladder steps one of"),
    (["--ladder", "out=0,1"], "unknown setting 'out'"),  # a setting, but no number
    (["--ladder", "beta=0,x"], "beta 'x' is not a number"),
    (["--ladder", "beta=0,-1"], "beta -1 must be 0 or more"),
    (["--ladder", "latent-dim=2,1"], "latent-dim 1 is out of range (2 to 512)"),
    (["--ladder", "epochs=1,2.5"], "'2.5' is not a whole number"),
    (["--ladder", "beta=0,,1"], "an empty value"),
    (["--ladder", "beta=1"], "one value is one model; a ladder has 2 to 8 values"),
    (["--ladder", "seed=1,2,3,4,5,6,7,8,9"], "9 values are too many"),
    (["--ladder", "beta=1,4,1.0"], "1.0 is the same beta as 1"),
    (["--ladder", "beta=0,1", "--beta", "2"], "--beta 2 and --ladder beta=... both set beta"),
    (["--ladder", "beta=0,1", "--model", "ae"], "--ladder beta weighs a VAE's KL term; an AE has none to step"),
    (["--ladder", "anchor=0,50"], "--ladder anchor is a GAN's setting; a VAE has none to step (choose a GAN"),
    (["--ladder", "epochs=1,2", "--model", "classifier"], "not the digit classifier"),
    # the second rung's settings do not hold together: refused before the first rung trains
    (["--ladder", "mmd=0,100", "--model", "gan"], "rung mmd=100: --mmd sets how an anchored GAN"),
    (["--ladder", "lr=0.001,2"], "rung lr=2: learning rate must be a number above 0 and at most 1"),
]


@pytest.mark.parametrize("bad, says", BAD_LADDERS, ids=[" ".join(b) for b, _ in BAD_LADDERS])
def test_a_bad_ladder_is_one_clear_line_before_any_training(bad, says, small_root, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(["train", "--epochs", "1", "--data-dir", small_root, "--out", "l.safetensors", *bad], capsys)
    assert_one_clear_line(code, err, says)
    assert os.listdir(tmp_path) == []


@given(st.one_of(st.integers(0, 10**6), st.floats(0, 1000, allow_nan=False), st.floats(1e-12, 1e-3)))
@settings(max_examples=200, deadline=None)
def test_a_rung_is_named_by_a_value_no_other_value_shares(value):
    """Names are files: two rungs of one ladder must never be given the same one."""
    text = value_text(value)
    assert float(text) == value and "/" not in text and " " not in text
    assert Rung("beta", "beta", value).path("d/l.safetensors").name == f"l-beta{text}.safetensors"


def test_a_damaged_rung_record_is_refused():
    assert is_rung_record({"beta": 0.25}) and is_rung_record({"latent-dim": 5})
    for bad in ({}, {"beta": "0.25"}, {"beta": True}, {"beta": float("nan")}, {"a": 1, "b": 2}, [("beta", 1)]):
        assert not is_rung_record(bad)


def test_ctrl_c_mid_ladder_keeps_the_finished_rungs_and_the_last_epoch_of_the_current_one(small_root, tmp_path):
    out = tmp_path / "l.safetensors"
    args = ["train", "--batch-size", 64, "--data-dir", small_root, "--out", out, "--ladder", "epochs=1,10000,2"]
    process = start(args, tmp_path)
    lines = wait_for(process, "rung 2/3")
    lines += wait_for(process, "epoch   2/10000")
    process.send_signal(signal.SIGINT)
    code, err = finish(process, lines)
    assert code == 1 and "Traceback" not in err, err
    assert "1 rung not saved (epochs=2); 2 rungs saved" in err
    only(tmp_path, "l-epochs1.safetensors", "l-epochs10000.safetensors")
    first, second = (checkpoint.load(tmp_path / f"l-epochs{e}.safetensors").meta for e in (1, 10000))
    assert first["status"] == "finished" and first["epochs"] == 1 and first["ladder"] == {"epochs": 1}
    assert second["status"] == "cancelled" and second["epochs"] >= 2 and second["ladder"] == {"epochs": 10000}


def test_the_trade_off_table_and_strips_of_a_ladder(small_root, tmp_path, capsys):
    """What the compare view's trade-off window shows and exports: per rung its figures (the CSV), and
    the same test digits reconstructed by each rung, a row each under the originals."""
    import csv

    from explorer.cli import main
    from explorer.data.datasets import load_split
    from explorer.latent import tradeoff

    out = tmp_path / "l.safetensors"
    assert main([str(a) for a in ladder_args(small_root, out, "latent-dim=2,4")]) == 0
    printed = capsys.readouterr().out.splitlines()[1:3]
    test, train = (load_split("mnist", s, small_root) for s in ("test", "train"))
    ckpts = [checkpoint.load(tmp_path / f"l-latent-dim{d}.safetensors") for d in (2, 4)]
    rows = [tradeoff.measure(c.name, c, c.stats, test, train) for c in ckpts]
    assert [r.rung for r in rows] == ["latent-dim=2", "latent-dim=4"]
    for row, line in zip(rows, printed):  # the command's table and the window's figures agree
        assert f"{row.recon:.1f}" == line.split()[4] and f"{row.knn5:.3f}" == line.split()[7]
        assert row.decodability is None  # no classifier given
    saved = tradeoff.save_csv(tmp_path / "t.csv", rows)
    with open(saved, newline="") as f:
        table = list(csv.DictReader(f))
    assert [(t["name"], t["setting"], t["value"]) for t in table] == [("l-latent-dim2", "latent-dim", "2"),
                                                                       ("l-latent-dim4", "latent-dim", "4")]
    assert float(table[1]["neg_elbo"]) == pytest.approx(rows[1].neg_elbo, rel=1e-5) and table[0]["decodability"] == ""

    images, labels = tradeoff.strip_images(test)
    assert list(labels) == list(range(10))
    strips = tradeoff.reconstruction_strips([c.model for c in ckpts], images, labels)
    assert strips.shape == (3 * 28, 10 * 28)
    assert (strips[:28] == np.concatenate(list(images), axis=1)).all()  # the originals on top
    assert not (strips[28:56] == strips[56:]).all()  # each rung its own reconstructions


def test_a_rung_takes_its_place_in_the_configs_with_the_widths_of_its_size():
    from explorer.engine.config import ModelConfig, TrainConfig
    from explorer.engine.ladder import apply
    from explorer.utils.errors import ExplorerError

    model, run = ModelConfig(kind="vae"), TrainConfig(epochs=3)
    wide, _ = apply(Rung("latent-dim", "latent_dim", 20), model, run)
    assert wide.latent_dim == 20 and wide.widths == (512,)  # as `explorer train --latent-dim 20` builds it
    assert apply(Rung("beta", "beta", 4.0), model, run)[0].beta == 4.0
    assert apply(Rung("epochs", "epochs", 7), model, run)[1].epochs == 7
    with pytest.raises(ExplorerError, match="beta must be a number from 0 to 1000"):
        apply(Rung("beta", "beta", 2000.0), model, run)
    with pytest.raises(ExplorerError, match="an AE has none to step"):
        apply(Rung("beta", "beta", 1.0), ModelConfig(kind="ae"), run)


def test_rungs_sort_by_their_values_not_their_names():
    from explorer.engine.ladder import natural_order, rung_order

    names = ["ladder-beta16", "ladder-beta0.25", "ladder-beta4", "ladder-beta0", "ladder-beta1e-05", "vae-2d-mlp"]
    assert sorted(names, key=natural_order) == ["ladder-beta0", "ladder-beta1e-05", "ladder-beta0.25",
                                                "ladder-beta4", "ladder-beta16", "vae-2d-mlp"]
    metas = [{"ladder": {"beta": 16}}, {}, {"ladder": {"beta": 0.25}}]
    assert sorted(metas, key=rung_order) == [{"ladder": {"beta": 0.25}}, {"ladder": {"beta": 16}}, {}]


SPEC_TEXT = st.one_of(
    st.text(alphabet=st.sampled_from("beta=latn-dim_pochs0123456789.,-+eE xinf"), max_size=30),
    st.builds(lambda name, values: f"{name}={','.join(values)}",
              st.sampled_from(["beta", "latent-dim", "epochs", "lr", "seed", "average", "temperature"]),
              st.lists(st.one_of(st.integers(-3, 600).map(str), st.floats(-1, 2000).map(repr),
                                 st.sampled_from(["", "x", "1e3", "nan", "inf", "2.0"])), min_size=1, max_size=10)))


@given(SPEC_TEXT)
@settings(max_examples=300, deadline=None)
def test_any_ladder_text_is_read_or_refused_in_one_line(text):
    """Whatever is typed after --ladder: a ladder of 2 to 8 distinct values the option itself accepts,
    or argparse's refusal (one line, exit status 2), never another error."""
    import argparse

    from explorer.cli.parser import build_parser

    train = build_parser()._subparsers._group_actions[0].choices["train"]
    read = next(a for a in train._actions if a.dest == "ladder").type
    try:
        ladder = read(text)
    except argparse.ArgumentTypeError as e:
        assert "\n" not in str(e) and str(e)
        return
    assert 2 <= len(ladder.values) <= 8 and len(set(ladder.values)) == len(ladder.values)
    option = next(a for a in train._actions if a.dest == ladder.dest)
    assert all(option.type(value_text(v)) == v for v in ladder.values)
