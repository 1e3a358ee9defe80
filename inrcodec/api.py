"""The Python API: encode(), decode(), info(); the CLI is a thin layer over these."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from . import container
from .config import EncodeConfig
from .errors import MediaError, OutputExistsError


def _source_signal(source: Any):
    from .media import load
    from .media.image import array_to_signal
    from .signal import Signal

    if isinstance(source, Signal):
        return source
    if isinstance(source, np.ndarray):
        return array_to_signal(source)
    if isinstance(source, (str, os.PathLike)):
        return load(source)
    raise MediaError(f"cannot encode a {type(source).__name__}: pass a path, a numpy array or a Signal")


def encode(source: Any, output: str | os.PathLike | None = None, *, force: bool = False, progress=None, **settings):
    """Fit, quantize and pack `source` (path, array or Signal); write `output` if given.

    `settings` are EncodeConfig fields (preset, steps, time_limit, bits, width, depth,
    activation, damping, lr, seed, device). Returns an EncodeResult with the bytes and metrics.
    """
    from .codec import encode_signal

    if output is not None and Path(output).exists() and not force:
        raise OutputExistsError(f"{output} exists; pass force=True (--force) to replace it")
    config = EncodeConfig(**settings)
    result = encode_signal(_source_signal(source), config, progress)
    if output is not None:
        container.write_atomic(output, result.data, force=force)
    return result


def _read(data_or_path: bytes | str | os.PathLike) -> bytes:
    if isinstance(data_or_path, (bytes, bytearray, memoryview)):
        return bytes(data_or_path)
    return container.read_file(data_or_path)


def decode(data_or_path: bytes | str | os.PathLike, scale: float | None = None, size: tuple[int, ...] | None = None,
           *, device: str = "cpu", force: bool = False, gradient: bool = False) -> np.ndarray:
    """Render a .spdr file as the samples its writer would store.

    Images: uint8 (or uint16 for 16-bit sources) array (H, W, C); `size` is (height, width).
    With gradient=True: float32 (H, W, 1) gradient magnitude of the network.
    """
    from .codec import check_output_size, load_model, output_shape, pick_device, render
    from .media.image import to_pixels

    header, tensors = container.unpack(_read(data_or_path))
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
    return out
