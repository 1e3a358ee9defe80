"""What every encoder returns, and the one place a header is assembled and a written file is measured.

Both encoders (the plain preset path, codec/encode.py, and rate control, rate/bpp.py) build their
header with `build_header` and their result with `finish`, which decodes the packed bytes: the PSNR
an encode reports is always the PSNR of what a decoder renders from the file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from .._version import __version__
from ..format import container, limits
from ..format.geometry import is_grid_arch
from ..metrics import psnr_from_mse
from ..nn.coords import CENTRE, TIMESTAMP
from ..signal import AXES, Signal
from .audio import measure_audio
from .image import measure_image
from .presets import Resolved
from .video import measure_video

COORD_SCALES = {"image": 1.0, "audio": 100.0, "video": 1.0}  # audio: the paper's [-100, 100] time axis
# The time axis of short audio and video is scaled down so that, at init, the first layer's fastest time
# frequency (first_omega0 * s / in_features rad per unit) is at most a fraction of the samples' Nyquist
# frequency (pi n / 2): s = min(COORD_SCALES, fraction * pi n * in_features / (2 * 30)). Video: 0.25
# for 9 frames, 1 (as before) from 37 frames; audio: 25 for 1536 samples, 100 (as before) from 6141.
# Measured in benchmarks/results/anyres/levers.md (held-out samples at 2x the rate, two inputs each):
# video in-between frames +6 to +9 dB, audio +14 dB, the fitted samples themselves no worse.
TIME_NYQUIST_FRACTION = {"audio": 0.311, "video": 0.177}


@dataclass
class EncodeResult:
    """The written bytes and the facts `spdr encode` reports (measured from those bytes)."""

    data: bytes
    header: dict
    steps: int
    seconds: float
    params: int
    float_psnr_db: float
    psnr_db: float
    rho_ag: float
    resolved: Resolved
    snr_db: float | None = None  # audio
    frame_psnr_db: list[float] | None = None  # video, one per frame
    notices: list[str] = field(default_factory=list)  # where the encoder did other than asked, one line each

    @property
    def bytes(self) -> int:
        return len(self.data)


def time_scale(modality: str, n: int, first_omega0: float = 30.0) -> float:
    """The time axis' coordinate scale for n samples (frames) of audio or video (TIME_NYQUIST_FRACTION), at most
    COORD_SCALES[modality]."""
    rule = TIME_NYQUIST_FRACTION[modality] * math.pi * max(1, int(n)) * len(AXES[modality]) / (2.0 * first_omega0)
    return min(COORD_SCALES[modality], rule)


def coord_scales(modality: str, grid_shape: Sequence[int]) -> list[float]:
    """Each axis' coordinate scale, as the header's coords.scale: the time axis of audio spans up to [-100, 100]
    and of video up to [-1, 1], shorter for a short clip (time_scale); spatial axes [-1, 1]."""
    scales = [COORD_SCALES[modality] if a == "t" else 1.0 for a in AXES[modality]]
    if modality in TIME_NYQUIST_FRACTION:
        t = AXES[modality].index("t")
        scales[t] = time_scale(modality, grid_shape[t])
    return scales


def coord_convention(modality: str) -> str:
    """What new files use: timestamps on the time axis of audio and video (format 1.2), pixel centres for images."""
    return "timestamp" if "t" in AXES[modality] else "pixel-centre"


def coord_placements(modality: str) -> list[str]:
    """The placement of each axis' samples (nn/coords.py) under coord_convention(modality), for fitting."""
    timestamp = coord_convention(modality) == "timestamp"
    return [TIMESTAMP if timestamp and a == "t" else CENTRE for a in AXES[modality]]


def build_header(signal: Signal, arch: dict, quant: dict, values: dict | None = None, **encoder) -> dict:
    """The header of an encode of `signal`: signal facts, coordinates, value mapping, network, quantization.

    `encoder` holds the informative facts (preset, steps, seed, ...); None values are left out and
    the tool's version is added. Nothing here depends on time or machine, so encodes are reproducible.
    A latent grid's coordinates span [-1, 1] on every axis (an audio grid's time axis too, format 1.5).
    """
    c = signal.channels
    axes = AXES[signal.modality]
    scales = [1.0] * len(axes) if is_grid_arch(arch) else coord_scales(signal.modality, signal.grid_shape)
    return {
        "modality": signal.modality,
        "signal": dict(signal.meta),
        "coords": {"convention": coord_convention(signal.modality), "axes": list(axes), "scale": scales},
        "values": values or {"offset": [0.0] * c, "scale": [1.0] * c},
        "arch": dict(arch),
        "quant": quant,
        "encoder": {"tool": f"spdr {__version__}", **{k: v for k, v in encoder.items() if v is not None}},
    }


def measure(signal: Signal, data: bytes, device: torch.device, seconds: float | None = None) -> dict:
    """PSNR and rho_AG (and SNR for audio, per-frame PSNR for video) of what a decoder renders from `data`;
    video stops measuring frames after `seconds` (codec/video.measure_video)."""
    checked = limits.read_checked(data)
    if signal.modality == "audio":
        return measure_audio(signal, checked, device)
    if signal.modality == "video":
        return measure_video(signal, checked, device, seconds)
    return measure_image(signal, checked, device)


def finish(signal: Signal, data: bytes, *, steps: int, seconds: float, params: int, float_mse: float, resolved: Resolved,
           device: torch.device, notices: list[str] | None = None, measure_seconds: float | None = None) -> EncodeResult:
    """The EncodeResult of the packed `data`, its metrics measured by decoding it (a video's frames for at
    most `measure_seconds`, when given: then a notice says how many frames the figures cover).

    Its notices are the signal's (from loading) followed by the encoder's `notices`, each once.
    """
    m = measure(signal, data, device, measure_seconds)
    header = container.peek(data)["header"]
    frames = signal.grid_shape[0] if signal.modality == "video" else 0
    if m.get("measured_frames", frames) < frames:
        notices = [*(notices or []), f"--time: PSNR measured on {m['measured_frames']} of {frames} frames, spread over the clip"]
    lines = list(dict.fromkeys([*signal.notices, *(notices or [])]))
    return EncodeResult(data, header, steps, seconds, params, psnr_from_mse(float_mse), m["psnr_db"], m["rho_ag"], resolved,
                        m.get("snr_db"), m.get("frame_psnr_db"), lines)
