"""Trimming a latent-grid file to its byte budget: zero the latents that matter least, by bisection.

Importance is |q| * 4^level (a coarse latent spreads over 4^level pixels); bisection on how many
to zero lands within a few bytes under the budget with about log2(latents) packs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import SpdrError
from ..nn.latentgrid import LatentGridSPDER


def trim_order(model: LatentGridSPDER) -> np.ndarray:
    """Indices of the non-zero latents, least important first (|q| * 4^level ascending)."""
    q = model.latents.detach().cpu().numpy()
    level = np.concatenate([np.full(h * w, lv) for lv, (h, w) in enumerate(model.shapes)])
    nz = np.flatnonzero(q)
    priority = np.abs(q[nz]) * 4.0 ** level[nz]
    return nz[np.argsort(priority, kind="stable")]


def trim_to_budget(pack: Callable[[np.ndarray], bytes], q: np.ndarray, order: np.ndarray, budget: int) -> tuple[bytes, int]:
    """Zero the first k latents of `order` for the smallest k (bisection) whose file fits."""

    def size_at(k: int) -> bytes:
        trimmed = q.copy()
        trimmed[order[:k]] = 0
        return pack(trimmed)

    first = size_at(0)
    if len(first) <= budget:
        return first, 0
    lo, hi = 0, len(order)
    best = size_at(hi)
    if len(best) > budget:
        raise SpdrError(f"no file fits {budget} bytes even with every latent zero ({len(best)} bytes)")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        data = size_at(mid)
        if len(data) <= budget:
            hi, best = mid, data
        else:
            lo = mid
    return best, hi
