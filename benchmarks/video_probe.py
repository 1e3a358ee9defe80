"""Probe the video latent-grid engine: the first N frames of a shared clip at one quality, time stride and step count.

Prints one JSON line: bytes, kbit/s and the decoded file's PSNR (what `spdr encode` reports), and wall seconds.
Used to choose the video time stride (rate/timestride.py; STRIDE forces it, 0 leaves it to the per-segment rule). Both
shared clips were looked at with it: they are tuning clips of `spdr bench av`.

    python benchmarks/video_probe.py carphone_pristine.mp4 12 10 2 200     # clip frames quality stride steps [batch [passes]]
"""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import inrcodec
import inrcodec.rate.quality as quality_engine

MEDIA = Path(__file__).resolve().parents[2] / "shared" / "media" / "video"


def main() -> None:
    clip, frames, quality, stride, steps = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else quality_engine.VIDEO_BATCH
    passes = int(sys.argv[7]) if len(sys.argv) > 7 else quality_engine.VIDEO_OPTIONS.arm_passes
    quality_engine.VIDEO_TIME_STRIDE = stride or None
    quality_engine.VIDEO_BATCH = batch
    quality_engine.VIDEO_OPTIONS = dataclasses.replace(quality_engine.VIDEO_OPTIONS, arm_passes=passes)
    t0 = time.time()
    r = inrcodec.encode(MEDIA / clip, frames=frames, steps=steps, quality=quality, device="cpu")
    fps = r.header["signal"]["fps"]
    seconds = frames * fps[1] / fps[0]
    print(json.dumps({"clip": clip, "frames": frames, "Q": quality, "stride": stride, "steps": steps, "batch": batch, "passes": passes,
                      "bytes": r.bytes, "kbps": round(r.bytes * 8 / seconds / 1000, 1), "psnr": round(r.psnr_db, 2),
                      "s": round(time.time() - t0, 1)}), flush=True)


if __name__ == "__main__":
    main()
