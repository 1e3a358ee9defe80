"""Signal: the in-memory form every modality shares between media I/O and the codec."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .format.header import AXES


@dataclass
class Signal:
    """Samples on a regular grid, float32 in [-1, 1], shape (*axes, channels).

    `meta` is exactly the header's "signal" object (sizes, mode, bit depth, rate), so a decoder
    can restore the original sample format from the file alone.
    """

    modality: str
    data: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def axes(self) -> list[str]:
        return AXES[self.modality]

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape[:-1])

    @property
    def channels(self) -> int:
        return int(self.data.shape[-1])

    @property
    def num_samples(self) -> int:
        """Grid points (pixels, audio frames, video voxels), channels not counted."""
        return int(np.prod(self.grid_shape))
