"""Decoder limits beyond the container: what a file may ask a decoder to build. Imports no torch.

The container (format/container.py, format/header.py) proves a file is well formed. A well-formed header can still
describe a network nobody can build (width 4096, depth 32), tensors that do not fit its network, or
weights that overflow float32. These checks refuse such files from the header and tensors alone,
before torch is imported or any network memory is allocated, so a hostile file costs milliseconds.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..errors import FormatError, NetworkError, PayloadError, TensorMismatch
from . import container, geometry
from .header import SEGMENT_KEYS

__all__ = [
    "F32_MAX",
    "MAX_NETWORK_PARAMS",
    "RENDER_ELEMENTS",
    "check_arch_size",
    "check_finite",
    "check_header",
    "check_shapes",
    "check_weights",
    "expected_tensors",
    "physical_memory",
    "CheckedFile",
    "read_checked",
    "render_rows",
]

MAX_NETWORK_PARAMS = 1 << 24  # 16.8 M weights: 64 MiB as float32; the encoder refuses more too
RENDER_ELEMENTS = 1 << 22  # floats per activation tensor while rendering (16 MiB per layer output)
MAX_RENDER_ROWS = 1 << 16
F32_MAX = float(np.finfo(np.float32).max)


def expected_tensors(arch: dict) -> dict[str, list[int]] | None:
    """geometry.expected_tensors, refusing a network kind this spdr does not build.

    None only for the hash grid: its shapes are checked on torch's meta device by the decoder.
    """
    shapes = geometry.expected_tensors(arch)
    if shapes is None and arch["activation"] != "hashgrid":
        kind = "latent-grid " if geometry.is_grid_arch(arch) else ""
        raise NetworkError(f"header field 'arch': a {kind}{arch['activation']} network with fields "
                           f"{', '.join(sorted(arch))} is not supported by this spdr")
    return shapes


def _check_f32(header: dict) -> None:
    """Every float the renderer multiplies by must be finite in float32."""
    arch = header["arch"]
    numbers = {"arch.omega0": arch["omega0"], "arch.first_omega0": arch["first_omega0"]}
    if "ffn_sigma" in arch:
        numbers["arch.ffn_sigma"] = arch["ffn_sigma"]
    for key in ("offset", "scale"):
        numbers.update({f"values.{key}[{i}]": v for i, v in enumerate(header["values"][key])})
    numbers.update({f"coords.scale[{i}]": v for i, v in enumerate(header["coords"]["scale"])})
    for field, value in numbers.items():
        if abs(value) > F32_MAX:
            raise NetworkError(f"header field '{field}': {value:g} overflows float32")


def check_header(header: dict) -> int:
    """Refuse a validated header whose network is unsupported, too large, or not what its tensors are.

    Returns the network's number of weights. For a network another module describes (expected_tensors
    gives None) only the declared size is checked here; the decoder (codec/runtime.py) sizes it on torch's meta device.
    """
    _check_f32(header)
    specs = header["quant"]["tensors"]
    declared = {name: list(spec["shape"]) for name, spec in specs.items()}
    shapes = expected_tensors(header["arch"])
    return check_shapes(header, declared if shapes is None else shapes)


def check_shapes(header: dict, shapes: dict[str, list[int]]) -> int:
    """Refuse a network of `shapes` (name -> shape) above MAX_NETWORK_PARAMS or unlike the header's tensors."""
    arch, specs = header["arch"], header["quant"]["tensors"]
    params = max(geometry.network_params(shapes), geometry.network_params({name: spec["shape"] for name, spec in specs.items()}))
    if params > MAX_NETWORK_PARAMS:
        raise NetworkError(f"network of {params:,} weights (width {arch['width']}, depth {arch['depth']}) "
                           f"exceeds this decoder's limit of {MAX_NETWORK_PARAMS:,}")
    missing = sorted(set(shapes) - set(specs))
    if missing:
        raise TensorMismatch(f"the header's {arch['activation']} network needs tensor '{missing[0]}', which the file lacks")
    extra = sorted(set(specs) - set(shapes))
    if extra:
        raise TensorMismatch(f"tensor '{extra[0]}' is not part of the header's {arch['activation']} network")
    for name, shape in shapes.items():
        if list(specs[name]["shape"]) != list(shape):
            raise TensorMismatch(f"tensor '{name}' has shape {specs[name]['shape']}, the header's network needs {list(shape)}")
    return params


