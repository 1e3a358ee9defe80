"""Large photos as horizontal bands (format 1.7): each band its own fit, so an encode's memory is bounded by a band.

Why: the latent-grid engine fits a photo with full batches (every pixel, every latent each step), so its
memory grows with the photo: about 1.9 GB at 1024x1024 on the CPU, far past any machine at 8000x6000. Cut
into bands of at most BAND_PIXELS pixels, each band is an ordinary image fit of the same engine, fitted one
after another (or shared over torchrun's ranks, codec/distributed.py) and joined under a segment table; the
decoder renders band by band (docs/format.md section 14). Bands are whole rows, so a band's pixels are a
contiguous slice of the photo and its latents need no neighbour's. Seams: the error along band borders is
measured against the interior by benchmarks/large_photo.py.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator

from .._version import __version__
from ..format import container
from ..metrics import psnr_from_mse
from ..signal import Signal
from . import distributed
from .encode import Progress
from .presets import EncodeConfig
from .result import EncodeResult
from .segments import FittedPart, fit_parts, mean_error, segment_lengths, time_left_phrase

BAND_PIXELS = 1 << 20  # pixels a band at most: 1024x1024 took 1.9 GB peak on the CPU (fast preset)


def band_rows(height: int, width: int, pixels: int | None = None) -> list[int]:
    """Rows per band: the fewest bands of at most `pixels` (default BAND_PIXELS) pixels, at least one row each, as
    equal as integers allow."""
    pixels = BAND_PIXELS if pixels is None else pixels
    return segment_lengths(height, 1, max(1, pixels // max(1, width)))


def needs_bands(signal: Signal, pixels: int | None = None) -> bool:
    """Whether an image is larger than one band (default BAND_PIXELS pixels)."""
    return signal.modality == "image" and signal.num_samples > (BAND_PIXELS if pixels is None else pixels)


def _bands(signal: Signal, rows: list[int], wanted: range) -> Iterator[tuple[int, Signal]]:
    """(index, Signal) of the bands in `wanted`: views of the photo's rows, with the band's own height."""
    first = 0
    for k, n in enumerate(rows):
        if k in wanted:
            yield k, Signal("image", signal.data[first:first + n], {**signal.meta, "height": n}, list(signal.notices))
        first += n


def encode_bands(signal: Signal, config: EncodeConfig, encoder: Callable[..., EncodeResult], progress: Progress | None = None,
                 announce: Callable[[str], None] | None = None, pixels: int | None = None) -> EncodeResult:
    """Fit `signal` band by band with encoder(band, config, progress) and pack the bands as one format 1.7 file.

    Band k is fitted from seed config.seed + k whichever rank fits it; --time is shared over the bands. The
    result's PSNR is the whole photo's, from each band's error measured on its own decoded bytes."""
    world = distributed.current()
    pixels = BAND_PIXELS if pixels is None else pixels
    height, width = signal.grid_shape
    rows = band_rows(height, width, pixels)
    if announce is not None and world.writes:
        how = "fitted one after another" if world.alone else f"shared over {world.size} processes"
        bound = time_left_phrase(config)
        announce(f"{len(rows)} bands of {min(rows)}-{max(rows)} rows ({width} wide, {pixels:,} pixels a band at most), {how}{bound}")
    start = time.perf_counter()
    mine = distributed.share(len(rows), world)
    fitted, error = distributed.run_share(lambda: fit_parts(_bands(signal, rows, mine), len(mine), config, encoder, progress,
                                                            f"band {{}}/{len(rows)}"))
    parts: list[FittedPart] = distributed.merge_shares(distributed.gather(fitted, error, world))
    return _join(signal, parts, config, pixels, time.perf_counter() - start)


def _join(signal: Signal, parts: list[FittedPart], config: EncodeConfig, pixels: int, elapsed: float) -> EncodeResult:
    """The bands' files under one segment table, and the photo's figures from each band's measured error."""
    results = [p.result for p in parts]
    header = {"modality": "image", "signal": dict(signal.meta),
              "segments": [[p.length, len(p.result.data)] for p in parts],
              "encoder": {"tool": f"spdr {__version__}", "preset": config.preset, "seed": config.seed, "band_pixels": pixels}}
    data = container.pack_segmented(header, [r.data for r in results])
    err, float_err = mean_error(parts, "psnr_db"), mean_error(parts, "float_psnr_db")
    notices = list(dict.fromkeys([n for r in results for n in r.notices]))
    return dataclasses.replace(results[0], data=data, header=header, steps=sum(r.steps for r in results), seconds=elapsed,
                               params=sum(r.params for r in results), float_psnr_db=psnr_from_mse(float_err),
                               psnr_db=psnr_from_mse(err), rho_ag=math.nan, notices=notices)
