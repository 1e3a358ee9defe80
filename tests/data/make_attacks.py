"""Regenerate tests/data/attacks/: hostile .spdr files that every spdr reader must refuse.

Run `python tests/data/make_attacks.py` (tests/test_attacks.py checks the committed folder equals what
this script writes, byte for byte). Everything is seeded, so the output only changes with this script.

Two registries make the corpus:

* BASES: small valid files, one per modality and network kind (`@base("name")` returning header and
  tensors). A new modality or network only needs a new base: every attack then runs on it. The
  latent-grid bases (GRID_BASES) are format 1.1 files: compressed header, range-coded payload
  (`quant.coding` "rc"); the generic attacks keep their header bytes and minor version, and the
  attacks on zstd/safetensors payloads skip them (an rc payload has neither; attacks of its own
  stand in: rc_streams, rc_tensor_values, compressed_headers, grid_fields).
* ATTACKS: `@attack` functions taking a Base and yielding Case(name, bytes, expected error, stage);
  `@attack(bases=...)` limits one to some bases (header fields need one base per modality, not five).
  The stage says which commands must refuse the file: "container" (info, verify, decode: the header or
  framing is bad), "payload" (verify, decode: the compressed tensors are bad), "network" (verify, decode:
  well formed, but no decoder should build it), "output" (decode: the native render needs --force).

Beside the registries, two sets of whole files: segmented_cases (format 1.4 segment tables over audio and video) and
image_band_cases (format 1.7: an image's horizontal bands, including existing families' cases put in as one band).

MANIFEST.json lists every file with its attack, base, expected error class (from inrcodec.errors) and
stage. The script itself refuses to write a case that its expected error does not stop (see _check).
"""

from __future__ import annotations

import copy
import json
import math
import os
import struct
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import safetensors.numpy
import zstandard

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, os.fspath(ROOT))

from inrcodec import errors  # noqa: E402
from inrcodec.format import armmodel, compact, geometry  # noqa: E402
from inrcodec.format.container import SIGNATURE, pack  # noqa: E402
from inrcodec.format.header import canonical_json  # noqa: E402
from inrcodec.format.limits import expected_tensors  # noqa: E402

ATTACK_DIR = Path(__file__).with_name("attacks")
MANIFEST = "MANIFEST.json"
STAGES = {"container": ("info", "verify", "decode"), "payload": ("verify", "decode"), "network": ("verify", "decode"),
          "output": ("decode",)}


@dataclass
class Base:
    """A valid file to attack: its name, header, tensors and bytes."""

    name: str
    header: dict
    tensors: dict[str, np.ndarray]
    data: bytes

    @property
    def payload(self) -> bytes:
        hl = struct.unpack_from("<I", self.data, 13)[0]
        return self.data[17 + hl + 4:-4]

    @property
    def raw_header(self) -> bytes:
        return canonical_json(self.header)

    @property
    def stored_header(self) -> bytes:
        """The header field as the file stores it (1.1: the compressed frame)."""
        return self.data[17:17 + struct.unpack_from("<I", self.data, 13)[0]]

    @property
    def minor(self) -> int:
        return self.data[10]

    @property
    def rc(self) -> bool:
        """An entropy-coded payload (1.1 "rc" or 1.3 "arm"), not a zstd frame of safetensors."""
        return self.header["quant"].get("coding") in ("rc", "arm")


@dataclass
class Case:
    """One hostile file and what must refuse it."""

    name: str
    data: bytes
    error: str
    stage: str = "container"


BASES: dict[str, Callable[[], tuple[dict, dict]]] = {}
ATTACKS: list[Callable[[Base], Iterator[Case]]] = []


def base(name: str):
    """Register a function returning (header, tensors) of a valid file."""
    def register(fn):
        BASES[name] = fn
        return fn
    return register


ONE_PER_MODALITY = ("image-gray", "audio", "video")
GRID_BASES = ("image-grid-gray", "image-grid-rgb")  # format 1.1: compressed header, range-coded payload
# format 1.3: latents under the file's entropy model; audio-arm is format 1.5, the same on one row of the time axis;
# video-arm is format 1.6, a (t, y, x) pyramid coded plane by plane; image-arm-3pass is format 1.8, three passes a level;
# image-arm-7pass and audio-arm-7pass are format 1.9, seven; video-arm-7pass is format 1.10, seven a plane
ARM_BASES = ("image-arm-gray", "image-arm-rgb16-masked", "audio-arm", "video-arm", "image-arm-3pass", "image-arm-7pass",
             "audio-arm-7pass", "video-arm-7pass")
VIDEO_ARM_BASES = ("video-arm", "video-arm-7pass")


def attack(fn=None, *, bases: tuple[str, ...] | None = None):
    """Register a generator of Cases for one Base (`bases`: only these; default every base)."""
    def register(fn):
        fn.bases = bases
        ATTACKS.append(fn)
        return fn
    return register(fn) if fn is not None else register


# --- bases -------------------------------------------------------------------------------------------

def _arch(activation: str, inputs: int, outputs: int, width: int, depth: int, **extra) -> dict:
    return {"activation": activation, "damping": "sqrt" if activation == "spder" else "none", "in_features": inputs,
            "out_features": outputs, "width": width, "depth": depth, "omega0": 30.0, "first_omega0": 30.0, **extra}


def _fill(arch: dict, seed: int) -> tuple[dict, dict[str, np.ndarray]]:
    """Seeded weights for `arch`: matrices 8-bit per row, vectors 16-bit, Fourier features float32."""
    rng = np.random.default_rng(seed)
    quant, tensors = {}, {}
    for name, shape in expected_tensors(arch).items():
        if name == "encoding.B":
            bits, q, scale = 32, rng.normal(0.0, 3.0, shape).astype(np.float32), np.ones(1, np.float32)
        elif len(shape) >= 2:
            bits, q = 8, rng.integers(-127, 128, shape).astype(np.int8)
            scale = np.full(shape[0], 2.0 ** -8, np.float32) if shape[1] > 2 else np.full(shape[0], 2.0 ** -7, np.float32)
        else:
            bits, q, scale = 16, rng.integers(-32767, 32768, shape).astype(np.int16), np.full(1, 2.0 ** -15, np.float32)
        quant[name] = {"bits": bits, "shape": list(shape), "scale_shape": list(scale.shape)}
        tensors[name], tensors[f"{name}.scale"] = q, scale
    return {"scheme": "per-channel-symmetric", "tensors": quant}, tensors


def _header(modality: str, signal: dict, arch: dict, channels: int, coord_scale: list[float], seed: int,
            convention: str = "pixel-centre") -> tuple[dict, dict]:
    axes = {"image": ["y", "x"], "audio": ["t"], "video": ["t", "y", "x"]}[modality]
    quant, tensors = _fill(arch, seed)
    header = {"modality": modality, "signal": signal,
              "coords": {"convention": convention, "axes": axes, "scale": coord_scale},
              "values": {"offset": [0.0] * channels, "scale": [1.0] * channels},
              "arch": arch, "quant": quant, "encoder": {"tool": "tests/data/make_attacks.py", "seed": seed}}
    return header, tensors


@base("image-gray")
def _image_gray():
    sig = {"height": 3, "width": 5, "channels": 1, "mode": "L", "bit_depth": 8}
    return _header("image", sig, _arch("spder", 2, 1, 4, 1), 1, [1.0, 1.0], 1)


@base("image-rgb")
def _image_rgb():
    sig = {"height": 6, "width": 7, "channels": 3, "mode": "RGB", "bit_depth": 8}
    return _header("image", sig, _arch("spder", 2, 3, 8, 2), 3, [1.0, 1.0], 2)


@base("image-ffn16")
def _image_ffn():
    sig = {"height": 4, "width": 4, "channels": 1, "mode": "L", "bit_depth": 16}
    return _header("image", sig, _arch("relu-ffn", 2, 1, 8, 1, ffn_features=4, ffn_sigma=3.0), 1, [1.0, 1.0], 3)


@base("audio")
def _audio():
    sig = {"samples": 50, "channels": 2, "sample_rate": 8000, "subtype": "PCM_16"}
    return _header("audio", sig, _arch("spder", 1, 2, 8, 1), 2, [100.0], 4)


@base("video")
def _video():
    sig = {"frames": 3, "height": 4, "width": 6, "channels": 3, "fps": [25, 1]}
    return _header("video", sig, _arch("siren", 3, 3, 6, 1), 3, [1.0, 1.0, 1.0], 5)


@base("audio-ts")
def _audio_timestamps():
    """Format 1.2: the time axis at timestamps (what spdr writes for audio since 1.2)."""
    sig = {"samples": 40, "channels": 1, "sample_rate": 16000, "subtype": "PCM_16"}
    return _header("audio", sig, _arch("spder", 1, 1, 8, 1, damping="atan"), 1, [100.0], 6, convention="timestamp")


@base("video-ts")
def _video_timestamps():
    sig = {"frames": 4, "height": 3, "width": 5, "channels": 3, "fps": [30000, 1001]}
    return _header("video", sig, _arch("spder", 3, 3, 6, 1), 3, [1.0, 1.0, 1.0], 7, convention="timestamp")


TIMESTAMP_BASES = ("audio-ts", "video-ts")


def _grid(sig: dict, channels: int, levels: int, width: int, depth: int, seed: int, **extra) -> tuple[dict, dict]:
    """A latent-grid SPDER (format 1.1, "rc" payload): sparse small 8-bit latents, 8-bit rows, 16-bit biases."""
    arch = {**_arch("spder", 2, channels, width, depth), "omega0": 1.0, "first_omega0": 1.0, "grid_levels": levels,
            "grid_height": sig["height"], "grid_width": sig["width"], **extra}
    rng = np.random.default_rng(seed)
    n = sum(h * w for h, w in geometry.level_shapes(sig["height"], sig["width"], levels))
    dims = [levels] + [width] * (depth + 1) + [channels]
    shapes = {"latents": [n]}
    for i in range(depth + 2):
        shapes[f"net.{i}.weight"], shapes[f"net.{i}.bias"] = [dims[i + 1], dims[i]], [dims[i + 1]]
    quant, tensors = {}, {}
    for name, shape in shapes.items():
        if name == "latents":
            bits, scale = 8, np.full(1, 0.125, np.float32)
            q = np.where(rng.random(shape) < 0.4, rng.integers(-6, 7, shape), 0).astype(np.int8)
        elif len(shape) == 2:
            bits, q, scale = 8, rng.integers(-127, 128, shape).astype(np.int8), np.full(shape[0], 2.0 ** -7, np.float32)
        else:
            bits, q, scale = 16, rng.integers(-32767, 32768, shape).astype(np.int16), np.full(1, 2.0 ** -15, np.float32)
        quant[name] = {"bits": bits, "shape": shape, "scale_shape": list(scale.shape)}
        tensors[name], tensors[f"{name}.scale"] = q, scale
    header = {"modality": "image", "signal": sig, "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
              "values": {"offset": [0.0] * channels, "scale": [1.0] * channels}, "arch": arch,
              "quant": {"scheme": "per-channel-symmetric", "coding": "rc", "tensors": quant},
              "encoder": {"tool": "tests/data/make_attacks.py", "seed": seed}}
    return header, tensors


@base("image-grid-gray")
def _image_grid_gray():
    return _grid({"height": 9, "width": 11, "channels": 1, "mode": "L", "bit_depth": 8}, 1, 3, 4, 0, 6)


