"""The fitting loop: Adam on MSE, best-weights checkpoint, time budget, divergence recovery.

No file I/O here; progress goes to an optional callback every `report_every` steps, so the loop
reads the loss back from the device only when something needs it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from .errors import FitDivergedError
from .grid import iter_chunks

FULL_BATCH_BYTES = 3 << 30  # activations kept for backward above this -> random minibatches
MAX_RECOVERIES = 6


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


@dataclass
class FitResult:
    """Outcome of one fit: the best weights are already loaded back into the model."""

    steps: int
    seconds: float
    best_loss: float
    recoveries: int = 0
    history: list[tuple[int, float]] = field(default_factory=list)


Progress = Callable[[int, int, float, float], None]  # (step, total, loss, elapsed seconds)


def activation_bytes(model: nn.Module, n: int) -> int:
    """Rough memory that a full-batch step keeps for backward: 2 floats per unit per sample."""
    units = sum(m.out_features for m in model.modules() if isinstance(m, nn.Linear))
    return 8 * units * n


def full_loss(model: nn.Module, coords: torch.Tensor, values: torch.Tensor, chunk: int = 1 << 16) -> float:
    """MSE over all samples, evaluated in chunks without autograd."""
    total = 0.0
    with torch.no_grad():
        for s, e in iter_chunks(coords.shape[0], chunk):
            d = model(coords[s:e]) - values[s:e]
            total += float((d * d).sum())
    return total / values.numel()


def fit(
    model: nn.Module,
    coords: torch.Tensor,
    values: torch.Tensor,
    opts: FitOptions,
    progress: Progress | None = None,
) -> FitResult:
    """Fit `model` to (coords, values) in place and return the best-loss weights' result."""
    n = coords.shape[0]
    batch = opts.batch_size
    if batch is None and activation_bytes(model, n) > FULL_BATCH_BYTES:
        batch = max(4096, int(n * FULL_BATCH_BYTES / activation_bytes(model, n)))
    minibatch = batch is not None and batch < n
    params = [p for p in model.parameters() if p.requires_grad]
    lr = opts.lr
    opt = torch.optim.Adam(params, lr=lr)
    gen = torch.Generator(device=coords.device).manual_seed(opts.seed)
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    best = math.inf
    history: list[tuple[int, float]] = []
    recoveries = 0
    start = time.perf_counter()
    step = 0

    def restore_best() -> None:
        model.load_state_dict(best_state)

    while step < opts.steps:
        if opts.time_limit is not None and time.perf_counter() - start >= opts.time_limit:
            break
        if minibatch:
            idx = torch.randint(0, n, (batch,), device=coords.device, generator=gen)
            x, y = coords[idx], values[idx]
        else:
            x, y = coords, values
        pred = model(x)
        loss = torch.mean((pred - y) ** 2)
        lv = float(loss.detach()) if not minibatch else None
        if minibatch and (step % opts.eval_every == 0 or step == opts.steps - 1):
            lv = full_loss(model, coords, values)
        if lv is not None:
            if not math.isfinite(lv) or (math.isfinite(best) and lv > 1e3 * max(best, 1e-12) and lv > 1.0):
                recoveries += 1
                if recoveries > MAX_RECOVERIES or not math.isfinite(best):
                    if math.isfinite(best):
                        break
                    raise FitDivergedError(f"fit diverged at step {step} (loss {lv}); try a lower --lr")
                restore_best()
                lr *= 0.5
                opt = torch.optim.Adam(params, lr=lr)
                continue
            if lv < best:
                best = lv
                for k, v in model.state_dict().items():
                    best_state[k].copy_(v)
            if step % opts.report_every == 0:
                history.append((step, lv))
        progress_frac = step / max(1, opts.steps)
        for group in opt.param_groups:
            group["lr"] = lr * (opts.lr_final + (1 - opts.lr_final) * 0.5 * (1 + math.cos(math.pi * progress_frac)))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if progress is not None and (step % opts.report_every == 0 or step == opts.steps):
            progress(step, opts.steps, best, time.perf_counter() - start)
    # the weights after the last update were never scored: score them once
    final = full_loss(model, coords, values)
    if math.isfinite(final) and final < best:
        best = final
    else:
        restore_best()
    if not math.isfinite(best):
        raise FitDivergedError("fit produced no finite loss; try a lower --lr")
    return FitResult(step, time.perf_counter() - start, best, recoveries, history)
