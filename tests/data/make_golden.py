"""Regenerate the byte-exact reference files: tests/data/golden_v1.spdr (format 1.0),
tests/data/golden_v1_1.spdr (format 1.1: latent grid, compressed header, range-coded payload),
tests/data/golden_v1_2.spdr (format 1.2: timestamps), tests/data/golden_v1_3.spdr (format 1.3: latents
coded under the file's own integer entropy model), tests/data/golden_v1_4.spdr (format 1.4: segments) and
tests/data/golden_v1_5.spdr (format 1.5: a latent grid on audio), tests/data/golden_v1_6.spdr (format 1.6: a latent grid
on video) and tests/data/golden_v1_7.spdr (format 1.7: an image as horizontal bands); golden_v1_8 to golden_v1_10 (formats
1.8 to 1.10: latents in more passes a level or plane) are earlier goldens' integers in another coding order.

Run `python tests/data/make_golden.py` (or `SPDR_REGENERATE_GOLDEN=1 pytest tests/test_golden.py`).
Everything here is fixed, so the output only changes if the format or its libraries change.
"""

from __future__ import annotations

import copy
import os
import sys
from pathlib import Path

import numpy as np

GOLDEN_PATH = Path(__file__).with_name("golden_v1.spdr")
GOLDEN_V1_1_PATH = Path(__file__).with_name("golden_v1_1.spdr")

# name -> (shape, int8 values row-major); a 2 -> 4 -> 4 -> 1 SPDER network.
_LAYERS: dict[str, tuple[list[int], list[int]]] = {
    "net.0.weight": ([4, 2], [12, -45, 127, 3, -127, 64, 0, -9]),
    "net.0.bias": ([4], [5, -100, 77, 1]),
    "net.1.weight": ([4, 4], [1, -2, 3, -4, 50, 60, -70, 80, 127, -127, 0, 0, 9, 18, -27, 36]),
    "net.1.bias": ([4], [-1, 2, -3, 4]),
    "net.2.weight": ([1, 4], [100, -50, 25, -12]),
    "net.2.bias": ([1], [42]),
}
# Per-channel scales, one per output row: exact binary fractions so they survive any float path.
_SCALES: dict[str, list[float]] = {
    "net.0.weight": [0.0078125, 0.015625, 0.00390625, 0.03125],
    "net.0.bias": [0.5, 0.25, 0.125, 0.0625],
    "net.1.weight": [0.001953125, 0.0078125, 0.015625, 0.00390625],
    "net.1.bias": [0.0625, 0.125, 0.25, 0.5],
    "net.2.weight": [0.0078125],
    "net.2.bias": [0.001953125],
}


def build_golden() -> tuple[dict, dict[str, np.ndarray]]:
    """Return the (header, tensors) pair that golden_v1.spdr encodes."""
    header = {
        "modality": "image",
        "signal": {"height": 3, "width": 5, "channels": 1, "mode": "L", "bit_depth": 8},
        "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
        "values": {"offset": [0.0], "scale": [1.0]},
        "arch": {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 1,
                 "width": 4, "depth": 1, "omega0": 30.0, "first_omega0": 30.0},
        "quant": {"scheme": "per-channel-symmetric", "tensors": {
            name: {"bits": 8, "shape": shape, "scale_shape": [shape[0]]}
            for name, (shape, _) in _LAYERS.items()}},
        "encoder": {"tool": "tests/data/make_golden.py", "steps": 0, "seed": 0},
    }
    tensors: dict[str, np.ndarray] = {}
    for name, (shape, values) in _LAYERS.items():
        tensors[name] = np.array(values, dtype=np.int8).reshape(shape)
        tensors[f"{name}.scale"] = np.array(_SCALES[name], dtype=np.float32)
    return header, tensors


