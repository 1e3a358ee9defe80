"""The learned entropy model (ARM) of the latent grids, in torch: what training minimises as the rate.

It mirrors format/armmodel.py, the integer model the file is coded with: the same contexts (3x3 of
the coarser level, 4 same-level neighbours from earlier passes, the pass number), the
same layers (ReLU hidden layers, outputs mean and log2 scale), the same piecewise-linear
scale 2^floor(v) * (1 + frac(v)). Here everything is float and differentiable; `to_integers`
rounds it to the file's integers (weights over power-of-two scales), and tests check that the
two give the same rate to within a fraction of a percent.

Why passes + coarser level, not Cool-chic's raster-causal context: every pass is one batch, so decoding a
level takes two (the checkerboard, format 1.3) or three (format 1.8, images: only a quarter of the latents
without same-level neighbours) vectorised model evaluations instead of one per latent.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..format.armmodel import ACT_BITS, CONTEXT, DIRECT, MAX_SHIFT, V_MAX, V_MIN, VIDEO_CONTEXT, pass_masks, same_offsets
from .fused import fusing

MIN_PROB = 2.0**-24  # constriction's precision: no symbol is coded with less


def piecewise_scale(v: torch.Tensor) -> torch.Tensor:
    """2^floor(v) * (1 + frac(v)) for v = log2 scale, the float twin of armmodel.dyadic_scale."""
    e = torch.floor(v)
    return torch.exp2(e) * (1 + (v - e))


def laplace_bits(y: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Bits of each integer-valued y under a Laplace(mean, scale) quantized to unit bins (stable in both tails)."""
    d = -(y - mean).abs()  # reflect into the lower tail: both CDF values below 0.5 there
    upper, lower = d + 0.5, d - 0.5

    def cdf(t: torch.Tensor) -> torch.Tensor:
        return torch.where(t <= 0, 0.5 * torch.exp(t.clamp(max=0) / scale), 1 - 0.5 * torch.exp(-t.clamp(min=0) / scale))

    p = (cdf(upper) - cdf(lower)).clamp(min=MIN_PROB)
    return -torch.log2(p)


def level_contexts(levels: list[torch.Tensor], video: bool = False, passes: int = 2) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per level (finest first): (contexts (n, CONTEXT), (n,) bool: True outside the first pass), row-major.

    passes 2 (formats 1.3 to 1.7): the checkerboard, row + column even first, then the rest with their four direct
    neighbours. passes 3 (format 1.8, images): row and column even first; then row and column odd, with their four
    diagonal neighbours (all first-pass); then the rest, with their four direct neighbours (first- or second-pass).
    passes 5, 7, 9 (format 1.9, images): the same rounds on the lattices of stride 2^(R-1) .. 1 first
    (format/armmodel.pass_masks). The context's last integer is the pass number.

    A video level (t, h, w) is t planes, each with the 2-D context of an image level, its coarser level
    being plane k // 2 of the next level, and (VIDEO_CONTEXT) the 3x3 of its own previous plane (format 1.6)."""
    levels = [g.reshape(-1, *g.shape[-2:]) for g in levels]  # (1, 1, [t,] h, w) views of LatentGridSPDER.levels() -> (t, h, w)
    out = []
    for lv, grid in enumerate(levels):
        d, h, w = grid.shape
        if lv + 1 < len(levels):
            # the zero-padded coarser level repeated 2x2: its cell (1 + i//2 + di, 1 + j//2 + dj) is at
            # (2 + 2di + i, 2 + 2dj + j), so the nine contexts are plain slices (a quarter faster than gathers)
            parent = levels[lv + 1]  # plane k's coarser plane is k // 2 (a repeat, not a gather: its backward is far cheaper)
            parent = parent.repeat_interleave(2, 0)[:d] if parent.shape[0] > 1 else parent.expand(d, -1, -1)
            up = F.pad(parent, (1, 1, 1, 1)).repeat_interleave(2, 1).repeat_interleave(2, 2)
            coarse = [up[:, 2 + 2 * di : 2 + 2 * di + h, 2 + 2 * dj : 2 + 2 * dj + w] for di in (-1, 0, 1) for dj in (-1, 0, 1)]
        else:
            coarse = [grid.new_zeros(d, h, w)] * 9
        if passes == 2:
            rows, cols = torch.arange(h, device=grid.device)[:, None], torch.arange(w, device=grid.device)[None, :]
            direct = ((rows + cols) % 2 == 1).expand(d, h, w)  # the second pass: its four direct neighbours are decoded
            # every neighbour a context reads is of an earlier pass, so the grid itself (zero-padded) serves as it is
            same = [torch.where(direct, s, 0.0) for s in _neighbours(F.pad(grid, (1, 1, 1, 1)), h, w, DIRECT)]
            number = direct.to(grid.dtype)
        else:
            same, number = _pass_neighbours(grid, passes)
        previous = []
        if video:  # plane k - 1 of this level (zeros before the first), its 3x3 around (i, j)
            before = F.pad(F.pad(grid, (1, 1, 1, 1))[:-1], (0, 0, 0, 0, 1, 0))
            previous = [before[:, 1 + di : 1 + di + h, 1 + dj : 1 + dj + w] for di in (-1, 0, 1) for dj in (-1, 0, 1)]
        parts = coarse + same + [number] + previous
        ctx = torch.stack(parts, dim=-1).reshape(d * h * w, len(parts))
        out.append((ctx, (number > 0).reshape(-1)))
    return out