@base("image-grid-rgb")
def _image_grid_rgb():
    return _grid({"height": 12, "width": 10, "channels": 3, "mode": "RGB", "bit_depth": 8}, 3, 4, 6, 1, 7, grid_interp=3)


def _arm_grid(sig: dict, channels: int, levels: int, width: int, depth: int, seed: int, arm_width: int, arm_depth: int,
              latent_bits: int = 8, masked: tuple[int, ...] = ()) -> tuple[dict, dict]:
    """A format 1.3 latent grid ("arm" payload): _grid's network plus a seeded integer ARM (8-bit weights over 2^-6,
    16-bit biases over 2^-10, 16-bit level biases); latents `latent_bits` wide, the levels in `masked` all zero."""
    header, tensors = _grid(sig, channels, levels, width, depth, seed)
    rng = np.random.default_rng(seed + 100)
    shapes = geometry.level_shapes(sig["height"], sig["width"], levels)
    sizes = np.cumsum([0] + [h * w for h, w in shapes])
    latents = tensors["latents"].astype(np.int16)
    if latent_bits == 16:
        latents = np.where(latents != 0, latents.astype(np.int64) * 500 + rng.integers(-9, 10, latents.shape), 0).astype(np.int16)
    for lv in masked:
        latents[sizes[lv]:sizes[lv + 1]] = 0
    tensors["latents"] = latents if latent_bits == 16 else latents.astype(np.int8)
    tensors["latents.scale"] = np.ones(1, np.float32)
    header["quant"]["tensors"]["latents"]["bits"] = latent_bits
    for name, shape in geometry.arm_tensors(arm_width, arm_depth, levels).items():
        if name == "arm.level":
            bits, q, scale = 16, rng.integers(-256, 768, shape), np.ones(1, np.float32)
        elif name.endswith(".weight"):
            bits, q, scale = 8, rng.integers(-40, 41, shape), np.full(1, 2.0 ** -6, np.float32)
        else:
            bits, q, scale = 16, rng.integers(-2000, 2001, shape), np.full(1, 2.0 ** -10, np.float32)
        header["quant"]["tensors"][name] = {"bits": bits, "shape": list(shape), "scale_shape": [1]}
        tensors[name], tensors[f"{name}.scale"] = q.astype(np.int8 if bits == 8 else np.int16), scale
    header["arch"].update(arm_width=arm_width, arm_depth=arm_depth)
    header["quant"]["coding"] = "arm"
    return header, tensors


@base("image-arm-gray")
def _image_arm_gray():
    """Format 1.3: three levels, every one coded, an ARM 14 -> 5 -> 2."""
    return _arm_grid({"height": 9, "width": 11, "channels": 1, "mode": "L", "bit_depth": 8}, 1, 3, 4, 0, 8, 5, 1)


@base("image-arm-rgb16-masked")
def _image_arm_rgb16_masked():
    """Format 1.3: 16-bit latents, levels 1 and 3 of four masked off (all zero), an ARM 14 -> 4 -> 4 -> 2."""
    return _arm_grid({"height": 12, "width": 10, "channels": 3, "mode": "RGB", "bit_depth": 8}, 3, 4, 6, 1, 9, 4, 2,
                     latent_bits=16, masked=(1, 3))


@base("image-arm-3pass")
def _image_arm_3pass():
    """Format 1.8: an RGB image's four levels coded in three passes a level (arch.arm_passes 3), an ARM 14 -> 5 -> 2."""
    header, tensors = _arm_grid({"height": 11, "width": 13, "channels": 3, "mode": "RGB", "bit_depth": 8}, 3, 4, 6, 1, 13, 5, 1)
    header["arch"]["arm_passes"] = 3
    return header, tensors


@base("image-arm-7pass")
def _image_arm_7pass():
    """Format 1.9: a grey image's five levels (19 x 21 finest) coded in seven passes a level (arch.arm_passes 7: rounds
    of stride 4, 2 and 1, neighbours up to 4 away), an ARM 14 -> 6 -> 2."""
    header, tensors = _arm_grid({"height": 19, "width": 21, "channels": 1, "mode": "L", "bit_depth": 8}, 1, 5, 6, 1, 17, 6, 1)
    header["arch"]["arm_passes"] = 7
    return header, tensors


@base("audio-arm")
def _audio_arm():
    """Format 1.5: stereo audio on a one-row latent grid (37 latents a level at the finest, 5 levels), an ARM 14 -> 4 -> 2."""
    header, tensors = _arm_grid({"height": 1, "width": 37, "channels": 2, "mode": "RGB", "bit_depth": 8}, 2, 5, 4, 1, 11, 4, 1)
    header.update(modality="audio", signal={"samples": 37, "channels": 2, "sample_rate": 8000, "subtype": "PCM_16"},
                  coords={"convention": "timestamp", "axes": ["t"], "scale": [1.0]}, values={"offset": [0.0, 0.0], "scale": [0.5, 0.5]})
    header["arch"]["in_features"] = 1
    return header, tensors


@base("audio-arm-7pass")
def _audio_arm_7pass():
    """Format 1.9: audio-arm's one-row grid coded in seven passes a level (arch.arm_passes 7: on one row, multiples of 8
    first, then of 4 and 2 reading the neighbours 4 and 2 away, then the rest; the diagonal passes are empty)."""
    header, tensors = _audio_arm()
    header["arch"]["arm_passes"] = 7
    return header, tensors


@base("video-arm")
def _video_arm():
    """Format 1.6: 3 frames of 4 x 5 RGB video on a (t, y, x) latent pyramid of 3 levels, an ARM 23 -> 4 -> 2."""
    header, tensors = _arm_grid({"height": 4, "width": 5, "channels": 3, "mode": "RGB", "bit_depth": 8}, 3, 3, 4, 1, 12, 4, 1)
    header.update(modality="video", signal={"frames": 3, "height": 4, "width": 5, "channels": 3, "fps": [25, 1]},
                  coords={"convention": "timestamp", "axes": ["t", "y", "x"], "scale": [1.0, 1.0, 1.0]})
    header["arch"].update(in_features=3, grid_frames=3)
    n = geometry.grid_latents(header["arch"])
    rng = np.random.default_rng(112)
    shape = geometry.arm_tensors(4, 1, 3, geometry.ARM_VIDEO_CONTEXT)["arm.0.weight"]  # the previous plane's 9 inputs too
    tensors["arm.0.weight"] = rng.integers(-40, 41, shape).astype(np.int8)
    header["quant"]["tensors"]["arm.0.weight"]["shape"] = shape
    tensors["latents"] = np.where(rng.random(n) < 0.4, rng.integers(-6, 7, n), 0).astype(np.int8)
    header["quant"]["tensors"]["latents"]["shape"] = [n]
    return header, tensors


@base("video-arm-7pass")
def _video_arm_7pass():
    """Format 1.10: video-arm's pyramid with every plane coded in seven passes (arch.arm_passes 7; its 4 x 5 finest
    planes have six non-empty passes)."""
    header, tensors = _video_arm()
    header["arch"]["arm_passes"] = 7
    return header, tensors


# --- byte helpers ------------------------------------------------------------------------------------

def assemble(raw_header: bytes, payload: bytes, *, major: int = 1, minor: int | None = None, flags: int = 0,
             header_len: int | None = None, payload_len: int | None = None, crc: bool = True) -> bytes:
    """Lay out a file field by field, valid or not; the CRC32 is correct unless crc=False.

    minor: by default 2 for a JSON header with the timestamp convention (format 1.2), else 0."""
    if minor is None:
        minor = 2 if b'"convention":"timestamp"' in raw_header else 0
    hl = len(raw_header) if header_len is None else header_len
    pl = len(payload) if payload_len is None else payload_len
    out = SIGNATURE + struct.pack("<BBHI", major, minor, flags, hl) + raw_header + struct.pack("<I", pl) + payload
    return out + struct.pack("<I", zlib.crc32(out) ^ (0 if crc else 0xDEADBEEF))


def fix_crc(data: bytes) -> bytes:
    return data[:-4] + struct.pack("<I", zlib.crc32(data[:-4]))


def zstd(body: bytes, **options) -> bytes:
    settings = {"level": 3, "write_checksum": True, "write_content_size": True, **options}
    return zstandard.ZstdCompressor(**settings).compress(body)


