"""The .spdr container (inrcodec.format.container): round trips and one crafted file per failure."""

from __future__ import annotations

import copy
import importlib.util
import os
import stat
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import safetensors.numpy
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrcodec import files
from inrcodec.errors import (
    BadSignature,
    ChecksumMismatch,
    FormatError,
    HeaderInvalid,
    HeaderTooLarge,
    InputFileError,
    InputNotFoundError,
    OutputExistsError,
    PayloadError,
    ReservedFlagsSet,
    SpdrError,
    TensorMismatch,
    TrailingBytes,
    TruncatedFile,
    UnsupportedVersion,
)
from inrcodec.files import read_file, write_atomic
from inrcodec.format import container, geometry
from inrcodec.format.container import pack, peek, unpack
from inrcodec.format.header import canonical_json

ROOT = Path(__file__).resolve().parents[1]


def _golden_module():
    path = Path(__file__).parent / "data" / "make_golden.py"
    spec = importlib.util.spec_from_file_location("make_golden", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HEADER, TENSORS = _golden_module().build_golden()
VALID = pack(HEADER, TENSORS)
HEADER_V1_1, TENSORS_V1_1 = _golden_module().build_golden_v1_1()
VALID_V1_1 = pack(HEADER_V1_1, TENSORS_V1_1)  # format 1.1: compressed header, range-coded payload
VALID_FILES = {"1.0": (VALID, TENSORS), "1.1": (VALID_V1_1, TENSORS_V1_1)}
MAX_CPU_SECONDS = 0.5  # one unpack of a mutated small file, however hostile


def _assemble(raw_header: bytes, payload: bytes, *, major: int = 1, minor: int = 0,
              flags: int = 0, header_len: int | None = None, good_crc: bool = True) -> bytes:
    """Lay out a file field by field, valid or not, with a correct CRC unless told otherwise."""
    hl = len(raw_header) if header_len is None else header_len
    out = (b"\x89SPDR\r\n\x1a\n" + struct.pack("<BBHI", major, minor, flags, hl) + raw_header
           + struct.pack("<I", len(payload)) + payload)
    crc = zlib.crc32(out) ^ (0 if good_crc else 1)
    return out + struct.pack("<I", crc)


def _zstd(body: bytes, **kwargs) -> bytes:
    options = {"level": 3, "write_checksum": True, "write_content_size": True, **kwargs}
    return zstandard.ZstdCompressor(**options).compress(body)


def _streamed(body: bytes) -> bytes:
    """A zstd frame written by a streaming compressor, which cannot know the content size."""
    cobj = zstandard.ZstdCompressor(write_checksum=True).compressobj()
    frame = cobj.compress(body) + cobj.flush()
    assert zstandard.get_frame_parameters(frame).content_size == zstandard.CONTENTSIZE_UNKNOWN
    return frame


def _craft(header: dict, tensors: dict) -> bytes:
    """A correctly framed file whose tensors are NOT checked against the header."""
    return _assemble(canonical_json(header), _zstd(safetensors.numpy.save(tensors)))


def _fix_crc(data: bytes | bytearray) -> bytes:
    return bytes(data[:-4]) + struct.pack("<I", zlib.crc32(bytes(data[:-4])))


def _rle_bomb(total: int, checksum: bool) -> bytes:
    """A real zstd frame declaring `total` bytes, made of 128 KiB RLE blocks of 4 bytes each."""
    block = 128 * 1024
    fhd = 0xC0 | (0x04 if checksum else 0)  # 8-byte content size, window descriptor present
    frame = b"\x28\xb5\x2f\xfd" + bytes([fhd, 7 << 3]) + struct.pack("<Q", total)
    count = total // block
    middle = ((block << 3) | (1 << 1)).to_bytes(3, "little") + b"\x00"
    last = ((block << 3) | (1 << 1) | 1).to_bytes(3, "little") + b"\x00"
    return frame + middle * (count - 1) + last + (b"\0\0\0\0" if checksum else b"")


def _expect_format_error_or_success(data: bytes, expected: dict | None = None, must_refuse: bool = False) -> None:
    """unpack either refuses with a one-line FormatError or returns the expected tensor names, within the CPU bound;
    `must_refuse`: the mutation left a stale CRC, so it must be refused."""
    import time

    start = time.process_time()
    try:
        _, tensors = unpack(data)
    except FormatError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert not must_refuse, "a mutated file with a stale CRC was accepted"
        assert set(tensors) == set(TENSORS if expected is None else expected)
    seconds = time.process_time() - start
    assert seconds < MAX_CPU_SECONDS, f"{len(data)} bytes took {seconds:.2f} s CPU"


# --- round trips ---------------------------------------------------------------------------------

def test_round_trip_golden():
    header, tensors = unpack(VALID)
    assert header == HEADER
    assert set(tensors) == set(TENSORS)
    for name, arr in TENSORS.items():
        assert tensors[name].dtype == arr.dtype
        np.testing.assert_array_equal(tensors[name], arr)
    assert pack(header, tensors) == VALID


def test_round_trip_every_bit_width():
    header = copy.deepcopy(HEADER)
    specs = {}
    tensors = {}
    rng = np.random.default_rng(0)
    for bits in (6, 8, 10, 12, 16, 32):
        limit = 2 ** (bits - 1) - 1
        name = f"b{bits}"
        specs[name] = {"bits": bits, "shape": [3, 2], "scale_shape": [1] if bits == 32 else [3]}
        if bits == 32:
            tensors[name] = rng.standard_normal((3, 2)).astype(np.float32)
            tensors[f"{name}.scale"] = np.ones(1, np.float32)
        else:
            tensors[name] = np.array([[-limit, limit], [0, 1], [2, -3]],
                                     dtype=geometry.tensor_dtype(bits))
            tensors[f"{name}.scale"] = np.array([0.5, 1e-3, 2.0], np.float32)
    specs["per_tensor"] = {"bits": 8, "shape": [2, 3, 1, 2], "scale_shape": [1]}
    tensors["per_tensor"] = np.arange(12, dtype=np.int8).reshape(2, 3, 1, 2)
    tensors["per_tensor.scale"] = np.full(1, 0.25, np.float32)
    header["quant"]["tensors"] = specs
    out_header, out = unpack(pack(header, tensors))
    assert out_header == header
    for name, arr in tensors.items():
        assert out[name].dtype == arr.dtype and out[name].shape == arr.shape
        np.testing.assert_array_equal(out[name], arr)


def test_unpack_accepts_bytearray_and_memoryview():
    assert unpack(bytearray(VALID))[0] == HEADER
    assert unpack(memoryview(VALID))[0] == HEADER


def test_peek_reports_sizes_without_decompressing():
    info = peek(VALID)
    assert info["header"] == HEADER
    assert info["version"] == "1.0"
    assert info["file_bytes"] == len(VALID)
    assert info["header_bytes"] == len(canonical_json(HEADER))
    assert info["file_bytes"] == 17 + info["header_bytes"] + 4 + info["payload_bytes"] + 4
    broken = _assemble(canonical_json(HEADER), b"not zstd at all")
    assert peek(broken)["payload_bytes"] == 15
    with pytest.raises(ChecksumMismatch):
        peek(VALID[:-1] + bytes([VALID[-1] ^ 0x80]))


# --- framing failures ----------------------------------------------------------------------------

def test_bad_signature():
    for bad in (b"PK\x03\x04" + VALID[4:], b"\x89PNG\r\n\x1a\n" + VALID[8:], b"x"):
        with pytest.raises(BadSignature, match=r"not a \.spdr file \(bad signature\)"):
            unpack(bad)


def test_newer_major_refused_with_clear_message():
    data = _assemble(canonical_json(HEADER), b"", major=2)
    with pytest.raises(UnsupportedVersion) as info:
        unpack(data)
    assert str(info.value) == "file is spdr format 2.x; this spdr reads 1.x"
    with pytest.raises(UnsupportedVersion):
        unpack(_assemble(canonical_json(HEADER), b"", major=0))


def test_newer_minor_is_read():
    payload = VALID[17 + len(canonical_json(HEADER)) + 4:-4]
    data = _assemble(canonical_json(HEADER), payload, minor=7)
    assert unpack(data)[0] == HEADER
    assert peek(data)["version"] == "1.7"


def test_reserved_flags():
    with pytest.raises(ReservedFlagsSet, match="0x0004"):
        unpack(_assemble(canonical_json(HEADER), b"", flags=4))


def test_header_length_cap_checked_before_reading():
    data = _assemble(b"{}", b"", header_len=0xFFFFFFFF)  # claims 4 GB, file is tiny
    with pytest.raises(HeaderTooLarge, match="4294967295"):
        unpack(data)
    with pytest.raises(HeaderInvalid, match="length is 0"):
        unpack(_assemble(b"", b""))


def test_pack_refuses_oversized_header():
    header = copy.deepcopy(HEADER)
    header["encoder"]["note"] = "x" * 70_000
    with pytest.raises(HeaderTooLarge):
        pack(header, TENSORS)


@pytest.mark.parametrize("version", sorted(VALID_FILES))
def test_truncated_at_every_offset(version):
    valid = VALID_FILES[version][0]
    for n in range(len(valid)):
        with pytest.raises(TruncatedFile):
            unpack(valid[:n])
    with pytest.raises(TruncatedFile, match=r"header needs \d+ bytes, 40 left"):
        unpack(VALID[:17 + 40])


@pytest.mark.parametrize("version", sorted(VALID_FILES))
def test_every_single_bit_flip_is_refused(version):
    valid = VALID_FILES[version][0]
    accepted = []
    for i in range(len(valid)):
        for bit in range(8):
            data = bytearray(valid)
            data[i] ^= 1 << bit
            try:
                unpack(bytes(data))
            except FormatError:
                continue
            accepted.append((i, bit))
    assert accepted == []


def test_trailing_bytes():
    with pytest.raises(TrailingBytes, match="1 unexpected byte"):
        unpack(VALID + b"\0")


def test_checksum_mismatch():
    with pytest.raises(ChecksumMismatch, match="checksum mismatch"):
        unpack(_assemble(canonical_json(HEADER), b"", good_crc=False))


def test_header_json_errors_after_valid_crc():
    with pytest.raises(HeaderInvalid, match="not valid JSON"):
        unpack(_assemble(b"{not json", b""))
    bad = dict(HEADER, modality="smell")
    with pytest.raises(HeaderInvalid, match="'modality'"):
        unpack(_assemble(canonical_json(bad), b""))


# --- payload failures ----------------------------------------------------------------------------

def test_rle_bomb_helper_is_a_real_zstd_frame():
    small = _rle_bomb(4 * 128 * 1024, checksum=False)
    assert zstandard.ZstdDecompressor().decompress(small) == bytes(4 * 128 * 1024)


def test_zstd_bomb_with_bad_crc_is_stopped_by_checksum():
    bomb = _rle_bomb(4 * 2**30, checksum=True)
    with pytest.raises(ChecksumMismatch):
        unpack(_assemble(canonical_json(HEADER), bomb, good_crc=False))


def test_zstd_bomb_with_valid_crc_is_stopped_by_size_guard():
    bomb = _rle_bomb(4 * 2**30, checksum=True)
    with pytest.raises(PayloadError, match="4294967296 bytes.*before decompressing"):
        unpack(_assemble(canonical_json(HEADER), bomb))


def test_declared_size_beyond_header_bound():
    body = bytes(container._payload_bound(HEADER) + 1)
    with pytest.raises(PayloadError, match="before decompressing"):
        unpack(_assemble(canonical_json(HEADER), _zstd(body)))


@pytest.mark.parametrize("make, text", [
    (lambda body: _zstd(body, write_content_size=False), "content size"),
    (lambda body: _streamed(body), "does not declare its content size"),
    (lambda body: _zstd(body, write_checksum=False), "checksum"),
    (lambda body: _zstd(body) + b"\0", "corrupt"),
    (lambda body: _zstd(body) + _zstd(body), "corrupt"),
    (lambda body: body, "not a zstd frame"),
    (lambda body: b"\x50\x2a\x4d\x18" + struct.pack("<I", 4) + b"abcd", "not a zstd frame"),
    (lambda body: b"", "not a zstd frame"),
    (lambda body: _zstd(body)[:-8] + _zstd(body)[-4:], "corrupt"),
])
def test_bad_zstd_frames(make, text):
    body = safetensors.numpy.save(TENSORS)
    with pytest.raises(PayloadError, match=text):
        unpack(_assemble(canonical_json(HEADER), make(body)))


def test_content_size_lie_is_refused():
    body = safetensors.numpy.save(TENSORS)
    frame = bytearray(_zstd(body))
    params = zstandard.get_frame_parameters(bytes(frame))
    assert params.content_size == len(body)
    # The level-3 frame header here is magic, FHD (2-byte size field), then size - 256.
    assert frame[4] >> 6 == 1
    struct.pack_into("<H", frame, 5, len(body) - 256 - 10)
    with pytest.raises(PayloadError):
        unpack(_assemble(canonical_json(HEADER), bytes(frame)))


def test_payload_not_safetensors():
    with pytest.raises(PayloadError, match="not valid safetensors"):
        unpack(_assemble(canonical_json(HEADER), _zstd(b"hello, I am not a tensor file")))


def test_safetensors_metadata_refused():
    body = safetensors.numpy.save(TENSORS, metadata={"x": "y"})
    with pytest.raises(TensorMismatch, match="metadata"):
        unpack(_assemble(canonical_json(HEADER), _zstd(body)))


# --- tensors that disagree with the header -------------------------------------------------------

def _with(**changes):
    tensors = dict(TENSORS)
    for key, value in changes.items():
        key = key.replace("__", ".")
        if value is None:
            del tensors[key]
        else:
            tensors[key] = value
    return tensors


BAD_TENSORS = {
    "missing": (_with(net__2__bias=None), "'net.2.bias' is missing"),
    "missing_scale": (_with(net__2__bias__scale=None), "'net.2.bias.scale' is missing"),
    "extra": (_with(surplus=np.zeros(1, np.int8)), "'surplus' is not listed"),
    "misshaped": (_with(net__0__weight=np.zeros((2, 4), np.int8)), "shape [2, 4]"),
    "misshaped_scale": (_with(net__0__weight__scale=np.ones(1, np.float32)), "shape [1]"),
    "wrong_dtype": (_with(net__0__bias=np.zeros(4, np.int16)), "dtype int16"),
    "wrong_scale_dtype": (_with(net__0__bias__scale=np.ones(4, np.float64)), "dtype float64"),
    "out_of_range": (_with(net__1__bias=np.array([-128, 0, 0, 0], np.int8)), "-128..0"),
    "nan_scale": (_with(net__1__bias__scale=np.array([1, np.nan, 1, 1], np.float32)),
                  "non-finite"),
    "zero_scale": (_with(net__1__bias__scale=np.array([1, 0, 1, 1], np.float32)),
                   "non-positive"),
}


@pytest.mark.parametrize("case", sorted(BAD_TENSORS))
def test_bad_tensors_refused_by_reader_and_writer(case):
    tensors, text = BAD_TENSORS[case]
    with pytest.raises(TensorMismatch, match=text.replace("[", r"\[").replace("]", r"\]")):
        unpack(_craft(HEADER, tensors))
    with pytest.raises(TensorMismatch):
        pack(HEADER, tensors)


def test_float_tensor_checks():
    header = copy.deepcopy(HEADER)
    header["quant"]["tensors"] = {"f": {"bits": 32, "shape": [2], "scale_shape": [1]}}
    good = {"f": np.array([1.0, -2.0], np.float32), "f.scale": np.ones(1, np.float32)}
    assert unpack(pack(header, good))[1]["f"].tolist() == [1.0, -2.0]
    for bad, text in ((dict(good, f=np.array([1.0, np.inf], np.float32)), "non-finite"),
                      (dict(good, **{"f.scale": np.full(1, 2.0, np.float32)}), "must be 1.0")):
        with pytest.raises(TensorMismatch, match=text):
            unpack(_craft(header, bad))


def test_pack_refuses_non_arrays_and_bad_headers():
    with pytest.raises(TensorMismatch, match="not a numpy array"):
        pack(HEADER, _with(net__0__bias=[1, 2, 3, 4]))
    with pytest.raises(HeaderInvalid):
        pack(dict(HEADER, modality="smell"), TENSORS)


# --- property tests ------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_mutations_raise_only_format_errors(data):
    version = data.draw(st.sampled_from(sorted(VALID_FILES)), label="version")
    valid, expected = VALID_FILES[version]
    buf = bytearray(valid)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        op = data.draw(st.sampled_from(["set", "insert", "delete", "truncate"]), label="op")
        pos = data.draw(st.integers(0, len(buf)), label="pos")
        if op == "set" and pos < len(buf):
            buf[pos] = data.draw(st.integers(0, 255), label="byte")
        elif op == "insert":
            buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=8), label="bytes")
        elif op == "delete":
            del buf[pos:pos + data.draw(st.integers(1, 8), label="count")]
        else:
            del buf[pos:]
    fix = len(buf) >= 4 and data.draw(st.booleans(), label="fix crc")
    if fix:
        buf = bytearray(_fix_crc(buf))  # get past the checksum to the parsers behind it
    _expect_format_error_or_success(bytes(buf), expected, must_refuse=not fix and bytes(buf) != valid)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=32), st.integers(0, 200), st.integers(0, 32))
