"""Format 1.1 compact storage: a dictionary-compressed header and a range-coded payload. No torch.

Why: at a few hundred bytes per image (0.25 bpp on a 128-pixel photo is 512 bytes) the 1.0
layout's ~1 KB of JSON header and safetensors index cost more than the picture. docs/format.md
(sections 3.6, 8 and 9) is the normative text; in short:

* header: a 1.1 file may store its canonical JSON header as one zstd frame (content size
  declared, no checksum: the file's CRC32 covers it) compressed with HEADER_DICTIONARY as a raw
  content dictionary. Readers tell it from JSON by the zstd magic 28 B5 2F FD.
* payload, when header["quant"]["coding"] == "rc": no zstd or safetensors. First the float32
  little-endian scales of every tensor in sorted name order, then one adaptive range-coded
  stream (format/entropy.py) of every tensor's integers in the same order: a grid model's
  "latents" as its level grids, every other tensor in C order.

Decoder bounds (inrcodec.entropy's docstring derives them): at most MAX_RC_ELEMENTS values in
all; a stream of S bytes holds at most entropy.max_decisions(S) = 1512 * (S + 13) values, and a
payload declaring more is refused before anything is decoded; the decoder refuses a stream it
would read more than entropy.MAX_OVERRUN (16) bytes past. So a hostile payload costs at most
about 1512 decoded integers per stream byte. The encoder refuses to write what the decoder
refuses.
"""

from __future__ import annotations

import math

import numpy as np
import zstandard

