"""Real clips from ../shared/media (skipped when absent): loading, short encodes, --rate and --fps counts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import inrcodec
from inrcodec.media import load
from inrcodec.media.sniff import sniff

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
pytestmark = pytest.mark.skipif(not MEDIA.is_dir(), reason=f"real clips not found at {MEDIA} (a fresh clone has no ../shared/media)")
NET = {"width": 16, "depth": 1, "steps": 4}


def test_real_audio_loads_with_its_format():
    speech = load(MEDIA / "audio" / "speech_voice.wav")
    assert speech.meta == {"samples": speech.data.shape[0], "channels": 1, "sample_rate": 44100, "subtype": "PCM_16"}
    assert 1.40 < speech.data.shape[0] / 44100 < 1.42
    amen = load(MEDIA / "audio" / "loop_amen_full.flac", start=1.0, duration=0.05)
    assert amen.data.shape == (2205, 2) and sniff(MEDIA / "audio" / "loop_amen_full.flac") == "audio"


def test_real_audio_short_encode_and_resample(tmp_path):
    spdr = tmp_path / "speech.spdr"
    result = inrcodec.encode(MEDIA / "audio" / "speech_voice.wav", spdr, duration=0.1, **NET)
    assert result.header["signal"]["samples"] == 4410 and np.isfinite(result.snr_db)
    assert inrcodec.decode(spdr, rate=8000).shape == (800, 1)
    assert inrcodec.decode(spdr, rate=48000).shape == (4800, 1)


def test_real_video_rates_and_ranges():
    carphone = load(MEDIA / "video" / "carphone_pristine.mp4", frames=3)
    assert carphone.meta["fps"] == [30000, 1001] and carphone.data.shape == (3, 144, 176, 3)
    bikes = load(MEDIA / "video" / "bikes.mp4", start=2.0, frames=2)
    assert bikes.meta["fps"] == [25, 1] and bikes.data.shape == (2, 272, 640, 3)
    first = load(MEDIA / "video" / "bikes.mp4", frames=52)
    np.testing.assert_array_equal(bikes.data, first.data[50:52])


def test_real_video_short_encode_and_fps(tmp_path):
    spdr = tmp_path / "carphone.spdr"
    result = inrcodec.encode(MEDIA / "video" / "carphone_pristine.mp4", spdr, frames=3, **NET)
    assert len(result.frame_psnr_db) == 3 and np.isfinite(result.psnr_db)
    assert inrcodec.decode(spdr, fps=60, scale=0.25).shape == (6, 36, 44, 3)  # round(3 * 60 / 29.97) = 6
