"""The fitting loop: Adam on MSE, best-weights checkpoint, time budget, divergence recovery.

Built for speed: the network is compiled with torch.compile when the fit is long enough to repay
the compile (eager fallback where compiling fails, reported in FitResult.notices), the best weights are tracked on the
device, and the loss is read back to the host only every `report_every` steps. No file I/O here;
progress goes to an optional callback.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, get_args

import torch
from torch import nn

from ..errors import FitDivergedError
from ..nn.coords import forward_chunks
from .compiling import failure_notice, forced
from .schedule import cosine_factor

Precision = Literal["fp32", "tf32", "bf16"]
PRECISIONS: tuple[str, ...] = get_args(Precision)
FULL_BATCH_BYTES = 3 << 30  # activations kept for backward above this -> random minibatches
MAX_RECOVERIES = 6
COMPILE_AFTER_SECONDS = 20.0  # compile when the eager fit would take longer than this (CPU)
EAGER_FLOPS = 5e10  # rough eager CPU throughput used for that estimate


@dataclass
class FitOptions:
    """What the loop needs to know; the codec fills it from the resolved preset."""

    steps: int = 500
    lr: float = 1e-4
    lr_final: float = 0.1  # cosine decay to lr * lr_final: a quiet end after SPDER's loss spikes
    time_limit: float | None = None
    batch_size: int | None = None  # None: full batch when it fits FULL_BATCH_BYTES
    report_every: int = 10
    eval_every: int = 25  # minibatch mode: full-data loss for the best checkpoint this often
    seed: int = 0
    compile: bool | None = None  # None: decide from the expected fit time (env SPDR_COMPILE=0/1 overrides)
    compile_mode: str | None = None  # torch.compile mode, e.g. "reduce-overhead" (CUDA graphs) on GPUs
    precision: str = "fp32"  # tf32/bf16 trade fidelity for speed on GPUs (measured in benchmarks/speed.py)
    between_weight: float = 0.0  # mu: loss = MSE(samples) + mu * MSE(off-grid, against `between`'s interpolant); 0: off


@dataclass
class FitResult:
    """Outcome of one fit: the best weights are already loaded back into the model."""

    steps: int
    seconds: float
    best_loss: float
    recoveries: int = 0
    history: list[tuple[int, float]] = field(default_factory=list)
    compiled: bool = False
    notices: list[str] = field(default_factory=list)  # what the loop changed from what was asked, one line each


Progress = Callable[[int, int, float, float], None]  # (step, total, best loss, elapsed seconds)
Between = Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]]  # off-grid (coords, targets); train/between.py


def _size(nbytes: int) -> str:
    """Bytes as a short binary size: 3 GiB, 512 MiB, 1 KiB."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if nbytes >= 1 << shift:
            return f"{nbytes / (1 << shift):.3g} {unit}"
    return f"{nbytes} bytes"


def linear_macs(model: nn.Module) -> int:
    """Multiply-accumulates of one forward pass per sample (fitting costs ~3x this, x2 FLOPs)."""
    return sum(m.in_features * m.out_features for m in model.modules() if isinstance(m, nn.Linear))


def activation_bytes(model: nn.Module, n: int) -> int:
    """Rough memory that a full-batch step keeps for backward: 2 floats per unit per sample."""
    units = sum(m.out_features for m in model.modules() if isinstance(m, nn.Linear))
    return 8 * units * n


JUDGE_POINTS = 1 << 20  # under --time, losses that only choose between weights are taken on about this many samples


