"""Video through PyAV: MP4, WebM, AVI, MOV, MKV, animated GIF in (RGB frames), and out frame by frame.

A loaded Signal holds frames as float32 in [-1, 1] (8-bit RGB mapped as for images), shape
(t, y, x, 3), and the frame rate as an exact rational from the stream's average rate.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import cast

import numpy as np

from ..errors import MediaError, OutputExistsError
from ..files import atomic_folder, atomic_path
from ..signal import Signal
from .audio import select_range, short_range_notice

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
FRAME_SLACK = 2  # a declared frame count may exceed what a whole file decodes by this much (more for durations)


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


def declared_frames(container, stream, fps: Fraction) -> tuple[int, bool]:
    """The frame count the container declares, and whether it is a count (True) or a duration x rate estimate.

    0 when it declares neither. MKV and WebM store no count, only a duration (in ms): the estimate
    is then within a frame or so of what decodes.
    """
    if stream.frames and stream.frames > 0:
        return int(stream.frames), True
    if stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
    elif container.duration:
        seconds = container.duration / 1_000_000  # AV_TIME_BASE
    else:
        return 0, False
    return max(0, round(seconds * float(fps))), False


def frame_slack(declared: int, counted: bool) -> int:
    """Frames a complete file may fall short of its declared count (with no decode error) and still count as whole."""
    return FRAME_SLACK if counted else max(FRAME_SLACK, math.ceil(0.01 * declared))


def load_video(path: str | os.PathLike, start: float | None = None, frames: int | None = None,
               duration: float | None = None, partial: bool = False) -> Signal:
    """Decode the selected frames (all by default) of the first video stream as RGB.

    A stream that ends before the frames it declares (a truncated or damaged file, or a decode
    error part way) is refused with a MediaError naming how many frames were read, unless
    `partial`: then the frames that decode are kept and the Signal carries a notice naming them.
    """
    return open_video_source(path, start, frames, duration, partial).signal()


@dataclass
class VideoSource:
    """A video file's selected frames, opened and checked but not decoded: chunks(n) decodes them n at a time.

    meta is the header's "signal" object with the frame count the container declares for the
    selection (what decodes may differ; chunks() checks it as load_video does)."""

    path: Path
    fps: Fraction
    first: int
    count: int
    declared: int
    counted: bool
    meta: dict
    asked: tuple[int | None, float | None, float | None]  # --frames, --duration, --start as given
    partial: bool = False
    notices: list[str] = field(default_factory=list)
    modality: str = "video"

    def signal(self) -> Signal:
        """Every selected frame in one Signal (what load_video returns)."""
        return next(self.chunks(None))

    def chunks(self, n: int | None) -> Iterator[Signal]:
        """Signals of n consecutive frames (None: all in one), the last one shorter; after the last, the
        stream's end is checked: a stream that ends early raises MediaError unless partial (then the last
        Signal and self.notices carry the notice)."""
        import av

        name = self.path.name
        frames, duration, start = self.asked
        out: list[np.ndarray] = []
        read, error, pending = 0, None, None
        with av.open(os.fspath(self.path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            try:
                for i, frame in enumerate(container.decode(stream)):
                    if i < self.first:
                        continue
                    if read >= self.count:
                        break
                    rgb = frame.to_ndarray(format="rgb24")
                    if (len(out) + 1) * rgb.size > MAX_VALUES:
                        raise MediaError(f"{name}: the selected frames exceed {MAX_VALUES:,} values; "
                                         "pick fewer with --frames or --duration")
                    out.append(rgb)
                    read += 1
                    if n is not None and len(out) == n:
                        if pending is not None:
                            yield pending
                        pending, out = frames_to_signal(np.stack(out), self.fps), []
            except av.FFmpegError as e:
                if not read:
                    raise MediaError(f"{name}: cannot decode video: {_why(e)}") from e
                error = _why(e)
        if not read:
            if self.first and self.declared > self.first and error is None:
                raise MediaError(f"{name}: the video stream ends early: no frame decodes from frame {self.first} of {self.declared} "
                                 f"(--start {start:g} s; damaged or truncated file)")
            raise MediaError(f"{name}: no frames at --start {start or 0:g} s" if self.first else f"{name}: video has no frames")
        short = _ends_early(name, self.first, read, self.count, self.declared, self.counted, error)
        if short is not None:
            problem, notice = short
            if not self.partial:
                raise MediaError(f"{problem}; pass --partial to encode the frames that decode")
            self.notices.append(notice)
        else:
            self.notices += short_range_notice(name, frames, duration, read, float(self.fps), "frames")
        last = [pending] if pending is not None else []
        if out:
            last.append(frames_to_signal(np.stack(out), self.fps))
        last[-1].notices.extend(self.notices)
        yield from last


def open_video_source(path: str | os.PathLike, start: float | None = None, frames: int | None = None,
                      duration: float | None = None, partial: bool = False) -> VideoSource:
    """Open the first video stream and select its frames (--start, --frames/--duration), decoding none."""
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
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        if not rate:
            raise MediaError(f"{p.name}: the video stream has no frame rate")
        fps = exact_fps(rate)
        known = int(stream.frames or 0)
        declared, counted = declared_frames(container, stream, fps)
        total = known if known > 0 else MAX_VALUES  # unknown count: select lazily as frames come
        first, count = select_range(total, float(fps), start, frames, duration, "video")
        expected = count if declared <= 0 else max(1, min(count, declared - first))
        meta = {"frames": expected, "height": int(stream.codec_context.height or 0), "width": int(stream.codec_context.width or 0),
                "channels": 3, "fps": [fps.numerator, fps.denominator]}
    return VideoSource(p, fps, first, count, declared, counted, meta, (frames, duration, start), partial)


def _ends_early(name: str, first: int, read: int, count: int, declared: int, counted: bool,
                error: str | None) -> tuple[str, str] | None:
    """(refusal, notice) when the stream ended before the selected frames did, else None.

    Without a decode error, a stream that ends within frame_slack() of its declared end is whole
    (declared counts and durations are approximate); with one, any frame short of it counts, and
    where the container declares nothing, the error itself says the stream broke off.
    """
    if read >= count:
        return None  # every selected frame decoded
    slack = 0 if error is not None else frame_slack(declared, counted)
    if declared > 0 and first + read >= declared - slack:
        return None  # the stream ended where the container says it does (a decode error past that end loses nothing declared)
    if declared <= 0 and error is None:
        return None  # the container declares nothing and nothing failed: the stream simply ended
    why = f"decode error: {error}" if error is not None else "damaged or truncated file"
    end = first + read - 1
    if declared > first + read:
        asked = min(first + count, declared) - first  # frames the selection asked for that the container declares
        frames_read = f"read {read} of {asked} frames" + (f" from frame {first}" if first else "")
        detail = why if asked == declared else f"{declared} declared; {why}"
        problem = f"{name}: the video stream ends early: {frames_read} ({detail})"
        notice = f"encoded frames {first}-{end} of {declared}: the stream ends early ({why})"
    else:  # a decode error where the container declares no count
        problem = f"{name}: the video stream breaks off after frame {end} ({why})"
        notice = f"encoded frames {first}-{end}: the stream breaks off there ({why})"
    return problem, notice


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