def golden_bytes() -> bytes:
    """The golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack

    return pack(*build_golden())


# Format 1.1: a 6 x 5 grey image as a latent-grid SPDER, 3 levels (6x5, 3x3, 2x2 = 43 latents), width 4,
# depth 0 (net.0: 3 -> 4, net.1: 4 -> 1). Latents are mostly zero with small values, as trained ones are.
_V1_1_LATENTS = [
    0, 0, 1, 0, -1,
    0, 2, 0, 0, 0,
    -3, 0, 0, 1, 0,
    0, 0, 0, 0, 5,
    1, -1, 0, 0, 0,
    0, 0, 4, 0, -2,  # level 0 (6 x 5)
    7, 0, -4,
    0, 0, 0,
    2, -1, 0,  # level 1 (3 x 3)
    12, -9,
    -6, 3,  # level 2 (2 x 2)
]
_V1_1_LAYERS: dict[str, tuple[list[int], int, list[int], list[float]]] = {
    # name -> (shape, bits, values row-major, scales)
    "latents": ([43], 8, _V1_1_LATENTS, [0.125]),
    "net.0.weight": ([4, 3], 8, [127, -64, 32, -127, 90, 0, 45, 127, -30, 0, -77, 127], [0.0078125, 0.015625, 0.0078125, 0.00390625]),
    "net.0.bias": ([4], 16, [1000, -32767, 12345, 0], [3.0517578125e-05]),
    "net.1.weight": ([1, 4], 8, [100, -127, 64, 81], [0.00390625]),
    "net.1.bias": ([1], 16, [-2048], [6.103515625e-05]),
}
# What inrcodec.decode(golden_v1_1.spdr) renders at the native 6 x 5 (uint8, grey): tests/test_golden.py.
V1_1_PIXELS: list[list[int]] = [
    [141, 147, 191, 183, 176],
    [146, 199, 173, 179, 182],
    [116, 167, 172, 190, 176],
    [168, 171, 174, 173, 223],
    [170, 139, 178, 177, 175],
    [144, 159, 217, 178, 137],
]


Layers = dict[str, tuple[list[int], int, list[int], list[float]]]  # name -> (shape, bits, values row-major, scales)


def layer_specs(layers: Layers) -> dict:
    """The header's quant.tensors entries of a golden file's layers."""
    return {name: {"bits": bits, "shape": shape, "scale_shape": [len(scales)]} for name, (shape, bits, _, scales) in layers.items()}


def layer_tensors(layers: Layers) -> dict[str, np.ndarray]:
    """The stored integers (int8 up to 8 bits, else int16) and float32 scales of a golden file's layers."""
    tensors: dict[str, np.ndarray] = {}
    for name, (shape, bits, values, scales) in layers.items():
        tensors[name] = np.array(values, dtype=np.int8 if bits <= 8 else np.int16).reshape(shape)
        tensors[f"{name}.scale"] = np.array(scales, dtype=np.float32)
    return tensors


def build_golden_v1_1() -> tuple[dict, dict[str, np.ndarray]]:
    """Return the (header, tensors) pair that golden_v1_1.spdr encodes."""
    header = {
        "modality": "image",
        "signal": {"height": 6, "width": 5, "channels": 1, "mode": "L", "bit_depth": 8},
        "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
        "values": {"offset": [0.0], "scale": [1.0]},
        "arch": {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 1, "width": 4, "depth": 0,
                 "omega0": 1.0, "first_omega0": 1.0, "grid_levels": 3, "grid_height": 6, "grid_width": 5},
        "quant": {"scheme": "per-channel-symmetric", "coding": "rc", "tensors": layer_specs(_V1_1_LAYERS)},
        "encoder": {"tool": "tests/data/make_golden.py", "steps": 0, "seed": 0},
    }
    return header, layer_tensors(_V1_1_LAYERS)


