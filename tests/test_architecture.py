"""The architecture holds: the import-linter contracts in pyproject.toml (cli and gui on top, then bench,
latent, engine, data, utils, each importing only downward; the core never imports Qt; no import cycle
between the modules of any package, the window's included), and, at run time, every module outside
explorer/gui and explorer/cli imports where Qt cannot be, and the entry points name the GUI only inside a
function."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import explorer
from tests.conftest import REPO

ROOT = Path(explorer.__file__).parent
LAYERS = ("cli", "gui", "bench", "latent", "engine", "data", "utils")
CORE = sorted(p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] not in ("gui", "cli"))
BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "explorer.gui")
LINT = [str(Path(sys.executable).parent / "lint-imports"), "--config", "pyproject.toml", "--no-cache"]

BLOCKER = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if any(name == b or name.startswith(b + ".") for b in BLOCKED):
            raise ImportError(f"{name} is blocked: the core must not import it")
sys.meta_path.insert(0, Blocker())
import importlib
for module in MODULES:
    importlib.import_module(module)
print("imported", len(MODULES))
"""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def lint(where: Path) -> subprocess.CompletedProcess:
    return subprocess.run(LINT, cwd=where, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"})


def test_the_top_of_the_package_holds_only_the_public_entry_points_and_the_layers():
    top = sorted(p.name for p in ROOT.iterdir() if not p.name.startswith(("_", ".")) or p.name == "__init__.py")
    assert top == sorted(["__init__.py", *LAYERS])
    assert sorted(p.name for p in ROOT.glob("_*.py")) == ["__init__.py", "__main__.py"]


def test_the_import_contracts_hold():
    done = lint(REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout


@pytest.mark.parametrize("importer, imported", [
    ("engine/coding.py", "explorer.latent.geometry"),  # a lower layer reaching up
    ("latent/export.py", "explorer.gui.state"),  # the core reaching into the window
    ("data/arrays.py", "PySide6.QtCore"),  # the core importing Qt
    ("bench/harness.py", "explorer.bench.run"),  # the cycle bench had: the harness importing its parts
    ("gui/widgets/images.py", "explorer.gui.panels.neighbours"),  # a cycle in the window: widgets are leaves
])
def test_the_contracts_catch_an_import_against_them(tmp_path, importer, imported):
    shutil.copytree(ROOT, tmp_path / "explorer", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    with open(tmp_path / "explorer" / importer, "a") as f:
        f.write(f"\n\ndef planted():\n    import {imported}  # noqa\n")
    done = lint(tmp_path)
    assert done.returncode != 0 and "BROKEN" in done.stdout, done.stdout[-2000:]


def test_every_core_module_imports_without_qt_or_the_gui():
    modules = [module_name(p) for p in CORE if p.name != "__main__.py"]
    assert "explorer.latent.session" in modules and "explorer.engine.training" in modules and len(modules) > 30
    script = f"BLOCKED = {BLOCKED!r}\nMODULES = {modules!r}\n" + BLOCKER
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"imported {len(modules)}"


def test_the_entry_points_name_the_gui_only_inside_a_function():
    """`import explorer` and the `explorer` parser load no Qt: the package's view()/run() and the command
    line's commands import the window when they are called."""
    for path in [ROOT / "__init__.py", *sorted((ROOT / "cli").rglob("*.py"))]:
        tree = ast.parse(path.read_text(), str(path))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ("PySide6", "shiboken6", "pyqtgraph"), f"{path} imports {name}"
                if name.startswith("explorer.gui"):
                    assert id(node) not in top_level, f"{path} imports {name} at its top: only inside a function"
