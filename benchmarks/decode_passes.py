"""The same fitted integers coded in each order, side by side: format 1.3's two passes a level, 1.8's three, 1.9's seven;
on video (--video), 1.6's two passes a plane and 1.10's seven.

Why: formats 1.8 to 1.10 add vectorised passes to every latent level (every plane, on video); this measures what they
cost the decoder (the issue's bound: a 768x512 file decodes in at most 1 second on the CPU, entropy decoding included). The entropy model is
the one the encoder fitted for seven passes, reused as it is for the other orders, so their bytes only bound what
fewer passes cost; the fair byte comparison is a fit per order, in README. Decode seconds are the median of several
`inrcodec.decode` calls in this warm process, the files decoded in turn.

    python benchmarks/decode_passes.py --photo motorcycle --longest 768 --steps 200 --out benchmarks/results/decode_passes.md
    python benchmarks/decode_passes.py --video ../shared/media/video/bikes.mp4 --frames 8 --steps 100 \
        --out benchmarks/results/decode_passes_video.md
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import numpy as np
from _provenance import markdown_provenance, provenance

import inrcodec
from inrcodec.bench.rd import load_rgb
from inrcodec.format.container import pack
from inrcodec.format.limits import read_checked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photo", default="motorcycle")
    ap.add_argument("--longest", type=int, default=768)
    ap.add_argument("--quality", type=float, default=75)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--video", type=Path, default=None, help="a clip: its first --frames frames instead of a photo")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    if a.video is None:
        source = load_rgb(a.photo, a.longest)
        orders = (("1.3, two passes", None), ("1.8, three passes", 3), ("1.9, seven passes", 7))
        label, extra = f"{a.photo} {source.shape[1]}x{source.shape[0]}", {}
    else:
        source = a.video
        orders = (("1.6, two passes a plane", None), ("1.10, seven passes a plane", 7))
        label, extra = f"{a.video.name}, its first {a.frames} frames", {"frames": a.frames}
    seven = inrcodec.encode(source, None, quality=a.quality, preset="fast", steps=a.steps, seed=0, device="cpu", **extra).data
    checked = read_checked(seven)
    files = {}
    for name, passes in orders:
        header = copy.deepcopy(checked.header)
        header["arch"].pop("arm_passes")
        if passes is not None:
            header["arch"]["arm_passes"] = passes
        files[name] = pack(header, checked.tensors)
    assert files[orders[-1][0]] == seven
    seconds: dict[str, list[float]] = {name: [] for name in files}
    pixels = {}
    for _ in range(a.repeats):
        for name, data in files.items():
            t = time.perf_counter()
            pixels[name] = inrcodec.decode(data)
            seconds[name].append(time.perf_counter() - t)
    first = next(iter(pixels.values()))
    same = all(np.array_equal(first, p) for p in pixels.values())
    rows = [f"| {name} | {len(data)} | {inrcodec.info(data)['version']} | {statistics.median(seconds[name]):.3f} |"
            for name, data in files.items()]
    text = "\n".join([
        f"# Decoding one fit's integers in each coding order ({', '.join(name for name, _ in orders)}): {label}",
        "",
        f"`spdr encode --quality {a.quality:g} --preset fast --steps {a.steps}` ({orders[-1][0]}), then the same header "
        "and tensors packed with the other `arch.arm_passes` (none: two passes). Median of "
        f"{a.repeats} `inrcodec.decode` calls each, in turn, in one warm process; all decode to the same pixels: {same}.",
        "",
        "| file | bytes | version | decode s |",
        "|---|---|---|---|",
        *rows,
        "",
        "## Provenance",
        "",
        markdown_provenance(provenance(seed=0, device="cpu")),
        "",
    ])
    print(text)
    if a.out is not None:
        a.out.write_text(text)


if __name__ == "__main__":
    main()
