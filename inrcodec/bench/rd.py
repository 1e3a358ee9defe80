"""Task `rd`: spdr's default encoder (--quality) against JPEG, WebP and AVIF at equal file bytes.

For each photo, spdr encodes at each of QUALITIES (the latent-grid engine, format 1.3) and the
file on disk gives the rate; JPEG, WebP and AVIF (Pillow) are scanned over their whole quality
range. Reported: RGB PSNR and MS-SSIM of the 8-bit pixels each decoder returns, encode and decode
seconds of every point, measured in this one run; at each spdr point the best anchor file that is
no larger; BD-rates (rdmetrics.bd_rate) of spdr against each anchor in PSNR and MS-SSIM dB over
0.25-2 bpp where the curves reach; and the issue's acceptance check: is the default-quality file
smaller than JPEG q85's at equal or better PSNR. Photos are split into a tuning set (looked at
while choosing the codec's settings) and an evaluation set (not); means are per set.
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np
from PIL import Image

from ..rate.quality import IMAGE_DEFAULT_QUALITY
from . import register
from ._core import BenchOptions, TaskOutput
from ._data import input_name, load_pil
from ._rdanchors import ANCHORS, SETTINGS, at_size, pillow_curve, with_msssim
from ._rdmetrics import BD_WINDOW, bd_rate, ms_ssim, msssim_db, msssim_window, rgb_psnr
from ._rdreport import report

TUNING = ("astronaut", "coffee")  # the photos rate control and the quality scale were tuned on
EVALUATION = ("chelsea", "rocket", "motorcycle", "immunohistochemistry", "retina", "hubble_deep_field")
QUALITIES = tuple(sorted({10, 30, 50, 75, IMAGE_DEFAULT_QUALITY}))  # spdr --quality points (~0.1-2 bpp), with the default (q85 check)
JPEG_CHECK_QUALITY = 85
CPU = {"size": 512, "preset": "fast"}
PAPER = {"size": 768, "preset": "balanced"}  # for a GPU
MATCH_FIELDS = ("quality", "bytes", "bpp", "psnr_db", "msssim", "msssim_db", "encode_s", "decode_s")


def photo_set(name: str) -> str:
    """'tuning', 'evaluation' or 'other' (a file the user passed)."""
    return "tuning" if name in TUNING else "evaluation" if name in EVALUATION else "other"


def load_rgb(ref: str, longest: int | None) -> np.ndarray:
    """uint8 RGB pixels, area-averaged (BOX) so the longer side is `longest`, never upscaled (a photo
    smaller than that keeps its size: BOX upscaling would add blocks no camera made); 'motorcycle' is
    the left view of scikit-image's stereo_motorcycle."""
    if ref == "motorcycle" and not os.path.exists(ref):
        import skimage.data

        img = Image.fromarray(skimage.data.stereo_motorcycle()[0])
    else:
        img = load_pil(ref)
    img = img.convert("RGB")
    w, h = img.size
    if longest is not None and max(w, h) > longest:
        f = longest / max(w, h)
        img = img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)
    return np.asarray(img)


def spdr_point(pixels: np.ndarray, quality: float, preset: str, steps: int | None, seed: int, device: str,
               folder: str) -> dict:
    """One `spdr encode --quality` point, measured from the file on disk and what `decode` returns."""
    import inrcodec

    h, w = pixels.shape[:2]
    path = os.path.join(folder, f"spdr_q{quality:g}.spdr")
    t0 = time.perf_counter()
    res = inrcodec.encode(pixels, path, quality=quality, preset=preset, steps=steps, seed=seed, device=device, force=True)
    t1 = time.perf_counter()
    decoded = inrcodec.decode(path)
    t2 = time.perf_counter()
    size = os.path.getsize(path)
    m = ms_ssim(decoded, pixels)
    return {"codec": "spdr", "quality": quality, "bytes": size, "bpp": 8 * size / (h * w), "psnr_db": rgb_psnr(decoded, pixels),
            "msssim": m, "msssim_db": msssim_db(m), "encode_s": t1 - t0, "decode_s": t2 - t1, "steps": res.steps,
            "preset": preset}


def _curve(points: list[dict], metric: str) -> list[tuple[float, float]]:
    return [(p["bpp"], p[metric]) for p in points if p.get(metric) is not None]


