"""Video on the decode runtime: frame rates, output grids for --fps/--scale/--size, lazy frames, measurement.

Frames render a few at a time, so a decode never holds more than one chunk of frames in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import numpy as np
import torch
from torch import nn

from ..errors import SpdrError
from ..format.limits import CheckedFile
from ..media.image import to_pixels
from ..media.resample import blend_positions, lanczos, rendering
from ..metrics import mse, psnr_from_mse, rho_ag
from ..signal import Signal
from .audio import half_up
from .runtime import check_output_size, iter_render, load_model, native_shape

FRAME_CHUNK = 1 << 18  # samples per rendered group of frames (at least one frame)


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
    frames = n if fps is None else max(1, half_up(n * out_fps / native))
    if size is not None:
        h, w = (int(v) for v in size)
    elif scale is not None:
        h, w = max(1, half_up(h * float(scale))), max(1, half_up(w * float(scale)))
    return (frames, h, w), out_fps


def duration_seconds(header: dict) -> float:
    """Length of an audio or video file's signal in seconds (0 for images)."""
    sig = header["signal"]
    if header["modality"] == "audio":
        return sig["samples"] / sig["sample_rate"]
    if header["modality"] == "video":
        return float(sig["frames"] * Fraction(sig["fps"][1], sig["fps"][0]))
    return 0.0


def iter_frames(model: nn.Module, header: dict, shape: tuple[int, int, int], device: torch.device) -> Iterator[np.ndarray]:
    """uint8 RGB frames (h, w, 3) of the grid `shape`, rendered a few frames at a time."""
    t, h, w = shape
    per = max(1, FRAME_CHUNK // (h * w))
    for f0 in range(0, t, per):
        f1 = min(t, f0 + per)
        block = np.empty(((f1 - f0) * h * w, 3), dtype=np.uint8)
        for s, e, chunk in iter_render(model, header, shape, f0 * h * w, f1 * h * w, device):
            block[s - f0 * h * w:e - f0 * h * w] = to_pixels(chunk, 8)
        yield from block.reshape(f1 - f0, h, w, 3)


def iter_blended_frames(model: nn.Module, header: dict, shape: tuple[int, int, int], fps: Fraction,
                        device: torch.device) -> Iterator[np.ndarray]:
    """The classic rendering: native frames from the network, blended in time at each output frame's
    timestamp and resized with Lanczos; at most two native frames are held."""
    n, h, w = (int(header["signal"][k]) for k in ("frames", "height", "width"))
    native_fps = Fraction(*header["signal"]["fps"])
    cache: dict[int, np.ndarray] = {}

    def native_frame(k: int) -> np.ndarray:
        if k not in cache:
            for old in [i for i in cache if i < k - 1]:
                del cache[old]
            frame = np.empty((h * w, 3), dtype=np.float32)
            for s, e, chunk in iter_render(model, header, (n, h, w), k * h * w, (k + 1) * h * w, device):
                frame[s - k * h * w:e - k * h * w] = chunk
            cache[k] = frame.reshape(h, w, 3)
        return cache[k]

    for a, b, weight in blend_positions(n, native_fps, shape[0], fps):
        frame = native_frame(a) if weight == 0.0 else (1.0 - weight) * native_frame(a) + weight * native_frame(b)
        yield lanczos(to_pixels(frame, 8), shape[1], shape[2])


class VideoDecode:
    """A resolved video render request: the grid and frame rate, and the frames on demand (nothing rendered yet).

    resample (media/resample.py `rendering`): off the native frames and frame size, "classic" (the auto
    default) blends the network's native frames and resizes them with Lanczos; "network" evaluates the
    network at every output frame's timestamp and pixel.
    """

    def __init__(self, checked: CheckedFile, fps: Fraction | None = None, scale: float | None = None,
                 size: tuple[int, int] | None = None, device: torch.device = torch.device("cpu"), force: bool = False,
                 resample: str = "auto"):
        self.header = checked.header
        self.shape, self.fps = video_grid(checked.header, fps, scale, size)
        check_output_size("video", self.shape, force)
        self.rendering = rendering(resample, native_shape(checked.header), self.shape)
        self.model = load_model(checked.header, checked.tensors)
        self.device = device

    def frames(self) -> Iterator[np.ndarray]:
        """uint8 RGB frames (h, w, 3), one at a time."""
        if self.rendering == "classic":
            return iter_blended_frames(self.model, self.header, self.shape, self.fps, self.device)
        return iter_frames(self.model, self.header, self.shape, self.device)


def measure_video(signal: Signal, checked: CheckedFile, device: torch.device) -> dict:
    """PSNR over all frames, mean rho_AG, and each frame's PSNR, of the decoded frames."""
    errors, rhos = [], []
    for i, frame in enumerate(VideoDecode(checked, device=device, force=True).frames()):
        got = frame.astype(np.float64) / 127.5 - 1.0
        ref = to_pixels(signal.data[i], 8).astype(np.float64) / 127.5 - 1.0
        errors.append(mse(got, ref))
        rhos.append(rho_ag(got, ref, axes=(0, 1)))
    return {"psnr_db": psnr_from_mse(float(np.mean(errors))), "rho_ag": float(np.mean(rhos)),
            "frame_psnr_db": [psnr_from_mse(m) for m in errors]}
