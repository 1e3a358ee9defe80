"""Audio and video on top of the codec: value mapping, output grids for --rate/--fps, lazy rendering, metrics.

Audio is fitted at amplitude max|x| -> 1 (the header's values.scale holds max|x|), so the network
always fits [-1, 1] and decoding restores the original level. Video frames render a few at a time,
so a decode never holds more than one chunk of frames in memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch

from . import safety
from .errors import OutputTooLargeError, SpdrError
from .grid import grid_coords, iter_chunks
from .metrics import mse, psnr, psnr_from_mse, rho_ag, snr
from .signal import Signal

EVAL_CHUNK = 1 << 16  # coordinates per forward pass
FRAME_CHUNK = 1 << 18  # samples per rendered group of frames (at least one frame)
MAX_FRAME_SAMPLES = 1 << 27  # one output frame above this needs force
MAX_OUTPUT_FRAMES = 1_000_000


def value_map(signal: Signal) -> tuple[np.ndarray, dict]:
    """The values the network fits (N, C) and the header's "values" object that undoes the mapping."""
    c = signal.channels
    data = signal.data.reshape(-1, c)
    if signal.modality != "audio":
        return data, {"offset": [0.0] * c, "scale": [1.0] * c}
    peak = float(np.max(np.abs(data))) if data.size else 0.0
    peak = peak if peak > 0 and math.isfinite(peak) else 1.0
    return (data / np.float32(peak)).astype(np.float32), {"offset": [0.0] * c, "scale": [peak] * c}


