"""Task `rd`: rate-distortion curves of spdr --bpp against JPEG, WebP and a COIN-style SIREN.

For each photo and each target rate, spdr encodes with --bpp and the file on disk gives the rate;
JPEG and WebP (Pillow) get the best quality whose file is no larger; a COIN-style SIREN (Dupont et
al. 2021: a sine MLP, 16-bit weights, width chosen to fit) gets the largest width whose file fits.
Every PSNR is RGB PSNR of 8-bit pixels decoded from the bytes. BD-rates (Bjøntegaard) are against
JPEG's full quality scan.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
from PIL import Image

from . import register
from ._core import BenchOptions, TaskOutput
from ._data import input_name, load_pil
from ._rdanchors import at_size, bd_rate, monotone, pillow_curve, rgb_psnr
from ._report import figure_png, pyplot, table

DEFAULT_INPUTS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle")
RATES = (0.25, 0.5, 1.0, 2.0)
CPU = {"size": 128, "steps": 1200}
PAPER = {"size": 512, "steps": 5000}
COIN_DEPTH = 4  # hidden width->width layers (COIN's Kodak nets: ~10 layers of width 28-49 at 0.07-0.6 bpp)
CODECS = ("spdr", "jpeg", "webp", "coin")
LABELS = {"spdr": "spdr --bpp (latent-grid SPDER)", "jpeg": "JPEG (Pillow)", "webp": "WebP (Pillow)",
          "coin": "COIN-style SIREN (16-bit)"}


def load_rgb(ref: str, longest: int | None) -> np.ndarray:
    """uint8 RGB pixels, area-averaged (BOX) so the longer side is `longest`; 'motorcycle' is the
    left view of scikit-image's stereo_motorcycle."""
    if ref == "motorcycle" and not os.path.exists(ref):
        import skimage.data

        img = Image.fromarray(skimage.data.stereo_motorcycle()[0])
    else:
        img = load_pil(ref)
    img = img.convert("RGB")
    w, h = img.size
    if longest is not None and max(w, h) != longest:
        f = longest / max(w, h)
        img = img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)
    return np.asarray(img)


def _on_disk(data: bytes, folder: str, name: str) -> int:
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(data)
    return os.path.getsize(path)


def spdr_point(pixels: np.ndarray, bpp: float, steps: int, seed: int, device: str, folder: str) -> dict:
    import inrcodec

    start = time.perf_counter()
    res = inrcodec.encode(pixels, bpp=bpp, steps=steps, seed=seed, device=device)
    size = _on_disk(res.data, folder, f"spdr_{bpp}.spdr")
    decoded = inrcodec.decode(os.path.join(folder, f"spdr_{bpp}.spdr"))
    a = res.header["arch"]
    return {"bytes": size, "psnr_db": rgb_psnr(decoded, pixels), "seconds": time.perf_counter() - start,
            "network": f"{a['grid_levels']} levels -> {a['width']}x{a['depth'] + 1}", "steps": res.steps}


def coin_point(pixels: np.ndarray, max_bytes: int, steps: int, seed: int, device: str, folder: str) -> dict | None:
    """The widest SIREN (depth COIN_DEPTH, 16-bit weights) whose compact file fits `max_bytes`."""
    import inrcodec
    from inrcodec.format import container

    def pack(res) -> bytes:
        header, tensors = container.unpack(res.data)
        header["quant"]["coding"] = "rc"
        return container.pack(header, tensors)

    start = time.perf_counter()
    for width in range(64, 7, -1):
        probe = inrcodec.encode(pixels, activation="siren", width=width, depth=COIN_DEPTH, bits=16, steps=0, seed=seed)
        if len(pack(probe)) > max_bytes:
            continue
        res = inrcodec.encode(pixels, activation="siren", width=width, depth=COIN_DEPTH, bits=16, steps=steps,
                              lr=2e-4, seed=seed, device=device)
        data = pack(res)
        if len(data) > max_bytes:
            continue
        path = os.path.join(folder, f"coin_{max_bytes}.spdr")
        size = _on_disk(data, folder, f"coin_{max_bytes}.spdr")
        return {"bytes": size, "psnr_db": rgb_psnr(inrcodec.decode(path), pixels), "network": f"siren {width}x{COIN_DEPTH + 1}",
                "seconds": time.perf_counter() - start, "steps": res.steps}
    return None


