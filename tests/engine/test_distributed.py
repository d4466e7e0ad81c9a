"""`torchrun -m explorer train`: one model trained by two CPU processes (gloo). Each test starts two
fresh Python processes, about 15 s alone."""

import json
import os
import re
import subprocess
import sys

from explorer.engine import checkpoint


def torchrun(root, out, *extra):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "EXPLORER_NO_DOWNLOAD": "1"}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
         "-m", "explorer", "train", "--model", "vae", "--latent-dim", "3", "--epochs", "1", "--batch-size", "64",
         "--device", "cpu", "--data-dir", str(root), "--out", str(out), *extra],
        capture_output=True, text=True, timeout=300, env=env)


def test_two_gloo_processes_train_one_model_and_rank_0_alone_saves_it(small_root, tmp_path):
    runs = [torchrun(small_root, tmp_path / f"{name}.safetensors") for name in ("a", "b")]
    for done in runs:
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stderr.count("saved ") == 1 and done.stderr.count("training VAE") == 1
    a, b = (checkpoint.load(tmp_path / f"{name}.safetensors") for name in ("a", "b"))
    assert a.meta["world_size"] == 2 and a.meta["status"] == "finished"
    # 512 images in two shards of 256: 4 steps of 64 each per rank
    assert a.meta["final_losses"] == b.meta["final_losses"]  # the same seed, the same run
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert all((sa[k] == sb[k]).all() for k in sa)


RANKS_SCRIPT = """
import json, sys, torch
from explorer.engine import distributed, training
from explorer.engine.config import ModelConfig, TrainConfig
from explorer.engine.models import build_model

images = torch.randint(0, 256, (256, 28, 28), dtype=torch.uint8)
with distributed.session("cpu") as (ranks, device):
    steps = iter(range(10_000))
    stop_on_rank_1 = lambda: ranks.rank == 1 and next(steps) >= 5  # only rank 1 is asked to stop
    model = build_model(ModelConfig(kind="ae"), seed=0)
    result = training.train(model, images, TrainConfig(epochs=50, batch_size=32, device=device),
                            should_stop=stop_on_rank_1)
    print(json.dumps({"rank": ranks.rank, "status": result.status, "epochs": result.epochs_done}), flush=True)
"""


def test_a_cancel_on_one_rank_stops_every_rank_at_the_same_step(tmp_path):
    script = tmp_path / "ranks.py"
    script.write_text(RANKS_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                           str(script)], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    # the two ranks share one stdout, so their lines may run together
    ends = sorted((json.loads(m) for m in re.findall(r"\{[^{}]*\}", done.stdout)), key=lambda r: r["rank"])
    # 256 images in two shards of 128: 4 steps of 32 per epoch; rank 1 stops at its 6th check
    assert ends == [{"rank": 0, "status": "cancelled", "epochs": 1}, {"rank": 1, "status": "cancelled", "epochs": 1}]
