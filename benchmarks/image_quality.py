"""Image quality per preset: bits per pixel, PSNR, rho_AG, seconds and the quantization drop.

camera and astronaut (scikit-image) resized to 256x256 with Pillow LANCZOS, grey and RGB, each
encoded through inrcodec.encode into a real .spdr file; every figure except the float PSNR is
measured from that file (its size, and the pixels inrcodec.decode renders from it). Prints a
Markdown table and writes benchmarks/results/image_quality.md and .json.

    python benchmarks/image_quality.py [--presets fast,balanced] [--images camera,astronaut]
        [--modes grey,rgb] [--device auto] [--time-paper 240] [--seed 0] [--merge]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import inrcodec  # noqa: E402
from inrcodec.codec.presets import PRESET_SPECS, PRESETS  # noqa: E402
from inrcodec.media.image import pixels_to_unit  # noqa: E402
from inrcodec.metrics import psnr, rho_ag  # noqa: E402
from inrcodec.nn.device import pick_device  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
IMAGES = ("camera", "astronaut")
MODES = ("grey", "rgb")
DEFAULT_PRESETS = ("fast", "balanced")  # max and paper take longer than ~10 min on 2 CPU cores
COLUMNS = ["image", "mode", "preset", "network", "bits", "steps", "bytes", "bpp", "psnr_db", "float_psnr_db", "drop_db",
           "rho_ag", "seconds", "run", "note"]


def source_pixels(name: str, mode: str, size: int) -> np.ndarray:
    """The test photo as uint8 (size, size, C): Pillow LANCZOS resize, then 'L' or 'RGB'."""
    from skimage import data

    img = Image.fromarray(getattr(data, name)())
    img = img.resize((size, size), Image.Resampling.LANCZOS).convert("L" if mode == "grey" else "RGB")
    a = np.asarray(img)
    return a[..., None] if a.ndim == 2 else a


def machine(device: str) -> dict:
    """CPU model, cores, torch version and the device the encodes ran on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    dev = pick_device(device)
    gpu = torch.cuda.get_device_name(dev) if dev.type == "cuda" else None
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "device": str(dev), "gpu": gpu, "python": platform.python_version()}


def measure(name: str, mode: str, preset: str, args: argparse.Namespace, folder: Path) -> dict:
    """Encode one photo with one preset into a file and measure that file."""
    px = source_pixels(name, mode, args.size)
    path = folder / f"{name}-{mode}-{preset}.spdr"
    settings: dict = {"preset": preset, "seed": args.seed, "device": args.device}
    note = ""
    if preset == "paper" and args.time_paper:
        settings["time_limit"] = args.time_paper
    if args.steps is not None:
        settings["steps"] = args.steps
    t0 = time.perf_counter()
    result = inrcodec.encode(px, path, force=True, **settings)
    seconds = time.perf_counter() - t0
    full_steps = args.steps if args.steps is not None else PRESET_SPECS[preset].steps + PRESET_SPECS[preset].qat_steps
    if "time_limit" in settings and result.steps < full_steps:
        note = f"time limit {args.time_paper:g} s: {result.steps} of {full_steps} steps"
    data = path.read_bytes()
    decoded = inrcodec.decode(path, device=args.device)
    ref, out = pixels_to_unit(px, 8), pixels_to_unit(decoded, 8)
    db = psnr(out, ref)
    arch = inrcodec.info(data)["header"]["arch"]
    return {
        "image": name, "mode": mode, "preset": preset, "size": args.size,
        "network": f"{arch['width']}x{arch['depth']}", "params": result.params, "bits": result.resolved.bits,
        "steps": result.steps, "bytes": len(data), "bpp": 8 * len(data) / (px.shape[0] * px.shape[1]),
        "psnr_db": db, "float_psnr_db": result.float_psnr_db, "drop_db": result.float_psnr_db - db,
        "rho_ag": rho_ag(out, ref, axes=(0, 1)), "seconds": seconds, "reported_psnr_db": result.psnr_db, "note": note,
    }


def fmt(row: dict, col: str) -> str:
    v = row.get(col, "")
    if isinstance(v, float):
        return {"bpp": f"{v:.3f}", "rho_ag": f"{v:.5f}", "seconds": f"{v:.1f}"}.get(col, f"{v:.2f}")
    return str(v)