def golden_v1_1_bytes() -> bytes:
    """The 1.1 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack

    return pack(*build_golden_v1_1())


# Format 1.2: 6 samples of mono audio at 8 kHz whose time axis uses timestamps (sample k at -1 + 2k/6, times
# 100): an atan SPDER 1 -> 4 -> 4 -> 1, 8-bit rows, 16-bit biases, exact binary-fraction scales.
GOLDEN_V1_2_PATH = Path(__file__).with_name("golden_v1_2.spdr")
_V1_2_LAYERS: dict[str, tuple[list[int], int, list[int], list[float]]] = {
    "net.0.weight": ([4, 1], 8, [64, -127, 20, 100], [0.0001220703125] * 4),
    "net.0.bias": ([4], 16, [1000, -2000, 3000, 0], [3.0517578125e-05]),
    "net.1.weight": ([4, 4], 8, [50, -60, 70, -80, 127, 0, -127, 30, 1, 2, 3, 4, -90, 45, 0, 127], [0.0078125] * 4),
    "net.1.bias": ([4], 16, [-500, 250, 0, 125], [3.0517578125e-05]),
    "net.2.weight": ([1, 4], 8, [127, -100, 64, -32], [0.00390625]),
    "net.2.bias": ([1], 16, [300], [3.0517578125e-05]),
}


# What inrcodec.decode(golden_v1_2.spdr) renders (float32, clipped to the stored amplitude 0.5), and at twice the rate.
V1_2_SAMPLES = [0.12179891765117645, -0.1018432155251503, 0.42956095933914185, 0.20533417165279388, 0.5, 0.21520917117595673]
V1_2_SAMPLES_X2 = [0.12179891765117645, 0.1640421450138092, -0.1018432155251503, -0.29079514741897583, 0.42956095933914185,
                   -0.374490350484848, 0.20533417165279388, -0.2640829384326935, 0.5, -0.14383399486541748, 0.21520917117595673,
                   -0.4424862265586853]


def build_golden_v1_2() -> tuple[dict, dict[str, np.ndarray]]:
    """Return the (header, tensors) pair that golden_v1_2.spdr encodes."""
    header = {
        "modality": "audio",
        "signal": {"samples": 6, "channels": 1, "sample_rate": 8000, "subtype": "PCM_16"},
        "coords": {"convention": "timestamp", "axes": ["t"], "scale": [100.0]},
        "values": {"offset": [0.0], "scale": [0.5]},
        "arch": {"activation": "spder", "damping": "atan", "in_features": 1, "out_features": 1, "width": 4, "depth": 1,
                 "omega0": 30.0, "first_omega0": 30.0},
        "quant": {"scheme": "per-channel-symmetric", "tensors": layer_specs(_V1_2_LAYERS)},
        "encoder": {"tool": "tests/data/make_golden.py", "steps": 0, "seed": 0},
    }
    return header, layer_tensors(_V1_2_LAYERS)


def golden_v1_2_bytes() -> bytes:
    """The 1.2 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack

    return pack(*build_golden_v1_2())


# Format 1.3: the 1.1 golden's 6 x 5 latent grid and synthesis network, its latents coded under the file's own
# entropy model (docs/format.md section 10): an ARM 14 -> 3 -> 2 (arm_width 3, arm_depth 1) with 8-bit weights and
# 16-bit biases over power-of-two scales, and a 16-bit log2-scale bias per level. Written without training: every
# integer is listed here. The weights are chosen so that both the mean and the scale depend on the context.
GOLDEN_V1_3_PATH = Path(__file__).with_name("golden_v1_3.spdr")
_V1_3_ARM: dict[str, tuple[list[int], int, list[int], list[float]]] = {
    # arm.0: 14 context inputs (9 coarser-level latents, up, left, right, down, pass) -> 3 ReLU units; scale 2^-6
    "arm.0.weight": ([3, 14], 8, [16, 8, 16, 8, 64, 8, 16, 8, 16, 32, 32, 32, 32, 0,
                                  -16, -8, -16, -8, -64, -8, -16, -8, -16, -32, -32, -32, -32, 0,
                                  4, 4, 4, 4, 4, 4, 4, 4, 4, 20, 20, 20, 20, -64],
                     [0.015625]),
    "arm.0.bias": ([3], 16, [0, 0, 256], [0.0078125]),  # scale 2^-7 (sb <= sw + 8)
    # arm.1: 3 -> (mean, log2 scale); scale 2^-5
    "arm.1.weight": ([2, 3], 8, [24, -24, 0, 0, 0, 40], [0.03125]),
    "arm.1.bias": ([2], 16, [0, -300], [0.0009765625]),  # scale 2^-10
    "arm.level": ([3], 16, [-128, 96, 320], [1.0]),  # log2-scale bias per level, 8 fractional bits
}
_V1_3_LAYERS = {**_V1_1_LAYERS, **_V1_3_ARM}
# What inrcodec.decode(golden_v1_3.spdr) renders (uint8, grey) at the native 6 x 5 (the 1.1 golden's pixels: the same
# latents and network, coded differently), and the SHA-256 of its 12 x 10 uint8 render with scale=2 and
# resample="network", with a few of those pixels: tests/test_golden.py.
V1_3_PIXELS = V1_1_PIXELS
V1_3_X2_SHA256 = "f9a2c769c794681633f52631ceee464c1dc0ecbe8538c9d3287d9cd5be514d6a"


