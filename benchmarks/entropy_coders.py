"""The latents of format 1.3 files under three coders: the file's own (its fitted ARM, constriction's
range coder), format 1.1's adaptive binary context coder (pure Python, entropy.py), and zstd -19 of
the raw integers. Bytes of the latents' stream and encode / decode seconds of each, side by side.

Why: the issue asked to measure the well-kept entropy-coding library against alternatives. The
latents come from real fits: pass any 1.3 files (e.g. those `benchmarks/quality_sweep.py` writes).

    python benchmarks/entropy_coders.py a.spdr b.spdr --out benchmarks/results/entropy_coders.md
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import zstandard
from _provenance import markdown_provenance, provenance

from inrcodec.format import entropy, latentcoding
from inrcodec.format.geometry import grid_level_shapes
from inrcodec.format.limits import read_checked


def timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t


def own_coder(header: dict, tensors: dict) -> tuple[int, float, float]:
    """Bytes of the ARM-coded payload minus its non-latent part, encode and decode seconds."""
    payload, enc_s = timed(latentcoding.encode_payload, header, tensors)
    _, dec_s = timed(latentcoding.decode_payload, header, payload)
    empty = {**tensors, "latents": np.zeros_like(tensors["latents"])}
    return len(payload) - len(latentcoding.encode_payload(header, empty)), enc_s, dec_s


def context_coder(grids: list[np.ndarray]) -> tuple[int, float, float]:
    """Format 1.1's adaptive context coder over the same grids (finest first)."""
    def encode() -> bytes:
        enc = entropy.RangeEncoder()
        entropy.encode_grids(enc, grids)
        return enc.stream()

    stream, enc_s = timed(encode)
    decoded, dec_s = timed(lambda: entropy.decode_grids(entropy.RangeDecoder(stream), [g.shape for g in grids]))
    assert all(np.array_equal(a, b) for a, b in zip(decoded, grids, strict=True))
    return len(stream), enc_s, dec_s


def zstd_coder(flat: np.ndarray) -> tuple[int, float, float]:
    raw = flat.astype(np.int8 if np.abs(flat).max() < 128 else np.int16).tobytes()
    packed, enc_s = timed(zstandard.ZstdCompressor(level=19).compress, raw)
    _, dec_s = timed(zstandard.ZstdDecompressor().decompress, packed)
    return len(packed), enc_s, dec_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()
    md = ["| file | latents | coder | bytes | bits per latent | encode s | decode s |", "|---|---|---|---|---|---|---|"]
    for f in a.files:
        checked = read_checked(Path(f).read_bytes())
        header, tensors = checked.header, checked.tensors
        flat = np.asarray(tensors["latents"]).astype(np.int64)
        shapes = grid_level_shapes(header["arch"])
        sizes = np.cumsum([0] + [h * w for h, w in shapes])
        grids = [flat[sizes[i]:sizes[i + 1]].reshape(shapes[i]) for i in range(len(shapes))]
        for name, (n, e, d) in (("ARM + constriction (format 1.3)", own_coder(header, tensors)),
                                ("adaptive context coder (format 1.1)", context_coder(grids)),
                                ("zstd -19 of the integers", zstd_coder(flat))):
            md.append(f"| {Path(f).name} | {flat.size} | {name} | {n} | {8 * n / flat.size:.3f} | {e:.2f} | {d:.2f} |")
            print(md[-1], flush=True)
    text = "\n".join(["# Latent coders side by side", "", *md, "", "## Provenance", "", markdown_provenance(provenance())]) + "\n"
    if a.out:
        Path(a.out).write_text(text)


if __name__ == "__main__":
    main()
