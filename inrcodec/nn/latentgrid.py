"""Latent-grid SPDER: a pyramid of integer 2-D latent grids, sampled at any coordinate, feeding a SPDER.

Why: a plain coordinate MLP spends every weight on the whole image, so its rate-distortion curve
sits far below JPEG; a multi-resolution grid stores local detail where it is, and its integers
are cheap to entropy-code (benchmarks/results/rd/). Decoding stays resolution-free: each level is
bilinearly interpolated at the requested pixel-centre coordinates, then the SPDER maps the
`levels` interpolated values to the output channels.

Architecture (header `arch`, with `grid_levels`, `grid_height`, `grid_width` present):

* level l = 0 .. grid_levels-1 is a ceil(grid_height / 2^l) x ceil(grid_width / 2^l) grid of one
  feature; all levels are stored as one flat tensor `latents` (level 0 first, each row-major);
* audio (format 1.5): in_features 1 and grid_height 1, one row of latents on the time axis; the
  header's timestamps t (sample i of n at -1 + 2i/n, coords.scale 1) are sampled at x = t + 1/grid_width,
  so native sample i sits at the centre of finest cell i (a render at k times the rate keeps every
  original instant); y = 0;
* video (format 1.6): in_features 3 and `grid_frames` F, level l a ceil(F / 2^l) x h_l x w_l block stored
  (t, y, x) row-major; a point (t, y, x) is sampled trilinearly at (t + 1/F, y, x), so with F = frames
  native frame i sits at the centre of finest slice i (as audio's samples do); the stencil shifts in y and x only;
* a point (y, x) in [-1, 1]^2 samples each level with the pixel-centre convention (torch
  grid_sample, align_corners=False, border padding), giving `grid_levels` features: bilinearly,
  or bicubically when `grid_interp` is 3 (smoother between samples: +0.1 to +0.45 dB at 1 bpp,
  benchmarks/results/rd/grid_levers.md);
* with `grid_stencil` k (format 1.3), the k finest levels are also sampled one of their cells away
  in the 8 directions (a 3x3 stencil, still at any coordinate): 8 more features per such level;
* `net.0` (features -> width), `depth` hidden layers (width -> width), each z = omega * (W f + b)
  then sin(z) * damping(z) (first layer with first_omega0), then a linear head `net.{depth+1}`;
* with `arm_width` and `arm_depth` (format 1.3), `arm`: the entropy model the latents are coded
  with (nn/arm.py); it plays no part in rendering.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..format.geometry import arm_context, grid_level_shapes
from .activations import damped_sine
from .arm import Arm
from .separable import product_axes, product_features

MAX_LEVELS = 16
INTERP_MODES = {1: "bilinear", 3: "bicubic"}  # arch "grid_interp" -> grid_sample mode


def default_levels(height: int, width: int) -> int:
    """Levels down to a coarsest grid of about 2 samples on the short side (at most MAX_LEVELS)."""
    return max(1, min(MAX_LEVELS, int(math.log2(max(2, min(height, width))))))


class DampedLinear(nn.Linear):
    """Linear layer then sin(omega * z) * damping, PyTorch's default initialisation."""

    def __init__(self, fan_in: int, fan_out: int, omega: float, damping: str):
        super().__init__(fan_in, fan_out)
        self.omega, self.damping = float(omega), damping

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = super().forward(x)
        # the latent-grid engine's omega is 1 (rate/plan.OMEGA): 1 * z == z exactly, and skipping the product saves a
        # pass over every activation forward and backward (about a tenth of a fast-preset step, 2 CPU cores)
        return damped_sine(z if self.omega == 1.0 else self.omega * z, self.damping)