def build_golden_v1_3() -> tuple[dict, dict[str, np.ndarray]]:
    """Return the (header, tensors) pair that golden_v1_3.spdr encodes."""
    header, _ = build_golden_v1_1()
    header["arch"].update(arm_width=3, arm_depth=1)
    header["quant"] = {"scheme": "per-channel-symmetric", "coding": "arm", "tensors": layer_specs(_V1_3_LAYERS)}
    return header, layer_tensors(_V1_3_LAYERS)


def golden_v1_3_bytes() -> bytes:
    """The 1.3 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack

    return pack(*build_golden_v1_3())


# Format 1.8: the 1.3 golden's latents, synthesis and entropy model, its latents coded in three passes a level
# (arch.arm_passes 3, docs/format.md section 15): row and column even, then row and column odd reading their four
# diagonal neighbours, then the rest. The same integers, so the same pixels as 1.3; a different stream.
GOLDEN_V1_8_PATH = Path(__file__).with_name("golden_v1_8.spdr")


def build_golden_v1_8() -> tuple[dict, dict[str, np.ndarray]]:
    """Return the (header, tensors) pair that golden_v1_8.spdr encodes."""
    header, tensors = build_golden_v1_3()
    header["arch"]["arm_passes"] = 3
    return header, tensors


def golden_v1_8_bytes() -> bytes:
    """The 1.8 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack

    return pack(*build_golden_v1_8())


# Format 1.9: the same integers again, coded in seven passes a level (arch.arm_passes 7, docs/format.md section 16):
# 1.8's three passes on the lattice of stride 4 (its first pass: row and column multiples of 8), then of stride 2,
# then 1. The same pixels as 1.3 and 1.8; another stream.
GOLDEN_V1_9_PATH = Path(__file__).with_name("golden_v1_9.spdr")


def build_golden_v1_9() -> tuple[dict, dict[str, np.ndarray]]:
    """Return the (header, tensors) pair that golden_v1_9.spdr encodes."""
    header, tensors = build_golden_v1_3()
    header["arch"]["arm_passes"] = 7
    return header, tensors


def golden_v1_9_bytes() -> bytes:
    """The 1.9 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack

    return pack(*build_golden_v1_9())


# Format 1.4: a segmented audio file (docs/format.md section 11): the 1.2 golden file as its first segment (6
# samples) and, as its second, the same network at half the amplitude over 4 samples. Its samples decoded at the
# native rate are the two segments' own, one after the other.
GOLDEN_V1_4_PATH = Path(__file__).with_name("golden_v1_4.spdr")
V1_4_SECOND_SAMPLES = [0.060899458825588226, -0.14539757370948792, 0.10266708582639694, -0.07191699743270874]


def build_golden_v1_4() -> tuple[dict, list[bytes]]:
    """Return the (segment table header, segment files) pair that golden_v1_4.spdr holds."""
    from inrcodec.format.container import pack

    first_header, tensors = build_golden_v1_2()
    second_header = copy.deepcopy(first_header)
    second_header["signal"]["samples"] = 4
    second_header["values"]["scale"] = [0.25]
    parts = [pack(first_header, tensors), pack(second_header, tensors)]
    header = {"modality": "audio", "signal": {"samples": 10, "channels": 1, "sample_rate": 8000, "subtype": "PCM_16"},
              "segments": [[6, len(parts[0])], [4, len(parts[1])]], "encoder": {"tool": "tests/data/make_golden.py"}}
    return header, parts


def golden_v1_4_bytes() -> bytes:
    """The 1.4 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack_segmented

    return pack_segmented(*build_golden_v1_4())


# Format 1.5: 12 samples of stereo audio at 8 kHz on a one-row latent grid (docs/format.md section 12): 3 levels of
# 12, 6 and 3 latents (21), a SPDER 3 -> 4 -> 4 -> 2 (width 4, depth 1), timestamps with coords.scale 1, and the 1.3
# golden's ARM (its 3 levels, arm_width 3, arm_depth 1) coding the latents. Every integer is listed here.
GOLDEN_V1_5_PATH = Path(__file__).with_name("golden_v1_5.spdr")
_V1_5_LATENTS = [0, 3, -2, 0, 1, 0, 0, -5, 4, 0, 0, 2,  # level 0 (12)
                 6, -1, 0, 0, 2, -3,  # level 1 (6)
                 -8, 5, 1]  # level 2 (3)
