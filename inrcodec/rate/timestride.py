"""How many frames share one latent plane of a video's finest level: chosen per segment from its motion.

Why: the video pyramid's finest level (format 1.6) holds one (y, x) plane per `stride` frames and samples time
linearly between planes, so with stride 2 a frame between two planes is close to a blend of its neighbours. On
near-static content that halves the finest latents at little cost; under motion, blending is a poor predictor
and the fit stalls near it whatever the rate. The measure is how well blending predicts each interior frame
from its two neighbours (blend_psnr, on [-1, 1], the source's own frames): below BLEND_STRIDE_DB the segment
gets one plane a frame. Measured side by side (decoded files; `python benchmarks/video_probe.py CLIP FRAMES Q
STRIDE STEPS`, and the sliding square of benchmarks/video_stride_square.py at 200 steps):

* carphone (first 16 frames, blend 30.6 dB), 500 steps: Q10 stride 2 5563 B 27.23 dB, stride 1 7706 B 26.63 dB;
* bikes (first 8 frames, blend 28.2 dB), Q10: stride 2 4469 B 28.92 dB (600 steps; 200 steps 5842 B 28.13),
  stride 1 5008 B 32.75 dB (500 steps);
* the square (16 frames, blend 27.1 dB): Q0 / Q10 / Q30 stride 2 989 B 29.50 dB / 1092 B 31.93 / 1431 B 33.93,
  stride 1 785 B 26.29 / 1127 B 34.85 / 1642 B 36.21.

All three were looked at while choosing the threshold (midway between bikes and carphone); no video was held out.
"""

from __future__ import annotations

import math

import numpy as np

from ..metrics import psnr_from_mse

BLEND_STRIDE_DB = 29.5  # a segment whose frames blend-predict below this gets one latent plane a frame
STATIC_STRIDE = 2  # frames a plane otherwise
MIN_BLEND_FRAMES = 3  # fewer frames have no interior frame to measure: one plane each


def blend_psnr(frames: np.ndarray) -> float:
    """PSNR on [-1, 1] of each interior frame against the mean of its two neighbours, over all of them
    (frames: (t, y, x, channels) in [-1, 1]); inf for a static clip, nan with fewer than MIN_BLEND_FRAMES frames.
    One frame at a time in float64, so the extra memory is a few frames, whatever the segment's length."""
    if frames.shape[0] < MIN_BLEND_FRAMES:
        return math.nan
    total = 0.0
    for i in range(1, frames.shape[0] - 1):
        guess = (frames[i - 1].astype(np.float64) + frames[i + 1]) / 2
        total += float(np.sum((frames[i] - guess) ** 2))
    return psnr_from_mse(total / frames[1:-1].size)


def time_stride(frames: np.ndarray) -> int:
    """Frames a finest latent plane of this segment: 1 under motion (blend_psnr below BLEND_STRIDE_DB, or too few
    frames to tell), else STATIC_STRIDE."""
    psnr = blend_psnr(frames)
    return 1 if math.isnan(psnr) or psnr < BLEND_STRIDE_DB else STATIC_STRIDE
