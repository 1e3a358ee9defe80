"""Anchors for the rate-distortion bench: JPEG and WebP through Pillow, and the Bjøntegaard delta rate.

Sizes are whole files as Pillow writes them (headers included), PSNR is RGB PSNR on 8-bit pixels
(peak 255, MSE over every channel), the convention of the image-codec literature.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

QUALITIES = {"jpeg": tuple(range(1, 96)), "webp": tuple(range(0, 101))}


def rgb_psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 RGB images, peak 255."""
    err = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if err == 0 else float(10 * np.log10(255.0**2 / err))


def pillow_encode(pixels: np.ndarray, codec: str, quality: int) -> bytes:
    """JPEG (4:2:0, optimized Huffman tables) or WebP (lossy, method 6) bytes of uint8 RGB pixels."""
    buf = io.BytesIO()
    img = Image.fromarray(pixels)
    if codec == "jpeg":
        img.save(buf, format="JPEG", quality=quality, optimize=True)
    else:
        img.save(buf, format="WEBP", quality=quality, method=6)
    return buf.getvalue()


def pillow_curve(pixels: np.ndarray, codec: str) -> list[dict]:
    """Every quality setting: {"quality", "bytes", "psnr_db"} (sizes rise with quality, mostly)."""
    out = []
    for q in QUALITIES[codec]:
        data = pillow_encode(pixels, codec, q)
        with Image.open(io.BytesIO(data)) as img:
            decoded = np.asarray(img.convert("RGB"))
        out.append({"quality": q, "bytes": len(data), "psnr_db": rgb_psnr(decoded, pixels)})
    return out


def at_size(curve: list[dict], max_bytes: int) -> dict | None:
    """The best-PSNR point of `curve` whose file is at most `max_bytes` (None: none is that small)."""
    fits = [p for p in curve if p["bytes"] <= max_bytes]
    return max(fits, key=lambda p: p["psnr_db"]) if fits else None


def bd_rate(rate_a, psnr_a, rate_b, psnr_b) -> float | None:
    """Bjøntegaard delta rate of B against A in percent (negative: B needs fewer bits).

    VCEG-M33: fit log(rate) as a cubic polynomial of PSNR for each codec (numpy polyfit), integrate
    both over the PSNR interval they share, and turn the mean log-rate difference into a percentage.
    None when either codec has fewer than 4 distinct points or the intervals do not overlap.
    """
    ra, pa, rb, pb = (np.asarray(v, dtype=np.float64) for v in (rate_a, psnr_a, rate_b, psnr_b))
    if len(np.unique(pa)) < 4 or len(np.unique(pb)) < 4:
        return None
    lo, hi = max(pa.min(), pb.min()), min(pa.max(), pb.max())
    if not hi > lo:
        return None
    fa, fb = np.polyfit(pa, np.log(ra), 3), np.polyfit(pb, np.log(rb), 3)
    ia, ib = np.polyint(fa), np.polyint(fb)
    mean_a = (np.polyval(ia, hi) - np.polyval(ia, lo)) / (hi - lo)
    mean_b = (np.polyval(ib, hi) - np.polyval(ib, lo)) / (hi - lo)
    return float((np.exp(mean_b - mean_a) - 1) * 100)


def monotone(curve: list[dict]) -> list[dict]:
    """The points of a quality scan on its upper convex-ish hull: each better and bigger than the last."""
    out: list[dict] = []
    for p in sorted(curve, key=lambda p: (p["bytes"], -p["psnr_db"])):
        if not out or p["psnr_db"] > out[-1]["psnr_db"]:
            out.append(p)
    return out
