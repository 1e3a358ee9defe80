"""Fitting and decoding speed: spdr's loop against the naive eager formulation, side by side.

Prints a Markdown table and writes benchmarks/results/speed.md (+ .json). Every ratio is measured
in one run on the same machine. Usage: python benchmarks/speed.py [--steps N] [--device D] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from inrcodec.codec.runtime import render  # noqa: E402
from inrcodec.nn.coords import grid_coords  # noqa: E402
from inrcodec.nn.registry import build_model  # noqa: E402
from inrcodec.train.fit import FitOptions, fit, linear_macs  # noqa: E402


class NaiveSPDER(nn.Module):
    """The formulation from issue 5: nn.Linear stack, sin(z) * sqrt(max(|z|, eps)), autograd throughout."""

    def __init__(self, width: int, depth: int, out: int = 1):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(2, width)] + [nn.Linear(width, width) for _ in range(depth)])
        self.head = nn.Linear(width, out)
        with torch.no_grad():
            self.layers[0].weight.uniform_(-0.5, 0.5)
            for layer in list(self.layers[1:]) + [self.head]:
                b = math.sqrt(6 / width) / 30
                layer.weight.uniform_(-b, b)

    def forward(self, x):
        for layer in self.layers:
            z = 30.0 * layer(x)
            x = torch.sin(z) * torch.sqrt(torch.clamp(z.abs(), min=1e-6))
        return self.head(x)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def photo(size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-image's camera at size x size in [-1, 1], with its pixel-centre coordinates."""
    from PIL import Image
    from skimage import data

    img = np.asarray(Image.fromarray(data.camera()).resize((size, size), Image.Resampling.LANCZOS), dtype=np.float32)
    y = torch.from_numpy(img / 127.5 - 1).reshape(-1, 1).to(device)
    return grid_coords([size, size], device=device), y


def psnr_of(loss: float) -> float:
    return 10 * math.log10(4 / loss) if loss > 0 else math.inf


def time_naive(width: int, depth: int, x, y, steps: int, device, lr: float) -> dict:
    torch.manual_seed(0)
    model = NaiveSPDER(width, depth).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=lr)

    def step():
        loss = torch.mean((model(x) - y) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for _ in range(2):
        step()
    sync(device)
    t = time.perf_counter()
    best = math.inf
    for _ in range(steps):
        best = min(best, float(step()))  # the naive loop reads every loss
    sync(device)
    dt = (time.perf_counter() - t) / steps
    return {"ms_per_step": 1e3 * dt, "psnr_db": psnr_of(best), "macs": linear_macs(model)}


def time_spdr(
    width: int,
    depth: int,
    x,
    y,
    steps: int,
    device,
    lr: float,
    precision: str = "fp32",
    compile: bool | None = True,
    mode: str | None = None,
) -> dict:
    arch = dict(activation="spder", damping="sqrt", in_features=2, out_features=1, width=width, depth=depth, omega0=30.0, first_omega0=30.0)
    torch.manual_seed(0)
    model = build_model(arch).to(device)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    t = time.perf_counter()
    fit(model, x, y, FitOptions(steps=3, lr=lr, compile=compile, compile_mode=mode, precision=precision))
    sync(device)
    warm_s = time.perf_counter() - t
    model.load_state_dict(initial)  # same module: the compiled graph is reused, the weights start afresh
    sync(device)
    t = time.perf_counter()
    res = fit(model, x, y, FitOptions(steps=steps, lr=lr, lr_final=1.0, compile=compile, compile_mode=mode, precision=precision))
    sync(device)
    total = time.perf_counter() - t
    torch.backends.cuda.matmul.allow_tf32 = False
    return {
        "ms_per_step": 1e3 * total / steps,
        "seconds": total,
        "psnr_db": psnr_of(res.best_loss),
        "warmup_s": warm_s,
        "compiled": res.compiled,
        "macs": linear_macs(model),
    }


def matmul_peak(device: torch.device, n: int = 2048, dtype=torch.float32) -> float:
    """Measured fp32 matmul GFLOP/s of this machine (the reference for 'percent of peak')."""
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    sync(device)
    reps = 10 if device.type == "cpu" else 100
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - t) / 1e9


def decode_mps(width: int, depth: int, side: int, device) -> float:
    """Megapixels per second rendering a side x side image through codec.render (chunked)."""
    arch = dict(activation="spder", damping="sqrt", in_features=2, out_features=1, width=width, depth=depth, omega0=30.0, first_omega0=30.0)
    model = build_model(arch)
    header = {"arch": arch, "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
              "values": {"offset": [0.0], "scale": [1.0]}}
    render(model, header, (64, 64), device=device)
    sync(device)
    t = time.perf_counter()
    render(model, header, (side, side), device=device)
    sync(device)
    return side * side / (time.perf_counter() - t) / 1e6


def machine(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name()} (torch {torch.__version__})"
    cpu = platform.processor() or "cpu"
    try:
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {torch.get_num_threads()} threads (torch {torch.__version__})"


