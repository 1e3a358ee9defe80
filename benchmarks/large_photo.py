"""A 8000x6000 photo in bounded memory (format 1.7 bands): peak RSS of encode and decode, size back, seams.

The photo is made from real ones: a mosaic of 500x500 crops of scikit-image's bundled colour photos
(astronaut, chelsea, coffee, rocket, hubble_deep_field, immunohistochemistry), each crop resized from a random window so
that textures are at the scales a camera gives. It is encoded with the real `spdr encode --preset fast
--time T` in a fresh process (tests/procstats.py: wall seconds, the child's peak RSS), decoded with
`spdr decode`, and measured from the PNG the decoder writes: size, PSNR, and the error on the rows next to
band borders (SEAM_ROWS either side) against the rows inside the bands.

    python benchmarks/large_photo.py --time 600 --out benchmarks/results/large_photo.md

Under a --time that buys a few steps a band, the seam figures above only say that a border is no worse than
noise. --seams measures them at a real quality instead: a 1024x512 window of the same mosaic, bands of
--band-pixels (2^17: 4 bands of 128 rows, the band size lowered in the child process only), the fast preset's
full steps, and the same border/interior comparison.

    python benchmarks/large_photo.py --seams --out benchmarks/results/large_photo_seams.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _provenance import ROOT, markdown_provenance, provenance  # noqa: E402
from procstats import measured_spdr  # noqa: E402

WIDTH, HEIGHT, TILE = 8000, 6000, 500
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry")
SEAM_ROWS = 2
MEMORY_BOUND_MIB = 8192


def mosaic(seed: int = 0) -> np.ndarray:
    """HEIGHT x WIDTH RGB: TILE-sized Lanczos-resized random windows of the bundled photos."""
    import skimage.data

    rng = np.random.default_rng(seed)
    sources = [np.asarray(getattr(skimage.data, name)())[..., :3] for name in PHOTOS]
    out = np.empty((HEIGHT, WIDTH, 3), dtype=np.uint8)
    for y in range(0, HEIGHT, TILE):
        for x in range(0, WIDTH, TILE):
            src = sources[rng.integers(len(sources))]
            side = int(rng.integers(TILE // 2, min(src.shape[:2]) + 1))
            top, left = (int(rng.integers(0, src.shape[i] - side + 1)) for i in (0, 1))
            crop = Image.fromarray(src[top:top + side, left:left + side]).resize((TILE, TILE), Image.LANCZOS)
            out[y:y + TILE, x:x + TILE] = np.asarray(crop)[: HEIGHT - y, : WIDTH - x]
    return out


def spdr(*args: str, timeout: float) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of `spdr ARGS`; exits on failure."""
    code, stdout, stderr, _, rss, wall = measured_spdr(*args, cwd=ROOT, timeout=timeout, wall=True)
    if code != 0:
        raise SystemExit(f"spdr {' '.join(args)} failed: {stderr.strip().splitlines()[-1] if stderr.strip() else code}")
    return wall, rss, stdout


BANDED_SPDR = "import sys, inrcodec.codec.bands as b; b.BAND_PIXELS = int(sys.argv.pop(1)); from inrcodec.cli import main; main()"


def seams(band_pixels: int, preset: str, out: Path) -> None:
    """Border rows against interior rows of a banded encode at the preset's full steps."""
    from procstats import measured_python

    photo = mosaic()[2000:2512, 3000:4024]
    with tempfile.TemporaryDirectory() as tmp:
        src, enc, dec = Path(tmp) / "window.png", Path(tmp) / "window.spdr", Path(tmp) / "decoded.png"
        Image.fromarray(photo).save(src)
        code, stdout, stderr, _, rss, wall = measured_python(BANDED_SPDR, str(band_pixels), "encode", str(src), "--preset", preset,
                                                             "-q", "-o", str(enc), cwd=ROOT, timeout=7200, wall=True)
        if code != 0:
            raise SystemExit(f"encode failed: {stderr.strip().splitlines()[-1] if stderr.strip() else code}")
        facts = json.loads(spdr("info", str(enc), "--json", timeout=600)[2])
        spdr("decode", str(enc), "-o", str(dec), timeout=3600)
        back = np.asarray(Image.open(dec))
        size = enc.stat().st_size
    rows = [n for n, _ in facts["header"]["segments"]]
    err = np.mean((back.astype(np.float64) - photo) ** 2, axis=(1, 2))
    near = np.zeros(photo.shape[0], dtype=bool)
    for border in np.cumsum(rows)[:-1]:
        near[border - SEAM_ROWS:border + SEAM_ROWS] = True
    result = {"provenance": provenance(seed=0, device="cpu"), "window": [1024, 512], "band_pixels": band_pixels, "preset": preset,
              "bands": rows, "bytes": size, "bpp": 8 * size / photo[..., 0].size, "encode_wall_s": wall, "encode_peak_rss_mib": rss,
              "psnr_db": psnr(float(err.mean())), "seam_psnr_db": psnr(float(err[near].mean())),
              "interior_psnr_db": psnr(float(err[~near].mean())), "encoder_lines": stdout.strip().splitlines()}
    lines = ["# Band seams at a real quality", "", markdown_provenance(result["provenance"]), "",
             f"A 1024x512 window (rows 2000-2511, columns 3000-4023) of the benchmark's mosaic, bands of at most {band_pixels:,} "
             f"pixels ({len(rows)} bands of {min(rows)}-{max(rows)} rows), `spdr encode --preset {preset}` (its full steps).", "",
             "| measure | value |", "|---|---|",
             f"| file | {size:,} B, {result['bpp']:.3f} bpp |",
             f"| PSNR, whole window | {result['psnr_db']:.2f} dB |",
             f"| PSNR, rows within {SEAM_ROWS} of a band border / elsewhere | {seam_line(result)} |",
             f"| encode wall s / peak RSS MiB | {wall:.1f} / {rss:.0f} |"]
    text = "\n".join(lines) + "\n"
    print(text)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1))


