"""The decode runtime: one way to turn checked .spdr contents into a network, and one renderer.

Every decode path (image, audio, video, verify, the encoder's own measurement of what it wrote)
goes through here: `load_model` builds the empty network from the header and fills it strictly;
`check_output_size` is the one guard on what a render may allocate; `render` evaluates the network
on any grid in bounded chunks and maps its output back to sample values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import NetworkError, OutputTooLargeError, SpdrError, TensorMismatch
from ..format import limits
from ..nn.coords import CENTRE, TIMESTAMP, axis_positions, grid_coords, iter_chunks
from ..nn.quantize import dequantize_state
from ..nn.registry import build_model

MAX_OUTPUT_SAMPLES = 1 << 27  # image and audio renders above this many grid points need force
MAX_FRAME_SAMPLES = 1 << 27  # one video frame above this many pixels needs force
MAX_OUTPUT_FRAMES = 1_000_000

__all__ = ["MAX_OUTPUT_SAMPLES", "check_output_size", "decode_samples", "iter_render", "iter_render_rows", "load_model",
           "native_shape", "render"]


def load_model(header: dict, tensors: dict) -> nn.Module:
    """An empty network built from the header, then filled strictly from the file's tensors.

    format/limits.py has already refused unsupported, oversized or overflowing networks; a network
    whose shapes only torch knows (the hash grid) is sized on the meta device before anything is allocated.
    """
    limits.check_header(header)
    limits.check_weights(header, tensors)
    try:
        if limits.expected_tensors(header["arch"]) is None:
            with torch.device("meta"):
                limits.check_shapes(header, {k: list(v.shape) for k, v in build_model(header["arch"]).state_dict().items()})
        model = build_model(header["arch"])
    except SpdrError:
        raise
    except (ImportError, ValueError, TypeError, KeyError, RuntimeError, NotImplementedError) as e:
        raise NetworkError(f"cannot build the header's {header['arch']['activation']} network: {str(e).splitlines()[0]}") from None
    try:
        model.load_state_dict(dequantize_state(tensors, header["quant"]), strict=True)
    except (RuntimeError, KeyError) as e:
        raise TensorMismatch(f"tensors do not fit the header's network: {str(e).splitlines()[0]}") from e
    return model.eval()


def placements(header: dict) -> list[str]:
    """Where each axis' samples sit (nn/coords.py): timestamps on the time axis of a "timestamp" file, else cell centres."""
    timestamp = header["coords"]["convention"] == "timestamp"
    return [TIMESTAMP if timestamp and axis == "t" else CENTRE for axis in header["coords"]["axes"]]


def native_shape(header: dict) -> tuple[int, ...]:
    """The grid the file was fitted on: (height, width), (samples,) or (frames, height, width)."""
    sig = header["signal"]
    axes = {"image": ("height", "width"), "audio": ("samples",), "video": ("frames", "height", "width")}[header["modality"]]
    return tuple(int(sig[a]) for a in axes)


def check_output_size(modality: str, shape: Sequence[int], force: bool) -> None:
    """Refuse an empty grid, absurd renders unless forced, and renders no machine of this size can hold.

    Images and audio: at most MAX_OUTPUT_SAMPLES grid points without force. Video renders a few
    frames at a time, so the limit is per frame (MAX_FRAME_SAMPLES pixels) and on the frame count.
    """
    shape = tuple(int(s) for s in shape)
    text = "x".join(map(str, shape))
    if min(shape) < 1:
        raise SpdrError(f"output size {text} is empty")
    if modality == "video":
        frames, pixels = shape[0], shape[1] * shape[2]
        if not force and (pixels > MAX_FRAME_SAMPLES or frames > MAX_OUTPUT_FRAMES):
            raise OutputTooLargeError(f"output would be {frames} frames of {shape[2]}x{shape[1]}; pass --force to render it")
        held = pixels
    else:
        held = int(np.prod(shape))
        if held > MAX_OUTPUT_SAMPLES and not force:
            raise OutputTooLargeError(f"output would be {text} ({held:,} samples); pass --force to render it")
    if held > limits.physical_memory():  # at least a byte per sample held at once: cannot be done, even with --force
        raise OutputTooLargeError(f"output would be {text} ({held:,} samples), "
                                  f"more than this machine's {limits.physical_memory():,} bytes of memory")


