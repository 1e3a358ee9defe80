"""Task `superres`: the paper's Table 3. Fit at a base size, render 2x/4x/8x, compare with the real photo.

The reference at each scale is the same photo area-averaged (Pillow BOX) from its full resolution,
so the base image and every reference come from one source; scales the source is too small for
are skipped. Each network is scored two ways: alone (`rendering: network`, the network evaluated on
the finer pixel-centre grid over the same extent, `spdr decode --resample network`) and as `spdr decode`
renders by default (`rendering: classic`, "SPDER + Lanczos (spdr default)": the network's own output
on the base grid, clipped to [-1, 1] and 8-bit like a decoded file, upscaled with Pillow's Lanczos).
The baselines are what a user would reach for instead: Pillow's bicubic and Lanczos upscaling of
the true base image. Beside the paper's networks, the codec itself (arch "codec"): `spdr encode` of
the 8-bit base image with the default engine (the latent grid, --quality default, --preset fast),
then `inrcodec.decode(scale=s)` of the file, both renderings, so the table shows what a user's file
gives at each scale.
"""

from __future__ import annotations

import os
import tempfile

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
CODEC = "codec"  # the codec's own file (spdr encode, default engine), not a bench-fitted network
CODEC_PRESET = "fast"
LABELS_SR = {**LABELS, "bicubic": "Bicubic (Pillow)", "lanczos": "Lanczos (Pillow)", CODEC: f"spdr encode (--preset {CODEC_PRESET})"}
CLASSIC = "lanczos"  # the resampler `spdr decode` applies to an image's native pixels (media/resample.py)


def default_label(arch: str) -> str:
    """'SPDER + Lanczos (spdr default)': the network's own base-grid pixels, upscaled with Lanczos."""
    return f"{LABELS_SR.get(arch, arch)} + Lanczos (spdr default)"


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
    """Pillow resize of the base image (clipped to [-1, 1], 8-bit) to size x size, back to [-1, 1]."""
    pix = Image.fromarray(np.rint((np.clip(base_img, -1, 1) + 1) * 127.5).astype(np.uint8))
    return to_unit(pix.resize((size, size), RESAMPLERS[how]))


def codec_rows(name: str, pyr: dict[int, np.ndarray], opts: BenchOptions, crops: dict[str, np.ndarray]) -> list[dict]:
    """Encode the 8-bit base image with `spdr encode`'s default engine; decode the file at every scale,
    natively upscaled (the default, Lanczos of the decoded pixels) and by the network; score each."""
    import inrcodec

    base, top = pyr[1].shape[0], max(pyr)
    pixels = np.rint((np.clip(pyr[1], -1, 1) + 1) * 127.5).astype(np.uint8)
    rows = []
    with tempfile.TemporaryDirectory(prefix="spdr-superres-") as folder:
        path = os.path.join(folder, f"{name}.spdr")
        opts.log(f"superres {name} codec: spdr encode --preset {CODEC_PRESET}")
        res = inrcodec.encode(pixels, path, preset=CODEC_PRESET, seed=opts.seed, device=opts.device, force=True)
        facts = {"bytes": res.bytes, "bpp": 8 * res.bytes / base**2, "native_psnr_db": res.psnr_db, "steps": res.steps}
        for render, how in (("classic", "auto"), ("network", "network")):
            for s, ref in pyr.items():
                out = inrcodec.decode(path, scale=s, resample=how).reshape(base * s, base * s) / 127.5 - 1.0
                rows.append({"input": name, "arch": CODEC, "rendering": render, "step": None, **scores(out, ref), "scale": s,
                             "size": f"{base * s}x{base * s}", **facts})
                if s == top:
                    crops[CODEC if render == "network" else f"{LABELS_SR[CODEC]} default"] = out
    return rows


