"""Signal: the in-memory form every modality shares between media I/O and the codec."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .format.header import AXES


@dataclass
class Signal:
    """Samples on a regular grid, float32 in [-1, 1], shape (*axes, channels).

    `meta` is exactly the header's "signal" object (sizes, mode, bit depth, rate), so a decoder
    can restore the original sample format from the file alone. `notices` are one-line notes from
    loading (frames of a damaged video kept with partial=True); every encode of the Signal repeats them.
    """

    modality: str
    data: np.ndarray
    meta: dict = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)

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
