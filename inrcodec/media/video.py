"""Video through PyAV: MP4, WebM, AVI, MOV, MKV, animated GIF in (RGB frames), and out frame by frame.

A loaded Signal holds frames as float32 in [-1, 1] (8-bit RGB mapped as for images), shape
(t, y, x, 3), and the frame rate as an exact rational from the stream's average rate.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import cast

import numpy as np

from ..errors import MediaError, OutputExistsError
from ..files import atomic_folder, atomic_path
from ..signal import Signal
from .audio import select_range

MAX_FPS_TERM = 2**31 - 1
MAX_VALUES = 1 << 30  # float32 values a loaded clip may hold (4 GiB); use --frames/--duration above it
FILE_TARGETS = {  # extension -> (container format, codec, pixel format for even sizes)
    ".mp4": ("mp4", "libx264", "yuv420p"),
    ".m4v": ("mp4", "libx264", "yuv420p"),
    ".mov": ("mov", "libx264", "yuv420p"),
    ".mkv": ("matroska", "libx264", "yuv420p"),
    ".webm": ("webm", "libvpx-vp9", "yuv420p"),
    ".gif": ("gif", "gif", "rgb8"),
}
DEFAULT_CRF = 18
STILL_FORMATS = ("image2", "tty")  # not video: a file Pillow refused is not rescued by them (text.png, a broken PNG)
FRAME_NAME = "frame_{:06d}.png"
FRAME_RE = re.compile(r"^frame_\d{6,}\.png$")


def _why(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def exact_fps(rate) -> Fraction:
    """A stream rate as a Fraction whose terms fit the header (2**31 - 1)."""
    f = Fraction(rate)
    if f.numerator > MAX_FPS_TERM or f.denominator > MAX_FPS_TERM:
        f = f.limit_denominator(1_000_000)
    if f <= 0 or f.numerator > MAX_FPS_TERM:
        raise MediaError(f"unusable frame rate {rate}")
    return f


def probe_video(path: str | os.PathLike) -> bool:
    """True when PyAV opens the file and it has a video stream."""
    import av

    try:
        with av.open(os.fspath(path)) as c:  # FFmpeg's single-image demuxers (image2, png_pipe, ...) name files by extension
            return len(c.streams.video) > 0 and c.format.name not in STILL_FORMATS and not c.format.name.endswith("_pipe")
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError):
        return False


def load_video(path: str | os.PathLike, start: float | None = None, frames: int | None = None,
               duration: float | None = None) -> Signal:
    """Decode the selected frames (all by default) of the first video stream as RGB."""
    import av

    p = Path(path)
    try:
        container = av.open(os.fspath(p))
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError) as e:
        raise MediaError(f"{p.name}: not a readable video: {_why(e)}") from e
    with container:
        if not container.streams.video:
            raise MediaError(f"{p.name}: has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate:
            raise MediaError(f"{p.name}: the video stream has no frame rate")
        fps = exact_fps(rate)
        known = int(stream.frames or 0)
        total = known if known > 0 else MAX_VALUES  # unknown count: select lazily as frames come
        first, count = select_range(total, float(fps), start, frames, duration, "video")
        out: list[np.ndarray] = []
        try:
            for i, frame in enumerate(container.decode(stream)):
                if i < first:
                    continue
                if len(out) >= count:
                    break
                rgb = frame.to_ndarray(format="rgb24")
                if (len(out) + 1) * rgb.size > MAX_VALUES:
                    raise MediaError(f"{p.name}: the selected frames exceed {MAX_VALUES:,} values; pick fewer with --frames or --duration")
                out.append(rgb)
        except av.FFmpegError as e:
            if not out:
                raise MediaError(f"{p.name}: cannot decode video: {_why(e)}") from e
    if not out:
        raise MediaError(f"{p.name}: no frames at --start {start or 0:g} s" if first else f"{p.name}: video has no frames")
    pixels = np.stack(out)
    return frames_to_signal(pixels, fps)


def frames_to_signal(pixels: np.ndarray, fps) -> Signal:
    """A video Signal from uint8 RGB frames (t, y, x, 3) at `fps` frames per second."""
    a = np.asarray(pixels)
    if a.ndim != 4 or a.shape[-1] != 3 or min(a.shape) < 1 or a.dtype != np.uint8:
        raise MediaError(f"video frames must be uint8 (frames, height, width, 3), got {a.dtype} {a.shape}")
    f = exact_fps(fps)
    t, h, w, _ = a.shape
    meta = {"frames": t, "height": h, "width": w, "channels": 3, "fps": [f.numerator, f.denominator]}
    return Signal("video", (a.astype(np.float32) / 127.5 - 1.0), meta)


def is_frames_folder(path: str | os.PathLike) -> bool:
    """An output with no extension, or ending in '/', is a folder of PNG frames."""
    text = os.fspath(path)
    return text.endswith(("/", os.sep)) or Path(text).suffix == ""


def check_video_target(path: str | os.PathLike) -> None:
    """MediaError unless the output path is a supported video file or a frames folder."""
    if not is_frames_folder(path) and Path(path).suffix.lower() not in FILE_TARGETS:
        exts = ", ".join(FILE_TARGETS)
        raise MediaError(f"unsupported video output extension {Path(path).suffix!r}; use one of {exts}, or a folder name for PNG frames")


def save_video(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: Fraction, crf: int | None = None,
               force: bool = False) -> int:
    """Write uint8 RGB frames as they come; returns the number written. Atomic: temp path, then rename."""
    check_video_target(path)
    target = Path(os.fspath(path).rstrip("/" + os.sep) or ".")
    if os.path.lexists(target) and not force:
        raise OutputExistsError(f"{target} exists; pass --force to replace it")
    if is_frames_folder(path):
        return _save_folder(target, frames, force)
    fmt, codec, pix = FILE_TARGETS[target.suffix.lower()]
    with atomic_path(target, force=True) as tmp:
        return _encode_file(os.fspath(tmp), fmt, codec, pix, frames, fps, DEFAULT_CRF if crf is None else crf)


def _encode_file(tmp: str, fmt: str, codec: str, pix: str, frames: Iterable[np.ndarray], fps: Fraction, crf: int) -> int:
    import av

    n = 0
    try:
        with av.open(tmp, mode="w", format=fmt) as out:
            stream = None
            for rgb in frames:
                if stream is None:
                    h, w = rgb.shape[:2]
                    stream = cast("av.VideoStream", out.add_stream(codec, rate=fps))
                    stream.width, stream.height = w, h
                    # 4:2:0 needs even sizes in H.264; odd sizes keep full chroma (4:4:4) instead of cropping
                    stream.pix_fmt = "yuv444p" if codec == "libx264" and (w % 2 or h % 2) else pix
                    if codec == "libx264":
                        stream.options = {"crf": str(crf), "preset": "medium"}
                    elif codec == "libvpx-vp9":
                        stream.options = {"crf": str(crf), "b": "0", "row-mt": "1"}
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
                for packet in stream.encode(frame):
                    out.mux(packet)
                n += 1
            if stream is None:
                raise MediaError("no frames to write")
            for packet in stream.encode():
                out.mux(packet)
    except av.FFmpegError as e:
        raise MediaError(f"cannot write {fmt} video: {_why(e)}") from e
    return n


def _save_folder(target: Path, frames: Iterable[np.ndarray], force: bool) -> int:
    """PNG frames into a new folder (built beside the target, then renamed into place)."""
    from PIL import Image

    if target.exists():
        if not target.is_dir() or any(not FRAME_RE.match(c.name) for c in target.iterdir()):
            raise MediaError(f"{target} exists and is not a folder of spdr frames; not replacing it")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise MediaError(f"output folder {parent} does not exist")
    with atomic_folder(target, force=True) as tmp:
        n = 0
        for rgb in frames:
            Image.fromarray(np.ascontiguousarray(rgb), mode="RGB").save(tmp / FRAME_NAME.format(n), format="PNG")
            n += 1
        if n == 0:
            raise MediaError("no frames to write")
        return n
