"""Which torch device a run uses: the one rule for encoders, decoders and benchmarks.

Imports torch only when a device is picked, so the CLI's option lists cost nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SpdrError

if TYPE_CHECKING:
    import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def pick_device(name: str | torch.device) -> torch.device:
    """'auto' -> cuda, then mps, then cpu; an unavailable explicit choice is a one-line error."""
    import torch

    if isinstance(name, torch.device):
        return name
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    if name.split(":")[0] == "cuda" and not torch.cuda.is_available():
        raise SpdrError(f"--device {name}: no CUDA device is available")
    if name == "mps" and not _mps_available():
        raise SpdrError("--device mps: no MPS device is available")
    try:
        return torch.device(name)
    except RuntimeError:
        raise SpdrError(f"--device {name!r} is not a device torch knows (choose from {', '.join(DEVICES)})") from None
