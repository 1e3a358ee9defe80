"""Share of soft-rounded noisy steps (rate/quality.NOISE_FRACTION), and audio's entropy-model passes, side by side in one run.

`python benchmarks/noise_probe.py CLIP --quality Q[,Q] --noise N[,N] [--seconds S] [--frames F] [--tstart T] [--passes P[,P]]
[--synthesis W[,W]]`: encodes the first S seconds of an audio CLIP (or F frames of a video) with the fast preset at each
quality, noise share, (audio) number of passes a latent level is coded in (2: format 1.5's; 3, 5, 7, 9: format 1.9's)
and synthesis width (one hidden layer; the cap rate/quality.MAX_SYNTHESIS), and prints
kbit/s and SNR (audio) or PSNR (video) that the encoder measured on what the decoder renders from its file. Only for
tuning clips.
"""

from __future__ import annotations

import argparse
import time

import inrcodec
from inrcodec.rate import quality as quality_module
from inrcodec.rate.plan import RateOptions


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("clip")
    p.add_argument("--quality", default="50")
    p.add_argument("--noise", default="0.7,0.95")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--frames", type=int, default=None)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--tstart", type=float, default=None, help="soft rounding's first temperature (default: quality.py's)")
    p.add_argument("--passes", default=None, help="audio: passes a latent level (default: quality.py's AUDIO_OPTIONS)")
    p.add_argument("--synthesis", default=None, help="audio and video: synthesis widths W[,W] (depth 1; default: quality.py's)")
    a = p.parse_args()
    video = a.frames is not None
    if a.tstart is not None:
        quality_module.TEMPERATURE = (a.tstart, quality_module.TEMPERATURE[1])
    first = quality_module.TEMPERATURE[0]
    passes = [None] if a.passes is None else [int(v) for v in a.passes.split(",")]
    widths = [None] if a.synthesis is None else [int(v) for v in a.synthesis.split(",")]
    runs = [(q, n, ap, sw) for q in a.quality.split(",") for n in a.noise.split(",") for ap in passes for sw in widths]
    for q, noise, arm_passes, width in runs:
        q, noise = float(q), float(noise)
        if width is not None:
            quality_module.MAX_SYNTHESIS = (width, 1)
        quality_module.NOISE_FRACTION = noise
        if arm_passes is not None:
            quality_module.AUDIO_OPTIONS = RateOptions(arm_passes=arm_passes)
        t = time.perf_counter()
        span = dict(frames=a.frames) if video else dict(duration=a.seconds)
        out = inrcodec.encode(a.clip, quality=q, preset="fast", steps=a.steps, seed=0, **span)
        seconds = time.perf_counter() - t
        score = out.psnr_db if video else out.snr_db  # both measured on what the decoder renders from the file
        kbps = inrcodec.info(out.data)["kbps"]
        print(f"Q{q:g} noise {noise:g} T {first:g} passes {arm_passes or '-'} synthesis {width or '-'}: {len(out.data)} B, "
              f"{kbps:.1f} kbit/s, "
              f"{'PSNR' if video else 'SNR'} {score:.2f} dB, {seconds:.0f} s", flush=True)


if __name__ == "__main__":
    main()
