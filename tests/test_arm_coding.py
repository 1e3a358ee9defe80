"""Format 1.3's entropy coding (format/latentcoding.py, format/armmodel.py): round trips on hostile integer fields,
refusal of hostile payloads, agreement with the torch twin (nn/arm.py), and a fuzzer over the payload bytes."""

from __future__ import annotations

import copy
import math
import struct
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrcodec import errors
from inrcodec.format import armmodel, geometry, latentcoding


def make_file(h: int, w: int, levels: int, bits: int = 8, depth: int = 1, width: int = 4, seed: int = 0,
              latents: np.ndarray | None = None, arm: dict | None = None, frames: int | None = None) -> tuple[dict, dict[str, np.ndarray]]:
    """A 1.3 header and tensors: a latent grid h x w of `levels` (with `frames`: a 1.6 video pyramid of that many
    finest planes), a one-channel synthesis net, a seeded integer ARM."""
    rng = np.random.default_rng(seed)
    arch = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 1, "width": 3, "depth": 0,
            "omega0": 1.0, "first_omega0": 1.0, "grid_levels": levels, "grid_height": h, "grid_width": w,
            "arm_width": width, "arm_depth": depth}
    if frames is not None:
        arch.update(in_features=3, grid_frames=frames)
    n = geometry.grid_latents(arch)
    dt = np.int8 if bits == 8 else np.int16
    q = 2 ** (bits - 1) - 1
    tensors = {"latents": (rng.integers(-3, 4, n) if latents is None else latents).astype(dt), "latents.scale": np.ones(1, np.float32)}
    specs = {"latents": {"bits": bits, "shape": [n], "scale_shape": [1]}}
    net = {"net.0.weight": [3, levels], "net.0.bias": [3], "net.1.weight": [1, 3], "net.1.bias": [1]}
    for name, shape in {**net, **geometry.arm_tensors(width, depth, levels, geometry.arm_context(arch))}.items():
        wide = name.endswith(".bias") or name == "arm.level"
        lim = 2000 if wide else 60
        tensors[name] = rng.integers(-lim, lim + 1, shape).astype(np.int16 if wide else np.int8)
        scale = 1.0 if name == "arm.level" else 2.0 ** -(10 if wide else 6)
        tensors[f"{name}.scale"] = np.full(1, scale, np.float32)
        specs[name] = {"bits": 16 if wide else 8, "shape": list(shape), "scale_shape": [1]}
    for name, value in (arm or {}).items():
        tensors[name] = np.asarray(value, dtype=tensors[name].dtype).reshape(tensors[name].shape)
    assert int(np.abs(tensors["latents"].astype(np.int64)).max(initial=0)) <= q
    header = {"arch": arch, "quant": {"scheme": "per-channel-symmetric", "coding": "arm", "tensors": specs}}
    return header, tensors


def round_trip(header: dict, tensors: dict) -> dict[str, np.ndarray]:
    payload = latentcoding.encode_payload(header, tensors)
    out = latentcoding.decode_payload(header, payload)
    assert set(out) == set(tensors)
    for name, arr in tensors.items():
        assert out[name].dtype == arr.dtype, name
        np.testing.assert_array_equal(out[name], arr, err_msg=name)
    return out


# --- round trips on adversarial fields --------------------------------------------------------------------

def _extreme(n: int, bits: int, seed: int) -> np.ndarray:
    q = 2 ** (bits - 1) - 1
    return np.random.default_rng(seed).choice(np.array([-q, q, 0, -q + 1, q - 1]), n)


@pytest.mark.parametrize(("h", "w", "levels", "bits", "fill"), [
    (9, 7, 3, 8, "zeros"), (9, 7, 3, 8, "extremes"), (9, 7, 3, 16, "extremes"), (1, 1, 1, 8, "extremes"),
    (1, 13, 4, 16, "extremes"), (13, 1, 2, 8, "random"), (5, 6, 1, 8, "random"), (4, 4, 16, 8, "random"),
    (1, 4097, 12, 16, "extremes"), (1, 4097, 12, 8, "random"),  # one row: an audio grid (format 1.5)
    ((7, 9, 5), None, 4, 16, "extremes"), ((7, 9, 5), None, 4, 8, "zeros"), ((1, 3, 3), None, 2, 8, "random"),
    ((33, 2, 3), None, 7, 8, "random")])  # (frames, h, w): a video pyramid (format 1.6), more planes than levels halve