def markdown(rows: list[dict], runs: list[dict]) -> str:
    """The results file: table, then how it was measured and on what."""
    lines = [
        "# Image quality per preset",
        "",
        "camera and astronaut from scikit-image, resized to 256x256 with Pillow LANCZOS, grey ('L') and RGB (camera is",
        "a grey photo: its RGB rows carry three equal channels). Each row is one `inrcodec.encode` into a `.spdr` file;",
        "`bytes`/`bpp` are that file's size, `psnr_db` and `rho_ag` compare the pixels `inrcodec.decode` renders from the",
        "file with the source pixels. `float_psnr_db` is the float network's best full-batch fit loss before",
        "quantization (the fit's own figure, not re-measured from the file); `drop_db` = float - decoded. A negative",
        "drop means the quantization-aware tuning steps (which train on after the float fit) gained more than rounding lost.",
        "`seconds` is the wall time of the encode call (fit, quantization-aware tuning, packing, one verifying decode).",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    key = {p: i for i, p in enumerate(PRESETS)}
    for row in sorted(rows, key=lambda r: (r["image"], r["mode"], key.get(r["preset"], 99))):
        lines.append("| " + " | ".join(fmt(row, c) for c in COLUMNS) + " |")
    if any(r["preset"] == "paper" and r.get("note") for r in rows):
        lines += ["", "The paper preset (a 5x256 network, full batch, lr 1e-4) takes about 2 s per 256x256 step on 2 CPU",
                  "cores; its rows ran under a time limit (`--time-paper`, see `note`), so they show an unfinished fit."]
    lines += ["", "## Runs", ""]
    for i, run in enumerate(runs):
        m = run["machine"]
        lines += [f"{i + 1}. `{run['command']}` (seed {run['seed']}): {', '.join(run['presets'])} presets",
                  f"   on {m['cpu']} ({m['cores']} cores, {m['torch_threads']} torch threads), {m['device']}"
                  + (f" ({m['gpu']})" if m.get("gpu") else "") + f", torch {m['torch']}, Python {m['python']}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", default=",".join(DEFAULT_PRESETS), help=f"comma list from {','.join(PRESETS)}")
    ap.add_argument("--images", default=",".join(IMAGES), help="comma list of scikit-image photos")
    ap.add_argument("--modes", default=",".join(MODES), help="comma list from grey,rgb")
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"))
    ap.add_argument("--time-paper", type=float, default=240.0, help="time limit for the paper preset (0: none)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=256, help="side of the square test images")
    ap.add_argument("--steps", type=int, default=None, help="override every preset's steps (smoke tests only)")
    ap.add_argument("--merge", action="store_true", help="keep rows of the existing results that this run does not redo")
    ap.add_argument("--out", type=Path, default=RESULTS / "image_quality", help="results path without extension")
    args = ap.parse_args()
    presets, images, modes = (s.split(",") for s in (args.presets, args.images, args.modes))
    bad = [p for p in presets if p not in PRESETS] + [m for m in modes if m not in MODES]
    if bad:
        ap.error(f"unknown preset or mode: {', '.join(bad)}")

    command = "python " + shlex.join([os.path.relpath(sys.argv[0], ROOT), *sys.argv[1:]])
    run = {"command": command, "seed": args.seed, "presets": presets, "machine": machine(args.device)}
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in images:
            for mode in modes:
                for preset in presets:
                    row = measure(name, mode, preset, args, Path(tmp))
                    rows.append(row)
                    print(f"{name:9s} {mode:4s} {preset:8s} " + "  ".join(f"{c} {fmt(row, c)}" for c in COLUMNS[3:-2]),
                          flush=True)

    runs = [run]
    json_path, md_path = args.out.with_suffix(".json"), args.out.with_suffix(".md")
    if args.merge and json_path.exists():
        old = json.loads(json_path.read_text())
        done = {(r["image"], r["mode"], r["preset"]) for r in rows}
        kept = [r for r in old["rows"] if (r["image"], r["mode"], r["preset"]) not in done]
        runs = old["runs"] + runs
        for r in rows:
            r["run"] = len(runs)
        rows = kept + rows
    else:
        for r in rows:
            r["run"] = 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps({"rows": rows, "runs": runs}, indent=1) + "\n")
    text = markdown(rows, runs)
    md_path.write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
