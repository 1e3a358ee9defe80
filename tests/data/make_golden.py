"""Regenerate tests/data/golden_v1.spdr, the byte-exact reference file of .spdr format 1.0.

Run `python tests/data/make_golden.py` (or `SPDR_REGENERATE_GOLDEN=1 pytest tests/test_golden.py`).
Everything here is fixed, so the output only changes if the format or its libraries change.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

GOLDEN_PATH = Path(__file__).with_name("golden_v1.spdr")

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


def main() -> None:
    """Write tests/data/golden_v1.spdr."""
    sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[2]))
    data = golden_bytes()
    GOLDEN_PATH.write_bytes(data)
    print(f"wrote {GOLDEN_PATH} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
