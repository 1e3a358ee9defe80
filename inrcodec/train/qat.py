"""Quantization-aware training: the network sees its weights already rounded (straight-through).

Used by the plain encoder's tuning phase (codec/encode.py) and optionally by rate-distortion
fitting (train/rdfit.py); the rounding itself is nn/quantize.py's, so what training sees is what
the file stores.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..nn.latentgrid import LatentGridSPDER
from ..nn.quantize import broadcast, qmax, scales_for


def fake_quantize(w: torch.Tensor, bits: int) -> torch.Tensor:
    """w rounded to its quantization grid; the gradient passes straight through."""
    if bits >= 32:
        return w
    s = broadcast(scales_for(w, bits), w)
    q = torch.clamp(torch.round(w / s), -qmax(bits), qmax(bits)) * s
    return w + (q - w).detach()


class FakeQuant(nn.Module):
    """A parametrization: the module sees its weight already quantized (STE backward)."""

    def __init__(self, bits: int):
        super().__init__()
        self.bits = bits

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return fake_quantize(w, self.bits)


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


def quantized_synthesis(model: LatentGridSPDER, bits: int, bias_bits: int, per_row: bool) -> dict[str, torch.Tensor]:
    """The synthesis parameters as quantize_grid stores them, with straight-through gradients."""
    out = {}
    for name, p in model.named_parameters():
        if name == "latents":
            continue
        if p.dim() >= 2 and per_row:
            out[name] = fake_quantize(p, bits)
        else:
            out[name] = fake_quantize(p.reshape(-1), bits if p.dim() >= 2 else bias_bits).reshape(p.shape)
    return out