def _neighbours(padded: torch.Tensor, h: int, w: int, offsets) -> list[torch.Tensor]:
    """The (t, h, w) planes of a zero-padded level shifted by each (di, dj) of `offsets`."""
    return [padded[:, 1 + di : 1 + di + h, 1 + dj : 1 + dj + w] for di, dj in offsets]


def _pass_neighbours(grid: torch.Tensor, passes: int) -> tuple[list[torch.Tensor], torch.Tensor]:
    """(the four same-level context planes, the pass number plane) of a (t, h, w) level coded in an odd number of
    passes (format/armmodel.pass_masks): each position reads its pass's offsets (same_offsets), the first pass zeros.
    Every neighbour read is of an earlier pass, so the zero-padded grid itself serves as it is: one gather a slot
    (index 0, a padding corner, for the first pass), 2.3x faster forward and backward than a masked select per pass
    at 768x512 with 7 passes."""
    d, h, w = grid.shape
    index, number, pad = _gather_plan(h, w, passes, grid.device)
    flat = F.pad(grid, (pad, pad, pad, pad)).reshape(d, -1)
    same = [flat[:, slot].reshape(d, h, w) for slot in index]
    return same, number.to(dtype=grid.dtype).expand(d, h, w)


@functools.lru_cache(maxsize=64)
def _gather_plan(h: int, w: int, passes: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(index (4, h * w) into the level zero-padded by `pad`, pass number (h, w), pad) of an odd pass count, on
    `device` (cached there: a fit on a GPU does not copy the plan to it every step)."""
    pad = 1 << ((passes - 1) // 2 - 1)  # the first round's stride: the farthest neighbour
    cells = (np.arange(h)[:, None] + pad) * (w + 2 * pad) + np.arange(w)[None, :] + pad
    index = np.zeros((4, h, w), dtype=np.int64)
    number = np.zeros((h, w), dtype=np.float32)
    for pass_, where in enumerate(pass_masks(h, w, passes)):
        if pass_:
            for slot, (di, dj) in enumerate(same_offsets(passes, pass_)):
                index[slot][where] = (cells + di * (w + 2 * pad) + dj)[where]
            number[where] = pass_
    return torch.from_numpy(index.reshape(4, -1)).to(device), torch.from_numpy(number).to(device), pad


class Arm(nn.ModuleList):
    """Context (N, CONTEXT) -> (mean, log2 scale); one net for every level, plus a log2-scale bias per level.

    The layers are the list's items, so the state dict names them as the file does: arm.K.weight, arm.level."""

    def __init__(self, width: int, depth: int, levels: int, context: int = CONTEXT, passes: int = 2):
        if context not in (CONTEXT, VIDEO_CONTEXT):
            raise ValueError(f"an ARM context has {CONTEXT} inputs, or {VIDEO_CONTEXT} on video")
        dims = [context] + [width] * depth
        super().__init__([nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:], strict=True)] + [nn.Linear(dims[-1], 2)])
        self.context, self.passes = context, passes
        with torch.no_grad():  # start as "zero mean, scale 1" so the first steps' rate is sane
            self[-1].weight.mul_(0.1)
            self[-1].bias.zero_()
        self.level = nn.Parameter(torch.zeros(levels))

    def forward(self, ctx: torch.Tensor, level: int) -> tuple[torch.Tensor, torch.Tensor]:
        return _mean_and_v(self, ctx, self.level[level])

    def bits(self, levels: list[torch.Tensor], coded: list[bool] | None = None) -> torch.Tensor:
        """Estimated bits of the (integer-valued or soft-rounded) latent grids, finest first."""
        total = levels[0].new_zeros(())
        rate = _fused_level_bits() if fusing() and torch.is_grad_enabled() else _level_bits
        for lv, (ctx, _) in enumerate(level_contexts(levels, self.context == VIDEO_CONTEXT, self.passes)):
            if coded is not None and not coded[lv]:
                continue
            total = total + rate(self, ctx, levels[lv].reshape(-1), self.level[lv])
        return total


