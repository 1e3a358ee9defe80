"""One registry of networks: the header's `arch` dict is built here, and turned into a module here.

Every encoder (plain presets, rate control, bench tasks) calls make_arch, and every decoder calls
build_model on the header's dict, so what a file says and what the code builds cannot drift apart.
Kinds: coordinate MLPs (spder, siren, relu, relu-pe, relu-ffn; nn/mlp.py), the hash grid
(nn/hashgrid.py, a benchmark baseline) and the latent-grid SPDER (nn/latentgrid.py, format 1.1).
"""

from __future__ import annotations

from torch import nn

from ..format.geometry import is_grid_arch
from ..format.header import ALLOWED_ACTIVATIONS, ARCH_EXTRAS


def make_arch(activation: str, in_features: int, out_features: int, width: int, depth: int, *,
              damping: str | None = None, omega0: float = 30.0, first_omega0: float | None = None, **extras) -> dict:
    """The header's `arch` object for one network.

    damping applies to spder (default sqrt) and is "none" for every other activation; first_omega0
    defaults to omega0; extras are the kind's own fields (pe_frequencies, ffn_features, ffn_sigma,
    hash_*, grid_levels, grid_height, grid_width, grid_interp), with None values left out.
    """
    if activation not in ALLOWED_ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}")
    unknown = sorted(set(extras) - set(ARCH_EXTRAS))
    if unknown:
        raise ValueError(f"unknown architecture field {unknown[0]!r}")
    arch = {
        "activation": activation,
        "damping": (damping or "sqrt") if activation == "spder" else "none",
        "in_features": int(in_features),
        "out_features": int(out_features),
        "width": int(width),
        "depth": int(depth),
        "omega0": float(omega0),
        "first_omega0": float(omega0 if first_omega0 is None else first_omega0),
    }
    arch.update({k: v for k, v in extras.items() if v is not None})
    return arch


def build_model(arch: dict) -> nn.Module:
    """An untrained network for an `arch` header dict (weights are then fitted or loaded)."""
    if is_grid_arch(arch):
        from .latentgrid import LatentGridSPDER

        return LatentGridSPDER(arch)
    if arch["activation"] == "hashgrid":
        from .hashgrid import HashGridMLP  # a benchmark baseline, imported only when asked for

        return HashGridMLP(arch)
    from .mlp import CoordinateMLP

    return CoordinateMLP(arch)


def count_parameters(model: nn.Module) -> int:
    """Number of fitted (trainable) parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
