"""Header schema, limits and canonical JSON (inrcodec.format.header)."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
from pathlib import Path

import pytest

from inrcodec.errors import FormatError, HeaderInvalid
from inrcodec.format.header import (
    ALLOWED_ACTIVATIONS,
    ALLOWED_BITS,
    ALLOWED_MODALITIES,
    canonical_json,
    parse_header,
    validate_header,
)


def _golden_module():
    path = Path(__file__).parent / "data" / "make_golden.py"
    spec = importlib.util.spec_from_file_location("make_golden", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


IMAGE = _golden_module().build_golden()[0]
_Q = {"scheme": "per-channel-symmetric",
      "tensors": {"w": {"bits": 8, "shape": [2, 1], "scale_shape": [2]}}}
AUDIO = {
    "modality": "audio",
    "signal": {"samples": 44100, "channels": 2, "sample_rate": 44100, "subtype": "PCM_16"},
    "coords": {"convention": "pixel-centre", "axes": ["t"], "scale": [100.0]},
    "values": {"offset": [0.0, 0.0], "scale": [1.0, 1.0]},
    "arch": {"activation": "siren", "damping": "none", "in_features": 1, "out_features": 2,
             "width": 64, "depth": 3, "omega0": 30.0, "first_omega0": 3000.0},
    "quant": _Q,
}
VIDEO = {
    "modality": "video",
    "signal": {"frames": 10, "height": 32, "width": 48, "channels": 3, "fps": [30000, 1001]},
    "coords": {"convention": "pixel-centre", "axes": ["t", "y", "x"], "scale": [1, 1, 1]},
    "values": {"offset": [0.5, 0.5, 0.5], "scale": [0.5, 0.5, 0.5]},
    "arch": {"activation": "relu-ffn", "damping": "none", "in_features": 3, "out_features": 3,
             "width": 128, "depth": 4, "omega0": 1.0, "first_omega0": 1.0,
             "ffn_features": 256, "ffn_sigma": 10.0},
    "quant": _Q,
    "encoder": {"anything": [1, {"nested": None}], "psnr_db": 31.5},
}


@pytest.mark.parametrize("header", [IMAGE, AUDIO, VIDEO], ids=["image", "audio", "video"])
def test_valid_headers_pass_and_round_trip(header):
    assert validate_header(copy.deepcopy(header)) == header
    assert parse_header(canonical_json(header)) == header


def test_literal_sets():
    assert ALLOWED_MODALITIES == ("image", "audio", "video")
    assert ALLOWED_BITS == (6, 8, 10, 12, 16, 32)
    assert "spder" in ALLOWED_ACTIVATIONS and "hashgrid" in ALLOWED_ACTIVATIONS


def test_canonical_json_is_deterministic():
    a = {"b": [1, 2.5, "é"], "a": {"z": 1, "y": None}}
    b = {"a": {"y": None, "z": 1}, "b": [1, 2.5, "é"]}
    assert canonical_json(a) == canonical_json(b) == '{"a":{"y":null,"z":1},"b":[1,2.5,"é"]}'.encode()
    assert canonical_json(IMAGE) == canonical_json(json.loads(canonical_json(IMAGE)))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, {1: 2, "a": 3}, object()])
def test_canonical_json_refuses(bad):
    with pytest.raises(HeaderInvalid):
        canonical_json({"x": bad})


def _set(header, path, value):
    out = copy.deepcopy(header)
    node = out
    *parents, last = path
    for key in parents:
        node = node[key]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return out


_DELETE = object()

# (base header, path, new value, text the message must contain)
BAD_FIELDS = [
    (IMAGE, ["signal", "width"], -3,
     "header field 'signal.width': must be an integer in 1..1048576, got -3"),
    (IMAGE, ["signal", "width"], 1_048_577, "signal.width"),
    (IMAGE, ["signal", "height"], 2.0, "signal.height"),
    (IMAGE, ["signal", "height"], True, "signal.height"),
    (IMAGE, ["signal", "channels"], 3, "signal.channels"),
    (IMAGE, ["signal", "mode"], "CMYK", "signal.mode"),
    (IMAGE, ["signal", "bit_depth"], 12, "signal.bit_depth"),
    (IMAGE, ["signal", "extra"], 1, "signal.extra"),
    (IMAGE, ["signal", "height"], _DELETE, "signal.height"),
    (IMAGE, ["modality"], "text", "modality"),
    (IMAGE, ["surprise"], {}, "header.surprise"),
    (IMAGE, ["arch"], _DELETE, "header.arch"),
    (IMAGE, ["coords", "convention"], "corner", "coords.convention"),
    (IMAGE, ["coords", "axes"], ["x", "y"], "coords.axes"),
    (IMAGE, ["coords", "scale"], [1.0], "coords.scale"),
    (IMAGE, ["coords", "scale"], [1.0, 0.0], "coords.scale[1]"),
    (IMAGE, ["values", "offset"], [math.nan], "values.offset[0]"),
    (IMAGE, ["values", "scale"], [-1.0], "values.scale[0]"),
    (IMAGE, ["values", "scale"], [1.0, 1.0], "values.scale"),
    (IMAGE, ["arch", "activation"], "tanh", "arch.activation"),
    (IMAGE, ["arch", "damping"], "cube", "arch.damping"),
    (IMAGE, ["arch", "in_features"], 3, "arch.in_features"),
    (IMAGE, ["arch", "out_features"], 2, "arch.out_features"),
    (IMAGE, ["arch", "width"], 4097, "arch.width"),
    (IMAGE, ["arch", "depth"], 33, "arch.depth"),
    (IMAGE, ["arch", "omega0"], 0, "arch.omega0"),
    (IMAGE, ["arch", "first_omega0"], math.inf, "arch.first_omega0"),
    (IMAGE, ["arch", "pe_frequencies"], 33, "arch.pe_frequencies"),
    (IMAGE, ["arch", "ffn_sigma"], -1.0, "arch.ffn_sigma"),
    (IMAGE, ["arch", "hash_levels"], 0, "arch.hash_levels"),
    (IMAGE, ["arch", "bogus"], 1, "arch.bogus"),
    (IMAGE, ["quant", "scheme"], "per-tensor-affine", "quant.scheme"),
    (IMAGE, ["quant", "tensors"], {}, "quant.tensors"),
    (IMAGE, ["quant", "tensors", "bad name!"], {"bits": 8, "shape": [1], "scale_shape": [1]},
     "quant.tensors"),
    (IMAGE, ["quant", "tensors", "w.scale"], {"bits": 8, "shape": [1], "scale_shape": [1]},
     "quant.tensors"),
    (IMAGE, ["quant", "tensors", "__metadata__"], {"bits": 8, "shape": [1], "scale_shape": [1]},
     "quant.tensors"),
    (IMAGE, ["quant", "tensors", "net.0.bias", "bits"], 7, "quant.tensors.net.0.bias.bits"),
    (IMAGE, ["quant", "tensors", "net.0.bias", "shape"], [1, 1, 1, 1, 1],
     "quant.tensors.net.0.bias.shape"),
    (IMAGE, ["quant", "tensors", "net.0.bias", "shape"], [0], "net.0.bias.shape[0]"),
    (IMAGE, ["quant", "tensors", "net.0.bias", "shape"], [], "quant.tensors.net.0.bias.shape"),
    (IMAGE, ["quant", "tensors", "net.0.bias", "shape"], [2**13, 2**13, 2],
     "quant.tensors.net.0.bias.shape"),
    (IMAGE, ["quant", "tensors", "net.0.bias", "scale_shape"], [3],
     "quant.tensors.net.0.bias.scale_shape"),
    (IMAGE, ["quant", "tensors", "net.0.bias", "scale_shape"], [4.0], "scale_shape"),
    (IMAGE, ["encoder"], [1], "encoder"),
    (AUDIO, ["signal", "samples"], 2**31, "signal.samples"),
    (AUDIO, ["signal", "channels"], 65, "signal.channels"),
    (AUDIO, ["signal", "sample_rate"], 0, "signal.sample_rate"),
    (AUDIO, ["signal", "subtype"], "pcm 16", "signal.subtype"),
    (AUDIO, ["coords", "axes"], ["y", "x"], "coords.axes"),
    (VIDEO, ["signal", "fps"], [30, 0], "signal.fps[1]"),
    (VIDEO, ["signal", "fps"], [30], "signal.fps"),
    (VIDEO, ["signal", "channels"], 4, "signal.channels"),
    (VIDEO, ["signal", "frames"], 1_000_001, "signal.frames"),
    (VIDEO, ["signal"], {"frames": 10, "height": 1_048_576, "width": 1_048_576, "channels": 3,
                         "fps": [1, 1]}, "'signal': must hold at most 2**40 values"),
]


@pytest.mark.parametrize("base, path, value, text", BAD_FIELDS,
                         ids=[".".join(map(str, case[1])) + f"={case[2]!r}"[:30]
                              for case in BAD_FIELDS])
def test_bad_field_names_the_field(base, path, value, text):
    header = _set(base, path, value)
    with pytest.raises(HeaderInvalid) as info:
        validate_header(header)
    message = str(info.value)
    assert text in message and "\n" not in message
    assert isinstance(info.value, FormatError) and isinstance(info.value, ValueError)


def test_total_element_limit():
    tensors = {f"t{i}": {"bits": 8, "shape": [2**26], "scale_shape": [1]} for i in range(3)}
    with pytest.raises(HeaderInvalid, match="2\\*\\*27"):
        validate_header(_set(IMAGE, ["quant", "tensors"], tensors))


def test_unknown_encoder_keys_are_allowed():
    header = _set(IMAGE, ["encoder"], {"whatever": {"deep": [1, 2]}, "seconds": 1.5})
    assert validate_header(header) is header


def test_validate_refuses_non_objects():
    for bad in (None, [], "x", 3):
        with pytest.raises(HeaderInvalid):
            validate_header(bad)


@pytest.mark.parametrize("raw, text", [
    (b"\xff\xfe", "UTF-8"),
    (b"{", "not valid JSON"),
    (b"[]", "JSON object"),
    (b'{"a":NaN}', "NaN"),
    (b'{"a":Infinity}', "Infinity"),
    (b'{"a":1,"a":2}', "repeats the key 'a'"),
    (b"[" * 100_000 + b"]" * 100_000, "nested"),
    (b'{"a":' + b"9" * 5000 + b"}", "not valid JSON"),
])
def test_parse_header_refuses_bad_json(raw, text):
    with pytest.raises(HeaderInvalid, match=text):
        parse_header(raw)


def test_parse_header_refuses_what_cannot_be_written_back():
    header = copy.deepcopy(IMAGE)
    raw = canonical_json(header).replace(b'"steps":0', b'"steps":1e999')
    with pytest.raises(HeaderInvalid):
        parse_header(raw)
    raw = canonical_json(header).replace(b'"seed":0', b'"seed":"\\ud800"')
    with pytest.raises(HeaderInvalid):
        parse_header(raw)
