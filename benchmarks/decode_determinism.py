"""Decode determinism across CPU thread counts, and what it costs in decode and fitting speed.

For each mode (default: MKL_CBWR unset; strict: MKL_CBWR=AUTO,STRICT, what inrcodec sets; strict with
the former 65536-row render chunks) and
thread count, a fresh process renders the same file and reports the SHA-256 of the float samples, the
render time, and the time of a few fitting steps. Writes benchmarks/results/decode_determinism.{json,md}.
Usage: python benchmarks/decode_determinism.py [--size 512] [--width 256] [--depth 3] [--repeats 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import markdown_provenance, provenance  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MODES = ("default", "strict", "strict-65536-rows")

CHILD = r"""
import hashlib, json, os, sys, time
mode = sys.argv[1]
threads, size, width, depth, repeats = map(int, sys.argv[2:7])
sys.path.insert(0, os.getcwd())
if mode != "default":  # what the spdr program does; before the first BLAS call, which reads it
    os.environ["MKL_CBWR"] = "AUTO,STRICT"
import torch
torch.set_num_threads(threads)
from inrcodec.format import limits as safety
from inrcodec.codec.runtime import render
from inrcodec.train.fit import FitOptions, fit
from inrcodec.nn.coords import grid_coords
from inrcodec.nn.registry import build_model
if mode == "strict-65536-rows":  # the chunking before safety.render_rows bounded activation memory
    safety.render_rows = lambda arch: 1 << 16
torch.manual_seed(0)
arch = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 3, "width": width, "depth": depth,
        "omega0": 30.0, "first_omega0": 30.0}
model = build_model(arch).eval()
header = {"arch": arch, "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
          "values": {"offset": [0.0] * 3, "scale": [1.0] * 3}}
render(model, header, (64, 64))  # warm-up
best = float("inf")
for _ in range(repeats):
    t = time.perf_counter()
    out = render(model, header, (size, size))
    best = min(best, time.perf_counter() - t)
coords = grid_coords((128, 128))
values = torch.rand(128 * 128, 3) * 2 - 1
t = time.perf_counter()
fit(build_model(arch), coords, values, FitOptions(steps=20, compile=False))
fit_s = time.perf_counter() - t
print(json.dumps({"mode": mode, "threads": threads, "sha256": hashlib.sha256(out.tobytes()).hexdigest()[:16],
                  "render_s": round(best, 3), "fit20_s": round(fit_s, 3), "rows_per_chunk": safety.render_rows(arch)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=512, help="render size (pixels per side)")
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2, help="renders per process (best kept)")
    ap.add_argument("--rounds", type=int, default=3, help="processes per configuration, interleaved (best kept)")
    ap.add_argument("--threads", default="1,2,3")
    args = ap.parse_args()
    rows: dict[tuple[str, int], dict] = {}
    for _ in range(args.rounds):  # modes interleaved round by round, best time kept: load from other jobs hits all alike
        for mode in MODES:
            for threads in map(int, args.threads.split(",")):
                cmd = [sys.executable, "-c", CHILD, mode, str(threads), str(args.size), str(args.width), str(args.depth), str(args.repeats)]
                env = {k: v for k, v in os.environ.items() if k != "MKL_CBWR"}
                got = json.loads(subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, check=True).stdout)
                print(got, flush=True)
                old = rows.setdefault((mode, threads), got)
                assert old["sha256"] == got["sha256"], "a decode changed between runs of the same configuration"
                old["render_s"], old["fit20_s"] = min(old["render_s"], got["render_s"]), min(old["fit20_s"], got["fit20_s"])
    rows = list(rows.values())
    hashes = {mode: {r["sha256"] for r in rows if r["mode"] == mode} for mode in MODES}
    prov = provenance(seed=0)
    result = {"provenance": prov, "size": args.size, "width": args.width, "depth": args.depth, "rows": rows,
              "identical_across_threads": {m: len(h) == 1 for m, h in hashes.items()}}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "decode_determinism.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [f"# Decode determinism across thread counts ({args.size}x{args.size} render, spder {args.width}x{args.depth}, RGB)", "",
             "Times are the best of every run of a configuration; the network's weights come from torch.manual_seed(0).", "",
             markdown_provenance(prov), "",
             "| mode | threads | rows per chunk | float samples SHA-256 | render (best of repeats) | 20 fit steps 128x128 |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['mode']} | {r['threads']} | {r['rows_per_chunk']} | `{r['sha256']}` | {r['render_s']:.3f} s | "
                     f"{r['fit20_s']:.3f} s |")
    lines += ["", "Identical output for every thread count: " + ", ".join(f"{m}: {'yes' if ok else 'NO'}"
                                                                        for m, ok in result["identical_across_threads"].items()), ""]
    (RESULTS / "decode_determinism.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
