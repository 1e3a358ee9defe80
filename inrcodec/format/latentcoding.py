"""Format 1.3 payload (quant.coding "arm"): latents coded with the file's own entropy model. No torch.

Layout (docs/format.md section 10):

    scales      4 * n   float32 LE: every tensor's scales, tensors in sorted name order (as in 1.1)
    levels      2       u16 LE: bit l set when latent level l is coded; an uncoded level is all zero
    spreads     m       u8 per non-latent tensor (sorted order): Laplace scale dyadic_scale(k - 64, 4), k >= 6
    stream      4 * w   constriction range-coder words (uint32 LE), to the end of the payload

The stream holds, in order: every non-latent tensor's integers (C order, zero-mean quantized Laplace
of its spread), then the coded latent levels coarsest first, each in two passes (format/armmodel.py),
each latent under the quantized Laplace the integer ARM predicts from its context. Integers lie in
-(2^(bits-1) - 1) .. 2^(bits-1) - 1 of their tensor's declared bits.

Decoder bounds: every coded integer, latent or not, has a Laplace scale of at least
armmodel.MIN_SCALE (the ARM clamps its scales there; a spread byte under MIN_SPREAD is refused), so
each costs at least armmodel.MIN_BITS; a payload declaring more coded integers than
armmodel.LATENTS_PER_BIT * (8 * stream bytes + 64) is refused before decoding (no legal stream holds
more). On video each coded plane also counts as PLANE_WORK integers (format 1.10: PASS_WORK for each
of its non-empty passes): a plane costs a few vectorised calls whatever its size, about as much as
50 latents, so a file of many small planes cannot buy seconds of decoding with a few hundred bytes.
A stream the decoder has not used up exactly, or that constriction finds invalid, is refused. So
decode work grows with the bytes.
"""

from __future__ import annotations

import math
import struct

import constriction
import numpy as np

from ..errors import PayloadError, TensorMismatch
from . import armmodel
from .geometry import grid_level_shapes, tensor_dtype

SPREAD_OFFSET = 64  # spread byte k -> Laplace scale dyadic_scale(k - 64, 4): 0.086 .. ~3968
PLANE_WORK = 64  # integers a coded video plane counts as in the capacity rule (about 100 us a plane, 2 us a latent)
PASS_WORK = PLANE_WORK // 2  # format 1.10 (video in rounds of passes): integers each non-empty pass of a plane counts as
MIN_SPREAD = 6  # the smallest spread byte: its scale 0.0859 is the first at or above armmodel.MIN_SCALE


def _limit(bits: int) -> int:
    return 2 ** (bits - 1) - 1


def _laplace(bits: int):
    return constriction.stream.model.QuantizedLaplace(-_limit(bits), _limit(bits))


def spread_code(q: np.ndarray) -> int:
    """The spread byte whose Laplace scale is nearest (in log) the mean |q| of a tensor (the ML scale)."""
    b = max(float(np.mean(np.abs(q))) if q.size else 0.0, 1e-3)
    v = int(round(math.log2(b) * 16)) + SPREAD_OFFSET
    return min(255, max(MIN_SPREAD, v))


def spread_scale(code: int) -> float:
    return float(armmodel.dyadic_scale(code - SPREAD_OFFSET, 4))


def _encode_tensor(enc, q: np.ndarray, bits: int, code: int) -> None:
    """Code a non-latent tensor's integers: zero-mean quantized Laplace of its spread byte's scale."""
    q = np.asarray(q).astype(np.int32).ravel()
    if q.size:
        enc.encode(q, _laplace(bits), np.zeros(q.size), np.full(q.size, spread_scale(code)))


def tensor_stream_bits(q: np.ndarray, bits: int) -> int:
    """Bits the stream spends on one non-latent tensor (coded alone, whole 32-bit words): what a choice of
    quantization step costs (rate/netstep.py)."""
    enc = constriction.stream.queue.RangeEncoder()
    _encode_tensor(enc, q, bits, spread_code(np.asarray(q)))
    return 32 * enc.num_words()


def _arm_depth(header: dict) -> int:
    return int(header["arch"]["arm_depth"])


def _split_names(header: dict) -> tuple[list[str], list[str]]:
    """(all tensor names, the non-latent ones), sorted; refuses float tensors, which are not entropy-coded."""
    specs = header["quant"]["tensors"]
    for name, spec in specs.items():
        if spec["bits"] > 16:
            raise TensorMismatch(f"tensor '{name}': entropy coding stores integers only, not {spec['bits']}-bit floats")
    if "latents" not in specs:
        raise TensorMismatch("an entropy-coded payload needs tensor 'latents'")
    names = sorted(specs)
    return names, [n for n in names if n != "latents"]


