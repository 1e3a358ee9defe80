"""Multiresolution hash encoding with a small ReLU MLP (Instant-NGP, Mueller et al. 2022), plain PyTorch.

A baseline for the benchmarks (`activation: "hashgrid"`): L grids of growing resolution over
[-1, 1]^d, each a table of F-dimensional features; a coordinate reads the 2^d corners of its cell
at every level (directly when the level's grid fits in its table, else through the spatial hash),
interpolates them multilinearly, and the concatenated features go through a ReLU MLP. No CUDA
kernels: slower than tiny-cuda-nn, identical maths.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

# Instant-NGP's primes for the spatial hash (the first is 1 for better cache coherence)
PRIMES = (1, 2654435761, 805459861)
DEFAULTS = {"hash_levels": 16, "hash_table_log2": 14, "hash_features": 2, "hash_base": 16, "hash_max_res": 512}
INIT_RANGE = 1e-4  # tables start at U(-1e-4, 1e-4), as in Instant-NGP


def level_resolutions(levels: int, base: int, max_res: int) -> list[int]:
    """N_l = floor(N_min * b^l) with b chosen so the last level reaches max_res."""
    if levels == 1:
        return [base]
    growth = math.exp((math.log(max(max_res, base)) - math.log(base)) / (levels - 1))
    return [int(math.floor(base * growth**level)) for level in range(levels)]


class HashEncoding(nn.Module):
    """Coordinates in [-1, 1]^d -> L*F interpolated features; one table `tables.{l}` per level."""

    def __init__(self, in_features: int, levels: int, table_log2: int, features: int, base: int, max_res: int):
        super().__init__()
        if not 1 <= in_features <= len(PRIMES):
            raise ValueError(f"hash grid supports 1..{len(PRIMES)} input dimensions, got {in_features}")
        self.dims = in_features
        self.resolutions = level_resolutions(levels, base, max_res)
        cap = 1 << table_log2
        sizes = [min(cap, (res + 1) ** in_features) for res in self.resolutions]
        self.dense = [(res + 1) ** in_features <= cap for res in self.resolutions]
        self.tables = nn.ParameterList(nn.Parameter(torch.empty(n, features).uniform_(-INIT_RANGE, INIT_RANGE)) for n in sizes)
        self.out_features = levels * features
        self.register_buffer("corners", torch.tensor(list(itertools.product((0, 1), repeat=in_features)), dtype=torch.int64),
                             persistent=False)

    def _index(self, vertex: torch.Tensor, level: int) -> torch.Tensor:
        """Table rows of integer grid vertices (..., d): row-major when dense, XOR-of-primes hash otherwise."""
        res, size = self.resolutions[level] + 1, self.tables[level].shape[0]
        if self.dense[level]:
            idx = torch.zeros_like(vertex[..., 0])
            for axis in range(self.dims):
                idx = idx * res + vertex[..., axis]
            return idx
        h = torch.zeros_like(vertex[..., 0])
        for axis in range(self.dims):
            h = h ^ (vertex[..., axis] * PRIMES[axis])
        return h % size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        unit = ((x + 1.0) * 0.5).clamp(0.0, 1.0)  # [-1, 1] -> [0, 1]
        out = []
        for level, res in enumerate(self.resolutions):
            pos = unit * res
            base = torch.floor(pos).clamp(max=res - 1)
            frac = pos - base
            base = base.to(torch.int64)
            vertices = base[:, None, :] + self.corners[None]  # (n, 2^d, d)
            weights = torch.where(self.corners[None].bool(), frac[:, None, :], 1.0 - frac[:, None, :]).prod(-1)  # (n, 2^d)
            feats = self.tables[level][self._index(vertices, level)]  # (n, 2^d, F)
            out.append((weights[..., None] * feats).sum(1))
        return torch.cat(out, dim=-1)


class HashGridMLP(nn.Module):
    """Hash encoding then `depth`+1 ReLU layers of `width` and a linear head (arch dict as for build_model)."""

    def __init__(self, arch: dict):
        super().__init__()
        self.arch = dict(arch)
        cfg = {k: int(arch.get(k, v)) for k, v in DEFAULTS.items()}
        self.encoding = HashEncoding(int(arch["in_features"]), cfg["hash_levels"], cfg["hash_table_log2"], cfg["hash_features"],
                                     cfg["hash_base"], cfg["hash_max_res"])
        width, depth = int(arch["width"]), int(arch["depth"])
        dims = [self.encoding.out_features] + [width] * (depth + 1)
        layers: list[nn.Module] = []
        for a, b in zip(dims[:-1], dims[1:], strict=False):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(width, int(arch["out_features"])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.encoding(x))