def rle_frame(total: int, declared: int | None = None) -> bytes:
    """A real zstd frame of `total` zero bytes in 128 KiB RLE blocks, declaring `declared` bytes."""
    block = 128 * 1024
    frame = b"\x28\xb5\x2f\xfd" + bytes([0xC4, 7 << 3]) + struct.pack("<Q", total if declared is None else declared)
    count = max(1, total // block)
    middle = ((block << 3) | (1 << 1)).to_bytes(3, "little") + b"\x00"
    last = ((block << 3) | (1 << 1) | 1).to_bytes(3, "little") + b"\x00"
    return frame + middle * (count - 1) + last + b"\0\0\0\0"


def zero_tensors_frame(specs: dict[str, tuple[str, list[int]]]) -> bytes:
    """A zstd frame of a safetensors body whose tensors are all zero, streamed (never held in memory)."""
    meta, offset = {}, 0
    dtype_bytes = {"I8": 1, "I16": 2, "F32": 4}
    for name in sorted(specs):
        dtype, shape = specs[name]
        size = math.prod(shape) * dtype_bytes[dtype]
        meta[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    head = json.dumps(meta, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    prefix = struct.pack("<Q", len(head)) + head
    cobj = zstandard.ZstdCompressor(level=1, write_checksum=True, write_content_size=True).compressobj(size=len(prefix) + offset)
    parts = [cobj.compress(prefix)]
    zeros = bytes(1 << 20)
    for start in range(0, offset, len(zeros)):
        parts.append(cobj.compress(zeros[:min(len(zeros), offset - start)]))
    parts.append(cobj.flush())
    return b"".join(parts)


def with_header(b: Base, header: dict, payload: bytes | None = None) -> bytes:
    """`header` (JSON as Python writes it: NaN and Infinity allowed) over `payload`, valid framing and CRC."""
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    return assemble(raw, b.payload if payload is None else payload)


def compact_with_header(b: Base, header: dict, payload: bytes | None = None) -> bytes:
    """Format 1.1: `header` (JSON as Python writes it) compressed against the format's dictionary, over `payload`."""
    raw = compact.compress_header(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
    return assemble(raw, b.payload if payload is None else payload, minor=1)


def rc_payload(header: dict, tensors: dict) -> bytes:
    """A range-coded payload of `tensors` as the header lists them; values and scales not checked."""
    return compact.encode_payload(header, tensors)


def with_tensors(b: Base, tensors: dict, header: dict | None = None) -> bytes:
    """`tensors` as the payload (valid zstd frame, valid CRC), whatever the header says."""
    return assemble(canonical_json(header or b.header), zstd(safetensors.numpy.save(tensors)))


def changed(b: Base, path: str | tuple, value) -> dict:
    """A deep copy of the base header with `path` (dotted, or a tuple of keys) set to `value` (_DELETE: removed)."""
    header = copy.deepcopy(b.header)
    *parents, last = path.split(".") if isinstance(path, str) else path
    node = header
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is _DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return header


_DELETE = object()


# --- container attacks: framing, lengths, versions, checksum -------------------------------------------

@attack
def truncations(b: Base) -> Iterator[Case]:
    n, hl = len(b.data), len(b.stored_header)
    for cut in sorted({0, 1, 8, 9, 12, 16, 17, 17 + hl // 2, 17 + hl, 21 + hl, 21 + hl + 5, n - 5, n - 4, n - 1}):
        yield Case(f"truncated-at-{cut}", b.data[:cut], "TruncatedFile")


@attack
def bit_flips(b: Base) -> Iterator[Case]:
    rng = np.random.default_rng(zlib.crc32(b.name.encode()))
    for pos in sorted(set(rng.integers(0, len(b.data) * 8, 8).tolist())):
        flipped = bytearray(b.data)
        flipped[pos // 8] ^= 1 << (pos % 8)
        yield Case(f"bit-flip-{pos}", bytes(flipped), "FormatError")
    if b.rc:  # a range-coded stream has no check of its own (the CRC is the file's): see rc_streams
        return
    start = 17 + len(b.raw_header) + 4  # flips inside the zstd frame, CRC recomputed: zstd must notice
    for pos in sorted(set(rng.integers(start * 8, (len(b.data) - 4) * 8, 4).tolist())):
        flipped = bytearray(b.data)
        flipped[pos // 8] ^= 1 << (pos % 8)
        yield Case(f"payload-bit-flip-{pos}-valid-crc", fix_crc(bytes(flipped)), "PayloadError", "payload")


@attack
def lengths(b: Base) -> Iterator[Case]:
    raw, payload, m = b.stored_header, b.payload, b.minor
    yield Case("header-length-4gb", assemble(raw, payload, minor=m, header_len=0xFFFFFFFF), "HeaderTooLarge")
    yield Case("header-length-65537", assemble(raw, payload, minor=m, header_len=65537), "HeaderTooLarge")
    yield Case("header-length-0", assemble(raw, payload, minor=m, header_len=0), "HeaderInvalid")
    yield Case("header-length-past-end", assemble(raw, payload, minor=m, header_len=len(b.data)), "TruncatedFile")
    yield Case("payload-length-4gb", assemble(raw, payload, minor=m, payload_len=0xFFFFFFFF), "TruncatedFile")
    yield Case("payload-length-plus-one", assemble(raw, payload, minor=m, payload_len=len(payload) + 1), "TruncatedFile")
    yield Case("payload-length-minus-one", assemble(raw, payload, minor=m, payload_len=len(payload) - 1), "TrailingBytes")


@attack
def trailing_garbage(b: Base) -> Iterator[Case]:
    yield Case("trailing-zero-byte", b.data + b"\0", "TrailingBytes")
    yield Case("trailing-text", b.data + b"garbage\n" * 64, "TrailingBytes")
    yield Case("trailing-second-copy", b.data + b.data, "TrailingBytes")


@attack
def versions_and_flags(b: Base) -> Iterator[Case]:
    raw, m = b.stored_header, b.minor
    for major in (0, 2, 255):
        yield Case(f"major-version-{major}", assemble(raw, b.payload, major=major, minor=m), "UnsupportedVersion")
    for flags in (1, 0x8000):
        yield Case(f"reserved-flags-{flags:#06x}", assemble(raw, b.payload, minor=m, flags=flags), "ReservedFlagsSet")
    yield Case("bad-crc", assemble(raw, b.payload, minor=m, crc=False), "ChecksumMismatch")


@attack
def signatures(b: Base) -> Iterator[Case]:
    if b.name != "image-gray":  # file-level, not per base
        return
    yield Case("png-signature", b"\x89PNG\r\n\x1a\n" + b.data[8:], "BadSignature")
    yield Case("ascii-signature", b"SPDR" + b.data[4:], "BadSignature")
    yield Case("text-file", b"this is not a .spdr file\n" * 4, "BadSignature")
    yield Case("random-bytes", np.random.default_rng(7).integers(0, 256, 512).astype(np.uint8).tobytes(), "BadSignature")
    yield Case("signature-only", SIGNATURE, "TruncatedFile")


# --- payload attacks: zstd bombs and bad frames (valid CRC) --------------------------------------------

@attack
def zstd_frames(b: Base) -> Iterator[Case]:
    if b.rc:  # no zstd payload to attack
        return
    body = safetensors.numpy.save(b.tensors)
    raw = b.raw_header
    yield Case("zstd-bomb-declares-1gib", assemble(raw, rle_frame(1 << 30)), "PayloadError", "payload")
    if b.name == "image-gray":
        yield Case("zstd-bomb-declares-4gib", assemble(raw, rle_frame(4 << 30)), "PayloadError", "payload")
    yield Case("zstd-bomb-declares-small-holds-1gib", assemble(raw, rle_frame(1 << 30, declared=len(body))), "PayloadError", "payload")
    yield Case("zstd-declares-256mib", assemble(raw, rle_frame(256 << 20)), "PayloadError", "payload")
    yield Case("zstd-no-content-size", assemble(raw, zstd(body, write_content_size=False)), "PayloadError", "payload")
    yield Case("zstd-no-checksum", assemble(raw, zstd(body, write_checksum=False)), "PayloadError", "payload")
    yield Case("payload-not-zstd", assemble(raw, body), "PayloadError", "payload")
    yield Case("zstd-two-frames", assemble(raw, zstd(body) + zstd(body)), "PayloadError", "payload")
    yield Case("payload-empty", assemble(raw, b""), "PayloadError", "payload")


@attack
def safetensors_bodies(b: Base) -> Iterator[Case]:
    if b.rc:
        return
    body = safetensors.numpy.save(b.tensors)
    raw = b.raw_header
    yield Case("safetensors-garbage", assemble(raw, zstd(b"\xff" * 64)), "PayloadError", "payload")
    yield Case("safetensors-header-len-huge", assemble(raw, zstd(struct.pack("<Q", 1 << 60) + body[8:])), "PayloadError", "payload")
    yield Case("safetensors-truncated", assemble(raw, zstd(body[:-3])), "PayloadError", "payload")
    head_len = struct.unpack_from("<Q", body)[0]
    meta = json.loads(body[8:8 + head_len])
    meta["__metadata__"] = {"evil": "yes"}
    head = json.dumps(meta).encode()
    head += b" " * (-len(head) % 8)
    yield Case("safetensors-metadata", assemble(raw, zstd(struct.pack("<Q", len(head)) + head + body[8 + head_len:])),
               "TensorMismatch", "payload")


# --- header attacks: valid JSON framing, absurd or missing fields ---------------------------------------

@attack(bases=ONE_PER_MODALITY)
def header_json(b: Base) -> Iterator[Case]:
    payload = b.payload
    yield Case("header-not-json", assemble(b"{not json", payload), "HeaderInvalid")
    yield Case("header-not-utf8", assemble(b'{"modality":"\xff\xfe"}', payload), "HeaderInvalid")
    yield Case("header-json-array", assemble(b"[1,2,3]", payload), "HeaderInvalid")
    yield Case("header-deep-nesting", assemble(b"[" * 30000 + b"]" * 30000, payload), "HeaderInvalid")
    yield Case("header-huge-integer", assemble(b'{"modality":' + b"9" * 5000 + b"}", payload), "HeaderInvalid")
    raw = b.raw_header
    yield Case("header-duplicate-key", assemble(raw[:-1] + b',"modality":"image"}', payload), "HeaderInvalid")
    yield Case("header-unknown-field", with_header(b, changed(b, "extra", 1)), "HeaderInvalid")
    for value in ("smell", "", 3, None, "IMAGE"):
        yield Case(f"modality-{json.dumps(value).strip(chr(34)) or 'empty'}", with_header(b, changed(b, "modality", value)),
                   "HeaderInvalid")
    yield Case("modality-missing", with_header(b, changed(b, "modality", _DELETE)), "HeaderInvalid")
    other = {"image": "audio", "audio": "video", "video": "image"}[b.header["modality"]]
    yield Case(f"modality-swapped-to-{other}", with_header(b, changed(b, "modality", other)), "HeaderInvalid")
    yield Case("signal-missing", with_header(b, changed(b, "signal", _DELETE)), "HeaderInvalid")
    yield Case("coords-axes-wrong", with_header(b, changed(b, "coords.axes", b.header["coords"]["axes"][::-1] + ["z"])),
               "HeaderInvalid")
    yield Case("coords-scale-nan", with_header(b, changed(b, "coords.scale.0", math.nan)), "HeaderInvalid")
    yield Case("coords-scale-infinite", with_header(b, changed(b, "coords.scale.0", math.inf)), "HeaderInvalid")
    yield Case("coords-scale-zero", with_header(b, changed(b, "coords.scale.0", 0.0)), "HeaderInvalid")
    yield Case("values-scale-negative", with_header(b, changed(b, "values.scale.0", -1.0)), "HeaderInvalid")
    yield Case("values-offset-nan", with_header(b, changed(b, "values.offset.0", math.nan)), "HeaderInvalid")
    yield Case("values-offset-too-few", with_header(b, changed(b, "values.offset", [])), "HeaderInvalid")


@attack(bases=ONE_PER_MODALITY)
def signal_dimensions(b: Base) -> Iterator[Case]:
    dims = {"image": ("height", "width"), "audio": ("samples",), "video": ("frames", "height", "width")}[b.header["modality"]]
    for dim in dims:
        for value in (0, -1, 2**40, "5", 5.0, True):
            label = json.dumps(value).strip('"')
            yield Case(f"{dim}-{label}", with_header(b, changed(b, f"signal.{dim}", value)), "HeaderInvalid")
    channels = b.header["signal"]["channels"]
    for value in (0, channels + 1, 65):
        yield Case(f"channels-{value}", with_header(b, changed(b, "signal.channels", value)), "HeaderInvalid")
    if b.header["modality"] == "image":
        yield Case("image-mode-CMYK", with_header(b, changed(b, "signal.mode", "CMYK")), "HeaderInvalid")
        yield Case("image-bit-depth-12", with_header(b, changed(b, "signal.bit_depth", 12)), "HeaderInvalid")
    if b.header["modality"] == "audio":
        yield Case("audio-sample-rate-0", with_header(b, changed(b, "signal.sample_rate", 0)), "HeaderInvalid")
        yield Case("audio-subtype-lowercase", with_header(b, changed(b, "signal.subtype", "pcm_16")), "HeaderInvalid")
    if b.header["modality"] == "video":
        yield Case("video-fps-zero", with_header(b, changed(b, "signal.fps", [0, 1])), "HeaderInvalid")
        yield Case("video-fps-one-term", with_header(b, changed(b, "signal.fps", [25])), "HeaderInvalid")
        yield Case("video-frames-10-million", with_header(b, changed(b, "signal.frames", 10**7)), "HeaderInvalid")


@attack(bases=ONE_PER_MODALITY)
def arch_fields(b: Base) -> Iterator[Case]:
    for field, value in (("omega0", math.nan), ("omega0", math.inf), ("omega0", -30.0), ("omega0", 0), ("first_omega0", "30"),
                         ("width", 0), ("width", 4097), ("depth", -1), ("depth", 33), ("in_features", 7),
                         ("out_features", 9), ("activation", "gelu"), ("damping", "cube")):
        label = json.dumps(value).strip('"')
        yield Case(f"arch-{field}-{label}", with_header(b, changed(b, f"arch.{field}", value)), "HeaderInvalid")
    yield Case("arch-width-missing", with_header(b, changed(b, "arch.width", _DELETE)), "HeaderInvalid")


@attack(bases=ONE_PER_MODALITY)
def quant_fields(b: Base) -> Iterator[Case]:
    name = sorted(b.header["quant"]["tensors"])[0]
    spec = b.header["quant"]["tensors"][name]
    for field, value in (("bits", 7), ("bits", 64), ("shape", []), ("shape", [0]), ("shape", [-1, 2]), ("shape", [1, 1, 1, 1, 1]),
                         ("shape", [2**26 + 1]), ("scale_shape", [spec["shape"][0] + 1])):
        label = json.dumps(value).replace(" ", "")
        yield Case(f"quant-{field}-{label}", with_header(b, changed(b, ("quant", "tensors", name, field), value)), "HeaderInvalid")
    yield Case("quant-scheme-unknown", with_header(b, changed(b, "quant.scheme", "per-tensor-asymmetric")), "HeaderInvalid")
    yield Case("quant-no-tensors", with_header(b, changed(b, "quant.tensors", {})), "HeaderInvalid")
    header = copy.deepcopy(b.header)
    header["quant"]["tensors"]["../etc/passwd"] = spec
    yield Case("quant-tensor-name-slash", with_header(b, header), "HeaderInvalid")


# --- tensor attacks: the payload disagrees with the header (valid zstd, valid CRC) ------------------------

@attack
def tensor_contents(b: Base) -> Iterator[Case]:
    if b.rc:  # the header, not the payload, names and shapes rc tensors: rc_tensor_values covers the rest
        return
    specs = b.header["quant"]["tensors"]
    mat = next(n for n, s in sorted(specs.items()) if len(s["shape"]) >= 2 and s["bits"] == 8 and s["shape"][0] != s["shape"][1])
    vec = next(n for n, s in sorted(specs.items()) if len(s["shape"]) == 1)
    t = b.tensors

    def scale_with(value: float) -> np.ndarray:
        s = t[f"{mat}.scale"].copy()
        s[0] = value
        return s

    cases = {
        "tensor-missing": ({mat: None}, "TensorMismatch"),
        "tensor-scale-missing": ({f"{mat}.scale": None}, "TensorMismatch"),
        "tensor-extra": ({"net.99.weight": np.zeros(2, np.int8)}, "TensorMismatch"),
        "tensor-shape-transposed": ({mat: np.ascontiguousarray(t[mat].T)}, "TensorMismatch"),
        "tensor-shape-flattened": ({mat: t[mat].reshape(-1)}, "TensorMismatch"),
        "tensor-dtype-int16": ({mat: t[mat].astype(np.int16)}, "TensorMismatch"),
        "tensor-dtype-float64": ({mat: t[mat].astype(np.float64)}, "TensorMismatch"),
        "tensor-dtype-uint8": ({mat: t[mat].astype(np.uint8)}, "TensorMismatch"),
        "tensor-scale-float16": ({f"{mat}.scale": t[f"{mat}.scale"].astype(np.float16)}, "TensorMismatch"),
        "tensor-value-minus-128": ({mat: np.full_like(t[mat], -128)}, "TensorMismatch"),
        "bias-value-minus-32768": ({vec: np.full_like(t[vec], -32768)}, "TensorMismatch"),
        "scale-nan": ({f"{mat}.scale": scale_with(math.nan)}, "TensorMismatch"),
        "scale-infinite": ({f"{mat}.scale": scale_with(math.inf)}, "TensorMismatch"),
        "scale-zero": ({f"{mat}.scale": scale_with(0.0)}, "TensorMismatch"),
        "scale-negative": ({f"{mat}.scale": scale_with(-0.5)}, "TensorMismatch"),
        "scale-overflows-float32": ({f"{mat}.scale": scale_with(3e38), mat: np.full_like(t[mat], 127)}, "TensorMismatch"),
    }
    for label, (changes, error) in cases.items():
        out = dict(t)
        for key, value in changes.items():
            if value is None:
                del out[key]
            else:
                out[key] = value
        yield Case(label, with_tensors(b, out), error, "payload")
    if "encoding.B" in t:
        for label, value in (("nan", math.nan), ("infinite", -math.inf)):
            bad = t["encoding.B"].copy()
            bad.flat[0] = value
            yield Case(f"float32-tensor-{label}", with_tensors(b, {**t, "encoding.B": bad}), "TensorMismatch", "payload")
        yield Case("float32-tensor-scale-not-one", with_tensors(b, {**t, "encoding.B.scale": np.full(1, 2.0, np.float32)}),
                   "TensorMismatch", "payload")


# --- network attacks: well-formed files no decoder should build ----------------------------------------

@attack
def network_mismatch(b: Base) -> Iterator[Case]:
    arch = b.header["arch"]
    if b.rc:  # a grid network's shapes are checked on torch's meta device, not here: only the float32 limits
        for label, path in (("omega0", "arch.omega0"), ("values-scale", "values.scale.0"), ("coords-scale", "coords.scale.0")):
            header = changed(b, path, 1e39)
            yield Case(f"{label}-overflows-float32",
                       assemble(compact.compress_header(canonical_json(header)), b.payload, minor=b.minor), "NetworkError", "network")
        return
    for field, value in (("width", arch["width"] * 2), ("depth", arch["depth"] + 1), ("depth", 0)):
        yield Case(f"arch-{field}-{value}-tensors-unchanged", pack_unchecked(changed(b, f"arch.{field}", value), b.tensors),
                   "TensorMismatch", "network")
    swap = "relu" if arch["activation"] != "relu" else "spder"
    yield Case(f"arch-activation-{swap}-tensors-unchanged", pack_unchecked(changed(b, "arch.activation", swap), b.tensors),
               "TensorMismatch", "network")
    header = changed(b, "arch.width", 4096)
    header["arch"]["depth"] = 32
    yield Case("arch-width-4096-depth-32-small-tensors", pack_unchecked(header, b.tensors), "NetworkError", "network")
    yield Case("omega0-overflows-float32", pack_unchecked(changed(b, "arch.omega0", 1e39), b.tensors), "NetworkError", "network")
    yield Case("values-scale-overflows-float32", pack_unchecked(changed(b, "values.scale.0", 1e39), b.tensors),
               "NetworkError", "network")
    yield Case("coords-scale-overflows-float32", pack_unchecked(changed(b, "coords.scale.0", 1e39), b.tensors),
               "NetworkError", "network")


@attack
def network_too_large(b: Base) -> Iterator[Case]:
    """A tiny file declaring a 33.6-million-weight network, every weight present (all zero) and matching."""
    if b.name not in ("image-gray", "audio"):
        return
    header = copy.deepcopy(b.header)
    header["arch"].update(width=4096, depth=2)
    specs, quant = {}, {}
    for name, shape in expected_tensors(header["arch"]).items():
        quant[name] = {"bits": 8, "shape": shape, "scale_shape": [1]}
        specs[name], specs[f"{name}.scale"] = ("I8", shape), ("F32", [1])
    header["quant"]["tensors"] = quant
    yield Case("network-33m-weights-all-present", assemble(canonical_json(header), zero_tensors_frame(specs)), "NetworkError", "network")


@attack
def absurd_outputs(b: Base) -> Iterator[Case]:
    """Valid files whose native render is absurd: decode refuses without --force (verify only notes it)."""
    huge = {"image": {"height": 1 << 18, "width": 1 << 18}, "audio": {"samples": 2**31 - 1},
            "video": {"frames": 1000, "height": 12000, "width": 12000}}[b.header["modality"]]
    header = copy.deepcopy(b.header)
    header["signal"].update(huge)
    yield Case("native-output-absurd", pack(header, b.tensors), "OutputTooLargeError", "output")


@attack(bases=TIMESTAMP_BASES + ("image-gray",))
def timestamp_convention(b: Base) -> Iterator[Case]:
    """coords.convention "timestamp" needs format 1.2 and a time axis; unknown conventions are refused."""
    if b.name in TIMESTAMP_BASES:
        yield Case("timestamp-in-a-1.0-file", assemble(b.raw_header, b.payload, minor=0), "HeaderInvalid")
        yield Case("timestamp-in-a-1.1-file", assemble(b.raw_header, b.payload, minor=1), "HeaderInvalid")
        yield Case("convention-sample-start", with_header(b, changed(b, "coords.convention", "sample-start")), "HeaderInvalid")
        yield Case("convention-Timestamp", with_header(b, changed(b, "coords.convention", "Timestamp")), "HeaderInvalid")
    else:
        yield Case("timestamp-on-an-image", assemble(canonical_json(changed(b, "coords.convention", "timestamp")), b.payload,
                                                     minor=2), "HeaderInvalid")


# --- format 1.1 attacks: range-coded payloads, compressed headers, latent-grid fields ---------------------

def _scales_bytes(b: Base) -> int:
    return 4 * sum(math.prod(spec["scale_shape"]) for spec in b.header["quant"]["tensors"].values())


@attack(bases=GRID_BASES)
def rc_streams(b: Base) -> Iterator[Case]:
    """Range-coded streams that end early or cannot hold what the header declares (valid CRC)."""
    raw, payload, n = b.stored_header, b.payload, _scales_bytes(b)
    stream = payload[n:]
    yield Case("rc-payload-empty", assemble(raw, b"", minor=1), "PayloadError", "payload")
    yield Case("rc-scales-truncated", assemble(raw, payload[:n - 3], minor=1), "PayloadError", "payload")
    # Cut streams whose decoder runs more than entropy.MAX_OVERRUN bytes past the end. (A stream cut by a few
    # bytes, or cut to nothing, decodes as zeros: another valid stream, which only the file's CRC tells apart.)
    for keep in (len(stream) // 4, 6, 2):
        yield Case(f"rc-stream-cut-to-{keep}-of-{len(stream)}-bytes", assemble(raw, payload[:n + keep], minor=1),
                   "PayloadError", "payload")
    # A 1.1 file of a few hundred bytes declaring ~16 million latents: refused before decoding (1512 values per byte).
    header = copy.deepcopy(b.header)
    header["arch"].update(grid_height=3500, grid_width=3500, grid_levels=16)
    specs = header["quant"]["tensors"]
    specs["latents"]["shape"] = [sum(h * w for h, w in geometry.level_shapes(3500, 3500, 16))]
    specs["net.0.weight"]["shape"][1] = 16
    yield Case("rc-declares-16m-latents", assemble(compact.compress_header(canonical_json(header)), payload, minor=1),
               "PayloadError", "payload")
    # The same with a stream of zero bytes, the cheapest to decode, as long as the file's other bytes.
    yield Case("rc-declares-16m-latents-zero-stream", assemble(compact.compress_header(canonical_json(header)),
                                                               payload[:n] + bytes(len(stream)), minor=1), "PayloadError", "payload")
    # More values than the stream holds, just above the ceiling: 1512 * (S + 13) + 1 for an S-byte stream.
    header = copy.deepcopy(b.header)
    side = math.isqrt(compact.entropy.max_decisions(len(stream))) + 2
    header["arch"].update(grid_height=side, grid_width=side, grid_levels=1)
    specs = header["quant"]["tensors"]
    specs["latents"]["shape"] = [side * side]
    specs["net.0.weight"]["shape"][1] = 1
    yield Case("rc-declares-just-above-the-values-per-byte-ceiling",
               assemble(compact.compress_header(canonical_json(header)), payload, minor=1), "PayloadError", "payload")


@attack(bases=GRID_BASES)
def rc_tensor_values(b: Base) -> Iterator[Case]:
    """Well-coded streams whose integers or scales the header's tensors cannot hold (valid CRC)."""
    raw, t = b.stored_header, b.tensors
    weight = next(n for n in sorted(t) if n.endswith(".weight"))
    bias = next(n for n in sorted(t) if n.endswith(".bias"))
    cases = {
        "rc-latent-value-200-in-8-bits": {"latents": np.full(t["latents"].shape, 200, np.int16)},
        "rc-latent-value-minus-128": {"latents": np.full(t["latents"].shape, -128, np.int16)},
        "rc-weight-value-minus-128": {weight: np.full(t[weight].shape, -128, np.int16)},
        "rc-bias-value-40000-in-16-bits": {bias: np.full(t[bias].shape, 40000, np.int32)},
        "rc-weight-value-2-pow-30": {weight: np.full(t[weight].shape, 2**30, np.int64)},
        "rc-scale-nan": {f"{weight}.scale": np.full(t[f"{weight}.scale"].shape, math.nan, np.float32)},
        "rc-scale-infinite": {f"{weight}.scale": np.full(t[f"{weight}.scale"].shape, math.inf, np.float32)},
        "rc-scale-zero": {"latents.scale": np.zeros(1, np.float32)},
        "rc-scale-negative": {f"{bias}.scale": np.full(t[f"{bias}.scale"].shape, -1.0, np.float32)},
    }
    for label, changes in cases.items():
        yield Case(label, assemble(raw, rc_payload(b.header, {**t, **changes}), minor=1), "TensorMismatch", "payload")
    header = changed(b, ("quant", "tensors", "latents", "shape"), [b.header["quant"]["tensors"]["latents"]["shape"][0] - 1])
    yield Case("rc-latent-shape-one-short", assemble(compact.compress_header(canonical_json(header)), b.payload, minor=1),
               "TensorMismatch", "payload")
    header = changed(b, ("quant", "tensors", "latents", "shape"), [b.header["quant"]["tensors"]["latents"]["shape"][0], 1])
    yield Case("rc-latent-shape-two-dims", assemble(compact.compress_header(canonical_json(header)), b.payload, minor=1),
               "TensorMismatch", "payload")
    header = changed(b, "arch.grid_width", b.header["arch"]["grid_width"] + 1)
    yield Case("rc-grid-width-disagrees-with-latents", assemble(compact.compress_header(canonical_json(header)), b.payload,
                                                                minor=1), "TensorMismatch", "payload")
    header = changed(b, ("quant", "tensors", weight, "bits"), 32)
    header["quant"]["tensors"][weight]["scale_shape"] = [1]
    yield Case("rc-float32-tensor", assemble(compact.compress_header(canonical_json(header)), b.payload, minor=1),
               "TensorMismatch", "payload")


@attack(bases=GRID_BASES)
def compressed_headers(b: Base) -> Iterator[Case]:
    """The 1.1 header frame: corrupt, oversized, sizeless, or in a file that says 1.0 (valid CRC)."""
    raw, payload = b.stored_header, b.payload
    json_header = canonical_json(b.header)
    yield Case("zheader-bad-frame", assemble(compact.ZSTD_MAGIC + b"\x00garbage", payload, minor=1), "HeaderInvalid")
    yield Case("zheader-magic-only", assemble(compact.ZSTD_MAGIC, payload, minor=1), "HeaderInvalid")
    yield Case("zheader-truncated", assemble(raw[:len(raw) // 2], payload, minor=1), "HeaderInvalid")
    flipped = bytearray(raw)
    flipped[len(raw) // 2] ^= 0x40
    yield Case("zheader-byte-flipped", assemble(bytes(flipped), payload, minor=1), "HeaderInvalid")
    yield Case("zheader-declares-70000-bytes",
               assemble(zstandard.ZstdCompressor(write_content_size=True).compress(b" " * 70000), payload, minor=1), "HeaderTooLarge")
    yield Case("zheader-declares-1mib", assemble(rle_frame(1 << 20), payload, minor=1), "HeaderTooLarge")
    yield Case("zheader-declares-small-holds-more", assemble(rle_frame(1 << 20, declared=len(json_header)), payload, minor=1),
               "HeaderInvalid")
    no_size = zstandard.ZstdCompressor(level=19, dict_data=compact._DICT, write_content_size=False).compress(json_header)
    yield Case("zheader-no-content-size", assemble(no_size, payload, minor=1), "HeaderInvalid")
    yield Case("zheader-inflates-to-not-json", assemble(compact.compress_header(b"{not json"), payload, minor=1), "HeaderInvalid")
    yield Case("zheader-in-a-1.0-file", assemble(raw, payload, minor=0), "HeaderInvalid")
    yield Case("quant-coding-in-a-1.0-file", assemble(json_header, payload, minor=0), "HeaderInvalid")
    yield Case("quant-coding-unknown", compact_with_header(b, changed(b, "quant.coding", "zstd")), "HeaderInvalid")
    yield Case("quant-coding-empty", compact_with_header(b, changed(b, "quant.coding", "")), "HeaderInvalid")


@attack(bases=GRID_BASES)
def grid_fields(b: Base) -> Iterator[Case]:
    """Latent-grid header fields out of range or without their companions (compressed header, valid CRC)."""
    for field, value in (("grid_interp", 2), ("grid_interp", 0), ("grid_interp", 4), ("grid_interp", "3"), ("grid_interp", 3.0),
                         ("grid_interp", True), ("grid_levels", 0), ("grid_levels", 17), ("grid_height", 0),
                         ("grid_width", 2**20 + 1), ("grid_height", -5)):
        label = json.dumps(value).strip('"')
        yield Case(f"arch-{field}-{label}", compact_with_header(b, changed(b, f"arch.{field}", value)), "HeaderInvalid")
    for field in ("grid_height", "grid_width"):
        yield Case(f"arch-{field}-missing", compact_with_header(b, changed(b, f"arch.{field}", _DELETE)), "HeaderInvalid")
    header = changed(b, "arch.grid_levels", _DELETE)
    header["arch"]["grid_interp"] = 3
    yield Case("arch-grid-interp-without-grid-levels", compact_with_header(b, header), "HeaderInvalid")


# --- format 1.3 attacks: latents under the file's entropy model ("arm" payload, docs/format.md section 10) ------

def _arm_layout(b: Base) -> tuple[int, int, int]:
    """Offsets in an arm payload: (level mask, first spread byte, first stream word)."""
    n = _scales_bytes(b)
    return n, n + 2, n + 2 + len(b.header["quant"]["tensors"]) - 1


def _scale_offset(b: Base, name: str) -> int:
    """Where tensor `name`'s first float32 scale sits in an arm payload (tensors in sorted name order)."""
    specs = b.header["quant"]["tensors"]
    return 4 * sum(math.prod(specs[n]["scale_shape"]) for n in sorted(specs) if n < name)


def _arm_file(b: Base, header: dict | None = None, payload: bytes | None = None) -> bytes:
    """A 1.3 file: `header` (default the base's, checked by nothing) compressed, over `payload`, valid CRC."""
    raw = b.stored_header if header is None else compact.compress_header(json.dumps(header, sort_keys=True, separators=(",", ":")).encode())
    return assemble(raw, b.payload if payload is None else payload, minor=b.minor)


@attack(bases=ARM_BASES)
def arm_payload_fields(b: Base) -> Iterator[Case]:
    """The fixed fields of an arm payload: truncated, or a level mask naming levels the grid lacks (valid CRC)."""
    p = b.payload
    mask_at, spreads_at, stream_at = _arm_layout(b)
    levels = b.header["arch"]["grid_levels"]
    yield Case("arm-payload-empty", _arm_file(b, payload=b""), "PayloadError", "payload")
    yield Case("arm-scales-truncated", _arm_file(b, payload=p[:mask_at - 3]), "PayloadError", "payload")
    yield Case("arm-level-mask-truncated", _arm_file(b, payload=p[:mask_at + 1]), "PayloadError", "payload")
    yield Case("arm-spreads-truncated", _arm_file(b, payload=p[:stream_at - 1]), "PayloadError", "payload")
    (mask,) = struct.unpack_from("<H", p, mask_at)
    for label, value in ((f"bit-{levels}", mask | 1 << levels), ("bit-15", mask | 1 << 15), ("0xffff", 0xFFFF)):
        yield Case(f"arm-level-mask-{label}-beyond-{levels}-levels",
                   _arm_file(b, payload=p[:mask_at] + struct.pack("<H", value) + p[spreads_at:]), "PayloadError", "payload")
    # a level switched off (or on) that the stream codes (or not): the stream no longer ends where it should
    yield Case("arm-level-mask-zero", _arm_file(b, payload=p[:mask_at] + b"\0\0" + p[spreads_at:]), "PayloadError", "payload")
    for extra in (1, 2, 3):
        yield Case(f"arm-stream-plus-{extra}-bytes-not-whole-words", _arm_file(b, payload=p + bytes(extra)), "PayloadError", "payload")
    yield Case("arm-stream-minus-1-byte-not-whole-words", _arm_file(b, payload=p[:-1]), "PayloadError", "payload")
    for label, spread in (("0", 0), ("5-under-the-smallest-legal-6", 5), ("255", 255)):
        yield Case(f"arm-spread-bytes-all-{label}", _arm_file(b, payload=p[:spreads_at] + bytes([spread]) * (stream_at - spreads_at)
                                                              + p[stream_at:]), "PayloadError", "payload")


@attack(bases=ARM_BASES)
def arm_streams(b: Base) -> Iterator[Case]:
    """Range-coder words that are not the stream of this file: trailing, cut, random (valid CRC)."""
    p = b.payload
    _, _, stream_at = _arm_layout(b)
    words = (len(p) - stream_at) // 4
    # (one trailing zero word is read as the end of the stream by constriction: docs/format.md section 10.7)
    yield Case("arm-trailing-two-zero-words", _arm_file(b, payload=p + bytes(8)), "PayloadError", "payload")
    yield Case("arm-trailing-words-after-last-symbol", _arm_file(b, payload=p + struct.pack("<3I", 0x12345678, 0xFFFFFFFF, 1)),
               "PayloadError", "payload")
    yield Case(f"arm-stream-cut-to-half-of-{words}-words", _arm_file(b, payload=p[:stream_at + 4 * (words // 2)]), "PayloadError",
               "payload")
    yield Case("arm-stream-all-ones", _arm_file(b, payload=p[:stream_at] + b"\xff" * (4 * words)), "PayloadError", "payload")
    rng = np.random.default_rng(zlib.crc32(b.name.encode()) + 13)
    for k in range(3):
        noise = rng.integers(0, 256, 4 * words, dtype=np.uint8).tobytes()
        yield Case(f"arm-stream-random-{k}", _arm_file(b, payload=p[:stream_at] + noise), "PayloadError", "payload")
    flipped = bytearray(p)
    flipped[stream_at + 1] ^= 0x10
    yield Case("arm-stream-bit-flip-valid-crc", _arm_file(b, payload=bytes(flipped)), "PayloadError", "payload")


@attack(bases=ARM_BASES)
def arm_scales(b: Base) -> Iterator[Case]:
    """ARM weight and bias scales that are not 2^-s with 0 <= s <= 24, or a bias finer than its weight's 2^-(s+8)."""
    p = b.payload
    sw = -int(math.log2(float(b.tensors["arm.0.weight.scale"][0])))
    cases = {
        "arm-weight-scale-not-a-power-of-two": ("arm.0.weight", 0.75 * 2.0 ** -sw),
        "arm-weight-scale-2-pow-minus-25": ("arm.0.weight", 2.0 ** -25),
        "arm-weight-scale-2": ("arm.0.weight", 2.0),
        f"arm-bias-shift-{sw + 9}-above-weight-shift-{sw}-plus-8": ("arm.0.bias", 2.0 ** -(sw + 9)),
        "arm-bias-scale-not-a-power-of-two": ("arm.1.bias", 3.0 * 2.0 ** -12),
    }
    for label, (name, value) in cases.items():
        at = _scale_offset(b, name)
        yield Case(label, _arm_file(b, payload=p[:at] + struct.pack("<f", value) + p[at + 4:]), "PayloadError", "payload")
    at = _scale_offset(b, "arm.level")  # the level biases' scale is not read by the ARM, but is a scale like any other
    yield Case("arm-level-scale-nan", _arm_file(b, payload=p[:at] + struct.pack("<f", math.nan) + p[at + 4:]), "TensorMismatch",
               "payload")


@attack(bases=ARM_BASES)
def arm_capacity(b: Base) -> Iterator[Case]:
    """Headers declaring more latents than the stream's bytes can hold (armmodel.LATENTS_PER_BIT), refused before decoding."""
    from inrcodec.format import armmodel

    p = b.payload
    mask_at, spreads_at, stream_at = _arm_layout(b)
    stream = len(p) - stream_at
    ceiling = armmodel.LATENTS_PER_BIT * (8 * stream + 64)

    def grid(levels: int, h: int, w: int, mask: int, stream: bytes = p[stream_at:]) -> bytes:
        header = _capacity_header(b, levels, h, w)
        assert header["quant"]["tensors"]["net.0.weight"]["scale_shape"] == b.header["quant"]["tensors"]["net.0.weight"]["scale_shape"]
        return _arm_file(b, header, p[:mask_at] + struct.pack("<H", mask) + p[spreads_at:stream_at] + stream)

    if b.header["modality"] == "audio":  # one row: as long as the header allows (2^20), 2m latents over 16 levels
        yield Case("arm-declares-just-above-the-latents-per-byte-ceiling", grid(1, 1, ceiling + 1, 1), "PayloadError", "payload")
        yield Case("arm-declares-2m-latents", grid(16, 1, 1 << 20, 0xFFFF), "PayloadError", "payload")
        yield Case("arm-declares-2m-latents-empty-stream", grid(16, 1, 1 << 20, 0xFFFF, b""), "PayloadError", "payload")
    else:  # video: 3 planes at the finest level, so 1800 x 1800 declares 11 m latents, under the network-size limit
        side = math.isqrt(ceiling) + 1
        big, label = (1800, "11m") if b.header["modality"] == "video" else (3500, "16m")
        yield Case("arm-declares-just-above-the-latents-per-byte-ceiling", grid(1, side, side, 1), "PayloadError", "payload")
        yield Case(f"arm-declares-{label}-latents", grid(16, big, big, 0xFFFF), "PayloadError", "payload")
        yield Case(f"arm-declares-{label}-latents-empty-stream", grid(16, big, big, 0xFFFF, b""), "PayloadError", "payload")
    # a synthesis network wider than the stream can code (non-latent integers count too), no latent level coded
    header = _wide_network_header(b, 4000)
    specs = header["quant"]["tensors"]
    scales = b"".join(struct.pack("<f", 1.0) * math.prod(specs[n]["scale_shape"]) for n in sorted(specs))
    yield Case("arm-network-of-4000-wide-from-an-empty-stream",
               _arm_file(b, header, scales + b"\0\0" + bytes([6]) * (len(specs) - 1)), "PayloadError", "payload")


def _wide_network_header(b: Base, width: int) -> dict:
    """The base's header with its synthesis `width` wide (tensor and per-row scale shapes follow)."""
    header = copy.deepcopy(b.header)
    old = header["arch"]["width"]
    header["arch"]["width"] = width
    for name, spec in header["quant"]["tensors"].items():
        if name.startswith("net."):
            last = name.rsplit(".", 2)[1] == str(header["arch"]["depth"] + 1)
            for key in ("shape", "scale_shape"):
                spec[key] = [width if d == old and not (last and key == "shape" and i == 0) else d
                             for i, d in enumerate(spec[key])]
    return header


def _capacity_header(b: Base, levels: int, h: int, w: int) -> dict:
    header = copy.deepcopy(b.header)
    header["arch"].update(grid_levels=levels, grid_height=h, grid_width=w)
    specs = header["quant"]["tensors"]
    specs["latents"]["shape"] = [geometry.grid_latents(header["arch"])]
    specs["net.0.weight"]["shape"][1] = levels
    specs["arm.level"]["shape"] = [levels]
    return header


@attack(bases=ARM_BASES)
def arm_fields(b: Base) -> Iterator[Case]:
    """arch.arm_width/arm_depth and quant.coding "arm": out of range, without each other, in older minors."""
    for field, value in (("arm_width", 0), ("arm_width", 65), ("arm_width", "4"), ("arm_width", 4.0), ("arm_depth", -1),
                         ("arm_depth", 4), ("arm_depth", True)):
        label = json.dumps(value).strip('"')
        yield Case(f"arch-{field}-{label}", _arm_file(b, changed(b, f"arch.{field}", value)), "HeaderInvalid")
    for field in ("arm_width", "arm_depth"):
        yield Case(f"arch-{field}-missing", _arm_file(b, changed(b, f"arch.{field}", _DELETE)), "HeaderInvalid")
    yield Case("coding-arm-without-arm-width", _arm_file(b, _without_arm_fields(b)), "HeaderInvalid")
    yield Case("arm-width-with-coding-rc", _arm_file(b, changed(b, "quant.coding", "rc")), "HeaderInvalid")
    header = changed(b, "quant.coding", _DELETE)
    yield Case("arm-width-without-coding", _arm_file(b, header), "HeaderInvalid")
    header = changed(b, "arch.grid_levels", _DELETE)
    for key in ("grid_height", "grid_width", "grid_interp"):
        header["arch"].pop(key, None)
    yield Case("arm-width-without-a-latent-grid", _arm_file(b, header), "HeaderInvalid")
    for minor in (0, 1, 2):
        raw = b.stored_header if minor else canonical_json(b.header)
        yield Case(f"coding-arm-in-a-1.{minor}-file", assemble(raw, b.payload, minor=minor), "HeaderInvalid")


@attack(bases=("image-arm-3pass", "image-arm-7pass", "audio-arm-7pass", "video-arm-7pass"))
def arm_passes_fields(b: Base) -> Iterator[Case]:
    """arch.arm_passes (formats 1.8 to 1.10): out of range, even or of the wrong type, without an entropy model, marked
    as an older minor (1.9's counts, and any count on audio, in a 1.8 file too; any count on video in a 1.9 file), and
    an image's or audio's count on video in their own minor (video needs 1.10)."""
    for value in (0, 1, 2, 4, 6, 8, 10, 11, 99, "3", 3.0, True, None):
        label = json.dumps(value).strip('"')
        yield Case(f"arch-arm-passes-{label}", _arm_file(b, changed(b, "arch.arm_passes", value)), "HeaderInvalid")
    yield Case("arm-passes-without-arm-width", _arm_file(b, _without_arm_fields(b)), "HeaderInvalid")
    passes, needs = b.header["arch"]["arm_passes"], b.minor
    for minor in (3, 6, 7) + tuple(range(8, needs)):
        yield Case(f"arm-passes-in-a-1.{minor}-file", assemble(b.stored_header, b.payload, minor=minor), "HeaderInvalid")
    if b.header["modality"] == "video":
        return
    for other, minor in (("video-arm", needs),) + ((("audio-arm", 8),) if needs == 8 else ()):
        header = copy.deepcopy(BASES[other]()[0])
        header["arch"]["arm_passes"] = passes
        yield Case(f"arch-arm-passes-on-{other.split('-')[0]}", assemble(compact.compress_header(canonical_json(header)), b.payload,
                                                                          minor=minor), "HeaderInvalid")


@attack(bases=("audio-arm",))
def audio_grid_fields(b: Base) -> Iterator[Case]:
    """A latent grid on audio: more than one row, marked as an older minor; and the audio grid relabelled as video (no grid_frames)."""
    yield Case("arch-grid-height-2-on-audio", _arm_file(b, changed(b, "arch.grid_height", 2)), "HeaderInvalid")
    for minor in (3, 4):
        yield Case(f"audio-grid-in-a-1.{minor}-file", assemble(b.stored_header, b.payload, minor=minor), "HeaderInvalid")
    video = copy.deepcopy(b.header)
    video.update(modality="video", signal={"frames": 1, "height": 1, "width": 37, "channels": 2, "fps": [25, 1]},
                 coords={"convention": "timestamp", "axes": ["t", "y", "x"], "scale": [1.0, 1.0, 1.0]})
    video["arch"]["in_features"] = 3
    yield Case("grid-on-video", _arm_file(b, video), "HeaderInvalid")


def _without_arm_fields(b: Base) -> dict:
    header = copy.deepcopy(b.header)
    del header["arch"]["arm_width"], header["arch"]["arm_depth"]
    return header


@attack(bases=VIDEO_ARM_BASES)
def video_grid_fields(b: Base) -> Iterator[Case]:
    """A latent grid on video: grid_frames missing, out of range or disagreeing with the latents, bicubic sampling,
    a range-coded payload, marked as an older minor; grid_frames where it does not belong."""
    yield Case("arch-grid-frames-missing", _arm_file(b, changed(b, "arch.grid_frames", _DELETE)), "HeaderInvalid")
    for value in (0, 1_000_001, "3", 3.0, True):
        label = json.dumps(value).strip('"')
        yield Case(f"arch-grid-frames-{label}", _arm_file(b, changed(b, "arch.grid_frames", value)), "HeaderInvalid")
    yield Case("arch-grid-interp-3-on-video", _arm_file(b, changed(b, "arch.grid_interp", 3)), "HeaderInvalid")
    yield Case("video-grid-with-coding-rc", _arm_file(b, _without_arm_fields(b) | {"quant": {**b.header["quant"], "coding": "rc"}}),
               "HeaderInvalid")
    for frames in (2, 4, 6):  # the latents' length no longer matches the pyramid
        yield Case(f"arch-grid-frames-{frames}-for-latents-of-3", _arm_file(b, changed(b, "arch.grid_frames", frames)), "TensorMismatch",
                   "network")
    width = b.header["arch"]["arm_width"]  # an image's entropy model (no previous-plane inputs) on video
    yield Case("arm-of-14-inputs-on-video", _arm_file(b, changed(b, ("quant", "tensors", "arm.0.weight", "shape"), [width, 14])),
               "TensorMismatch", "network")
    # 200,000 planes of 1 x 1: the latents alone fit the stream's capacity, their planes (PLANE_WORK each) do not
    tiny = _capacity_header(b, 1, 1, 1)
    tiny["arch"]["grid_frames"] = 200_000
    tiny["quant"]["tensors"]["latents"]["shape"] = [200_000]
    mask_at, spreads_at, _ = _arm_layout(b)
    yield Case("arm-200000-planes-of-1x1", _arm_file(b, tiny, b.payload[:mask_at] + struct.pack("<H", 1) + b.payload[spreads_at:]),
               "PayloadError", "payload")
    if "arm_passes" in b.header["arch"]:  # 1.10: planes of 5 x 5 run all seven passes, and are charged for each
        stream = len(b.payload) - _arm_layout(b)[2]
        frames = armmodel.LATENTS_PER_BIT * (8 * stream + 64) // 120  # 1.6's charge (89 a plane) fits; 7 x 32 + 25 does not
        busy = _capacity_header(b, 1, 5, 5)
        busy["arch"]["grid_frames"] = frames
        busy["quant"]["tensors"]["latents"]["shape"] = [25 * frames]
        yield Case(f"arm-{frames}-planes-of-5x5-in-7-passes", _arm_file(b, busy, b.payload[:mask_at] + struct.pack("<H", 1)
                                                                           + b.payload[spreads_at:]), "PayloadError", "payload")
    for minor in (3, 4, 5):
        yield Case(f"video-grid-in-a-1.{minor}-file", assemble(b.stored_header, b.payload, minor=minor), "HeaderInvalid")
    image = copy.deepcopy(BASES["image-arm-gray"]()[0])
    image["arch"]["grid_frames"] = 1
    yield Case("arch-grid-frames-on-an-image", assemble(compact.compress_header(canonical_json(image)), b.payload, minor=6),
               "HeaderInvalid")
    plain = copy.deepcopy(b.header)
    for key in ("grid_levels", "grid_height", "grid_width", "arm_width", "arm_depth"):
        del plain["arch"][key]
    yield Case("arch-grid-frames-without-a-latent-grid", assemble(compact.compress_header(canonical_json(plain)), b.payload, minor=6),
               "HeaderInvalid")


@attack(bases=ARM_BASES)
def arm_tensors(b: Base) -> Iterator[Case]:
    """ARM tensors the header's entropy model does not have, float tensors, latents of the wrong width (valid CRC)."""
    specs = b.header["quant"]["tensors"]
    depth = b.header["arch"]["arm_depth"]
    shape = specs["arm.0.weight"]["shape"]
    cases = {
        f"arm-first-weight-{shape[1] - 1}-inputs": (("quant", "tensors", "arm.0.weight", "shape"), [shape[0], shape[1] - 1]),
        "arm-first-weight-transposed": (("quant", "tensors", "arm.0.weight", "shape"), shape[::-1]),
        "arm-last-bias-3-outputs": (("quant", "tensors", f"arm.{depth}.bias", "shape"), [3]),
        "arm-level-one-too-many": (("quant", "tensors", "arm.level", "shape"), [b.header["arch"]["grid_levels"] + 1]),
        "arm-depth-one-more-than-its-tensors": ("arch.arm_depth", depth + 1),
        "arm-width-one-more-than-its-tensors": ("arch.arm_width", b.header["arch"]["arm_width"] + 1),
        "arm-level-missing": (("quant", "tensors", "arm.level"), _DELETE),
    }
    for label, (path, value) in cases.items():
        yield Case(label, _arm_file(b, changed(b, path, value)), "TensorMismatch", "network")
    header = copy.deepcopy(b.header)
    header["quant"]["tensors"][f"arm.{depth + 1}.weight"] = {"bits": 8, "shape": [2, 2], "scale_shape": [1]}
    yield Case("arm-extra-layer-tensor", _arm_file(b, header), "TensorMismatch", "network")
    for name in ("arm.0.weight", "net.0.weight"):
        header = changed(b, ("quant", "tensors", name, "bits"), 32)
        header["quant"]["tensors"][name]["scale_shape"] = [1]
        yield Case(f"{name.replace('.', '-')}-float32-in-an-arm-payload", _arm_file(b, header), "TensorMismatch", "payload")
    other = 8 if specs["latents"]["bits"] == 16 else 16
    header = changed(b, ("quant", "tensors", "latents", "bits"), other)
    yield Case(f"arm-latents-{other}-bits-stream-coded-for-{specs['latents']['bits']}", _arm_file(b, header), "PayloadError", "payload")
    header = changed(b, ("quant", "tensors", "latents", "bits"), 32)
    yield Case("arm-latents-float32", _arm_file(b, header), "TensorMismatch", "payload")


def pack_unchecked(header: dict, tensors: dict) -> bytes:
    """A correctly framed file whose header is valid for the container (checked) and tensors are not."""
    from inrcodec.format.header import validate_header

    validate_header(header)
    return assemble(canonical_json(header), zstd(safetensors.numpy.save(tensors)))


# --- format 1.4: segment tables ------------------------------------------------------------------------

def _segment_files(lengths: list[int], seed: int = 8, **signal) -> list[bytes]:
    """Valid 1.2 audio files, one per segment length (the audio-ts base's network, reseeded per segment)."""
    parts = []
    for k, n in enumerate(lengths):
        sig = {"samples": n, "channels": 1, "sample_rate": 16000, "subtype": "PCM_16", **signal}
        parts.append(pack(*_header("audio", sig, _arch("spder", 1, 1, 8, 1, damping="atan"), 1, [100.0], seed + k,
                                   convention="timestamp")))
    return parts


def _table(lengths: list[int], parts: list[bytes], **signal) -> dict:
    return {"modality": "audio", "signal": {"samples": sum(lengths), "channels": 1, "sample_rate": 16000, "subtype": "PCM_16",
                                            **signal},
            "segments": [[n, len(p)] for n, p in zip(lengths, parts, strict=True)], "encoder": {"tool": "tests/data/make_attacks.py"}}


def _segmented(header: dict, parts: list[bytes], minor: int = 4) -> bytes:
    """A framed segmented file with any table (compressed header, CRC valid), checked by nothing."""
    return assemble(compact.compress_header(canonical_json(header)), b"".join(parts), minor=minor)


SEGMENT_LENGTHS = [30, 20, 25]


def segmented_base() -> tuple[dict, list[bytes], bytes]:
    """A valid segmented file (three 1.2 audio segments): its table header, segment files and bytes."""
    parts = _segment_files(SEGMENT_LENGTHS)
    header = _table(SEGMENT_LENGTHS, parts)
    return header, parts, _segmented(header, parts)


def segmented_cases() -> Iterator[Case]:
    """Hostile segmented files: framing, the table, and segments that lie about themselves (CRCs valid)."""
    lengths = SEGMENT_LENGTHS
    good, parts, data = segmented_base()
    for cut in (17, 40, len(data) - len(parts[-1]) - 4, len(data) - 5, len(data) - 1):
        yield Case(f"truncated-at-{cut}", data[:cut], "TruncatedFile")
    yield Case("trailing-byte", data + b"\0", "TrailingBytes")
    yield Case("bad-crc", data[:-4] + bytes(b ^ 0xFF for b in data[-4:]), "ChecksumMismatch")
    for minor in (0, 2, 3):
        yield Case(f"segments-in-a-1.{minor}-file", _segmented(good, parts, minor), "HeaderInvalid")
    tables = {
        "table-not-a-list": {"segments": {"0": [30, len(parts[0])]}},
        "table-empty": {"segments": []},
        "table-4097-entries": {"segments": [[1, 26]] * 4097},
        "entry-not-a-pair": {"segments": [[30, len(parts[0]), 0]] + good["segments"][1:]},
        "entry-float-samples": {"segments": [[30.0, len(parts[0])]] + good["segments"][1:]},
        "entry-bool-bytes": {"segments": [[30, True]] + good["segments"][1:]},
        "entry-zero-samples": {"segments": [[0, len(parts[0])]] + good["segments"][1:]},
        "entry-25-bytes": {"segments": [[30, 25]] + good["segments"][1:]},
        "entry-negative-bytes": {"segments": [[30, -1]] + good["segments"][1:]},
        "entry-bytes-past-u32": {"segments": [[30, 2**32]] + good["segments"][1:]},
        "samples-short-of-the-signal": {"signal": {**good["signal"], "samples": 76}},
        "samples-past-the-signal": {"signal": {**good["signal"], "samples": 74}},
        "video-modality-over-an-audio-signal": {"modality": "video"},
        "image-segments": {"modality": "image"},
        "arch-beside-the-table": {"arch": {}},
        "unknown-top-level-key": {"tracks": 2},
        "encoder-not-an-object": {"encoder": "spdr"},
    }
    for label, change in tables.items():
        yield Case(label, _segmented({**good, **change}, parts), "HeaderInvalid")
    shifted = [[30, len(parts[0]) + 1], *good["segments"][1:]]
    yield Case("table-counts-a-byte-more", _segmented({**good, "segments": shifted}, parts), "PayloadError")
    shrunk = [[30, len(parts[0]) - 1], *good["segments"][1:]]
    yield Case("table-counts-a-byte-less", _segmented({**good, "segments": shrunk}, parts), "PayloadError")
    # segments that are well framed files, but not the segment the table says
    for label, bad, error in (
            ("segment-of-another-rate", _segment_files([20], sample_rate=8000)[0], "PayloadError"),
            ("segment-of-two-channels", pack(*_header("audio", {"samples": 20, "channels": 2, "sample_rate": 16000, "subtype": "PCM_16"},
                                                      _arch("spder", 1, 2, 8, 1), 2, [100.0], 9, convention="timestamp")),
             "PayloadError"),
            ("segment-one-sample-short", _segment_files([19])[0], "PayloadError"),
            ("segment-an-image", pack(*_image_gray()), "PayloadError"),
            ("segment-itself-segmented", data, "PayloadError-peek"),
            ("segment-bad-crc", parts[1][:-4] + bytes(b ^ 0xFF for b in parts[1][-4:]), "ChecksumMismatch"),
            ("segment-truncated", parts[1][:-9], "TruncatedFile"),
            ("segment-not-spdr", b"RIFF" + bytes(60), "BadSignature")):
        mixed = [parts[0], bad, parts[2]]
        stage = "payload" if error == "PayloadError" else "container"  # info peeks every segment: framing and header
        yield Case(label, _segmented(_table(lengths, mixed), mixed), error.removesuffix("-peek"), stage)
    yield from _video_segment_cases()
    header, tensors = copy.deepcopy(_header("audio", {"samples": 20, "channels": 1, "sample_rate": 16000, "subtype": "PCM_16"},
                                            _arch("spder", 1, 1, 8, 1, damping="atan"), 1, [100.0], 9, convention="timestamp"))
    tensors["net.1.weight"] = tensors["net.1.weight"][:, :4].copy()
    short = pack_unchecked(header, tensors)
    mixed = [parts[0], short, parts[2]]
    yield Case("segment-weights-of-the-wrong-shape", _segmented(_table(lengths, mixed), mixed), "TensorMismatch", "payload")


def _video_file(frames: int, height: int = 3, width: int = 5, seed: int = 20) -> bytes:
    sig = {"frames": frames, "height": height, "width": width, "channels": 3, "fps": [25, 1]}
    return pack(*_header("video", sig, _arch("spder", 3, 3, 6, 1), 3, [1.0, 1.0, 1.0], seed, convention="timestamp"))


def _video_segment_cases() -> Iterator[Case]:
    """Segmented video: frames that do not add up, and segments of another frame size or count."""
    parts = [_video_file(4), _video_file(3, seed=21)]
    table = {"modality": "video", "signal": {"frames": 7, "height": 3, "width": 5, "channels": 3, "fps": [25, 1]},
             "segments": [[4, len(parts[0])], [3, len(parts[1])]]}
    assert container_ok(_segmented(table, parts))
    yield Case("video-frames-short-of-the-signal", _segmented({**table, "signal": {**table["signal"], "frames": 8}}, parts),
               "HeaderInvalid")
    yield Case("video-segment-zero-frames", _segmented({**table, "segments": [[0, len(parts[0])], [7, len(parts[1])]]}, parts),
               "HeaderInvalid")
    for label, bad in (("video-segment-of-another-size", _video_file(3, width=6, seed=21)),
                       ("video-segment-one-frame-short", _video_file(2, seed=21))):
        mixed = [parts[0], bad]
        header = {**table, "segments": [[4, len(parts[0])], [3, len(bad)]]}
        yield Case(label, _segmented(header, mixed), "PayloadError", "payload")


# --- format 1.7: an image as horizontal bands under a segment table ------------------------------------------

BAND_ROWS = [3, 2, 4]
BAND_WIDTH = 5


def _band_signal(rows: int, **signal) -> dict:
    return {"height": rows, "width": BAND_WIDTH, "channels": 3, "mode": "RGB", "bit_depth": 8, **signal}


def _band_file(rows: int, seed: int, **signal) -> bytes:
    """A valid 1.0 RGB image file of `rows` rows (a SPDER 2 -> 6 -> 6 -> 3, seeded), or of another `signal`."""
    sig = _band_signal(rows, **signal)
    return pack(*_header("image", sig, _arch("spder", 2, sig["channels"], 6, 1), sig["channels"], [1.0, 1.0], seed))


def _band_bases() -> list[Base]:
    """The bands of the image-bands file: two plain 1.0 files around a 1.1 latent grid (compressed header, rc payload)."""
    out = []
    for k, rows in enumerate(BAND_ROWS):
        header, tensors = (_grid(_band_signal(rows), 3, 2, 4, 0, 31) if k == 2 else
                           _header("image", _band_signal(rows), _arch("spder", 2, 3, 6, 1), 3, [1.0, 1.0], 30 + k))
        out.append(Base(f"band-{k}", header, tensors, pack(header, tensors)))
    return out


def _band_table(rows: list[int], parts: list[bytes], **signal) -> dict:
    return {"modality": "image", "signal": _band_signal(sum(rows), **signal),
            "segments": [[n, len(p)] for n, p in zip(rows, parts, strict=True)], "encoder": {"tool": "tests/data/make_attacks.py"}}


def image_bands_base() -> tuple[dict, list[bytes], bytes]:
    """A valid format 1.7 file (a 9 x 5 RGB image as bands of 3, 2 and 4 rows): its table header, band files and bytes."""
    parts = [b.data for b in _band_bases()]
    header = _band_table(BAND_ROWS, parts)
    return header, parts, _segmented(header, parts, minor=7)


# existing attack families whose cases, put in as band 1 under an honest table, must be refused as they are alone
BAND_FAMILIES = ("zstd_frames", "safetensors_bodies", "tensor_contents", "network_mismatch", "header_json", "arch_fields",
                 "quant_fields", "versions_and_flags", "lengths")


def image_band_cases() -> Iterator[Case]:
    """Hostile 1.7 files: framing, versions, tables that do not add up, bands that are not the band the table says,
    nested tables, and bands that are hostile files themselves (CRCs valid unless the case is about them)."""
    good, parts, data = image_bands_base()
    for cut in (17, 40, len(data) - len(parts[-1]) - 4, len(data) - 1):
        yield Case(f"truncated-at-{cut}", data[:cut], "TruncatedFile")
    yield Case("trailing-byte", data + b"\0", "TrailingBytes")
    yield Case("bad-crc", data[:-4] + bytes(b ^ 0xFF for b in data[-4:]), "ChecksumMismatch")
    for minor in (0, 3, 4, 6):
        yield Case(f"image-bands-in-a-1.{minor}-file", _segmented(good, parts, minor), "HeaderInvalid")
    tables = {
        "rows-short-of-the-height": {"signal": _band_signal(10)},
        "rows-past-the-height": {"signal": _band_signal(8)},
        "band-zero-rows": {"segments": [[0, len(parts[0])], [5, len(parts[1])], [4, len(parts[2])]]},
        "band-rows-past-the-limit": {"segments": [[2**20 + 1, len(parts[0])]] + good["segments"][1:]},
        "band-rows-negative": {"segments": [[-3, len(parts[0])], [14, len(parts[1])], [4, len(parts[2])]]},
        "table-4097-bands": {"signal": _band_signal(4097), "segments": [[1, 26]] * 4097},
        "table-empty": {"segments": []},
        "band-not-a-pair": {"segments": [[3]] + good["segments"][1:]},
        "band-rows-float": {"segments": [[3.0, len(parts[0])]] + good["segments"][1:]},
        "signal-of-audio": {"signal": {"samples": 9, "channels": 3, "sample_rate": 8000, "subtype": "PCM_16"}},
        "coords-beside-the-table": {"coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]}},
        "signal-mode-rgb-with-4-channels": {"signal": _band_signal(9, channels=4)},
    }
    for label, change in tables.items():
        yield Case(label, _segmented({**good, **change}, parts, minor=7), "HeaderInvalid")
    for label, delta in (("table-counts-a-byte-more", 1), ("table-counts-a-byte-less", -1)):
        shifted = [[3, len(parts[0]) + delta], *good["segments"][1:]]
        yield Case(label, _segmented({**good, "segments": shifted}, parts, minor=7), "PayloadError")
    _, _, audio_table = segmented_base()
    for label, bad, error in (
            ("band-of-another-width", _band_file(2, 40, width=6), "PayloadError"),
            ("band-of-one-channel", _band_file(2, 41, channels=1, mode="L"), "PayloadError"),
            ("band-of-16-bits", _band_file(2, 42, bit_depth=16), "PayloadError"),
            ("band-one-row-short", _band_file(1, 43), "PayloadError"),
            ("band-one-row-long", _band_file(3, 44), "PayloadError"),
            ("band-an-audio-file", _segment_files([2])[0], "PayloadError"),
            ("band-a-video-file", _video_file(2, height=2, width=5), "PayloadError"),
            ("band-itself-image-bands", data, "PayloadError-peek"),
            ("band-a-segmented-audio-file", audio_table, "PayloadError-peek"),
            ("band-bad-crc", parts[1][:-4] + bytes(b ^ 0xFF for b in parts[1][-4:]), "ChecksumMismatch"),
            ("band-truncated", parts[1][:-9], "TruncatedFile"),
            ("band-not-spdr", b"\x89PNG\r\n\x1a\n" + bytes(60), "BadSignature")):
        mixed = [parts[0], bad, parts[2]]
        stage = "payload" if error == "PayloadError" else "container"  # info peeks every band: framing and header
        yield Case(label, _segmented(_band_table(BAND_ROWS, mixed), mixed, minor=7), error.removesuffix("-peek"), stage)
    yield from _hostile_band_cases(parts)


def _hostile_band_cases(parts: list[bytes]) -> Iterator[Case]:
    """Band 1 (for the latent-grid families, band 2: the 1.1 grid) replaced by a case of an existing attack family on that band."""
    bands = _band_bases()
    families = [(1, globals()[name]) for name in BAND_FAMILIES] + [(2, rc_tensor_values), (2, compressed_headers), (2, grid_fields)]
    for k, family in families:
        for case in family(bands[k]):
            if case.stage == "output" or len(case.data) < 26:  # the table cannot list a file under 26 bytes
                continue
            mixed = parts[:k] + [case.data] + parts[k + 1:]
            yield Case(f"band-{k}-{family.__name__.replace('_', '-')}-{case.name}",
                       _segmented(_band_table(BAND_ROWS, mixed), mixed, minor=7), case.error, case.stage)


def container_ok(data: bytes) -> bool:
    """The reader accepts `data` (a base built here must be valid for its attacks to mean anything)."""
    from inrcodec.format import limits as safety

    safety.read_checked(data)
    return True


# --- driver --------------------------------------------------------------------------------------------

def bases() -> dict[str, Base]:
    out = {}
    for name, make in BASES.items():
        header, tensors = make()
        out[name] = Base(name, header, tensors, pack(header, tensors))
    return out


def _check(base_name: str, case: Case) -> None:
    """Refuse to emit a case its expected error does not stop (torch-free reader checks only)."""
    from inrcodec.format import container
    from inrcodec.format import limits as safety

    expected = getattr(errors, case.error)
    try:
        if case.stage == "container":
            container.peek(case.data)
            if "segments" in container.peek(case.data)["header"]:
                container.peek_segments(case.data)  # what info reads of a segmented file
        elif case.stage == "output":
            safety.read_checked(case.data)
            return
        safety.read_checked(case.data)
    except expected:
        return
    except errors.SpdrError as exc:
        raise AssertionError(f"{base_name}--{case.name}: expected {case.error}, reader raised {type(exc).__name__}: {exc}") from None
    raise AssertionError(f"{base_name}--{case.name}: expected {case.error}, the reader accepted it")


def generate() -> dict[str, tuple[bytes, dict]]:
    """File name -> (bytes, manifest entry) for the whole corpus."""
    out: dict[str, tuple[bytes, dict]] = {}
    for b in bases().values():
        for make in ATTACKS:
            if make.bases is not None and b.name not in make.bases:
                continue
            for case in make(b):
                _check(b.name, case)
                fname = f"{b.name}--{case.name}.spdr"
                assert fname not in out, fname
                out[fname] = (case.data, {"file": fname, "base": b.name, "modality": b.header["modality"], "attack": make.__name__,
                                          "case": case.name,
                                          "error": case.error, "stage": case.stage, "refused_by": list(STAGES[case.stage])})
    for base_name, modality, cases in (("audio-segmented", "audio", segmented_cases), ("image-bands", "image", image_band_cases)):
        for case in cases():
            _check(base_name, case)
            fname = f"{base_name}--{case.name}.spdr"
            assert fname not in out, fname
            out[fname] = (case.data, {"file": fname, "base": base_name, "modality": modality, "attack": cases.__name__,
                                      "case": case.name, "error": case.error, "stage": case.stage,
                                      "refused_by": list(STAGES[case.stage])})
    return out


def manifest_bytes(corpus: dict[str, tuple[bytes, dict]]) -> bytes:
    lines = [json.dumps(entry, sort_keys=True) for _, entry in corpus.values()]
    return ("[\n" + ",\n".join(lines) + "\n]\n").encode()


def main() -> None:
    """Rewrite tests/data/attacks/ (removing files no attack produces any more)."""
    corpus = generate()
    ATTACK_DIR.mkdir(exist_ok=True)
    for old in ATTACK_DIR.glob("*.spdr"):
        if old.name not in corpus:
            old.unlink()
    for name, (data, _) in corpus.items():
        (ATTACK_DIR / name).write_bytes(data)
    (ATTACK_DIR / MANIFEST).write_bytes(manifest_bytes(corpus))
    total = sum(len(d) for d, _ in corpus.values())
    print(f"wrote {len(corpus)} files ({total} bytes) and {MANIFEST} to {ATTACK_DIR}")


if __name__ == "__main__":
    main()
