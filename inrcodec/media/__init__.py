"""Media I/O: load files into Signals and save Signals back, one module per modality."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import MediaError
from ..signal import Signal


def check_input(path: str | os.PathLike) -> Path:
    """A readable, non-empty regular file, or a one-line MediaError."""
    p = Path(path)
    if not p.exists():
        raise MediaError(f"{p}: no such file")
    if p.is_dir():
        raise MediaError(f"{p}: is a directory, not a media file")
    if p.stat().st_size == 0:
        raise MediaError(f"{p}: file is empty")
    return p


def load(path: str | os.PathLike) -> Signal:
    """Load an image (audio and video where supported), choosing the modality from the content."""
    p = check_input(path)
    from .image import load_image

    return load_image(p)