_V1_5_LAYERS: dict[str, tuple[list[int], int, list[int], list[float]]] = {
    "latents": ([21], 8, _V1_5_LATENTS, [0.125]),
    "net.0.weight": ([4, 3], 8, [127, -64, 32, -127, 90, 0, 45, 127, -30, 0, -77, 127], [0.0078125, 0.015625, 0.0078125, 0.00390625]),
    "net.0.bias": ([4], 16, [1000, -32767, 12345, 0], [3.0517578125e-05]),
    "net.1.weight": ([4, 4], 8, [50, -60, 70, -80, 127, 0, -127, 30, 1, 2, 3, 4, -90, 45, 0, 127], [0.0078125] * 4),
    "net.1.bias": ([4], 16, [-500, 250, 0, 125], [3.0517578125e-05]),
    "net.2.weight": ([2, 4], 8, [100, -127, 64, 81, -40, 90, 127, -12], [0.00390625, 0.0078125]),
    "net.2.bias": ([2], 16, [-2048, 1024], [6.103515625e-05]),
    **_V1_3_ARM,
}
# What inrcodec.decode(golden_v1_5.spdr) renders (float32 (12, 2), clipped to the stored amplitude 0.5): tests/test_golden.py.
V1_5_SAMPLES: list[list[float]] = [
    [0.3600696921348572, -0.5],
    [0.308193564414978, -0.4708911180496216],
    [0.12054817378520966, -0.21088288724422455],
    [0.011623866856098175, -0.06554282456636429],
    [0.0045788586139678955, -0.05386333167552948],
    [-0.024847008287906647, -0.010525286197662354],
    [-0.031259141862392426, -0.0009982995688915253],
    [0.0015489384531974792, -0.03225827217102051],
    [0.031764060258865356, -0.09249532222747803],
    [0.008875049650669098, -0.05394132435321808],
    [-0.030880697071552277, -0.012578792870044708],
    [-0.0812690407037735, 0.039642706513404846],
]


def build_golden_v1_5() -> tuple[dict, dict[str, np.ndarray]]:
    """Return the (header, tensors) pair that golden_v1_5.spdr encodes."""
    header = {
        "modality": "audio",
        "signal": {"samples": 12, "channels": 2, "sample_rate": 8000, "subtype": "PCM_16"},
        "coords": {"convention": "timestamp", "axes": ["t"], "scale": [1.0]},
        "values": {"offset": [0.0, 0.0], "scale": [0.5, 0.5]},
        "arch": {"activation": "spder", "damping": "sqrt", "in_features": 1, "out_features": 2, "width": 4, "depth": 1,
                 "omega0": 1.0, "first_omega0": 1.0, "grid_levels": 3, "grid_height": 1, "grid_width": 12,
                 "arm_width": 3, "arm_depth": 1},
        "quant": {"scheme": "per-channel-symmetric", "coding": "arm", "tensors": layer_specs(_V1_5_LAYERS)},
        "encoder": {"tool": "tests/data/make_golden.py", "steps": 0, "seed": 0},
    }
    return header, layer_tensors(_V1_5_LAYERS)


