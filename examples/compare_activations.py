"""SPDER against SIREN and ReLU baselines on the same photo, same network size and step budget.

    python examples/compare_activations.py [--size 64] [--steps 300]   (photos from scikit-image: pip install -e ".[bench]")
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image
from skimage import data

import inrcodec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    photo = np.asarray(Image.fromarray(data.camera()).resize((args.size, args.size), Image.Resampling.LANCZOS))
    print(f"camera {args.size}x{args.size}, width 64, depth 2, {args.steps} steps, 16-bit weights")
    print(f"{'activation':12s} {'PSNR dB':>8s} {'rho_AG':>8s} {'bytes':>7s}")
    for activation in ("spder", "siren", "relu-ffn", "relu-pe", "relu"):
        r = inrcodec.encode(photo, activation=activation, width=64, depth=2, steps=args.steps, bits=16, lr=1e-3)
        print(f"{activation:12s} {r.psnr_db:8.2f} {r.rho_ag:8.5f} {r.bytes:7d}")


if __name__ == "__main__":
    main()
