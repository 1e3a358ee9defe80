"""spdr: a neural media codec. Photos, sounds and clips become small SPDER networks.

Public API: encode(), decode(), decode_frames(), info(), the errors in inrcodec.errors, __version__.
"""

__version__ = "0.1.0"

from .api import decode, decode_frames, encode, info
from .errors import FormatError, MediaError, SpdrError

__all__ = ["FormatError", "MediaError", "SpdrError", "__version__", "decode", "decode_frames", "encode", "info"]