def golden_v1_5_bytes() -> bytes:
    """The 1.5 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack

    return pack(*build_golden_v1_5())


# Format 1.6: 4 frames of 3 x 2 RGB video at 25 fps on a (t, y, x) latent pyramid (docs/format.md section 13): 3
# levels of 4 x 3 x 2, 2 x 2 x 1 and 1 x 1 x 1 latents (29), a SPDER 3 -> 4 -> 4 -> 3 (width 4, depth 1), timestamps
# with coords.scale 1, grid_frames 4, and the 1.3 golden's ARM (3 levels) with 9 more inputs (the previous plane's
# 3x3) coding the latents plane by plane.
GOLDEN_V1_6_PATH = Path(__file__).with_name("golden_v1_6.spdr")
_V1_6_LATENTS = [0, 3, -2, 0, 1, 0,  0, -5, 4, 0, 0, 2,  6, -1, 0, 0, 2, -3,  -4, 1, 0, 7, -1, 0,  # level 0: 4 planes of 3 x 2
                 5, -2, 0, 3,  # level 1: 2 planes of 2 x 1
                 -8]  # level 2
# The ARM reads 23 inputs on video: the 1.3 golden's first layer with 9 more columns for the previous plane's 3x3.
_V1_6_ARM_0 = [row + extra for row, extra in zip(
    [_V1_3_ARM["arm.0.weight"][2][14 * k:14 * (k + 1)] for k in range(3)],
    [[4, 8, 4, 8, 48, 8, 4, 8, 4], [-4, -8, -4, -8, -48, -8, -4, -8, -4], [6, 6, 6, 6, 24, 6, 6, 6, 6]], strict=True)]
_V1_6_LAYERS: dict[str, tuple[list[int], int, list[int], list[float]]] = {
    **_V1_5_LAYERS,
    "arm.0.weight": ([3, 23], 8, [v for row in _V1_6_ARM_0 for v in row], [0.015625]),
    "latents": ([29], 8, _V1_6_LATENTS, [0.125]),
    "net.2.weight": ([3, 4], 8, [100, -127, 64, 81, -40, 90, 127, -12, 33, 0, -70, 110], [0.00390625, 0.0078125, 0.0078125]),
    "net.2.bias": ([3], 16, [-2048, 1024, 0], [6.103515625e-05]),
}
# What inrcodec.decode(golden_v1_6.spdr) renders (uint8 (4, 3, 2, 3)) and its SHA-256: tests/test_golden.py.
V1_6_FRAMES_SHA256 = "31304d50993cf5a18344b67ee5829f1e54fab3b302df676742f20b0292967478"
V1_6_FIRST_FRAME = [[[214, 3, 132], [212, 1, 101]], [[178, 48, 130], [176, 49, 115]], [[136, 98, 92], [134, 101, 96]]]


def build_golden_v1_6() -> tuple[dict, dict[str, np.ndarray]]:
    """Return the (header, tensors) pair that golden_v1_6.spdr encodes."""
    header = {
        "modality": "video",
        "signal": {"frames": 4, "height": 3, "width": 2, "channels": 3, "fps": [25, 1]},
        "coords": {"convention": "timestamp", "axes": ["t", "y", "x"], "scale": [1.0, 1.0, 1.0]},
        "values": {"offset": [0.0, 0.0, 0.0], "scale": [1.0, 1.0, 1.0]},
        "arch": {"activation": "spder", "damping": "sqrt", "in_features": 3, "out_features": 3, "width": 4, "depth": 1,
                 "omega0": 1.0, "first_omega0": 1.0, "grid_levels": 3, "grid_frames": 4, "grid_height": 3, "grid_width": 2,
                 "arm_width": 3, "arm_depth": 1},
        "quant": {"scheme": "per-channel-symmetric", "coding": "arm", "tensors": layer_specs(_V1_6_LAYERS)},
        "encoder": {"tool": "tests/data/make_golden.py", "steps": 0, "seed": 0},
    }
    return header, layer_tensors(_V1_6_LAYERS)


def golden_v1_6_bytes() -> bytes:
    """The 1.6 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack

    return pack(*build_golden_v1_6())


# Format 1.10: the 1.6 golden's video pyramid, every plane coded in seven passes (arch.arm_passes 7, docs/format.md
# section 17; 1.6 coded a plane as a checkerboard). Its planes are 3 x 2, 2 x 1 and 1 x 1, so of the seven passes
# only those with a position are walked. The same integers, so the same frames as 1.6; another stream.
GOLDEN_V1_10_PATH = Path(__file__).with_name("golden_v1_10.spdr")


def build_golden_v1_10() -> tuple[dict, dict[str, np.ndarray]]:
    """Return the (header, tensors) pair that golden_v1_10.spdr encodes."""
    header, tensors = build_golden_v1_6()
    header["arch"]["arm_passes"] = 7
    return header, tensors


