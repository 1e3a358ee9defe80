"""Rate control: `spdr encode --bpp X` writes a file of at most X and at least 0.95 X bits per pixel.

Why a separate path: at a fixed size, the best network is not the preset's plain SPDER but the
latent-grid SPDER (nn/latentgrid.py) trained for rate and distortion together (train/rdfit.py) and
stored in the compact format 1.1 (format/compact.py). The size counts every byte of the file, header included.

How (encode_bpp):

1. budget = floor(X * height * width / 8) bytes.
2. plan (rate/plan.py): the synthesis network's width and depth grow with the budget (PLANS: about a fifth of
   the bytes go to the network, stored at 8 bits with one scale per tensor); grid levels run
   down to ~2 pixels; steps from the preset (PRESET_STEPS) or --steps.
3. fixed = the exact size of the file with every latent zero (header, scales, network weights);
   a budget below fixed + MIN_LATENT_BYTES is refused. The latents get the rest, plus 10 %.
4. fit: lambda, the weight of the estimated latent bits, steers the estimate (of the rounded
   latents) towards that target during training (rdfit.fit_rd), starting from a guess that
   depends on bits per pixel. The synthesis is stored at 8 bits with one scale per tensor: that
   costs at most 0.01 dB (grid_quantization.md), so training through the rounding (QAT, kept as
   RateOptions.qat) buys nothing. Short fits get a larger latent learning rate (latent_lr): integers
   can only grow about lr per step.
5. adjust, measuring the real file each time: if it is under 95 % of the budget, train on with
   lambda lowered and the target raised by the measured shortfall (at most RateOptions.refine_rounds times,
   a third of the steps each, learning rates warming up so the fitted state is kept); if it is
   over, zero the latents that matter least (rate/trim.py) (smallest |q| * 4^level) by bisection on their
   number, which lands within a few bytes under the budget, then polish: train the network and
   the other latents for a tenth of the steps with the zeroed ones held at zero and the rate
   held at the budget (trimming alone cost 0.4-0.8 dB for 4-6 % of the bytes at 1 bpp); the
   polished file is kept if it decodes better and fits, else trimmed again (RateOptions.polish_rounds).

The reported PSNR is measured by decoding the written bytes, as for every encode.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..codec.presets import EncodeConfig, Resolved
from ..codec.result import EncodeResult, build_header, finish
from ..codec.runtime import decode_samples
from ..errors import SpdrError
from ..format import container
from ..format.limits import read_checked
from ..nn.coords import grid_coords
from ..nn.device import pick_device
from ..nn.latentgrid import LatentGridSPDER
from ..nn.quantize import quantize_grid
from ..signal import Signal
from ..train.rdfit import RDFitOptions, fit_rd
from .plan import LR_REFERENCE_STEPS, RateOptions, RatePlan, grid_arch, initial_lambda, latent_lr, plan_for
from .trim import trim_order, trim_to_budget

Progress = Callable[[str, int, int, float, float], None]  # (phase, step, total, loss, seconds)

LANDING = 0.95  # the file lands in [LANDING * budget, budget]
OVERSHOOT = 1.10  # latent target above the budget: trimming is precise, adding bits is not
MIN_LATENT_BYTES = 16


def pack_model(signal: Signal, model: LatentGridSPDER, plan: RatePlan, steps: int, bpp: float | None,
               latents: np.ndarray | None = None, values: dict | None = None, coarsen: float = 1.0, **facts) -> bytes:
    """The .spdr 1.9 bytes (1.8 with RateOptions.arm_passes 3, 1.3 with 2; 1.9 for audio, 1.10 for video) of `model` (with
    `latents` in place of its own, if given); `values`
    undoes the fitted values' mapping (audio's peak level); `coarsen` widens the synthesis weights' quantization
    step (rate/netstep.py); `facts` are informative header facts (quality, seed, preset) besides bpp and steps."""
    tensors, quant = quantize_grid(model, plan.net_bits, plan.bias_bits, plan.per_row, coarsen)
    if latents is not None:
        tensors["latents"] = latents.astype(tensors["latents"].dtype)
    quant["coding"] = "arm"
    return container.pack(build_header(signal, model.arch, quant, values, bpp=bpp, steps=steps, **facts), tensors)


@dataclass
class RateFit:
    """A fitted file and what made it: the bytes, the float model (for benchmarks), steps, time, training MSE."""

    data: bytes
    model: LatentGridSPDER
    plan: RatePlan
    steps: int
    seconds: float
    train_mse: float
    notices: list[str]


def encode_bpp(signal: Signal, config: EncodeConfig, progress: Progress | None = None,
               options: RateOptions = RateOptions()) -> EncodeResult:
    """Fit a latent-grid SPDER to an image so that its .spdr file lands in [0.95, 1] x the budget."""
    fitted = fit_to_budget(signal, config, progress, options)
    plan = fitted.plan
    resolved = Resolved(plan.width, plan.depth, fitted.steps, 0.0, plan.net_bits, 0, 0.0)
    params = int(sum(p.numel() for p in fitted.model.parameters()))
    return finish(signal, fitted.data, steps=fitted.steps, seconds=fitted.seconds, params=params, float_mse=fitted.train_mse,
                  resolved=resolved, device=torch.device("cpu"), notices=fitted.notices)


def fit_to_budget(signal: Signal, config: EncodeConfig, progress: Progress | None = None,
                  options: RateOptions = RateOptions()) -> RateFit:
    """The rate-controlled fit itself (steps 1-5 of the module docstring), before measuring the file."""
    if signal.modality != "image":
        raise SpdrError("--bpp (rate control) is for images; use --width/--bits for audio and video")
    if config.activation != "spder":
        raise SpdrError("--bpp builds a latent-grid SPDER: leave --activation at spder")
    bpp = float(config.bpp)  # type: ignore[arg-type]
    height, width, channels = signal.meta["height"], signal.meta["width"], signal.channels
    plan = plan_for(bpp, height, width, channels, config)
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    model = LatentGridSPDER(grid_arch(plan, height, width, channels, config.damping or "sqrt", options))
    fixed = len(pack_model(signal, model, plan, plan.steps, bpp))
    if plan.budget < fixed + MIN_LATENT_BYTES:
        smallest = 8 * (fixed + MIN_LATENT_BYTES) / (height * width)
        raise SpdrError(f"--bpp {bpp:g} gives {plan.budget} bytes for this {width}x{height} image; "
                        f"the smallest useful file is {fixed + MIN_LATENT_BYTES} bytes ({smallest:.3f} bpp)")
    model = model.to(device)
    coords = grid_coords((height, width), device=device)
    values = torch.from_numpy(signal.data.reshape(-1, channels)).float().to(device)
    start = time.perf_counter()
    target = 8.0 * (plan.budget - fixed) * OVERSHOOT
    lam = initial_lambda(target / (height * width))
    net_quant = (plan.net_bits, plan.bias_bits, plan.per_row) if options.qat else None

    def report(name: str):
        return None if progress is None else (lambda s, n, loss, t: progress(name, s, n, loss, t))

    opts = RDFitOptions(steps=plan.steps, lr_latents=latent_lr(plan.steps) if config.lr is None else config.lr * 10,
                        lr_net=5e-3 if config.lr is None else config.lr * 5, lam=lam, target_bits=target,
                        time_limit=config.time_limit, seed=config.seed, net_quant=net_quant)
    result = fit_rd(model, coords, values, opts, report("fit"))
    fit_notices = list(result.notices)  # every round's, once each
    steps = result.steps
    model = model.cpu()
    data = pack_model(signal, model, plan, steps, bpp)
    refine_lr = options.refine_lr if plan.steps >= LR_REFERENCE_STEPS else 2.0  # short fits: no time to be gentle
    for round_ in range(options.refine_rounds):
        if len(data) >= LANDING * plan.budget or _out_of_time(config, start):
            break
        # under budget: scale the latent target by the measured shortfall, lower lambda to match
        # (latent rate ~ lambda^-0.6), and train on with noise so that zero latents can wake up
        ratio = min(4.0, OVERSHOOT * (plan.budget - fixed) / max(1, len(data) - fixed))
        more = RDFitOptions(steps=max(100, plan.steps // 3), lr_latents=opts.lr_latents * refine_lr, lr_net=opts.lr_net / 2,
                            lam=result.lam * ratio ** (-1 / 0.6), target_bits=result.latent_bits * ratio,
                            noise_fraction=0.5, controller_start=0.0, controller_gain=0.01, warmup=0.2,
                            time_limit=_remaining(config, start), seed=config.seed + 1 + round_, net_quant=net_quant)
        result = fit_rd(model.to(device), coords, values, more, report("refine"))
        fit_notices += result.notices
        steps += result.steps
        model = model.cpu()
        data = pack_model(signal, model, plan, steps, bpp)
    for round_ in range(options.polish_rounds + 1):
        if len(data) <= plan.budget:
            break
        q = model.latents.detach().numpy().copy()
        order = trim_order(model)
        trimmed, k = trim_to_budget(lambda lat, m=model, n=steps: pack_model(signal, m, plan, n, bpp, lat), q, order, plan.budget)
        if round_ == options.polish_rounds or _out_of_time(config, start):
            data = trimmed
            break
        # over budget: zero the k least important latents, then train the network and the other
        # latents around the holes (rate held where it is); keep whichever file decodes better
        keep = torch.ones(q.shape, dtype=torch.bool)
        keep[torch.from_numpy(order[:k])] = False
        before = copy.deepcopy(model)
        with torch.no_grad():
            model.latents.mul_(keep)
        polish = RDFitOptions(steps=max(50, plan.steps // 10), lr_latents=opts.lr_latents / 4, lr_net=opts.lr_net / 4,
                              lam=result.lam, target_bits=result.latent_bits * (plan.budget - fixed) / max(1, len(data) - fixed),
                              noise_fraction=0.0, controller_start=0.0, warmup=0.2, time_limit=_remaining(config, start),
                              seed=config.seed + 10 + round_, net_quant=net_quant)
        result = fit_rd(model.to(device), coords, values, polish, report("polish"), keep=keep.to(device))
        fit_notices += result.notices
        model = model.cpu()
        polished = pack_model(signal, model, plan, steps + result.steps, bpp)
        if _decoded_mse(polished, values) < _decoded_mse(trimmed, values):
            data, steps = polished, steps + result.steps
        else:
            data, model = trimmed, before
            with torch.no_grad():
                model.latents.mul_(keep)
            break
    notices = list(dict.fromkeys(fit_notices))
    if len(data) < LANDING * plan.budget:
        notices.append(f"--bpp {bpp:g}: the file is {len(data)} bytes, {100 * len(data) / plan.budget:.0f} % of the "
                       f"{plan.budget}-byte budget ({8 * len(data) / (height * width):.3f} bpp): the fit ran out of "
                       f"{'time' if _out_of_time(config, start) else 'refine rounds'} before filling it")
    return RateFit(data, model, plan, steps, time.perf_counter() - start, result.mse, notices)


def _decoded_mse(data: bytes, values: torch.Tensor) -> float:
    """MSE (in [-1, 1] units) of what the decoder renders from `data`."""
    decoded = decode_samples(read_checked(data), clip=False)
    return float(np.mean((decoded.reshape(values.shape) - values.cpu().numpy()) ** 2))


def _remaining(config: EncodeConfig, start: float) -> float | None:
    return None if config.time_limit is None else max(0.0, config.time_limit - (time.perf_counter() - start))


def _out_of_time(config: EncodeConfig, start: float) -> bool:
    left = _remaining(config, start)
    return left is not None and left <= 0
