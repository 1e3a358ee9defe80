"""Property tests: mutated valid files through the whole decode path raise SpdrError subclasses only.

The decode path here is inrcodec.codec.verify.verify_bytes: container parse and checks, the decoder's network
limits, building the network and loading it strictly, and a probe evaluation. Mutations re-frame the
file with a correct CRC (and zstd frame) where that lets them reach the deeper layers. The bases include
the format 1.1 latent-grid files (compressed header, range-coded payload); mutations of those keep their
format (compressed header, their minor, their payload coding) so that they reach the range decoder. The segment
tables (format 1.4 over audio, 1.7 over an image's bands) are mutated in their table and in one segment at a time.

Every outcome is checked: a refusal is a one-line FormatError, a mutation that leaves the CRC stale is
always refused, and no mutated file costs more than MAX_CPU_SECONDS of CPU to decode or refuse.
"""

from __future__ import annotations

import copy
import json
import struct
import zlib

import numpy as np
import pytest
import safetensors.numpy
from attackgen import attack_generator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrcodec.codec.verify import verify_bytes
from inrcodec.errors import FormatError
from inrcodec.format import compact, latentcoding
from inrcodec.format.container import pack
from inrcodec.format.header import validate_header

GEN = attack_generator()
BASES = list(GEN.bases().values())
FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


MAX_CPU_SECONDS = 0.5  # per mutated file: the decoder's work is bounded by the bytes it is given
for _base in BASES:  # imports and first-call costs (torch) paid before any file is timed
    verify_bytes(_base.data)


def decode_path(data: bytes, must_refuse: bool = False) -> bool:
    """verify_bytes within the CPU bound; a refusal must be a one-line FormatError. True if it was refused."""
    import gc
    import time

    gc.disable()  # the decoder's own work is timed, not a collection of the whole test process's heap (late in a run)
    start = time.process_time()
    try:
        verify_bytes(data)
        refused = False
    except FormatError as exc:
        text = str(exc)
        assert text and "\n" not in text, repr(text)
        refused = True
    finally:
        seconds = time.process_time() - start
        gc.enable()
    assert seconds < MAX_CPU_SECONDS, f"{len(data)}-byte file: {seconds:.2f} s CPU"
    assert refused or not must_refuse, "a mutated file with a stale CRC was accepted"
    return refused


def reframe(base, header: dict, tensors: dict | None = None) -> bytes:
    """`header` (as Python writes JSON) over the base's payload, or `tensors` coded as the base codes them."""
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    if base.rc:
        coder = latentcoding.encode_payload if header["quant"].get("coding") == "arm" else compact.encode_payload
        payload = base.payload if tensors is None else coder(header, tensors)
        return GEN.assemble(compact.compress_header(raw), payload, minor=base.minor)
    payload = base.payload if tensors is None else GEN.zstd(safetensors.numpy.save(tensors))
    return GEN.assemble(raw, payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=8,
)