def test_round_trip_on_adversarial_grids(h, w, levels, bits, fill):
    frames, h, w = h if isinstance(h, tuple) else (None, h, w)
    header, tensors = make_file(h, w, levels, bits, frames=frames)
    n = tensors["latents"].size
    latents = {"zeros": np.zeros(n, np.int64), "extremes": _extreme(n, bits, 1), "random": None}[fill]
    header, tensors = make_file(h, w, levels, bits, latents=latents, frames=frames)
    round_trip(header, tensors)
    if fill == "zeros":  # every level masked off: the mask is 0 and the stream holds only the other tensors
        payload = latentcoding.encode_payload(header, tensors)
        at = 4 * sum(s["scale_shape"][0] for s in header["quant"]["tensors"].values())
        assert payload[at:at + 2] == b"\0\0"


def test_masked_levels_are_skipped_and_decode_as_zero():
    header, tensors = make_file(8, 8, 4, seed=3)
    sizes = np.cumsum([0] + [a * b for a, b in geometry.level_shapes(8, 8, 4)])
    tensors["latents"][sizes[1]:sizes[2]] = 0
    tensors["latents"][sizes[3]:sizes[4]] = 0
    payload = latentcoding.encode_payload(header, tensors)
    at = 4 * sum(s["scale_shape"][0] for s in header["quant"]["tensors"].values())
    assert struct.unpack_from("<H", payload, at)[0] == 0b0101
    round_trip(header, tensors)


@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("sign", [1, -1])
def test_round_trip_when_the_arm_saturates_every_clamp(bits, sign):
    """Weights at +-127 over 2^0, biases at +-32767: the accumulator, the 2^24 activation limit, the mean clamp
    (+-qmax) and V_MIN / V_MAX all bite; the coder must still round-trip extreme latents."""
    h, w, levels = 6, 5, 3
    n = sum(a * b for a, b in geometry.level_shapes(h, w, levels))
    big = {"arm.0.weight": np.full((4, 14), 127 * sign), "arm.0.bias": np.full(4, 32767), "arm.1.weight": np.full((2, 4), 127 * sign),
           "arm.1.bias": np.full(2, 32767 * sign), "arm.level": np.full(levels, 32767 * sign)}
    header, tensors = make_file(h, w, levels, bits, latents=_extreme(n, bits, 2), arm=big)
    for k in (0, 1):
        tensors[f"arm.{k}.weight.scale"][:] = 1.0
        tensors[f"arm.{k}.bias.scale"][:] = 1.0
    arm = armmodel.IntegerArm.from_tensors(tensors, 1)
    ctx = np.full((3, armmodel.CONTEXT), 2 ** (bits - 1) - 1) * sign
    mean, scale = arm.parameters(ctx, 0, 2 ** (bits - 1) - 1)
    assert (np.abs(mean) == 2 ** (bits - 1) - 1).all() or (mean == 0).all()
    assert scale[0] in (armmodel.dyadic_scale(armmodel.V_MIN), armmodel.dyadic_scale(armmodel.V_MAX))
    round_trip(header, tensors)


def test_integer_arm_matches_its_definition_by_hand():
    """One context through a 14 -> 1 -> 2 ARM, computed from docs/format.md section 10.5's formulas."""
    w0 = np.zeros((1, 14), np.int8)
    w0[0, 4], w0[0, 13] = 3, -5
    tensors = {"arm.0.weight": w0, "arm.0.bias": np.array([7], np.int16), "arm.1.weight": np.array([[2], [-1]], np.int8),
               "arm.1.bias": np.array([1, 100], np.int16), "arm.level": np.array([40, -40], np.int16),
               "arm.0.weight.scale": np.float32([2.0 ** -2]), "arm.0.bias.scale": np.float32([2.0 ** -4]),
               "arm.1.weight.scale": np.float32([2.0 ** -1]), "arm.1.bias.scale": np.float32([2.0 ** -9])}
    arm = armmodel.IntegerArm.from_tensors(tensors, 1)  # arm_depth 1: one hidden layer (of width 1), then the output
    ctx = np.zeros((1, 14), np.int64)
    ctx[0, 4], ctx[0, 13] = 5, 1
    # layer 0: acc = 3*5*256 - 5*1*256 + 7 * 2^(2+8-4) = 2560 + 448 = 3008; a = floor(3008 / 4) = 752
    # layer 1: acc0 = 2*752 + 1 * 2^(1+8-9) = 1505 -> floor(1505 / 2) = 752; acc1 = -752 + 100 = -652 -> -326
    mean, scale = arm.parameters(ctx, 1, 127)
    assert mean[0] == 752 / 256
    assert scale[0] == armmodel.dyadic_scale(-326 - 40)  # v = -366: 2^-2 * (1 + 146/256)
    assert scale[0] == 2.0 ** -2 * (1 + 146 / 256)


