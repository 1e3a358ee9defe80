"""Audio through soundfile: WAV, FLAC, OGG, AIFF (any rate, channels, sample format) in and out.

A loaded Signal holds the samples at their original level, shape (samples, channels), float32;
the codec, not this module, normalises them by max|x| for fitting (docs/format.md, 3.4).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import MediaError
from ..signal import Signal

SAVE_FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".oga": "OGG", ".aiff": "AIFF", ".aif": "AIFF"}
FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
MAX_CHANNELS = 64
MAX_RATE = 1_000_000
MAX_SAMPLES = 2**31 - 1


def _why(e: Exception) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text.split(": ", 1)[-1] if "Error opening" in text else text


def probe_audio(path: str | os.PathLike):
    """soundfile's info for a readable audio file, or None when libsndfile cannot open it."""
    try:
        info = sf.info(os.fspath(path))
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError, OSError):
        return None
    return info if info.channels >= 1 and info.samplerate >= 1 else None


def select_range(total: int, rate: float, start: float | None, count: int | None, duration: float | None, what: str) -> tuple[int, int]:
    """First index and count of the samples (or frames) that --start and --frames/--duration pick."""
    if count is not None and duration is not None:
        raise MediaError(f"give either --frames or --duration, not both ({what})")
    first = int(np.floor((start or 0.0) * rate + 0.5))
    if first >= total:
        raise MediaError(f"--start {start:g} s is at or past the end of the {what} ({total / rate:.3f} s)")
    n = total - first
    if duration is not None:
        n = max(1, int(np.floor(duration * rate + 0.5)))
    elif count is not None:
        n = count
    return first, min(n, total - first)


def short_range_notice(name: str, asked: int | None, seconds: float | None, got: int, rate: float, unit: str) -> list[str]:
    """One line when --frames or --duration asked for more than the file holds from --start on (it is cut to what is there)."""
    wanted = asked if asked is not None else (None if seconds is None else max(1, int(np.floor(seconds * rate + 0.5))))
    if wanted is None or got >= wanted:
        return []
    what = f"--frames {asked}" if asked is not None else f"--duration {seconds:g} s"
    return [f"{name}: {what} asked for {wanted} {unit}, the file holds {got} from there on: encoded {got} "
            f"({got / rate:.3f} s)"]


PEAK_BLOCK = 1 << 20  # samples AudioSource.peak holds at once (8 MiB of stereo float32)


