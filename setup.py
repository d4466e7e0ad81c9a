"""Only what pyproject.toml cannot say: the shipped checkpoints stay in trained/ at the top of the
repository (where scripts/train-shipped writes them) and travel in the wheel as explorer/_trained,
so a plain `pip install .` finds them as a checkout does (explorer.engine.trained.trained_dir)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["explorer", "explorer.*"]), "explorer._trained"],
    package_dir={"explorer._trained": "trained"},
    package_data={"explorer._trained": ["*.safetensors", "SHA256SUMS"]},
)
