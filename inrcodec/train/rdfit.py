"""Rate-distortion fitting of a LatentGridSPDER: MSE + lambda * estimated latent bits.

The latents are trained as integers: first with additive uniform noise (a differentiable stand-in
for rounding), then rounded with a straight-through gradient. Their rate is estimated by a
per-level Laplace model with a learned scale (the file's coder adapts by itself, so the model is
not stored). With `target_bits` set, lambda follows the estimated rate: it is raised while the
latents cost more than the target and lowered while they cost less, so one fit lands near a
given size (rate/bpp.py then trims the written file to the exact budget).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn
from torch.func import functional_call

from ..nn.latentgrid import LatentGridSPDER
from ..nn.quantize import qmax
from .qat import quantized_synthesis
from .schedule import cosine_factor

MIN_LAPLACE_SCALE = 0.05


@dataclass
class RDFitOptions:
    """Steps, learning rates, the rate weight and (optionally) the latent-bit target it tracks."""

    steps: int = 2000
    lr_latents: float = 1e-2
    lr_net: float = 5e-3
    lr_final: float = 0.05
    lam: float = 1e-2  # weight of (estimated bits per sample) against MSE in [-1, 1] units
    target_bits: float | None = None  # latent bits to steer towards (None: fixed lambda)
    noise_fraction: float = 0.7  # share of steps with uniform noise before rounding takes over
    controller_gain: float = 0.005
    controller_start: float = 0.1  # share of steps before lambda starts to follow the target
    warmup: float = 0.0  # share of steps over which the learning rates ramp up from 0 (continued fits)
    time_limit: float | None = None
    seed: int = 0
    # (weight bits, bias bits, per_row) of the stored synthesis: once the latents are rounded, the
    # network trains through the same rounding (quantization-aware), so storing it costs little
    net_quant: tuple[int, int, bool] | None = None


@dataclass
class RDFitResult:
    steps: int
    seconds: float
    mse: float
    latent_bits: float  # the Laplace estimate for the rounded latents
    lam: float


def laplace_bits(latents: list[torch.Tensor], log_scales: torch.Tensor) -> torch.Tensor:
    """Estimated bits of integer-valued latents under one zero-mean Laplace per level."""
    total = latents[0].new_zeros(())
    for lv, y in enumerate(latents):
        b = torch.exp(log_scales[lv]).clamp(min=MIN_LAPLACE_SCALE)

        def cdf(v: torch.Tensor, b: torch.Tensor = b) -> torch.Tensor:
            return 0.5 + 0.5 * torch.sign(v) * (1 - torch.exp(-v.abs() / b))

        p = (cdf(y + 0.5) - cdf(y - 0.5)).clamp(min=1e-9)
        total = total - torch.log2(p).sum()
    return total


def fit_rd(model: LatentGridSPDER, coords: torch.Tensor, values: torch.Tensor, opts: RDFitOptions,
           progress: Callable[[int, int, float, float], None] | None = None,
           keep: torch.Tensor | None = None) -> RDFitResult:
    """Train latents and synthesis in place; the latents end as integers (rounded).

    keep: a boolean mask over the flat latents; those outside it are held at zero (the latents
    that rate control trimmed, rate/bpp.py, polish)."""
    gen = torch.Generator(device=coords.device).manual_seed(opts.seed)
    log_scales = nn.Parameter(torch.zeros(len(model.shapes), device=coords.device))
    groups = [{"params": [model.latents], "lr": opts.lr_latents},
              {"params": list(model.net.parameters()) + [log_scales], "lr": opts.lr_net}]
    opt = torch.optim.Adam(groups)
    n = coords.shape[0]
    lam = opts.lam
    feats_mse = math.inf
    start = time.perf_counter()
    noise_steps = int(opts.noise_fraction * opts.steps)
    step = 0
    for step in range(opts.steps):  # noqa: B007 - step is reported after the loop
        if opts.time_limit is not None and time.perf_counter() - start >= opts.time_limit:
            break
        frac = step / max(1, opts.steps)
        decay = cosine_factor(frac, opts.lr_final, opts.warmup)
        for g, base in zip(opt.param_groups, (opts.lr_latents, opts.lr_net), strict=True):
            g["lr"] = base * decay
        y = model.latents
        if step < noise_steps:
            yq = y + torch.rand(y.shape, generator=gen, device=y.device) - 0.5
        else:
            yq = y + (torch.round(y) - y).detach()
        if keep is not None:
            yq = yq * keep
        if opts.net_quant is not None and step >= noise_steps:
            pred = functional_call(model, quantized_synthesis(model, *opts.net_quant), (coords, yq))
        else:
            pred = model(coords, yq)
        mse = torch.mean((pred - values) ** 2)
        bits = laplace_bits(model.levels(yq), log_scales)
        loss = mse + lam * bits / n
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        feats_mse = float(mse.detach())
        if opts.target_bits is not None and frac >= opts.controller_start:
            with torch.no_grad():  # the rate the rounded latents would have, not the noisy ones
                est = float(laplace_bits(model.levels(torch.round(y.detach())), log_scales))
            ratio = est / max(opts.target_bits, 1.0)
            lam *= math.exp(opts.controller_gain * max(-1.0, min(1.0, math.log(max(ratio, 1e-6)))))
            lam = min(max(lam, 1e-4), 1.0)
        if progress is not None and (step + 1) % 50 == 0:
            progress(step + 1, opts.steps, feats_mse, time.perf_counter() - start)
    with torch.no_grad():
        model.latents.copy_(torch.round(model.latents).clamp(-qmax(16), qmax(16)))
        if keep is not None:
            model.latents.mul_(keep)
        est = float(laplace_bits(model.levels(), log_scales))
    return RDFitResult(step + 1, time.perf_counter() - start, feats_mse, est, lam)
