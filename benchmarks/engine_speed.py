"""Speed of the image engine end to end, against the issue's CPU targets: `spdr encode --preset fast`
of a 768x512 RGB photo in at most 3 minutes, `spdr decode` of that file in at most 1 second (entropy
decoding included), and bounded memory for an 8192x8192 render.

Each number is one run of the real command in a fresh process (`spdr encode`, `spdr decode`), wall
seconds and peak RSS from the child's rusage; the decode is also timed inside Python (import of
torch excluded) and split into entropy decoding and rendering. Prints a Markdown table and writes it
with provenance to --out.

    python benchmarks/engine_speed.py --photo motorcycle --out benchmarks/results/engine_speed.md
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _provenance import ROOT, markdown_provenance, provenance  # noqa: E402
from procstats import measured_spdr  # noqa: E402

from inrcodec.bench.rd import load_rgb  # noqa: E402

SIZE = (768, 512)  # width, height: the photo size


def photo_768x512(name: str) -> np.ndarray:
    """The photo area-averaged so it covers 768x512, centre-cropped to exactly that."""
    px = load_rgb(name, None)
    img = Image.fromarray(px)
    f = max(SIZE[0] / img.width, SIZE[1] / img.height)
    img = img.resize((max(SIZE[0], round(img.width * f)), max(SIZE[1], round(img.height * f))), Image.Resampling.BOX)
    left, top = (img.width - SIZE[0]) // 2, (img.height - SIZE[1]) // 2
    return np.asarray(img.crop((left, top, left + SIZE[0], top + SIZE[1])))


def timed(*args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of `spdr ARGS` in a fresh process (tests/procstats.py)."""
    code, stdout, stderr, _, rss, wall = measured_spdr(*args, cwd=ROOT, timeout=1800, wall=True)
    if code != 0:
        raise SystemExit(f"spdr {' '.join(args)} failed: {stderr.strip().splitlines()[-1] if stderr.strip() else code}")
    return wall, rss, stdout


def in_process_decode(path: Path) -> dict:
    """inrcodec.decode of the file (torch already imported), and its entropy decoding alone (best of 3)."""
    import inrcodec
    from inrcodec.format.limits import read_checked

    inrcodec.decode(path)  # warm: first-call allocations and kernel selection
    data = path.read_bytes()
    entropy, total = [], []
    for _ in range(3):
        t0 = time.perf_counter()
        read_checked(data)
        t1 = time.perf_counter()
        inrcodec.decode(path)
        t2 = time.perf_counter()
        entropy.append(t1 - t0)
        total.append(t2 - t1)
    return {"entropy_decode_s": min(entropy), "decode_call_s": min(total)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", default="motorcycle")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--device", default="cpu", help="the encode's device (decoding is timed on the CPU, as the target says)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/engine_speed.md"))
    ap.add_argument("--eager-too", action="store_true",
                    help="also time the same encode unfused (SPDR_COMPILE=0: eager activations and rate), in this run")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="spdr-speed-") as tmp:
        folder = Path(tmp)
        src, spdr = folder / "photo.png", folder / "photo.spdr"
        Image.fromarray(photo_768x512(a.photo)).save(src)
        enc_wall, enc_rss, enc_out = timed("encode", str(src), "-o", str(spdr), "--preset", a.preset, "--device", a.device, "--json")
        eager = None
        if a.eager_too:  # the same encode with eager activations, for the ratio (same machine, same run)
            os.environ["SPDR_COMPILE"] = "0"
            try:
                eager = timed("encode", str(src), "-o", str(folder / "eager.spdr"), "--preset", a.preset, "--device", a.device, "--json")
            finally:
                del os.environ["SPDR_COMPILE"]
        dec_wall, dec_rss, _ = timed("decode", str(spdr), "-o", str(folder / "out.png"))
        big_wall, big_rss, _ = timed("decode", str(spdr), "--size", "8192x8192", "-o", str(folder / "big.png"))
        net_wall, net_rss, _ = timed("decode", str(spdr), "--size", "8192x8192", "--resample", "network", "-o", str(folder / "bign.png"))
        inside = in_process_decode(spdr)
        size = spdr.stat().st_size
    goal = "<= 180 s" if (a.preset, a.device) == ("fast", "cpu") else "<= 60 s" if a.device == "cuda" else ""
    rows = [(f"spdr encode --preset {a.preset} --device {a.device}", enc_wall, enc_rss, goal),
            *([(f"  the same, unfused (SPDR_COMPILE=0): {json.loads(eager[2])['psnr_db']:.2f} dB, "
                f"{json.loads(eager[2])['bytes']} B", eager[0], eager[1], f"fused is {eager[0] / enc_wall:.2f}x faster")] if eager else []),
            ("spdr decode (native 768x512 PNG)", dec_wall, dec_rss, "<= 1 s"),
            ("  inrcodec.decode in a warm process", inside["decode_call_s"], None, ""),
            ("  of which entropy decoding + checks", inside["entropy_decode_s"], None, ""),
            ("spdr decode --size 8192x8192 (Lanczos of the native pixels)", big_wall, big_rss, "bounded memory"),
            ("spdr decode --size 8192x8192 --resample network", net_wall, net_rss, "bounded memory")]
    report = json.loads(enc_out)
    md = [f"# Image engine speed: {a.photo} at {SIZE[0]}x{SIZE[1]}, one run each", "",
          f"Encode: {report['steps']} steps, PSNR {report['psnr_db']:.2f} dB (decoded).", "",
          f"File: {size} bytes ({8 * size / (SIZE[0] * SIZE[1]):.3f} bpp).", "",
          "| what | wall s | peak RSS MiB | target |", "|---|---|---|---|"]
    md += [f"| {w} | {t:.2f} | {'' if r is None else f'{r:.0f}'} | {goal} |" for w, t, r, goal in rows]
    md += ["", "Wall seconds of a fresh process include starting Python and importing torch (about 1-2 s here).",
           "", "## Provenance", "", markdown_provenance(provenance(seed=0))]
    text = "\n".join(md) + "\n"
    print(text)
    Path(a.out).write_text(text)
    Path(a.out).with_suffix(".json").write_text(json.dumps({"rows": [dict(zip(("what", "wall_s", "peak_rss_mib", "target"), r,
                                                                               strict=True)) for r in rows],
                                                           "bytes": size, "provenance": provenance(seed=0)}, indent=1) + "\n")


if __name__ == "__main__":
    main()
