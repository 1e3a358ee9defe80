"""Rate control: `spdr encode --bpp X` writes a file of at most X and at least 0.95 X bits per pixel.

Why a separate path: at a fixed size, the best network is not the preset's plain SPDER but the
latent-grid SPDER (latentgrid.py) trained for rate and distortion together (rdfit.py) and stored
in the compact format 1.1 (compact.py). The size counts every byte of the file, header included.

How (encode_bpp):

1. budget = floor(X * height * width / 8) bytes.
2. plan: the synthesis network's width and depth grow with the budget (PLANS: about a fifth of
   the bytes go to the network, stored at 8 bits with one scale per tensor); grid levels run
   down to ~2 pixels; steps from the preset (PRESET_STEPS) or --steps.
3. fixed = the exact size of the file with every latent zero (header, scales, network weights);
   a budget below fixed + MIN_LATENT_BYTES is refused. The latents get the rest, plus 10 %.
4. fit: lambda, the weight of the estimated latent bits, steers the estimate (of the rounded
   latents) towards that target during training (rdfit.fit_rd), starting from a guess that
   depends on bits per pixel. The synthesis is stored at 8 bits with one scale per tensor: that
   costs at most 0.01 dB (grid_quantization.md), so training through the rounding (QAT, kept as
   a switch) buys nothing. Short fits get a larger latent learning rate (latent_lr): integers
   can only grow about lr per step.
5. adjust, measuring the real file each time: if it is under 95 % of the budget, train on with
   lambda lowered and the target raised by the measured shortfall (at most REFINE_ROUNDS times,
   a third of the steps each, learning rates warming up so the fitted state is kept); if it is
   over, zero the latents that matter least (smallest |q| * 4^level) by bisection on their
   number, which lands within a few bytes under the budget, then polish: train the network and
   the other latents for a tenth of the steps with the zeroed ones held at zero and the rate
   held at the budget (trimming alone cost 0.4-0.8 dB for 4-6 % of the bytes at 1 bpp); the
   polished file is kept if it decodes better and fits, else trimmed again (POLISH_ROUNDS).

The reported PSNR is measured by decoding the written bytes, as for every encode.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from . import __version__, container
from .compact import level_shapes
from .config import EncodeConfig, Resolved
from .errors import SpdrError
from .grid import grid_coords
from .latentgrid import LatentGridSPDER, default_levels
from .rdfit import RDFitOptions, fit_rd, quantize_grid
from .signal import Signal

LANDING = 0.95  # the file lands in [LANDING * budget, budget]
OVERSHOOT = 1.10  # latent target above the budget: trimming is precise, adding bits is not
MIN_LATENT_BYTES = 16
REFINE_ROUNDS = 3
REFINE_LR = 0.5  # latent learning rate of a refine round, relative to the first fit's (+0.38 dB at 2 bpp, grid_levers.md)
LR_REFERENCE_STEPS = 2000  # fits this long or longer use the latent learning rate 1e-2
POLISH_ROUNDS = 2  # over budget: trim, then retrain around the trimmed latents, at most this often
PRESET_STEPS = {"fast": 800, "balanced": 2000, "max": 5000, "paper": 5000}
# (bytes per channel at which a plan starts, width, depth): network sizes measured in
# benchmarks/results/rd/rd.md; ~20 % of the budget goes to the network at 8 bits.
PLANS = ((0, 8, 0), (300, 12, 0), (600, 16, 1), (1200, 24, 1), (4000, 32, 2), (16000, 48, 2))
QAT = False  # training the synthesis through its 8-bit rounding: measured no gain, its 8-bit drop is <= 0.01 dB
GRID_INTERP = 1  # bilinear latent sampling; 3 (bicubic) won at 1 bpp but lost at 0.25 and 2 (grid_levers.md)
OMEGA = 1.0  # latents are O(1) integers: the SPDER's frequency factor stays 1


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


def budget_bytes(bpp: float, height: int, width: int) -> int:
    """Whole-file bytes allowed by `bpp` bits per pixel."""
    return int(math.floor(bpp * height * width / 8.0))


def plan_for(bpp: float, height: int, width: int, channels: int, config: EncodeConfig) -> RatePlan:
    """Network size from the budget (config.width/depth override), steps from preset or --steps."""
    budget = budget_bytes(bpp, height, width)
    per_channel = budget / max(1, channels) * 3 / max(1, channels) ** 0.5
    w, d = next((pw, pd) for start, pw, pd in reversed(PLANS) if per_channel >= start)
    steps = PRESET_STEPS.get(config.preset, 2000) if config.steps is None else config.steps
    return RatePlan(budget, w, d if config.depth is None else config.depth, default_levels(height, width), steps)


def grid_arch(plan: RatePlan, height: int, width: int, channels: int, damping: str) -> dict:
    """The header's `arch`; grid_interp only when not the default bilinear (older 1.1 readers refuse it)."""
    arch = {"activation": "spder", "damping": damping, "in_features": 2, "out_features": channels,
            "width": plan.width, "depth": plan.depth, "omega0": OMEGA, "first_omega0": OMEGA,
            "grid_levels": plan.levels, "grid_height": height, "grid_width": width}
    if GRID_INTERP != 1:
        arch["grid_interp"] = GRID_INTERP
    return arch


