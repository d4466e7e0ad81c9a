"""The Qt window: a thin view over the core engine. The only package that imports Qt."""