def seam_line(result: dict) -> str:
    return f"{result['seam_psnr_db']:.2f} / {result['interior_psnr_db']:.2f} dB"


def psnr(mse: float) -> float:
    return float(10 * np.log10(255.0**2 / mse)) if mse > 0 else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time", type=float, default=600.0)
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "large_photo.md")
    ap.add_argument("--seams", action="store_true", help="measure band seams at a real quality instead (see above)")
    ap.add_argument("--band-pixels", type=int, default=1 << 17)
    args = ap.parse_args()
    if args.seams:
        seams(args.band_pixels, args.preset, args.out)
        return
    photo = mosaic()
    with tempfile.TemporaryDirectory() as tmp:
        src, enc, dec = Path(tmp) / "mosaic.png", Path(tmp) / "mosaic.spdr", Path(tmp) / "decoded.png"
        Image.fromarray(photo).save(src, compress_level=1)
        enc_wall, enc_rss, enc_out = spdr("encode", str(src), "--preset", args.preset, "--time", f"{args.time:g}", "-q",
                                          "-o", str(enc), timeout=args.time * 3 + 600)
        facts = json.loads(spdr("info", str(enc), "--json", timeout=600)[2])
        dec_wall, dec_rss, _ = spdr("decode", str(enc), "-o", str(dec), timeout=3600)
        back = np.asarray(Image.open(dec))
        size = enc.stat().st_size
    rows = [n for n, _ in facts["header"]["segments"]]
    err = np.mean((back.astype(np.float64) - photo) ** 2, axis=(1, 2))  # per row
    near = np.zeros(HEIGHT, dtype=bool)
    for border in np.cumsum(rows)[:-1]:
        near[border - SEAM_ROWS:border + SEAM_ROWS] = True
    result = {
        "provenance": provenance(seed=0, device="cpu"), "width": WIDTH, "height": HEIGHT, "preset": args.preset, "time_s": args.time,
        "encode_wall_s": enc_wall, "encode_peak_rss_mib": enc_rss, "decode_wall_s": dec_wall, "decode_peak_rss_mib": dec_rss,
        "bytes": size, "bpp": 8 * size / (WIDTH * HEIGHT), "bands": len(rows), "rows_per_band": [min(rows), max(rows)],
        "decoded_size": [int(back.shape[1]), int(back.shape[0])], "psnr_db": psnr(float(err.mean())),
        "seam_psnr_db": psnr(float(err[near].mean())), "interior_psnr_db": psnr(float(err[~near].mean())),
        "encoder_lines": enc_out.strip().splitlines(),
    }
    ok = "under" if enc_rss < MEMORY_BOUND_MIB else "OVER"
    lines = ["# A 8000x6000 photo in bounded memory (format 1.7 bands)", "", markdown_provenance(result["provenance"]), "",
             f"Photo: a {WIDTH}x{HEIGHT} mosaic of {TILE}x{TILE} windows of scikit-image's {', '.join(PHOTOS)} (seed 0). "
             f"`spdr encode --preset {args.preset} --time {args.time:g}` then `spdr decode`, each in a fresh process.", "",
             "| measure | value |", "|---|---|",
             f"| encode wall s (--time {args.time:g}) | {enc_wall:.1f} |",
             f"| encode peak RSS MiB | **{enc_rss:.0f}** ({ok} the {MEMORY_BOUND_MIB} MiB bound) |",
             f"| decode wall s / peak RSS MiB | {dec_wall:.1f} / {dec_rss:.0f} |",
             f"| file | {size:,} B, {result['bpp']:.3f} bpp, {len(rows)} bands of {min(rows)}-{max(rows)} rows |",
             f"| decoded size | {back.shape[1]}x{back.shape[0]} |",
             f"| PSNR, whole photo | {result['psnr_db']:.2f} dB |",
             f"| PSNR, rows within {SEAM_ROWS} of a band border / elsewhere | {seam_line(result)} |"]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
