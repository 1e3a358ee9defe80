"""The one place coordinates are made, for encoder and decoder alike.

Convention (docs/format.md): an axis of n samples has its sample i at -1 + (2i + 1) / n, the
centre of the i-th of n equal cells over [-1, 1], times that axis' scale. Rendering the same
extent at m samples uses the same formula with m, so a 2x render splits each native cell in two.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch


def axis_positions(n: int, scale: float = 1.0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The n pixel-centre positions of one axis, in [-scale, scale]."""
    i = torch.arange(n, dtype=torch.float64)
    return ((-1.0 + (2.0 * i + 1.0) / n) * scale).to(dtype)


def grid_coords(
    shape: Sequence[int],
    scales: Sequence[float] | None = None,
    start: int = 0,
    stop: int | None = None,
    device: torch.device | str = "cpu",
) -> torch.Tensor:
    """Coordinates of the flattened (C-order) samples start..stop of a grid; shape (stop-start, ndim)."""
    shape = [int(s) for s in shape]
    scales = [1.0] * len(shape) if scales is None else [float(s) for s in scales]
    total = 1
    for s in shape:
        total *= s
    stop = total if stop is None else min(stop, total)
    idx = torch.arange(start, stop, dtype=torch.int64, device=device)
    cols = []
    for n, sc in zip(reversed(shape), reversed(scales), strict=False):
        axis_idx = idx % n
        idx = idx // n
        cols.append(((-1.0 + (2.0 * axis_idx.double() + 1.0) / n) * sc).float())
    return torch.stack(cols[::-1], dim=-1)


def iter_chunks(total: int, chunk: int) -> Iterator[tuple[int, int]]:
    """(start, stop) pairs covering range(total) in pieces of at most `chunk`."""
    for s in range(0, total, max(1, chunk)):
        yield s, min(total, s + chunk)


def forward_chunks(model: torch.nn.Module, coords: torch.Tensor, chunk: int = 1 << 16) -> Iterator[tuple[int, int, torch.Tensor]]:
    """(start, stop, output) of `model` on `coords` in pieces of at most `chunk` rows, without autograd.

    The one chunked forward pass over a coordinate tensor: the fit's full-data loss and the
    benchmarks' predictions use it (a file's render, codec/runtime.py, makes its coordinates per chunk).
    """
    with torch.no_grad():
        for s, e in iter_chunks(coords.shape[0], chunk):
            yield s, e, model(coords[s:e])
