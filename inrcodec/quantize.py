"""Weights <-> integers + float32 scales, and fake quantization for quantization-aware tuning.

Scheme "per-channel-symmetric": a weight matrix gets one scale per output row (scale_shape
[rows]); vectors and scalars one scale (scale_shape [1]). q = round(w / s) in
[-(2^(b-1) - 1), 2^(b-1) - 1], w' = q * s. Bit widths form a closed set; 32 stores float32.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from .header import ALLOWED_QUANT_SCHEMES

SCHEME = ALLOWED_QUANT_SCHEMES[0]
BIAS_BITS = 16  # biases are few and set the phase of every sine: keep them fine


def qmax(bits: int) -> int:
    return (1 << (bits - 1)) - 1


def _row_absmax(w: torch.Tensor) -> torch.Tensor:
    if w.dim() >= 2:
        return w.detach().abs().flatten(1).amax(dim=1)
    return w.detach().abs().amax().reshape(1)


def scales_for(w: torch.Tensor, bits: int) -> torch.Tensor:
    """Per-row (or per-tensor for vectors) symmetric scales that cover max|w| exactly."""
    m = _row_absmax(w).float()
    return torch.where(m > 0, m / qmax(bits), torch.ones_like(m))


def _broadcast(scale: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return scale.reshape(-1, *([1] * (w.dim() - 1))) if w.dim() >= 2 else scale


def fake_quantize(w: torch.Tensor, bits: int) -> torch.Tensor:
    """w rounded to its quantization grid; the gradient passes straight through."""
    if bits >= 32:
        return w
    s = _broadcast(scales_for(w, bits), w)
    q = torch.clamp(torch.round(w / s), -qmax(bits), qmax(bits)) * s
    return w + (q - w).detach()


class FakeQuant(nn.Module):
    """A parametrization: the module sees its weight already quantized (STE backward)."""

    def __init__(self, bits: int):
        super().__init__()
        self.bits = bits

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return fake_quantize(w, self.bits)


def bit_plan(model: nn.Module, bits: int) -> dict[str, int]:
    """Bits per stored tensor: weight matrices at `bits`; the first layer's weights and all biases
    at BIAS_BITS or more; tensors that never train (Fourier feature matrices) in float32.

    The first layer maps coordinates to phases scaled by omega0: 8-bit rounding there alone costs
    about 1 dB on a 3x64 SPDER (benchmarks/results/image_quality.md), and it holds few weights.
    """
    plan: dict[str, int] = {}
    seen_matrix = False
    for name, p in model.named_parameters():
        if not p.requires_grad or bits >= 32:
            plan[name] = 32
        elif p.dim() >= 2:
            plan[name] = bits if seen_matrix else max(bits, BIAS_BITS)
            seen_matrix = True
        else:
            plan[name] = max(bits, BIAS_BITS)
    return plan


def attach_fake_quant(model: nn.Module, plan: dict[str, int]) -> None:
    """Register FakeQuant on every planned parameter (for quantization-aware fine-tuning)."""
    for name, bits in plan.items():
        if bits >= 32:
            continue
        owner_name, _, pname = name.rpartition(".")
        owner = model.get_submodule(owner_name) if owner_name else model
        parametrize.register_parametrization(owner, pname, FakeQuant(bits))


def detach_fake_quant(model: nn.Module) -> None:
    """Remove FakeQuant, keeping the float weights underneath (quantize() rounds them identically)."""
    for module in list(model.modules()):
        if parametrize.is_parametrized(module):
            for pname in list(module.parametrizations.keys()):
                parametrize.remove_parametrizations(module, pname, leave_parametrized=False)


def quantize_state(model: nn.Module, plan: dict[str, int]) -> tuple[dict[str, np.ndarray], dict]:
    """Container tensors (NAME int, NAME.scale float32) and the header's "quant" object."""
    tensors: dict[str, np.ndarray] = {}
    entries: dict[str, dict] = {}
    params = dict(model.named_parameters())
    for name, bits in plan.items():
        w = params[name].detach().float().cpu()
        if bits >= 32:
            q, s = w.numpy().astype(np.float32), np.ones(1, dtype=np.float32)
        else:
            st = scales_for(w, bits)
            qt = torch.clamp(torch.round(w / _broadcast(st, w)), -qmax(bits), qmax(bits))
            q = qt.numpy().astype(np.int8 if bits <= 8 else np.int16)
            s = st.numpy().astype(np.float32)
        tensors[name] = np.ascontiguousarray(q)
        tensors[name + ".scale"] = s
        entries[name] = {"bits": bits, "shape": list(q.shape), "scale_shape": list(s.shape)}
    return tensors, {"scheme": SCHEME, "tensors": entries}


def dequantize_state(tensors: dict[str, np.ndarray], quant: dict) -> dict[str, torch.Tensor]:
    """Float weights for load_state_dict from container tensors."""
    out: dict[str, torch.Tensor] = {}
    for name, entry in quant["tensors"].items():
        q = torch.from_numpy(np.asarray(tensors[name]).astype(np.float32))
        s = torch.from_numpy(np.asarray(tensors[name + ".scale"], dtype=np.float32))
        out[name] = q if entry["bits"] >= 32 else q * _broadcast(s, q)
    return out
