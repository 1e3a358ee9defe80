"""Any-resolution decoding: audio sample k and video frame k sit at their timestamps (format 1.2), so a
decode at m times the rate reproduces every original sample or frame at index m k; images keep pixel centres;
files written with the older pixel-centre time axis decode as they were written."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

import inrcodec
from inrcodec.codec.runtime import load_model, placements
from inrcodec.format import container
from inrcodec.format.limits import read_checked
from inrcodec.media.audio import array_to_audio
from inrcodec.media.video import frames_to_signal
from inrcodec.nn.coords import CENTRE, TIMESTAMP, axis_positions, grid_coords

NET = {"width": 12, "depth": 1}


def tone_signal(n: int = 301, rate: int = 8000):
    t = np.arange(n) / rate
    x = 0.5 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1250 * t)
    return array_to_audio(x.astype(np.float32)[:, None], rate)


def moving_square(frames: int = 5, h: int = 12, w: int = 16) -> np.ndarray:
    out = np.full((frames, h, w, 3), 40, np.uint8)
    for k in range(frames):
        out[k, 3:8, 2 + 2 * k:7 + 2 * k] = (230, 120, 30)
    return out


@pytest.fixture(scope="module")
def audio_file():
    return inrcodec.encode(tone_signal(), steps=30, **NET).data


@pytest.fixture(scope="module")
def video_file():
    return inrcodec.encode(frames_to_signal(moving_square(), Fraction(25)), steps=30, **NET).data


def test_timestamp_positions_are_exact_at_integer_multiples():
    for n in (1, 3, 7, 301, 4410):
        native = axis_positions(n, 100.0, torch.float64, TIMESTAMP)
        assert native[0] == -100.0
        for m in (2, 3, 6):
            assert torch.equal(axis_positions(m * n, 100.0, torch.float64, TIMESTAMP)[::m], native), (n, m)
    centre = axis_positions(4, 1.0, torch.float64, CENTRE)
    assert centre.tolist() == [-0.75, -0.25, 0.25, 0.75]  # images: pixel centres, as image resamplers
    assert not torch.equal(axis_positions(8, 1.0, torch.float64, CENTRE)[::2], centre)


def test_new_audio_and_video_files_are_format_1_2_with_timestamps(audio_file, video_file):
    for data in (audio_file, video_file):
        peek = container.peek(data)
        assert peek["version"] == "1.2" and peek["header"]["coords"]["convention"] == "timestamp"
    assert placements(container.peek(video_file)["header"]) == [TIMESTAMP, CENTRE, CENTRE]
    image = inrcodec.encode(np.zeros((4, 5), np.uint8), steps=1, width=8, depth=0).data
    assert container.peek(image)["version"] == "1.0" and container.peek(image)["header"]["coords"]["convention"] == "pixel-centre"


@pytest.mark.parametrize("m", [2, 3])
def test_audio_at_m_times_the_rate_reproduces_every_original_sample(audio_file, m):
    native = inrcodec.decode(audio_file)
    up, rate = inrcodec.decode_audio(audio_file, rate=8000 * m)
    assert rate == 8000 * m and up.shape == (m * native.shape[0], 1)
    np.testing.assert_array_equal(up[::m], native)


@pytest.mark.parametrize("fps", [50, 75])
def test_video_at_m_times_the_frame_rate_reproduces_every_original_frame(video_file, fps):
    native = inrcodec.decode(video_file)
    up = inrcodec.decode(video_file, fps=fps)
    m = fps // 25
    assert up.shape == (m * native.shape[0], *native.shape[1:])
    np.testing.assert_array_equal(up[::m], native)


def test_timestamp_needs_format_1_2_and_a_time_axis(audio_file):
    header, tensors = container.unpack(audio_file)
    data = bytearray(audio_file)
    data[10] = 0  # minor version 0: a 1.0 file may not use timestamps
    import zlib

    data[-4:] = zlib.crc32(bytes(data[:-4])).to_bytes(4, "little")
    with pytest.raises(inrcodec.FormatError, match="'timestamp' needs format 1.2"):
        inrcodec.decode(bytes(data))
    image_header = {**header, "modality": "image", "signal": {"height": 2, "width": 2, "channels": 1, "mode": "L", "bit_depth": 8},
                    "coords": {"convention": "timestamp", "axes": ["y", "x"], "scale": [1.0, 1.0]}}
    with pytest.raises(inrcodec.FormatError, match="image has none"):
        container.pack(image_header, tensors)


def test_old_pixel_centre_audio_files_decode_as_written(audio_file):
    """A 1.0 file (time axis at pixel centres) renders the network at the centres, as it was fitted."""
    header, tensors = container.unpack(audio_file)
    old = {**header, "coords": {**header["coords"], "convention": "pixel-centre"}}
    data = container.pack(old, tensors)
    assert container.peek(data)["version"] == "1.0"
    model = load_model(*container.unpack(data))
    n = header["signal"]["samples"]
    with torch.no_grad():
        expected = np.clip(model(grid_coords((n,), header["coords"]["scale"])).numpy(), -1, 1) * header["values"]["scale"][0]
    np.testing.assert_array_equal(inrcodec.decode(data), expected.astype(np.float32))
    up = inrcodec.decode_audio(data, rate=16000)[0]
    assert not np.array_equal(up[::2], inrcodec.decode(data))  # centres: 2x puts no sample on an original instant
    assert read_checked(data).version == "1.0" and math.isfinite(float(up.sum()))
