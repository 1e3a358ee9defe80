"""The latent pyramid sampled on a whole product grid at once, one axis at a time: what a full-batch image fit evaluates
every step.

Why: `LatentGridSPDER.features` samples each level at every coordinate with `grid_sample`, 25 calls a step on the quality
engine (9 levels, a 3x3 stencil on the two finest), and grid_sample's backward was a fifth of a fast-preset step at 768x512
(benchmarks/results/engine_speed.md). On the image's own pixel grid the samples are separable: bilinear with border
padding is a lerp along x followed by a lerp along y, each with the same two taps on every row (or column). Two gathers
and a lerp per axis on a level-sized array replace the per-point kernel, forward and backward.

The taps are computed as torch's grid_sample computes them (align_corners=False, border padding: unnormalise, clamp to
the edge, floor, fractional weight), from the same float32 coordinates, so the features agree with `features` to float
rounding (tests/test_separable.py); decoding keeps using `features` at any coordinates.
"""

from __future__ import annotations

import torch


def product_axes(coords: torch.Tensor, height: int, width: int) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(ys (height,), xs (width,)) when `coords` (N, 2) is exactly their C-order product grid, (y, x) per row; else None."""
    if coords.ndim != 2 or coords.shape != (height * width, 2):
        return None
    grid = coords.view(height, width, 2)
    ys, xs = grid[:, 0, 0], grid[0, :, 1]
    if not (torch.equal(grid[..., 0], ys[:, None].expand(height, width)) and torch.equal(grid[..., 1], xs[None, :].expand(height, width))):
        return None
    return ys, xs


def bilinear_taps(x: torch.Tensor, cells: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(i0, i1, w0, w1) with sample(x) = w0 * g[i0] + w1 * g[i1] on an axis of `cells` cells, as grid_sample's bilinear
    mode with align_corners=False and border padding (i1 clamped where its weight is 0)."""
    ix = (((x + 1) * cells - 1) / 2).clamp(0, cells - 1)
    i0 = torch.floor(ix)
    w1 = ix - i0
    i0 = i0.long()
    return i0, (i0 + 1).clamp(max=cells - 1), 1 - w1, w1


def _lerp(grid: torch.Tensor, taps: tuple[torch.Tensor, ...], dim: int) -> torch.Tensor:
    """The taps applied along `dim` of a 2-D grid."""
    i0, i1, w0, w1 = taps
    shape = (-1, 1) if dim == 0 else (1, -1)
    return grid.index_select(dim, i0) * w0.view(shape) + grid.index_select(dim, i1) * w1.view(shape)


def product_features(levels: list[torch.Tensor], stencil: int, ys: torch.Tensor, xs: torch.Tensor) -> torch.Tensor:
    """(len(ys) * len(xs), features) in `LatentGridSPDER.features`' order: every level at the grid's points, then each
    of the `stencil` finest levels one cell away in the 8 directions (dy, dx over -1, 0, 1, row-major)."""
    feats, shifted = [], []
    for lv, level in enumerate(levels):
        grid = level.reshape(level.shape[-2:])
        h, w = grid.shape
        moves = (-1, 0, 1) if lv < stencil else (0,)
        # x first (a level-height array per move), then y: 3 + 9 lerps for a stencil level instead of 9 full samples
        along_x = {dx: _lerp(grid, bilinear_taps(xs + torch.tensor(2.0 * dx / w, dtype=xs.dtype, device=xs.device), w), 1)
                   for dx in moves}
        for dy in moves:
            taps = bilinear_taps(ys + torch.tensor(2.0 * dy / h, dtype=ys.dtype, device=ys.device), h)
            for dx in moves:
                (shifted if dy or dx else feats).append(_lerp(along_x[dx], taps, 0).reshape(-1))
    return torch.stack(feats + shifted, dim=-1)
