"""Latent Explorer: explore the latent spaces of generative models, live.

The public Python API, all a script needs (the command line is `explorer --help`):

    import explorer
    ex = explorer.view(model, images, labels)      # a window on your own model (or decoder and codes)
    explorer.run()                                 # in a script: keep the windows open until closed
    vae = explorer.load("vae-2d-mlp").model        # a checkpoint by path, or a shipped model by name
    test = explorer.load_dataset("mnist", "test")  # test.images (N, 28, 28) uint8, test.labels

Each imports what it needs when called, so `import explorer` loads neither torch nor Qt. Whatever goes
wrong is one ExplorerError (a UserModelError when it was your model's own code) with a message to show.
"""

from explorer.utils.errors import ExplorerError, UserModelError
from explorer.utils.version import __version__

__all__ = ["view", "run", "load", "load_dataset", "ExplorerError", "UserModelError", "__version__"]


def view(*args, **kwargs):
    """Open a window on your own model and images (or codes); returns a Viewer. See explorer.gui.viewer.view."""
    from explorer.gui.viewer import view as open_view  # Qt only when a window is asked for

    return open_view(*args, **kwargs)


def run() -> None:
    """In a script: block until the explorer windows close (at once when none is open, or in IPython;
    offscreen, once the windows have shown what they were asked). See explorer.gui.viewer.run."""
    from explorer.gui.viewer import run as run_windows

    run_windows()


def load(checkpoint):
    """A .safetensors checkpoint, or a shipped model by name ("vae-2d-mlp"), read and fully checked:
    `.model` (eval mode, on the CPU), `.stats` (where its data lies), `.meta`. Never unpickles anything."""
    from explorer.engine.checkpoint import load as load_checkpoint

    return load_checkpoint(checkpoint)


def load_dataset(name: str = "mnist", split: str = "test", data_dir=None):
    """A split of MNIST, Fashion-MNIST or KMNIST as resident tensors: `.images` (N, 28, 28) uint8,
    `.labels` (N,), `.classes`. From `data_dir` (a torchvision root), else $EXPLORER_DATA_DIR, else the
    cache, downloading MNIST there when it is missing (unless EXPLORER_NO_DOWNLOAD is set)."""
    from explorer.data.datasets import load_split

    return load_split(name, split, data_dir)
