"""The .spdr container, format 1.0: bytes in, bytes out, every field checked. Imports no torch.

All integers are little-endian. docs/format.md is the normative text; this table is its summary.

=========== ============ ==================================================================
Field       Size         Content
=========== ============ ==================================================================
signature   9            b"\\x89SPDR\\r\\n\\x1a\\n" (PNG-style: high bit, name, CR LF, ^Z, LF)
major       u8           1; readers refuse any other major version
minor       u8           0; readers of 1.x read any minor of major 1
flags       u16          reserved, must be 0 in 1.x
header_len  u32          1..MAX_HEADER_BYTES (65536), checked before the header is read
header      header_len   canonical UTF-8 JSON, see inrcodec.header.validate_header
payload_len u32          length of the next field
payload     payload_len  one zstd frame (content size and checksum present) of safetensors
crc32       u32          zlib.crc32 of every byte before this field
=========== ============ ==================================================================

No byte may follow the CRC32. For each tensor NAME in header["quant"]["tensors"] the safetensors
holds exactly "NAME" (int8 for bits <= 8, int16 for bits 10..16, float32 for bits 32) and
"NAME.scale" (float32, shape scale_shape): the dequantized weight is NAME * NAME.scale.
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import Any

import numpy as np
import safetensors.numpy
import zstandard

from .. import files
from ..errors import (
    BadSignature,
    ChecksumMismatch,
    FormatError,
    HeaderInvalid,
    HeaderTooLarge,
    PayloadError,
    ReservedFlagsSet,
    TensorMismatch,
    TrailingBytes,
    TruncatedFile,
    UnsupportedVersion,
)
from . import latentcoding
from .compact import compress_header, decode_payload, decompress_header, encode_payload
from .geometry import is_grid_arch, tensor_dtype
from .header import MAX_HEADER_BYTES, canonical_json, parse_header, validate_header, validate_segmented

__all__ = [
    "MAJOR",
    "MAX_FILE_BYTES",
    "MAX_PAYLOAD_BYTES",
    "MINOR",
    "AUDIO_GRID_MINOR",
    "VIDEO_GRID_MINOR",
    "IMAGE_BANDS_MINOR",
    "ARM_PASSES_MINOR",
    "ARM_ROUNDS_MINOR",
    "VIDEO_ROUNDS_MINOR",
    "SIGNATURE",
    "check_tensors",
    "pack",
    "pack_segmented",
    "peek",
    "peek_segments",
    "segmented_minor",
    "unpack",
    "unpack_segmented",
]

SIGNATURE = b"\x89SPDR\r\n\x1a\n"
MAJOR = 1
MINOR = 0  # what plain writes carry; compact writes (format/compact.py) are 1.1
COMPACT_MINOR = 1
TIMESTAMP_MINOR = 2  # coords.convention "timestamp" (audio and video sample k at k / rate)
ARM_MINOR = 3  # quant.coding "arm": latents coded under the file's own entropy model (format/latentcoding.py)
SEGMENTED_MINOR = 4  # a `segments` table: the payload is whole 1.0-1.3 or 1.5 files, one a segment (docs/format.md section 11)
AUDIO_GRID_MINOR = 5  # a latent grid on audio's time axis: one row of latents, in_features 1 (docs/format.md section 12)
VIDEO_GRID_MINOR = 6  # a (t, y, x) latent pyramid on video, grid_frames (docs/format.md section 13)
IMAGE_BANDS_MINOR = 7  # a segment table over an image: horizontal bands of rows, each an image file (docs/format.md section 14)
ARM_PASSES_MINOR = 8  # arch.arm_passes 3: an image's latents coded in three passes a level (docs/format.md section 15)
ARM_ROUNDS_MINOR = 9  # arch.arm_passes 5, 7, 9 (or any on audio): rounds on coarser lattices first (docs/format.md section 16)
VIDEO_ROUNDS_MINOR = 10  # arch.arm_passes on video: each plane of the (t, y, x) pyramid in those rounds (docs/format.md section 17)
MAX_PAYLOAD_BYTES = 256 * 2**20
MAX_FILE_BYTES = files.MAX_FILE_BYTES
# Allowance for the safetensors header beyond the tensor data: 1 MiB plus 256 bytes per stored
# tensor (a tensor and its scale are two), enough for 4096 tensors with 128-character names.
PAYLOAD_SLACK_BYTES = 2**20
PAYLOAD_SLACK_PER_TENSOR = 256
ZSTD_LEVEL = 19
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_FIXED = struct.Struct("<9sBBHI")  # signature, major, minor, flags, header_len


def _payload_bound(header: dict) -> int:
    """Largest decompressed payload the header's tensors can justify (the bomb guard)."""
    specs = header["quant"]["tensors"]
    total = PAYLOAD_SLACK_BYTES + 2 * PAYLOAD_SLACK_PER_TENSOR * len(specs)
    for spec in specs.values():
        total += math.prod(spec["shape"]) * tensor_dtype(spec["bits"]).itemsize
        total += math.prod(spec["scale_shape"]) * 4
    return total


