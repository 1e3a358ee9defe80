"""Rate-distortion fitting of a LatentGridSPDER: MSE + lambda * the entropy model's bits of the latents.

The latents are trained as integers in two phases (C3, Cool-chic): first soft-rounded
(soft_round, temperature annealed from RDFitOptions.temperature[0] to [1]) plus noise, a differentiable
stand-in for rounding that tightens as training goes; then rounded, with a straight-through
gradient. The rate is the bits the model's own entropy model (nn/arm.py, trained jointly) gives the
latents it sees: the same model, rounded to integers, codes the file (format 1.3). With
`target_bits` set, lambda follows the estimated rate: raised while the latents cost more than the
target and lowered while they cost less, so one fit lands near a given size (rate/bpp.py then trims
the written file to the exact budget). With `batch` set, each step's squared error is taken on that many
samples drawn at random (an unbiased estimate of the mean), the rate on all latents.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.func import functional_call

from ..nn.activations import damped_sine
from ..nn.fused import fused_kernels
from ..nn.latentgrid import LatentGridSPDER
from ..nn.quantize import qmax
from .compiling import failure_notice, forced
from .qat import quantized_synthesis
from .schedule import cosine_factor

T_START, T_END = 0.3, 0.1  # soft-rounding temperatures at the start and end of the noisy phase (C3's)
# fuse the activations and the rate once a fit evaluates this many activation elements (samples x width x layers x steps): a
# 768x512 photo at the fast preset is 9.4e9; compiling costs seconds, so tiny fits (tests) stay eager
FUSE_AFTER_ELEMENTS = 1e9
FUSE_MIN_SECONDS = 30.0  # nor under a --time this short


def soft_round(y: torch.Tensor, temperature: float) -> torch.Tensor:
    """A smooth, monotone stand-in for round(y): identity-like at high temperature, round as it goes to 0."""
    base = torch.floor(y) + 0.5
    return base + torch.tanh((y - base) / temperature) / (2 * math.tanh(0.5 / temperature))


def _noise(y: torch.Tensor, gen: torch.Generator, std: tuple[float, float] | None, progress: float) -> torch.Tensor:
    """The noisy phase's additive noise: uniform on [-0.5, 0.5), or Gaussian with std from std[0] to std[1]."""
    if std is None:
        return torch.rand(y.shape, generator=gen, device=y.device) - 0.5
    return torch.randn(y.shape, generator=gen, device=y.device) * (std[0] + (std[1] - std[0]) * progress)


@dataclass
class RDFitOptions:
    """Steps, learning rates, the rate weight and (optionally) the latent-bit target it tracks."""

    steps: int = 2000
    lr_latents: float = 1e-2
    lr_net: float = 5e-3
    lr_final: float = 0.05
    lr_arm: float = 1e-2
    lam: float = 1e-2  # weight of (estimated bits per sample) against MSE in [-1, 1] units
    target_bits: float | None = None  # latent bits to steer towards (None: fixed lambda)
    noise_fraction: float = 0.7  # share of steps soft-rounded with noise before rounding takes over
    soft: bool = True  # soft-round the noisy latents (else plain additive noise)
    temperature: tuple[float, float] = (T_START, T_END)  # soft rounding's, annealed geometrically over the noisy phase
    double_soft: bool = False  # soft-round again after the noise, s(s(y) + u) (C3, Agustsson & Theis)
    noise_std: tuple[float, float] | None = None  # Gaussian noise, std annealed linearly (first, last); None: uniform
    controller_gain: float = 0.005
    controller_start: float = 0.1  # share of steps before lambda starts to follow the target
    warmup: float = 0.0  # share of steps over which the learning rates ramp up from 0 (continued fits)
    time_limit: float | None = None
    seed: int = 0
    batch: int | None = None  # samples a step, drawn at random (video: a clip's samples are too many for full batches)
    # (weight bits, bias bits, per_row) of the stored synthesis: once the latents are rounded, the
    # network trains through the same rounding (quantization-aware), so storing it costs little
    net_quant: tuple[int, int, bool] | None = None
    fused: bool | None = None  # activations and rate as compiled kernels (nn/fused.py); None: should_fuse (SPDR_COMPILE overrides)


@dataclass
class RDFitResult:
    steps: int
    seconds: float
    mse: float
    latent_bits: float  # the entropy model's estimate for the rounded latents
    lam: float
    notices: tuple[str, ...] = ()  # where the fit did other than planned (compiling failed), one line each


def should_fuse(model: LatentGridSPDER, n: int, opts: RDFitOptions) -> bool:
    """Fused kernels pay off for long fits only: judged by the activation elements the fit will evaluate."""
    if forced() is not None:
        return bool(forced())
    if opts.fused is not None:
        return opts.fused
    if opts.time_limit is not None and opts.time_limit < FUSE_MIN_SECONDS:
        return False
    batch = n if opts.batch is None else min(n, opts.batch)
    layers = sum(1 for m in model.net if hasattr(m, "damping"))
    return batch * int(model.arch["width"]) * layers * opts.steps >= FUSE_AFTER_ELEMENTS


