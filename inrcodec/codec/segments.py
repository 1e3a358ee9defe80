"""Long audio and video as segments (format 1.4): read, fitted and packed one segment at a time.

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
from collections.abc import Callable, Iterator
from fractions import Fraction

import numpy as np

from .._version import __version__
from ..format import container
from ..media.audio import AudioSource
from ..media.video import VideoSource
from ..metrics import psnr_from_mse
from ..signal import Signal
from . import distributed
from .encode import Progress, encode_signal
from .presets import EncodeConfig
from .result import EncodeResult

SEGMENT_SECONDS = 4.0  # the 1-4 s: long enough for a network to pay for itself, short enough to seek
SEGMENT_VALUES = 1 << 25  # pixels per video segment at most (33.5 M: 16 frames of 1080p)
_clock = time.perf_counter  # the encode's wall clock (a test's fake clock replaces it here only)


def segment_lengths(samples: int, rate: int, seconds: float = SEGMENT_SECONDS) -> list[int]:
    """Samples per segment: the fewest segments of at most `seconds` each, as equal as integers allow."""
    per = max(1, int(round(seconds * rate)))
    count = max(1, -(-samples // per))
    base, extra = divmod(samples, count)
    return [base + 1] * extra + [base] * (count - extra)


def segment_frames(meta: dict, seconds: float = SEGMENT_SECONDS) -> int:
    """Frames per video segment: about `seconds` (segment_lengths over the declared frames), and at most
    SEGMENT_VALUES pixels so that one segment's samples and coordinates stay well under a few GB."""
    fps = Fraction(*meta["fps"])
    per = segment_lengths(int(meta["frames"]), max(1, round(float(fps))), seconds)[0] if float(fps) >= 1 else 1
    return max(1, min(per, SEGMENT_VALUES // max(1, meta["height"] * meta["width"])))


def _plan(source: AudioSource | VideoSource, seconds: float) -> tuple[int, float, int | list[int]]:
    """(segments expected, seconds each, and the audio segments' lengths or the frames per video segment)."""
    meta = source.meta
    if source.modality == "audio":
        lengths = segment_lengths(meta["samples"], meta["sample_rate"], seconds)
        return len(lengths), lengths[0] / meta["sample_rate"], lengths
    per = segment_frames(meta, seconds)
    return -(-int(meta["frames"]) // per), float(per / Fraction(*meta["fps"])), per


def _signals(source: AudioSource | VideoSource, cut: int | list[int], wanted: range) -> Iterator[tuple[int, Signal]]:
    """(index, Signal) of the segments in `wanted`, in order, each read (decoded) only when asked for. Audio reads
    only those; video decodes the frames before them (a stream is read in order) but keeps none of them."""
    if isinstance(cut, int):
        for k, signal in enumerate(source.chunks(cut)):
            if k in wanted:
                yield k, signal
            elif k >= wanted.stop:  # past this rank's block: the rank fitting the last segment checks the stream's end
                break
        return
    first = 0
    for k, n in enumerate(cut):
        if k in wanted:
            yield k, source.signal(first, n)
        first += n


def time_left_phrase(config: EncodeConfig) -> str:
    """The announcement's words on --time: the seconds the parts share, what is left once the program has started and
    the input is open, less the finishing reserve (api.encode)."""
    return f", within the {config.time_limit:.0f} s left of --time" if config.time_limit else ""


def needs_segments(source: AudioSource | VideoSource, seconds: float = SEGMENT_SECONDS) -> bool:
    """Whether the selection is longer than one segment."""
    return _plan(source, seconds)[0] > 1


def encode_segments(source: AudioSource | VideoSource, config: EncodeConfig, progress: Progress | None = None,
                    seconds: float = SEGMENT_SECONDS, announce: Callable[[str], None] | None = None,
                    encoder: Callable[..., EncodeResult] | None = None) -> EncodeResult:
    """Encode `source` segment by segment and pack the segments as one format 1.4 file.

    encoder(signal, config, progress) fits one segment: the plain network's encode_signal unless given
    (api.py passes the latent-grid engine's, rate/quality.py, which sits a layer above this one).
    announce: called once, before any fitting, with a line saying how many segments and (under
    --time) how long. The result's PSNR (and audio's SNR) are over the whole clip, from each segment's
    error measured on its decoded bytes; rho_AG, a whole-spectrum measure, is not combined (nan)."""
    world = distributed.current()
    expected, each, cut = _plan(source, seconds)
    about = "" if source.modality == "audio" else "about "
    if announce is not None and world.writes:
        bound = time_left_phrase(config)
        how = "fitted one after another" if world.alone else f"shared over {world.size} processes"
        announce(f"{about}{expected} segments of about {each:.2f} s, {how}{bound}")
    start = _clock()
    mine = distributed.share(expected, world)
    fitted, error = distributed.run_share(lambda: fit_parts(_signals(source, cut, mine), len(mine), config, encoder or encode_signal,
                                                            progress, f"segment {{}}/{about}{expected}"))
    parts = distributed.merge_shares(distributed.gather(fitted, error, world))
    return _join(source.modality, parts, config, seconds, _clock() - start)


@dataclasses.dataclass
class FittedPart:
    """One segment's file and what the whole clip's figures need of it."""

    length: int  # samples (audio), frames (video), rows (an image band)
    energy: float  # sum of squared sample values
    values: int
    result: EncodeResult


def fit_parts(signals: Iterator[tuple[int, Signal]], count: int, config: EncodeConfig, encode: Callable[..., EncodeResult],
              progress: Progress | None, label: str) -> list[FittedPart]:
    """Fit `count` parts one after another (this process's share), part k from seed config.seed + k.

    Under --time, config.time_limit is shared out over the parts still to fit, less what each part is seen to
    cost beyond its budget (reading its samples, packing and measuring after its fit). label: "... {} ...",
    formatted with the part's number from 1, prefixes its progress phases."""
    start = mark = _clock()
    overruns: list[float] = []
    out: list[FittedPart] = []
    for done, (k, signal) in enumerate(signals):
        budget = None
        if config.time_limit is not None:
            left = max(1, count - done)
            overrun = sum(overruns) / len(overruns) if overruns else 0.0
            budget = max(0.05, (config.time_limit - (_clock() - start) - overrun * left) / left)
        part_config = dataclasses.replace(config, time_limit=budget, seed=config.seed + k)
        name = label.format(k + 1)
        report = None if progress is None else (lambda phase, s, n, loss, t, name=name: progress(f"{name} {phase}", s, n, loss, t))
        result = encode(signal, part_config, report)
        if budget is not None:
            overruns.append(max(0.0, _clock() - mark - budget))
        mark = _clock()
        out.append(FittedPart(signal.grid_shape[0], float(np.sum(np.square(signal.data, dtype=np.float64))), signal.data.size, result))
    return out


def mean_error(parts: list[FittedPart], psnr_field: str = "psnr_db") -> float:
    """The whole signal's mean squared error (on [-1, 1]) from each part's PSNR, weighted by the part's length
    (every part of a file has the same values per unit of length: channels, or a frame's or a row's pixels)."""
    total = sum(p.length for p in parts)
    return sum(4 * 10 ** (-getattr(p.result, psnr_field) / 10) * p.length for p in parts) / total


def _join(modality: str, parts: list[FittedPart], config: EncodeConfig, seconds: float, elapsed: float) -> EncodeResult:
    """The segments' files under one segment table, and the whole clip's figures from each segment's measured error."""
    total = sum(p.length for p in parts)
    results = [p.result for p in parts]
    key = "samples" if modality == "audio" else "frames"
    header = {"modality": modality, "signal": {**results[0].header["signal"], key: total},
              "segments": [[p.length, len(p.result.data)] for p in parts],
              "encoder": {"tool": f"spdr {__version__}", "preset": config.preset, "seed": config.seed, "segment_seconds": seconds}}
    data = container.pack_segmented(header, [r.data for r in results])
    err, float_err = mean_error(parts, "psnr_db") * total, mean_error(parts, "float_psnr_db") * total
    energy, values = sum(p.energy for p in parts), sum(p.values for p in parts)
    notices = list(dict.fromkeys([n for r in results for n in r.notices]))
    snr = None if modality != "audio" else (10 * math.log10((energy / values) / (err / total)) if err > 0 else math.inf)
    frames = None if modality != "video" else [f for r in results for f in r.frame_psnr_db]
    return EncodeResult(data, header, sum(r.steps for r in results), elapsed, sum(r.params for r in results),
                        psnr_from_mse(float_err / total), psnr_from_mse(err / total), math.nan, results[0].resolved,
                        snr, frames, notices)