def check_tensors(header: dict, tensors: dict[str, Any]) -> None:
    """Raise TensorMismatch unless `tensors` is exactly what header["quant"] describes."""
    specs = header["quant"]["tensors"]
    expected = set(specs) | {f"{name}.scale" for name in specs}
    missing = sorted(expected - set(tensors))
    if missing:
        raise TensorMismatch(f"tensor '{missing[0]}' is missing")
    extra = sorted(set(tensors) - expected, key=str)
    if extra:
        raise TensorMismatch(f"tensor '{extra[0]}' is not listed in the header")
    for name, spec in specs.items():
        bits = spec["bits"]
        for key, shape, dtype in ((name, spec["shape"], tensor_dtype(bits)),
                                  (f"{name}.scale", spec["scale_shape"], np.dtype(np.float32))):
            arr = tensors[key]
            if not isinstance(arr, np.ndarray):
                raise TensorMismatch(f"tensor '{key}' is a {type(arr).__name__}, not a numpy array")
            if arr.dtype != dtype:
                raise TensorMismatch(f"tensor '{key}' has dtype {arr.dtype}, header needs {dtype}"
                                     f" ({bits} bits)")
            if list(arr.shape) != list(shape):
                raise TensorMismatch(f"tensor '{key}' has shape {list(arr.shape)}, header says "
                                     f"{list(shape)}")
        q, scale = tensors[name], tensors[f"{name}.scale"]
        if not (np.isfinite(scale).all() and (scale > 0).all()):
            raise TensorMismatch(f"tensor '{name}.scale' holds a non-finite or non-positive scale")
        if bits == 32:
            if not np.isfinite(q).all():
                raise TensorMismatch(f"tensor '{name}' holds a non-finite value")
            if not (scale == 1.0).all():
                raise TensorMismatch(f"tensor '{name}.scale' must be 1.0 for 32-bit tensors")
        elif q.size:
            limit = 2 ** (bits - 1) - 1
            low, high = int(q.min()), int(q.max())
            if low < -limit or high > limit:
                raise TensorMismatch(f"tensor '{name}' holds values in {low}..{high}, outside "
                                     f"-{limit}..{limit} for {bits} bits")


def pack(header: dict, tensors: dict[str, np.ndarray], compact: bool = False) -> bytes:
    """Validate `header` and `tensors`, then return the complete .spdr file bytes.

    compact=True writes format 1.1: the header compressed against the format's dictionary, and
    the payload range-coded when header["quant"]["coding"] is "rc" (format/compact.py).
    """
    validate_header(header)
    raw_header = canonical_json(header)
    if len(raw_header) > MAX_HEADER_BYTES:
        raise HeaderTooLarge(f"header is {len(raw_header)} bytes, limit {MAX_HEADER_BYTES}")
    check_tensors(header, tensors)
    minor = required_minor(header, compact)
    if compact or header["quant"].get("coding"):
        raw_header = compress_header(raw_header)
    payload = _encode(header, tensors)
    out = b"".join([_FIXED.pack(SIGNATURE, MAJOR, minor, 0, len(raw_header)), raw_header, struct.pack("<I", len(payload)), payload])
    return out + struct.pack("<I", zlib.crc32(out))


