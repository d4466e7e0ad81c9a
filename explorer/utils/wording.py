"""Counted nouns in what the app says: "1 epoch", "2 epochs", never "1 epochs"."""

from __future__ import annotations


def count(n: int, noun: str, plural: str | None = None) -> str:
    """`n` and the noun in the number it needs, thousands separated: count(1_000, "image") is "1,000 images"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
