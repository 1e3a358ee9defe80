"""Rate-distortion fitting of a LatentGridSPDER: MSE + lambda * estimated latent bits.

The latents are trained as integers: first with additive uniform noise (a differentiable stand-in
for rounding), then rounded with a straight-through gradient. Their rate is estimated by a
per-level Laplace model with a learned scale (the file's coder adapts by itself, so the model is
not stored). With `target_bits` set, lambda follows the estimated rate: it is raised while the
latents cost more than the target and lowered while they cost less, so one fit lands near a
given size (ratecontrol.py then trims the written file to the exact budget).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call

from .latentgrid import LatentGridSPDER
from .quantize import SCHEME, fake_quantize, qmax, scales_for

LATENT_BITS = 8  # latents are stored as int8 when they fit, else int16
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
    that rate control trimmed, ratecontrol.polish)."""
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
        decay = opts.lr_final + (1 - opts.lr_final) * 0.5 * (1 + math.cos(math.pi * frac))
        if opts.warmup > 0 and frac < opts.warmup:
            decay *= frac / opts.warmup
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


def quantized_synthesis(model: LatentGridSPDER, bits: int, bias_bits: int, per_row: bool) -> dict[str, torch.Tensor]:
    """The synthesis parameters as quantize_grid stores them, with straight-through gradients."""
    out = {}
    for name, p in model.named_parameters():
        if name == "latents":
            continue
        if p.dim() >= 2 and per_row:
            out[name] = fake_quantize(p, bits)
        else:
            out[name] = fake_quantize(p.reshape(-1), bits if p.dim() >= 2 else bias_bits).reshape(p.shape)
    return out


def quantize_grid(model: LatentGridSPDER, bits: int = 8, bias_bits: int = 16, per_row: bool = True) -> tuple[dict[str, np.ndarray], dict]:
    """Container tensors and header "quant" for a fitted grid model.

    Latents are already integers: stored with scale 1.0 as int8 (int16 if any exceeds 127).
    Synthesis weights get per-row scales (or one per tensor) at `bits`; biases one at `bias_bits`.
    """
    tensors: dict[str, np.ndarray] = {}
    entries: dict[str, dict] = {}
    lat = model.latents.detach().cpu().round()
    lbits = LATENT_BITS if float(lat.abs().max()) <= qmax(LATENT_BITS) else 16
    items = [("latents", lat, lbits)]
    items += [(name, p.detach().cpu().float(), bits if p.dim() >= 2 else bias_bits)
              for name, p in model.named_parameters() if name != "latents"]
    for name, w, b in items:
        if name == "latents":
            q, s = w.clamp(-qmax(b), qmax(b)), torch.ones(1)
        else:
            s = scales_for(w if per_row else w.reshape(-1), b)
            q = torch.clamp(torch.round(w / (s.reshape(-1, 1) if w.dim() >= 2 and per_row else s)), -qmax(b), qmax(b))
        tensors[name] = np.ascontiguousarray(q.numpy().astype(np.int8 if b <= 8 else np.int16))
        tensors[name + ".scale"] = s.numpy().astype(np.float32)
        entries[name] = {"bits": b, "shape": list(q.shape), "scale_shape": list(s.shape)}
    return tensors, {"scheme": SCHEME, "tensors": entries}
