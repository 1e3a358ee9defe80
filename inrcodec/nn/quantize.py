"""Weights <-> integers + float32 scales: the one quantizer of every network spdr stores.

Quantization-aware training (rounding in the forward pass) is train/qat.py, built on these scales.

Scheme "per-channel-symmetric": a weight matrix gets one scale per output row (scale_shape
[rows]); vectors and scalars one scale (scale_shape [1]). q = round(w / s) in
[-(2^(b-1) - 1), 2^(b-1) - 1], w' = q * s. Bit widths form a closed set; 32 stores float32.
A coarsened tensor's scale is `coarsen` times the one covering max|w| at its bits: the same range of
integers, fewer of them used, so the entropy coder spends about log2(coarsen) fewer bits a weight
(rate/netstep.py chooses it per file).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..format.header import ALLOWED_QUANT_SCHEMES
from .arm import to_integers

SCHEME = ALLOWED_QUANT_SCHEMES[0]
LATENT_BITS = 8  # grid latents are stored as int8 when they fit, else int16
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


def broadcast(scale: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    return scale.reshape(-1, *([1] * (w.dim() - 1))) if w.dim() >= 2 else scale


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


def quantize_tensor(w: torch.Tensor, bits: int, per_row: bool = True, coarsen: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(integers in their storage dtype, float32 scales) of one tensor; bits 32 stores float32 with scale 1;
    coarsen >= 1 multiplies the scale (a coarser step)."""
    w = w.detach().float().cpu()
    if bits >= 32:
        return np.ascontiguousarray(w.numpy().astype(np.float32)), np.ones(1, dtype=np.float32)
    s = scales_for(w if per_row else w.reshape(-1), bits) * coarsen
    q = torch.clamp(torch.round(w / broadcast(s, w)), -qmax(bits), qmax(bits))
    return np.ascontiguousarray(q.numpy().astype(np.int8 if bits <= 8 else np.int16)), s.numpy().astype(np.float32)


def quantize_state(model: nn.Module, plan: dict[str, int], per_row: bool = True,
                   integers: frozenset[str] = frozenset(), coarsen: dict[str, float] | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Container tensors (NAME int, NAME.scale float32) and the header's "quant" object.

    plan: bits per parameter name; per_row: one scale per weight-matrix row (else one per tensor);
    integers: parameters that already hold integers (grid latents), stored as they are with scale 1;
    coarsen: a step factor per parameter name (default 1).
    """
    tensors: dict[str, np.ndarray] = {}
    entries: dict[str, dict] = {}
    params = dict(model.named_parameters())
    for name, bits in plan.items():
        w = params[name].detach().float().cpu()
        if name in integers:
            q = np.ascontiguousarray(w.round().clamp(-qmax(bits), qmax(bits)).numpy().astype(np.int8 if bits <= 8 else np.int16))
            s = np.ones(1, dtype=np.float32)
        else:
            q, s = quantize_tensor(w, bits, per_row, (coarsen or {}).get(name, 1.0))
        tensors[name] = q
        tensors[name + ".scale"] = s
        entries[name] = {"bits": bits, "shape": list(q.shape), "scale_shape": list(s.shape)}
    return tensors, {"scheme": SCHEME, "tensors": entries}


def dequantize_state(tensors: dict[str, np.ndarray], quant: dict) -> dict[str, torch.Tensor]:
    """Float weights for load_state_dict from container tensors."""
    out: dict[str, torch.Tensor] = {}
    for name, entry in quant["tensors"].items():
        q = torch.from_numpy(np.asarray(tensors[name]).astype(np.float32))
        s = torch.from_numpy(np.asarray(tensors[name + ".scale"], dtype=np.float32))
        out[name] = q if entry["bits"] >= 32 else q * broadcast(s, q)
    return out


def synthesis_matrices(model: nn.Module) -> list[str]:
    """Names of a latent-grid model's synthesis weight matrices (what `coarsen` applies to)."""
    return [name for name, p in model.named_parameters() if name.startswith("net.") and p.dim() >= 2]


def quantize_grid(model: nn.Module, bits: int = 8, bias_bits: int = 16, per_row: bool = True,
                  coarsen: float = 1.0) -> tuple[dict[str, np.ndarray], dict]:
    """quantize_state for a fitted latent-grid model (nn/latentgrid.py).

    Latents are already integers: stored with scale 1.0 as int8 (int16 if any exceeds 127).
    Synthesis weights get per-row scales (or one per tensor) at `bits`, times `coarsen`; biases one at `bias_bits`.
    An entropy model (format 1.3) is stored as nn/arm.to_integers makes it: power-of-two scales.
    """
    latents = model.get_parameter("latents").detach()
    peak = float(latents.round().abs().max()) if latents.numel() else 0.0
    plan = {"latents": LATENT_BITS if peak <= qmax(LATENT_BITS) else 16}
    plan.update({name: bits if p.dim() >= 2 else bias_bits for name, p in model.named_parameters()
                 if name != "latents" and not name.startswith("arm.")})
    tensors, quant = quantize_state(model, plan, per_row, integers=frozenset({"latents"}),
                                    coarsen=dict.fromkeys(synthesis_matrices(model), coarsen))
    if hasattr(model, "arm"):
        arm_tensors, arm_entries = to_integers(model.arm)
        tensors.update(arm_tensors)
        quant["tensors"].update(arm_entries)
    return tensors, quant
