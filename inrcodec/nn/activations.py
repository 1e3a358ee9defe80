"""The SPDER activation: sin(z) * damping(z), as one autograd function per damping.

A SPDER hidden layer computes z = omega0 * (W x + b) and outputs sin(z) * damping(z). Each
function saves only z and recomputes in backward, so the gradient is finite at z = 0 for every
damping (autograd's own sqrt|z| backward is 1/0 there) and backward keeps one tensor per layer.

Inside `nn.fused.fused_kernels()` (a long latent-grid fit, train/rdfit.py) the same formulas run as kernels
compiled by torch.compile, one loop over the elements instead of five or six: the activation and its
gradient were the largest share of a 768x512 training step (benchmarks/results/engine_speed.md).
"""

from __future__ import annotations

import functools
import math

import torch

from .fused import fusing

LOG_EPS = 1e-3  # |z| is clamped here for log damping, so log|z| and its slope stay finite


TINY = 1e-30  # sqrt|z| is floored here in a divisor: sin|z| / TINY is 0 at z = 0, the gradient's limit there


def _sqrt_abs_fwd(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(z).mul_(torch.abs(z).sqrt_())


def _sqrt_abs_grad(z: torch.Tensor) -> torch.Tensor:
    # d/dz sin z sqrt|z| = sqrt|z| cos z + sin|z| / (2 sqrt|z|), which tends to 0 at z = 0. Written with
    # sin, cos and in-place ops: the sinc form took 4x as long and was half of a training step (the
    # latent-grid engine's profile on a 512x341 photo).
    a = torch.abs(z)
    s = torch.sqrt(a)
    return torch.sin(a).mul_(0.5).div_(s.clamp(min=TINY)).addcmul_(s, torch.cos(z))


def _sqrt_relu_fwd(z: torch.Tensor) -> torch.Tensor:
    return torch.sin(z).mul_(torch.relu(z).sqrt_())


def _sqrt_relu_grad(z: torch.Tensor) -> torch.Tensor:
    # the sqrt form above where z > 0 (there |z| = z), 0 where z <= 0
    s = torch.relu(z).sqrt_()
    return torch.sin(z).mul_(0.5).div_(s.clamp(min=TINY)).mul_(z > 0).addcmul_(s, torch.cos(z))


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


@functools.cache
def _fused_kernels(damping: str):
    fwd, grad = _KERNELS[damping]
    return torch.compile(fwd, dynamic=True), torch.compile(lambda z, g: g * grad(z), dynamic=True)


def _make_function(damping: str, fused: bool = False) -> type[torch.autograd.Function]:
    if fused:
        fwd, scaled_grad = _fused_kernels(damping)
    else:
        fwd, grad = _KERNELS[damping]

        def scaled_grad(z, g):
            return g * grad(z)

    class DampedSine(torch.autograd.Function):
        @staticmethod
        def forward(ctx, z):  # type: ignore[override]
            ctx.save_for_backward(z)
            return fwd(z)

        @staticmethod
        def backward(ctx, g):  # type: ignore[override]
            (z,) = ctx.saved_tensors
            return scaled_grad(z, g)

    DampedSine.__name__ = f"DampedSine_{damping.replace('-', '_')}{'_fused' if fused else ''}"
    return DampedSine


_FUNCTIONS = {name: _make_function(name) for name in _KERNELS}


@functools.cache
def _fused_function(damping: str) -> type[torch.autograd.Function]:
    return _make_function(damping, fused=True)


def damped_sine(z: torch.Tensor, damping: str = "sqrt") -> torch.Tensor:
    """sin(z) * damping(z) with a finite, recomputed gradient (damping 'none' is SIREN's sine)."""
    if fusing() and z.requires_grad:
        return _fused_function(damping).apply(z)
    return _FUNCTIONS[damping].apply(z)
