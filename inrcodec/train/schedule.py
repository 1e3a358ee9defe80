"""The learning-rate schedule every fitting loop uses: cosine decay to a floor, optional linear warm-up."""

from __future__ import annotations

import math


def cosine_factor(frac: float, final: float, warmup: float = 0.0) -> float:
    """Multiplier of the base learning rate at fraction `frac` (0..1) of a fit.

    Decays from 1 to `final` along half a cosine; during the first `warmup` share of the fit it also
    ramps linearly from 0 (continued fits warm up so that Adam's fresh moments keep the fitted state).
    """
    factor = final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * frac))
    if warmup > 0 and frac < warmup:
        factor *= frac / warmup
    return factor
