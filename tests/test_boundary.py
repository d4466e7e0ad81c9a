"""The core (explorer/ outside explorer/gui) never needs Qt: every core module imports in a process
where PySide6, shiboken6, pyqtgraph and explorer.gui cannot be imported, and only the entry points
that open windows (the CLI, explorer.view/run) name explorer.gui, inside a function (lazily)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import explorer

ROOT = Path(explorer.__file__).parent
CORE = sorted(p for p in ROOT.rglob("*.py") if "gui" not in p.relative_to(ROOT).parts)
BLOCKED = ("PySide6", "shiboken6", "pyqtgraph", "explorer.gui")

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


def test_every_core_module_imports_without_qt_or_the_gui():
    modules = [module_name(p) for p in CORE if p.name != "__main__.py"]
    assert "explorer.session" in modules and "explorer.jobs" in modules and len(modules) > 15
    script = f"BLOCKED = {BLOCKED!r}\nMODULES = {modules!r}\n" + BLOCKER
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == f"imported {len(modules)}"


ENTRY_POINTS = ("cli.py", "__init__.py")  # the command line, and explorer.view()/run(): both open windows


def test_only_the_entry_points_name_the_gui_and_only_inside_a_function():
    for path in CORE:
        tree = ast.parse(path.read_text(), str(path))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                if name.split(".")[0] in ("PySide6", "shiboken6", "pyqtgraph"):
                    raise AssertionError(f"{path.name} imports {name}: the core never imports Qt")
                if name.startswith("explorer.gui"):
                    entry = path.name in ENTRY_POINTS and path.parent.name == "explorer"
                    assert entry and id(node) not in top_level, \
                        f"{path} imports {name}: only the CLI and explorer.view() may, inside a function"