def golden_v1_10_bytes() -> bytes:
    """The 1.10 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack

    return pack(*build_golden_v1_10())


# Format 1.7: a 7 x 4 RGB image as three horizontal bands of 2, 3 and 2 rows (docs/format.md section 14), each an
# ordinary 1.0 file: a SPDER 2 -> 4 -> 4 -> 3 (the 1.0 golden's first two layers and a three-channel last layer), the
# bands differing in their last biases and their y coordinate scales. Every integer is listed here.
GOLDEN_V1_7_PATH = Path(__file__).with_name("golden_v1_7.spdr")
V1_7_ROWS = (2, 3, 2)
_V1_7_BANDS = [([40, -30, 0], 1.0), ([-20, 60, 10], 0.5), ([0, 0, -70], 2.0)]  # per band: net.2.bias integers, coords.scale y
_V1_7_LAYERS: Layers = {
    **{name: (shape, 8, values, _SCALES[name]) for name, (shape, values) in _LAYERS.items() if not name.startswith("net.2")},
    "net.2.weight": ([3, 4], 8, [100, -50, 25, -12, -127, 64, 33, 90, 7, 120, -80, -45], [0.0078125, 0.00390625, 0.0078125]),
}
# What inrcodec.decode(golden_v1_7.spdr) renders (uint8 (7, 4, 3)): the SHA-256 of that, of its 14 x 8 render with
# scale=2 and resample="network", and its first row: tests/test_golden.py.
V1_7_PIXELS_SHA256 = "241b6cfe8e07d53bae771bce35b9ac89392636b614964619777b90913f77449b"
V1_7_X2_SHA256 = "b50d446be488aa7a4fbd79eca90284381bc61da9ffb56d0261b155a1371c9a0a"
V1_7_FIRST_ROW = [[75, 182, 255], [158, 233, 9], [122, 213, 121], [55, 121, 255]]


def build_golden_v1_7_bands() -> list[tuple[dict, dict[str, np.ndarray]]]:
    """The (header, tensors) pair of each band of golden_v1_7.spdr, top to bottom."""
    bands = []
    for rows, (bias, y_scale) in zip(V1_7_ROWS, _V1_7_BANDS, strict=True):
        layers = {**_V1_7_LAYERS, "net.2.bias": ([3], 8, bias, [0.0078125] * 3)}
        header = {
            "modality": "image",
            "signal": {"height": rows, "width": 4, "channels": 3, "mode": "RGB", "bit_depth": 8},
            "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [y_scale, 1.0]},
            "values": {"offset": [0.0, 0.0, 0.0], "scale": [1.0, 1.0, 1.0]},
            "arch": {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 3, "width": 4, "depth": 1,
                     "omega0": 1.0, "first_omega0": 3.0},
            "quant": {"scheme": "per-channel-symmetric", "tensors": layer_specs(layers)},
            "encoder": {"tool": "tests/data/make_golden.py", "steps": 0, "seed": 0},
        }
        bands.append((header, layer_tensors(layers)))
    return bands


def build_golden_v1_7() -> tuple[dict, list[bytes]]:
    """Return the (band table header, band files) pair that golden_v1_7.spdr holds."""
    from inrcodec.format.container import pack

    parts = [pack(*band) for band in build_golden_v1_7_bands()]
    header = {"modality": "image", "signal": {"height": sum(V1_7_ROWS), "width": 4, "channels": 3, "mode": "RGB", "bit_depth": 8},
              "segments": [[rows, len(part)] for rows, part in zip(V1_7_ROWS, parts, strict=True)],
              "encoder": {"tool": "tests/data/make_golden.py"}}
    return header, parts


def golden_v1_7_bytes() -> bytes:
    """The 1.7 golden file as this checkout's writer produces it."""
    from inrcodec.format.container import pack_segmented

    return pack_segmented(*build_golden_v1_7())


def main() -> None:
    """Write tests/data/golden_v1.spdr and golden_v1_1.spdr .. golden_v1_10.spdr."""
    sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[2]))
    for path, data in ((GOLDEN_PATH, golden_bytes()), (GOLDEN_V1_1_PATH, golden_v1_1_bytes()), (GOLDEN_V1_2_PATH, golden_v1_2_bytes()),
                       (GOLDEN_V1_3_PATH, golden_v1_3_bytes()), (GOLDEN_V1_4_PATH, golden_v1_4_bytes()),
                       (GOLDEN_V1_5_PATH, golden_v1_5_bytes()), (GOLDEN_V1_6_PATH, golden_v1_6_bytes()),
                       (GOLDEN_V1_7_PATH, golden_v1_7_bytes()), (GOLDEN_V1_8_PATH, golden_v1_8_bytes()),
                       (GOLDEN_V1_9_PATH, golden_v1_9_bytes()), (GOLDEN_V1_10_PATH, golden_v1_10_bytes())):
        path.write_bytes(data)
        print(f"wrote {path} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
