"""Video on the latent-grid engine (format 1.10: 1.6's (t, y, x) pyramid of latents, coded plane by plane under the file's
ARM, each plane in seven passes)."""

from __future__ import annotations

import numpy as np
import pytest
from test_video import moving_square, write_video

import inrcodec
from inrcodec.media import load
from inrcodec.metrics import psnr

FIT = {"arch": "grid", "steps": 60, "preset": "fast", "device": "cpu", "segment": 0}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """8 frames of a sliding square at 25 fps (lossless H.264), and the frames as spdr reads them."""
    path = tmp_path_factory.mktemp("vgrid") / "square.mp4"
    write_video(path, moving_square(8, 24, 32))
    return path, load(path).data


@pytest.fixture(scope="module")
def encoded(clip):
    return inrcodec.encode(clip[0], **FIT)


def test_arch_grid_on_video_writes_a_3d_pyramid_in_format_1_10(encoded):
    from inrcodec.rate.quality import ARM_PASSES

    assert encoded.data[9:11] == b"\x01\x0a"
    arch = encoded.header["arch"]
    assert arch["arm_passes"] == ARM_PASSES
    assert arch["in_features"] == 3 and arch["grid_frames"] == 8  # a sliding square: one plane a frame (rate/timestride.py)
    assert (arch["grid_height"], arch["grid_width"]) == (24, 32)
    assert encoded.header["quant"]["coding"] == "arm"
    assert encoded.header["coords"] == {"convention": "timestamp", "axes": ["t", "y", "x"], "scale": [1.0, 1.0, 1.0]}


def test_reported_psnr_is_what_the_decoder_writes(encoded, clip):
    frames = inrcodec.decode(encoded.data)
    assert frames.shape == (8, 24, 32, 3) and frames.dtype == np.uint8
    assert encoded.psnr_db == pytest.approx(psnr(clip[1], frames.astype(np.float64) / 127.5 - 1.0), abs=0.05)
    assert encoded.psnr_db > 22  # 60 steps on a sliding square; a broken time axis or coding gives far less
    assert len(encoded.frame_psnr_db) == 8


def test_twice_the_frame_rate_with_the_network_keeps_the_native_frames(encoded):
    native = inrcodec.decode(encoded.data)
    x2 = inrcodec.decode(encoded.data, fps=50, resample="network")
    assert x2.shape == (16, 24, 32, 3)
    np.testing.assert_array_equal(x2[::2], native)


def test_lower_quality_gives_a_smaller_file(clip):
    small = inrcodec.encode(clip[0], quality=5, **FIT)
    large = inrcodec.encode(clip[0], quality=90, **FIT)
    assert small.bytes < large.bytes and small.psnr_db < large.psnr_db


def test_segments_on_the_grid_are_1_6_files_under_one_table(clip):
    seg = inrcodec.encode(clip[0], **{**FIT, "segment": 0.16})  # 4 frames a segment
    assert seg.data[9:11] == b"\x01\x04" and [n for n, _ in seg.header["segments"]] == [4, 4]
    frames = inrcodec.decode(seg.data)
    assert frames.shape == (8, 24, 32, 3)
    later = inrcodec.decode(seg.data, fps=25)  # the table's frame rate: the same frames
    np.testing.assert_array_equal(later, frames)


def test_a_grid_segment_is_cut_to_bounded_pixels(monkeypatch, clip):
    """Long clips on the grid are cut so that a segment holds at most GRID_VIDEO_VALUES pixels."""
    from inrcodec.rate import quality

    monkeypatch.setattr(quality, "GRID_VIDEO_VALUES", 3 * 24 * 32)
    seg = inrcodec.encode(clip[0], **{**FIT, "steps": 5, "arch": "auto", "segment": 4.0})
    assert [n for n, _ in seg.header["segments"]] == [3, 3, 2]


def test_a_time_too_short_for_the_grid_fits_the_plain_network_and_says_so(clip):
    short = inrcodec.encode(clip[0], time_limit=1e-3, preset="fast", device="cpu", segment=0)
    assert "grid_levels" not in short.header["arch"]
    assert any("too short for the latent-grid video engine" in n for n in short.notices)
