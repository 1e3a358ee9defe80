"""Whether training runs its elementwise-heavy pieces as fused torch.compile kernels, scoped to a block.

Why a switch at all: on the CPU, the SPDER activation's gradient and the entropy model's rate are chains of
five to ten elementwise operations over every sample or latent, each a pass through memory; compiled, each
chain is one loop (benchmarks/results/engine_speed.md). Compiling costs seconds, so only long fits turn it on
(train/rdfit.should_fuse), and decoding never does, so what a file renders does not depend on a compiler.
A context variable rather than a module setting: it holds for the thread (or task) that entered the block only.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_FUSED: contextvars.ContextVar[bool] = contextvars.ContextVar("spdr_fused_kernels", default=False)


@contextlib.contextmanager
def fused_kernels(on: bool = True) -> Iterator[None]:
    """Within this block, the SPDER activation (nn/activations.py) and the ARM's rate (nn/arm.py) run fused
    wherever gradients flow."""
    token = _FUSED.set(on)
    try:
        yield
    finally:
        _FUSED.reset(token)


def fusing() -> bool:
    return _FUSED.get()
