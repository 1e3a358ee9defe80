"""Exception hierarchy for spdr.

Every error a user can cause derives from :class:`SpdrError` and also from the builtin exception
callers already catch (``ValueError``, ``FileExistsError`` ...), so ``except ValueError`` keeps working.
Every malformed ``.spdr`` file raises one :class:`FormatError` subclass per failure, with a one-line
message that says what is wrong.
"""

from __future__ import annotations

__all__ = [
    "BadSignature",
    "ChecksumMismatch",
    "FitDivergedError",
    "FormatError",
    "HeaderInvalid",
    "HeaderTooLarge",
    "InputFileError",
    "InputNotFoundError",
    "MediaError",
    "NetworkError",
    "OutputExistsError",
    "OutputTooLargeError",
    "PayloadError",
    "ReservedFlagsSet",
    "SpdrError",
    "TensorMismatch",
    "TrailingBytes",
    "TruncatedFile",
    "UnsupportedVersion",
]


class SpdrError(Exception):
    """Base class of every error raised on purpose by spdr."""


class FormatError(SpdrError, ValueError):
    """The bytes are not a well-formed .spdr file this version can read."""


class BadSignature(FormatError):
    """The file does not start with the 9-byte .spdr signature."""


class UnsupportedVersion(FormatError):
    """The file's major format version is not one this reader supports."""


class ReservedFlagsSet(FormatError):
    """A reserved flag bit is set; version 1.x requires all flags to be zero."""


class TruncatedFile(FormatError):
    """The file ends before a field that its own lengths promise."""


class TrailingBytes(FormatError):
    """Bytes follow the final CRC32; a .spdr file must end exactly there."""


class ChecksumMismatch(FormatError):
    """The stored CRC32 does not match the bytes it covers."""


class HeaderTooLarge(FormatError):
    """The declared or encoded header exceeds MAX_HEADER_BYTES."""


class HeaderInvalid(FormatError):
    """The header is not valid JSON or a field is missing, unknown or out of range."""


class PayloadError(FormatError):
    """The zstd payload is malformed, too large, or lacks its declared content size."""


class TensorMismatch(FormatError):
    """The stored tensors disagree with the header (names, shapes, dtypes, value ranges)."""


class NetworkError(FormatError):
    """The header's network is unsupported, too large to build, or its numbers overflow float32."""


class MediaError(SpdrError, ValueError):
    """An input media file cannot be read or decoded."""


class InputFileError(SpdrError, OSError):
    """An input file cannot be opened (a folder, no permission, ...)."""


class InputNotFoundError(InputFileError, FileNotFoundError):
    """An input file does not exist."""


class OutputExistsError(SpdrError, FileExistsError):
    """The output path exists and overwriting was not requested."""


class OutputTooLargeError(SpdrError, ValueError):
    """The requested output would exceed a size limit."""


class FitDivergedError(SpdrError, RuntimeError):
    """Fitting produced non-finite values and could not recover."""
