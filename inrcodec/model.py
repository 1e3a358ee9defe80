"""Coordinate networks: the SPDER MLP and the baselines it is measured against.

A SPDER hidden layer computes z = omega0 * (W x + b) and outputs sin(z) * damping(z). The
activation is one autograd function that saves only z and recomputes in backward, so the
gradient is finite at z = 0 for every damping (autograd's own sqrt|z| backward is 1/0 there).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .header import ALLOWED_ACTIVATIONS as ACTIVATIONS

LOG_EPS = 1e-3  # |z| is clamped here for log damping, so log|z| and its slope stay finite


def _sqrt_abs_fwd(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(z) * torch.sqrt(torch.abs(z))


def _sqrt_abs_grad(z: torch.Tensor) -> torch.Tensor:
    # d/dz sin z sqrt|z| = cos z sqrt|z| + sin z sign z / (2 sqrt|z|) = sqrt|z| (cos z + sinc(z)/2)
    return torch.sqrt(torch.abs(z)) * (torch.cos(z) + 0.5 * torch.sinc(z / math.pi))


def _sqrt_relu_fwd(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(z) * torch.sqrt(torch.relu(z))


def _sqrt_relu_grad(z: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(torch.relu(z)) * (torch.cos(z) + 0.5 * torch.sinc(z / math.pi))


def _log_fwd(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(z) * torch.log(torch.clamp(torch.abs(z), min=LOG_EPS))


def _log_grad(z: torch.Tensor) -> torch.Tensor:
    a = torch.abs(z)
    inside = (a > LOG_EPS).to(z.dtype)
    # sin z * d/dz log|z| = sin z / z = sinc(z), zero where the clamp is active
    return torch.cos(z) * torch.log(torch.clamp(a, min=LOG_EPS)) + inside * torch.sinc(z / math.pi)


def _atan_fwd(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(z) * torch.atan(z)


def _atan_grad(z: torch.Tensor) -> torch.Tensor:
    return torch.cos(z) * torch.atan(z) + torch.sin(z) / (1.0 + z * z)


def _sine_fwd(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(z)


def _sine_grad(z: torch.Tensor) -> torch.Tensor:
    return torch.cos(z)


_KERNELS = {
    "sqrt": (_sqrt_abs_fwd, _sqrt_abs_grad),
    "sqrt-relu": (_sqrt_relu_fwd, _sqrt_relu_grad),
    "log": (_log_fwd, _log_grad),
    "atan": (_atan_fwd, _atan_grad),
    "none": (_sine_fwd, _sine_grad),
}


def _make_function(damping: str) -> type[torch.autograd.Function]:
    fwd, grad = _KERNELS[damping]

    class DampedSine(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):  # type: ignore[override]
            ctx.save_for_backward(z)
            return fwd(z)

        @staticmethod
        def backward(ctx, g):  # type: ignore[override]
            (z,) = ctx.saved_tensors
            return g * grad(z)

    DampedSine.__name__ = f"DampedSine_{damping.replace('-', '_')}"
    return DampedSine


_FUNCTIONS = {name: _make_function(name) for name in _KERNELS}


def damped_sine(z: torch.Tensor, damping: str = "sqrt") -> torch.Tensor:
    """sin(z) * damping(z) with a finite, recomputed gradient (damping 'none' is SIREN's sine)."""
    return _FUNCTIONS[damping].apply(z)


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
        proj = 2 * math.pi * x @ self.B.T
        return torch.cat([torch.sin(proj), torch.cos(proj)], dim=-1)


class CoordinateMLP(nn.Module):
    """first layer (in -> width), `depth` hidden layers (width -> width), linear head (width -> out)."""

    def __init__(self, arch: dict):
        super().__init__()
        act = arch["activation"]
        if act not in ACTIVATIONS or act == "hashgrid":
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


def build_model(arch: dict) -> nn.Module:
    """An untrained network for an `arch` header dict (weights are then fitted or loaded)."""
    if "grid_levels" in arch:
        from .latentgrid import LatentGridSPDER

        return LatentGridSPDER(arch)
    if arch["activation"] == "hashgrid":
        from .hashgrid import (
            HashGridMLP,  # optional baseline, imported only when asked for
        )

        return HashGridMLP(arch)
    return CoordinateMLP(arch)


def count_parameters(model: nn.Module) -> int:
    """Number of fitted (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
