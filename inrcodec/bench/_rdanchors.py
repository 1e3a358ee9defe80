"""Anchors for the rate-distortion bench: JPEG, WebP and AVIF through Pillow, each over a full quality scan.

Sizes are whole files as Pillow writes them (headers included); PSNR and MS-SSIM are taken on the
8-bit RGB pixels Pillow decodes from those bytes; encode and decode seconds are wall time of one
Pillow call each, in the same process as spdr's. MS-SSIM costs ~1 s per 512 px image on two cores,
so a scan measures it at every MSSSIM_STRIDE-th quality (the curves are smooth; BD-rates on
MS-SSIM interpolate between them) and at every point a table quotes (`with_msssim`).
"""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image

from ._rdmetrics import ms_ssim, msssim_db, rgb_psnr

AVIF_SPEED = 4  # libavif speed 0 (slowest, smallest) .. 10; 4 made ~2-3 % smaller files than Pillow's default 6 on astronaut
QUALITIES = {"jpeg": tuple(range(1, 96)), "webp": tuple(range(0, 101)), "avif": tuple(range(0, 101, 2))}
MSSSIM_STRIDE = {"jpeg": 3, "webp": 3, "avif": 2}  # quality steps between MS-SSIM measurements in a scan
ANCHORS = ("jpeg", "webp", "avif")
SETTINGS = {"jpeg": "Pillow libjpeg, optimize=True, 4:2:0, quality 1..95",
            "webp": "Pillow libwebp, lossy, method 6, quality 0..100",
            "avif": f"Pillow libavif, speed {AVIF_SPEED}, 4:2:0, quality 0..100 step 2"}


def pillow_encode(pixels: np.ndarray, codec: str, quality: int) -> bytes:
    """JPEG (4:2:0, optimized Huffman tables), WebP (lossy, method 6) or AVIF (4:2:0) bytes of uint8 RGB pixels."""
    buf = io.BytesIO()
    img = Image.fromarray(pixels)
    if codec == "jpeg":
        img.save(buf, format="JPEG", quality=quality, optimize=True, subsampling="4:2:0")
    elif codec == "webp":
        img.save(buf, format="WEBP", quality=quality, method=6)
    elif codec == "avif":
        img.save(buf, format="AVIF", quality=quality, speed=AVIF_SPEED, subsampling="4:2:0")
    else:
        raise ValueError(f"unknown anchor codec {codec!r}")
    return buf.getvalue()


def pillow_decode(data: bytes) -> np.ndarray:
    """uint8 RGB pixels of a JPEG, WebP or AVIF file."""
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("RGB"))


def point(pixels: np.ndarray, codec: str, quality: int, msssim: bool = True) -> dict:
    """One quality setting, measured: quality, bytes, bpp, psnr_db, msssim (+dB), encode_s, decode_s."""
    h, w = pixels.shape[:2]
    t0 = time.perf_counter()
    data = pillow_encode(pixels, codec, quality)
    t1 = time.perf_counter()
    decoded = pillow_decode(data)
    t2 = time.perf_counter()
    p = {"codec": codec, "quality": quality, "bytes": len(data), "bpp": 8 * len(data) / (h * w),
         "psnr_db": rgb_psnr(decoded, pixels), "msssim": None, "msssim_db": None, "encode_s": t1 - t0, "decode_s": t2 - t1}
    if msssim:
        p["msssim"] = ms_ssim(decoded, pixels)
        p["msssim_db"] = msssim_db(p["msssim"])
    return p


def pillow_curve(pixels: np.ndarray, codec: str) -> list[dict]:
    """Every quality setting of `codec` (sizes rise with quality, mostly); MS-SSIM at every stride-th."""
    stride = MSSSIM_STRIDE[codec]
    return [point(pixels, codec, q, msssim=(i % stride == 0 or i == len(QUALITIES[codec]) - 1))
            for i, q in enumerate(QUALITIES[codec])]


def with_msssim(p: dict, pixels: np.ndarray) -> dict:
    """`p` with its MS-SSIM measured (re-encoding its quality: Pillow's encoders are deterministic)."""
    if p["msssim"] is None:
        decoded = pillow_decode(pillow_encode(pixels, p["codec"], p["quality"]))
        p["msssim"] = ms_ssim(decoded, pixels)
        p["msssim_db"] = msssim_db(p["msssim"])
    return p


def at_size(curve: list[dict], max_bytes: int) -> dict | None:
    """The best-PSNR point of `curve` whose file is at most `max_bytes` (None: none is that small)."""
    fits = [p for p in curve if p["bytes"] <= max_bytes]
    return max(fits, key=lambda p: p["psnr_db"]) if fits else None
