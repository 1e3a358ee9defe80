"""The .spdr header (format 1.x): allowed values, hard limits, canonical JSON and validation.

The header alone says how to rebuild the network and map its output to samples, so every field is
checked here, before any tensor is read; each error names the field. Imports no torch.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal, get_args

from ..errors import HeaderInvalid
from .armmodel import MAX_PASSES

# One Literal per closed set: the type for annotations and, via get_args, the allowed values.
Modality = Literal["image", "audio", "video"]
ImageMode = Literal["L", "LA", "RGB", "RGBA"]
Activation = Literal["spder", "siren", "relu", "relu-pe", "relu-ffn", "hashgrid"]
Damping = Literal["sqrt", "log", "atan", "sqrt-relu", "none"]
Convention = Literal["pixel-centre", "timestamp"]  # "timestamp": format 1.2, audio and video only
QuantScheme = Literal["per-channel-symmetric"]
Bits = Literal[6, 8, 10, 12, 16, 32]
Coding = Literal["rc", "arm"]  # 1.1 adaptive range coding; 1.3 latents under the file's entropy model
BitDepth = Literal[8, 16]

ALLOWED_MODALITIES: tuple[str, ...] = get_args(Modality)
ALLOWED_IMAGE_MODES: tuple[str, ...] = get_args(ImageMode)
ALLOWED_ACTIVATIONS: tuple[str, ...] = get_args(Activation)
ALLOWED_DAMPINGS: tuple[str, ...] = get_args(Damping)
ALLOWED_CONVENTIONS: tuple[str, ...] = get_args(Convention)
ALLOWED_QUANT_SCHEMES: tuple[str, ...] = get_args(QuantScheme)
ALLOWED_BITS: tuple[int, ...] = get_args(Bits)
ALLOWED_CODINGS: tuple[str, ...] = get_args(Coding)
ALLOWED_BIT_DEPTHS: tuple[int, ...] = get_args(BitDepth)

MODE_CHANNELS: dict[str, int] = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
AXES: dict[str, list[str]] = {"image": ["y", "x"], "audio": ["t"], "video": ["t", "y", "x"]}

# Hard limits, enforced by readers and writers alike (docs/format.md, "Limits").
MAX_HEADER_BYTES = 65536
MAX_DIM = 1_048_576
MAX_SAMPLES = 2**31 - 1
MAX_FRAMES = 1_000_000
MAX_SIGNAL_ELEMENTS = 2**40
MAX_FPS_TERM = 2**31 - 1
MAX_TENSORS = 4096
MAX_TENSOR_DIMS = 4
MAX_TENSOR_ELEMENTS = 2**26
MAX_TOTAL_ELEMENTS = 2**27
TENSOR_NAME_RE = re.compile(r"^[A-Za-z0-9_.]{1,128}$")
SUBTYPE_RE = re.compile(r"^[A-Z0-9_]{1,32}$")

TOP_LEVEL_REQUIRED = ("modality", "signal", "coords", "values", "arch", "quant")
TOP_LEVEL_OPTIONAL = ("encoder",)
ARCH_REQUIRED = ("activation", "damping", "in_features", "out_features", "width", "depth",
                 "omega0", "first_omega0")
# Optional architecture extras: name -> (kind, low, high); floats need only be positive and finite.
ARCH_EXTRAS: dict[str, tuple[str, int, int]] = {
    "pe_frequencies": ("int", 1, 32),
    "ffn_features": ("int", 1, 4096),
    "ffn_sigma": ("float", 0, 0),
    "hash_levels": ("int", 1, 64),
    "hash_table_log2": ("int", 1, 26),
    "hash_features": ("int", 1, 64),
    "hash_base": ("int", 1, MAX_DIM),
    "hash_max_res": ("int", 1, MAX_DIM),
    "grid_levels": ("int", 1, 16),  # latent-grid SPDER (format 1.1, inrcodec/latentgrid.py)
    "grid_frames": ("int", 1, MAX_FRAMES),  # video's latent time slices at the finest level (format 1.6)
    "grid_height": ("int", 1, MAX_DIM),
    "grid_width": ("int", 1, MAX_DIM),
    "grid_interp": ("int", 1, 3),  # 1 bilinear (default), 3 bicubic; checked below
    "grid_stencil": ("int", 0, 2),  # finest levels also sampled one cell around (format 1.3); needs arm_width
    "arm_width": ("int", 1, 64),  # the latents' entropy model (format 1.3, format/armmodel.py)
    "arm_depth": ("int", 0, 3),
    "arm_passes": ("int", 3, MAX_PASSES),  # images 3 (format 1.8), 5, 7, 9 (1.9), audio any (1.9), video any (1.10); odd; absent: 2
}


def _fail(field: str, what: str, got: Any) -> HeaderInvalid:
    text = repr(got)
    if len(text) > 60:
        text = text[:57] + "..."
    return HeaderInvalid(f"header field '{field}': {what}, got {text}")


def _int(obj: dict, key: str, field: str, low: int, high: int) -> int:
    value = obj.get(key)
    if type(value) is not int or not low <= value <= high:
        raise _fail(field, f"must be an integer in {low}..{high}", value)
    return value


def _positive(value: Any, field: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:
        raise _fail(field, "must be a positive finite number", value)
    return float(value)


def _finite(value: Any, field: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise _fail(field, "must be a finite number", value)
    return float(value)


def _choice(obj: dict, key: str, field: str, allowed: tuple) -> Any:
    value = obj.get(key)
    if type(value) not in (str, int) or value not in allowed:
        raise _fail(field, f"must be one of {', '.join(map(str, allowed))}", value)
    return value


def _object(value: Any, field: str, required: tuple, optional: tuple = ()) -> dict:
    """Check `value` is a JSON object holding every required key and no unknown one."""
    if not isinstance(value, dict):
        raise _fail(field, "must be a JSON object", value)
    for key in required:
        if key not in value:
            raise HeaderInvalid(f"header field '{field}.{key}' is missing")
    for key in value:
        if key not in required and key not in optional:
            raise HeaderInvalid(f"header field '{field}.{key}' is not a known field")
    return value


def _list(value: Any, field: str, length: int) -> list:
    if not isinstance(value, list) or len(value) != length:
        raise _fail(field, f"must be a list of {length} item(s)", value)
    return value


def canonical_json(obj: Any) -> bytes:
    """Serialise `obj` deterministically: sorted keys, no spaces, UTF-8, no NaN or infinity."""
    try:
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
        return text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise HeaderInvalid(f"header is not serialisable as canonical JSON: {exc}") from None


def _signal(modality: str, sig: Any) -> int:
    """Validate the 'signal' object; return its number of channels."""
    if modality == "image":
        _object(sig, "signal", ("height", "width", "channels", "mode", "bit_depth"))
        dims = [_int(sig, k, f"signal.{k}", 1, MAX_DIM) for k in ("height", "width")]
        channels = _int(sig, "channels", "signal.channels", 1, 4)
        mode = _choice(sig, "mode", "signal.mode", ALLOWED_IMAGE_MODES)
        if MODE_CHANNELS[mode] != channels:
            raise _fail("signal.channels", f"must be {MODE_CHANNELS[mode]} for mode {mode}",
                        channels)
        _choice(sig, "bit_depth", "signal.bit_depth", ALLOWED_BIT_DEPTHS)
    elif modality == "audio":
        _object(sig, "signal", ("samples", "channels", "sample_rate", "subtype"))
        dims = [_int(sig, "samples", "signal.samples", 1, MAX_SAMPLES)]
        channels = _int(sig, "channels", "signal.channels", 1, 64)
        _int(sig, "sample_rate", "signal.sample_rate", 1, 1_000_000)
        subtype = sig["subtype"]
        if not isinstance(subtype, str) or not SUBTYPE_RE.match(subtype):
            raise _fail("signal.subtype", "must be a soundfile subtype such as 'PCM_16'", subtype)
    else:
        _object(sig, "signal", ("frames", "height", "width", "channels", "fps"))
        dims = [_int(sig, "frames", "signal.frames", 1, MAX_FRAMES)]
        dims += [_int(sig, k, f"signal.{k}", 1, MAX_DIM) for k in ("height", "width")]
        channels = _int(sig, "channels", "signal.channels", 3, 3)
        fps = _list(sig["fps"], "signal.fps", 2)
        for i, term in enumerate(fps):
            _int({"v": term}, "v", f"signal.fps[{i}]", 1, MAX_FPS_TERM)
    if math.prod(dims) * channels > MAX_SIGNAL_ELEMENTS:
        raise _fail("signal", "must hold at most 2**40 values (dimensions x channels)",
                    math.prod(dims) * channels)
    return channels


def _quant(quant: Any) -> None:
    _object(quant, "quant", ("scheme", "tensors"), ("coding",))
    _choice(quant, "scheme", "quant.scheme", ALLOWED_QUANT_SCHEMES)
    if "coding" in quant:  # format 1.1: "rc", the range-coded payload of inrcodec.compact
        _choice(quant, "coding", "quant.coding", ALLOWED_CODINGS)
    tensors = quant["tensors"]
    if not isinstance(tensors, dict) or not 1 <= len(tensors) <= MAX_TENSORS:
        raise _fail("quant.tensors", f"must be an object of 1..{MAX_TENSORS} tensors",
                    type(tensors).__name__ if not isinstance(tensors, dict) else len(tensors))
    total = 0
    for name, spec in tensors.items():
        field = f"quant.tensors.{name}"
        if (not isinstance(name, str) or not TENSOR_NAME_RE.match(name)
                or name.endswith(".scale") or name == "__metadata__"):
            raise _fail("quant.tensors", "tensor names must match ^[A-Za-z0-9_.]{1,128}$ and "
                        "not end in '.scale' or be '__metadata__'", name)
        _object(spec, field, ("bits", "shape", "scale_shape"))
        bits = _choice(spec, "bits", f"{field}.bits", ALLOWED_BITS)
        shape = spec["shape"]
        if not isinstance(shape, list) or not 1 <= len(shape) <= MAX_TENSOR_DIMS:
            raise _fail(f"{field}.shape", f"must be a list of 1..{MAX_TENSOR_DIMS} integers", shape)
        for i, dim in enumerate(shape):
            _int({"v": dim}, "v", f"{field}.shape[{i}]", 1, MAX_TENSOR_ELEMENTS)
        count = math.prod(shape)
        if count > MAX_TENSOR_ELEMENTS:
            raise _fail(f"{field}.shape", "must hold at most 2**26 elements", count)
        total += count
        allowed = [[1]] if bits == 32 else [[1], [shape[0]]]
        if spec["scale_shape"] not in allowed or type(spec["scale_shape"][0]) is not int:
            raise _fail(f"{field}.scale_shape", f"must be one of {allowed}", spec["scale_shape"])
    if total > MAX_TOTAL_ELEMENTS:
        raise _fail("quant.tensors", "must hold at most 2**27 elements in total", total)


def _grid_modality(arch: dict, modality: str) -> None:
    """Latent grids are 2-D (images), one row on a time axis (audio, format 1.5: grid_height 1) or a (t, y, x)
    pyramid (video, format 1.6: grid_frames, entropy-coded, trilinear)."""
    if "grid_frames" in arch and (modality != "video" or "grid_levels" not in arch):
        raise _fail("arch.grid_frames", "belongs to a latent grid on video", arch["grid_frames"])
    if "grid_levels" not in arch:
        return
    if modality == "video":
        if "grid_frames" not in arch:
            raise HeaderInvalid("header field 'arch.grid_levels' on video needs 'arch.grid_frames'")
        if "arm_width" not in arch:
            raise HeaderInvalid("header field 'arch.grid_frames' needs 'arch.arm_width' (video latents are entropy-coded)")
        if arch.get("grid_interp", 1) != 1:
            raise _fail("arch.grid_interp", "must be 1 on video (trilinear sampling)", arch["grid_interp"])
    if modality == "audio" and arch["grid_height"] != 1:
        raise _fail("arch.grid_height", "must be 1 for audio (one row of latents on the time axis)", arch["grid_height"])


def _arch(arch: Any, n_axes: int, channels: int) -> None:
    _object(arch, "arch", ARCH_REQUIRED, tuple(ARCH_EXTRAS))
    _choice(arch, "activation", "arch.activation", ALLOWED_ACTIVATIONS)
    _choice(arch, "damping", "arch.damping", ALLOWED_DAMPINGS)
    _int(arch, "in_features", "arch.in_features", n_axes, n_axes)
    _int(arch, "out_features", "arch.out_features", channels, channels)
    _int(arch, "width", "arch.width", 1, 4096)
    _int(arch, "depth", "arch.depth", 0, 32)
    _positive(arch["omega0"], "arch.omega0")
    _positive(arch["first_omega0"], "arch.first_omega0")
    for key, (kind, low, high) in ARCH_EXTRAS.items():
        if key not in arch:
            continue
        if kind == "int":
            _int(arch, key, f"arch.{key}", low, high)
        else:
            _positive(arch[key], f"arch.{key}")
    grid = [key for key in ("grid_levels", "grid_height", "grid_width") if key in arch]
    if grid and len(grid) < 3:  # a latent grid needs all three (docs/format.md, section 3.5)
        missing = next(key for key in ("grid_levels", "grid_height", "grid_width") if key not in arch)
        raise HeaderInvalid(f"header field 'arch.{grid[0]}' needs 'arch.{missing}'")
    if "grid_interp" in arch:
        _choice(arch, "grid_interp", "arch.grid_interp", (1, 3))
        if "grid_levels" not in arch:
            raise HeaderInvalid("header field 'arch.grid_interp' needs 'arch.grid_levels'")


def _entropy_model(arch: dict, quant: dict) -> None:
    """coding "arm" goes with a latent grid and its entropy model (arm_width and arm_depth), and only with them."""
    arm = [key for key in ("arm_width", "arm_depth") if key in arch]
    if arm and len(arm) < 2:
        raise HeaderInvalid(f"header field 'arch.{arm[0]}' needs 'arch.{'arm_depth' if arm[0] == 'arm_width' else 'arm_width'}'")
    if arm and "grid_levels" not in arch:
        raise HeaderInvalid("header field 'arch.arm_width' needs 'arch.grid_levels'")
    if "grid_stencil" in arch and not arm:
        raise HeaderInvalid("header field 'arch.grid_stencil' needs 'arch.arm_width' (format 1.3)")
    if "arm_passes" in arch and not arm:
        raise HeaderInvalid("header field 'arch.arm_passes' needs 'arch.arm_width' (format 1.8)")
    if "arm_passes" in arch and arch["arm_passes"] % 2 == 0:
        raise _fail("arch.arm_passes", "must be odd: 3 (format 1.8), 5, 7 or 9 (format 1.9; on video 1.10)", arch["arm_passes"])
    if bool(arm) != (quant.get("coding") == "arm"):
        raise HeaderInvalid("header field 'quant.coding' 'arm' and 'arch.arm_width' go together")


def validate_header(obj: Any) -> dict:
    """Check a parsed header against the version-1 schema and return it unchanged.

    Raises HeaderInvalid naming the first offending field.
    """
    obj = _object(obj, "header", TOP_LEVEL_REQUIRED, TOP_LEVEL_OPTIONAL)
    modality = _choice(obj, "modality", "modality", ALLOWED_MODALITIES)
    channels = _signal(modality, obj["signal"])
    axes = AXES[modality]

    coords = _object(obj["coords"], "coords", ("convention", "axes", "scale"))
    _choice(coords, "convention", "coords.convention", ALLOWED_CONVENTIONS)
    if coords["convention"] == "timestamp" and "t" not in axes:
        raise _fail("coords.convention", f"'timestamp' places samples of a time axis; {modality} has none", coords["convention"])
    if coords["axes"] != axes:
        raise _fail("coords.axes", f"must be {axes} for {modality}", coords["axes"])
    for i, value in enumerate(_list(coords["scale"], "coords.scale", len(axes))):
        _positive(value, f"coords.scale[{i}]")

    values = _object(obj["values"], "values", ("offset", "scale"))
    for i, value in enumerate(_list(values["offset"], "values.offset", channels)):
        _finite(value, f"values.offset[{i}]")
    for i, value in enumerate(_list(values["scale"], "values.scale", channels)):
        _positive(value, f"values.scale[{i}]")

    _arch(obj["arch"], len(axes), channels)
    _grid_modality(obj["arch"], modality)
    _quant(obj["quant"])
    _entropy_model(obj["arch"], obj["quant"])
    if "encoder" in obj and not isinstance(obj["encoder"], dict):
        raise _fail("encoder", "must be a JSON object", obj["encoder"])
    return obj


SEGMENTED_REQUIRED = ("modality", "signal", "segments")
# What a segment table cuts: audio samples and video frames (format 1.4), an image's rows (format 1.7, horizontal bands).
# Readers of 1.4 to 1.6 knew only the time axes, so they refuse an image table (docs/format.md section 14.6).
SEGMENTED_MODALITIES = ("image", "audio", "video")
# modality -> (the signal key a table entry's length counts, its largest value, the unit it is named by in messages)
SEGMENT_KEYS = {"image": ("height", MAX_DIM, "rows"), "audio": ("samples", MAX_SAMPLES, "samples"),
                "video": ("frames", MAX_FRAMES, "frames")}
MAX_SEGMENTS = 4096
MIN_FILE_BYTES = 26  # the smallest .spdr file: 17 fixed bytes, a 1-byte header, payload_len, crc32


def validate_segmented(obj: Any) -> dict:
    """Check a parsed segment table (format 1.4, docs/format.md section 11; 1.7 for an image's bands, section 14)
    and return it unchanged.

    `segments` lists [length, bytes] per segment, in order: the lengths (audio samples, video frames, image rows)
    add up to the signal's (samples, frames, height) and every segment is a whole .spdr file of 26 bytes or more."""
    obj = _object(obj, "header", SEGMENTED_REQUIRED, TOP_LEVEL_OPTIONAL)
    modality = _choice(obj, "modality", "modality", SEGMENTED_MODALITIES)
    _signal(modality, obj["signal"])
    key, most, unit = SEGMENT_KEYS[modality]
    segments = obj["segments"]
    if not isinstance(segments, list) or not 1 <= len(segments) <= MAX_SEGMENTS:
        raise _fail("segments", f"must be a list of 1..{MAX_SEGMENTS} [{unit}, bytes] pairs", segments)
    total = 0
    for i, entry in enumerate(segments):
        if not (isinstance(entry, list) and len(entry) == 2 and all(type(v) is int for v in entry)):
            raise _fail(f"segments[{i}]", f"must be a pair of integers [{unit}, bytes]", entry)
        length, nbytes = entry
        if not 1 <= length <= most:
            raise _fail(f"segments[{i}]", f"{unit} must be in 1..{most}", length)
        if not MIN_FILE_BYTES <= nbytes <= 2**32 - 1:
            raise _fail(f"segments[{i}]", f"bytes must be in {MIN_FILE_BYTES}..{2**32 - 1}", nbytes)
        total += length
    if total != obj["signal"][key]:
        raise _fail("segments", f"{unit} must add up to signal.{key} ({obj['signal'][key]})", total)
    if "encoder" in obj and not isinstance(obj["encoder"], dict):
        raise _fail("encoder", "must be a JSON object", obj["encoder"])
    return obj


def _no_constant(name: str) -> Any:
    raise HeaderInvalid(f"header JSON contains {name}, which is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for key, value in pairs:
        if key in out:
            raise HeaderInvalid(f"header JSON repeats the key '{key}'")
        out[key] = value
    return out


def parse_header(raw: bytes) -> dict:
    """Decode header bytes (UTF-8 JSON, no NaN/infinity, no repeated keys) and validate them."""
    try:
        text = raw.decode("utf-8")
        obj = json.loads(text, parse_constant=_no_constant, object_pairs_hook=_no_duplicates)
    except HeaderInvalid:
        raise
    except UnicodeDecodeError as exc:
        raise HeaderInvalid(f"header is not valid UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise HeaderInvalid(f"header is not valid JSON: {exc.msg} at byte {exc.pos}") from None
    except ValueError as exc:  # e.g. an integer literal longer than Python's digit limit
        raise HeaderInvalid(f"header is not valid JSON: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise HeaderInvalid("header JSON is nested too deeply") from None
    header = validate_segmented(obj) if isinstance(obj, dict) and "segments" in obj else validate_header(obj)
    canonical_json(header)  # refuse what could not be written back (e.g. lone surrogates)
    return header
