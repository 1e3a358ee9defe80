"""Where `spdr encode --quality Q` lands on the tuning photos: bytes, bpp, decoded PSNR, JPEG and WebP
at no more bytes, JPEG q85, encode and decode seconds, one row per (photo, Q).

This is what rate/quality.py's LAMBDA_AT_0 / LAMBDA_AT_100 and expected_bpp were set from; run it on
the tuning photos only (bench/rd.py TUNING), the evaluation photos are for `spdr bench rd`.

    python benchmarks/quality_sweep.py --photos coffee,astronaut --qualities 0,25,50,75 --preset fast
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from _provenance import ROOT, provenance

import inrcodec
from inrcodec.bench._rdanchors import at_size, pillow_curve
from inrcodec.bench._rdmetrics import rgb_psnr
from inrcodec.bench.rd import load_rgb
from inrcodec.rate.quality import quality_lambda


def best_at(curve: list[dict], nbytes: int) -> float | None:
    """PSNR of the anchor's best file no larger than nbytes (bench/_rdanchors.at_size), rounded."""
    point = at_size(curve, nbytes)
    return None if point is None else round(point["psnr_db"], 2)


def sweep_photo(photo: str, qualities: list[float], preset: str, longest: int, folder: str) -> list[dict]:
    px = load_rgb(photo, longest)
    h, w = px.shape[:2]
    curves = {c: pillow_curve(px, c) for c in ("jpeg", "webp")}
    j85 = next(p for p in curves["jpeg"] if p["quality"] == 85)
    rows = []
    for q in qualities:
        path = os.path.join(folder, f"{photo}_{q:g}.spdr")
        t0 = time.perf_counter()
        res = inrcodec.encode(px, path, quality=q, preset=preset, force=True)
        t1 = time.perf_counter()
        decoded = inrcodec.decode(path)
        t2 = time.perf_counter()
        n = os.path.getsize(path)
        row = {"photo": photo, "width": w, "height": h, "quality": q, "lambda": quality_lambda(q), "steps": res.steps, "bytes": n,
               "bpp": round(8 * n / (h * w), 3), "psnr_db": round(rgb_psnr(decoded, px), 2),
               "jpeg_db_at_bytes": best_at(curves["jpeg"], n), "webp_db_at_bytes": best_at(curves["webp"], n),
               "jpeg_q85_bytes": j85["bytes"], "jpeg_q85_db": round(j85["psnr_db"], 2),
               "encode_s": round(t1 - t0, 1), "decode_s": round(t2 - t1, 2)}
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        rows.append(row)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", default="coffee,astronaut")
    ap.add_argument("--qualities", default="0,25,50,75")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--longest", type=int, default=512)
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/quality_sweep.json"))
    a = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="spdr-sweep-") as folder:
        for photo in a.photos.split(","):
            rows += sweep_photo(photo, [float(q) for q in a.qualities.split(",")], a.preset, a.longest, folder)
    Path(a.out).write_text(json.dumps({"provenance": provenance(seed=0), "rows": rows}, indent=1) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