def _mean_and_v(arm: Arm, ctx: torch.Tensor, level_bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    a = ctx
    for layer in list(arm)[:-1]:
        a = torch.relu(layer(a))
    out = arm[-1](a)
    return out[:, 0], (out[:, 1] + level_bias).clamp(V_MIN / 2**ACT_BITS, V_MAX / 2**ACT_BITS)


def _level_bits(arm: Arm, ctx: torch.Tensor, y: torch.Tensor, level_bias: torch.Tensor) -> torch.Tensor:
    """Bits of one level's latents y under the model's prediction from their contexts."""
    mean, v = _mean_and_v(arm, ctx, level_bias)
    return laplace_bits(y, mean, piecewise_scale(v)).sum()


@functools.cache
def _fused_level_bits():
    """_level_bits compiled (nn/fused.py): the MLP's ReLUs and the Laplace rate's dozen elementwise steps fused.
    The level's bias comes in as a tensor, so one compilation serves every level."""
    return torch.compile(_level_bits, dynamic=True)


def _shift_for(t: torch.Tensor, bits: int, cap: int) -> int:
    """The largest shift s <= cap with |t| * 2^s within the signed `bits` range."""
    peak = float(t.abs().max()) if t.numel() else 0.0
    limit = 2 ** (bits - 1) - 1
    if peak == 0:
        return cap
    return max(0, min(cap, int(math.floor(math.log2(limit / peak)))))


def to_integers(arm: Arm, weight_bits: int = 8, bias_bits: int = 16) -> tuple[dict[str, np.ndarray], dict[str, dict]]:
    """The file's tensors of the ARM: integers with power-of-two float32 scales, and their quant entries.

    Rounds the module's own weights to those values too, so the encoder trains and measures what it stores."""
    tensors: dict[str, np.ndarray] = {}
    entries: dict[str, dict] = {}

    def put(name: str, q: torch.Tensor, scale: float, bits: int) -> None:
        dtype = np.int8 if bits <= 8 else np.int16
        tensors[name] = np.ascontiguousarray(q.numpy().astype(dtype))
        tensors[name + ".scale"] = np.array([scale], dtype=np.float32)
        entries[name] = {"bits": bits, "shape": list(q.shape), "scale_shape": [1]}

    with torch.no_grad():
        for k, layer in enumerate(arm):
            sw = _shift_for(layer.weight, weight_bits, MAX_SHIFT - ACT_BITS)
            sb = _shift_for(layer.bias, bias_bits, sw + ACT_BITS)
            qw = torch.round(layer.weight.detach().cpu() * 2**sw).clamp(-(2 ** (weight_bits - 1) - 1), 2 ** (weight_bits - 1) - 1)
            qb = torch.round(layer.bias.detach().cpu() * 2**sb).clamp(-(2 ** (bias_bits - 1) - 1), 2 ** (bias_bits - 1) - 1)
            layer.weight.copy_(qw / 2**sw)
            layer.bias.copy_(qb / 2**sb)
            put(f"arm.{k}.weight", qw, 2.0**-sw, weight_bits)
            put(f"arm.{k}.bias", qb, 2.0**-sb, bias_bits)
        lv = torch.round(arm.level.detach().cpu() * 2**ACT_BITS).clamp(-32767, 32767)
        arm.level.copy_(lv / 2**ACT_BITS)
        put("arm.level", lv, 1.0, 16)
    return tensors, entries
