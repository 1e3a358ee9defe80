"""`spdr encode photo.png [--quality Q]`: the default image encoder, one fit at a fixed rate weight.

Why a quality scale and not a size: a user asks for "this good", and one fit at a fixed lambda
(the weight of the entropy model's bits against the squared error) is the cheapest way there: no
search over sizes, no trimming. Q runs from 0 (smallest file) to 100 (best); lambda falls
log-linearly with Q (quality_lambda), so a higher Q never makes a smaller, worse file on the same
photo except by the noise of training. The network grows with the rate Q is expected to give
(rate/plan.py PLANS), the steps come from the preset, `--time` bounds the whole encode.

The file is format 1.3 (latents coded under the fitted entropy model, format/latentcoding.py);
the reported PSNR is measured by decoding the written bytes, as for every encode.
"""

from __future__ import annotations

import math
import time

import torch

from ..codec.presets import EncodeConfig, Resolved
from ..codec.result import EncodeResult, finish
from ..errors import SpdrError
from ..nn.coords import grid_coords
from ..nn.device import pick_device
from ..nn.latentgrid import LatentGridSPDER
from ..signal import Signal
from ..train.rdfit import RDFitOptions, fit_rd
from .bpp import Progress, pack_model
from .plan import RateOptions, grid_arch, latent_lr, plan_for

DEFAULT_QUALITY = 75.0
LAMBDA_AT_0, LAMBDA_AT_100 = 3e-2, 3e-5  # rate weight at the ends of the scale (MSE in [-1, 1] units per bit per pixel)


def quality_lambda(quality: float) -> float:
    """The rate weight of quality Q in [0, 100]: log-linear from LAMBDA_AT_0 down to LAMBDA_AT_100."""
    q = min(100.0, max(0.0, float(quality))) / 100.0
    return math.exp(math.log(LAMBDA_AT_0) + q * (math.log(LAMBDA_AT_100) - math.log(LAMBDA_AT_0)))


def expected_bpp(lam: float) -> float:
    """The whole-file bits per pixel a rate weight is taken to give (sizes the network before fitting):
    the inverse of rate/plan.initial_lambda, which was fitted for the older per-level Laplace coder and
    is not yet re-fitted for the entropy-model engine (short fits land well below it)."""
    return 1.4 * (0.01 / lam) ** 0.6


def encode_quality(signal: Signal, config: EncodeConfig, progress: Progress | None = None,
                   options: RateOptions = RateOptions()) -> EncodeResult:
    """Fit a latent-grid SPDER with its entropy model at the rate weight of config.quality; write format 1.3."""
    if signal.modality != "image":
        raise SpdrError("--quality and the latent-grid engine are for images; audio and video use the plain network")
    quality = DEFAULT_QUALITY if config.quality is None else float(config.quality)
    lam = quality_lambda(quality)
    height, width, channels = signal.meta["height"], signal.meta["width"], signal.channels
    plan = plan_for(expected_bpp(lam), height, width, channels, config)
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    model = LatentGridSPDER(grid_arch(plan, height, width, channels, config.damping or "sqrt", options)).to(device)
    coords = grid_coords((height, width), device=device)
    values = torch.from_numpy(signal.data.reshape(-1, channels)).float().to(device)
    start = time.perf_counter()
    report = None if progress is None else (lambda s, n, loss, t: progress("fit", s, n, loss, t))
    opts = RDFitOptions(steps=plan.steps, lr_latents=latent_lr(plan.steps) if config.lr is None else config.lr * 10,
                        lr_net=2e-2 if config.lr is None else config.lr * 5, lam=lam,
                        time_limit=None if config.time_limit is None else 0.9 * config.time_limit, seed=config.seed)
    result = fit_rd(model, coords, values, opts, report)
    model = model.cpu()
    data = pack_model(signal, model, plan, result.steps, None, quality=quality, seed=config.seed, preset=config.preset)
    notices = []
    if result.steps < plan.steps:
        notices.append(f"--time: stopped after {result.steps} of {plan.steps} steps")
    resolved = Resolved(plan.width, plan.depth, result.steps, 0.0, plan.net_bits, 0, 0.0)
    params = int(sum(p.numel() for p in model.parameters()))
    return finish(signal, data, steps=result.steps, seconds=time.perf_counter() - start, params=params, float_mse=result.mse,
                  resolved=resolved, device=torch.device("cpu"), notices=notices)
