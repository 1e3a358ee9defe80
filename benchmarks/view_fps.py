"""spdr view in headless Chromium (software WebGL2): frame rate while panning a 768x512 file at 1920x1080, and
whether the canvas shows what `spdr decode` writes.

The file is the issue's: scikit-image's motorcycle photo area-averaged to 768x512 (benchmarks/engine_speed.py),
encoded by `spdr encode --preset fast` (the default latent-grid engine and quality). In one browser, on a
1920x1080 page (device scale 1), it measures, for the default shader and for the two slower paths side by side:

* full frames: at zoom 3 (the photo 2304x1536, over all the canvas), the canvas redrawn at every pixel while the
  view pans 7 pixels a frame (`benchmarkPan`, each frame
  waited for with a 1-pixel readPixels): milliseconds a frame and frames a second;
* a real drag: Playwright's mouse pressed and moved 300 pixels in 60 steps; frames the page painted over the
  drag's wall time, and the resolution it chose (1/k: a full frame is slower than 33 ms, so while the pointer
  moves the page draws every k-th pixel and blits it up; the full frame follows 180 ms after the pointer stops);
* the match: the canvas at zoom 1 (the top-left 1920x1080 window, i.e. all of the photo) and at zoom 4 (a window
  of a 3072x2048 decode) against `spdr decode --size ... --resample network`, PSNR and mean absolute error in
  8-bit steps.

It also saves the README's screenshot (--screenshot). Chromium is Debian's, through Playwright (tests/browser.py).

    python benchmarks/view_fps.py --out benchmarks/results/view_fps.md --screenshot docs/viewer.png
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _provenance import ROOT, markdown_provenance, provenance  # noqa: E402
from browser import Viewer, chromium, launched, missing, serving  # noqa: E402
from engine_speed import photo_768x512  # noqa: E402

WIDTH, HEIGHT = 1920, 1080
PATHS = {"default (GPU bilinear latents, weights as shader constants)": "",
         "latents sampled by hand (sampling=exact)": "sampling=exact",
         "weights fetched from a texture (weights=texture)": "weights=texture"}


def encode(photo: str, preset: str, folder: Path) -> tuple[Path, str]:
    src, out = folder / "photo.png", folder / "photo.spdr"
    Image.fromarray(photo_768x512(photo)).save(src)
    cmd = [sys.executable, "-m", "inrcodec", "encode", str(src), "-o", str(out), "--preset", preset, "--json"]
    facts = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout)
    return out, f"spdr encode photo.png --preset {preset} ({facts['bytes']} bytes, {facts['psnr_db']} dB, {facts['seconds']} s)"


def decoded(path: Path, zoom: int, folder: Path) -> np.ndarray:
    out = folder / f"x{zoom}.png"
    size = f"{768 * zoom}x{512 * zoom}"
    subprocess.run([sys.executable, "-m", "inrcodec", "decode", str(path), "--size", size, "--resample", "network", "-o", str(out),
                    "--force", "-q"], check=True, cwd=ROOT)
    return np.asarray(Image.open(out).convert("RGB"))


def match(viewer: Viewer, ref: np.ndarray, zoom: int, left: int, top: int) -> dict:
    got = viewer.canvas(zoom, left, top)[..., :3]
    want = ref[top:top + HEIGHT, left:left + WIDTH]
    seen = got[:want.shape[0], :want.shape[1]].astype(np.float64)
    mse = float(np.mean((seen - want) ** 2))
    psnr = round(10 * np.log10(255**2 / mse), 2) if mse else float("inf")
    return {"zoom": zoom, "window": [left, top, want.shape[1], want.shape[0]], "psnr_db": psnr,
            "mean_abs": round(float(np.abs(seen - want).mean()), 5)}


def drag(viewer: Viewer) -> dict:
    page = viewer.page
    viewer.canvas(3, 0, 0)  # a full frame first (the page then knows how long one takes), the photo over all the canvas
    before = page.evaluate("spdrViewer.stats()")
    page.mouse.move(1400, 600)
    page.mouse.down()
    t0 = time.perf_counter()
    page.mouse.move(1100, 600, steps=60)
    wall = time.perf_counter() - t0
    during = page.evaluate("spdrViewer.stats()")
    page.mouse.up()
    frames = during["frames"] - before["frames"]
    return {"frames": frames, "wall_s": round(wall, 3), "fps": round(frames / wall, 1), "scale": during["scale"],
            "full_frame_ms": round(before["fullMs"], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", default="motorcycle")
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--spdr", type=Path, help="use this 768x512 file instead of encoding one")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/view_fps.md")
    ap.add_argument("--screenshot", type=Path)
    args = ap.parse_args()
    if missing():
        raise SystemExit(missing())
    with tempfile.TemporaryDirectory(prefix="spdr-view-") as tmp:
        folder = Path(tmp)
        path, made = (args.spdr, f"given: {args.spdr.name}") if args.spdr else encode(args.photo, args.preset, folder)
        refs = {1: decoded(path, 1, folder), 4: decoded(path, 4, folder)}
        rows, matches, drags = [], {}, {}
        with launched() as browser, serving(path) as (server, manifest, _):
            version = browser.version
            for label, query in PATHS.items():
                viewer = Viewer(browser, server.url + (f"?{query}" if query else ""), WIDTH, HEIGHT)
                viewer.canvas(3, 0, 0)  # compile and warm up; at zoom 3 (2304x1536) the photo covers the canvas while it pans
                ms = viewer.page.evaluate(f"spdrViewer.benchmarkPan({args.frames}, -7)")
                drags[label] = drag(viewer)
                matches[label] = [match(viewer, refs[1], 1, 0, 0), match(viewer, refs[4], 4, 700, 500)]
                rows.append({"path": label, "full_frame_ms": round(ms, 1), "full_fps": round(1000 / ms, 2), "drag": drags[label],
                             "match": matches[label]})
                renderer = viewer.info["renderer"]
                viewer.close()
            if args.screenshot:  # the README's picture: the motorcycle's front at 3x, every screen pixel from the network
                viewer = Viewer(browser, server.url, 1280, 720)
                viewer.canvas(3, 990, 420)
                time.sleep(0.5)
                viewer.page.screenshot(path=str(args.screenshot))
                viewer.close()
    result = {"provenance": provenance(seed=0, device="cpu"), "file": made, "canvas": [WIDTH, HEIGHT], "chromium": version,
              "chromium_path": chromium(), "webgl_renderer": renderer, "rows": rows}
    lines = ["# spdr view: frame rate while panning, and the canvas against spdr decode", "", markdown_provenance(result["provenance"]),
             f"- file: {made}", f"- browser: Chromium {version} (headless), WebGL2 on `{renderer}`",
             f"- canvas: {WIDTH}x{HEIGHT} at device scale 1", "",
             "| shader path | full frame (ms) | full frames/s | drag: frames/s | drag: resolution | zoom 1 vs decode | zoom 4 vs decode |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        m1, m4 = r["match"]
        lines.append(f"| {r['path']} | {r['full_frame_ms']} | {r['full_fps']} | {r['drag']['fps']} | 1/{r['drag']['scale']} | "
                     f"{m1['psnr_db']} dB, {m1['mean_abs']} | {m4['psnr_db']} dB, {m4['mean_abs']} |")
    lines += ["", "Full frame: at zoom 3 (the photo covers the canvas), every canvas pixel evaluated while the view pans 7 pixels a frame. "
              "Drag: a real 300-pixel mouse drag "
              "in 60 steps; while the pointer moves the page draws at 1/k of the resolution whenever a full frame takes over 33 ms, "
              "and the full frame follows when it stops. Match: PSNR and mean absolute difference in 8-bit steps of the canvas "
              "against `spdr decode --size --resample network` over the same window (zoom 4: window at (700, 500) of the 3072x2048 "
              "decode). Software rendering (SwiftShader) on the CPU: a GPU is far faster."]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)
    args.out.with_suffix(".json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
