"""`torchrun -m explorer train`: one model trained by two CPU processes (gloo)."""

import os
import subprocess
import sys

from explorer import checkpoint


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