def _paths(node, prefix=()):
    """Every key path in a JSON tree, inner nodes included."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*prefix, i))


def mutated_json(header: dict, data) -> dict:
    """A copy of `header` with one key (at any depth) deleted or set to a drawn JSON value."""
    header = copy.deepcopy(header)
    path = data.draw(st.sampled_from([p for p in _paths(header) if p]))
    node = header
    for key in path[:-1]:
        node = node[key]
    if data.draw(st.booleans()) and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = data.draw(json_values)
    return header


def mutate(original: bytes, ops: list[tuple[str, int, int]], fix_crc: bool) -> tuple[bytes, bool]:
    """The bytes after the edit operations, and whether their CRC was then made valid again."""
    data = bytearray(original)
    for op, pos, value in ops:
        if not data:
            break
        i = pos % len(data)
        if op == "flip":
            data[i] ^= 1 << (value % 8)
        elif op == "set":
            data[i] = value
        elif op == "cut":
            del data[i:]
        elif op == "insert":
            data[i:i] = bytes([value]) * (1 + value % 16)
        else:
            del data[i:i + 1 + value % 64]
    fix = fix_crc and len(data) >= 4
    if fix:
        data[-4:] = struct.pack("<I", zlib.crc32(bytes(data[:-4])))
    return bytes(data), fix


@FUZZ
@given(st.sampled_from(BASES), st.lists(st.tuples(st.sampled_from(["flip", "set", "cut", "insert", "delete"]),
                                                  st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
       st.booleans())
def test_byte_mutations(base, ops, fix_crc):
    data, fix = mutate(base.data, ops, fix_crc)
    decode_path(data, must_refuse=not fix and data != base.data)


@FUZZ
@given(st.sampled_from(BASES), st.data())
def test_header_mutations_behind_a_valid_crc(base, data):
    decode_path(reframe(base, mutated_json(base.header, data)))


@FUZZ
@given(st.sampled_from(BASES), st.data())
def test_arch_mutations_of_container_valid_files(base, data):
    """Architectures the container accepts, over unchanged tensors: mismatches must be refused cleanly."""
    header = copy.deepcopy(base.header)
    arch = header["arch"]
    arch["width"] = data.draw(st.integers(1, 4096))
    arch["depth"] = data.draw(st.integers(0, 32))
    arch["activation"] = data.draw(st.sampled_from(["spder", "siren", "relu", "relu-pe", "relu-ffn", "hashgrid"]))
    arch["omega0"] = data.draw(st.floats(1e-30, 1e38))
    if data.draw(st.booleans()):
        arch["ffn_features"] = data.draw(st.integers(1, 4096))
    try:
        if base.rc:
            validate_header(header)
        raw = reframe(base, header, base.tensors) if base.rc else GEN.pack_unchecked(header, base.tensors)
    except FormatError:
        return
    decode_path(raw)


@FUZZ
@given(st.sampled_from(BASES), st.data())
def test_tensor_mutations_behind_valid_zstd_and_crc(base, data):
    tensors = dict(base.tensors)
    name = data.draw(st.sampled_from(sorted(tensors)))
    # an rc payload's names, shapes and dtypes are the header's: only its values (and scales) can be wrong
    action = "value" if base.rc else data.draw(st.sampled_from(["drop", "rename", "dtype", "reshape", "value", "extra"]))
    arr = tensors[name]
    if action == "drop":
        del tensors[name]
    elif action == "rename":
        tensors[data.draw(st.from_regex(r"[a-z.]{1,12}", fullmatch=True))] = tensors.pop(name)
    elif action == "dtype":
        tensors[name] = arr.astype(data.draw(st.sampled_from([np.int8, np.int16, np.int32, np.uint8, np.float16, np.float32,
                                                              np.float64])))
    elif action == "reshape":
        tensors[name] = arr.reshape(-1)[: data.draw(st.integers(0, arr.size))].copy()
    elif action == "value" and arr.size:
        arr = arr.astype(np.float64) if arr.dtype.kind == "f" else arr.copy()
        if base.rc and arr.dtype.kind != "f":  # the range coder codes any integer: try beyond the storage dtype too
            arr = arr.astype(np.int64)
            value = data.draw(st.integers(-2**31 + 1, 2**31 - 1))
        else:
            value = data.draw(st.floats(allow_nan=True) if arr.dtype.kind == "f"
                              else st.integers(np.iinfo(arr.dtype).min, np.iinfo(arr.dtype).max))
        arr.flat[data.draw(st.integers(0, arr.size - 1))] = value
        tensors[name] = arr if base.rc else arr.astype(base.tensors[name].dtype)
    else:
        tensors["extra"] = np.zeros(data.draw(st.integers(0, 8)), np.float32)
    if base.rc:
        try:
            raw = reframe(base, base.header, tensors)
        except (FormatError, ValueError, OverflowError, KeyError):  # constriction: the arm writer cannot code the value, no file
            return
        decode_path(raw)
    else:
        decode_path(GEN.assemble(GEN.canonical_json(base.header), GEN.zstd(safetensors.numpy.save(tensors))))


@FUZZ
@given(st.sampled_from([b for b in BASES if b.rc]), st.binary(max_size=64), st.integers(0, 10**4), st.integers(0, 64))
def test_rc_stream_mutations_behind_a_valid_crc(base, patch, pos, cut):
    """Format 1.1: overwrite, insert or cut bytes of the range-coded payload; refused or decoded, cheaply."""
    payload = bytearray(base.payload)
    pos %= len(payload) + 1
    payload[pos:pos + cut] = patch
    decode_path(GEN.assemble(base.stored_header, bytes(payload), minor=base.minor))


def test_bases_cover_formats_1_1_1_3_1_5_1_6_and_1_8_to_1_10():
    assert {b.name for b in BASES if b.rc} == set(GEN.GRID_BASES) | set(GEN.ARM_BASES)
    assert {b.name for b in BASES if b.minor in (3, 5, 6, 8, 9, 10)} == set(GEN.ARM_BASES)
    assert {b.name for b in BASES if b.minor == 5} == {"audio-arm"}
    assert {b.name for b in BASES if b.minor == 6} == {"video-arm"}
    assert {b.name for b in BASES if b.minor == 8} == {"image-arm-3pass"}
    assert {b.name for b in BASES if b.minor == 9} == {"image-arm-7pass", "audio-arm-7pass"}
    assert {b.name for b in BASES if b.minor == 10} == {"video-arm-7pass"}
    own = {"audio": 5, "video": 6, "image": 3}

    def minor(b) -> int:
        passes = b.header["arch"].get("arm_passes")
        if passes:
            return 10 if b.header["modality"] == "video" else 8 if passes == 3 and b.header["modality"] == "image" else 9
        return own[b.header["modality"]] if b.name in GEN.ARM_BASES else 1

    assert all(b.minor == minor(b)
               and compact.is_compressed_header(b.stored_header) for b in BASES if b.rc)


def test_valid_bases_pass_the_decode_path():
    for base in BASES:
        verify_bytes(base.data)
        assert verify_bytes(pack(base.header, base.tensors))["bytes"] == len(base.data)


# --- segment tables: format 1.4 over audio's time axis, format 1.7 over an image's horizontal bands ------------

SEGMENTED_HEADER, SEGMENTS, SEGMENTED = GEN.segmented_base()
BANDS_HEADER, BANDS, BANDED = GEN.image_bands_base()
verify_bytes(BANDED)  # first-call costs of its bands' networks paid before any mutant is timed (as for BASES above)
# name -> (table header, the parts' files, the whole file, its minor): every mutation below runs on each
TABLES = {"segments": (SEGMENTED_HEADER, SEGMENTS, SEGMENTED, 4), "bands": (BANDS_HEADER, BANDS, BANDED, 7)}
tables = pytest.mark.parametrize("table", list(TABLES))


def test_the_segmented_base_passes_the_decode_path():
    assert not decode_path(SEGMENTED)


def test_the_image_bands_base_passes_the_decode_path():
    assert not decode_path(BANDED)
    assert verify_bytes(BANDED)["version"] == "1.7"


@tables
@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["flip", "set", "cut", "insert", "delete"]), st.integers(0, 10**6), st.integers(0, 255)),
                min_size=1, max_size=4), st.booleans())
def test_segment_table_byte_mutations(table, ops, fix_crc):
    whole = TABLES[table][2]
    data, fix = mutate(whole, ops, fix_crc)
    decode_path(data, must_refuse=not fix and data != whole)


@tables
@FUZZ
@given(st.data())
def test_segment_table_mutations_behind_a_valid_crc(table, data):
    """The table's lengths, byte counts, signal and keys mutated (NaN, infinity too), the parts unchanged."""
    header, parts, _, minor = TABLES[table]
    raw = json.dumps(mutated_json(header, data), sort_keys=True, separators=(",", ":")).encode()
    decode_path(GEN.assemble(compact.compress_header(raw), b"".join(parts), minor=minor))


@tables
@FUZZ
@given(st.integers(0, 2), st.binary(min_size=1, max_size=32), st.integers(0, 10**4), st.integers(0, 64), st.booleans())
def test_a_part_mutated_under_an_honest_table(table, which, patch, pos, cut, fix_inner_crc):
    """One segment's or band's bytes patched (its own CRC fixed or not), the table's byte count and the outer CRC
    correct."""
    header, parts, _, minor = TABLES[table]
    which %= len(parts)
    part = bytearray(parts[which])
    i = pos % len(part)
    part[i:i + cut] = patch
    if fix_inner_crc and len(part) >= 4:
        part[-4:] = struct.pack("<I", zlib.crc32(bytes(part[:-4])))
    if len(part) < 26:
        return  # the table cannot describe it (HeaderInvalid): test_segment_table_mutations covers short counts
    mutated = list(parts)
    mutated[which] = bytes(part)
    header = copy.deepcopy(header)
    header["segments"][which][1] = len(part)
    decode_path(GEN._segmented(header, mutated, minor=minor), must_refuse=not fix_inner_crc and bytes(part) != parts[which])
