"""Every Python block in the README runs as written, from a folder outside the repository, offscreen.

Each ```python block is run unmodified in a fresh interpreter whose working folder is a temporary one
(no `trained/…` or `../shared/data` to lean on). A block that uses the notebook's own `autoencoder`,
`images` and `labels` without defining them gets a prelude defining tiny stand-ins for exactly those;
any other name a block uses without defining is a failure. `explorer.run()` returns there because the
platform is offscreen (nobody could close the window; see explorer.gui.viewer.run). The one change made
to a block: the million-points block's `draws = 100` line (its only size) is run as `draws = 2`, so the
test stays seconds long; the figure for a million is the benchmark's.
"""

from __future__ import annotations

import ast
import builtins
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

README = REPO / "README.md"
BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", re.S | re.M)
NOTEBOOK_NAMES = {"autoencoder", "images", "labels"}  # what a student's notebook has defined by then
PRELUDE = '''
import torch as _torch
from torch import nn as _nn
_torch.manual_seed(0)
class _Autoencoder(_nn.Module):  # the lecture's model, tiny: 784 -> 2 -> 784
    def __init__(self):
        super().__init__()
        self.encoder = _nn.Sequential(_nn.Flatten(), _nn.Linear(784, 2))
        self.decoder = _nn.Sequential(_nn.Linear(2, 784), _nn.Sigmoid(), _nn.Unflatten(1, (28, 28)))
'''
STAND_INS = {"autoencoder": "autoencoder = _Autoencoder()",
             "images": "images = _torch.randint(0, 256, (64, 28, 28), dtype=_torch.uint8)",
             "labels": "labels = _torch.arange(64) % 10"}
SMALLER = {"draws = 100": "draws = 2"}  # the million-points block's size, its one line changed
QT_NOISE = "This plugin does not support propagateSizeHints()"  # the offscreen platform's stub


def python_blocks() -> list[str]:
    return [re.sub(rf"^{indent}", "", body, flags=re.M) for indent, body in BLOCK.findall(README.read_text())]


def undefined_names(code: str) -> set[str]:
    """Names the block reads but never binds (imports, assignments, loops, functions), nor builtins."""
    tree = ast.parse(code)
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return read - bound - set(dir(builtins))


def runnable(code: str) -> str:
    """The block as run: unchanged, after stand-ins for the notebook names it uses without defining."""
    missing = undefined_names(code)
    assert missing <= NOTEBOOK_NAMES, f"a README block uses names it never defines: {sorted(missing - NOTEBOOK_NAMES)}"
    for line, smaller in SMALLER.items():
        code = code.replace(line, smaller)
    if not missing:
        return code
    return PRELUDE + "\n".join(STAND_INS[name] for name in sorted(missing)) + "\n" + code


def test_the_readme_has_its_python_blocks():
    blocks = python_blocks()
    assert len(blocks) >= 2
    assert any("explorer.view(autoencoder, images, labels)" in b for b in blocks)
    assert any("draws = 100" in b and b.count("draws = 100") == 1 for b in blocks)  # what SMALLER changes
    assert not any(re.search(r"trained/|\.\./", b) for b in blocks), "a block opens a file by a relative path"


@pytest.mark.parametrize("k", range(len(python_blocks())))
def test_each_readme_python_block_runs_as_written_from_another_folder(k, data_dir, tmp_path):
    env = {name: value for name, value in os.environ.items() if not name.startswith(("EXPLORER_", "QT_"))}
    env.update(QT_QPA_PLATFORM="offscreen", EXPLORER_DATA_DIR=str(data_dir), EXPLORER_NO_DOWNLOAD="1",
               PYTHONPATH=str(REPO), HOME=str(tmp_path))  # the package importable, as installed; nothing else
    script = tmp_path / "block.py"
    script.write_text(runnable(python_blocks()[k]))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    stderr = "\n".join(line for line in done.stderr.splitlines() if line.strip() and line.strip() != QT_NOISE)
    assert done.returncode == 0, stderr
    assert stderr == "", stderr  # no traceback, no "QThread: Destroyed while thread ... is still running"
