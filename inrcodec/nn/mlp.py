"""Coordinate MLPs: the SPDER network of the paper and the baselines it is measured against.

SPDER and SIREN use SIREN's initialisation (first layer U(-1/fan_in, 1/fan_in), later layers
U(-sqrt(6/fan_in)/omega0, +)); ReLU networks optionally see a positional or Fourier encoding.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .activations import damped_sine

MLP_ACTIVATIONS = ("spder", "siren", "relu", "relu-pe", "relu-ffn")


class SineLayer(nn.Linear):
    """Linear layer then sin(omega0 * z) * damping; SIREN initialisation."""

    def __init__(self, fan_in: int, fan_out: int, omega0: float, damping: str, first: bool):
        super().__init__(fan_in, fan_out)
        self.omega0 = float(omega0)
        self.damping = damping
        bound = 1.0 / fan_in if first else math.sqrt(6.0 / fan_in) / self.omega0
        with torch.no_grad():
            self.weight.uniform_(-bound, bound)
            # PyTorch's default bias init U(+-1/sqrt(fan_in)) is kept, as in the SIREN/SPDER code

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return damped_sine(self.omega0 * super().forward(x), self.damping)


class PositionalEncoding(nn.Module):
    """NeRF encoding: x, sin(2^k pi x), cos(2^k pi x) for k < frequencies."""

    def __init__(self, in_features: int, frequencies: int):
        super().__init__()
        self.register_buffer("bands", (2.0 ** torch.arange(frequencies)) * math.pi, persistent=False)
        self.out_features = in_features * (1 + 2 * frequencies)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xb = (x[..., None] * self.bands).flatten(-2)
        return torch.cat([x, torch.sin(xb), torch.cos(xb)], dim=-1)


class FourierFeatures(nn.Module):
    """Gaussian Fourier features (Tancik et al.): [sin 2 pi B x, cos 2 pi B x], B ~ N(0, sigma^2).

    B is a stored parameter (excluded from the optimiser) so a file carries it and decodes alone.
    """

    def __init__(self, in_features: int, features: int, sigma: float):
        super().__init__()
        self.B = nn.Parameter(torch.randn(features, in_features) * sigma, requires_grad=False)
        self.out_features = 2 * features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # a sum of in_features products, elementwise, not a GEMM: with K this small, BLAS picks FMA or plain kernels
        # by how threads split the rows, the last bit differs, and sin of ~100 rad amplifies it (the float output was
        # not thread-count independent, tests/test_determinism.py)
        proj = (2 * math.pi * x[..., :, None] * self.B.T).sum(dim=-2)
        return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)


class CoordinateMLP(nn.Module):
    """first layer (in -> width), `depth` hidden layers (width -> width), linear head (width -> out)."""

    def __init__(self, arch: dict):
        super().__init__()
        act = arch["activation"]
        if act not in MLP_ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}")
        self.arch = dict(arch)
        inp, out = int(arch["in_features"]), int(arch["out_features"])
        width, depth = int(arch["width"]), int(arch["depth"])
        self.encoding: nn.Module = nn.Identity()
        if act == "relu-pe":
            self.encoding = PositionalEncoding(inp, int(arch.get("pe_frequencies", 10)))
            inp = self.encoding.out_features
        elif act == "relu-ffn":
            self.encoding = FourierFeatures(inp, int(arch.get("ffn_features", 128)), float(arch.get("ffn_sigma", 10.0)))
            inp = self.encoding.out_features
        layers: list[nn.Module] = []
        if act in ("spder", "siren"):
            damping = arch.get("damping", "sqrt") if act == "spder" else "none"
            omega, first_omega = float(arch.get("omega0", 30.0)), float(arch.get("first_omega0", 30.0))
            layers.append(SineLayer(inp, width, first_omega, damping, first=True))
            layers += [SineLayer(width, width, omega, damping, first=False) for _ in range(depth)]
            head = nn.Linear(width, out)
            with torch.no_grad():
                bound = math.sqrt(6.0 / width) / omega
                head.weight.uniform_(-bound, bound)
        else:
            dims = [inp] + [width] * (depth + 1)
            for a, b in zip(dims[:-1], dims[1:], strict=False):
                layers += [nn.Linear(a, b), nn.ReLU()]
            head = nn.Linear(width, out)
        self.net = nn.Sequential(*layers, head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.encoding(x))