def peak_rss_decode(size: str, preset_file: Path) -> tuple[float, float]:
    """(seconds, peak resident MB) of `spdr decode --size` in a child process."""
    code = (
        "import resource, sys, time; from inrcodec.cli import main; t = time.time()\n"
        "try:\n main(sys.argv[1:])\nexcept SystemExit as e:\n assert not e.code, e.code\n"
        "print(time.time() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    out = preset_file.with_suffix(".big.png")
    r = subprocess.run(
        [sys.executable, "-c", code, "decode", str(preset_file), "--size", size, "-o", str(out), "--force", "-q"],
        capture_output=True,
        text=True,
        check=True,
    )
    out.unlink(missing_ok=True)
    secs, mb = r.stdout.split()[-2:]
    return float(secs), float(mb)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/speed"))
    ap.add_argument("--encode", action="store_true", help="also time the default preset on the 512x512 astronaut")
    ap.add_argument("--big-decode", action="store_true", help="also decode a paper-preset file at 8192x8192 (minutes)")
    args = ap.parse_args()
    device = torch.device(args.device)
    peak = matmul_peak(device)
    rows = []
    for width, depth, side, lr in ((64, 3, 256, 1e-3), (256, 5, 128, 1e-4)):
        x, y = photo(side, device)
        naive = time_naive(width, depth, x, y, args.steps, device, lr)
        eager = time_spdr(width, depth, x, y, args.steps, device, lr, compile=False)
        ours = time_spdr(width, depth, x, y, args.steps, device, lr, compile=True)
        gflops = 6 * ours["macs"] * side * side / (ours["ms_per_step"] / 1e3) / 1e9
        rows.append(
            {
                "net": f"{depth} hidden x {width}",
                "data": f"{side}x{side} grey",
                "steps": args.steps,
                "naive_ms": naive["ms_per_step"],
                "spdr_eager_ms": eager["ms_per_step"],
                "spdr_ms": ours["ms_per_step"],
                "speedup": naive["ms_per_step"] / ours["ms_per_step"],
                "gflops": gflops,
                "peak_gflops": peak,
                "pct_peak": 100 * gflops / peak,
                "compile_s": ours["warmup_s"],
                "psnr_eager_db": eager["psnr_db"],
                "psnr_spdr_db": ours["psnr_db"],
                "psnr_naive_db": naive["psnr_db"],
            }
        )
        print(rows[-1], flush=True)
    dec = {f"{w}x{d}": decode_mps(w, d, 1024, device) for w, d in ((64, 3), (256, 5))}
    lines = [
        f"# Speed ({machine(device)})",
        "",
        f"Command: `python benchmarks/speed.py {' '.join(sys.argv[1:])}`; fp32 matmul peak measured in this run: {peak:.0f} GFLOP/s.",
        "Timings are steady-state steps after compilation (compile time in its own column); PSNR after the timed steps.",
        "",
        "| net | data | naive eager ms/step | spdr eager ms/step | spdr ms/step | speed-up vs naive | GFLOP/s | % of matmul peak | compile s | PSNR naive / spdr eager / spdr dB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['net']} | {r['data']} | {r['naive_ms']:.1f} | {r['spdr_eager_ms']:.1f} | {r['spdr_ms']:.1f} | {r['speedup']:.2f}x | "
            f"{r['gflops']:.0f} | {r['pct_peak']:.0f} % | {r['compile_s']:.1f} | {r['psnr_naive_db']:.2f} / {r['psnr_eager_db']:.2f} / {r['psnr_spdr_db']:.2f} |"
        )
    lines += ["", "Decode throughput (1024x1024 render, chunked): " + ", ".join(f"{k}: {v:.2f} MP/s" for k, v in dec.items())]
    extra: dict = {}
    if args.encode or args.big_decode:
        from PIL import Image
        from skimage import data

        import inrcodec

        tmp = Path(args.out).parent / "_speed_tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        if args.encode:
            Image.fromarray(data.astronaut()).save(tmp / "astronaut.png")
            r = inrcodec.encode(tmp / "astronaut.png", tmp / "astronaut.spdr", force=True, device=args.device)
            extra["encode_astronaut_512_rgb"] = {"seconds": r.seconds, "psnr_db": r.psnr_db, "bytes": r.bytes}
            lines.append(f"Encode, default preset, 512x512 RGB astronaut: {r.seconds:.1f} s, {r.psnr_db:.2f} dB, {r.bytes} bytes.")
        if args.big_decode:
            Image.fromarray(data.camera()).resize((256, 256)).save(tmp / "camera.png")
            inrcodec.encode(tmp / "camera.png", tmp / "paper.spdr", force=True, preset="paper", steps=5)
            secs, mb = peak_rss_decode("8192x8192", tmp / "paper.spdr")
            extra["decode_8192_paper"] = {"seconds": secs, "peak_rss_mb": mb}
            lines.append(
                f"`spdr decode --size 8192x8192` of a paper-preset file on the CPU: {secs:.0f} s, peak resident memory {mb:.0f} MB."
            )
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".md").write_text(text)
    out.with_suffix(".json").write_text(
        json.dumps({"machine": machine(device), "command": sys.argv, "rows": rows, "decode_mps": dec, **extra}, indent=1)
    )


if __name__ == "__main__":
    main()