@register("rd")
def run(opts: BenchOptions) -> TaskOutput:
    cfg = PAPER if opts.paper else CPU
    size = opts.size or cfg["size"]
    steps = opts.steps[-1] if opts.steps else cfg["steps"]
    inputs = list(opts.inputs) or list(DEFAULT_INPUTS)
    rows: list[dict] = []
    curves: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="spdr-rd-") as folder:
        for ref in inputs:
            name = input_name(ref) if ref != "motorcycle" else ref
            pixels = load_rgb(ref, size)
            h, w = pixels.shape[:2]
            scans = {c: pillow_curve(pixels, c) for c in ("jpeg", "webp")}
            curves[name] = scans["jpeg"]
            for bpp in RATES:
                base = {"input": name, "height": h, "width": w, "target_bpp": bpp}
                opts.log(f"{name} {w}x{h} @ {bpp} bpp: spdr")
                try:
                    sp = spdr_point(pixels, bpp, steps, opts.seed, opts.device, folder)
                except Exception as e:  # noqa: BLE001 - a budget below the smallest file is a result
                    opts.log(f"  spdr: {str(e).splitlines()[0]}")
                    rows.append({**base, "codec": "spdr", "bytes": None, "bpp": None, "psnr_db": None, "note": str(e).splitlines()[0]})
                    continue
                rows.append({**base, "codec": "spdr", **sp, "bpp": 8 * sp["bytes"] / (h * w)})
                for codec in ("jpeg", "webp"):
                    p = at_size(scans[codec], sp["bytes"])
                    rows.append({**base, "codec": codec, "bytes": p and p["bytes"], "bpp": p and 8 * p["bytes"] / (h * w),
                                 "psnr_db": p and p["psnr_db"], "quality": p and p["quality"],
                                 "note": None if p else f"smallest {codec} file is {min(q['bytes'] for q in scans[codec])} bytes"})
                opts.log(f"{name} @ {bpp} bpp: COIN")
                cp = coin_point(pixels, sp["bytes"], steps, opts.seed, opts.device, folder)
                rows.append({**base, "codec": "coin", **(cp or {"bytes": None, "psnr_db": None, "note": "no SIREN fits"}),
                             "bpp": cp and 8 * cp["bytes"] / (h * w)})
                opts.log(f"  spdr {rows[-4]['psnr_db']:.2f} dB at {rows[-4]['bpp']:.3f} bpp; JPEG {_db(rows[-3])}, "
                         f"WebP {_db(rows[-2])}, COIN {_db(rows[-1])}")
            rows.extend(_bd_rows(name, h, w, rows, scans))
    md, figures = report(rows, curves, size, steps)
    settings = {"inputs": ", ".join(inputs), "size": f"longest side {size} px (BOX)", "target rates": ", ".join(map(str, RATES)),
                "spdr steps": steps, "COIN": f"SIREN depth {COIN_DEPTH + 1}, 16-bit weights, lr 2e-4, {steps} steps"}
    return TaskOutput(rows, md, figures, settings)


def _db(row: dict) -> str:
    return "n/a" if row.get("psnr_db") is None else f"{row['psnr_db']:.2f} dB"


def _bd_rows(name: str, h: int, w: int, rows: list[dict], scans: dict) -> list[dict]:
    """BD-rate of spdr, WebP and COIN against JPEG's quality scan over the spdr rates' PSNR range."""
    mine = {c: [r for r in rows if r["input"] == name and r["codec"] == c and r.get("bytes")] for c in CODECS}
    sp_bytes = [r["bytes"] for r in mine["spdr"]]
    if not sp_bytes:
        return []
    lo, hi = min(sp_bytes) / 2, max(sp_bytes) * 2
    jpeg = [p for p in monotone(scans["jpeg"]) if lo <= p["bytes"] <= hi]
    out = []
    candidates = {"spdr": mine["spdr"], "coin": mine["coin"],
                  "webp": [p for p in monotone(scans["webp"]) if lo <= p["bytes"] <= hi]}
    for codec, pts in candidates.items():
        value = bd_rate([p["bytes"] for p in jpeg], [p["psnr_db"] for p in jpeg],
                        [p["bytes"] for p in pts], [p["psnr_db"] for p in pts]) if len(jpeg) >= 4 else None
        out.append({"input": name, "height": h, "width": w, "codec": codec, "bd_rate_vs_jpeg_pct": value})
    return out


