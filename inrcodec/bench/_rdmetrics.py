"""Metrics of the rate-distortion bench: RGB PSNR, MS-SSIM, and the Bjøntegaard delta rate.

Every metric is taken on the 8-bit RGB pixels a decoder returns, against the 8-bit source, the
convention of the image-codec literature. MS-SSIM is pytorch-msssim's (Wang et al. 2003: 5 scales,
weights 0.0448/0.2856/0.3001/0.2363/0.1333, gaussian window 11 / sigma 1.5, data range 255, per
channel then averaged); we do not keep our own copy so that our numbers match everyone else's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BD_WINDOW = (0.25, 2.0)  # bits per pixel: the rate range the BD-rates are taken over, where both curves reach
MSSSIM_WINDOW = 11  # the standard gaussian window; images under 161 px on the short side get a smaller one


def rgb_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 RGB images, peak 255, MSE over every channel."""
    err = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if err == 0 else float(10 * np.log10(255.0**2 / err))


def msssim_window(height: int, width: int) -> int | None:
    """The gaussian window MS-SSIM uses at this size: 11 when the short side exceeds 160 px (4 halvings
    leave room for it), else the largest odd window that fits (a non-standard MS-SSIM, for tiny test
    runs), None when not even 3 fits (short side 32 px or less)."""
    side = min(height, width)
    for win in range(MSSSIM_WINDOW, 2, -2):
        if side > (win - 1) * 16:
            return win
    return None


def ms_ssim(a: np.ndarray, b: np.ndarray) -> float | None:
    """MS-SSIM of two uint8 (H, W, 3) images (1 = identical); None when the image is too small.

    Runs on one torch thread: the library's grouped 1-D convolutions took 1.5 s on a 512 px photo
    with two threads and 0.08 s with one (2-core machine, measured), and the result is the same.
    """
    import torch
    from pytorch_msssim import ms_ssim as _ms_ssim

    win = msssim_window(*a.shape[:2])
    if win is None:
        return None
    x, y = (torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)).permute(2, 0, 1)[None].contiguous() for v in (a, b))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return float(_ms_ssim(x, y, data_range=255, win_size=win))
    finally:
        torch.set_num_threads(threads)


def msssim_db(value: float | None) -> float | None:
    """MS-SSIM on a decibel scale, -10 log10(1 - MS-SSIM): spreads the top end where codecs differ."""
    if value is None:
        return None
    return float("inf") if value >= 1 else float(-10 * np.log10(1 - value))


def hull(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """(rate, quality) points sorted by rate, keeping each point better than every smaller one."""
    out: list[tuple[float, float]] = []
    for r, q in sorted(points, key=lambda p: (p[0], -p[1])):
        if np.isfinite(q) and r > 0 and (not out or q > out[-1][1]):
            out.append((float(r), float(q)))
    return out


def bd_rate(anchor: Sequence[tuple[float, float]], test: Sequence[tuple[float, float]],
            window: tuple[float, float] = BD_WINDOW) -> dict | None:
    """Bjøntegaard delta rate of `test` against `anchor` in percent (negative: test needs fewer bits).

    Points are (bits per pixel, quality in dB). Each curve is reduced to its hull, log-rate is
    interpolated as a function of quality piecewise-cubically (PCHIP, as in Bjøntegaard's 2008
    addendum VCEG-AI11 and the JVET/AOM tools: no overshoot, works from 2 points), and the mean
    log-rate difference is taken over the qualities both curves reach inside `window` (bpp). Returns
    {"bd_rate_pct", "q_lo", "q_hi", "n_anchor", "n_test"}, or None when either curve has under 2
    points in reach or the quality ranges do not overlap.
    """
    from scipy.interpolate import PchipInterpolator

    curves = [hull(c) for c in (anchor, test)]
    if min(len(c) for c in curves) < 2:
        return None
    spans, fits = [], []
    for c in curves:
        lr, q = np.log([p[0] for p in c]), np.array([p[1] for p in c])
        lo, hi = max(lr[0], np.log(window[0])), min(lr[-1], np.log(window[1]))
        if not hi > lo:
            return None
        spans.append((float(np.interp(lo, lr, q)), float(np.interp(hi, lr, q))))
        fits.append(PchipInterpolator(q, lr))
    q_lo, q_hi = max(s[0] for s in spans), min(s[1] for s in spans)
    if not q_hi > q_lo:
        return None
    diff = (fits[1].integrate(q_lo, q_hi) - fits[0].integrate(q_lo, q_hi)) / (q_hi - q_lo)
    return {"bd_rate_pct": float((np.exp(diff) - 1) * 100), "q_lo": q_lo, "q_hi": q_hi,
            "n_anchor": len(curves[0]), "n_test": len(curves[1])}
