"""Video on the decode runtime: frame rates, output grids for --fps/--scale/--size, lazy frames, measurement.

Frames render a few at a time, so a decode never holds more than one chunk of frames in memory.
"""

from __future__ import annotations

import math
import time
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


class NativeFrames:
    """Float frames (h, w, 3) of a file's native grid by index, from its network or, for a segmented file
    (format 1.4), from the network of the segment holding the frame; the last two frames are kept."""

    def __init__(self, checked: CheckedFile, device: torch.device):
        self.pieces = list(zip(checked.starts, checked.segments, strict=True)) if checked.segments else [(0, checked)]
        self.device = device
        self.cache: dict[int, np.ndarray] = {}
        self.loaded: tuple[int, nn.Module] | None = None  # one segment's network at a time

    def _network(self, index: int) -> nn.Module:
        if self.loaded is None or self.loaded[0] != index:
            inner = self.pieces[index][1]
            self.loaded = (index, load_model(inner.header, inner.tensors))
        return self.loaded[1]

    def __call__(self, k: int) -> np.ndarray:
        if k not in self.cache:
            for old in [i for i in self.cache if i < k - 1]:
                del self.cache[old]
            index = max(i for i, (start, _) in enumerate(self.pieces) if start <= k)
            start, inner = self.pieces[index]
            header = inner.header
            n, h, w = (int(header["signal"][key]) for key in ("frames", "height", "width"))
            j = k - start
            frame = np.empty((h * w, 3), dtype=np.float32)
            for s, e, chunk in iter_render(self._network(index), header, (n, h, w), j * h * w, (j + 1) * h * w, self.device):
                frame[s - j * h * w:e - j * h * w] = chunk
            self.cache[k] = frame.reshape(h, w, 3)
        return self.cache[k]


def iter_blended_frames(native_frame: NativeFrames, header: dict, shape: tuple[int, int, int], fps: Fraction) -> Iterator[np.ndarray]:
    """The classic rendering: native frames from the network(s), blended in time at each output frame's
    timestamp and resized with Lanczos; at most two native frames are held (a segment boundary is no edge)."""
    n = int(header["signal"]["frames"])
    native_fps = Fraction(*header["signal"]["fps"])
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
        if checked.segments and self.rendering == "network" and self.shape[0] != checked.header["signal"]["frames"]:
            raise SpdrError("--resample network renders one network over the whole clip: not at another frame rate of a "
                            "segmented file (each segment its own network); use --resample classic")
        self.checked = checked
        self.model = None if checked.segments else load_model(checked.header, checked.tensors)
        self.device = device

    def frames(self) -> Iterator[np.ndarray]:
        """uint8 RGB frames (h, w, 3), one at a time."""
        if self.rendering == "classic":
            return iter_blended_frames(NativeFrames(self.checked, self.device), self.header, self.shape, self.fps)
        if self.model is not None:
            return iter_frames(self.model, self.header, self.shape, self.device)
        return self._segment_frames()

    def _segment_frames(self) -> Iterator[np.ndarray]:
        """A segmented file's frames at the native frame count, each segment's network at the output frame size."""
        for inner in self.checked.segments:
            n = int(inner.header["signal"]["frames"])
            yield from iter_frames(load_model(inner.header, inner.tensors), inner.header, (n, *self.shape[1:]), self.device)


def measure_order(frames: int) -> list[int]:
    """Every frame index once, spread out first (0, the middle, the quarters, ...: a van der Corput order), so
    that a measurement stopped early has still seen the whole clip."""
    if frames <= 0:
        return []
    bits = max(1, (frames - 1).bit_length() + 1)
    # floor(frames * radical inverse of i): 2^bits >= 2 frames picks, under one frame apart, so every frame comes up
    return list(dict.fromkeys(int(f"{i:0{bits}b}"[::-1], 2) * frames >> bits for i in range(1 << bits)))


def measure_video(signal: Signal, checked: CheckedFile, device: torch.device, seconds: float | None = None) -> dict:
    """PSNR over the decoded frames, mean rho_AG, and each frame's PSNR (nan for a frame not measured).

    seconds: stop measuring once this much time is spent (after at least one frame), frames taken in
    measure_order; the result says how many were measured. Each frame is what a native decode writes."""
    start = time.perf_counter()
    native = NativeFrames(checked, device)
    errors: dict[int, float] = {}
    rhos = []
    for k in measure_order(signal.grid_shape[0]):
        if errors and seconds is not None and time.perf_counter() - start >= seconds:
            break
        got = to_pixels(native(k), 8).astype(np.float64) / 127.5 - 1.0
        ref = to_pixels(signal.data[k], 8).astype(np.float64) / 127.5 - 1.0
        errors[k] = mse(got, ref)
        rhos.append(rho_ag(got, ref, axes=(0, 1)))
    per_frame = [psnr_from_mse(errors[k]) if k in errors else math.nan for k in range(signal.grid_shape[0])]
    return {"psnr_db": psnr_from_mse(float(np.mean(list(errors.values())))), "rho_ag": float(np.mean(rhos)),
            "frame_psnr_db": per_frame, "measured_frames": len(errors)}