def pack_model(signal: Signal, model: LatentGridSPDER, plan: RatePlan, steps: int, bpp: float,
               latents: np.ndarray | None = None) -> bytes:
    """The .spdr 1.1 bytes of `model` (with `latents` in place of its own, if given)."""
    tensors, quant = quantize_grid(model, plan.net_bits, plan.bias_bits, plan.per_row)
    if latents is not None:
        tensors["latents"] = latents.astype(tensors["latents"].dtype)
    quant["coding"] = "rc"
    header = {
        "modality": "image",
        "signal": dict(signal.meta),
        "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
        "values": {"offset": [0.0] * signal.channels, "scale": [1.0] * signal.channels},
        "arch": dict(model.arch),
        "quant": quant,
        "encoder": {"bpp": bpp, "steps": steps, "tool": f"spdr {__version__}"},
    }
    return container.pack(header, tensors)


def trim_order(model: LatentGridSPDER) -> np.ndarray:
    """Indices of the non-zero latents, least important first (|q| * 4^level ascending)."""
    q = model.latents.detach().cpu().numpy()
    level = np.concatenate([np.full(h * w, lv) for lv, (h, w) in enumerate(model.shapes)])
    nz = np.flatnonzero(q)
    priority = np.abs(q[nz]) * 4.0 ** level[nz]
    return nz[np.argsort(priority, kind="stable")]


def trim_to_budget(pack, q: np.ndarray, order: np.ndarray, budget: int) -> tuple[bytes, int]:
    """Zero the first k latents of `order` for the smallest k (bisection) whose file fits."""

    def size_at(k: int) -> bytes:
        trimmed = q.copy()
        trimmed[order[:k]] = 0
        return pack(trimmed)

    first = size_at(0)
    if len(first) <= budget:
        return first, 0
    lo, hi = 0, len(order)
    best = size_at(hi)
    if len(best) > budget:
        raise SpdrError(f"no file fits {budget} bytes even with every latent zero ({len(best)} bytes)")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        data = size_at(mid)
        if len(data) <= budget:
            hi, best = mid, data
        else:
            lo = mid
    return best, hi


