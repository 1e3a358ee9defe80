"""Probe of the image engine's levers: one fixed-lambda fit of a photo, one line out.

Prints training PSNR, steps, milliseconds per step, the written file's bytes and bpp, the entropy
model's estimate, the PSNR decoded from those bytes, and JPEG's and WebP's best PSNR at no more bytes
(Pillow), then the provenance. Exploratory: the lever figures quoted in rate/plan.py came from it, on
the tuning photo coffee. The comparison that counts is `spdr bench rd` on the evaluation photos.

    python benchmarks/engine_probe.py --photo coffee --steps 600 --lr 0.1 --lam 1e-3 [--stencil 1]

`--quality Q` takes lambda from the quality scale instead of --lam. `--netstep 1` packs the same fit twice: with
the 8-bit max-covering synthesis step and with the step rate/netstep.py chooses, and prints both.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch
from _provenance import provenance

from inrcodec.bench._rdanchors import at_size, pillow_curve
from inrcodec.bench.rd import load_rgb
from inrcodec.codec.runtime import decode_samples
from inrcodec.format.limits import read_checked
from inrcodec.nn.coords import grid_coords
from inrcodec.nn.latentgrid import LatentGridSPDER, default_levels
from inrcodec.rate.bpp import pack_model
from inrcodec.rate.netstep import choose_coarsening
from inrcodec.rate.plan import RateOptions, RatePlan, grid_arch
from inrcodec.rate.quality import TEMPERATURE, quality_lambda
from inrcodec.signal import Signal
from inrcodec.train.rdfit import RDFitOptions, fit_rd


def arguments() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, kind, default in (("photo", str, "coffee"), ("longest", int, 512), ("lam", float, 1e-3), ("steps", int, 600),
                                ("width", int, 16), ("depth", int, 1), ("arm", int, 16), ("armdepth", int, 2),
                                ("lr", float, 1e-2), ("lrnet", float, 5e-3), ("noise", float, 0.8), ("soft", int, 1),
                                ("stencil", int, 0), ("threads", int, 2), ("double", int, 0), ("gauss", str, ""),
                                ("tstart", float, TEMPERATURE[0]), ("quality", float, -1.0), ("netstep", int, 0),
                                ("tend", float, TEMPERATURE[1]), ("passes", int, RateOptions().arm_passes)):
        ap.add_argument(f"--{name}", type=kind, default=default)
    return ap.parse_args()


def best_at(pixels: np.ndarray, codec: str, nbytes: int) -> float:
    """The best PSNR of `codec` (Pillow) whose file is no larger than nbytes."""
    point = at_size(pillow_curve(pixels, codec), nbytes)
    return float("nan") if point is None else point["psnr_db"]


def main() -> None:
    a = arguments()
    if a.quality >= 0:
        a.lam = quality_lambda(a.quality)
    torch.set_num_threads(a.threads)
    px = load_rgb(a.photo, a.longest)
    h, w = px.shape[:2]
    data = (px.astype(np.float32) / 127.5 - 1).reshape(h, w, 3)
    sig = Signal("image", data, {"height": h, "width": w, "channels": 3, "mode": "RGB", "bit_depth": 8})
    plan = RatePlan(10**9, a.width, a.depth, default_levels(h, w), a.steps, arm_width=a.arm, arm_depth=a.armdepth)
    torch.manual_seed(0)
    model = LatentGridSPDER(grid_arch(plan, h, w, 3, "sqrt", RateOptions(stencil=a.stencil, arm_passes=a.passes)))
    opts = RDFitOptions(steps=a.steps, lr_latents=a.lr, lr_net=a.lrnet, lam=a.lam, noise_fraction=a.noise, soft=bool(a.soft),
                        double_soft=bool(a.double), temperature=(a.tstart, a.tend),
                        noise_std=tuple(map(float, a.gauss.split(","))) if a.gauss else None)
    start = time.perf_counter()
    coords, values = grid_coords((h, w)), torch.from_numpy(data.reshape(-1, 3))
    res = fit_rd(model, coords, values, opts)
    fit_s = time.perf_counter() - start
    steps = [1.0]
    if a.netstep:
        coarsen, _ = choose_coarsening(model, coords, values, a.lam, plan)
        steps.append(coarsen)
    for coarsen in steps:
        blob = pack_model(sig, model, plan, res.steps, None, coarsen=coarsen)
        with torch.no_grad():
            decoded = decode_samples(read_checked(blob))
        out = np.clip(np.round((decoded.reshape(h, w, 3) + 1) * 127.5), 0, 255)
        psnr = 10 * np.log10(255**2 / np.mean((out - px) ** 2))
        print(f"{a.photo} {w}x{h} lam={a.lam:g} lr={a.lr:g} net={a.width}x{a.depth} arm={a.arm}x{a.armdepth} stencil={a.stencil} "
              f"passes={a.passes} noise={a.noise:g} double={a.double} gauss={a.gauss or '-'} T={a.tstart:g}..{a.tend:g} steps={res.steps} "
              f"step x{coarsen:g}: train={10 * np.log10(4 / res.mse):.2f} dB, {1000 * fit_s / res.steps:.0f} ms/step, {len(blob)} bytes "
              f"({8 * len(blob) / (h * w):.3f} bpp, estimate {res.latent_bits / 8:.0f} B of latents), decoded {psnr:.2f} dB; "
              f"at no more bytes JPEG {best_at(px, 'jpeg', len(blob)):.2f}, WebP {best_at(px, 'webp', len(blob)):.2f} dB", flush=True)
    print(json.dumps(provenance(seed=0)))


if __name__ == "__main__":
    main()
