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
from ..media.resample import rendering, swresample
from ..metrics import psnr, rho_ag, snr
from ..signal import Signal
from .runtime import check_output_size, load_model, render


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


def audio_grid(header: dict, rate: int | None = None, scale: float | None = None) -> tuple[int, int]:
    """(samples, sample rate) to render: same duration at `rate` Hz, or `scale` times the samples."""
    sig = header["signal"]
    n, sr = int(sig["samples"]), int(sig["sample_rate"])
    if rate is not None and scale is not None:
        raise SpdrError("use either --rate or --scale, not both")
    if rate is not None:
        return max(1, half_up(Fraction(n * int(rate), sr))), int(rate)
    if scale is not None:
        return max(1, half_up(n * float(scale))), max(1, half_up(sr * float(scale)))
    return n, sr


def decode_audio(checked: CheckedFile, rate: int | None = None, scale: float | None = None,
                 device: torch.device = torch.device("cpu"), force: bool = False, resample: str = "auto") -> tuple[np.ndarray, int]:
    """(float32 samples (n, channels) at the original level, sample rate).

    resample (media/resample.py `rendering`): at another rate, "classic" (the auto default) renders the
    native samples and resamples them with libswresample; "network" evaluates the network at every
    output sample's timestamp.
    """
    header = checked.header
    n, out_rate = audio_grid(header, rate, scale)
    check_output_size("audio", (n,), force)
    if checked.segments:
        return _decode_segments(checked, n, out_rate, device, resample), out_rate
    model = load_model(header, checked.tensors)
    native = int(header["signal"]["samples"])
    if rendering(resample, (native,), (n,)) == "classic":
        sc, off = (np.asarray(header["values"][k], dtype=np.float32) for k in ("scale", "offset"))
        samples = swresample(render(model, header, (native,), device=device), int(header["signal"]["sample_rate"]), out_rate, n)
        return np.clip(samples, off - sc, off + sc), out_rate  # never beyond the stored amplitude, as the network's own render
    return render(model, header, (n,), device=device), out_rate


def render_segments(checked: CheckedFile, first: int = 0, stop: int | None = None,
                    device: torch.device = torch.device("cpu")) -> np.ndarray:
    """The native samples of segments first..stop-1 of a segmented file (format 1.4), one after another."""
    parts = []
    for inner in checked.segments[first:stop]:
        model = load_model(inner.header, inner.tensors)
        parts.append(render(model, inner.header, (int(inner.header["signal"]["samples"]),), device=device))
    return np.concatenate(parts)


def _decode_segments(checked: CheckedFile, n: int, out_rate: int, device: torch.device, resample: str) -> np.ndarray:
    """A segmented file's samples at n samples / out_rate Hz: every segment at its native rate, joined, then
    resampled as a whole (libswresample), so that no segment boundary is a resampling edge."""
    native = int(checked.header["signal"]["samples"])
    if n != native and rendering(resample, (native,), (n,)) == "network":
        raise SpdrError("--resample network renders one network over the whole clip; this file is segmented "
                        "(each segment its own network): use --resample classic")
    samples = render_segments(checked, device=device)
    if n == native:
        return samples
    peak = max(float(np.max(np.abs(s.header["values"]["scale"]))) for s in checked.segments)
    return np.clip(swresample(samples, int(checked.header["signal"]["sample_rate"]), out_rate, n), -peak, peak)


def measure_audio(signal: Signal, checked: CheckedFile, device: torch.device) -> dict:
    """PSNR, rho_AG and SNR of the decoded samples against the source."""
    out, _ = decode_audio(checked, device=device, force=True)
    ref = signal.data
    return {"psnr_db": psnr(out, ref), "rho_ag": rho_ag(out, ref, axes=(0,)), "snr_db": snr(ref, out)}
