"""Several processes on one machine: the speed-up of `torchrun --nproc-per-node N` over one process, side by side.

One multi-segment clip (the guitar, cut into --segment-second segments) encoded at fixed steps, so each run
does the same work:
1. one process with every core's threads (what `spdr encode` does by default),
2. one process with --threads 1 (the reference the ranks' bytes must equal),
3. torchrun with N processes, one thread each (torchrun's default OMP_NUM_THREADS=1).
Wall seconds of each, speed-up of 3 over 1 and over 2, and whether 3's file equals 2's byte for byte.
On a GPU machine, N = the GPU count gives one rank a GPU (cuda:LOCAL_RANK); pass --device cuda.

    python benchmarks/ranks.py --out benchmarks/results/ranks.md
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _provenance import ROOT, markdown_provenance, provenance  # noqa: E402

CLIP = ROOT.parent / "shared" / "media" / "audio" / "guit_em9.flac"


def timed(cmd: list[str], threads: int | None) -> float:
    """Wall seconds of `cmd` (exits on failure)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["MKL_CBWR"] = "AUTO,STRICT"
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    start = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - start
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed: {run.stderr.strip().splitlines()[-1] if run.stderr.strip() else run.returncode}")
    return wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, default=CLIP)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--segment", type=float, default=2.5)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ranks.md")
    args = ap.parse_args()
    common = ["encode", str(args.clip), "--steps", str(args.steps), "--segment", str(args.segment), "--device", args.device,
              "-q", "--force"]
    with tempfile.TemporaryDirectory() as tmp:
        files = {name: Path(tmp) / f"{name}.spdr" for name in ("all", "one", "ranks")}
        spdr = [sys.executable, "-m", "inrcodec"]
        walls = {
            "all": timed(spdr + common + ["-o", str(files["all"])], None),
            "one": timed(spdr + common + ["--threads", "1", "-o", str(files["one"])], None),
            "ranks": timed([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(args.processes),
                            "-m", "inrcodec"] + common + ["-o", str(files["ranks"])], 1),
        }
        same = files["ranks"].read_bytes() == files["one"].read_bytes()
        info = json.loads(subprocess.run(spdr + ["info", str(files["ranks"]), "--json"], capture_output=True, text=True,
                                         cwd=ROOT).stdout)
    segments = len(info["header"]["segments"])
    rows = [("1 process, all threads", walls["all"]), ("1 process, --threads 1", walls["one"]),
            (f"torchrun, {args.processes} processes x 1 thread", walls["ranks"])]
    lines = ["# Several processes: torchrun against one process", "", markdown_provenance(provenance(device=args.device)), "",
             f"Clip: {args.clip.name}, {segments} segments of about {args.segment:g} s, {args.steps} steps a segment "
             f"(fixed, so every run does the same fits). Runs one after another on the same machine.", "",
             "| run | wall s | speed-up of torchrun over it |", "|---|---|---|"]
    lines += [f"| {name} | {wall:.1f} | {wall / walls['ranks']:.2f}x |" for name, wall in rows]
    lines += ["", f"torchrun's file equals the one-process --threads 1 file byte for byte: **{'yes' if same else 'NO'}**"]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps({"provenance": provenance(device=args.device), "clip": args.clip.name,
                                                         "segments": segments, "steps": args.steps, "processes": args.processes,
                                                         "wall_s": walls, "identical": same}, indent=1))


if __name__ == "__main__":
    main()
