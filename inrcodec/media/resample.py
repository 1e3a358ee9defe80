"""Classic resamplers, from the well-kept libraries spdr already depends on: the trivial renderings the
network's own in-between samples are measured against, and the rendering `--resample classic` uses.

* images: Pillow's Lanczos filter on the decoded pixels, per channel (8 or 16 bits);
* audio: libswresample through PyAV (a windowed-sinc polyphase resampler), per channel; at an integer
  multiple of the rate it keeps every original sample exactly;
* video: frame blending in time (the two nearest frames, weighted by distance, frames at their
  timestamps k / fps), then Lanczos per frame in space on the 8-bit pixels.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from fractions import Fraction

import numpy as np

from ..errors import SpdrError

RESAMPLE_MODES = ("auto", "network", "classic")  # spdr decode --resample (media/resample.py `rendering`)
CLASSIC = {"image": "Lanczos (Pillow)", "audio": "libswresample (PyAV)", "video": "frame blending and Lanczos"}


def rendering(resample: str, native: Sequence[int], shape: Sequence[int]) -> str:
    """"network" or "classic": how a decode at `shape` renders a file fitted on `native`.

    network: the network evaluated on the requested grid. classic: the network on its native grid,
    then the medium's classic resampler (below). auto, the default, is classic whenever the grid
    differs from the native one: measured on real photos, clips and sounds, the plain network renders
    worse between its samples than the classic resampler does (benchmarks/results/anyres/), and the
    decoder never renders worse than the trivial resampler. On the native grid both are the same.
    """
    if resample not in RESAMPLE_MODES:
        raise SpdrError(f"resample must be one of {', '.join(RESAMPLE_MODES)}, got {resample!r}")
    if resample == "auto":
        return "network" if tuple(native) == tuple(shape) else "classic"
    return resample


def lanczos(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Integer pixels (h, w, c), uint8 or uint16, resized to (height, width, c) with Pillow's Lanczos filter.

    One channel at a time, so a render holds the output plus one plane (8-bit planes stay 8-bit in
    Pillow; 16-bit ones go through a float plane): memory stays bounded for very large renders.
    """
    from PIL import Image

    a = np.asarray(pixels)
    if a.shape[:2] == (height, width):
        return a.copy()
    out = np.empty((height, width, a.shape[2]), dtype=a.dtype)
    for c in range(a.shape[2]):
        plane = np.ascontiguousarray(a[..., c])
        if a.dtype == np.uint8:
            out[..., c] = np.asarray(Image.fromarray(plane, mode="L").resize((width, height), Image.Resampling.LANCZOS))
        else:
            big = np.asarray(Image.fromarray(plane.astype(np.float32), mode="F").resize((width, height), Image.Resampling.LANCZOS))
            out[..., c] = np.clip(np.rint(big), 0, np.iinfo(a.dtype).max).astype(a.dtype)
    return out


MIN_SWR_INPUT = 64


def swresample(samples: np.ndarray, rate: int, out_rate: int, count: int) -> np.ndarray:
    """Float samples (n, c) at `rate` resampled to `out_rate` by libswresample, cut or padded to exactly `count` samples."""
    import av

    x = np.asarray(samples, dtype=np.float32)
    if out_rate == rate and count == x.shape[0]:
        return x.copy()
    out = np.zeros((count, x.shape[1]), dtype=np.float32)
    if x.shape[0] < MIN_SWR_INPUT:  # libswresample emits nothing for inputs shorter than its filter: hold the last sample
        x = np.concatenate([x, np.repeat(x[-1:], MIN_SWR_INPUT - x.shape[0], axis=0)])
    for c in range(x.shape[1]):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(x[:, c]).reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = int(rate)
        resampler = av.AudioResampler(format="fltp", layout="mono", rate=int(out_rate))
        pieces = [f.to_ndarray()[0] for f in resampler.resample(frame)] + [f.to_ndarray()[0] for f in resampler.resample(None)]
        y = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
        n = min(count, y.shape[0])
        out[:n, c] = y[:n]
        if n < count and n > 0:
            out[n:, c] = y[n - 1]  # the filter's tail: hold the last sample rather than drop to silence
    return out


def blend_positions(frames: int, native_fps: Fraction, out_frames: int, out_fps: Fraction) -> Iterator[tuple[int, int, float]]:
    """For each output frame j (at j / out_fps): the native frames (a, b) around it and b's weight."""
    for j in range(out_frames):
        p = Fraction(j) * native_fps / out_fps  # position in native frame units
        a = min(frames - 1, math.floor(p))
        b = min(frames - 1, a + 1)
        yield a, b, float(min(Fraction(1), p - a)) if b != a else 0.0