def judged(n: int, time_limited: bool) -> slice:
    """The samples a choosing loss looks at: all of them, or under --time a strided subset of about JUDGE_POINTS,
    so that one evaluation of a large video segment cannot overrun the budget."""
    return slice(None) if not time_limited else slice(None, None, max(1, n // JUDGE_POINTS))


def full_loss(model: nn.Module, coords: torch.Tensor, values: torch.Tensor, chunk: int = 1 << 16) -> float:
    """MSE over all samples, evaluated in chunks without autograd."""
    total = 0.0
    for s, e, out in forward_chunks(model, coords, chunk):
        d = out.float() - values[s:e]
        total += float((d * d).sum())
    return total / values.numel()


def should_compile(model: nn.Module, n: int, opts: FitOptions, device: torch.device) -> bool:
    """Compile when it pays: always on CUDA, on the CPU when the eager fit would be long."""
    if forced() is not None:
        return bool(forced())
    if opts.compile is not None:
        return opts.compile
    if device.type == "cuda":
        return True
    if device.type != "cpu":
        return False
    expected = 6.0 * linear_macs(model) * n * opts.steps / EAGER_FLOPS
    if opts.time_limit is not None:  # a short --time must not be spent compiling
        expected = min(expected, opts.time_limit)
    return expected > COMPILE_AFTER_SECONDS


@contextlib.contextmanager
def _precision(precision: str, device: torch.device) -> Iterator[torch.autocast | None]:
    """The autocast context for `precision` (bf16), with TF32 matmuls enabled only inside the fit."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}")
    saved = torch.backends.cuda.matmul.allow_tf32
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    try:
        yield torch.autocast(device.type, dtype=torch.bfloat16) if precision == "bf16" else None
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved


def fit(
    model: nn.Module,
    coords: torch.Tensor,
    values: torch.Tensor,
    opts: FitOptions,
    progress: Progress | None = None,
    between: Between | None = None,
) -> FitResult:
    """Fit `model` to (coords, values) in place and return the best-loss weights' result.

    between: where opts.between_weight > 0, each step also fits between(generator)'s off-grid
    coordinates to their targets at that weight; the best checkpoint and every reported loss
    stay the MSE on (coords, values).
    """
    if opts.between_weight < 0 or not math.isfinite(opts.between_weight):
        raise ValueError("between_weight must be a finite number >= 0")
    if opts.between_weight > 0 and between is None:
        raise ValueError("between_weight > 0 needs a `between` sampler")
    with _precision(opts.precision, coords.device) as autocast:
        return _fit(model, coords, values, opts, progress, autocast, between if opts.between_weight > 0 else None)


def _fit(model: nn.Module, coords: torch.Tensor, values: torch.Tensor, opts: FitOptions, progress: Progress | None,
         autocast: torch.autocast | None, between: Between | None = None) -> FitResult:
    n, device = coords.shape[0], coords.device
    notices: list[str] = []
    batch = opts.batch_size
    if batch is None and activation_bytes(model, n) > FULL_BATCH_BYTES:
        fits = max(4096, int(n * FULL_BATCH_BYTES / activation_bytes(model, n)))
        if fits < n:  # (a batch at least as large as the data is the full batch)
            batch = fits
            notices.append(f"a full batch of {n:,} samples needs about {_size(activation_bytes(model, n))} for backward, "
                           f"more than {_size(FULL_BATCH_BYTES)}: training on random minibatches of {batch:,}")
    minibatch = batch is not None and batch < n
    params = [p for p in model.parameters() if p.requires_grad]
    lr = opts.lr
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator(device=device).manual_seed(opts.seed)
    compiled = should_compile(model, n, opts, device)
    forward: Callable[[torch.Tensor], torch.Tensor] = torch.compile(model, dynamic=False, mode=opts.compile_mode) if compiled else model

    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    live_state = model.state_dict()
    best_loss = torch.full((), math.inf, device=device)
    best_host = math.inf
    pending: list[torch.Tensor] = []
    history: list[tuple[int, float]] = []
    recoveries = 0
    start = time.perf_counter()
    step = 0

    def restore_best() -> None:
        model.load_state_dict(best_state)

    def run_step(x: torch.Tensor, y: torch.Tensor, track: bool) -> torch.Tensor:
        nonlocal best_loss
        m = x.shape[0]
        if between is not None:
            xb, yb = between(gen)
            x = torch.cat([x, xb])
        if autocast is not None:
            with autocast:
                pred = forward(x)
        else:
            pred = forward(x)
        loss = torch.mean((pred[:m].float() - y) ** 2)
        ld = loss.detach()
        if between is not None:
            loss = loss + opts.between_weight * torch.mean((pred[m:].float() - yb) ** 2)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if track:  # the loss belongs to the weights before this update: keep them if best so far
            with torch.no_grad():
                improved = ld < best_loss
                best_loss = torch.where(improved, ld, best_loss)
                for k, v in live_state.items():
                    best_state[k].copy_(torch.where(improved, v, best_state[k]))
        return ld

    judge = judged(coords.shape[0], opts.time_limit is not None)  # the checkpoint losses' samples
    while step < opts.steps:
        if opts.time_limit is not None and time.perf_counter() - start >= opts.time_limit:
            break
        if minibatch:
            idx = torch.randint(0, n, (batch,), device=device, generator=gen)
            x, y = coords[idx], values[idx]
        else:
            x, y = coords, values
        frac = step / max(1, opts.steps)
        for group in opt.param_groups:
            group["lr"] = lr * cosine_factor(frac, opts.lr_final)
        try:
            ld = run_step(x, y, track=not minibatch)
        except Exception as e:
            if not compiled or step > 0:
                raise
            compiled, forward = False, model  # compiling failed here: fall back to eager, and say so
            notices.append(failure_notice(e, "fitting in eager mode (slower, same result)"))
            ld = run_step(x, y, track=not minibatch)
        opt.step()
        step += 1
        pending.append(ld)
        if minibatch and (step % opts.eval_every == 0 or step == opts.steps):
            full = full_loss(model, coords[judge], values[judge])
            if full < best_host:
                best_host = full
                best_loss.fill_(full)
                for k, v in live_state.items():
                    best_state[k].copy_(v)
        if step % opts.report_every == 0 or step == opts.steps:
            losses = torch.stack(pending).cpu().tolist()
            pending.clear()
            if not minibatch:
                best_host = float(best_loss)
            worst = max(losses, key=lambda v: v if math.isfinite(v) else math.inf)
            diverged = not math.isfinite(worst) or (math.isfinite(best_host) and worst > 1e3 * max(best_host, 1e-12) and worst > 1.0)
            if diverged:
                recoveries += 1
                if recoveries > MAX_RECOVERIES or not math.isfinite(best_host):
                    if math.isfinite(best_host):
                        notices.append(f"the fit diverged {recoveries} times (best weights restored, learning rate halved, "
                                       "after all but the last): "
                                       f"stopped at step {step} of {opts.steps} with the best weights so far")
                        break
                    restore_best()  # the caller's model keeps finite (initial) weights, never NaN ones
                    raise FitDivergedError(f"fit diverged at step {step} (loss {worst}); try a lower --lr")
                restore_best()
                lr *= 0.5
                opt = torch.optim.Adam(params, lr=lr)
                continue
            history.append((step, losses[-1]))
            if progress is not None:
                progress(step, opts.steps, best_host, time.perf_counter() - start)
    # the weights after the last update were never scored: score them once
    best_host = float(best_loss) if not minibatch else best_host
    final = full_loss(model, coords[judge], values[judge])
    if math.isfinite(final) and final < best_host:
        best_host = final
    else:
        restore_best()
    if not math.isfinite(best_host):
        raise FitDivergedError("fit produced no finite loss; try a lower --lr")
    return FitResult(step, time.perf_counter() - start, best_host, recoveries, history, compiled, notices)
