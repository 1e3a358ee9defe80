"""Encode/decode end to end (inrcodec.codec through the API): every input kind, odd sizes, any output grid."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import TINY_STEPS, smooth_pixels, write_image

import inrcodec
from inrcodec import files
from inrcodec.codec.image import image_shape
from inrcodec.codec.runtime import check_output_size, decode_samples
from inrcodec.errors import FormatError, OutputTooLargeError
from inrcodec.format import container
from inrcodec.format.limits import read_checked
from inrcodec.media.image import pixels_to_unit
from inrcodec.metrics import psnr, rho_ag

KINDS = {  # kind -> (channels decoded, dtype, header mode)
    "grey": (1, np.uint8, "L"),
    "rgb": (3, np.uint8, "RGB"),
    "rgba": (4, np.uint8, "RGBA"),
    "palette": (3, np.uint8, "RGB"),
    "grey16": (1, np.uint16, "L"),
}


def measured(result, decoded: np.ndarray, source: np.ndarray, depth: int) -> tuple[float, float]:
    out, ref = pixels_to_unit(decoded, depth), pixels_to_unit(source, depth)
    return psnr(out, ref), rho_ag(out, ref, axes=(0, 1))


def write_image_array(kind: str) -> np.ndarray:
    """Pixels of a `kind` test image without touching the disk (uint8 (12, 16, C))."""
    return smooth_pixels(12, 16, {"grey": 1, "rgb": 3}[kind]).astype(np.uint8)


@pytest.mark.parametrize("kind", list(KINDS))
def test_round_trip_every_input_kind(tmp_path, kind):
    channels, dtype, mode = KINDS[kind]
    src = tmp_path / f"{kind}.png"
    px = write_image(src, kind)
    result = inrcodec.encode(src, tmp_path / "out.spdr", steps=TINY_STEPS)
    header = result.header
    assert header["signal"]["mode"] == mode and header["signal"]["channels"] == channels
    assert header["signal"]["bit_depth"] == (16 if kind == "grey16" else 8)
    out = inrcodec.decode(tmp_path / "out.spdr")
    assert out.shape == (12, 16, channels) and out.dtype == dtype
    db, rho = measured(result, out, px.reshape(12, 16, channels), header["signal"]["bit_depth"])
    assert result.psnr_db == pytest.approx(db, abs=1e-9)
    assert result.rho_ag == pytest.approx(rho, abs=1e-12)


@pytest.mark.parametrize("hw", [(1, 40), (40, 1), (1, 1), (7, 13), (13, 7), (3000, 2), (2, 3000)])
def test_round_trip_odd_sizes(tmp_path, hw):
    h, w = hw
    src = tmp_path / "odd.png"
    px = write_image(src, "grey", h, w)
    result = inrcodec.encode(src, steps=3)
    out = inrcodec.decode(result.data)
    assert out.shape == (h, w, 1)
    assert result.psnr_db == pytest.approx(measured(result, out, px, 8)[0], abs=1e-9)


@pytest.mark.parametrize("activation", ["spder", "siren", "relu", "relu-pe", "relu-ffn"])
def test_every_activation_survives_the_file(activation):
    px = write_image_array("rgb")
    result = inrcodec.encode(px, steps=4, activation=activation, width=16, depth=1)
    assert result.header["arch"]["activation"] == activation
    out = inrcodec.decode(result.data)
    assert out.shape == px.shape
    assert result.psnr_db == pytest.approx(measured(result, out, px, 8)[0], abs=1e-9)


@pytest.mark.parametrize("damping", ["sqrt", "log", "atan", "sqrt-relu"])
def test_every_damping_survives_the_file(damping):
    px = write_image_array("grey")
    result = inrcodec.encode(px, steps=3, damping=damping, width=8, depth=1)
    assert result.header["arch"]["damping"] == damping
    out = inrcodec.decode(result.data)
    assert out.shape == (12, 16, 1)
    assert result.psnr_db == pytest.approx(measured(result, out, px, 8)[0], abs=1e-9)
    # the decoder really uses the stored damping: the same weights under another damping decode differently
    header, tensors = container.unpack(result.data)
    other = container.pack({**header, "arch": {**header["arch"], "damping": "atan" if damping != "atan" else "sqrt"}}, tensors)
    assert np.abs(decode_samples(read_checked(other)) - decode_samples(read_checked(result.data))).max() > 1e-3


@pytest.mark.parametrize(
    ("scale", "size", "expected"),
    [(None, None, (12, 16)), (2.5, None, (30, 40)), (0.5, None, (6, 8)), (1.3, None, (16, 21)),
     (0.01, None, (1, 1)), (None, (5, 9), (5, 9)), (None, (40, 7), (40, 7))],
)
def test_output_shapes(encoded_grey, scale, size, expected):
    _, spdr, _ = encoded_grey
    header = container.peek(files.read_file(spdr))["header"]
    assert image_shape(header, scale, size) == expected
    out = inrcodec.decode(spdr, scale=scale, size=size)
    assert out.shape == (*expected, 1) and out.dtype == np.uint8


def test_explicit_native_size_equals_native_decode(encoded_grey):
    _, spdr, _ = encoded_grey
    np.testing.assert_array_equal(inrcodec.decode(spdr, size=(12, 16)), inrcodec.decode(spdr))


DECODE_CHILD = """
import hashlib, sys, torch
torch.set_num_threads(int(sys.argv[1]))
import inrcodec
for kwargs in ({"scale": 12.5}, {"scale": 4, "gradient": True}):
    out = inrcodec.decode(sys.argv[2], **kwargs)
    print(torch.get_num_threads(), out.dtype, out.shape, hashlib.sha256(out.tobytes()).hexdigest())
