"""Tensor geometry: what a header's network stores, computed from the header alone. Imports no torch.

Readers size a file's network from these numbers before allocating anything (format/limits.py), and
tests/test_verify.py checks them against the real torch modules (inrcodec.nn) for every network kind.
"""

from __future__ import annotations

import math

import numpy as np

MLP_ACTIVATIONS = ("spder", "siren", "relu", "relu-pe", "relu-ffn")
MLP_EXTRAS = {"pe_frequencies", "ffn_features", "ffn_sigma"}
GRID_EXTRAS = {"grid_levels", "grid_frames", "grid_height", "grid_width", "grid_interp", "grid_stencil", "arm_width", "arm_depth",
               "arm_passes"}
ARM_CONTEXT = 14  # format/armmodel.CONTEXT: inputs of the entropy model
ARM_VIDEO_CONTEXT = 23  # format/armmodel.VIDEO_CONTEXT: and the previous plane's 3x3 on video (format 1.6)


def tensor_dtype(bits: int) -> np.dtype:
    """Storage dtype of a quantized tensor with `bits` bits."""
    return np.dtype(np.int8 if bits <= 8 else np.int16 if bits <= 16 else np.float32)


def level_shapes(height: int, width: int, levels: int) -> list[tuple[int, int]]:
    """Grid size of each latent level: the native size halved, rounding up, once per level."""
    return [(math.ceil(height / 2**lv), math.ceil(width / 2**lv)) for lv in range(levels)]


def is_grid_arch(arch: dict) -> bool:
    """A latent-grid network (format 1.1): latents sampled at the coordinates feed a small SPDER."""
    return "grid_levels" in arch


def grid_level_shapes(arch: dict) -> list[tuple[int, ...]]:
    """The latent levels of a grid arch, finest first: (h, w), or (frames, h, w) for video (format 1.6), where
    the time axis halves with the others."""
    shapes: list[tuple[int, ...]] = list(level_shapes(int(arch["grid_height"]), int(arch["grid_width"]), int(arch["grid_levels"])))
    if "grid_frames" not in arch:
        return shapes
    frames = int(arch["grid_frames"])
    return [(math.ceil(frames / 2**lv), h, w) for lv, (h, w) in enumerate(shapes)]


def grid_latents(arch: dict) -> int:
    """Latents of all levels of a grid arch."""
    return sum(math.prod(shape) for shape in grid_level_shapes(arch))


def encoding_width(arch: dict) -> int:
    """Features entering the first layer (after any positional or Fourier encoding, or the latent levels)."""
    inp = int(arch["in_features"])
    if is_grid_arch(arch):  # one sample per level, 8 more around it on each stencil level
        levels = int(arch["grid_levels"])
        return levels + 8 * min(levels, int(arch.get("grid_stencil", 0)))
    if arch["activation"] == "relu-pe":
        return inp * (1 + 2 * int(arch.get("pe_frequencies", 10)))
    if arch["activation"] == "relu-ffn":
        return 2 * int(arch.get("ffn_features", 128))
    return inp


def expected_tensors(arch: dict) -> dict[str, list[int]] | None:
    """Name -> shape of every stored tensor of the network `arch` builds.

    None for the hash grid, whose table sizes depend on its level resolutions (format/limits.py
    then checks the declared size, and the decoder sizes the real module on torch's meta device).
    """
    act = arch["activation"]
    extras = set(arch) - {"activation", "damping", "in_features", "out_features", "width", "depth", "omega0", "first_omega0"}
    width, depth, out = int(arch["width"]), int(arch["depth"]), int(arch["out_features"])
    shapes: dict[str, list[int]] = {}
    if is_grid_arch(arch) and act == "spder" and extras <= GRID_EXTRAS:
        shapes["latents"] = [grid_latents(arch)]
        step = 1
    elif act in MLP_ACTIVATIONS and extras <= MLP_EXTRAS:
        if act == "relu-ffn":
            shapes["encoding.B"] = [int(arch.get("ffn_features", 128)), int(arch["in_features"])]
        step = 1 if act in ("spder", "siren") else 2  # relu nets interleave parameter-free ReLU modules
    else:
        return None
    fan_in = encoding_width(arch)
    for layer in range(depth + 1):
        shapes[f"net.{layer * step}.weight"] = [width, fan_in if layer == 0 else width]
        shapes[f"net.{layer * step}.bias"] = [width]
    shapes[f"net.{(depth + 1) * step}.weight"] = [out, width]
    shapes[f"net.{(depth + 1) * step}.bias"] = [out]
    if "arm_width" in arch:
        shapes.update(arm_tensors(int(arch["arm_width"]), int(arch["arm_depth"]), int(arch["grid_levels"]), arm_context(arch)))
    return shapes


def arm_context(arch: dict) -> int:
    """Inputs of a grid arch's entropy model: section 10's context, and on video the previous plane's (format 1.6)."""
    return ARM_VIDEO_CONTEXT if "grid_frames" in arch else ARM_CONTEXT


def arm_tensors(width: int, depth: int, levels: int, context: int = ARM_CONTEXT) -> dict[str, list[int]]:
    """Name -> shape of the entropy model's tensors (format 1.3, format/armmodel.py)."""
    dims = [context] + [width] * depth + [2]
    shapes = {}
    for k in range(depth + 1):
        shapes[f"arm.{k}.weight"] = [dims[k + 1], dims[k]]
        shapes[f"arm.{k}.bias"] = [dims[k + 1]]
    shapes["arm.level"] = [levels]
    return shapes


def network_params(shapes: dict[str, list[int]]) -> int:
    """Number of stored weights."""
    return sum(math.prod(shape) for shape in shapes.values())


def widest_layer(arch: dict) -> int:
    """Units of the widest activation the renderer holds per sample."""
    return max(int(arch["width"]), encoding_width(arch))
