"""Media I/O: load files into Signals and save Signals back, one module per modality."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import MediaError
from ..signal import Signal

if TYPE_CHECKING:
    from .audio import AudioSource
    from .video import VideoSource


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


def load(path: str | os.PathLike, start: float | None = None, frames: int | None = None,
         duration: float | None = None, partial: bool = False, lazy: bool = False) -> Signal | AudioSource | VideoSource:
    """Load an image, audio clip or video, choosing the modality from the content (media/sniff.py).

    start/frames/duration select a range of a video (audio: start and duration only). A video
    whose stream ends before its declared frames is refused unless `partial` (then the Signal's
    notices name the frames kept); for audio and images `partial` changes nothing. lazy: an audio
    or video file comes back as an AudioSource or VideoSource (checked, its range selected, nothing
    decoded), which api.encode reads segment by segment when it is long.
    """
    p = check_input(path)
    from .sniff import sniff

    kind = sniff(p)
    if kind == "audio":
        if frames is not None:
            raise MediaError(f"{p.name} is audio: --frames applies to video; use --duration")
        from .audio import load_audio, open_audio

        return open_audio(p, start=start, duration=duration) if lazy else load_audio(p, start=start, duration=duration)
    if kind == "video":
        from .video import load_video, open_video_source

        if lazy:
            return open_video_source(p, start=start, frames=frames, duration=duration, partial=partial)
        return load_video(p, start=start, frames=frames, duration=duration, partial=partial)
    if start is not None or frames is not None or duration is not None:
        raise MediaError(f"{p.name} is an image: --start, --frames and --duration apply to audio and video")
    from .image import load_image

    return load_image(p)
