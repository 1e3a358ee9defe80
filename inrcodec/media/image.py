"""Images through Pillow: load any mode into a Signal in [-1, 1], save 8- or 16-bit."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import MediaError
from ..signal import Signal

SAVE_FORMATS = {".png": "PNG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP", ".jpg": "JPEG", ".jpeg": "JPEG"}
MAX_PIXELS = 1 << 28  # refuse larger inputs before decoding them (Pillow's own bomb limit is lower)


def _image_to_array(img: Image.Image) -> tuple[np.ndarray, str, int]:
    """Pixels as float [0, 1] (H, W, C), the Pillow mode we keep, and the bit depth."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.int64)
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise MediaError(f"unsupported image: {mode} pixels outside 0..65535")
        return (arr.astype(np.float64) / 65535.0)[..., None], "L", 16
    if mode == "F":
        raise MediaError("unsupported image: floating-point pixels (mode F)")
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("1", "L"):
        img = img.convert("L")
    elif mode == "LA" or mode == "La":
        img = img.convert("LA")
    elif mode in ("RGBA", "RGBa", "PA"):
        img = img.convert("RGBA")
    else:  # RGB, CMYK, YCbCr, LAB, HSV, ...
        img = img.convert("RGB")
    arr = np.asarray(img, dtype=np.float64) / 255.0
    if arr.ndim == 2:
        arr = arr[..., None]
    return arr, img.mode, 8


def array_to_signal(pixels: np.ndarray) -> Signal:
    """A Signal from an array: uint8, uint16, bool or float in [0, 1]; (H, W) or (H, W, 1..4)."""
    a = np.asarray(pixels)
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 2, 3, 4) or a.shape[0] < 1 or a.shape[1] < 1:
        raise MediaError(f"image array must be (H, W) or (H, W, 1..4) with H, W >= 1, got shape {a.shape}")
    if a.dtype == np.uint16:
        depth, x = 16, a.astype(np.float64) / 65535.0
    elif a.dtype in (np.uint8, np.bool_):
        depth, x = 8, a.astype(np.float64) / (1.0 if a.dtype == np.bool_ else 255.0)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
            raise MediaError("float image arrays must be finite and within [0, 1]")
        depth, x = 8, a.astype(np.float64)
    else:
        raise MediaError(f"unsupported image array dtype {a.dtype}")
    mode = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}[a.shape[-1]]
    if depth == 16 and mode != "L":
        depth = 8
        x = np.round(x * 255.0) / 255.0
    return _make_signal(x, mode, depth)


def _make_signal(x: np.ndarray, mode: str, depth: int) -> Signal:
    h, w, c = x.shape
    meta = {"height": h, "width": w, "channels": c, "mode": mode, "bit_depth": depth}
    return Signal("image", (x * 2.0 - 1.0).astype(np.float32), meta)


def load_image(path: str | os.PathLike) -> Signal:
    """Read an image file; MediaError (one line) for anything Pillow cannot decode."""
    p = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(p) as img:
                if img.width * img.height > MAX_PIXELS:
                    raise MediaError(f"{p.name}: image of {img.width}x{img.height} is too large")
                if img.width == 0 or img.height == 0:
                    raise MediaError(f"{p.name}: image has zero width or height")
                img.load()
                x, mode, depth = _image_to_array(img)
    except MediaError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise MediaError(f"{p.name}: not a readable image ({e.__class__.__name__})") from e
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise MediaError(f"{p.name}: cannot read image: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from e
    return _make_signal(x, mode, depth)


def to_pixels(data: np.ndarray, bit_depth: int) -> np.ndarray:
    """[-1, 1] floats to the integer pixels a writer stores (rounded, clipped, never wrapped)."""
    peak = 65535.0 if bit_depth == 16 else 255.0
    x = np.clip((np.asarray(data, dtype=np.float32) + 1.0) * (peak / 2.0), 0.0, peak)
    return np.rint(x).astype(np.uint16 if bit_depth == 16 else np.uint8)


def pixels_to_unit(pixels: np.ndarray, bit_depth: int) -> np.ndarray:
    """Integer pixels back to [-1, 1] (float64), for measuring what a decoder wrote."""
    peak = 65535.0 if bit_depth == 16 else 255.0
    return np.asarray(pixels, dtype=np.float64) / peak * 2.0 - 1.0


def pillow_image(pixels: np.ndarray, mode: str) -> Image.Image:
    """A Pillow image from integer pixels (H, W, C) in the header's mode."""
    if pixels.dtype == np.uint16:
        return Image.fromarray(pixels[..., 0].astype(np.uint16))  # mode I;16 (Pillow 13 refuses an explicit mode)
    if pixels.shape[-1] == 1:
        return Image.fromarray(pixels[..., 0], mode="L")
    return Image.fromarray(pixels, mode=mode)


def save_format(path: str | os.PathLike) -> str:
    """The Pillow format for an output path's extension; MediaError when unsupported."""
    ext = Path(path).suffix.lower()
    if ext not in SAVE_FORMATS:
        raise MediaError(f"unsupported image output extension {ext or '(none)'!r}; use one of {', '.join(SAVE_FORMATS)}")
    return SAVE_FORMATS[ext]


def encode_image_bytes(pixels: np.ndarray, mode: str, fmt: str) -> bytes:
    """The bytes of the image file (written atomically by the caller)."""
    import io

    img = pillow_image(pixels, mode)
    if fmt == "JPEG":
        if img.mode in ("RGBA", "LA"):
            img = img.convert("RGB" if img.mode == "RGBA" else "L")
        if img.mode == "I;16":
            img = Image.fromarray((pixels[..., 0] >> 8).astype(np.uint8), mode="L")
    if fmt == "WEBP" and img.mode == "I;16":
        img = Image.fromarray((pixels[..., 0] >> 8).astype(np.uint8), mode="L")
    buf = io.BytesIO()
    kwargs = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
    if fmt == "WEBP":
        kwargs = {"lossless": True}
    img.save(buf, format=fmt, **kwargs)
    return buf.getvalue()
