"""Byte-exact golden file for .spdr 1.0: the writer must reproduce it and the reader must read it.

Set SPDR_REGENERATE_GOLDEN=1 to rewrite tests/data/golden_v1.spdr after an intended format change.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from inrcodec.format.container import pack, peek, unpack

DATA = Path(__file__).parent / "data"


def _golden_module():
    spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_golden = _golden_module()


def test_writer_reproduces_golden_bytes():
    data = pack(*make_golden.build_golden())
    if os.environ.get("SPDR_REGENERATE_GOLDEN") == "1":
        make_golden.GOLDEN_PATH.write_bytes(data)
        pytest.skip(f"regenerated {make_golden.GOLDEN_PATH}")
    assert data == make_golden.GOLDEN_PATH.read_bytes(), (
        "writer output differs from tests/data/golden_v1.spdr; if the change is intended, rerun "
        "with SPDR_REGENERATE_GOLDEN=1 and bump the format version if old files read differently")


def test_reader_reads_golden_file():
    header, tensors = make_golden.build_golden()
    data = make_golden.GOLDEN_PATH.read_bytes()
    got_header, got = unpack(data)
    assert got_header == header
    assert set(got) == set(tensors)
    for name, arr in tensors.items():
        assert got[name].dtype == arr.dtype
        np.testing.assert_array_equal(got[name], arr)
    assert data[:13] == b"\x89SPDR\r\n\x1a\n\x01\x00\x00\x00"
    assert peek(data)["file_bytes"] == len(data)
