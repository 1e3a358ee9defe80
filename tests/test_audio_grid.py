"""Audio on the latent-grid engine (format 1.5; 1.9 with its entropy model's seven passes a level): one row of latents on
the time axis, coded under the file's ARM."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

import inrcodec
from inrcodec.errors import SpdrError
from inrcodec.metrics import snr

RATE = 8000
FIT = {"steps": 80, "preset": "fast", "device": "cpu", "segment": 0}


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    """0.6 s of stereo 8 kHz audio: a chord under an envelope, the channels related but not equal."""
    t = np.arange(int(0.6 * RATE)) / RATE
    left = 0.5 * np.sin(2 * np.pi * 330 * t) * np.exp(-2 * t) + 0.2 * np.sin(2 * np.pi * 1250 * t)
    data = np.stack([left, 0.6 * left + 0.1 * np.sin(2 * np.pi * 600 * t)], axis=1).astype(np.float32)
    path = tmp_path_factory.mktemp("agrid") / "tone.wav"
    sf.write(path, data, RATE, subtype="PCM_16")
    return path, sf.read(path, dtype="float32", always_2d=True)[0]


@pytest.fixture(scope="module")
def encoded(tone):
    return inrcodec.encode(tone[0], **FIT)


def test_default_audio_encode_is_a_one_row_latent_grid_in_seven_passes_format_1_9(encoded, tone):
    _, source = tone
    assert encoded.data[9:11] == b"\x01\x09"
    arch, coords = encoded.header["arch"], encoded.header["coords"]
    assert arch["arm_passes"] == 7
    assert arch["in_features"] == 1 and arch["grid_height"] == 1 and arch["grid_width"] == source.shape[0]
    assert encoded.header["quant"]["coding"] == "arm" and "grid_stencil" not in arch
    assert coords == {"convention": "timestamp", "axes": ["t"], "scale": [1.0]}
    assert encoded.header["values"]["scale"] == [pytest.approx(float(np.abs(source).max()))] * 2


def test_reported_snr_is_what_the_decoder_writes(encoded, tone):
    _, source = tone
    out = inrcodec.decode(encoded.data)
    assert out.shape == source.shape and out.dtype == np.float32
    assert encoded.snr_db == pytest.approx(snr(source, out), abs=1e-6)
    assert encoded.snr_db > 10  # 80 steps on a short chord; a broken sampling or coding gives about 0
    # the float fit and the file agree: the float PSNR is on the original level, not the peak-normalised one
    assert abs(encoded.float_psnr_db - encoded.psnr_db) < 3


def test_twice_the_rate_with_the_network_keeps_the_native_samples(encoded):
    native = inrcodec.decode(encoded.data)
    x2, rate = inrcodec.decode_audio(encoded.data, rate=2 * RATE, resample="network")
    assert rate == 2 * RATE and x2.shape[0] == 2 * native.shape[0]
    np.testing.assert_allclose(x2[::2], native, atol=1e-5)


def test_the_checkerboard_option_still_writes_format_1_5(tone, monkeypatch):
    """RateOptions(arm_passes=2) keeps format 1.5's two passes a level: the same fit, another order, another file."""
    from inrcodec.rate import quality
    from inrcodec.rate.plan import RateOptions

    monkeypatch.setattr(quality, "AUDIO_OPTIONS", RateOptions(arm_passes=2))
    two = inrcodec.encode(tone[0], **FIT)
    assert two.data[9:11] == b"\x01\x05" and "arm_passes" not in two.header["arch"]
    assert two.snr_db == pytest.approx(snr(tone[1], inrcodec.decode(two.data)), abs=1e-6)


def test_lower_quality_gives_a_smaller_file(tone):
    small = inrcodec.encode(tone[0], quality=10, **FIT)
    large = inrcodec.encode(tone[0], quality=90, **FIT)
    assert small.bytes < large.bytes and small.snr_db < large.snr_db


def test_arch_mlp_keeps_the_plain_network(tone):
    plain = inrcodec.encode(tone[0], arch="mlp", steps=5, preset="fast", device="cpu", segment=0)
    assert "grid_levels" not in plain.header["arch"] and plain.data[10] == 2


def test_a_row_longer_than_the_format_allows_is_refused_with_a_hint(monkeypatch, tone):
    from inrcodec.rate import quality

    monkeypatch.setattr(quality, "MAX_DIM", 1000)
    with pytest.raises(SpdrError, match="encode in segments"):
        inrcodec.encode(tone[0], **FIT)


def test_a_time_too_short_for_the_grid_fits_the_plain_network_and_says_so(tone):
    from inrcodec.rate.quality import grid_fits_in

    samples = tone[1].shape[0]
    assert grid_fits_in(samples, None) and not grid_fits_in(samples, 1e-4) and grid_fits_in(samples, 10.0)
    short = inrcodec.encode(tone[0], time_limit=1e-4, preset="fast", device="cpu", segment=0)
    assert "grid_levels" not in short.header["arch"]
    assert any("too short for the latent-grid audio engine" in n for n in short.notices)
    assert any(n.startswith("--time 0.0001: ") for n in short.notices)  # the bound as asked, not what was left of it
    roomy = inrcodec.encode(tone[0], time_limit=30.0, steps=5, preset="fast", device="cpu", segment=0)
    assert "grid_levels" in roomy.header["arch"] and not any("too short" in n for n in roomy.notices)


def test_segment_weight_is_the_squared_ratio_of_the_clip_peak_to_the_segment_peak():
    from inrcodec.rate.quality import segment_weight

    assert segment_weight(0.06, 0.72) == pytest.approx(144.0)
    assert segment_weight(0.5, None) == 1.0 and segment_weight(0.5, 0.0) == 1.0
    assert segment_weight(0.8, 0.5) == 1.0  # never below 1: a segment is never louder than its clip
    assert segment_weight(0.0, 0.5) == 1.0


def test_audio_source_peak_reads_the_range_in_blocks(tone):
    from inrcodec.media.audio import open_audio

    path, source = tone
    assert open_audio(path).peak(block=7) == pytest.approx(float(np.abs(source).max()))
    late = open_audio(path, start=0.3)
    assert late.peak(block=1000) == pytest.approx(float(np.abs(source[int(0.3 * RATE):]).max()))


def test_a_quiet_segment_of_a_loud_clip_spends_fewer_bits(tmp_path):
    """A clip whose second half is 10x quieter, cut into two segments: with the clip's peak as reference, the quiet
    segment trades bits against the clip's error (rate weight x100) and its file is smaller than when it is coded at
    its own level; the loud segment, at the clip's peak, is the same either way."""
    t = np.arange(int(0.5 * RATE)) / RATE
    tone = (0.6 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1500 * t)).astype(np.float32)
    data = np.concatenate([tone, 0.1 * tone])[:, None]
    path = tmp_path / "fade.wav"
    sf.write(path, data, RATE, subtype="PCM_16")
    fit = {**FIT, "segment": 0.5, "quality": 50, "steps": 40}
    whole = inrcodec.encode(path, **fit)
    parts = [len(p) for p in _segment_files(whole.data)]
    own = [inrcodec.encode(path, start=s, duration=0.5, **{**fit, "segment": 0}) for s in (0.0, 0.5)]
    assert len(parts) == 2
    assert parts[0] == len(own[0].data)
    assert parts[1] < 0.8 * len(own[1].data)


def _segment_files(data: bytes) -> list[bytes]:
    from inrcodec.format.container import unpack_segmented

    return unpack_segmented(data)[1]