def fit_pyramid(name: str, pyr: dict[int, np.ndarray], archs, steps, spec: NetSpec, opts: BenchOptions, device,
                codec: bool = True) -> tuple[list[dict], bytes]:
    """Fit the base image with each network, score every scale at each step; baselines; the comparison PNG."""
    base = pyr[1].shape[0]
    top = max(pyr)
    coords = grid_coords((base, base), device=device)
    values = torch.from_numpy(pyr[1].reshape(-1, 1)).float().to(device)
    crops: dict[str, np.ndarray] = {}
    rows: list[dict] = []
    for arch in archs:
        def record(step, model, pred, arch=arch):
            out, classic = {}, {}
            own = pred.double().cpu().numpy().reshape(base, base)  # the network on its own (base) grid
            for s, ref in pyr.items():
                n = base * s
                r = predict(model, grid_coords((n, n), device=device)).reshape(n, n)
                c = upscale(own, n, CLASSIC)
                out[s], classic[s] = scores(r, ref), scores(c, ref)
                if s == top and step == steps[-1]:
                    crops[arch], crops[f"{LABELS_SR[arch]} + Lanczos\n(spdr default)"] = r, c
            return {"scales": out, "classic": classic}

        model, lr, facts = make(arch, 2, 1, (base, base), spec, opts.seed, device)
        rec = fit_recording(model, coords, values, steps, lr, record, opts.log, f"superres {name} {arch}")
        for r in rec.rows:
            per, classic = r.pop("scales"), r.pop("classic")
            for render, got in (("network", per), ("classic", classic)):
                rows += [{"input": name, "arch": arch, "rendering": render, **r, "fit_loss": r["loss"], **got[s], "scale": s,
                          "size": f"{base * s}x{base * s}", **facts} for s in pyr]
    if codec:
        rows += codec_rows(name, pyr, opts, crops)
    for how in RESAMPLERS:
        for s, ref in pyr.items():
            up = upscale(pyr[1], base * s, how)
            rows.append({"input": name, "arch": how, "rendering": "true base", "step": None, **scores(up, ref), "scale": s,
                         "size": f"{base * s}x{base * s}"})
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
    methods = [(a, "network", f"{LABELS_SR[a]} alone ({last} steps)") for a in archs]
    methods += [(a, "classic", f"{default_label(a)} ({last} steps)") for a in archs]
    methods += [(CODEC, "network", f"{LABELS_SR[CODEC]}, decoded by the network"),
                (CODEC, "classic", f"{LABELS_SR[CODEC]}, decoded as by default (Lanczos of its pixels)")]
    methods += [(how, "true base", f"{LABELS_SR[how]} of the true base image") for how in RESAMPLERS]
    for arch, render, title in methods:
        cells = [title]
        for s in SCALES[1:]:
            mine = pick(rows, arch, render, s, last)
            cells += [mean_std([r["loss"] for r in mine], "e"), mean_std([r["psnr_db"] for r in mine], "db"),
                      mean_std([r["rho_ag"] for r in mine], "r")]
        body.append(cells)
    verdict = "\n\n".join(lanczos_verdict(rows, arch, last) for arch in [*archs, CODEC])
    md = ["", f"## Table 3: super-resolution from {base}x{base}, {len(photos)} grey photos, mean ± std over photos", "",
          table(head, body), "", verdict, "",
          f"*Alone*: the network evaluated on the {base * 2}x{base * 2}..{base * 8}x{base * 8} grid (`spdr decode --resample network`). "
          f"*spdr default*: what `spdr decode` renders off the native grid, Lanczos (Pillow) of the network's own "
          f"{base}x{base} pixels (clipped, 8-bit). The Pillow baselines upscale the true {base}x{base} photo.", "",
          "Scales a photo is too small for are left out of its means (n/a when no photo has them). Figures: "
          "`superres_<photo>_x<scale>.png` (centre crop of the largest scale: reference, then each method with its PSNR on the crop)."]
    settings = {"inputs": ", ".join(f"{n} (scales {', '.join(f'x{s}' for s in p)})" for n, p in photos),
                "base": f"{base}x{base} grey, area-averaged from the photo's centre square; references likewise",
                "network": f"{spec.width} wide, {spec.depth} hidden layers after the first",
                "optimiser": f"Adam, constant lr {spec.lr:g}, full batch",
                "steps": ",".join(map(str, steps))}
    return TaskOutput(rows, "\n".join(md), figures, settings)


def pick(rows: list[dict], arch: str, render: str, scale: int, step: int) -> list[dict]:
    """The rows of one method (architecture and rendering) at one scale, at `step` (baselines: any step)."""
    return [r for r in rows if r["arch"] == arch and r.get("rendering") == render and r["scale"] == scale
            and r["step"] in (None, step)]


def versus(name: str, mine: list[float], base_name: str, theirs: list[float]) -> str:
    """'SPDER alone 22.02 dB vs Lanczos 26.71 dB (4.69 dB worse)': mean PSNRs and their distance."""
    a, b = float(np.mean(mine)), float(np.mean(theirs))
    gap = f"{abs(a - b):.2f} dB {'better' if a > b else 'worse'}" if round(a - b, 2) else "equal"
    return f"{name} {a:.2f} dB vs {base_name} {b:.2f} dB ({gap})"


def lanczos_verdict(rows: list[dict], arch: str, step: int) -> str:
    """Plainly, per scale: the network alone vs Lanczos of the true base image, and spdr's default vs the same."""
    parts = []
    ref = "Lanczos of the true base"
    for s in SCALES[1:]:
        alone = [r["psnr_db"] for r in pick(rows, arch, "network", s, step)]
        default = [r["psnr_db"] for r in pick(rows, arch, "classic", s, step)]
        lz = [r["psnr_db"] for r in pick(rows, CLASSIC, "true base", s, step)]
        if alone and default and lz:
            parts.append(f"x{s}: {versus(LABELS_SR[arch] + ' alone', alone, ref, lz)}; "
                         f"{versus(default_label(arch), default, ref, lz)}")
    when = "" if arch == CODEC else f", {step} steps"  # the codec's steps are its preset's
    return f"**{LABELS_SR[arch]} vs Lanczos (mean PSNR{when}).** " + ". ".join(parts) + "." if parts else ""


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