def _encode(header: dict, tensors: dict[str, np.ndarray]) -> bytes:
    coding = header["quant"].get("coding")
    if coding == "arm":
        return latentcoding.encode_payload(header, tensors)
    return encode_payload(header, tensors) if coding == "rc" else _zstd_safetensors(header, tensors)


def _arm_passes_minor(header: dict) -> int:
    """The minor an arch.arm_passes needs: 1.8 for an image's three passes, 1.9 for more, or for any on audio, 1.10 for
    any on video."""
    if header["modality"] == "video":
        return VIDEO_ROUNDS_MINOR
    return ARM_PASSES_MINOR if header["arch"]["arm_passes"] == 3 and header["modality"] == "image" else ARM_ROUNDS_MINOR


def required_minor(header: dict, compact: bool = False) -> int:
    """The lowest 1.x minor version whose readers read `header` correctly (older ones refuse it, never misread)."""
    if "arm_passes" in header.get("arch", {}):
        return _arm_passes_minor(header)
    if header["modality"] == "video" and is_grid_arch(header["arch"]):
        return VIDEO_GRID_MINOR
    if header["modality"] == "audio" and is_grid_arch(header["arch"]):
        return AUDIO_GRID_MINOR
    if header["quant"].get("coding") == "arm":
        return ARM_MINOR
    if header["coords"]["convention"] == "timestamp":
        return TIMESTAMP_MINOR
    return COMPACT_MINOR if compact or header["quant"].get("coding") else MINOR


def _zstd_safetensors(header: dict, tensors: dict[str, np.ndarray]) -> bytes:
    """The 1.0 payload: one zstd frame of safetensors bytes."""
    body = safetensors.numpy.save({k: np.require(v, requirements="C") for k, v in tensors.items()})
    if len(body) > min(MAX_PAYLOAD_BYTES, _payload_bound(header)):
        raise PayloadError(f"tensors need {len(body)} bytes, limit "
                           f"{min(MAX_PAYLOAD_BYTES, _payload_bound(header))}")
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True,
                                          write_content_size=True)
    return compressor.compress(body)