def measure_photo(ref: str, opts: BenchOptions, size: int | None, qualities, preset: str, steps: int | None,
                  folder: str) -> list[dict]:
    """Every row of one photo: scan and spdr points, equal-bytes matches, BD-rates, the q85 check."""
    name = input_name(ref) if ref != "motorcycle" else ref
    pixels = load_rgb(ref, size)
    h, w = pixels.shape[:2]
    base = {"input": name, "set": photo_set(name), "height": h, "width": w}
    scans = {}
    for c in ANCHORS:
        opts.log(f"{name} {w}x{h}: {c} quality scan")
        scans[c] = pillow_curve(pixels, c)
    spdr = []
    for q in qualities:
        opts.log(f"{name} {w}x{h}: spdr --quality {q:g} ({preset})")
        spdr.append(spdr_point(pixels, q, preset, steps, opts.seed, opts.device, folder))
        p = spdr[-1]
        opts.log(f"  {p['bytes']} bytes ({p['bpp']:.3f} bpp), {p['psnr_db']:.2f} dB, MS-SSIM {p['msssim'] or float('nan'):.4f}, "
                 f"encode {p['encode_s']:.1f} s, decode {p['decode_s']:.2f} s")
    rows = []
    for p in spdr:
        for c in ANCHORS:
            m = at_size(scans[c], p["bytes"])
            match = {k: with_msssim(m, pixels)[k] for k in MATCH_FIELDS} if m else {}
            rows.append({"kind": "equal_bytes", **base, "codec": c, "spdr_quality": p["quality"], "spdr_bytes": p["bytes"],
                         "spdr_psnr_db": p["psnr_db"], "spdr_msssim": p["msssim"], **match,
                         "note": None if m else f"smallest {c} file is {min(x['bytes'] for x in scans[c])} bytes"})
    for c in ANCHORS:
        for metric in ("psnr_db", "msssim_db"):
            bd = bd_rate(_curve(scans[c], metric), _curve(spdr, metric))
            why = f"no quality both curves reach within {BD_WINDOW[0]:g}-{BD_WINDOW[1]:g} bpp (or under 2 spdr points)"
            rows.append({"kind": "bd_rate", **base, "codec": c, "metric": metric, **(bd or {"bd_rate_pct": None, "note": why})})
    rows.append({"kind": "jpeg_check", **base, **_jpeg_check(scans["jpeg"], spdr, pixels)})
    points = [{"kind": "point", **base, **p} for c in ANCHORS for p in scans[c]] + [{"kind": "point", **base, **p} for p in spdr]
    return points + rows  # points last built: with_msssim above fills in the MS-SSIM of the points the tables quote


def _jpeg_check(jpeg: list[dict], spdr: list[dict], pixels: np.ndarray) -> dict:
    """The issue's acceptance check: the default-quality spdr file against JPEG q85, bytes and PSNR."""
    j = with_msssim(next(p for p in jpeg if p["quality"] == JPEG_CHECK_QUALITY), pixels)
    out = {"jpeg_quality": JPEG_CHECK_QUALITY, "jpeg_bytes": j["bytes"], "jpeg_psnr_db": j["psnr_db"], "jpeg_msssim": j["msssim"]}
    d = next((p for p in spdr if p["quality"] == IMAGE_DEFAULT_QUALITY), None)
    if d is None:
        return {**out, "spdr_quality": IMAGE_DEFAULT_QUALITY, "passes": None, "note": "default quality not among the measured qualities"}
    return {**out, "spdr_quality": IMAGE_DEFAULT_QUALITY, "spdr_bytes": d["bytes"], "spdr_psnr_db": d["psnr_db"],
            "spdr_msssim": d["msssim"],
            "smaller": d["bytes"] < j["bytes"], "psnr_not_worse": d["psnr_db"] >= j["psnr_db"],
            "passes": d["bytes"] < j["bytes"] and d["psnr_db"] >= j["psnr_db"]}


@register("rd")
def run(opts: BenchOptions) -> TaskOutput:
    cfg = PAPER if opts.paper else CPU
    size = opts.size or cfg["size"]
    preset = opts.preset or cfg["preset"]
    steps = opts.steps[-1] if opts.steps else None
    qualities = tuple(opts.qualities) if opts.qualities else QUALITIES
    inputs = list(opts.inputs) or list(TUNING + EVALUATION)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="spdr-rd-") as folder:
        for ref in inputs:
            rows.extend(measure_photo(ref, opts, size, qualities, preset, steps, folder))
    from ..nn.device import pick_device
    from ..rate.plan import PRESET_STEPS

    sets = {s: ", ".join(dict.fromkeys(r["input"] for r in rows if r["set"] == s)) for s in ("tuning", "evaluation", "other")}
    wins = sorted({str(msssim_window(r["height"], r["width"])) for r in rows})
    window = "11" if wins == ["11"] else f"{'/'.join(wins)} (under 161 px on the short side the window shrinks: not standard)"
    settings = {"tuning photos (looked at while tuning the codec; reported apart)": sets["tuning"] or "none",
                "evaluation photos (not looked at while tuning)": sets["evaluation"] or "none",
                **({"other inputs": sets["other"]} if sets["other"] else {}),
                "size": f"longest side {size} px (BOX area average; smaller photos keep their size)",
                "spdr": f"spdr encode --quality {', '.join(f'{q:g}' for q in qualities)}, preset {preset}, "
                        f"{steps if steps else PRESET_STEPS.get(preset, 2000)} steps{' (--steps)' if steps else ''}, "
                        f"seed {opts.seed}, device {pick_device(opts.device)}; decoded by inrcodec.decode (CPU)",
                **{k.upper() if k != "webp" else "WebP": v for k, v in SETTINGS.items()},
                "metrics": "RGB PSNR (peak 255, MSE over all channels) and MS-SSIM (pytorch-msssim: 5 scales, gaussian "
                           f"{window}, sigma 1.5, data range 255, mean of channels) of the decoded 8-bit pixels",
                "BD-rate": f"spdr against each anchor's full scan, PCHIP of log-rate over quality, over the qualities both reach "
                           f"within {BD_WINDOW[0]:g}-{BD_WINDOW[1]:g} bpp; MS-SSIM as -10·log10(1-MS-SSIM) dB",
                "timing": "wall seconds of one encode and one decode call per point, in this run, same machine"}
    md, figures = report(rows)
    return TaskOutput(rows, md, figures, settings, notes=())
