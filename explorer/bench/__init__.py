"""Benchmarks: `explorer bench` and its parts (harness, training, reference, maps), measured on this machine."""