# --- the decoder's bounds and refusals ----------------------------------------------------------------------

def _fields(header: dict, payload: bytes) -> tuple[int, int, int]:
    n = 4 * sum(math.prod(s["scale_shape"]) for s in header["quant"]["tensors"].values())
    return n, n + 2, n + 2 + len(header["quant"]["tensors"]) - 1


@pytest.fixture(scope="module")
def coded():
    header, tensors = make_file(9, 11, 3, seed=5)
    return header, tensors, latentcoding.encode_payload(header, tensors)


def _bad_scale(header, payload, name, value):
    specs = header["quant"]["tensors"]
    at = 4 * sum(math.prod(specs[n]["scale_shape"]) for n in sorted(specs) if n < name)
    return payload[:at] + struct.pack("<f", value) + payload[at + 4:]


@pytest.mark.parametrize(("label", "mutate", "match"), [
    ("mask bit beyond the levels", lambda h, p, m, s, w: p[:m] + struct.pack("<H", 0b1111) + p[s:], "level mask"),
    ("mask bit 15", lambda h, p, m, s, w: p[:m] + struct.pack("<H", 0x8000) + p[s:], "level mask"),
    ("stream not whole words", lambda h, p, m, s, w: p + b"\1", "whole number"),
    ("stream one byte short", lambda h, p, m, s, w: p[:-1], "whole number"),
    ("scales truncated", lambda h, p, m, s, w: p[:m - 1], "truncated in the scales"),
    ("spreads truncated", lambda h, p, m, s, w: p[:w - 1], "truncated before its stream"),
    ("weight scale not 2^-s", lambda h, p, m, s, w: _bad_scale(h, p, "arm.0.weight", 0.75 / 64), "scales must be"),
    ("weight scale 2^-25", lambda h, p, m, s, w: _bad_scale(h, p, "arm.1.weight", 2.0 ** -25), "scales must be"),
    ("bias shift > weight shift + 8", lambda h, p, m, s, w: _bad_scale(h, p, "arm.0.bias", 2.0 ** -15), "scales must be"),
    ("trailing words", lambda h, p, m, s, w: p + struct.pack("<2I", 7, 9), "after its last symbol"),
    ("two trailing zero words", lambda h, p, m, s, w: p + bytes(8), "after its last symbol"),
    ("corrupt words", lambda h, p, m, s, w: p[:w] + b"\xff" * (len(p) - w), "corrupt"),
])
def test_hostile_payload_is_refused(coded, label, mutate, match):
    header, _, payload = coded
    m, s, w = _fields(header, payload)
    with pytest.raises(errors.PayloadError, match=match) as info:
        latentcoding.decode_payload(header, mutate(header, payload, m, s, w))
    assert "\n" not in str(info.value)


def test_one_trailing_zero_word_reads_as_the_end_of_the_stream(coded):
    """constriction's maybe_exhausted() accepts one zero word after the last symbol (docs/format.md section 10.7);
    writers never write it. Pinned so that a change in constriction is noticed."""
    header, tensors, payload = coded
    out = latentcoding.decode_payload(header, payload + bytes(4))
    np.testing.assert_array_equal(out["latents"], tensors["latents"])


@pytest.mark.parametrize("bits", [32, 16])
def test_float_or_mismatched_tensors_are_refused(coded, bits):
    header, _, payload = coded
    header = copy.deepcopy(header)
    if bits == 32:
        header["quant"]["tensors"]["net.0.weight"]["bits"] = 32
        with pytest.raises(errors.TensorMismatch, match="integers only"):
            latentcoding.decode_payload(header, payload)
    else:  # latents declared 16-bit over a stream coded for 8: another model, the stream does not end where it should
        header["quant"]["tensors"]["latents"]["bits"] = 16
        with pytest.raises(errors.PayloadError):
            latentcoding.decode_payload(header, payload)