def check_weights(header: dict, tensors: dict[str, np.ndarray]) -> None:
    """Refuse integer weights whose dequantized value (q * scale) overflows float32."""
    for name, spec in header["quant"]["tensors"].items():
        q, scale = tensors[name], tensors[f"{name}.scale"].astype(np.float64)
        if spec["bits"] >= 32 or q.size == 0:
            continue
        peak = np.abs(q.astype(np.float64)).reshape(q.shape[0], -1).max(axis=1)
        worst = float((peak * scale).max()) if scale.size > 1 else float(peak.max() * scale[0])
        if worst > F32_MAX:
            raise TensorMismatch(f"tensor '{name}' dequantizes to {worst:.3g}, beyond float32")


def render_rows(arch: dict) -> int:
    """Samples per render chunk: RENDER_ELEMENTS floats in the widest layer, at most 65536 rows."""
    widest = geometry.widest_layer(arch)
    return max(1, min(MAX_RENDER_ROWS, RENDER_ELEMENTS // widest))


@dataclass(frozen=True)
class CheckedFile:
    """A .spdr file that passed every torch-free check: parsed once, then handed to the decoder."""

    header: dict
    tensors: dict[str, np.ndarray]
    version: str
    file_bytes: int
    segments: tuple[CheckedFile, ...] = ()  # format 1.4 (1.7: an image's bands): each segment's checked file, in order
    starts: tuple[int, ...] = ()  # the first sample (audio), frame (video) or row (image, 1.7) of each segment


def read_checked(data: bytes) -> CheckedFile:
    """container.unpack plus this module's checks; the network is checked before decompression.

    A segmented file (format 1.4; 1.7 for an image's horizontal bands) is checked segment by segment: each is an
    ordinary file, read with the same checks, of the outer file's modality and signal but for its own length
    (samples, frames, or an image band's height)."""
    peek = container.peek(data)
    if "segments" not in peek["header"]:
        return _read_one(data, peek)
    container.peek_segments(data)  # every segment's framing and header first (cheap), then each one whole
    header, parts = container.unpack_segmented(data)
    segments, starts, start = [], [], 0
    for i, ((length, _), part) in enumerate(zip(header["segments"], parts, strict=True)):
        try:
            inner = _read_one(part)
        except FormatError as e:
            raise type(e)(f"segment {i}: {e}") from None
        expected = {**header["signal"], SEGMENT_KEYS[header["modality"]][0]: length}
        if inner.header["modality"] != header["modality"] or inner.header["signal"] != expected:
            raise PayloadError(f"segment {i}: its signal differs from the segment table's "
                               f"({inner.header['modality']} {inner.header['signal']}, table: {header['modality']} {expected})")
        segments.append(inner)
        starts.append(start)
        start += length
    return CheckedFile(header, {}, peek["version"], len(data), tuple(segments), tuple(starts))


def _read_one(data: bytes, peek: dict | None = None) -> CheckedFile:
    """One network's file, checked (`peek`: container.peek's result, when the caller has it); a segmented
    file inside a segment is refused (no nesting)."""
    peek = container.peek(data) if peek is None else peek
    if "segments" in peek["header"]:
        raise PayloadError("a segment is itself a segmented file (nesting is not allowed)")
    check_header(peek["header"])
    header, tensors = container.unpack(data)
    check_weights(header, tensors)
    return CheckedFile(header, tensors, peek["version"], len(data))


def check_finite(samples: np.ndarray) -> None:
    """The renderers' backstop: refuse output that overflowed (an absurd but well-formed file)."""
    if not np.isfinite(samples).all():
        raise NetworkError("the network's output is not finite: the file's weights or header numbers overflow float32")


def check_arch_size(arch: dict) -> None:
    """The encoder's side of the cap: refuse to fit a network no decoder will build."""
    shapes = expected_tensors(arch)
    params = 0 if shapes is None else geometry.network_params(shapes)
    if params > MAX_NETWORK_PARAMS:
        raise NetworkError(f"a width {arch['width']}, depth {arch['depth']} network has {params:,} weights, "
                           f"more than the {MAX_NETWORK_PARAMS:,} a .spdr decoder builds")


def physical_memory() -> int:
    """Bytes of RAM (a very large number where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 1 << 62
