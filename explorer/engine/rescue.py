"""What a finished training run keeps when its file cannot be written: a copy in the temp folder.
(The weights of the last complete epoch after an error are training.train's to keep.)"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Callable

from explorer.utils.errors import ExplorerError


def save_or_rescue(out: Path, save: Callable[[Path], Path]) -> Path:
    """save(out); if that fails after a long run, save to the temp folder instead so nothing is lost."""
    try:
        return save(out)
    except ExplorerError as e:
        rescue = Path(tempfile.gettempdir()) / f"{out.stem}-{time.strftime('%Y%m%d-%H%M%S')}{out.suffix}"
        try:
            save(rescue)
        except ExplorerError:
            raise e from None
        raise ExplorerError(f"{e}; the trained model was saved to {rescue} instead") from None
