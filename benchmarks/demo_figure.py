"""The README's demo figure: `spdr demo`'s 4x render (spdr's default rendering) beside the network
alone and beside Lanczos of the original photo, on one crop, with PSNR against nothing (there is no
4x truth): a picture, not a score. Scores are in benchmarks/results/anyres/anyres.md.

    python benchmarks/demo_figure.py   # runs `spdr demo` into a temporary folder; writes benchmarks/results/anyres/demo_x4.png
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "anyres" / "demo_x4.png"
CROP = (380, 120, 636, 376)  # (left, top, right, bottom) of the 1024x1024 render: the camera and the face


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "inrcodec", "demo", "--out", tmp, "-q"], check=True, cwd=ROOT)
        src = Image.open(Path(tmp) / "camera.png").convert("L")
        tiles = {"Lanczos of the original": src.resize((1024, 1024), Image.Resampling.LANCZOS),
                 "spdr default (network pixels + Lanczos)": Image.open(Path(tmp) / "camera_x4.png").convert("L"),
                 "network alone (--resample network)": Image.open(Path(tmp) / "camera_x4_network.png").convert("L")}
        crops = [np.asarray(im.crop(CROP)) for im in tiles.values()]
    w, h = crops[0].shape[1], crops[0].shape[0]
    canvas = Image.new("L", (3 * w + 8, h + 16), 255)
    draw = ImageDraw.Draw(canvas)
    for i, (label, crop) in enumerate(zip(tiles, crops, strict=True)):
        canvas.paste(Image.fromarray(crop), (i * (w + 4), 0))
        draw.text((i * (w + 4) + 2, h + 2), label, fill=0)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(OUT, optimize=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
