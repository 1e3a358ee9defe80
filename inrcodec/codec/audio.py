"""Audio on the decode runtime: amplitude mapping, output grids for --rate/--scale, rendering, measurement.

Audio is fitted at amplitude max|x| -> 1 (the header's values.scale holds max|x|), so the network
always fits [-1, 1] and decoding restores the original level, never beyond the stored amplitude.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch

from ..errors import SpdrError
from ..format.limits import CheckedFile
from ..media.audio import select_range
from ..media.resample import rendering, swresample
from ..metrics import psnr, rho_ag, snr
from ..signal import Signal
from .runtime import check_output_size, iter_render, load_model, render


def value_map(signal: Signal) -> tuple[np.ndarray, dict]:
    """The values the network fits (N, C) and the header's "values" object that undoes the mapping."""
    c = signal.channels
    data = signal.data.reshape(-1, c)
    if signal.modality != "audio":
        return data, {"offset": [0.0] * c, "scale": [1.0] * c}
    peak = float(np.max(np.abs(data))) if data.size else 0.0
    peak = peak if peak > 0 and math.isfinite(peak) else 1.0
    return (data / np.float32(peak)).astype(np.float32), {"offset": [0.0] * c, "scale": [peak] * c}


def half_up(x: Fraction | float) -> int:
    """Round half up (Python's round() rounds half to even)."""
    return int(math.floor(x + Fraction(1, 2) if isinstance(x, Fraction) else x + 0.5))


def _grid_for(samples: int, sr: int, rate: int | None, scale: float | None) -> tuple[int, int]:
    if rate is not None and scale is not None:
        raise SpdrError("use either --rate or --scale, not both")
    if rate is not None:
        return max(1, half_up(Fraction(samples * int(rate), sr))), int(rate)
    if scale is not None:
        return max(1, half_up(samples * float(scale))), max(1, half_up(sr * float(scale)))
    return samples, sr


def audio_grid(header: dict, rate: int | None = None, scale: float | None = None) -> tuple[int, int]:
    """(samples, sample rate) to render: same duration at `rate` Hz, or `scale` times the samples."""
    sig = header["signal"]
    return _grid_for(int(sig["samples"]), int(sig["sample_rate"]), rate, scale)


def decode_audio(checked: CheckedFile, rate: int | None = None, scale: float | None = None,
                 device: torch.device = torch.device("cpu"), force: bool = False, resample: str = "auto",
                 start: float | None = None, duration: float | None = None) -> tuple[np.ndarray, int]:
    """(float32 samples (n, channels) at the original level, sample rate).

    resample (media/resample.py `rendering`): at another rate, "classic" (the auto default) renders the
    native samples and resamples them with libswresample; "network" evaluates the network at every
    output sample's timestamp. start/duration (seconds) pick a range: of a segmented file (format
    1.4) only the segments that overlap it are rendered; a range is resampled classically.
    """
    header = checked.header
    total, sr = int(header["signal"]["samples"]), int(header["signal"]["sample_rate"])
    first, count = (0, total) if start is None and duration is None else select_range(total, sr, start, None, duration, "audio")
    n, out_rate = _grid_for(count, sr, rate, scale)
    check_output_size("audio", (n,), force)
    if checked.segments or count != total:
        if n != count and rendering(resample, (count,), (n,)) == "network":
            raise SpdrError("--resample network renders one network over the whole clip: not with --start/--duration "
                            "or a segmented file (each segment its own network); use --resample classic")
        samples = _native_range(checked, first, count, device)
        if n == count:
            return samples, out_rate
        peak = max(float(np.max(np.abs(f.header["values"]["scale"]))) for f in checked.segments or (checked,))
        return np.clip(swresample(samples, sr, out_rate, n), -peak, peak), out_rate  # no boundary is a resampling edge
    model = load_model(header, checked.tensors)
    if rendering(resample, (total,), (n,)) == "classic":
        sc, off = (np.asarray(header["values"][k], dtype=np.float32) for k in ("scale", "offset"))
        samples = swresample(render(model, header, (total,), device=device), sr, out_rate, n)
        return np.clip(samples, off - sc, off + sc), out_rate  # never beyond the stored amplitude, as the network's own render
    return render(model, header, (n,), device=device), out_rate


def _native_range(checked: CheckedFile, first: int, count: int, device: torch.device) -> np.ndarray:
    """Native samples first..first+count-1, and only those rendered: of a segmented file, from the segments
    that overlap them; of one network, its samples in that range (iter_render's start/stop)."""
    pieces = checked.segments or (checked,)
    starts = checked.starts or (0,)
    parts = []
    for inner, begin in zip(pieces, starts, strict=True):
        length = int(inner.header["signal"]["samples"])
        lo, hi = max(first, begin) - begin, min(first + count, begin + length) - begin
        if lo >= hi:
            continue
        model = load_model(inner.header, inner.tensors)
        parts += [chunk for _, _, chunk in iter_render(model, inner.header, (length,), lo, hi, device)]
    return np.concatenate(parts)


def measure_audio(signal: Signal, checked: CheckedFile, device: torch.device) -> dict:
    """PSNR, rho_AG and SNR of the decoded samples against the source."""
    out, _ = decode_audio(checked, device=device, force=True)
    ref = signal.data
    return {"psnr_db": psnr(out, ref), "rho_ag": rho_ag(out, ref, axes=(0,)), "snr_db": snr(ref, out)}