def test_capacity_rule_refuses_before_decoding_and_is_sound(coded):
    header, _, payload = coded
    _, _, w = _fields(header, payload)
    stream = len(payload) - w
    ceiling = armmodel.LATENTS_PER_BIT * (8 * stream + 64)
    big = copy.deepcopy(header)
    side = math.isqrt(ceiling) + 1
    big["arch"].update(grid_levels=1, grid_height=side, grid_width=side)
    mask_at = w - len(header["quant"]["tensors"]) + 1 - 2
    start = time.process_time()
    with pytest.raises(errors.PayloadError, match="holds at most"):
        latentcoding.decode_payload(big, payload[:mask_at] + b"\1\0" + payload[mask_at + 2:])
    assert time.process_time() - start < 0.05
    # soundness: the cheapest latents there are (each the mode of a V_MIN-scale Laplace) still fit the rule
    n = 20000
    enc = latentcoding.constriction.stream.queue.RangeEncoder()
    enc.encode(np.zeros(n, np.int32), latentcoding._laplace(8), np.zeros(n), np.full(n, armmodel.MIN_SCALE))
    words = len(enc.get_compressed())
    assert n <= armmodel.LATENTS_PER_BIT * (8 * 4 * words + 64)
    assert n > armmodel.LATENTS_PER_BIT * (8 * 4 * words + 64) / 4  # and the rule is not loose by orders of magnitude


def test_non_latent_integers_are_bounded_by_the_stream_bytes():
    header, tensors = make_file(2, 2, 1)
    header["quant"]["tensors"]["net.0.weight"]["shape"] = [3, 1]
    big = copy.deepcopy(header)
    big["arch"]["width"] = 10000
    specs = big["quant"]["tensors"]
    specs["net.0.weight"]["shape"], specs["net.0.bias"]["shape"], specs["net.1.weight"]["shape"] = [10000, 1], [10000], [1, 10000]
    names = sorted(specs)
    head = b"".join(struct.pack("<f", 1.0) * math.prod(specs[n]["scale_shape"]) for n in names) + b"\0\0"
    spreads = bytes([latentcoding.MIN_SPREAD]) * (len(names) - 1)
    with pytest.raises(errors.PayloadError, match="30072 integers.*holds at most"):
        latentcoding.decode_payload(big, head + spreads)  # 30000 weights and biases from 0 stream bytes
    with pytest.raises(errors.PayloadError, match="spread byte 5 is under 6"):
        latentcoding.decode_payload(header, head + bytes([5]) * (len(names) - 1) + bytes(4))
    # soundness: non-latent integers at the cheapest spread a reader accepts still fit the rule
    n = 20000
    enc = latentcoding.constriction.stream.queue.RangeEncoder()
    enc.encode(np.zeros(n, np.int32), latentcoding._laplace(8), np.zeros(n),
               np.full(n, latentcoding.spread_scale(latentcoding.MIN_SPREAD)))
    assert n <= armmodel.LATENTS_PER_BIT * (8 * 4 * len(enc.get_compressed()) + 64)


def test_an_all_zero_tensor_gets_the_smallest_legal_spread():
    assert latentcoding.spread_code(np.zeros(7, np.int32)) == latentcoding.MIN_SPREAD
    assert latentcoding.spread_scale(latentcoding.MIN_SPREAD) >= armmodel.MIN_SCALE
    assert latentcoding.spread_scale(latentcoding.MIN_SPREAD - 1) < armmodel.MIN_SCALE


# --- agreement with the torch twin ----------------------------------------------------------------------------

def _random_levels(seed: int, shapes) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.where(rng.random(s) < 0.5, rng.integers(-20, 21, s), 0) for s in shapes]


