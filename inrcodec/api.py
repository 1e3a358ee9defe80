"""The Python API: encode(), decode(), info(); the CLI is a thin layer over these."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from . import container, safety
from .config import EncodeConfig
from .errors import MediaError, OutputExistsError


def _source_signal(source: Any, **selection):
    from .media import load
    from .media.image import array_to_signal
    from .signal import Signal

    if isinstance(source, Signal):
        return source
    if isinstance(source, np.ndarray):
        return array_to_signal(source)
    if isinstance(source, (str, os.PathLike)):
        return load(source, **selection)
    if any(v is not None for v in selection.values()):
        raise MediaError("start, frames and duration select a range of a file: pass a path")
    raise MediaError(f"cannot encode a {type(source).__name__}: pass a path, a numpy array or a Signal")


def encode(source: Any, output: str | os.PathLike | None = None, *, force: bool = False, progress=None,
           start: float | None = None, frames: int | None = None, duration: float | None = None, **settings):
    """Fit, quantize and pack `source` (path, array or Signal); write `output` if given.

    `settings` are EncodeConfig fields (preset, steps, time_limit, bits, width, depth,
    activation, damping, lr, seed, device, bpp). bpp=X (images) makes the whole file land in
    [0.95 X, X] bits per pixel, the network chosen by inrcodec.ratecontrol. start (seconds) and frames or duration (seconds)
    select a range of an audio or video file. Returns an EncodeResult with the bytes and metrics.
    """
    from .codec import encode_signal

    if output is not None and Path(output).exists() and not force:
        raise OutputExistsError(f"{output} exists; pass force=True (--force) to replace it")
    config = EncodeConfig(**settings)
    result = encode_signal(_source_signal(source, start=start, frames=frames, duration=duration), config, progress)
    if output is not None:
        container.write_atomic(output, result.data, force=force)
    return result


def _read(data_or_path: bytes | str | os.PathLike) -> bytes:
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        return bytes(data_or_path)
    return container.read_file(data_or_path)


def decode(data_or_path: bytes | str | os.PathLike, scale: float | None = None, size: tuple[int, ...] | None = None,
           *, rate: int | None = None, fps: Any = None, device: str = "cpu", force: bool = False,
           gradient: bool = False) -> np.ndarray:
    """Render a .spdr file as the samples its writer would store.

    Images: uint8 (or uint16 for 16-bit sources) array (H, W, C); `size` is (height, width).
    With gradient=True: float32 (H, W, 1) gradient magnitude of the network.
    Audio: float32 (samples, channels) at the original level, clipped to the stored amplitude;
    `rate` (Hz) or `scale` resamples over the same duration.
    Video: uint8 (frames, H, W, 3); `fps` (number or 'num/den') sets round(duration x fps) frames,
    `scale` or `size` (height, width) the frame size. decode_frames() yields frames one by one.
    """
    from .codec import check_output_size, load_model, output_shape, pick_device, render
    from .media.image import to_pixels

    data = _read(data_or_path)
    if container.peek(data)["header"]["modality"] != "image":
        if gradient:
            raise MediaError("gradient applies to images")
        from .avcodec import render_audio

        dec = _open_av(data, scale, size, rate, fps, device, force)
        if dec.header["modality"] == "audio":
            return render_audio(dec.model, dec.header, dec.shape[0], dec.device)
        return np.stack(list(decode_frames(dec)))
    if rate is not None or fps is not None:
        raise MediaError("rate applies to audio and fps to video; use scale or size for images")
    header, tensors = safety.read_checked(data)
    shape = output_shape(header, scale, size)
    check_output_size(shape, force)
    model = load_model(header, tensors)
    dev = pick_device(device)
    if gradient:
        return render(model, header, shape, device=dev, gradient=True)
    if header["modality"] == "image":
        depth = header["signal"]["bit_depth"]
        return render(model, header, shape, convert=lambda c: to_pixels(c, depth), device=dev)
    return np.clip(render(model, header, shape, device=dev), -1.0, 1.0)


def _open_av(data: bytes, scale, size, rate, fps, device: str, force: bool):
    from .avcodec import open_decode, parse_fps

    return open_decode(data, rate=rate, fps=None if fps is None else parse_fps(fps), scale=scale,
                       size=None if size is None else tuple(size), device=device, force=force)


def decode_frames(data_or_path: Any, scale: float | None = None, size: tuple[int, int] | None = None, *, fps: Any = None,
                  device: str = "cpu", force: bool = False):
    """Yield a video file's frames as uint8 (H, W, 3), rendered a few at a time (bounded memory)."""
    from .avcodec import Decoded, iter_frames

    dec = data_or_path if isinstance(data_or_path, Decoded) else _open_av(_read(data_or_path), scale, size, None, fps, device, force)
    if dec.header["modality"] != "video":
        raise MediaError(f"decode_frames needs a video file, not {dec.header['modality']}")
    yield from iter_frames(dec.model, dec.header, dec.shape, dec.device)


def info(data_or_path: bytes | str | os.PathLike) -> dict:
    """Header and sizes of a .spdr file, without loading torch or decompressing weights."""
    data = _read(data_or_path)
    peek = container.peek(data)
    header = peek["header"]
    params = sum(int(np.prod(t["shape"])) for t in header["quant"]["tensors"].values())
    out = {k: v for k, v in peek.items() if k != "header"}
    out.update(header=header, params=params)
    sig = header["signal"]
    if header["modality"] == "image":
        out["bpp"] = 8 * len(data) / (sig["height"] * sig["width"])
    elif header["modality"] == "audio":
        out["duration_s"] = sig["samples"] / sig["sample_rate"]
        out["kbps"] = 8 * len(data) / out["duration_s"] / 1000
    else:
        from fractions import Fraction

        out["duration_s"] = float(sig["frames"] * Fraction(sig["fps"][1], sig["fps"][0]))
        out["fps"] = float(Fraction(*sig["fps"]))
        out["kbps"] = 8 * len(data) / out["duration_s"] / 1000
        out["bpp"] = 8 * len(data) / (sig["frames"] * sig["height"] * sig["width"])
    return out
