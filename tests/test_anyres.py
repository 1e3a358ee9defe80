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


@pytest.mark.parametrize("resample", ["network", "classic"])
@pytest.mark.parametrize("m", [2, 3])
def test_audio_at_m_times_the_rate_reproduces_every_original_sample(audio_file, m, resample):
    native = inrcodec.decode(audio_file)
    up, rate = inrcodec.decode_audio(audio_file, rate=8000 * m, resample=resample)
    assert rate == 8000 * m and up.shape == (m * native.shape[0], 1)
    np.testing.assert_array_equal(up[::m], native)


@pytest.mark.parametrize("resample", ["network", "classic"])
@pytest.mark.parametrize("fps", [50, 75])
def test_video_at_m_times_the_frame_rate_reproduces_every_original_frame(video_file, fps, resample):
    native = inrcodec.decode(video_file)
    up = inrcodec.decode(video_file, fps=fps, resample=resample)
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
    up = inrcodec.decode_audio(data, rate=16000, resample="network")[0]
    assert not np.array_equal(up[::2], inrcodec.decode(data))  # centres: 2x puts no sample on an original instant
    assert read_checked(data).version == "1.0" and math.isfinite(float(up.sum()))


def test_classic_image_rendering_is_lanczos_of_the_decoded_pixels():
    from PIL import Image

    px = (np.add.outer(np.arange(10), np.arange(14)) * 9 % 256).astype(np.uint8)
    data = inrcodec.encode(px, steps=20, width=12, depth=1).data
    native = inrcodec.decode(data)
    lanczos = np.asarray(Image.fromarray(native[..., 0], mode="L").resize((28, 20), Image.Resampling.LANCZOS))
    np.testing.assert_array_equal(inrcodec.decode(data, scale=2)[..., 0], lanczos)  # auto: classic off the native grid
    np.testing.assert_array_equal(inrcodec.decode(data, scale=2, resample="classic")[..., 0], lanczos)
    network = inrcodec.decode(data, scale=2, resample="network")
    assert network.shape == (20, 28, 1) and not np.array_equal(network[..., 0], lanczos)
    np.testing.assert_array_equal(inrcodec.decode(data, resample="network"), native)  # on the native grid both agree
    with pytest.raises(inrcodec.SpdrError, match="resample must be one of"):
        inrcodec.decode(data, scale=2, resample="bicubic")


def test_classic_video_blends_the_decoded_neighbours_at_each_timestamp(video_file):
    native = inrcodec.decode(video_file).astype(np.float64)
    up = inrcodec.decode(video_file, fps=50).astype(np.float64)
    blend = np.rint((native[:-1] + native[1:]) / 2)
    assert np.abs(up[1:-1:2] - blend).max() <= 1  # the mean of two decoded frames, rounded once
    np.testing.assert_array_equal(up[-1], native[-1])  # past the last frame: the last frame held


def smooth_motion(frames: int, h: int = 16, w: int = 20, step: float = 1.0) -> np.ndarray:
    """A soft bright disc moving right by `step` pixels per frame on a dark gradient, uint8 (t, h, w, 3)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    out = np.empty((frames, h, w, 3), np.uint8)
    for k in range(frames):
        cx = 4 + step * k
        disc = np.exp(-((xx - cx) ** 2 + (yy - h / 2) ** 2) / 8.0)
        out[k] = np.rint(np.clip(40 + 3 * yy[..., None] + 180 * disc[..., None] * np.array([1.0, 0.7, 0.4]), 0, 255))
    return out


def test_in_between_frames_of_a_smooth_motion_are_closer_to_the_truth_than_noise():
    """Fit frames 0, 2, 4, ... of a smooth motion; the default 2x decode's in-between frames are scored
    against the true odd frames, beside the noise level of random frames with the same statistics."""
    truth = smooth_motion(9)
    data = inrcodec.encode(frames_to_signal(truth[0::2], Fraction(25)), steps=60, width=24, depth=1).data
    up = inrcodec.decode(data, fps=50).astype(np.float64)
    held = truth[1::2].astype(np.float64)
    got = up[1:-1:2]
    assert got.shape == held.shape

    def psnr(a, b):
        return 10 * math.log10(255.0 ** 2 / np.mean((a - b) ** 2))

    noise = np.random.default_rng(0).normal(held.mean(), held.std(), held.shape).clip(0, 255)
    fitted = psnr(up[0::2], truth[0::2].astype(np.float64))  # how well the stored frames themselves come back
    between = psnr(got, held)
    assert between > psnr(noise, held) + 6 and between > fitted - 3, (between, fitted, psnr(noise, held))


def test_cli_says_when_a_decode_is_not_the_network_alone(tmp_path, audio_file):
    import json

    from click.testing import CliRunner

    from inrcodec.cli import main

    src = tmp_path / "a.spdr"
    src.write_bytes(audio_file)
    runner = CliRunner()
    r = runner.invoke(main, ["decode", str(src), "--rate", "16000", "-o", str(tmp_path / "a.wav"), "--json"])
    assert r.exit_code == 0, r.stderr
    facts = json.loads(r.stdout)
    assert facts["notices"] == [line[len("note: "):] for line in r.stderr.splitlines() if line.startswith("note: ")]
    assert len(facts["notices"]) == 1 and "libswresample" in facts["notices"][0] and "--resample network" in facts["notices"][0]
    r = runner.invoke(main, ["decode", str(src), "--rate", "16000", "--resample", "network", "-o", str(tmp_path / "b.wav"), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["notices"] == [] and "note:" not in r.stderr
    r = runner.invoke(main, ["decode", str(src), "-o", str(tmp_path / "c.wav"), "--json"])  # native rate: nothing to say
    assert r.exit_code == 0 and json.loads(r.stdout)["notices"] == []
