"""spdr: a neural media codec. Photos, sounds and clips become small SPDER networks.

Public API: encode(), decode(), decode_audio(), decode_frames(), open_video(), read_spdr(), info(),
the errors in inrcodec.errors, __version__. Importing this package has no side effects: it sets no
environment variable and imports no torch (that happens when something is encoded or rendered).
"""

from ._version import __version__
from .api import decode, decode_audio, decode_frames, encode, info, open_video, read_spdr
from .errors import FormatError, MediaError, SpdrError

__all__ = ["FormatError", "MediaError", "SpdrError", "__version__", "decode", "decode_audio", "decode_frames", "encode", "info",
           "open_video", "read_spdr"]
