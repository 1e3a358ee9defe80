"""Format 1.1 compact storage: range coder, compressed header, range-coded payload, version rules."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from inrcodec.errors import HeaderInvalid, HeaderTooLarge, PayloadError, TensorMismatch
from inrcodec.format import compact, container, entropy, geometry
from inrcodec.format.header import canonical_json


def grid_header(h=13, w=21, levels=4, width=8, coding="rc"):
    sizes = sum(a * b for a, b in geometry.level_shapes(h, w, levels))
    tensors_spec = {
        "latents": {"bits": 8, "shape": [sizes], "scale_shape": [1]},
        "net.0.weight": {"bits": 8, "shape": [width, levels], "scale_shape": [width]},
        "net.0.bias": {"bits": 16, "shape": [width], "scale_shape": [1]},
        "net.1.weight": {"bits": 8, "shape": [3, width], "scale_shape": [1]},
        "net.1.bias": {"bits": 8, "shape": [3], "scale_shape": [1]},
    }
    quant = {"scheme": "per-channel-symmetric", "tensors": tensors_spec}
    if coding:
        quant["coding"] = coding
    return {
        "modality": "image",
        "signal": {"height": h, "width": w, "channels": 3, "mode": "RGB", "bit_depth": 8},
        "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
        "values": {"offset": [0.0] * 3, "scale": [1.0] * 3},
        "arch": {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 3, "width": width,
                 "depth": 0, "omega0": 1.0, "first_omega0": 1.0, "grid_levels": levels, "grid_height": h, "grid_width": w},
        "quant": quant,
    }


def tensors_for(header, seed=0):
    rng = np.random.default_rng(seed)
    out = {}
    for name, spec in header["quant"]["tensors"].items():
        limit = 2 ** (spec["bits"] - 1) - 1
        q = rng.integers(-limit, limit + 1, size=spec["shape"])
        if name == "latents":  # sparse, small, like trained latents
            q = np.where(rng.random(spec["shape"]) < 0.3, rng.integers(-3, 4, size=spec["shape"]), 0)
        out[name] = q.astype(geometry.tensor_dtype(spec["bits"]))
        out[f"{name}.scale"] = rng.uniform(0.01, 1.0, size=spec["scale_shape"]).astype(np.float32)
    return out


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(-32767, 32767), max_size=300))
def test_range_coder_round_trips_any_integers(values):
    enc = entropy.RangeEncoder()
    entropy.encode_values(enc, values)
    dec = entropy.RangeDecoder(enc.stream())
    assert entropy.decode_values(dec, len(values)).tolist() == values


def test_range_coder_grids_round_trip_and_beat_zstd_on_clustered_zeros():
    rng = np.random.default_rng(1)
    shapes = geometry.level_shapes(40, 56, 5)
    grids = []
    for h, w in shapes:
        g = np.round(rng.laplace(0, 0.6, (h, w))).astype(np.int64)
        g[:, : w // 2] = 0  # a flat half, as in a sky
        grids.append(g)
    enc = entropy.RangeEncoder()
    entropy.encode_grids(enc, grids)
    data = enc.finish()
    got = entropy.decode_grids(entropy.RangeDecoder(data), shapes)
    for a, b in zip(grids, got, strict=True):
        np.testing.assert_array_equal(a, b)
    flat = np.concatenate([g.ravel() for g in grids]).astype(np.int8).tobytes()
    assert len(data) < len(zstandard.ZstdCompressor(level=19).compress(flat))


def test_compact_file_round_trips_and_is_version_1_1():
    header = grid_header()
    tensors = tensors_for(header)
    data = container.pack(header, tensors)
    assert data[9:11] == b"\x01\x01"
    got_header, got = container.unpack(data)
    assert got_header == header
    for name, arr in tensors.items():
        assert got[name].dtype == arr.dtype
        np.testing.assert_array_equal(got[name], arr)
    assert container.peek(data)["header_bytes"] < len(canonical_json(header)) / 4


def test_compact_header_alone_keeps_the_zstd_payload():
    header = grid_header(coding=None)
    tensors = tensors_for(header)
    small, plain = container.pack(header, tensors, compact=True), container.pack(header, tensors)
    assert plain[9:11] == b"\x01\x00" and small[9:11] == b"\x01\x01"
    assert len(small) < len(plain)
    assert container.unpack(small)[0] == container.unpack(plain)[0] == header


def _with_header(data: bytes, raw_header: bytes, minor: int = 1) -> bytes:
    """Rebuild a file around a different header field (fixing lengths and CRC)."""
    hlen = struct.unpack_from("<I", data, 13)[0]
    rest = data[17 + hlen:-4]
    body = data[:10] + bytes([minor]) + data[11:13] + struct.pack("<I", len(raw_header)) + raw_header + rest
    return body + struct.pack("<I", zlib.crc32(body))


def test_coding_needs_minor_1():
    header = grid_header()
    data = container.pack(header, tensors_for(header))
    v10 = _with_header(data, canonical_json(header), minor=0)
    with pytest.raises(HeaderInvalid, match="needs format 1.1"):
        container.unpack(v10)
    v11 = _with_header(data, canonical_json(header), minor=1)  # JSON header is fine in 1.1
    assert container.unpack(v11)[0] == header


def test_compressed_header_refused_in_1_0_files():
    header = grid_header(coding=None)
    data = container.pack(header, tensors_for(header), compact=True)
    hlen = struct.unpack_from("<I", data, 13)[0]
    with pytest.raises(HeaderInvalid):
        container.unpack(_with_header(data, data[17:17 + hlen], minor=0))


def test_compressed_header_bomb_and_garbage_are_refused():
    header = grid_header()
    data = container.pack(header, tensors_for(header))
    huge = zstandard.ZstdCompressor(write_content_size=True).compress(b" " * 70000)
    with pytest.raises(HeaderTooLarge):
        container.unpack(_with_header(data, huge))
    with pytest.raises(HeaderInvalid):
        container.unpack(_with_header(data, compact.ZSTD_MAGIC + b"\x00garbage"))


def test_rc_payload_refuses_out_of_range_values_and_truncated_scales():
    header = grid_header()
    tensors = tensors_for(header)
    tensors["net.1.bias"] = np.array([0, 40, 2], dtype=np.int8)
    payload = compact.encode_payload(header, tensors)  # valid for 8 bits
    assert compact.decode_payload(header, payload)["net.1.bias"].tolist() == [0, 40, 2]
    header["quant"]["tensors"]["net.1.bias"]["bits"] = 6  # -31..31
    with pytest.raises(TensorMismatch, match="outside"):
        compact.decode_payload(header, payload)
    with pytest.raises(PayloadError, match="truncated"):
        compact.decode_payload(header, payload[:10])


def test_rc_refuses_float_tensors_and_wrong_latent_shape():
    header = grid_header()
    header["quant"]["tensors"]["net.1.bias"].update(bits=32)
    with pytest.raises(TensorMismatch, match="integers only"):
        compact.encode_payload(header, {})
    header = grid_header()
    header["quant"]["tensors"]["latents"]["shape"] = [5]
    with pytest.raises(TensorMismatch, match="latent grids need"):
        compact.decode_payload(header, b"")


def test_header_dictionary_is_the_documented_one():
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "format.md").read_text()
    assert compact.HEADER_DICTIONARY.decode() in doc
    assert f"these {len(compact.HEADER_DICTIONARY)} bytes" in doc


def test_decoder_reads_back_exactly_the_stripped_zeros_and_refuses_more():
    rng = np.random.default_rng(3)
    for _ in range(40):
        values = rng.integers(-40, 41, int(rng.integers(1, 200))).tolist() + [0] * int(rng.integers(0, 300))
        enc = entropy.RangeEncoder()
        entropy.encode_values(enc, values)
        full, stored = enc.finish(), enc.stream()
        assert len(full) - len(stored) <= entropy.MAX_OVERRUN and full.startswith(stored)
        dec = entropy.RangeDecoder(stored)
        assert entropy.decode_values(dec, len(values)).tolist() == values
        assert dec.overrun() == len(full) - len(stored)
    enc = entropy.RangeEncoder()
    entropy.encode_values(enc, [0] * 100000)  # all zero: the encoder keeps all but 16 of its zero bytes
    stored = enc.stream()
    assert len(stored) == len(enc.finish()) - entropy.MAX_OVERRUN
    assert entropy.decode_values(entropy.RangeDecoder(stored), 100000).sum() == 0
    assert 100000 <= entropy.max_decisions(len(stored)) < 1.1 * 100000  # the ceiling is nearly reached
    with pytest.raises(PayloadError, match="ends early"):
        entropy.decode_values(entropy.RangeDecoder(stored[:-1]), 100000)


def test_payload_declaring_more_values_than_its_stream_holds_is_refused():
    header = grid_header()
    payload = compact.encode_payload(header, tensors_for(header))
    header["quant"]["tensors"]["net.1.bias"]["shape"] = [10**6]
    with pytest.raises(PayloadError, match="holds at most"):
        compact.decode_payload(header, payload)
    # the writer's cheapest payload (all zeros) stays under the ceiling, so it is never refused
    header["quant"]["tensors"]["net.1.bias"]["shape"] = [200000]
    tensors = {**tensors_for(grid_header()), "net.1.bias": np.zeros(200000, np.int8)}
    assert compact.decode_payload(header, compact.encode_payload(header, tensors))["net.1.bias"].sum() == 0