from ..errors import HeaderInvalid, HeaderTooLarge, PayloadError, TensorMismatch
from . import entropy
from .geometry import grid_level_shapes, tensor_dtype

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
MAX_RC_ELEMENTS = 2**24  # a pure-Python coder: larger range-coded payloads are refused
HEADER_DICTIONARY = (
    b'{"arch":{"activation":"spder","damping":"sqrt","depth":1,"first_omega0":1.0,"grid_height":128,'
    b'"grid_levels":7,"grid_width":128,"in_features":2,"omega0":1.0,"out_features":3,"width":16},'
    b'"coords":{"axes":["y","x"],"convention":"pixel-centre","scale":[1.0,1.0]},'
    b'"encoder":{"bpp":1.0,"steps":2000,"tool":"spdr 0.1.0"},"modality":"image",'
    b'"quant":{"coding":"rc","scheme":"per-channel-symmetric","tensors":{'
    b'"latents":{"bits":8,"scale_shape":[1],"shape":[21845]},'
    b'"net.0.bias":{"bits":8,"scale_shape":[1],"shape":[16]},'
    b'"net.0.weight":{"bits":8,"scale_shape":[1],"shape":[16,7]},'
    b'"net.1.bias":{"bits":8,"scale_shape":[1],"shape":[16]},'
    b'"net.1.weight":{"bits":8,"scale_shape":[1],"shape":[16,16]},'
    b'"net.2.bias":{"bits":8,"scale_shape":[1],"shape":[3]},'
    b'"net.2.weight":{"bits":8,"scale_shape":[1],"shape":[3,16]}}},'
    b'"signal":{"bit_depth":8,"channels":3,"height":128,"mode":"RGB","width":128},'
    b'"values":{"offset":[0.0,0.0,0.0],"scale":[1.0,1.0,1.0]}}'
)
_DICT = zstandard.ZstdCompressionDict(HEADER_DICTIONARY, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def compress_header(raw: bytes) -> bytes:
    """The canonical JSON header as a zstd frame against HEADER_DICTIONARY."""
    cctx = zstandard.ZstdCompressor(level=19, dict_data=_DICT, write_checksum=False,
                                    write_content_size=True, write_dict_id=False)
    return cctx.compress(raw)


def is_compressed_header(raw: bytes) -> bool:
    return raw[:4] == ZSTD_MAGIC


def decompress_header(raw: bytes, limit: int) -> bytes:
    """JSON bytes of a compressed header, refusing a declared size above `limit` before inflating."""
    try:
        size = zstandard.get_frame_parameters(raw).content_size
    except zstandard.ZstdError as exc:
        raise HeaderInvalid(f"compressed header is not a valid zstd frame: {exc}") from None
    if size == zstandard.CONTENTSIZE_UNKNOWN:
        raise HeaderInvalid("compressed header does not declare its size")
    if size > limit:
        raise HeaderTooLarge(f"compressed header declares {size} bytes, limit {limit}")
    try:
        out = zstandard.ZstdDecompressor(dict_data=_DICT).decompress(raw, max_output_size=limit)
    except zstandard.ZstdError as exc:
        raise HeaderInvalid(f"compressed header is corrupt: {exc}") from None
    if len(out) != size:
        raise HeaderInvalid(f"compressed header inflated to {len(out)} bytes, frame declares {size}")
    return out


def _grid_shapes(header: dict, name: str) -> list[tuple[int, int]] | None:
    """The latent levels as 2-D grids (a video level's planes stacked in rows: rc never codes a valid video grid,
    whose headers need "arm", but its sizes stay right)."""
    arch = header["arch"]
    if name != "latents" or "grid_levels" not in arch:
        return None
    return [(math.prod(shape[:-1]), shape[-1]) for shape in grid_level_shapes(arch)]


def _check_rc(header: dict) -> None:
    specs = header["quant"]["tensors"]
    total = sum(math.prod(s["shape"]) for s in specs.values())
    if total > MAX_RC_ELEMENTS:
        raise PayloadError(f"range-coded payload holds {total} values, limit {MAX_RC_ELEMENTS}")
    for name, spec in specs.items():
        if spec["bits"] > 16:
            raise TensorMismatch(f"tensor '{name}': range coding stores integers only, not {spec['bits']}-bit floats")
        shapes = _grid_shapes(header, name)
        if shapes is not None and spec["shape"] != [sum(h * w for h, w in shapes)]:
            raise TensorMismatch(f"tensor '{name}' has shape {spec['shape']}, the latent grids need "
                                 f"[{sum(h * w for h, w in shapes)}]")


def _check_capacity(header: dict, stream_bytes: int) -> None:
    """Refuse a payload declaring more values than `stream_bytes` of range-coded stream can hold."""
    total = sum(math.prod(s["shape"]) for s in header["quant"]["tensors"].values())
    ceiling = entropy.max_decisions(stream_bytes)
    if total > ceiling:
        raise PayloadError(f"range-coded payload declares {total} values, its {stream_bytes}-byte stream holds at "
                           f"most {ceiling} ({entropy.DECISIONS_PER_BYTE} per byte)")


def encode_payload(header: dict, tensors: dict[str, np.ndarray]) -> bytes:
    """Scales, then the range-coded integers, of the tensors that header["quant"] lists."""
    _check_rc(header)
    names = sorted(header["quant"]["tensors"])
    scales = b"".join(np.asarray(tensors[f"{n}.scale"], dtype="<f4").tobytes() for n in names)
    enc = entropy.RangeEncoder()
    for name in names:
        q = np.asarray(tensors[name]).astype(np.int64)
        shapes = _grid_shapes(header, name)
        if shapes is None:
            entropy.encode_values(enc, q.ravel().tolist())
        else:
            sizes = np.cumsum([0] + [h * w for h, w in shapes])
            entropy.encode_grids(enc, [q[sizes[i]:sizes[i + 1]].reshape(shapes[i]) for i in range(len(shapes))])
    stream = enc.stream()  # trailing zeros stripped, at most the entropy.MAX_OVERRUN the decoder reads back
    _check_capacity(header, len(stream))  # cannot fail (module docstring); the decoder's rule, checked anyway
    return scales + stream


def decode_payload(header: dict, payload: bytes) -> dict[str, np.ndarray]:
    """Tensors (integers in their storage dtype, float32 scales) from a range-coded payload."""
    _check_rc(header)
    specs = header["quant"]["tensors"]
    names = sorted(specs)
    out: dict[str, np.ndarray] = {}
    pos = 0
    for name in names:
        n = math.prod(specs[name]["scale_shape"]) * 4
        if len(payload) - pos < n:
            raise PayloadError(f"range-coded payload truncated in the scales of '{name}'")
        out[f"{name}.scale"] = np.frombuffer(payload, dtype="<f4", count=n // 4, offset=pos).astype(np.float32)
        out[f"{name}.scale"] = out[f"{name}.scale"].reshape(specs[name]["scale_shape"])
        pos += n
    _check_capacity(header, len(payload) - pos)
    dec = entropy.RangeDecoder(payload[pos:])
    for name in names:
        spec = specs[name]
        shapes = _grid_shapes(header, name)
        if shapes is None:
            q = entropy.decode_values(dec, math.prod(spec["shape"]))
        else:
            q = np.concatenate([g.ravel() for g in entropy.decode_grids(dec, shapes)])
        limit = 2 ** (spec["bits"] - 1) - 1
        if q.size and int(np.abs(q).max()) > limit:
            raise TensorMismatch(f"tensor '{name}' decodes to values outside -{limit}..{limit}")
        out[name] = q.astype(tensor_dtype(spec["bits"])).reshape(spec["shape"])
    return out
