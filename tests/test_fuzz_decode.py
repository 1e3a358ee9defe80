"""Property tests: mutated valid files through the whole decode path raise SpdrError subclasses only.

The decode path here is inrcodec.codec.verify.verify_bytes: container parse and checks, the decoder's network
limits, building the network and loading it strictly, and a probe evaluation. Mutations re-frame the
file with a correct CRC (and zstd frame) where that lets them reach the deeper layers.
"""

from __future__ import annotations

import copy
import json
import struct
import zlib

import numpy as np
import safetensors.numpy
from attackgen import attack_generator
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inrcodec.format.container import pack
from inrcodec.errors import SpdrError
from inrcodec.codec.verify import verify_bytes

GEN = attack_generator()
BASES = list(GEN.bases().values())
FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def decode_path(data: bytes) -> None:
    """verify_bytes, accepting success; any exception must be a one-line SpdrError."""
    try:
        verify_bytes(data)
    except SpdrError as exc:
        text = str(exc)
        assert text and "\n" not in text, repr(text)


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


@FUZZ
@given(st.sampled_from(BASES), st.lists(st.tuples(st.sampled_from(["flip", "set", "cut", "insert", "delete"]),
                                                  st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=4),
       st.booleans())
def test_byte_mutations(base, ops, fix_crc):
    data = bytearray(base.data)
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
    if fix_crc and len(data) >= 4:
        data[-4:] = struct.pack("<I", zlib.crc32(bytes(data[:-4])))
    decode_path(bytes(data))


@FUZZ
@given(st.sampled_from(BASES), st.data())
def test_header_mutations_behind_a_valid_crc(base, data):
    header = copy.deepcopy(base.header)
    paths = [p for p in _paths(header) if p]
    path = data.draw(st.sampled_from(paths))
    node = header
    for key in path[:-1]:
        node = node[key]
    if data.draw(st.booleans()) and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = data.draw(json_values)
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    decode_path(GEN.assemble(raw, base.payload))


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
        raw = GEN.pack_unchecked(header, base.tensors)
    except SpdrError:
        return
    decode_path(raw)


@FUZZ
@given(st.sampled_from(BASES), st.data())
def test_tensor_mutations_behind_valid_zstd_and_crc(base, data):
    tensors = dict(base.tensors)
    name = data.draw(st.sampled_from(sorted(tensors)))
    action = data.draw(st.sampled_from(["drop", "rename", "dtype", "reshape", "value", "extra"]))
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
        arr.flat[data.draw(st.integers(0, arr.size - 1))] = data.draw(
            st.floats(allow_nan=True) if arr.dtype.kind == "f" else st.integers(np.iinfo(arr.dtype).min, np.iinfo(arr.dtype).max))
        tensors[name] = arr.astype(base.tensors[name].dtype)
    else:
        tensors["extra"] = np.zeros(data.draw(st.integers(0, 8)), np.float32)
    decode_path(GEN.assemble(GEN.canonical_json(base.header), GEN.zstd(safetensors.numpy.save(tensors))))


def test_valid_bases_pass_the_decode_path():
    for base in BASES:
        verify_bytes(base.data)
        assert verify_bytes(pack(base.header, base.tensors))["bytes"] == len(base.data)
