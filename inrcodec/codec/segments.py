"""Long audio as segments (format 1.4): read, fitted and packed one segment at a time.

Why: one network over a whole song grows with its samples, and so do its memory and fitting time
(a 10-minute file had no estimate and would have taken hours). Cut into segments of about
SEGMENT_SECONDS, each its own plain encode (codec/encode.py) on samples read from the file only
when its turn comes, the encoder holds one segment in memory, `--time` is shared out over the
segments that remain, and a decoder can render any segment alone. The segments' files are joined
under a segment table (format/container.pack_segmented) and measured from their own bytes.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable

import numpy as np

from .._version import __version__
from ..format import container
from ..media.audio import AudioSource
from ..metrics import psnr_from_mse
from .encode import Progress, encode_signal
from .presets import EncodeConfig
from .result import EncodeResult

SEGMENT_SECONDS = 4.0  # the 1-4 s: long enough for a network to pay for itself, short enough to seek
_clock = time.perf_counter  # the encode's wall clock (a test's fake clock replaces it here only)


def segment_lengths(samples: int, rate: int, seconds: float = SEGMENT_SECONDS) -> list[int]:
    """Samples per segment: the fewest segments of at most `seconds` each, as equal as integers allow."""
    per = max(1, int(round(seconds * rate)))
    count = max(1, -(-samples // per))
    base, extra = divmod(samples, count)
    return [base + 1] * extra + [base] * (count - extra)


def needs_segments(source: AudioSource, seconds: float = SEGMENT_SECONDS) -> bool:
    return len(segment_lengths(source.meta["samples"], source.meta["sample_rate"], seconds)) > 1


def encode_segments(source: AudioSource, config: EncodeConfig, progress: Progress | None = None,
                    seconds: float = SEGMENT_SECONDS, announce: Callable[[str], None] | None = None) -> EncodeResult:
    """Encode `source` segment by segment and pack the segments as one format 1.4 file.

    announce: called once, before any fitting, with a line saying how many segments and (under
    --time) how long. The result's PSNR and SNR are over the whole clip, from each segment's error
    measured on its decoded bytes; rho_AG, a whole-spectrum measure, is not combined (nan)."""
    lengths = segment_lengths(source.meta["samples"], source.meta["sample_rate"], seconds)
    if announce is not None:
        bound = f", at most {config.time_limit:.0f} s in all (--time)" if config.time_limit else ""
        announce(f"{len(lengths)} segments of about {lengths[0] / source.meta['sample_rate']:.2f} s, fitted one after another{bound}")
    start = _clock()
    parts: list[bytes] = []
    results: list[EncodeResult] = []
    err = energy = float_err = 0.0
    first = 0
    for k, length in enumerate(lengths):
        signal = source.signal(first, length)
        budget = None
        if config.time_limit is not None:
            budget = max(0.05, (config.time_limit - (_clock() - start)) / (len(lengths) - k))
        seg_config = dataclasses.replace(config, time_limit=budget, seed=config.seed + k)
        label = f"segment {k + 1}/{len(lengths)}"
        report = None if progress is None else (lambda phase, s, n, loss, t, label=label: progress(f"{label} {phase}", s, n, loss, t))
        result = encode_signal(signal, seg_config, report)
        samples = length * signal.channels
        seg_energy = float(np.sum(np.square(signal.data, dtype=np.float64)))
        energy += seg_energy
        err += 4 * 10 ** (-result.psnr_db / 10) * samples
        float_err += 4 * 10 ** (-result.float_psnr_db / 10) * samples
        parts.append(result.data)
        results.append(result)
        first += length
    total = source.meta["samples"] * results[0].header["signal"]["channels"]
    header = {"modality": "audio", "signal": dict(source.meta), "segments": [[n, len(p)] for n, p in zip(lengths, parts, strict=True)],
              "encoder": {"tool": f"spdr {__version__}", "preset": config.preset, "seed": config.seed,
                          "segment_seconds": seconds}}
    data = container.pack_segmented(header, parts)
    notices = list(dict.fromkeys([n for r in results for n in r.notices]))
    return EncodeResult(data, header, sum(r.steps for r in results), _clock() - start, sum(r.params for r in results),
                        psnr_from_mse(float_err / total), psnr_from_mse(err / total), math.nan, results[0].resolved,
                        10 * math.log10(energy / err) if err > 0 else math.inf, None, notices)
