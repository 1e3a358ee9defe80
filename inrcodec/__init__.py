"""spdr: a neural media codec. Photos, sounds and clips become small SPDER networks.

Public API: encode(), decode(), decode_frames(), info(), the errors in inrcodec.errors, __version__.
"""

import os as _os

__version__ = "0.1.0"

# Decoding must give the same bytes whatever the CPU thread count. MKL's GEMM splits reductions across
# threads for narrow layers (the output head), which changes the last bits; its strict CNR mode is
# bitwise reproducible across thread counts. MKL reads this at its first BLAS call, so it is set here,
# before torch does any; a user's own MKL_CBWR wins. Cost: benchmarks/results/decode_determinism.md.
_os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

from .api import decode, decode_frames, encode, info
from .errors import FormatError, MediaError, SpdrError

__all__ = ["FormatError", "MediaError", "SpdrError", "__version__", "decode", "decode_frames", "encode", "info"]
