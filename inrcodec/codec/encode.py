"""The plain encoder: a coordinate SPDER (or a baseline MLP) fitted to every sample, quantized, packed.

Signal -> resolved preset -> fit (train/fit.py) -> optional quantization-aware tuning (train/qat.py)
-> integers + scales (nn/quantize.py) -> .spdr 1.0 bytes (format/container.py) -> measured by decoding.
Rate control (`--bpp`, rate/bpp.py) is the other encoder; api.py chooses between them.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable

import torch

from ..format import container, limits
from ..nn.coords import axis_affine, grid_coords
from ..nn.device import pick_device
from ..nn.quantize import bit_plan, dequantize_state, quantize_state
from ..nn.registry import build_model, count_parameters, make_arch
from ..signal import AXES, Signal
from ..train.between import BetweenSampler
from ..train.fit import EAGER_FLOPS, JUDGE_POINTS, FitOptions, fit, full_loss, judged
from ..train.qat import attach_fake_quant, detach_fake_quant
from .audio import value_map
from .presets import MIN_WIDTH, EncodeConfig, Resolved, resolve
from .result import EncodeResult, build_header, coord_placements, coord_scales, finish

Progress = Callable[[str, int, int, float, float], None]  # (phase, step, total, loss, seconds)


def eval_interval(samples: int, batch: int | None) -> int:
    """Minibatch steps between full-data losses: every two passes over the data, at least 25.

    One full evaluation costs about a third of samples / batch training steps, so this keeps it
    under a sixth of the fit however long the clip is.
    """
    return 25 if not batch else max(25, 2 * -(-samples // batch))


def plain_arch(config: EncodeConfig, r: Resolved, in_features: int, channels: int) -> dict:
    """The header's arch for a preset encode: SPDER (or the chosen baseline) at the resolved size."""
    extras: dict = {}
    if config.activation == "relu-pe":
        extras["pe_frequencies"] = 10
    if config.activation == "relu-ffn":
        extras.update(ffn_features=max(16, r.width // 2), ffn_sigma=10.0)
    return make_arch(config.activation, in_features, channels, r.width, r.depth, damping=r.damping, **extras)


# Share of --time kept for quantizing, packing and measuring the file: a video's measurement (rendering its
# frames) stops when the budget is spent (codec/video.measure_video); images and audio measure in well under it.
TAIL_SHARE = {"video": 0.25}
FORWARD_COST = 4.0  # FLOPs a sample per multiply-add of a forward pass with its activations, rough (2 for the MACs, 2 for sin, sqrt)

BETWEEN_KIND = {"image": "cubic", "audio": "cubic", "video": "linear"}  # the trivial interpolant of each medium


def between_sampler(signal: Signal, values: torch.Tensor, batch: int | None) -> BetweenSampler:
    """Off-grid coordinates and targets for the regulariser: between samples along every axis of an image,
    along t for audio and video (the axes `--scale`, `--rate` and `--fps` upsample); half a batch per step."""
    axes = AXES[signal.modality]
    shape = list(signal.grid_shape)
    scales, placements = coord_scales(signal.modality, shape), coord_placements(signal.modality)
    affine = [axis_affine(n, s, p) for n, s, p in zip(shape, scales, placements, strict=True)]
    up = [i for i, a in enumerate(axes) if signal.modality == "image" or a == "t"]
    n = values.shape[0]
    count = max(256, min(n, batch or n) // 2)
    return BetweenSampler(values.reshape(*shape, values.shape[-1]), affine, up, count, BETWEEN_KIND[signal.modality])


def encode_signal(signal: Signal, config: EncodeConfig = EncodeConfig(), progress: Progress | None = None) -> EncodeResult:
    """Fit, quantize and pack `signal` as format 1.0; PSNR and rho_AG are measured by decoding the bytes."""
    start = time.perf_counter()
    device = pick_device(config.device)
    axes = AXES[signal.modality]
    r = resolve(config, signal.num_samples, signal.channels, len(axes), signal.modality)
    r = sized_for_time(r, signal, config)
    torch.manual_seed(config.seed)
    arch = plain_arch(config, r, len(axes), signal.channels)
    limits.check_arch_size(arch)
    model = build_model(arch).to(device)
    coords = grid_coords(signal.grid_shape, coord_scales(signal.modality, signal.grid_shape), device=device,
                         placements=coord_placements(signal.modality))
    fit_values, value_header = value_map(signal)  # audio: amplitude max|x| -> 1
    values = torch.from_numpy(fit_values).to(device)
    budget = config.time_limit
    # under --time, what follows the fits (quantizing, packing, measuring the file) keeps a share of the budget
    tail = 0.0 if budget is None else TAIL_SHARE.get(signal.modality, 0.0) * budget
    fits_budget = None if budget is None else max(0.0, budget - tail - (time.perf_counter() - start))
    float_budget = None if fits_budget is None else fits_budget * (0.8 if r.qat_steps else 1.0)
    notices = list(r.notices)

    def phase(name: str):
        return None if progress is None else (lambda s, n, loss, t: progress(name, s, n, loss, t))

    every = eval_interval(signal.num_samples, r.batch_size)
    fopts = FitOptions(steps=r.steps, lr=r.lr, time_limit=float_budget, seed=config.seed, batch_size=r.batch_size, eval_every=every,
                       between_weight=r.between_weight)
    between = between_sampler(signal, values, r.batch_size) if r.between_weight > 0 else None
    result = fit(model, coords, values, fopts, phase("fit"), between=between)
    notices += result.notices
    float_loss = result.best_loss * value_header["scale"][0] ** 2  # MSE at the original level
    steps = result.steps
    plan = bit_plan(model, r.bits)
    if r.qat_steps:
        tuned = copy.deepcopy(model)
        attach_fake_quant(tuned, plan)
        remaining = None if budget is None else max(0.0, budget - tail - (time.perf_counter() - start))
        if remaining is None or remaining > 0:
            qopts = FitOptions(steps=r.qat_steps, lr=r.qat_lr, time_limit=remaining, seed=config.seed + 1, batch_size=r.batch_size,
                               eval_every=every, between_weight=r.between_weight)
            qres = fit(tuned, coords, values, qopts, phase("quantize"), between=between)
            steps += qres.steps
            notices += [n for n in qres.notices if n not in notices]
        detach_fake_quant(tuned)
        probe = judged(coords.shape[0], budget is not None)
        losses = [_quantized_loss(m, plan, coords[probe], values[probe]) for m in (tuned, model)]
        model = tuned if losses[0] <= losses[1] else model
    tensors, quant = quantize_state(model.cpu(), plan)
    header = build_header(signal, arch, quant, value_header, preset=config.preset, steps=steps, seed=config.seed, lr=r.lr,
                          batch_size=r.batch_size, between_weight=r.between_weight or None)
    data = container.pack(header, tensors)
    seconds = time.perf_counter() - start
    measure_on = device if signal.modality != "image" else torch.device("cpu")
    measure_seconds = None if budget is None else max(0.0, budget - seconds)
    return finish(signal, data, steps=steps, seconds=seconds, params=count_parameters(model), float_mse=float_loss, resolved=r,
                  device=measure_on, notices=notices, measure_seconds=measure_seconds)


def sized_for_time(r: Resolved, signal: Signal, config: EncodeConfig) -> Resolved:
    """Under --time, a video's network no wider than its fixed work allows: one frame rendered to measure it, the
    checkpoint loss and the float-or-tuned choice (each on a strided subset) must fit the TAIL_SHARE of the budget.

    Why: the preset sizes the network by the samples (33 M in a 16-frame 1080p segment), and at that size this fixed
    work alone took 50-80 s against a 6 s share of `--time 600` over 60 s (benchmarks/results/segments.md)."""
    if config.time_limit is None or config.width is not None or signal.modality != "video":
        return r
    samples = signal.grid_shape[1] * signal.grid_shape[2] + 3 * JUDGE_POINTS  # a frame, the last checkpoint loss, two probes
    macs = TAIL_SHARE["video"] * config.time_limit * EAGER_FLOPS / (FORWARD_COST * samples)
    a, b = max(r.depth, 1), len(AXES["video"]) + signal.channels + r.depth + 2  # macs ~ depth w^2 + (in + out + ...) w
    cap = max(MIN_WIDTH, int((-b + math.sqrt(b * b + 4 * a * macs)) / (2 * a)))
    if cap >= r.width:
        return r
    return dataclasses.replace(r, width=cap, notices=(*r.notices, f"--time: the preset's {r.width}-wide network narrowed "
                                                      "so that packing and measuring the file fit the time"))


def _quantized_loss(model: torch.nn.Module, plan: dict, coords: torch.Tensor, values: torch.Tensor) -> float:
    probe = copy.deepcopy(model).cpu()
    tensors, quant = quantize_state(probe, plan)
    probe.load_state_dict(dequantize_state(tensors, quant))
    return full_loss(probe.to(coords.device), coords, values)