def encode_bpp(signal: Signal, config: EncodeConfig, progress=None):
    """Fit a latent-grid SPDER to an image so that its .spdr file lands in [0.95, 1] x the budget."""
    from .codec import EncodeResult, pick_device
    from .metrics import psnr, psnr_from_mse, rho_ag

    if signal.modality != "image":
        raise SpdrError("--bpp (rate control) is for images; use --width/--bits for audio and video")
    if config.activation != "spder":
        raise SpdrError("--bpp builds a latent-grid SPDER: leave --activation at spder")
    bpp = float(config.bpp)  # type: ignore[arg-type]
    height, width, channels = signal.meta["height"], signal.meta["width"], signal.channels
    plan = plan_for(bpp, height, width, channels, config)
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    model = LatentGridSPDER(grid_arch(plan, height, width, channels, config.damping or "sqrt"))
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
    net_quant = (plan.net_bits, plan.bias_bits, plan.per_row) if QAT else None

    def report(name: str):
        return None if progress is None else (lambda s, n, loss, t: progress(name, s, n, loss, t))

    opts = RDFitOptions(steps=plan.steps, lr_latents=latent_lr(plan.steps) if config.lr is None else config.lr * 10,
                        lr_net=5e-3 if config.lr is None else config.lr * 5, lam=lam, target_bits=target,
                        time_limit=config.time_limit, seed=config.seed, net_quant=net_quant)
    result = fit_rd(model, coords, values, opts, report("fit"))
    steps = result.steps
    model = model.cpu()
    data = pack_model(signal, model, plan, steps, bpp)
    refine_lr = REFINE_LR if plan.steps >= LR_REFERENCE_STEPS else 2.0  # short fits: no time to be gentle
    for round_ in range(REFINE_ROUNDS):
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
        steps += result.steps
        model = model.cpu()
        data = pack_model(signal, model, plan, steps, bpp)
    for round_ in range(POLISH_ROUNDS + 1):
        if len(data) <= plan.budget:
            break
        q = model.latents.detach().numpy().copy()
        order = trim_order(model)
        trimmed, k = trim_to_budget(lambda lat, m=model, n=steps: pack_model(signal, m, plan, n, bpp, lat), q, order, plan.budget)
        if round_ == POLISH_ROUNDS or _out_of_time(config, start):
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
        model = model.cpu()
        polished = pack_model(signal, model, plan, steps + result.steps, bpp)
        if _decoded_mse(polished, values) < _decoded_mse(trimmed, values):
            data, steps = polished, steps + result.steps
        else:
            data, model = trimmed, before
            with torch.no_grad():
                model.latents.mul_(keep)
            break
    return _result(signal, data, steps, time.perf_counter() - start, model, plan, result.mse, EncodeResult,
                   psnr, psnr_from_mse, rho_ag)


def _decoded_mse(data: bytes, values: torch.Tensor) -> float:
    """MSE (in [-1, 1] units) of what the decoder renders from `data`."""
    from .codec import decode_samples

    return float(np.mean((decode_samples(data).reshape(values.shape) - values.cpu().numpy()) ** 2))


def latent_lr(steps: int) -> float:
    """Adam moves a latent by at most ~lr per step, so short fits get a larger rate (integers must
    reach several units for high bit rates: at 300 steps and 1e-2 a 6 bpp budget stayed 38 % unused)."""
    return 1e-2 * max(1.0, LR_REFERENCE_STEPS / max(1, steps)) ** 0.5


def initial_lambda(latent_bpp: float) -> float:
    """Starting rate weight for a latent rate in bits per pixel (fitted on the default photos)."""
    return float(min(1.0, max(1e-4, 0.01 * (1.4 / max(latent_bpp, 1e-3)) ** (1 / 0.6))))


def _remaining(config: EncodeConfig, start: float) -> float | None:
    return None if config.time_limit is None else max(0.0, config.time_limit - (time.perf_counter() - start))


def _out_of_time(config: EncodeConfig, start: float) -> bool:
    left = _remaining(config, start)
    return left is not None and left <= 0


def _result(signal, data, steps, seconds, model, plan, train_mse, EncodeResult, psnr, psnr_from_mse, rho_ag):
    """EncodeResult with PSNR and rho_AG measured by decoding the written bytes."""
    from .codec import decode_samples
    from .media.image import pixels_to_unit, to_pixels

    header = container.unpack(data)[0]
    depth = signal.meta["bit_depth"]
    out = pixels_to_unit(to_pixels(decode_samples(data), depth), depth)
    ref = pixels_to_unit(to_pixels(signal.data, depth), depth)
    resolved = Resolved(plan.width, plan.depth, steps, 0.0, plan.net_bits, 0, 0.0)
    params = int(sum(p.numel() for p in model.parameters()))
    return EncodeResult(data, header, steps, seconds, params, psnr_from_mse(train_mse), psnr(out, ref),
                        rho_ag(out, ref, axes=(0, 1)), resolved)


__all__ = ["RatePlan", "budget_bytes", "encode_bpp", "initial_lambda", "level_shapes", "plan_for", "trim_to_budget"]
