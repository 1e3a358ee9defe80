"""Decoding is bit-exact on the CPU whatever the thread count: same file, same bytes, in fresh processes.

MKL's GEMM splits reductions across threads unless its strict reproducibility mode is on
(MKL_CBWR=AUTO,STRICT, read at its first BLAS call). The `spdr` program sets it; the library sets
nothing on import, so a library user who needs thread-count independence sets it (README).
"""

from __future__ import annotations

import os
import subprocess
import sys

import torch

from inrcodec.format.container import pack
from inrcodec.nn.quantize import bit_plan, quantize_state
from inrcodec.nn.registry import build_model

CHILD = """
import hashlib, sys, torch
torch.set_num_threads(int(sys.argv[1]))
from inrcodec.api import decode
from inrcodec.codec.runtime import decode_samples
from inrcodec.format.limits import read_checked
print(torch.get_num_threads())
for path, h, w in zip(sys.argv[2::3], sys.argv[3::3], sys.argv[4::3]):
    data = open(path, "rb").read()
    floats, pixels = decode_samples(read_checked(data), (int(h), int(w)), clip=False), decode(data, size=(int(h), int(w)))
    print(hashlib.sha256(floats.tobytes()).hexdigest(), hashlib.sha256(pixels.tobytes()).hexdigest())
"""

NETWORKS = {  # arch, output size: wide layers and row counts that are not multiples of any block size
    "spder-512x2": ({"activation": "spder", "damping": "sqrt", "width": 512, "depth": 2}, (181, 211)),
    "relu-ffn-256x2": ({"activation": "relu-ffn", "damping": "none", "width": 256, "depth": 2, "ffn_features": 64,
                        "ffn_sigma": 10.0}, (97, 103)),
    "spder-16x2-many-rows": ({"activation": "spder", "damping": "sqrt", "width": 16, "depth": 2}, (263, 269)),
}


def spdr_file(path, arch: dict) -> None:
    torch.manual_seed(1)
    arch = {"in_features": 2, "out_features": 3, "omega0": 30.0, "first_omega0": 30.0, **arch}
    model = build_model(arch)
    tensors, quant = quantize_state(model, bit_plan(model, 8))
    header = {"modality": "image", "signal": {"height": 40, "width": 50, "channels": 3, "mode": "RGB", "bit_depth": 8},
              "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
              "values": {"offset": [0.0] * 3, "scale": [1.0] * 3}, "arch": arch, "quant": quant}
    path.write_bytes(pack(header, tensors))


def test_decode_is_identical_for_any_thread_count(tmp_path):
    args = []
    for name, (arch, (h, w)) in sorted(NETWORKS.items()):
        spdr_file(tmp_path / f"{name}.spdr", arch)
        args += [str(tmp_path / f"{name}.spdr"), str(h), str(w)]
    results = {}
    for threads in (1, 2, 3):
        out = subprocess.run([sys.executable, "-c", CHILD, str(threads), *args], capture_output=True, text=True, timeout=300,
                             env={**os.environ, "MKL_CBWR": "AUTO,STRICT"})
        assert out.returncode == 0, out.stderr
        got_threads, *hashes = out.stdout.splitlines()
        assert int(got_threads) == threads and len(hashes) == len(NETWORKS)
        results[threads] = hashes
    for i, name in enumerate(sorted(NETWORKS)):
        assert len({r[i] for r in results.values()}) == 1, (name, {t: r[i] for t, r in results.items()})


def test_the_spdr_program_sets_strict_mode_itself(tmp_path):
    """`spdr decode` with 1 and 3 threads (OMP_NUM_THREADS), MKL_CBWR not set by the caller: same PNG bytes."""
    name = "spder-512x2"
    arch, (h, w) = NETWORKS[name]
    spdr_file(tmp_path / f"{name}.spdr", arch)
    env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"}
    outputs = []
    for threads in (1, 3):
        out = tmp_path / f"t{threads}.png"
        r = subprocess.run([sys.executable, "-m", "inrcodec", "decode", str(tmp_path / f"{name}.spdr"), "--size", f"{w}x{h}",
                            "-o", str(out)], capture_output=True, text=True, timeout=300, env={**env, "OMP_NUM_THREADS": str(threads)})
        assert r.returncode == 0, r.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