def report(rows: list[dict], curves: dict, size: int, steps: int) -> tuple[str, dict[str, bytes]]:
    """Markdown tables (per rate, per image, BD-rates) and the RD plot."""
    points = [r for r in rows if "target_bpp" in r]
    names = list(dict.fromkeys(r["input"] for r in points))
    head = ["image", "target bpp"] + [f"{LABELS[c]}: bpp / PSNR dB" for c in CODECS]
    body = []
    for name in names:
        for bpp in RATES:
            cells = [name, f"{bpp:g}"]
            for c in CODECS:
                r = next((x for x in points if x["input"] == name and x["target_bpp"] == bpp and x["codec"] == c), None)
                cells.append("n/a" if not r or r.get("psnr_db") is None else f"{r['bpp']:.3f} / {r['psnr_db']:.2f}")
            body.append(cells)
    mean_head = ["target bpp"] + [f"{c}: mean PSNR dB (n)" for c in CODECS]
    mean_body = []
    for bpp in RATES:
        cells = [f"{bpp:g}"]
        for c in CODECS:
            vals = [r["psnr_db"] for r in points if r["target_bpp"] == bpp and r["codec"] == c and r.get("psnr_db") is not None]
            cells.append(f"{np.mean(vals):.2f} ({len(vals)})" if vals else "n/a")
        mean_body.append(cells)
    bd = [r for r in rows if "bd_rate_vs_jpeg_pct" in r]
    bd_body = []
    for c in ("spdr", "webp", "coin"):
        vals = {r["input"]: r["bd_rate_vs_jpeg_pct"] for r in bd if r["codec"] == c}
        finite = [v for v in vals.values() if v is not None]
        bd_body.append([LABELS[c]] + [("n/a" if vals.get(n) is None else f"{vals[n]:+.1f} %") for n in names]
                       + [f"{np.mean(finite):+.1f} %" if finite else "n/a"])
    md = ["## Mean RGB PSNR at each target rate", "", "Each codec's file is at most spdr's file at that rate; n = images "
          "where the codec reaches that size.", "", table(mean_head, mean_body), "## BD-rate against JPEG", "",
          "Negative: fewer bytes than JPEG for the same PSNR (Bjøntegaard, cubic fit of log-rate on PSNR over the shared "
          "PSNR range; JPEG and WebP from their full quality scans within 0.5x..2x of spdr's sizes).", "",
          table(["codec"] + names + ["mean"], bd_body), "## Every point (actual bpp / RGB PSNR dB)", "", table(head, body)]
    return "\n".join(md), {"curves": _plot(points, curves, names)}


def _plot(points: list[dict], curves: dict, names: list[str]) -> bytes:
    plt = pyplot()
    cols = min(3, len(names))
    nrows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.4 * nrows), squeeze=False)
    styles = {"spdr": ("C3", "o-"), "jpeg": ("C0", "s--"), "webp": ("C2", "^--"), "coin": ("C1", "d:")}
    for ax, name in zip(axes.flat, names, strict=False):
        h, w = next((r["height"], r["width"]) for r in points if r["input"] == name)
        scan = monotone(curves[name])
        ax.plot([8 * p["bytes"] / (h * w) for p in scan], [p["psnr_db"] for p in scan], color="C0", lw=0.8, alpha=0.4)
        for c in CODECS:
            pts = sorted((r["bpp"], r["psnr_db"]) for r in points if r["input"] == name and r["codec"] == c and r.get("psnr_db"))
            if pts:
                color, style = styles[c]
                ax.plot(*zip(*pts, strict=True), style, color=color, label=LABELS[c], ms=4)
        ax.set_title(f"{name} ({w}x{h})")
        ax.set_xlabel("bits per pixel (whole file)")
        ax.set_ylabel("RGB PSNR (dB)")
        ax.set_xlim(0, 2.2)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return figure_png(fig)
