"""The architectures the paper compares, built for one signal grid with the same seed each time.

Encoding sizes follow the signal: ReLU+PE takes the SIREN code's Nyquist rule (floor(log2(n / 4))
octaves for n samples on the longest axis), ReLU+FFN a Gaussian sigma proportional to n
(Tancik et al.'s sigma = 10 on [0, 1] for 256 samples), the hash grid Instant-NGP's defaults with
its finest level at n and its own learning rate (1e-2: tables learn slowly at 1e-4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..model import build_model, count_parameters
from ._core import seeded

DAMPED = {"spder": "sqrt", "spder-sqrt": "sqrt", "spder-log": "log", "spder-atan": "atan", "spder-sqrt-relu": "sqrt-relu"}
ARCH_NAMES = ("relu", "relu-pe", "relu-ffn", "siren", "hashgrid", *DAMPED)
LABELS = {"relu": "ReLU", "relu-pe": "ReLU+PE", "relu-ffn": "ReLU+FFN", "siren": "SIREN", "hashgrid": "Hash grid",
          "spder": "SPDER", "spder-sqrt": "SPDER sqrt", "spder-log": "SPDER log", "spder-atan": "SPDER atan",
          "spder-sqrt-relu": "SPDER sqrt-relu"}
HASH_LR = 1e-2


@dataclass(frozen=True)
class NetSpec:
    """Network size and frequency settings shared by every architecture of one task."""

    width: int
    depth: int
    lr: float
    first_omega0: float = 30.0
    hash_table_log2: int = 14
    hash_width: int = 64
    hash_depth: int = 1


def arch_dict(name: str, in_features: int, out_features: int, grid: Sequence[int], spec: NetSpec) -> dict:
    """The build_model arch dict for architecture `name` on a grid of shape `grid`."""
    if name not in ARCH_NAMES:
        raise ValueError(f"unknown architecture {name!r}")
    n = max(int(g) for g in grid)
    base = {"in_features": in_features, "out_features": out_features, "width": spec.width, "depth": spec.depth,
            "omega0": 30.0, "first_omega0": float(spec.first_omega0), "damping": "none"}
    if name in DAMPED:
        return {**base, "activation": "spder", "damping": DAMPED[name]}
    if name == "siren":
        return {**base, "activation": "siren"}
    if name == "relu":
        return {**base, "activation": "relu"}
    if name == "relu-pe":
        return {**base, "activation": "relu-pe", "pe_frequencies": max(1, int(math.floor(math.log2(max(n, 8) / 4))))}
    if name == "relu-ffn":
        return {**base, "activation": "relu-ffn", "ffn_features": 128, "ffn_sigma": 5.0 * n / 256}
    return {**base, "activation": "hashgrid", "width": spec.hash_width, "depth": spec.hash_depth, "hash_levels": 16,
            "hash_table_log2": spec.hash_table_log2, "hash_features": 2, "hash_base": max(2, min(16, n // 4)), "hash_max_res": n}


def make(name: str, in_features: int, out_features: int, grid: Sequence[int], spec: NetSpec, seed: int,
         device: torch.device) -> tuple[nn.Module, float, dict]:
    """(model on device, its learning rate, facts for the rows) for architecture `name`, seeded."""
    arch = arch_dict(name, in_features, out_features, grid, spec)
    seeded(seed)
    model = build_model(arch).to(device)
    lr = HASH_LR if name == "hashgrid" else spec.lr
    width, depth = arch["width"], arch["depth"]
    return model, lr, {"params": count_parameters(model), "width": width, "depth": depth, "lr": lr}
