"""What rate control decides before fitting: the byte budget, the synthesis network, the levels, the steps.

All numbers here were measured (benchmarks/results/rd/): PLANS gives about a fifth of the budget to
the network at 8 bits; RateOptions holds the switches whose alternatives were measured and lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..codec.presets import EncodeConfig
from ..nn.latentgrid import default_levels
from ..nn.registry import make_arch

# fast aims at a 768x512 photo in ~3 min on 2 CPU cores: measured 157 s for the default quality (fused kernels, separable
# sampling; benchmarks/results/engine_speed.md, 2-core AMD EPYC)
PRESET_STEPS = {"fast": 500, "balanced": 1500, "max": 5000, "paper": 5000}
# (bytes per channel at which a plan starts, width, depth): network sizes measured in
# benchmarks/results/rd/rd.md; ~20 % of the budget goes to the network at 8 bits.
PLANS = ((0, 8, 0), (300, 12, 0), (600, 16, 1), (1200, 24, 1), (4000, 32, 2), (16000, 48, 2))
# (whole-file bytes at which it starts, ARM width, ARM depth): the entropy model grows with the budget
# (width 16, depth 2 is about 450 bytes stored: too much for a tiny file, noise for a large one)
ARM_PLANS = ((0, 4, 0), (1500, 8, 1), (6000, 16, 2))
OMEGA = 1.0  # latents are O(1) integers: the SPDER's frequency factor stays 1
LR_REFERENCE_STEPS = 2000  # fits this long or longer use the latent learning rate 5e-2
MAX_LATENT_LR = 0.2  # a few-step fit at 1.0 lands at 85 % of a 4 bpp budget (tests/test_notices.py); 0.2 fills it


@dataclass(frozen=True)
class RateOptions:
    """Rate-control switches, passed as values (benchmarks/rd_levers.py measures the alternatives).

    qat: train the synthesis through its 8-bit rounding (measured no gain: its 8-bit drop is <= 0.01 dB).
    grid_interp: 1 bilinear latent sampling; 3 bicubic won at 1 bpp but lost at 0.25 and 2 (grid_levers.md).
    refine_rounds: under 95 % of the budget, train on at most this often.
    refine_lr: latent learning rate of a refine round, relative to the first fit's (+0.38 dB at 2 bpp, grid_levers.md).
    polish_rounds: over budget, trim then retrain around the trimmed latents at most this often.
    stencil: finest levels the synthesis also samples one cell around (3x3); the quality engine uses 2
    (rate/quality.QUALITY_OPTIONS, measured there), the --bpp path none.
    arm_passes: the passes the entropy model codes each latent level (on video: each plane) in: 7 (format 1.9, 1.10
    on video: 1.8's three passes on the lattices of stride 4, 2, then 1, so a 64th of the latents lack same-level
    context; measured in rate/quality.py), 3 (format 1.8: a quarter), 5 or 9 (1.9), or 2, the checkerboard (format 1.3: half).
    """

    qat: bool = False
    grid_interp: int = 1
    refine_rounds: int = 3
    refine_lr: float = 0.5
    polish_rounds: int = 2
    stencil: int = 0  # off by default: +0.55 dB on coffee at 1.6 bpp, but 14 dB at 3 bpp on a 40x30 photo (test_ratecontrol)
    arm_passes: int = 7  # images: the entropy model codes a level in 7 passes (format 1.9; 3 is 1.8's, 2 the checkerboard 1.3's)

    def __post_init__(self) -> None:
        if self.grid_interp not in (1, 3):
            raise ValueError("grid_interp must be 1 (bilinear) or 3 (bicubic)")
        if self.arm_passes not in (2, 3, 5, 7, 9):
            raise ValueError("arm_passes must be 2 (the checkerboard), 3, 5, 7 or 9")


@dataclass(frozen=True)
class RatePlan:
    """What the rate control decided for one image."""

    budget: int
    width: int
    depth: int
    levels: int
    steps: int
    net_bits: int = 8
    bias_bits: int = 8
    per_row: bool = False
    arm_width: int = 16
    arm_depth: int = 2


def budget_bytes(bpp: float, height: int, width: int) -> int:
    """Whole-file bytes allowed by `bpp` bits per pixel."""
    return int(math.floor(bpp * height * width / 8.0))


def plan_for(bpp: float, height: int, width: int, channels: int, config: EncodeConfig) -> RatePlan:
    """Network size from the budget (config.depth overrides), steps from preset or --steps."""
    budget = budget_bytes(bpp, height, width)
    per_channel = budget / max(1, channels) * 3 / max(1, channels) ** 0.5
    w, d = next((pw, pd) for start, pw, pd in reversed(PLANS) if per_channel >= start)
    aw, ad = next((pw, pd) for start, pw, pd in reversed(ARM_PLANS) if budget >= start)
    steps = PRESET_STEPS.get(config.preset, 2000) if config.steps is None else config.steps
    return RatePlan(budget, w, d if config.depth is None else config.depth, default_levels(height, width), steps,
                    arm_width=aw, arm_depth=ad)


def grid_arch(plan: RatePlan, height: int, width: int, channels: int, damping: str, options: RateOptions = RateOptions(),
              in_features: int = 2, frames: int | None = None) -> dict:
    """The header's `arch` (in_features 1: audio's one row, height 1; 3: video, `frames` latent slices at the finest
    level); grid_interp only when not the default bilinear (older 1.1 readers refuse it)."""
    arch = make_arch("spder", in_features, channels, plan.width, plan.depth, damping=damping, omega0=OMEGA,
                     grid_levels=plan.levels, grid_height=height, grid_width=width,
                     grid_interp=None if options.grid_interp == 1 else options.grid_interp)
    passes = options.arm_passes if options.arm_passes != 2 else None  # formats 1.8 and 1.9 (images, audio), 1.10 (video)
    arch.update(arm_width=plan.arm_width, arm_depth=plan.arm_depth, grid_stencil=options.stencil or None, grid_frames=frames,
                arm_passes=passes)
    return {k: v for k, v in arch.items() if v is not None}


def latent_lr(steps: int) -> float:
    """Adam moves a latent by at most ~lr per step, so short fits get a larger rate (integers must
    reach several units for high bit rates). Exploratory runs on the tuning photo coffee at 600 steps,
    lambda 1e-3 (`python benchmarks/engine_probe.py --lr X`, decoded PSNR): 1e-2 gave 29.0 dB,
    2e-2 30.6, 5e-2 32.4, 1e-1 33.7 (and 0.2-0.4 bpp more)."""
    return min(MAX_LATENT_LR, 5e-2 * max(1.0, LR_REFERENCE_STEPS / max(1, steps)) ** 0.5)


def initial_lambda(latent_bpp: float) -> float:
    """Starting rate weight for a latent rate in bits per pixel (fitted on the default photos)."""
    return float(min(1.0, max(1e-4, 0.01 * (1.4 / max(latent_bpp, 1e-3)) ** (1 / 0.6))))
