"""The one place coordinates are made, for encoder and decoder alike.

Conventions (docs/format.md, section 3.3), per axis, times that axis' scale:

* pixel-centre (images, and every spatial axis): sample i of n sits at -1 + (2i + 1) / n, the centre
  of the i-th of n equal cells over [-1, 1]; a render at m samples uses the same formula with m, so
  a 2x render splits each native cell in two (as image resamplers do).
* timestamp (the time axis of audio and video in format 1.2): sample i of n sits at -1 + 2i / n,
  its timestamp i / rate mapped onto [-1, 1); a render at m = k n samples puts its sample k i exactly
  on native sample i, so decoding at k times the rate reproduces every original frame or sample.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

CENTRE, TIMESTAMP = "centre", "timestamp"  # where a sample sits in its cell: the middle, or its start


def _positions(i: torch.Tensor, n: int, scale: float, placement: str) -> torch.Tensor:
    """float64 positions of integer indices i on an axis of n samples (exact: one correctly rounded division)."""
    if placement not in (CENTRE, TIMESTAMP):
        raise ValueError(f"unknown sample placement {placement!r}")
    return (-1.0 + (2.0 * i.double() + (1.0 if placement == CENTRE else 0.0)) / n) * scale


def axis_affine(n: int, scale: float = 1.0, placement: str = CENTRE) -> tuple[float, float]:
    """(origin, step) with coordinate = origin + step * index: the same placement as _positions, as an affine map
    (for fractional indices between samples; train/between.py)."""
    if placement not in (CENTRE, TIMESTAMP):
        raise ValueError(f"unknown sample placement {placement!r}")
    return ((-1.0 + (1.0 if placement == CENTRE else 0.0) / n) * scale, 2.0 * scale / n)


def axis_positions(n: int, scale: float = 1.0, dtype: torch.dtype = torch.float32, placement: str = CENTRE) -> torch.Tensor:
    """The n positions of one axis, in [-scale, scale]: pixel-centre, or timestamps."""
    return _positions(torch.arange(n, dtype=torch.float64), n, scale, placement).to(dtype)


def grid_coords(
    shape: Sequence[int],
    scales: Sequence[float] | None = None,
    start: int = 0,
    stop: int | None = None,
    device: torch.device | str = "cpu",
    placements: Sequence[str] | None = None,
) -> torch.Tensor:
    """Coordinates of the flattened (C-order) samples start..stop of a grid; shape (stop-start, ndim).

    placements: per axis, CENTRE (default) or TIMESTAMP.
    """
    shape = [int(s) for s in shape]
    scales = [1.0] * len(shape) if scales is None else [float(s) for s in scales]
    placements = [CENTRE] * len(shape) if placements is None else list(placements)
    total = 1
    for s in shape:
        total *= s
    stop = total if stop is None else min(stop, total)
    idx = torch.arange(start, stop, dtype=torch.int64, device=device)
    cols = []
    for n, sc, placement in zip(reversed(shape), reversed(scales), reversed(placements), strict=True):
        axis_idx = idx % n
        idx = idx // n
        cols.append(_positions(axis_idx, n, sc, placement).float())
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
