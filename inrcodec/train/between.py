"""Off-grid targets for the between-samples regulariser: the trivial interpolant of the training grid.

A fit sees its signal only at the samples; between them a sine network is free to ring. The
regulariser (FitOptions.between_weight) adds, at every step, random coordinates between samples
along chosen axes, with the signal's trivial interpolant there as target: linear (video frame
blending along t) or Keys cubic (a = -0.5, the bicubic of image resamplers; cubic for audio).
Axes not interpolated are drawn at their own samples. Everything stays on the grid's device.

Positions are affine in the (fractional) sample index u: coordinate = origin + step * u, which
covers both conventions of nn/coords.py (`axis_affine`) and a benchmark's subsampled axes alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

KINDS = ("linear", "cubic")


def _taps(u: torch.Tensor, n: int, kind: str) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Integer sample indices (clamped to the axis) and weights of the interpolant at fractional u."""
    i0 = torch.floor(u).clamp(0, max(0, n - 2))
    f = u - i0
    i0 = i0.long()
    if kind == "linear" or n < 3:
        return [i0, (i0 + 1).clamp(max=n - 1)], [1.0 - f, f]
    a = -0.5  # Keys' cubic convolution, exact for quadratics (Pillow's bicubic uses this a)

    def k(d: torch.Tensor) -> torch.Tensor:
        d = d.abs()
        near = ((a + 2) * d - (a + 3)) * d * d + 1
        far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
        return torch.where(d <= 1, near, torch.where(d < 2, far, torch.zeros_like(d)))

    idx = [(i0 + o).clamp(0, n - 1) for o in (-1, 0, 1, 2)]
    return idx, [k(f + 1), k(f), k(f - 1), k(f - 2)]


class BetweenSampler:
    """Random off-grid (coordinates, targets) of a grid signal, for FitOptions.between_weight.

    values: (*shape, channels) samples on the grid; affine: per axis (origin, step) of its
    coordinates; axes: which axes get fractional positions (the others stay on their samples);
    count: coordinates per call.
    """

    def __init__(self, values: torch.Tensor, affine: Sequence[tuple[float, float]], axes: Sequence[int], count: int,
                 kind: str = "cubic"):
        if kind not in KINDS:
            raise ValueError(f"interpolant must be one of {', '.join(KINDS)}")
        self.shape = list(values.shape[:-1])
        if len(affine) != len(self.shape):
            raise ValueError("one (origin, step) per grid axis")
        self.flat = values.reshape(-1, values.shape[-1])
        self.affine = [(float(o), float(s)) for o, s in affine]
        self.axes = sorted({int(a) for a in axes})
        self.count = max(1, int(count))
        self.kind = kind
        strides, acc = [], 1
        for n in reversed(self.shape):
            strides.append(acc)
            acc *= n
        self.strides = strides[::-1]

    def __call__(self, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        device = self.flat.device
        cols: list[torch.Tensor] = []
        index = torch.zeros(1, self.count, dtype=torch.long, device=device)  # (taps so far, count)
        weight = torch.ones(1, self.count, device=device)
        for a, n in enumerate(self.shape):
            origin, step = self.affine[a]
            if a in self.axes and n > 1:
                u = torch.rand(self.count, generator=gen, device=device) * (n - 1)
                idx, w = _taps(u, n, self.kind)
                idx_t, w_t = torch.stack(idx), torch.stack(w)  # (taps, count)
            else:
                u = torch.randint(0, n, (self.count,), generator=gen, device=device).float()
                idx_t, w_t = u.long()[None], torch.ones(1, self.count, device=device)
            cols.append(origin + step * u)
            index = (index[:, None] + self.strides[a] * idx_t[None]).reshape(-1, self.count)
            weight = (weight[:, None] * w_t[None]).reshape(-1, self.count)
        target = (self.flat[index] * weight[..., None]).sum(0)
        return torch.stack(cols, dim=-1).float(), target.float()