def _levels(header: dict, flat: np.ndarray) -> list[np.ndarray]:
    shapes = grid_level_shapes(header["arch"])
    sizes = np.cumsum([0] + [math.prod(shape) for shape in shapes])
    return [flat[sizes[i] : sizes[i + 1]].reshape(shapes[i]) for i in range(len(shapes))]


def _walk(header: dict, arm: armmodel.IntegerArm, grids: list[np.ndarray], mask: int, code) -> None:
    """Visit each coded (level, plane, pass) in stream order; `code(plane, positions, mean, scale)` encodes
    or fills plane[positions] before the next context is built. An image or audio level is one plane; a video
    level (t, h, w) is t planes in time order, plane k's coarser level being plane k // 2 of the next, its previous
    plane k - 1 of its own level (both decoded before it)."""
    bits = header["quant"]["tensors"]["latents"]["bits"]
    video = "grid_frames" in header["arch"]  # the previous plane is context too (format 1.6)
    passes = int(header["arch"].get("arm_passes", 2))  # 3: format 1.8's order
    planes = [g.reshape(-1, *g.shape[-2:]) for g in grids]  # views: filling a plane fills its grid
    for lv in reversed(range(len(planes))):
        if not mask >> lv & 1:
            continue
        _, h, w = planes[lv].shape
        masks = armmodel.pass_masks(h, w, passes)
        for k, plane in enumerate(planes[lv]):
            coarse = armmodel.coarse_context(planes[lv + 1][k // 2] if lv + 1 < len(planes) else None, h, w)
            previous = armmodel.previous_context(planes[lv][k - 1] if k else None, h, w) if video else None
            done = np.zeros((h, w), dtype=bool)
            for pass_, where in enumerate(masks):
                if where.any():
                    held = None if pass_ == 0 else np.where(done, plane, 0)
                    context = armmodel.pass_context(coarse, held, where, pass_, previous, armmodel.same_offsets(passes, pass_))
                    mean, scale = arm.parameters(context, lv, _limit(bits))
                    code(plane, where, mean, scale)
                done |= where


def encode_payload(header: dict, tensors: dict[str, np.ndarray]) -> bytes:
    """Scales, level mask, spreads and the range-coded stream of the tensors header["quant"] lists."""
    names, others = _split_names(header)
    specs = header["quant"]["tensors"]
    scales = b"".join(np.asarray(tensors[f"{n}.scale"], dtype="<f4").tobytes() for n in names)
    grids = _levels(header, np.asarray(tensors["latents"]).astype(np.int64))
    mask = sum(1 << lv for lv, g in enumerate(grids) if g.any())
    spreads = bytes(spread_code(np.asarray(tensors[n])) for n in others)
    enc = constriction.stream.queue.RangeEncoder()
    for name, code in zip(others, spreads, strict=True):
        _encode_tensor(enc, tensors[name], specs[name]["bits"], code)
    arm = armmodel.IntegerArm.from_tensors(tensors, _arm_depth(header))
    model = _laplace(specs["latents"]["bits"])

    def put(plane: np.ndarray, where: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> None:
        enc.encode(plane[where].astype(np.int32), model, mean, scale)

    _walk(header, arm, grids, mask, put)
    stream = enc.get_compressed().astype("<u4").tobytes()
    _check_capacity(header, others, mask, len(stream))  # the decoder's rule (only a video of tiny frames can fail it)
    return scales + struct.pack("<H", mask) + spreads + stream


def coded_latents(header: dict, mask: int) -> int:
    return sum(math.prod(shape) for lv, shape in enumerate(grid_level_shapes(header["arch"])) if mask >> lv & 1)


def coded_planes(header: dict, mask: int) -> int:
    """Planes of the coded levels of a video grid (format 1.6); 0 for images and audio (one plane a level, uncharged)."""
    if "grid_frames" not in header["arch"]:
        return 0
    return sum(shape[0] for lv, shape in enumerate(grid_level_shapes(header["arch"])) if mask >> lv & 1)


def plane_work(header: dict, mask: int) -> int:
    """What the capacity rule charges for the coded planes of a video grid beyond their latents: PLANE_WORK a plane in
    two passes (format 1.6), PASS_WORK for each non-empty pass of a plane in rounds of passes (1.10: a plane of 5 x 5 or
    more runs all of them); 0 for images and audio."""
    passes = int(header["arch"].get("arm_passes", 2))
    if "grid_frames" not in header["arch"] or passes == 2:
        return PLANE_WORK * coded_planes(header, mask)
    shapes = grid_level_shapes(header["arch"])
    return sum(t * PASS_WORK * armmodel.busy_passes(h, w, passes) for lv, (t, h, w) in enumerate(shapes) if mask >> lv & 1)


def coded_integers(header: dict, others: list[str], mask: int) -> int:
    """What the capacity rule counts: every integer the stream codes (the non-latent tensors' and the coded latent
    levels'), and the coded video planes' plane_work."""
    specs = header["quant"]["tensors"]
    return sum(math.prod(specs[n]["shape"]) for n in others) + coded_latents(header, mask) + plane_work(header, mask)


def _check_capacity(header: dict, others: list[str], mask: int, stream_bytes: int) -> None:
    n, ceiling = coded_integers(header, others, mask), armmodel.LATENTS_PER_BIT * (8 * stream_bytes + 64)
    if n > ceiling:
        raise PayloadError(f"payload codes {n} integers, its {stream_bytes}-byte stream holds at most {ceiling}")


def decode_payload(header: dict, payload: bytes) -> dict[str, np.ndarray]:
    """Tensors (integers in their storage dtype, float32 scales) of an "arm" payload; every bound checked first."""
    names, others = _split_names(header)
    specs = header["quant"]["tensors"]
    levels = len(grid_level_shapes(header["arch"]))
    out: dict[str, np.ndarray] = {}
    pos = 0
    for name in names:
        n = math.prod(specs[name]["scale_shape"])
        if len(payload) - pos < 4 * n:
            raise PayloadError(f"entropy-coded payload truncated in the scales of '{name}'")
        out[f"{name}.scale"] = np.frombuffer(payload, "<f4", n, pos).astype(np.float32).reshape(specs[name]["scale_shape"])
        pos += 4 * n
    if len(payload) - pos < 2 + len(others):
        raise PayloadError("entropy-coded payload truncated before its stream")
    (mask,) = struct.unpack_from("<H", payload, pos)
    if mask >> levels:
        raise PayloadError(f"level mask {mask:#06x} codes levels the header's {levels} levels do not have")
    spreads = payload[pos + 2 : pos + 2 + len(others)]
    if spreads and min(spreads) < MIN_SPREAD:
        raise PayloadError(f"spread byte {min(spreads)} is under {MIN_SPREAD} (its Laplace scale would code integers almost for free)")
    pos += 2 + len(others)
    if (len(payload) - pos) % 4:
        raise PayloadError("entropy-coded stream is not a whole number of 32-bit words")
    _check_capacity(header, others, mask, len(payload) - pos)
    words = np.frombuffer(payload, "<u4", offset=pos).astype(np.uint32)
    dec = constriction.stream.queue.RangeDecoder(words)
    try:
        for name, code in zip(others, spreads, strict=True):
            shape, bits = specs[name]["shape"], specs[name]["bits"]
            n = math.prod(shape)
            q = dec.decode(_laplace(bits), np.zeros(n), np.full(n, spread_scale(code))) if n else np.zeros(0, np.int32)
            out[name] = np.asarray(q).astype(tensor_dtype(bits)).reshape(shape)
        arm = armmodel.IntegerArm.from_tensors(out, _arm_depth(header))
        grids = [np.zeros(s, dtype=np.int64) for s in grid_level_shapes(header["arch"])]
        model = _laplace(specs["latents"]["bits"])

        def take(plane: np.ndarray, where: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> None:
            plane[where] = dec.decode(model, mean, scale)

        _walk(header, arm, grids, mask, take)
    except AssertionError:  # constriction's signal for data no model could have produced
        raise PayloadError("entropy-coded stream is corrupt") from None
    if not dec.maybe_exhausted():
        raise PayloadError("entropy-coded stream has data after its last symbol")
    flat = np.concatenate([g.ravel() for g in grids])
    limit = _limit(specs["latents"]["bits"])
    if flat.size and int(np.abs(flat).max()) > limit:  # cannot happen: constriction decodes within the support
        raise TensorMismatch(f"tensor 'latents' decodes to values outside -{limit}..{limit}")
    out["latents"] = flat.astype(tensor_dtype(specs["latents"]["bits"]))
    return out