@pytest.mark.parametrize("passes", [2, 3, 5, 7, 9])
@pytest.mark.parametrize(("h", "w", "levels"), [(9, 11, 3), (1, 7, 3), (8, 8, 4), (19, 13, 2)])
def test_contexts_equal_the_torch_twin(h, w, levels, passes):
    """Training's contexts (nn/arm.py) equal the decoder's, pass by pass: the checkerboard (formats 1.3 to 1.7),
    format 1.8's three passes (the second reads its four diagonal neighbours) and format 1.9's 5, 7 and 9 (the same
    rounds on coarser lattices first, reading neighbours 2, 4 or 8 away)."""
    import torch

    from inrcodec.nn.arm import level_contexts

    shapes = geometry.level_shapes(h, w, levels)
    grids = _random_levels(h * w, shapes)
    twin = level_contexts([torch.from_numpy(g.astype(np.float64)) for g in grids], passes=passes)
    for lv, (ctx, later) in enumerate(twin):
        ctx, later = ctx.numpy(), later.numpy()
        hh, ww = shapes[lv]
        coarse = armmodel.coarse_context(grids[lv + 1] if lv + 1 < levels else None, hh, ww)
        masks = armmodel.pass_masks(hh, ww, passes)
        assert len(masks) == passes and np.array_equal(sum(m.astype(int) for m in masks), np.ones((hh, ww), int))
        np.testing.assert_array_equal(later, ~masks[0].reshape(-1))
        done = np.zeros((hh, ww), dtype=bool)
        for pass_, where in enumerate(masks):
            held = None if pass_ == 0 else np.where(done, grids[lv], 0)
            mine = armmodel.pass_context(coarse, held, where, pass_, offsets=armmodel.same_offsets(passes, pass_))
            np.testing.assert_array_equal(mine, ctx[where.reshape(-1)], err_msg=f"level {lv} pass {pass_}")
            assert (mine[:, 13] == pass_).all()
            done |= where


class _RecordingArm:
    """Stands in for the integer ARM in latentcoding._walk: keeps each (level, context) it is asked about."""

    def __init__(self):
        self.seen: list[tuple[int, np.ndarray]] = []

    def parameters(self, context, level, limit):
        self.seen.append((level, context.copy()))
        return np.zeros(len(context)), np.ones(len(context))