def test_mutated_rc_payload_behind_valid_crc(patch, pos, cut):
    """Format 1.1: any range-coded payload (scales and stream) is decoded or refused, within the CPU bound."""
    hlen = struct.unpack_from("<I", VALID_V1_1, 13)[0]
    payload = bytearray(VALID_V1_1[17 + hlen + 4:-4])
    pos = min(pos, len(payload))
    payload[pos:pos + cut] = patch
    data = _assemble(VALID_V1_1[17:17 + hlen], bytes(payload), minor=1)
    _expect_format_error_or_success(data, TENSORS_V1_1)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 2000), st.integers(0, 64))
def test_mutated_safetensors_behind_valid_zstd_and_crc(patch, pos, cut):
    body = bytearray(safetensors.numpy.save(TENSORS))
    pos = min(pos, len(body))
    body[pos:pos + cut] = patch
    _expect_format_error_or_success(_assemble(canonical_json(HEADER), _zstd(bytes(body))))


# --- files ---------------------------------------------------------------------------------------

def test_write_atomic_and_read_file(tmp_path):
    target = tmp_path / "a.spdr"
    write_atomic(target, VALID)
    assert read_file(target) == VALID
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    with pytest.raises(OutputExistsError, match="exists"):
        write_atomic(target, b"other")
    assert target.read_bytes() == VALID
    write_atomic(str(target), b"other", force=True)
    assert target.read_bytes() == b"other"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.spdr"]


def test_write_atomic_removes_temp_file_on_error(tmp_path, monkeypatch):
    target = tmp_path / "b.spdr"
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes")  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, VALID)
    assert list(tmp_path.iterdir()) == []


def test_read_file_errors(tmp_path, monkeypatch):
    with pytest.raises(InputNotFoundError, match="no such file") as info:
        read_file(tmp_path / "missing.spdr")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, SpdrError)
    with pytest.raises(InputFileError, match="folder"):
        read_file(tmp_path)
    big = tmp_path / "big.spdr"
    big.write_bytes(VALID)
    monkeypatch.setattr(files, "MAX_FILE_BYTES", 100)
    with pytest.raises(FormatError, match="larger than"):
        read_file(big)


def test_no_torch_import():
    code = ("import sys, inrcodec.format.container, inrcodec.format.header, inrcodec.errors; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr or "torch was imported"