def _split(data: bytes) -> tuple[dict, bytes, dict]:
    """Check everything up to and including the header; return header, payload and sizes."""
    data = bytes(data)
    n = len(data)
    if data[:len(SIGNATURE)] != SIGNATURE[:n]:
        raise BadSignature("not a .spdr file (bad signature)")
    if n < _FIXED.size:
        raise TruncatedFile(f"file truncated: fixed fields need {_FIXED.size} bytes, {n} present")
    _, major, minor, flags, header_len = _FIXED.unpack_from(data)
    if major != MAJOR:
        raise UnsupportedVersion(f"file is spdr format {major}.x; this spdr reads {MAJOR}.x")
    if flags:
        raise ReservedFlagsSet(f"reserved flags 0x{flags:04x} set; format {MAJOR}.x needs 0")
    if header_len > MAX_HEADER_BYTES:
        raise HeaderTooLarge(f"header length {header_len} exceeds the limit {MAX_HEADER_BYTES}")
    if header_len == 0:
        raise HeaderInvalid("header length is 0")
    pos = _FIXED.size
    if n - pos < header_len + 4:
        raise TruncatedFile(f"file truncated: header needs {header_len + 4} bytes, "
                            f"{n - pos} left")
    raw_header = data[pos:pos + header_len]
    pos += header_len
    (payload_len,) = struct.unpack_from("<I", data, pos)
    pos += 4
    if n - pos < payload_len + 4:
        raise TruncatedFile(f"file truncated: payload and checksum need {payload_len + 4} bytes, "
                            f"{n - pos} left")
    if n - pos > payload_len + 4:
        raise TrailingBytes(f"{n - pos - payload_len - 4} unexpected bytes after the checksum")
    (stored,) = struct.unpack_from("<I", data, n - 4)
    actual = zlib.crc32(memoryview(data)[:n - 4])
    if stored != actual:
        raise ChecksumMismatch(f"checksum mismatch: file says 0x{stored:08x}, "
                               f"contents give 0x{actual:08x} (file corrupted)")
    if minor >= COMPACT_MINOR and raw_header[:4] == _ZSTD_MAGIC:
        raw_header = decompress_header(raw_header, MAX_HEADER_BYTES)
    header = parse_header(raw_header)
    if "segments" in header:
        if minor < SEGMENTED_MINOR:
            raise HeaderInvalid(f"header field 'segments' needs format 1.{SEGMENTED_MINOR}, file says {major}.{minor}")
        if minor < IMAGE_BANDS_MINOR and header["modality"] == "image":
            raise HeaderInvalid(f"header field 'segments' on an image needs format 1.{IMAGE_BANDS_MINOR}, file says {major}.{minor}")
    elif minor < COMPACT_MINOR and "coding" in header["quant"]:
        raise HeaderInvalid(f"header field 'quant.coding' needs format 1.{COMPACT_MINOR}, file says {major}.{minor}")
    if minor < ARM_MINOR and header["quant"].get("coding") == "arm":
        raise HeaderInvalid(f"header field 'quant.coding' 'arm' needs format 1.{ARM_MINOR}, file says {major}.{minor}")
    if minor < TIMESTAMP_MINOR and header["coords"]["convention"] == "timestamp":
        raise HeaderInvalid(f"header field 'coords.convention' 'timestamp' needs format 1.{TIMESTAMP_MINOR}, file says {major}.{minor}")
    if minor < AUDIO_GRID_MINOR and header["modality"] == "audio" and is_grid_arch(header.get("arch", {})):
        raise HeaderInvalid(f"header field 'arch.grid_levels' on audio needs format 1.{AUDIO_GRID_MINOR}, file says {major}.{minor}")
    if minor < VIDEO_GRID_MINOR and header["modality"] == "video" and is_grid_arch(header.get("arch", {})):
        raise HeaderInvalid(f"header field 'arch.grid_levels' on video needs format 1.{VIDEO_GRID_MINOR}, file says {major}.{minor}")
    if "arm_passes" in header.get("arch", {}) and minor < (needs := _arm_passes_minor(header)):
        raise HeaderInvalid(f"header field 'arch.arm_passes' {header['arch']['arm_passes']} on {header['modality']} needs "
                            f"format 1.{needs}, file says {major}.{minor}")
    sizes = {"version": f"{major}.{minor}", "file_bytes": n, "header_bytes": header_len,
             "payload_bytes": payload_len}
    return header, data[pos:pos + payload_len], sizes


def _decompress(header: dict, payload: bytes) -> bytes:
    """Decompress the one zstd frame after checking its declared size against both caps."""
    if payload[:4] != _ZSTD_MAGIC:
        raise PayloadError("payload is not a zstd frame (bad frame magic)")
    try:
        params = zstandard.get_frame_parameters(payload)
    except zstandard.ZstdError as exc:
        raise PayloadError(f"payload zstd frame header is invalid: {exc}") from None
    size = params.content_size
    if size == zstandard.CONTENTSIZE_UNKNOWN:
        raise PayloadError("payload zstd frame does not declare its content size")
    if not params.has_checksum:
        raise PayloadError("payload zstd frame has no content checksum")
    limit = min(MAX_PAYLOAD_BYTES, _payload_bound(header))
    if size > limit:
        raise PayloadError(f"payload declares {size} bytes of content, limit {limit} "
                           "(refused before decompressing)")
    try:
        body = zstandard.ZstdDecompressor().decompress(payload, max_output_size=limit,
                                                       allow_extra_data=False)
    except zstandard.ZstdError as exc:
        raise PayloadError(f"payload zstd frame is corrupt: {exc}") from None
    if len(body) != size:
        raise PayloadError(f"payload decompressed to {len(body)} bytes, frame declares {size}")
    return body


