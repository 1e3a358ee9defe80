"""Images on the decode runtime: the output grid for --scale/--size, pixels, gradients, and measurement."""

from __future__ import annotations

import numpy as np
import torch

from ..format.limits import CheckedFile
from ..media.image import pixels_to_unit, to_pixels
from ..media.resample import lanczos, rendering
from ..metrics import psnr, rho_ag
from ..signal import Signal
from .runtime import check_output_size, load_model, native_shape, render


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
    pixel. Gradients are always the network's own.
    """
    header = checked.header
    shape = image_shape(header, scale, size)
    check_output_size("image", shape, force)
    model = load_model(header, checked.tensors)
    if gradient:
        return render(model, header, shape, device=device, gradient=True)
    depth = header["signal"]["bit_depth"]
    native = native_shape(header)
    if rendering(resample, native, shape) == "classic":
        return lanczos(render(model, header, native, convert=lambda c: to_pixels(c, depth), device=device), *shape)
    return render(model, header, shape, convert=lambda c: to_pixels(c, depth), device=device)


def measure_image(signal: Signal, checked: CheckedFile, device: torch.device) -> dict:
    """PSNR and rho_AG of the pixels a decoder writes, against the source's own pixels."""
    depth = signal.meta["bit_depth"]
    out = pixels_to_unit(decode_image(checked, device=device, force=True), depth)
    ref = pixels_to_unit(to_pixels(signal.data, depth), depth)
    return {"psnr_db": psnr(out, ref), "rho_ag": rho_ag(out, ref, axes=(0, 1))}