@dataclass
class AudioSource:
    """An audio file's range, opened but not read: what a segmented encode reads block by block.

    meta is the header's "signal" object of the whole range; read(first, count) returns samples
    first..first+count-1 of the range (float32, (count, channels)), checked finite."""

    path: Path
    first: int
    meta: dict
    notices: list[str] = field(default_factory=list)
    modality: str = "audio"

    def read(self, first: int, count: int) -> np.ndarray:
        try:
            data, _ = sf.read(os.fspath(self.path), start=self.first + first, frames=count, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as e:
            raise MediaError(f"{self.path.name}: cannot read audio: {_why(e)}") from e
        if data.shape[0] != count:
            raise MediaError(f"{self.path.name}: audio ends after {self.first + first + data.shape[0]} samples; "
                             f"its header declares more")
        if not np.all(np.isfinite(data)):
            raise MediaError(f"{self.path.name}: audio holds NaN or infinite samples")
        return np.ascontiguousarray(data)

    def peak(self, block: int | None = None) -> float:
        """The largest |sample| of the range, read `block` (default PEAK_BLOCK) samples at a time, so memory stays
        bounded at any length: what a segmented encode measures every segment's rate weight against
        (rate/quality.encode_quality's reference_peak)."""
        block = block or PEAK_BLOCK
        top = 0.0
        for first in range(0, self.meta["samples"], block):
            data = self.read(first, min(block, self.meta["samples"] - first))
            top = max(top, float(np.max(np.abs(data))) if data.size else 0.0)
        return top

    def signal(self, first: int = 0, count: int | None = None) -> Signal:
        """Samples first..first+count-1 (default: the whole range) as a Signal."""
        count = self.meta["samples"] - first if count is None else count
        return Signal("audio", self.read(first, count), {**self.meta, "samples": count}, list(self.notices))


def open_audio(path: str | os.PathLike, start: float | None = None, duration: float | None = None) -> AudioSource:
    """Check an audio file and select the range start..start+duration seconds, reading no samples."""
    p = Path(path)
    info = probe_audio(p)
    if info is None:
        raise MediaError(f"{p.name}: not a readable audio file")
    rate, channels = int(info.samplerate), int(info.channels)
    if channels > MAX_CHANNELS:
        raise MediaError(f"{p.name}: {channels} channels; at most {MAX_CHANNELS} are supported")
    if rate > MAX_RATE:
        raise MediaError(f"{p.name}: sample rate {rate} Hz is above {MAX_RATE} Hz")
    if info.frames <= 0:
        raise MediaError(f"{p.name}: audio file has no samples")
    if info.frames > MAX_SAMPLES:
        raise MediaError(f"{p.name}: {info.frames} samples is more than {MAX_SAMPLES}")
    first, count = select_range(int(info.frames), rate, start, None, duration, "audio")
    meta = {"samples": count, "channels": channels, "sample_rate": rate, "subtype": str(info.subtype)}
    return AudioSource(p, first, meta, short_range_notice(p.name, None, duration, count, rate, "samples"))


def load_audio(path: str | os.PathLike, start: float | None = None, duration: float | None = None) -> Signal:
    """Read an audio file (optionally the range start..start+duration seconds) into a Signal.

    Its length is what decodes (some containers declare an estimate), unlike AudioSource.read."""
    src = open_audio(path, start, duration)
    try:
        data, _ = sf.read(os.fspath(src.path), start=src.first, frames=src.meta["samples"], dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as e:
        raise MediaError(f"{src.path.name}: cannot read audio: {_why(e)}") from e
    if data.shape[0] == 0:
        raise MediaError(f"{src.path.name}: audio file has no samples")
    if not np.all(np.isfinite(data)):
        raise MediaError(f"{src.path.name}: audio holds NaN or infinite samples")
    meta = {**src.meta, "samples": int(data.shape[0])}
    notices = short_range_notice(src.path.name, None, duration, int(data.shape[0]), meta["sample_rate"], "samples")
    return Signal("audio", np.ascontiguousarray(data), meta, notices)


def array_to_audio(samples: np.ndarray, sample_rate: int, subtype: str = "FLOAT") -> Signal:
    """A Signal from a float array (samples,) or (samples, channels) at `sample_rate` Hz."""
    a = np.asarray(samples, dtype=np.float32)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[0] < 1 or not 1 <= a.shape[1] <= MAX_CHANNELS:
        raise MediaError(f"audio array must be (samples,) or (samples, 1..{MAX_CHANNELS}), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise MediaError("audio arrays must be finite")
    if not 1 <= int(sample_rate) <= MAX_RATE:
        raise MediaError(f"sample rate must be in 1..{MAX_RATE} Hz")
    meta = {"samples": int(a.shape[0]), "channels": int(a.shape[1]), "sample_rate": int(sample_rate), "subtype": subtype}
    return Signal("audio", np.ascontiguousarray(a), meta)


def audio_format(path: str | os.PathLike) -> str:
    """The soundfile container for an output path's extension; MediaError when unsupported."""
    ext = Path(path).suffix.lower()
    if ext not in SAVE_FORMATS:
        raise MediaError(f"unsupported audio output extension {ext or '(none)'!r}; use one of {', '.join(SAVE_FORMATS)}")
    return SAVE_FORMATS[ext]


def output_subtype(fmt: str, subtype: str) -> str:
    """The source's subtype when the output container takes it, else the container's default."""
    return subtype if sf.check_format(fmt, subtype) else sf.default_subtype(fmt)


def encode_audio_bytes(samples: np.ndarray, sample_rate: int, fmt: str, subtype: str) -> bytes:
    """The bytes of an audio file; integer and lossy subtypes get samples clipped to [-1, 1], never wrapped."""
    sub = output_subtype(fmt, subtype)
    x = np.asarray(samples, dtype=np.float32)
    if sub not in FLOAT_SUBTYPES:
        x = np.clip(x, -1.0, 1.0)
    buf = io.BytesIO()
    try:
        sf.write(buf, x, int(sample_rate), subtype=sub, format=fmt)
    except (sf.LibsndfileError, RuntimeError, ValueError) as e:
        raise MediaError(f"cannot write {fmt} audio at {sample_rate} Hz: {_why(e)}") from e
    return buf.getvalue()
