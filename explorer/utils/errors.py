"""The one exception type users see: its message is shown as-is, never a traceback."""


class ExplorerError(Exception):
    """A problem the user can act on (bad file, bad argument, missing data)."""


class UserModelError(ExplorerError):
    """The user's own model (their encoder, decoder or model factory) raised, returned something
    unusable, or failed to load: their error, not ours. `details` is their traceback, shown on request
    (the window's Details button, `--debug` on the command line)."""

    def __init__(self, message: str, details: str = ""):
        super().__init__(message)
        self.details = details
