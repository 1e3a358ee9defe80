"""One short GPU check (issue 5 and 7): the paper net on a 256x256 photo, 500 steps, on CUDA.

Measures side by side in one run: the naive eager loop, spdr's loop in fp32 / TF32 / bf16 (and
CUDA graphs), decode throughput, and the difference between CPU and CUDA decodes of one file.
Prints a Markdown table and writes it to --out (default benchmarks/results/gpu_check.md).
Usage on the GPU machine: python benchmarks/gpu_check.py --out $OUT/gpu_check.md

With --rd FOLDER it then runs the rate-distortion comparison at full size on CUDA (`spdr bench rd
--paper`: photos up to 768 px on the long side, preset balanced; hours, not minutes, so opt-in),
writing rd.json, rd.md and rd_curves.png to FOLDER.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed import decode_mps, machine, matmul_peak, photo, time_naive, time_spdr  # noqa: E402


def cpu_vs_cuda_decode(tmp: Path) -> dict:
    """Encode camera (256x256, balanced preset) on CUDA; decode on CPU and CUDA; compare pixels."""
    from PIL import Image
    from skimage import data

    import inrcodec
    from inrcodec.metrics import psnr

    src = tmp / "camera256.png"
    Image.fromarray(data.camera()).resize((256, 256), Image.Resampling.LANCZOS).save(src)
    t = time.perf_counter()
    res = inrcodec.encode(src, tmp / "camera256.spdr", force=True, device="cuda")
    enc_s = time.perf_counter() - t
    ref = np.asarray(Image.open(src), dtype=np.float64)[..., None] / 127.5 - 1
    a = inrcodec.decode(tmp / "camera256.spdr", device="cpu")
    b = inrcodec.decode(tmp / "camera256.spdr", device="cuda")
    pa, pb = psnr(a / 127.5 - 1, ref), psnr(b / 127.5 - 1, ref)
    return {
        "encode_s": enc_s,
        "encode_psnr_db": res.psnr_db,
        "psnr_cpu_db": pa,
        "psnr_cuda_db": pb,
        "diff_db": abs(pa - pb),
        "pixels_differing": int((a != b).sum()),
        "max_abs_pixel_diff": int(np.abs(a.astype(int) - b.astype(int)).max()),
    }


def rd_bench(out_dir: str) -> int:
    """`spdr bench rd --paper --device cuda` into `out_dir` (the issue's comparison, full size); its exit code."""
    import subprocess

    cmd = [sys.executable, "-c", "from inrcodec.cli import main; main()", "bench", "rd", "--paper", "--device", "cuda",
           "--out", out_dir, "--force"]
    print("running:", " ".join(cmd[3:]), flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/gpu_check.md"))
    ap.add_argument("--rd", metavar="FOLDER", help="then run `spdr bench rd --paper` on CUDA into FOLDER (long)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device")
    dev = torch.device("cuda")
    x, y = photo(args.size, dev)
    peak = matmul_peak(dev, 4096)
    torch.backends.cuda.matmul.allow_tf32 = True
    peak_tf32 = matmul_peak(dev, 4096)
    torch.backends.cuda.matmul.allow_tf32 = False
    rows = []
    naive = time_naive(256, 5, x, y, args.steps, dev, 1e-4)
    rows.append(("naive eager, fp32", naive["ms_per_step"] * args.steps / 1e3, naive["psnr_db"], 0.0))
    for label, prec, mode in (
        ("spdr, fp32", "fp32", None),
        ("spdr, TF32", "tf32", None),
        ("spdr, bf16 autocast", "bf16", None),
        ("spdr, TF32 + CUDA graphs", "tf32", "reduce-overhead"),
        ("spdr, fp32 + CUDA graphs", "fp32", "reduce-overhead"),
    ):
        try:
            r = time_spdr(256, 5, x, y, args.steps, dev, 1e-4, precision=prec, compile=True, mode=mode)
            rows.append((label, r["seconds"], r["psnr_db"], r["warmup_s"]))
        except Exception as e:  # report and go on: one failing mode must not hide the others
            traceback.print_exc()
            rows.append((label + f" (failed: {type(e).__name__})", float("nan"), float("nan"), float("nan")))
        print(rows[-1], flush=True)
    dec = decode_mps(256, 5, 2048, dev)
    tmp = Path("/tmp/spdr_gpu_check")
    tmp.mkdir(exist_ok=True)
    try:
        cc = cpu_vs_cuda_decode(tmp)
    except Exception as e:
        traceback.print_exc()
        cc = {"error": f"{type(e).__name__}: {e}"}
    lines = [
        f"# GPU check ({machine(dev)})",
        "",
        f"Command: `python benchmarks/gpu_check.py {' '.join(sys.argv[1:])}`. Paper net (5 hidden x 256, sqrt damping), "
        f"{args.size}x{args.size} grey camera, {args.steps} full-batch Adam steps at lr 1e-4 (constant), seconds after compilation.",
        f"Matmul peak measured in this run: fp32 {peak / 1e3:.1f} TFLOP/s, TF32 {peak_tf32 / 1e3:.1f} TFLOP/s.",
        "",
        f"| loop | seconds for {args.steps} steps | PSNR after (dB) | compile/warm-up s |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b:.3f} | {c:.2f} | {d:.1f} |" for a, b, c, d in rows]
    lines += [
        "",
        f"Decode throughput, paper net, 2048x2048 render: {dec:.1f} MP/s.",
        "",
        "CPU vs CUDA decode of one file (camera 256x256, balanced preset, encoded on CUDA): " + json.dumps(cc),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps({"machine": machine(dev), "rows": rows, "decode_mps": dec, "cpu_vs_cuda": cc}, indent=1))
    if args.rd:
        sys.exit(rd_bench(args.rd))


if __name__ == "__main__":
    main()
