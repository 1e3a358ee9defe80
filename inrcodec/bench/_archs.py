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

import numpy as np
import torch
from torch import nn

from ..nn.registry import build_model, count_parameters, make_arch

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
    common = {"in_features": in_features, "out_features": out_features, "width": spec.width, "depth": spec.depth,
              "first_omega0": float(spec.first_omega0)}
    if name in DAMPED:
        return make_arch("spder", damping=DAMPED[name], **common)
    if name in ("siren", "relu"):
        return make_arch(name, **common)
    if name == "relu-pe":
        return make_arch("relu-pe", **common, pe_frequencies=max(1, int(math.floor(math.log2(max(n, 8) / 4)))))
    if name == "relu-ffn":
        return make_arch("relu-ffn", **common, ffn_features=128, ffn_sigma=5.0 * n / 256)
    return make_arch("hashgrid", **{**common, "width": spec.hash_width, "depth": spec.hash_depth}, hash_levels=16,
                     hash_table_log2=spec.hash_table_log2, hash_features=2, hash_base=max(2, min(16, n // 4)), hash_max_res=n)


def seeded(seed: int) -> None:
    """Same weights for the same architecture and seed, whatever ran before."""
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))


def parse_archs(text: str | None) -> list[str] | None:
    """'spder,siren' -> ['spder', 'siren'], checked against the known architectures."""
    if text is None:
        return None
    names = [s.strip() for s in text.split(",") if s.strip()]
    bad = [n for n in names if n not in ARCH_NAMES]
    if not names or bad:
        raise ValueError(f"unknown architecture {bad[0] if bad else text!r}; choose from {', '.join(ARCH_NAMES)}")
    return list(dict.fromkeys(names))


def make(name: str, in_features: int, out_features: int, grid: Sequence[int], spec: NetSpec, seed: int,
         device: torch.device) -> tuple[nn.Module, float, dict]:
    """(model on device, its learning rate, facts for the rows) for architecture `name`, seeded."""
    arch = arch_dict(name, in_features, out_features, grid, spec)
    seeded(seed)
    model = build_model(arch).to(device)
    lr = HASH_LR if name == "hashgrid" else spec.lr
    width, depth = arch["width"], arch["depth"]
    return model, lr, {"params": count_parameters(model), "width": width, "depth": depth, "lr": lr}
