"""The video grid's time stride, chosen per segment from how well blending predicts its frames (rate/timestride.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_video import moving_square, write_video

import inrcodec
from inrcodec.rate.timestride import BLEND_STRIDE_DB, STATIC_STRIDE, blend_psnr, time_stride


def as_signal_values(pixels: np.ndarray) -> np.ndarray:
    return pixels.astype(np.float32) / 127.5 - 1.0


def test_blend_psnr_of_a_linear_fade_is_infinite_and_of_a_flicker_is_known():
    ramp = (np.arange(6, dtype=np.float32) * 0.125 - 0.25)[:, None, None, None] * np.ones((6, 4, 5, 3), np.float32)
    assert blend_psnr(ramp) == math.inf  # each frame is exactly the mean of its neighbours
    flicker = np.zeros((5, 4, 5, 3), np.float32)
    flicker[2] = 0.2  # the middle frame off its neighbours' mean by 0.2, its neighbours off by 0.1: MSE (0.04 + 2 * 0.01) / 3
    assert blend_psnr(flicker) == pytest.approx(10 * math.log10(4 / (0.06 / 3)))


def test_too_few_frames_to_measure_get_one_plane_each():
    assert math.isnan(blend_psnr(np.zeros((2, 3, 3, 3), np.float32)))
    assert time_stride(np.zeros((2, 3, 3, 3), np.float32)) == 1


def test_motion_gets_one_plane_a_frame_and_a_still_scene_shares_planes():
    moving = as_signal_values(moving_square(8, 24, 32))
    assert blend_psnr(moving) < BLEND_STRIDE_DB and time_stride(moving) == 1
    still = as_signal_values(np.repeat(moving_square(1, 24, 32), 8, axis=0))
    noise = np.random.default_rng(0).normal(0, 0.01, still.shape).astype(np.float32)  # sensor noise: ~46 dB blend
    assert blend_psnr(still + noise) > BLEND_STRIDE_DB and time_stride(still + noise) == STATIC_STRIDE


@pytest.mark.parametrize(("pixels", "planes"), [(moving_square(8, 24, 32), 8),
                                                 (np.repeat(moving_square(1, 24, 32), 8, axis=0), 8 // STATIC_STRIDE)])
def test_the_encoder_writes_the_chosen_planes_and_decodes_every_frame(tmp_path, pixels, planes):
    path = tmp_path / "clip.mp4"
    write_video(path, pixels)
    r = inrcodec.encode(path, arch="grid", steps=5, preset="fast", device="cpu", segment=0)
    assert r.header["arch"]["grid_frames"] == planes
    assert inrcodec.decode(r.data).shape == (8, 24, 32, 3)
