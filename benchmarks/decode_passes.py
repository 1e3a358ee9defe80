"""The same fitted integers coded both ways, side by side: format 1.3's two passes a level and 1.8's three.

Why: format 1.8 adds a third vectorised pass to every latent level; this measures what that costs the decoder (the
issue's bound: a 768x512 file decodes in at most 1 second on the CPU, entropy decoding included) and what it saves in
bytes when the entropy model is the one fitted for three passes (the 1.3 file reuses it as it is, so its bytes only
bound what two passes cost; the fair byte comparison is a fit per order, in README). Decode seconds are the median
of several `inrcodec.decode` calls in this warm process, each file decoded alternately.

    python benchmarks/decode_passes.py --photo motorcycle --longest 768 --steps 200 --out benchmarks/results/decode_passes.md
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
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args()
    px = load_rgb(a.photo, a.longest)
    three = inrcodec.encode(px, None, quality=a.quality, preset="fast", steps=a.steps, seed=0, device="cpu").data
    checked = read_checked(three)
    header = copy.deepcopy(checked.header)
    header["arch"].pop("arm_passes")
    two = pack(header, checked.tensors)
    files = {"1.3, two passes": two, "1.8, three passes": three}
    seconds: dict[str, list[float]] = {name: [] for name in files}
    pixels = {}
    for _ in range(a.repeats):
        for name, data in files.items():
            t = time.perf_counter()
            pixels[name] = inrcodec.decode(data)
            seconds[name].append(time.perf_counter() - t)
    same = np.array_equal(*pixels.values())
    h, w = px.shape[:2]
    rows = [f"| {name} | {len(data)} | {inrcodec.info(data)['version']} | {statistics.median(seconds[name]):.3f} |"
            for name, data in files.items()]
    text = "\n".join([
        f"# Decoding one fit's integers in two passes a level (1.3) and in three (1.8): {a.photo} {w}x{h}",
        "",
        f"`spdr encode --quality {a.quality:g} --preset fast --steps {a.steps}`, then the same header and tensors packed "
        "without `arch.arm_passes` (format 1.3). Median of "
        f"{a.repeats} `inrcodec.decode` calls each, alternating, in one warm process; both decode to the same pixels: {same}.",
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