@pytest.mark.parametrize("passes", [2, 3, 7, 9])
@pytest.mark.parametrize(("frames", "h", "w", "levels"), [(5, 9, 11, 3), (4, 3, 2, 3), (3, 17, 6, 2)])
def test_video_contexts_equal_the_torch_twin_plane_by_plane(frames, h, w, levels, passes):
    """On a video pyramid the decoder's walk (plane after plane, each in its passes; format 1.6 with 2, 1.10 with more)
    asks the model about exactly the contexts training's twin builds, in stream order: coarser 3x3 from plane k // 2,
    the pass's same-level neighbours, the pass number, the previous plane's 3x3."""
    import torch

    from inrcodec.nn.arm import level_contexts

    shapes = [(-(-frames // 2**lv), *shape) for lv, shape in enumerate(geometry.level_shapes(h, w, levels))]
    grids = _random_levels(frames * h * w, shapes)
    header, _ = make_file(h, w, levels, frames=frames)
    if passes != 2:
        header["arch"]["arm_passes"] = passes
    twin = level_contexts([torch.from_numpy(g.astype(np.float64)) for g in grids], video=True, passes=passes)
    recorder = _RecordingArm()
    latentcoding._walk(header, recorder, [g.copy() for g in grids], (1 << levels) - 1, lambda *_: None)
    expected = []
    for lv in reversed(range(levels)):
        t, hh, ww = shapes[lv]
        ctx = twin[lv][0].numpy().reshape(t, hh * ww, armmodel.VIDEO_CONTEXT)
        for k in range(t):
            expected += [(lv, ctx[k][m.reshape(-1)]) for m in armmodel.pass_masks(hh, ww, passes) if m.any()]
    assert len(recorder.seen) == len(expected)
    for (lv, mine), (lv_twin, theirs) in zip(recorder.seen, expected, strict=True):
        assert lv == lv_twin
        np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("passes", [2, 3, 5, 7, 9])
def test_busy_passes_counts_the_non_empty_masks(passes):
    for h in range(1, 19):
        for w in range(1, 19):
            assert armmodel.busy_passes(h, w, passes) == sum(bool(m.any()) for m in armmodel.pass_masks(h, w, passes))


@pytest.mark.parametrize("passes", [3, 5, 7, 9])
def test_odd_passes_read_only_latents_of_earlier_passes(passes):
    """Format 1.8's and 1.9's orders are causal: every same-level neighbour a pass reads (inside the grid) was coded
    before it, and every position is coded exactly once."""
    h, w = 21, 18
    masks = armmodel.pass_masks(h, w, passes)
    assert len(masks) == passes and np.array_equal(sum(m.astype(int) for m in masks), np.ones((h, w), int))
    order = sum(k * m.astype(int) for k, m in enumerate(masks))
    for pass_, where in enumerate(masks):
        for i, j in zip(*np.nonzero(where), strict=True):
            for di, dj in armmodel.same_offsets(passes, pass_) if pass_ else ():
                if 0 <= i + di < h and 0 <= j + dj < w:
                    assert order[i + di, j + dj] < pass_, (pass_, i, j, di, dj)


@pytest.mark.parametrize("frames", [None, 5])
def test_integer_arm_rate_is_within_a_percent_of_the_torch_arm(frames):
    """The torch ARM (training's rate) and the file's integer ARM see the same contexts: on an image grid, and on a
    video pyramid (format 1.6) whose planes take their coarser context from plane k // 2."""
    import torch

    from inrcodec.nn.arm import Arm, to_integers

    torch.manual_seed(0)
    h, w, levels = (32, 32, 4) if frames is None else (12, 14, 4)
    arm = Arm(8, 1, levels, armmodel.CONTEXT if frames is None else armmodel.VIDEO_CONTEXT)
    with torch.no_grad():
        arm.level.copy_(torch.tensor([1.5, 2.0, 2.5, 3.0]))
    shapes = geometry.level_shapes(h, w, levels)
    if frames is not None:
        shapes = [(-(-frames // 2**lv), *shape) for lv, shape in enumerate(shapes)]
    rng = np.random.default_rng(1)
    grids = [np.rint(rng.laplace(0, 2.0 ** (lv + 1), s)).clip(-127, 127).astype(np.int64) for lv, s in enumerate(shapes)]
    tensors, entries = to_integers(arm)
    with torch.no_grad():
        float_bits = float(arm.bits([torch.from_numpy(g.astype(np.float32)) for g in grids]))
    header, base = make_file(h, w, levels, width=8, depth=1, latents=np.concatenate([g.ravel() for g in grids]), frames=frames)
    header["quant"]["tensors"].update(entries)
    base.update(tensors)
    payload = latentcoding.encode_payload(header, base)
    integer_arm = armmodel.IntegerArm.from_tensors(base, 1)
    info_bits = 0.0
    for lv in range(levels):
        flat = []
        latentcoding._walk(header, integer_arm, [g.copy() for g in grids], 1 << lv,
                           lambda plane, where, mean, scale, flat=flat: flat.append((plane[where], mean, scale)))
        for y, mean, scale in flat:
            from inrcodec.nn.arm import laplace_bits
            info_bits += float(laplace_bits(torch.from_numpy(y.astype(np.float64)), torch.from_numpy(mean),
                                            torch.from_numpy(scale)).sum())
    assert abs(info_bits - float_bits) / float_bits < 0.01, (info_bits, float_bits)
    others = 8 * (len(payload) - _fields(header, payload)[2])  # the real stream: latents plus the small other tensors
    assert info_bits < others < 1.2 * info_bits + 8000


# --- fuzzing the payload bytes --------------------------------------------------------------------------------

_FUZZ_HEADER, _FUZZ_TENSORS = make_file(6, 7, 3, seed=11)
_FUZZ_PAYLOAD = latentcoding.encode_payload(_FUZZ_HEADER, _FUZZ_TENSORS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(st.data())
def test_fuzzed_arm_payload_only_raises_format_errors_and_stays_fast(data):
    p = bytearray(_FUZZ_PAYLOAD)
    kind = data.draw(st.sampled_from(["flip", "cut", "append", "splice", "random"]))
    if kind == "flip":
        for pos in data.draw(st.lists(st.integers(0, len(p) - 1), min_size=1, max_size=6)):
            p[pos] ^= data.draw(st.integers(1, 255))
    elif kind == "cut":
        p = p[:data.draw(st.integers(0, len(p)))]
    elif kind == "append":
        p += data.draw(st.binary(min_size=1, max_size=64))
    elif kind == "splice":
        at = data.draw(st.integers(0, len(p)))
        p = p[:at] + data.draw(st.binary(max_size=32)) + p[at + data.draw(st.integers(0, 16)):]
    else:
        p = bytearray(data.draw(st.binary(max_size=600)))
    start = time.process_time()
    try:
        out = latentcoding.decode_payload(_FUZZ_HEADER, bytes(p))
    except errors.FormatError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert set(out) == set(_FUZZ_TENSORS)
    assert time.process_time() - start < 0.25


def test_many_tiny_video_planes_are_refused_before_decoding():
    """Each video plane costs a few vectorised calls: the capacity rule counts it (PLANE_WORK), so 200,000 planes of
    1 x 1 behind a stream of a few hundred bytes are refused at once instead of costing seconds of decoding."""
    frames = 200_000
    header, tensors = make_file(1, 1, 1, frames=frames, latents=np.zeros(frames, np.int64))
    tensors["latents"][0] = 1
    donor, donor_tensors = make_file(40, 40, 1, frames=2)  # the same tensor names: its payload frames as this header's
    payload = latentcoding.encode_payload(donor, donor_tensors)
    stream = len(payload) - 4 * len(header["quant"]["tensors"]) - 2 - (len(header["quant"]["tensors"]) - 1)
    assert frames <= armmodel.LATENTS_PER_BIT * (8 * stream + 64)  # counting latents alone, these bytes would pass
    assert latentcoding.coded_integers(header, [], 1) >= frames * (1 + latentcoding.PLANE_WORK)
    start = time.process_time()
    with pytest.raises(errors.PayloadError, match="holds at most"):
        latentcoding.decode_payload(header, payload)
    assert time.process_time() - start < 0.5
    real, real_tensors = make_file(6, 7, 3, frames=8, seed=4)  # a real-sized pyramid still round-trips under the rule
    round_trip(real, real_tensors)


def test_video_in_rounds_of_passes_is_charged_for_each_pass_it_runs():
    """Format 1.10: a plane coded in 7 passes runs up to 7 vectorised calls, and the capacity rule charges PASS_WORK for
    each non-empty one (a 1 x 1 plane has one, a plane of 5 x 5 or more all seven); 1.6's two-pass planes keep
    PLANE_WORK. Many such planes behind a short stream are refused before decoding; a real pyramid round-trips."""
    header, _ = make_file(5, 5, 1, frames=1000, latents=np.zeros(25_000, np.int64))
    two = latentcoding.coded_integers(header, [], 1)
    header["arch"]["arm_passes"] = 7
    assert latentcoding.coded_integers(header, [], 1) - 25_000 == 1000 * 7 * latentcoding.PASS_WORK
    assert two - 25_000 == 1000 * latentcoding.PLANE_WORK
    tiny, _ = make_file(1, 1, 1, frames=10, latents=np.zeros(10, np.int64))
    tiny["arch"]["arm_passes"] = 7
    assert latentcoding.coded_integers(tiny, [], 1) == 10 * (1 + latentcoding.PASS_WORK)
    donor, donor_tensors = make_file(40, 40, 1, frames=2)
    donor["arch"]["arm_passes"] = 7
    payload = latentcoding.encode_payload(donor, donor_tensors)
    stream = len(payload) - 4 * len(donor["quant"]["tensors"]) - 2 - (len(donor["quant"]["tensors"]) - 1)
    frames = armmodel.LATENTS_PER_BIT * (8 * stream + 64) // 120  # 1.6 would charge 89 integers a 5 x 5 plane, 1.10 249
    many, tensors = make_file(5, 5, 1, frames=frames, latents=np.zeros(25 * frames, np.int64))
    many["arch"]["arm_passes"] = 7
    tensors["latents"][0] = 1
    assert frames * (25 + latentcoding.PLANE_WORK) <= armmodel.LATENTS_PER_BIT * (8 * stream + 64)  # 1.6's charge passes
    start = time.process_time()
    with pytest.raises(errors.PayloadError, match="holds at most"):
        latentcoding.decode_payload(many, payload)
    assert time.process_time() - start < 0.5
    for passes in (3, 7, 9):
        real, real_tensors = make_file(6, 7, 3, frames=8, seed=4)
        real["arch"]["arm_passes"] = passes
        round_trip(real, real_tensors)
