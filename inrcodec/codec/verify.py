"""`spdr verify`: check a .spdr file completely without rendering it.

Structure, versions, CRC32, header schema, payload bound, tensors (format/container.py), the decoder's
network limits (format/limits.py), then the real network is built from the header and filled strictly, and
evaluated at a few probe points to show its output is finite. Nothing is written or rendered.
"""

from __future__ import annotations

import os
import zlib

from .. import files
from ..errors import OutputTooLargeError
from ..format import limits

PROBE_POINTS = 4096  # network evaluations at most: a coarse grid over the signal's whole extent


def _probe_shape(header: dict) -> tuple[int, ...]:
    """A grid of at most PROBE_POINTS samples spanning the signal (every axis at most its native size)."""
    sig = header["signal"]
    if header["modality"] == "image":
        return min(sig["height"], 64), min(sig["width"], 64)
    if header["modality"] == "audio":
        return (min(sig["samples"], PROBE_POINTS),)
    return min(sig["frames"], 4), min(sig["height"], 32), min(sig["width"], 32)


def _describe(header: dict) -> str:
    sig = header["signal"]
    if header["modality"] == "image":
        return f"image {sig['width']}x{sig['height']} {sig['mode']} {sig['bit_depth']}-bit"
    if header["modality"] == "audio":
        return f"audio {sig['samples']} samples x {sig['channels']} at {sig['sample_rate']} Hz"
    return f"video {sig['frames']} frames of {sig['width']}x{sig['height']} at {sig['fps'][0]}/{sig['fps'][1]} fps"


def verify_bytes(data: bytes) -> dict:
    """Check `data` as `spdr decode` would, short of rendering; return facts about it.

    Raises the FormatError subclass naming the first problem.
    """
    checked = limits.read_checked(data)
    from .runtime import check_output_size, load_model, native_shape, render  # torch only for files that pass

    networks = checked.segments or (checked,)  # format 1.4 (1.7: an image's bands): every segment's network, probed alike
    params = 0
    for net in networks:
        params += limits.check_header(net.header)
        render(load_model(net.header, net.tensors), net.header, _probe_shape(net.header))  # NetworkError on non-finite output
    header = networks[0].header
    arch = header["arch"]
    native = native_shape(checked.header)
    try:
        check_output_size(header["modality"], native, force=False)
        needs_force = False
    except OutputTooLargeError:
        needs_force = True
    return {
        "version": checked.version,
        "bytes": len(data),
        "crc32": f"0x{zlib.crc32(data[:-4]):08x}",
        "modality": header["modality"],
        "signal": _describe(checked.header),
        "network": f"{arch['activation']} width {arch['width']} depth {arch['depth']}"
                   + (f" (first of {len(networks)} {'bands' if header['modality'] == 'image' else 'segments'})"
                      if checked.segments else ""),
        "params": params,
        "bits": sorted({t["bits"] for net in networks for t in net.header["quant"]["tensors"].values()}),
        "native": list(native),
        "native_needs_force": needs_force,
    }


def verify_file(path: str | os.PathLike) -> dict:
    """verify_bytes on a file read with files.read_file's size limit."""
    return verify_bytes(files.read_file(path))


def summary_line(path: str, facts: dict) -> str:
    """The one line `spdr verify` prints for a good file."""
    bits = "/".join(map(str, facts["bits"]))
    line = (f"OK {path}: spdr {facts['version']}, {facts['bytes']} bytes, CRC32 {facts['crc32']}; {facts['signal']}; "
            f"{facts['network']} ({facts['params']:,} weights, {bits}-bit)")
    if facts["native_needs_force"]:
        line += f"; native decode ({'x'.join(map(str, facts['native']))}) needs --force"
    return line
