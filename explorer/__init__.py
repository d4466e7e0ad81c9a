"""Latent Explorer: explore the latent spaces of generative models, live.

`explorer.view(model, images, labels)` opens the window on your own model; `explorer.run()` keeps a
script's windows open. The command line is `explorer --help`.
"""

__version__ = "0.1.0"


def view(*args, **kwargs):
    """Open a window on your own model and images (or codes); returns a Viewer. See explorer.gui.viewer.view."""
    from explorer.gui.viewer import view as open_view  # Qt only when a window is asked for

    return open_view(*args, **kwargs)


def run() -> None:
    """In a script: block until the explorer windows close (at once when none is open, or in IPython;
    offscreen, once the windows have shown what they were asked). See explorer.gui.viewer.run."""
    from explorer.gui.viewer import run as run_windows

    run_windows()
