"""Task `superres`: the paper's Table 3. Fit at a base size, render 2x/4x/8x, compare with the real photo.

The reference at each scale is the same photo area-averaged (Pillow BOX) from its full resolution,
so the base image and every reference come from one source; scales the source is too small for
are skipped. The networks render a finer pixel-centre grid over the same extent; the baselines are
what a user would reach for instead: Pillow's bicubic and Lanczos upscaling of the same base image.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ..metrics import mse, psnr, rho_ag
from ..nn.coords import grid_coords
from ..nn.device import pick_device
from . import register
from ._archs import LABELS, NetSpec, make
from ._core import BenchOptions, TaskOutput, fit_recording, predict
from ._data import input_name, load_pil, square_crop, to_unit
from ._report import figure_png, mean_std, pyplot, table

DEFAULT_INPUTS = ("camera", "astronaut", "immunohistochemistry", "hubble_deep_field")
DEFAULT_ARCHS = ("spder", "siren")
SCALES = (1, 2, 4, 8)
RESAMPLERS = {"bicubic": Image.Resampling.BICUBIC, "lanczos": Image.Resampling.LANCZOS}
CPU = {"size": 64, "spec": NetSpec(width=128, depth=3, lr=1e-4)}
PAPER = {"size": 256, "spec": NetSpec(width=256, depth=5, lr=1e-4)}
LABELS_SR = {**LABELS, "bicubic": "Bicubic (Pillow)", "lanczos": "Lanczos (Pillow)"}


def pyramid(ref: str, base: int) -> dict[int, np.ndarray]:
    """{scale: grey photo at base*scale, in [-1, 1]} for every scale the source can provide."""
    src = square_crop(load_pil(ref).convert("L"))
    side = src.size[0]
    if side < base:
        raise ValueError(f"{input_name(ref)}: {side}x{side} is smaller than the {base}x{base} base size")
    return {s: to_unit(src.resize((base * s, base * s), Image.Resampling.BOX) if side != base * s else src)
            for s in SCALES if base * s <= side}


def scores(out: np.ndarray, ref: np.ndarray) -> dict:
    """MSE, PSNR and rho_AG of a rendering against the reference at its scale."""
    return {"loss": mse(out, ref), "psnr_db": psnr(out, ref), "rho_ag": rho_ag(out, ref)}


def upscale(base_img: np.ndarray, size: int, how: str) -> np.ndarray:
    """Pillow resize of the 8-bit base image to size x size, back to [-1, 1]."""
    pix = Image.fromarray(np.rint((base_img + 1) * 127.5).astype(np.uint8))
    return to_unit(pix.resize((size, size), RESAMPLERS[how]))


def fit_pyramid(name: str, pyr: dict[int, np.ndarray], archs, steps, spec: NetSpec, opts: BenchOptions, device) -> tuple[list[dict], bytes]:
    """Fit the base image with each network, score every scale at each step; baselines; the comparison PNG."""
    base = pyr[1].shape[0]
    top = max(pyr)
    coords = grid_coords((base, base), device=device)
    values = torch.from_numpy(pyr[1].reshape(-1, 1)).float().to(device)
    crops: dict[str, np.ndarray] = {}
    rows: list[dict] = []
    for arch in archs:
        def record(step, model, pred, arch=arch):
            out = {}
            for s, ref in pyr.items():
                n = base * s
                r = predict(model, grid_coords((n, n), device=device)).reshape(n, n)
                out[s] = scores(r, ref)
                if s == top and step == steps[-1]:
                    crops[arch] = r
            return {"scales": out}

        model, lr, facts = make(arch, 2, 1, (base, base), spec, opts.seed, device)
        rec = fit_recording(model, coords, values, steps, lr, record, opts.log, f"superres {name} {arch}")
        for r in rec.rows:
            per = r.pop("scales")
            rows += [{"input": name, "arch": arch, **r, "fit_loss": r["loss"], **per[s], "scale": s,
                      "size": f"{base * s}x{base * s}", **facts} for s in pyr]
    for how in RESAMPLERS:
        for s, ref in pyr.items():
            up = upscale(pyr[1], base * s, how)
            rows.append({"input": name, "arch": how, "step": None, **scores(up, ref), "scale": s, "size": f"{base * s}x{base * s}"})
            if s == top:
                crops[how] = up
    return rows, side_by_side(pyr[top], crops, base * top)


@register("superres")
def run(opts: BenchOptions) -> TaskOutput:
    """Table 3: MSE, PSNR, rho_AG of 2x/4x/8x renderings of base-size fits, with Pillow baselines."""
    cfg = PAPER if opts.paper else CPU
    base = opts.size or cfg["size"]
    steps = list(opts.steps or (25, 100, 500))
    archs = list(opts.archs or DEFAULT_ARCHS)
    spec = cfg["spec"]
    device = pick_device(opts.device)
    photos = [(input_name(ref), pyramid(ref, base)) for ref in list(opts.inputs or DEFAULT_INPUTS)]
    rows: list[dict] = []
    figures: dict[str, bytes] = {}
    for name, pyr in photos:
        new_rows, figures[f"{name}_x{max(pyr)}"] = fit_pyramid(name, pyr, archs, steps, spec, opts, device)
        rows += new_rows
    last = steps[-1]
    head = ["Method"] + [f"{m} x{s}" for s in SCALES[1:] for m in ("MSE", "PSNR dB", "ρ_AG")]
    body = []
    for arch in [*archs, *RESAMPLERS]:
        cells = [LABELS_SR[arch] + (f" ({last} steps)" if arch in archs else "")]
        for s in SCALES[1:]:
            mine = [r for r in rows if r["arch"] == arch and r["scale"] == s and r["step"] in (None, last)]
            cells += [mean_std([r["loss"] for r in mine], "e"), mean_std([r["psnr_db"] for r in mine], "db"),
                      mean_std([r["rho_ag"] for r in mine], "r")]
        body.append(cells)
    verdict = lanczos_verdict(rows, archs, last)
    md = ["", f"## Table 3: super-resolution from {base}x{base}, {len(photos)} grey photos, mean ± std over photos", "",
          table(head, body), "", verdict, "",
          "Scales a photo is too small for are left out of its means (n/a when no photo has them). Figures: "
          "`superres_<photo>_x<scale>.png` (centre crop of the largest scale: reference, then each method with its PSNR on the crop)."]
    settings = {"inputs": ", ".join(f"{n} (scales {', '.join(f'x{s}' for s in p)})" for n, p in photos),
                "base": f"{base}x{base} grey, area-averaged from the photo's centre square; references likewise",
                "network": f"{spec.width} wide, {spec.depth} hidden layers after the first",
                "optimiser": f"Adam, constant lr {spec.lr:g}, full batch",
                "steps": ",".join(map(str, steps))}
    return TaskOutput(rows, "\n".join(md), figures, settings)


def lanczos_verdict(rows: list[dict], archs, step: int) -> str:
    """Plainly: at which scales SPDER's mean PSNR beats Lanczos'."""
    if "spder" not in archs:
        return ""
    parts = []
    for s in SCALES[1:]:
        a = [r["psnr_db"] for r in rows if r["arch"] == "spder" and r["scale"] == s and r["step"] == step]
        b = [r["psnr_db"] for r in rows if r["arch"] == "lanczos" and r["scale"] == s]
        if a and b:
            better = float(np.mean(a)) > float(np.mean(b))
            verdict = "SPDER better" if better else "Lanczos better"
            parts.append(f"x{s}: SPDER {np.mean(a):.2f} dB vs Lanczos {np.mean(b):.2f} dB ({verdict})")
    return "Does SPDER beat Lanczos? " + "; ".join(parts) + "." if parts else ""


def side_by_side(ref: np.ndarray, outs: dict[str, np.ndarray], n: int) -> bytes:
    """A centre crop (a quarter of the side) of the reference and of each method's rendering, titled."""
    plt = pyplot()
    c = max(8, n // 4)
    lo = (n - c) // 2
    tiles = {"reference": ref, **{LABELS_SR.get(k, k): v for k, v in outs.items()}}
    fig, axes = plt.subplots(1, len(tiles), figsize=(2.2 * len(tiles), 2.5))
    for ax, (title, img) in zip(np.atleast_1d(axes), tiles.items(), strict=False):
        crop = img[lo:lo + c, lo:lo + c]
        ax.imshow(np.clip(crop, -1, 1), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
        ax.set_title(f"{title}\n{psnr(crop, ref[lo:lo + c, lo:lo + c]):.1f} dB" if title != "reference" else title, fontsize=8)
        ax.axis("off")
    return figure_png(fig)
