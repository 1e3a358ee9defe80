"""Which modality a file holds, from its content: magic bytes first, then Pillow, soundfile, PyAV in turn."""

from __future__ import annotations

from pathlib import Path

from ..errors import MediaError

AUDIO_MAGIC = (b"fLaC", b"OggS")  # OggS may also be Theora video: confirmed by soundfile below
VIDEO_BRANDS = (b"ftyp",)  # ISO media (MP4, MOV, M4V) at offset 4
EBML = b"\x1a\x45\xdf\xa3"  # Matroska / WebM
NOT_IMAGES = ("MPEG",)  # Pillow identifies MPEG-1 streams it cannot decode


def _riff_kind(head: bytes) -> str | None:
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE" or head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video"
    return None


def _pillow_kind(p: Path) -> str | None:
    """'image', 'video' (an animated GIF) or None when Pillow cannot identify the file."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(p) as img:
            if img.format in NOT_IMAGES:
                return None
            if img.format == "GIF" and getattr(img, "n_frames", 1) > 1:
                return "video"
            return "image"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None


def sniff(path: str | Path) -> str:
    """'image', 'audio' or 'video' for a readable media file; MediaError (one line) otherwise."""
    p = Path(path)
    with p.open("rb") as f:
        head = f.read(16)
    kind = _riff_kind(head)
    if kind is not None:
        return kind
    if head[:4] not in AUDIO_MAGIC:
        kind = _pillow_kind(p)  # before the ISO brands: AVIF/HEIF images are ISO media too
        if kind is not None:
            return kind
    if head[4:8] in VIDEO_BRANDS or head[:4] == EBML:
        return "video"
    from .audio import probe_audio  # imported here: images need neither soundfile nor PyAV
    from .video import probe_video

    if probe_audio(p) is not None:
        return "audio"
    if probe_video(p):
        return "video"
    raise MediaError(f"{p.name}: not a readable image, audio or video file")