class LatentGridSPDER(nn.Module):
    """Latent pyramid + SPDER synthesis; forward(coords (N, 2)) -> (N, out_features)."""

    def __init__(self, arch: dict):
        super().__init__()
        dims = int(arch["in_features"])
        if dims not in (1, 2, 3) or (dims == 1 and int(arch["grid_height"]) != 1) or ((dims == 3) != ("grid_frames" in arch)):
            raise ValueError("latent grids are 2-D (images, in_features 2), one row on a time axis (audio, in_features 1, "
                             "grid_height 1) or (t, y, x) blocks (video, in_features 3, grid_frames)")
        self.arch = dict(arch)
        self.shapes = grid_level_shapes(arch)
        self.sizes = [math.prod(shape) for shape in self.shapes]
        self.latents = nn.Parameter(torch.zeros(sum(self.sizes)))
        width, depth, levels = int(arch["width"]), int(arch["depth"]), len(self.shapes)
        self.stencil = int(arch.get("grid_stencil", 0))  # finest levels sampled at a 3x3 stencil of their cells
        inputs = levels + 8 * min(self.stencil, levels)
        damping = arch.get("damping", "sqrt")
        layers: list[nn.Module] = [DampedLinear(inputs, width, float(arch["first_omega0"]), damping)]
        layers += [DampedLinear(width, width, float(arch["omega0"]), damping) for _ in range(depth)]
        layers.append(nn.Linear(width, int(arch["out_features"])))
        self.net = nn.Sequential(*layers)
        if "arm_width" in arch:  # format 1.3: the latents' entropy model travels with the network
            self.arm = Arm(int(arch["arm_width"]), int(arch["arm_depth"]), levels, arm_context(arch), int(arch.get("arm_passes", 2)))

    def levels(self, latents: torch.Tensor | None = None) -> list[torch.Tensor]:
        """The latent grids as (1, 1, h, w) views of the flat tensor, (1, 1, t, h, w) on video."""
        flat = self.latents if latents is None else latents
        return [g.view(1, 1, *shape) for g, shape in zip(torch.split(flat, self.sizes), self.shapes, strict=True)]

    def features(self, coords: torch.Tensor, latents: torch.Tensor | None = None) -> torch.Tensor:
        """(N, levels) bilinear samples of every level at coords (N, 2) ordered (y, x); (N, 1) timestamps on audio,
        (N, 3) (t, y, x) on video (trilinear)."""
        if coords.shape[1] == 1:  # a time axis (timestamps): sample i of n at the centre of finest cell i, on row y = 0
            coords = torch.cat([torch.zeros_like(coords), coords + 1.0 / int(self.arch["grid_width"])], dim=1)
        if coords.shape[1] == 3:  # video: frame i of F at the centre of finest slice i; grid_sample wants (x, y, t)
            t = coords[:, :1] + 1.0 / int(self.arch["grid_frames"])
            g = torch.cat([coords[:, 2:3], coords[:, 1:2], t], dim=1).reshape(1, -1, 1, 1, 3).to(self.latents.dtype)
        else:
            g = coords[:, [1, 0]].reshape(1, -1, 1, 2).to(self.latents.dtype)  # grid_sample wants (x, y)
        mode = INTERP_MODES[int(self.arch.get("grid_interp", 1))]
        feats = [F.grid_sample(lv, g, mode=mode, padding_mode="border", align_corners=False).reshape(-1)
                 for lv in self.levels(latents)]
        for lv, grid in enumerate(self.levels(latents)[:self.stencil]):
            h, w = self.shapes[lv][-2:]
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    if dy or dx:
                        step = [2.0 * dx / w, 2.0 * dy / h] + ([0.0] if g.shape[-1] == 3 else [])
                        shift = torch.tensor(step, dtype=g.dtype, device=g.device)
                        feats.append(F.grid_sample(grid, g + shift, mode=mode, padding_mode="border", align_corners=False).reshape(-1))
        return torch.stack(feats, dim=-1)

    def separable_axes(self, coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(ys, xs) when `coords` is this image's whole pixel grid and the latents are bilinear, for `forward(...,
        axes=)`: the features then come from nn/separable.py, a few times faster forward and backward; else None."""
        if int(self.arch["in_features"]) != 2 or int(self.arch.get("grid_interp", 1)) != 1:
            return None
        return product_axes(coords, int(self.arch["grid_height"]), int(self.arch["grid_width"]))

    def forward(self, coords: torch.Tensor, latents: torch.Tensor | None = None,
                axes: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """The network at coords; axes (from separable_axes(coords)): the same coordinates as a product grid."""
        if axes is not None:
            return self.net(product_features(self.levels(latents), self.stencil, *axes))
        return self.net(self.features(coords, latents))
