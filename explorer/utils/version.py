"""The version of Latent Explorer, recorded in every checkpoint it writes (kept as pyproject.toml says it)."""

__version__ = "0.1.0"