"""


def test_decode_is_deterministic_across_processes_and_thread_counts(encoded_grey):
    """Two fresh processes, 1 and 2 threads (torch and OpenMP), decode the same file: identical bytes, equal to ours."""
    _, spdr, _ = encoded_grey
    children = [subprocess.Popen([sys.executable, "-c", DECODE_CHILD, str(n), str(spdr)], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": str(n)})
                for n in (1, 2)]
    outputs = [child.communicate(timeout=300) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err
    one, two = (out.splitlines() for out, _ in outputs)
    assert [line.split()[0] for line in one + two] == ["1", "1", "2", "2"]
    assert [line.split(" ", 1)[1] for line in one] == [line.split(" ", 1)[1] for line in two]
    here = [inrcodec.decode(spdr, scale=12.5), inrcodec.decode(spdr, scale=4, gradient=True)]
    assert [line.split()[-1] for line in one] == [hashlib.sha256(a.tobytes()).hexdigest() for a in here]
    assert here[0].shape == (150, 200, 1) and here[1].dtype == np.float32


def test_encode_is_reproducible_and_seeded():
    px = write_image_array("grey")
    a = inrcodec.encode(px, steps=5, seed=3).data
    b = inrcodec.encode(px, steps=5, seed=3).data
    c = inrcodec.encode(px, steps=5, seed=4).data
    assert a == b and a != c


def test_sixteen_bit_source_decodes_to_sixteen_bit(encoded_grey16):
    _, spdr, px = encoded_grey16
    out = inrcodec.decode(spdr)
    assert out.dtype == np.uint16 and out.shape == (12, 16, 1)
    assert out.max() > 255  # really uses the 16-bit range, not 8-bit values widened


def test_float_samples_and_gradient(encoded_grey):
    _, spdr, _ = encoded_grey
    data = spdr.read_bytes()
    samples = decode_samples(read_checked(data), clip=False)
    assert samples.shape == (12, 16, 1) and samples.dtype == np.float32
    grad = inrcodec.decode(data, scale=2, gradient=True)
    assert grad.shape == (24, 32, 1) and np.isfinite(grad).all() and (grad >= 0).all() and grad.max() > 0


def test_absurd_output_size_needs_force():
    with pytest.raises(OutputTooLargeError):
        check_output_size("image", (100_000, 100_000), force=False)
    check_output_size("image", (100_000, 100_000), force=True)
    with pytest.raises(Exception, match="empty"):
        check_output_size("image", (0, 5), force=True)


def test_corrupt_file_is_a_format_error(encoded_grey):
    _, spdr, _ = encoded_grey
    data = bytearray(spdr.read_bytes())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(FormatError):
        inrcodec.decode(bytes(data))
    with pytest.raises(FormatError):
        inrcodec.decode(bytes(data[:-3]))


def test_time_limit_stops_a_long_encode(monkeypatch):
    """On a fake clock that moves 10 ms each time it is read (about once a step), a 1 s limit stops the fit and its
    quantization-aware tuning after about 100 steps of the 2000 asked for, and the report says so."""
    clock = {"now": 0.0}

    def tick():
        clock["now"] += 0.01
        return clock["now"]

    monkeypatch.setattr(time, "perf_counter", tick)  # pytest keeps its own reference to the real one
    result = inrcodec.encode(write_image_array("grey"), steps=2000, time_limit=1.0)
    assert 20 <= result.steps <= 200 and result.header["encoder"]["steps"] == result.steps
    assert result.seconds == pytest.approx(1.0, abs=0.1)
    assert inrcodec.decode(result.data).shape == (12, 16, 1)
    unlimited = inrcodec.encode(write_image_array("grey"), steps=150, time_limit=100.0)
    assert unlimited.steps >= 150  # a limit the fit never reaches changes nothing