def _compiles(model: LatentGridSPDER, device: torch.device, notices: list[str]) -> bool:
    """Compile the fused kernels before the fit: `model`'s activations on a small tensor, its entropy model's rate on
    its latents (forward and backward each); False, with a notice, where torch.compile fails on this machine."""
    try:
        with fused_kernels():
            for damping in sorted({m.damping for m in model.net if hasattr(m, "damping")}):
                z = torch.randn(17, 5, device=device, requires_grad=True)  # sizes above 1: shapes stay symbolic
                damped_sine(z, damping).sum().backward()
            model.arm.bits(model.levels()).backward()  # the entropy model's rate, on the fit's own latents
        model.zero_grad(set_to_none=True)
    except Exception as e:
        notices.append(failure_notice(e, "fitting with eager kernels (slower, same method)"))
        return False
    return True


def _forward_backward(model: LatentGridSPDER, at: torch.Tensor, target: torch.Tensor, yq: torch.Tensor, weight: float,
                      quant: tuple[int, int, bool] | None, fused: bool,
                      axes: tuple[torch.Tensor, torch.Tensor] | None) -> tuple[torch.Tensor, torch.Tensor]:
    """One step's gradients of MSE + weight * bits (quant: train the synthesis through its stored rounding; axes: `at`
    is the image's whole pixel grid, sampled separably)."""
    with fused_kernels() if fused else contextlib.nullcontext():
        args, kwargs = (at, yq), {"axes": axes}
        pred = functional_call(model, quantized_synthesis(model, *quant), args, kwargs) if quant else model(*args, **kwargs)
        mse = torch.mean((pred - target) ** 2)
        bits = model.arm.bits(model.levels(yq))
        model.zero_grad(set_to_none=True)
        (mse + weight * bits).backward()
    return mse, bits


def fit_rd(model: LatentGridSPDER, coords: torch.Tensor, values: torch.Tensor, opts: RDFitOptions,
           progress: Callable[[int, int, float, float], None] | None = None,
           keep: torch.Tensor | None = None) -> RDFitResult:
    """Train latents and synthesis in place; the latents end as integers (rounded).

    keep: a boolean mask over the flat latents; those outside it are held at zero (the latents
    that rate control trimmed, rate/bpp.py, polish)."""
    gen = torch.Generator(device=coords.device).manual_seed(opts.seed)
    groups = [{"params": [model.latents], "lr": opts.lr_latents},
              {"params": list(model.net.parameters()), "lr": opts.lr_net},
              {"params": list(model.arm.parameters()), "lr": opts.lr_arm}]
    bases = (opts.lr_latents, opts.lr_net, opts.lr_arm)
    opt = torch.optim.Adam(groups)
    n = coords.shape[0]
    lam = opts.lam
    last_mse = torch.full((), math.inf)  # kept on the device: read back only to report (no host sync a step)
    start = time.perf_counter()
    noise_steps = int(opts.noise_fraction * opts.steps)
    t_start, t_end = opts.temperature
    notices: list[str] = []
    fused = should_fuse(model, n, opts) and _compiles(model, coords.device, notices)
    axes = model.separable_axes(coords)  # a photo's full batch: its pixel grid, sampled one axis at a time
    step = 0
    for step in range(opts.steps):  # noqa: B007 - step is reported after the loop
        if opts.time_limit is not None and time.perf_counter() - start >= opts.time_limit:
            break
        frac = step / max(1, opts.steps)
        decay = cosine_factor(frac, opts.lr_final, opts.warmup)
        for g, base in zip(opt.param_groups, bases, strict=True):
            g["lr"] = base * decay
        y = model.latents
        if step < noise_steps:
            along = step / max(1, noise_steps - 1)  # 0 .. 1 over the noisy phase
            t = t_start * (t_end / t_start) ** along
            yq = (soft_round(y, t) if opts.soft else y) + _noise(y, gen, opts.noise_std, along)
            if opts.double_soft:
                yq = soft_round(yq, t)
        else:
            yq = y + (torch.round(y) - y).detach()
        if keep is not None:
            yq = yq * keep
        at, target, at_axes = coords, values, axes
        if opts.batch is not None and opts.batch < n:
            pick = torch.randint(0, n, (opts.batch,), generator=gen, device=coords.device)
            at, target, at_axes = coords[pick], values[pick], None
        quant = opts.net_quant if opts.net_quant is not None and step >= noise_steps else None
        mse, bits = _forward_backward(model, at, target, yq, lam / n, quant, fused, at_axes)
        opt.step()
        last_mse = mse.detach()
        if opts.target_bits is not None and frac >= opts.controller_start:
            ratio = float(bits.detach()) / max(opts.target_bits, 1.0)
            lam *= math.exp(opts.controller_gain * max(-1.0, min(1.0, math.log(max(ratio, 1e-6)))))
            lam = min(max(lam, 1e-4), 1.0)
        if progress is not None and (step + 1) % 50 == 0:
            progress(step + 1, opts.steps, float(last_mse), time.perf_counter() - start)
    with torch.no_grad():
        model.latents.copy_(torch.round(model.latents).clamp(-qmax(16), qmax(16)))
        if keep is not None:
            model.latents.mul_(keep)
        est = float(model.arm.bits(model.levels()))
    return RDFitResult(step + 1, time.perf_counter() - start, float(last_mse), est, lam, tuple(notices))
