"""A wheel is a whole app: built from this checkout and installed in a scratch environment, it finds
the shipped models by name from any folder, and building it prints no deprecation warning."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO

SOURCES = ("explorer", "trained", "pyproject.toml", "setup.py", "README.md", "LICENSE")


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A venv holding only the wheel; torch and the other dependencies come from this test's
    environment through a path entry (no index, no network), not its editable install of the checkout."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy: building in place would leave build/ and egg-info in the checkout
    for name in SOURCES:
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__")}
                                            if (REPO / name).is_dir() else {}))
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-build-isolation",
                            "-w", work / "dist", source], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    [wheel] = (work / "dist").glob("*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
                    "--no-index", wheel], check=True)
    return venv, build.stdout + build.stderr, wheel


def test_building_the_wheel_prints_no_deprecation_warning(installed):
    _, log, wheel = installed
    assert "deprecat" not in log.lower(), [line for line in log.splitlines() if "deprecat" in line.lower()]


def test_the_installed_app_opens_shipped_models_by_name_from_any_folder(installed, small_root, tmp_path):
    venv, _, _ = installed
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "EXPLORER_DATA_DIR": str(small_root), "EXPLORER_NO_DOWNLOAD": "1"}
    env.pop("EXPLORER_TRAINED_DIR", None)
    where = subprocess.run([venv / "bin" / "python", "-c", "import explorer.engine.trained as t; "
                            "print(t.__file__); print(*[p.stem for p in t.shipped()])"],
                           capture_output=True, text=True, cwd=elsewhere, env=env, check=True).stdout.splitlines()
    assert where[0].startswith(str(venv)), where  # the wheel's copy, not this checkout
    assert set(where[1].split()) == {p.stem for p in (REPO / "trained").glob("*.safetensors")} - {"mnist-classifier"}
    run = subprocess.run([venv / "bin" / "explorer", "embed", "--checkpoint", "vae-2d-mlp", "--out", "codes.npz"],
                         capture_output=True, text=True, cwd=elsewhere, env=env)
    assert run.returncode == 0, run.stderr
    with np.load(elsewhere / "codes.npz") as f:
        assert f["z"].shape == (256, 2)


def test_the_run_script_installs_every_extra_the_tour_uses():
    """The README's `bash scripts/run` gives every item of its tour: UMAP and t-SNE maps need the `maps` extra."""
    import re

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    tour_extras = {name for name in extras if name != "test"}
    script = (REPO / "scripts" / "run").read_text()
    [installed] = re.findall(r"pip install --quiet -e '\.\[([\w,]+)\]'", script)
    assert tour_extras <= set(installed.split(","))