def _evaluate(model: nn.Module, header: dict, x: torch.Tensor, gradient: bool, clip: bool, units: Sequence[float] | None) -> np.ndarray:
    """The network at coordinates `x` (n, axes): values (n, channels) mapped by the header's `values`, or with
    gradient=True |d output / d u| (n, 1) over u = coordinate / coords.scale, each axis' derivative times `units`."""
    if gradient:
        scales = header["coords"]["scale"]
        factors = [float(s) * float(u) for s, u in zip(scales, [1.0] * len(scales) if units is None else units, strict=True)]
        x.requires_grad_(True)
        y = model(x).mean(dim=-1).sum()
        (g,) = torch.autograd.grad(y, x)
        chunk = (g * torch.tensor(factors, device=x.device)).norm(dim=-1, keepdim=True).detach().float().cpu().numpy()
        limits.check_finite(chunk)
        return chunk
    with torch.no_grad():
        chunk = model(x).float().cpu().numpy()
    limits.check_finite(chunk)
    if clip:
        chunk = np.clip(chunk, -1.0, 1.0)
    return chunk * np.asarray(header["values"]["scale"], dtype=np.float32) + np.asarray(header["values"]["offset"], dtype=np.float32)


def iter_render(model: nn.Module, header: dict, shape: Sequence[int], start: int = 0, stop: int | None = None,
                device: torch.device = torch.device("cpu"), gradient: bool = False,
                clip: bool = True) -> Iterator[tuple[int, int, np.ndarray]]:
    """(s, e, samples) for grid points start..stop of `shape` (C order), in bounded chunks.

    Samples are the network's output clipped to [-1, 1] (unless clip=False), times values.scale plus
    values.offset: float32 (n, channels). With gradient=True: |d output / d coords| (mean over
    channels) in the header's coordinate units, float32 (n, 1).
    """
    total = int(np.prod(shape))
    stop = total if stop is None else min(stop, total)
    scales = header["coords"]["scale"]
    where = placements(header)
    model = model.to(device)
    for s, e in iter_chunks(stop - start, limits.render_rows(header["arch"])):
        x = grid_coords(shape, scales, start + s, start + e, device=device, placements=where)
        yield start + s, start + e, _evaluate(model, header, x, gradient, clip, None)


def iter_render_rows(model: nn.Module, header: dict, rows: np.ndarray, width: int, device: torch.device = torch.device("cpu"),
                     gradient: bool = False, units: Sequence[float] | None = None) -> Iterator[tuple[int, int, np.ndarray]]:
    """(s, e, samples) of an image network on len(rows) x `width` points (C order), in bounded chunks.

    rows: float64, each output row's y before coords.scale (any position, not only the pixel-centre grid: a band
    of a 1.7 file renders the rows of the whole image that fall in it); columns sit at pixel centres of `width`.
    Samples as iter_render's; `units` multiplies each axis' derivative (a band's y is on its own scale).
    """
    sy, sx = (float(v) for v in header["coords"]["scale"])
    ys = torch.from_numpy(np.asarray(rows, dtype=np.float64)) * sy
    xs = axis_positions(width, sx, torch.float64)
    model = model.to(device)
    for s, e in iter_chunks(len(ys) * width, limits.render_rows(header["arch"])):
        idx = torch.arange(s, e, dtype=torch.int64)
        x = torch.stack([ys[idx // width], xs[idx % width]], dim=-1).float().to(device)
        yield s, e, _evaluate(model, header, x, gradient, True, units)


def render(model: nn.Module, header: dict, shape: Sequence[int], convert: Callable[[np.ndarray], np.ndarray] | None = None,
           device: torch.device = torch.device("cpu"), gradient: bool = False, clip: bool = True,
           progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """The whole grid `shape` as one array (*shape, channels); `convert` maps each chunk to the stored dtype."""
    total = int(np.prod(shape))
    out: np.ndarray | None = None
    for s, e, chunk in iter_render(model, header, shape, device=device, gradient=gradient, clip=clip):
        if convert is not None:
            chunk = convert(chunk)
        if out is None:
            out = np.empty((total, chunk.shape[1]), dtype=chunk.dtype)
        out[s:e] = chunk
        if progress is not None:
            progress(e, total)
    assert out is not None
    return out.reshape(*shape, out.shape[1])


def decode_samples(checked: limits.CheckedFile, shape: Sequence[int] | None = None, device: str | torch.device = "cpu",
                   clip: bool = True) -> np.ndarray:
    """Float samples of a checked file on `shape` (default: native), (*shape, channels); for measuring encodes."""
    from ..nn.device import pick_device

    if checked.segments:
        raise SpdrError("decode_samples renders one network; a segmented file (or an image's bands) holds one a segment")
    grid = native_shape(checked.header) if shape is None else tuple(shape)
    model = load_model(checked.header, checked.tensors)
    return render(model, checked.header, grid, device=pick_device(device), clip=clip)
