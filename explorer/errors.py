"""The one exception type users see: its message is shown as-is, never a traceback."""


class ExplorerError(Exception):
    """A problem the user can act on (bad file, bad argument, missing data)."""
