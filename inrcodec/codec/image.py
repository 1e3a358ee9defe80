"""Images on the decode runtime: the output grid for --scale/--size, pixels, gradients, and measurement.

A format 1.7 file holds an image as horizontal bands, each its own network over its own rows (docs/format.md
section 14): it renders band by band into one output array, one band's network loaded at a time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..format.limits import CheckedFile
from ..media.image import pixels_to_unit, to_pixels
from ..media.resample import lanczos, rendering
from ..metrics import psnr, rho_ag
from ..signal import Signal
from .runtime import check_output_size, iter_render_rows, load_model, native_shape, render


def image_shape(header: dict, scale: float | None = None, size: tuple[int, int] | None = None) -> tuple[int, int]:
    """(height, width) to render: native, `scale` times native (rounded, at least 1), or an explicit size."""
    h, w = native_shape(header)
    if size is not None:
        return int(size[0]), int(size[1])
    if scale is not None:
        return max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    return h, w


def decode_image(checked: CheckedFile, scale: float | None = None, size: tuple[int, int] | None = None,
                 device: torch.device = torch.device("cpu"), force: bool = False, gradient: bool = False,
                 resample: str = "auto") -> np.ndarray:
    """uint8/uint16 pixels (H, W, C) as the source's writer stored them, or float32 |grad| (H, W, 1).

    resample (media/resample.py `rendering`): off the native grid, "classic" (the auto default) renders
    the native pixels and resizes them with Lanczos; "network" evaluates the network at every output
    pixel. Gradients are always the network's own. A file of bands (1.7) resizes its assembled native
    image alike, so no band border is a resampling edge; its network renders ask each pixel of the band
    whose rows hold the pixel's centre.
    """
    header = checked.header
    shape = image_shape(header, scale, size)
    check_output_size("image", shape, force)
    if gradient:
        return _render(checked, shape, device, None)
    depth = header["signal"]["bit_depth"]
    native = native_shape(header)

    def convert(chunk: np.ndarray) -> np.ndarray:  # the stored integers, chunk by chunk
        return to_pixels(chunk, depth)

    if rendering(resample, native, shape) == "classic":
        pixels = _render(checked, native, device, convert)
        return pixels if tuple(shape) == tuple(native) else lanczos(pixels, *shape)
    return _render(checked, shape, device, convert)


def _render(checked: CheckedFile, shape: tuple[int, int], device: torch.device,
            convert: Callable[[np.ndarray], np.ndarray] | None) -> np.ndarray:
    """The network(s) on the grid `shape`: pixels through `convert`, or (convert None) the gradient magnitude."""
    header = checked.header
    if not checked.segments:
        return render(load_model(header, checked.tensors), header, shape, convert=convert, device=device, gradient=convert is None)
    height, width = shape
    out: np.ndarray | None = None
    for band, start, (first, stop) in zip(checked.segments, checked.starts, band_rows(checked, height), strict=True):
        if first == stop:
            continue  # a band thinner than an output row at this size: no pixel centre falls in it
        rows = int(band.header["signal"]["height"])
        ys = band_positions(int(header["signal"]["height"]), height, start, rows, first, stop)
        units = (int(header["signal"]["height"]) / rows, 1.0)  # the band's y spans its rows; the whole image's y spans all
        model = load_model(band.header, band.tensors)
        for s, e, chunk in iter_render_rows(model, band.header, ys, width, device, gradient=convert is None, units=units):
            chunk = chunk if convert is None else convert(chunk)
            if out is None:
                out = np.empty((height * width, chunk.shape[1]), dtype=chunk.dtype)
            out[first * width + s:first * width + e] = chunk
        del model
    assert out is not None  # every output row's centre lies in exactly one band
    return out.reshape(height, width, out.shape[1])


def band_rows(checked: CheckedFile, height: int) -> list[tuple[int, int]]:
    """Per band, the output rows [first, stop) of a `height`-row render whose centres fall in the band's source rows.

    Output row i's centre sits at (i + 1/2) H / height source rows (H the file's height); band k holds [start_k,
    start_k + rows_k). Exact integer arithmetic: (2i + 1) H >= 2 height start_k, and < 2 height (start_k + rows_k)."""
    total = int(checked.header["signal"]["height"])
    out = []
    for band, start in zip(checked.segments, checked.starts, strict=True):
        end = start + int(band.header["signal"]["height"])
        first, stop = (min(height, max(0, -((total - 2 * height * edge) // (2 * total)))) for edge in (start, end))
        out.append((first, stop))
    return out


def band_positions(total: int, height: int, start: int, rows: int, first: int, stop: int) -> np.ndarray:
    """The band's own y (before coords.scale, float64) at output rows first..stop-1 of a `height`-row render of a
    `total`-row image: the band's rows [start, start + rows) map onto its [-1, 1], so y = -1 + 2 (p - start) / rows
    at source position p = (i + 1/2) total / height; one correctly rounded division of exact integers."""
    i = np.arange(first, stop, dtype=np.int64)
    return -1.0 + ((2 * i + 1) * total - 2 * height * start).astype(np.float64) / float(height * rows)


def measure_image(signal: Signal, checked: CheckedFile, device: torch.device) -> dict:
    """PSNR and rho_AG of the pixels a decoder writes, against the source's own pixels."""
    depth = signal.meta["bit_depth"]
    out = pixels_to_unit(decode_image(checked, device=device, force=True), depth)
    ref = pixels_to_unit(to_pixels(signal.data, depth), depth)
    return {"psnr_db": psnr(out, ref), "rho_ag": rho_ag(out, ref, axes=(0, 1))}