def eval_interval(samples: int, batch: int | None) -> int:
    """Minibatch steps between full-data losses: every two passes over the data, at least 25.

    One full evaluation costs about a third of samples / batch training steps, so this keeps it
    under a sixth of the fit however long the clip is.
    """
    return 25 if not batch else max(25, 2 * -(-samples // batch))


def _half_up(x: Fraction | float) -> int:
    return int(math.floor(x + Fraction(1, 2) if isinstance(x, Fraction) else x + 0.5))


def audio_grid(header: dict, rate: int | None = None, scale: float | None = None) -> tuple[int, int]:
    """(samples, sample rate) to render: same duration at `rate` Hz, or `scale` times the samples."""
    sig = header["signal"]
    n, sr = int(sig["samples"]), int(sig["sample_rate"])
    if rate is not None and scale is not None:
        raise SpdrError("use either --rate or --scale, not both")
    if rate is not None:
        return max(1, _half_up(Fraction(n * int(rate), sr))), int(rate)
    if scale is not None:
        return max(1, _half_up(n * float(scale))), max(1, _half_up(sr * float(scale)))
    return n, sr


def parse_fps(value: str | float | Fraction) -> Fraction:
    """'50', '29.97' or '30000/1001' as a positive Fraction."""
    try:
        f = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise SpdrError(f"frame rate {value!r} is not a number or a ratio such as 30000/1001") from None
    if f <= 0 or f > 1_000_000:
        raise SpdrError(f"frame rate {value} must be in (0, 1000000]")
    return f


def video_grid(header: dict, fps: Fraction | None = None, scale: float | None = None,
               size: tuple[int, int] | None = None) -> tuple[tuple[int, int, int], Fraction]:
    """((frames, height, width), fps): frames = round(duration x fps), duration = frames / native fps."""
    sig = header["signal"]
    native = Fraction(*sig["fps"])
    n, h, w = int(sig["frames"]), int(sig["height"]), int(sig["width"])
    if scale is not None and size is not None:
        raise SpdrError("use either --scale or --size, not both")
    out_fps = native if fps is None else Fraction(fps)
    frames = n if fps is None else max(1, _half_up(n * out_fps / native))
    if size is not None:
        h, w = (int(v) for v in size)
    elif scale is not None:
        h, w = max(1, _half_up(h * float(scale))), max(1, _half_up(w * float(scale)))
    return (frames, h, w), out_fps


def check_video_size(shape: tuple[int, int, int], force: bool) -> None:
    """Refuse an empty grid, and absurd frame sizes or counts unless forced."""
    if min(shape) < 1:
        raise SpdrError(f"output size {'x'.join(map(str, shape))} is empty")
    if not force and (shape[1] * shape[2] > MAX_FRAME_SAMPLES or shape[0] > MAX_OUTPUT_FRAMES):
        raise OutputTooLargeError(f"output would be {shape[0]} frames of {shape[2]}x{shape[1]}; pass --force to render it")


def evaluate(model: torch.nn.Module, header: dict, shape: tuple[int, ...], start: int, stop: int,
             device: torch.device) -> np.ndarray:
    """Samples start..stop of the grid `shape`: clip(output, -1, 1) * values.scale + values.offset."""
    scales = header["coords"]["scale"]
    sc = np.asarray(header["values"]["scale"], dtype=np.float32)
    off = np.asarray(header["values"]["offset"], dtype=np.float32)
    out = np.empty((stop - start, int(header["arch"]["out_features"])), dtype=np.float32)
    with torch.no_grad():
        for s, e in iter_chunks(stop - start, min(EVAL_CHUNK, safety.render_rows(header["arch"]))):
            x = grid_coords(shape, scales, start + s, start + e, device=device)
            out[s:e] = model(x).float().cpu().numpy()
            safety.check_finite(out[s:e])
    return np.clip(out, -1.0, 1.0) * sc + off


def render_audio(model: torch.nn.Module, header: dict, samples: int, device: torch.device) -> np.ndarray:
    """Float32 (samples, channels) at the original level, never beyond the stored amplitude."""
    return evaluate(model.to(device), header, (samples,), 0, samples, device)


def iter_frames(model: torch.nn.Module, header: dict, shape: tuple[int, int, int], device: torch.device) -> Iterator[np.ndarray]:
    """uint8 RGB frames (h, w, 3) of the grid `shape`, rendered a few frames at a time."""
    from .media.image import to_pixels

    model = model.to(device)
    t, h, w = shape
    per = max(1, FRAME_CHUNK // (h * w))
    for f0 in range(0, t, per):
        f1 = min(t, f0 + per)
        block = to_pixels(evaluate(model, header, shape, f0 * h * w, f1 * h * w, device), 8).reshape(f1 - f0, h, w, 3)
        yield from block


@dataclass
class Decoded:
    """What a decode request resolves to: the header, the model, the grid and the output rate."""

    header: dict
    model: torch.nn.Module
    shape: tuple[int, ...]
    rate: int | Fraction  # Hz for audio, frames per second for video
    device: torch.device


def open_decode(data: bytes, rate: int | None = None, fps: Fraction | None = None, scale: float | None = None,
                size: tuple[int, int] | None = None, device: str = "cpu", force: bool = False) -> Decoded:
    """Parse a .spdr file and resolve an audio or video render request (nothing rendered yet)."""
    from .codec import check_output_size, load_model, pick_device

    header, tensors = safety.read_checked(data)
    modality = header["modality"]
    if modality == "audio":
        if fps is not None or size is not None:
            raise SpdrError("--fps and --size apply to video; use --rate or --scale for audio")
        n, out_rate = audio_grid(header, rate, scale)
        shape: tuple[int, ...] = (n,)
        check_output_size(shape, force)
        r: int | Fraction = out_rate
    elif modality == "video":
        if rate is not None:
            raise SpdrError("--rate applies to audio; use --fps for video")
        shape, r = video_grid(header, fps, scale, size)
        check_video_size(shape, force)  # type: ignore[arg-type]
    else:
        raise SpdrError(f"{modality} files are decoded by the image path")
    return Decoded(header, load_model(header, tensors), shape, r, pick_device(device))


def measure(signal: Signal, data: bytes, device: torch.device) -> dict:
    """PSNR, rho_AG (and SNR for audio, per-frame PSNR for video), decoding the packed bytes."""
    dec = open_decode(data, device=str(device), force=True)
    if signal.modality == "audio":
        out = render_audio(dec.model, dec.header, signal.grid_shape[0], dec.device)
        ref = signal.data
        return {"psnr_db": psnr(out, ref), "rho_ag": rho_ag(out, ref, axes=(0,)), "snr_db": snr(ref, out)}
    from .media.image import to_pixels

    errors, rhos = [], []
    for i, frame in enumerate(iter_frames(dec.model, dec.header, dec.shape, dec.device)):  # type: ignore[arg-type]
        got = frame.astype(np.float64) / 127.5 - 1.0
        ref = to_pixels(signal.data[i], 8).astype(np.float64) / 127.5 - 1.0
        errors.append(mse(got, ref))
        rhos.append(rho_ag(got, ref, axes=(0, 1)))
    frame_psnr = [psnr_from_mse(m) for m in errors]
    return {"psnr_db": psnr_from_mse(float(np.mean(errors))), "rho_ag": float(np.mean(rhos)), "frame_psnr_db": frame_psnr}


def duration_seconds(header: dict) -> float:
    """Length of an audio or video file's signal in seconds (0 for images)."""
    sig = header["signal"]
    if header["modality"] == "audio":
        return sig["samples"] / sig["sample_rate"]
    if header["modality"] == "video":
        return float(sig["frames"] * Fraction(sig["fps"][1], sig["fps"][0]))
    return 0.0