def _load_safetensors(body: bytes) -> dict[str, np.ndarray]:
    """Parse safetensors bytes, refusing metadata; any parser failure becomes PayloadError."""
    if len(body) >= 8:
        head_len = int.from_bytes(body[:8], "little")
        if b'"__metadata__"' in body[8:8 + min(head_len, len(body))]:
            raise TensorMismatch("payload carries safetensors metadata, which .spdr forbids")
    try:
        loaded = safetensors.numpy.load(body)
    except Exception as exc:  # noqa: BLE001 - the parser's error types differ across versions
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise PayloadError(f"payload is not valid safetensors: {text}") from None
    return {name: np.array(loaded[name]) for name in sorted(loaded)}  # writable copies


def unpack(data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """Parse and verify a whole .spdr file of one network; return (header, tensors)."""
    header, payload, _ = _split(data)
    if "segments" in header:
        raise PayloadError("a segmented file (format 1.4, or 1.7 for an image's bands) holds one file per segment: "
                           "read it with unpack_segmented")
    if header["quant"].get("coding") == "arm":
        tensors = latentcoding.decode_payload(header, payload)
    elif header["quant"].get("coding") == "rc":
        tensors = decode_payload(header, payload)
    else:
        tensors = _load_safetensors(_decompress(header, payload))
    check_tensors(header, tensors)
    return header, tensors


def peek(data: bytes) -> dict:
    """Header and sizes of a .spdr file, CRC checked but payload not decompressed."""
    header, _, sizes = _split(data)
    return {**sizes, "header": header}


def segmented_minor(header: dict) -> int:
    """The minor version a segment table is marked with: 1.7 over an image's bands, else 1.4 (whatever the parts' own)."""
    return IMAGE_BANDS_MINOR if header["modality"] == "image" else SEGMENTED_MINOR


def pack_segmented(header: dict, parts: list[bytes]) -> bytes:
    """A format 1.4 file (1.7 for an image's bands): the segment table `header` (validate_segmented) and the
    segments' whole files.

    The table's byte counts must be the parts' lengths; the parts themselves are checked by the
    reader (each one is an ordinary file), not here."""
    validate_segmented(header)
    raw_header = canonical_json(header)
    if len(raw_header) > MAX_HEADER_BYTES:
        raise HeaderTooLarge(f"segment table header is {len(raw_header)} bytes, limit {MAX_HEADER_BYTES}: use longer segments")
    if [entry[1] for entry in header["segments"]] != [len(p) for p in parts]:
        raise PayloadError("the segment table's byte counts differ from the segments' files")
    raw_header = compress_header(raw_header)
    payload = b"".join(parts)
    out = b"".join([_FIXED.pack(SIGNATURE, MAJOR, segmented_minor(header), 0, len(raw_header)), raw_header,
                    struct.pack("<I", len(payload)), payload])
    return out + struct.pack("<I", zlib.crc32(out))


def unpack_segmented(data: bytes) -> tuple[dict, list[bytes]]:
    """The segment table and each segment's file bytes, in order (time; an image's rows top to bottom): sections 11 and
    14, the files themselves unchecked."""
    header, payload, _ = _split(data)
    if "segments" not in header:
        raise PayloadError("not a segmented file: it has no segment table")
    sizes = [entry[1] for entry in header["segments"]]
    if sum(sizes) != len(payload):
        raise PayloadError(f"the segment table counts {sum(sizes)} bytes of segments, the payload holds {len(payload)}")
    offsets = [0]
    for size in sizes:
        offsets.append(offsets[-1] + size)
    return header, [payload[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]


def peek_segments(data: bytes) -> list[dict]:
    """peek() of each segment's file of a segmented file (CRCs and headers checked, payloads not decoded),
    each error prefixed with its segment's number; a segment that is itself segmented is refused."""
    out = []
    for i, part in enumerate(unpack_segmented(data)[1]):
        try:
            facts = peek(part)
            if "segments" in facts["header"]:
                raise PayloadError("a segment is itself a segmented file (nesting is not allowed)")
        except FormatError as e:
            raise type(e)(f"segment {i}: {e}") from None
        out.append(facts)
    return out
