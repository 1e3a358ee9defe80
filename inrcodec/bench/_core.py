"""Shared pieces of the bench tasks: options, outputs, and one fit that is measured at several steps.

The paper trains with plain Adam at a constant learning rate on the full batch and reports the
loss after 25, 100 and 500 steps; `fit_recording` does exactly that, in one run, handing the
model and its prediction to a callback at each requested step (no refit per step count).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from ..metrics import psnr_from_mse
from ..nn.coords import forward_chunks


@dataclass
class BenchOptions:
    """What the user asked for; None means the task's default (CPU or --paper)."""

    task: str
    inputs: Sequence[str] = ()
    size: int | None = None
    steps: Sequence[int] | None = None
    archs: Sequence[str] | None = None
    seed: int = 0
    paper: bool = False
    device: str = "auto"
    preset: str | None = None  # rd: spdr's encoder preset
    qualities: Sequence[float] | None = None  # rd: spdr --quality points
    frames: int | None = None  # av: video frames from each clip's start (None: VIDEO_SECONDS)
    log: Callable[[str], None] = field(default=lambda line: None, repr=False)


@dataclass
class TaskOutput:
    """A task's results: flat rows, a Markdown body, PNG files by name, and settings to record."""

    rows: list[dict]
    markdown: str
    figures: dict[str, bytes] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    notes: tuple[str, ...] | None = None  # lines under the settings; None: the paper tasks' PSNR convention


def _parse_list(text: str | None, cast, flag: str, low: float, high: float, example: str, what: str) -> list | None:
    """'a,b,c' -> sorted unique values of `cast`, each in low..high; None stays None; a ValueError names the option."""
    if text is None:
        return None
    try:
        values = sorted({cast(s) for s in text.split(",") if s.strip()})
    except ValueError:
        raise ValueError(f"{flag} must be comma-separated {what}, e.g. {example}, got {text!r}") from None
    if not values or values[0] < low or values[-1] > high:
        raise ValueError(f"{flag} must list values in {low}..{high}, got {text!r}")
    return values


def parse_steps(text: str | None) -> list[int] | None:
    """'25,100,500' -> [25, 100, 500] (sorted, unique, each >= 1); None stays None."""
    return _parse_list(text, int, "--steps", 1, 1_000_000, "25,100,500", "integers")


def parse_qualities(text: str | None) -> list[float] | None:
    """'20,75,90' -> [20.0, 75.0, 90.0] (sorted, unique, each in 0..100); None stays None."""
    return _parse_list(text, float, "--quality", 0, 100, "40,75,90", "numbers in 0..100")


Record = Callable[[int, nn.Module, torch.Tensor], dict]  # (step, model, prediction on the fit coords) -> row fields


@dataclass
class Recorded:
    """One fit's measurements: rows at the requested steps and the loss after every step."""

    rows: list[dict]
    curve: list[float]
    seconds: float


def fit_recording(model: nn.Module, coords: torch.Tensor, values: torch.Tensor, steps: Sequence[int], lr: float,
                  record: Record | None = None, log: Callable[[str], None] | None = None, label: str = "") -> Recorded:
    """Adam at constant `lr`, full batch, MSE; measure after each step count in `steps`.

    The loss after k updates is the forward pass of iteration k, so the curve costs nothing extra and
    `record` sees exactly the model that produced it. `seconds` counts training work only.
    """
    wanted = set(int(s) for s in steps)
    last = max(wanted)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    curve: list[float] = []
    rows: list[dict] = []
    train_s = 0.0
    for step in range(last + 1):
        t0 = time.perf_counter()
        pred = model(coords)
        loss = torch.mean((pred - values) ** 2)
        lv = float(loss.detach())
        train_s += time.perf_counter() - t0
        curve.append(lv)
        if step in wanted:
            row = {"step": step, "loss": lv if math.isfinite(lv) else None, "psnr_db": psnr_from_mse(lv) if math.isfinite(lv) else None,
                   "train_seconds": round(train_s, 3)}
            if record is not None:
                with torch.no_grad():
                    row.update(record(step, model, pred.detach()))
            rows.append(row)
            if log is not None:
                log(f"{label}: step {step}/{last}, loss {lv:.3e}, PSNR {row['psnr_db'] or float('nan'):.2f} dB, {train_s:.0f} s")
        if step == last:
            break
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        train_s += time.perf_counter() - t0
    return Recorded(rows, curve, train_s)


def predict(model: nn.Module, coords: torch.Tensor, chunk: int = 1 << 16) -> np.ndarray:
    """Model output on `coords` in chunks, without autograd, as float64 numpy (n, channels)."""
    return np.concatenate([out.double().cpu().numpy() for _, _, out in forward_chunks(model, coords, chunk)], axis=0)
