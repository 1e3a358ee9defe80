"""Segmented audio (format 1.4): long audio is read, fitted and packed a segment at a time, and decodes whole or in part."""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import inrcodec
from inrcodec.api import finishing_reserve
from inrcodec.cli import main
from inrcodec.codec import segments
from inrcodec.format.limits import read_checked
from inrcodec.metrics import psnr, snr

RATE = 8000
STEPS = {"steps": 6, "preset": "fast", "device": "cpu"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """2.5 s of stereo 8 kHz audio (two tones under an envelope), PCM_16."""
    t = np.arange(int(2.5 * RATE)) / RATE
    x = 0.4 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t))
    data = np.stack([x, 0.5 * x + 0.2 * np.sin(2 * np.pi * 330 * t)], axis=1).astype(np.float32)
    path = tmp_path_factory.mktemp("seg") / "clip.wav"
    sf.write(path, data, RATE, subtype="PCM_16")
    return path, sf.read(path, dtype="float32", always_2d=True)[0]


@pytest.fixture(scope="module")
def encoded(clip):
    path, _ = clip
    return inrcodec.encode(path, segment=1.0, **STEPS)


@pytest.mark.parametrize(("samples", "seconds", "count"), [(20000, 1.0, 3), (8000, 1.0, 1), (8001, 1.0, 2), (1, 4.0, 1),
                                                           (441000 * 60, 4.0, 150)])
def test_segment_lengths_are_few_equal_and_cover_the_clip(samples, seconds, count):
    lengths = segments.segment_lengths(samples, RATE if samples < 10**6 else 44100, seconds)
    assert len(lengths) == count and sum(lengths) == samples
    assert max(lengths) - min(lengths) <= 1
    assert max(lengths) <= max(1, round(seconds * (RATE if samples < 10**6 else 44100)))


def test_a_long_clip_becomes_a_segmented_file_that_decodes_to_its_length(encoded, clip):
    _, source = clip
    assert encoded.data[9:11] == b"\x01\x04"
    assert [n for n, _ in encoded.header["segments"]] == [6667, 6667, 6666]
    checked = read_checked(encoded.data)
    # the default audio engine: each segment a latent grid on the time axis, coded in seven passes a level (format 1.9)
    assert checked.starts == (0, 6667, 13334) and all(s.version == "1.9" for s in checked.segments)
    out = inrcodec.decode(encoded.data)
    assert out.shape == source.shape and out.dtype == np.float32
    # the reported metrics are the whole clip's, combined from the segments: equal to measuring the decode
    assert encoded.psnr_db == pytest.approx(psnr(out, source), abs=1e-6)
    assert encoded.snr_db == pytest.approx(snr(source, out), abs=1e-6)
    assert math.isnan(encoded.rho_ag)  # a whole-spectrum measure: not combined from segments
    assert encoded.params == sum(inrcodec.info(s)["params"] for s in _parts(encoded.data))


def _parts(data: bytes) -> list[bytes]:
    from inrcodec.format.container import unpack_segmented

    return unpack_segmented(data)[1]


def test_each_segment_is_its_own_fit_of_its_own_samples(encoded, clip):
    _, source = clip
    for part, start in zip(_parts(encoded.data), read_checked(encoded.data).starts, strict=True):
        alone = inrcodec.decode(part)
        np.testing.assert_array_equal(alone, inrcodec.decode(encoded.data)[start:start + alone.shape[0]])
        assert psnr(alone, source[start:start + alone.shape[0]]) > 10


def test_segment_zero_and_short_clips_stay_one_network(clip, tmp_path):
    path, source = clip
    one = inrcodec.encode(path, segment=0, **STEPS)
    assert "segments" not in one.header and one.data[10] == 9  # one audio grid, seven passes a level (format 1.9)
    short = tmp_path / "short.wav"
    sf.write(short, source[:RATE], RATE, subtype="PCM_16")
    assert "segments" not in inrcodec.encode(short, **STEPS).header  # 1 s under the default 4 s segments


def test_the_encoder_reads_one_segment_at_a_time(clip, monkeypatch):
    from inrcodec.media import audio
    from inrcodec.media.audio import AudioSource

    reads = []
    original = AudioSource.read
    monkeypatch.setattr(AudioSource, "read", lambda self, first, count: reads.append(count) or original(self, first, count))
    monkeypatch.setattr(audio, "PEAK_BLOCK", 3000)  # the clip's peak (the grid engine's rate weights) is read in blocks too
    inrcodec.encode(clip[0], segment=0.5, **STEPS)
    assert reads == [3000] * 6 + [2000] + [4000] * 5  # never the whole 20000-sample clip


def test_time_is_shared_out_over_the_segments_that_remain(clip, monkeypatch):
    budgets, now = [], [0.0]
    real = segments.encode_signal

    def spy(signal, config, progress=None):  # each segment takes 5 s of the fake clock
        budgets.append(config.time_limit)
        now[0] += 5.0
        return real(signal, config, progress)

    monkeypatch.setattr(segments, "encode_signal", spy)
    monkeypatch.setattr(segments, "_clock", lambda: now[0])
    monkeypatch.setattr("inrcodec.api._clock", lambda: now[0])
    result = inrcodec.encode(clip[0], segment=1.0, time_limit=30.0, arch="mlp", **STEPS)  # the plain network's segments
    t = 30 - finishing_reserve(30)  # what encode() leaves the segments: the rest finishes the file and the program
    assert budgets == [pytest.approx(t / 3), pytest.approx((t - 5) / 2), pytest.approx(t - 10)]
    assert result.seconds == pytest.approx(15.0)


def test_decoding_a_range_renders_only_the_segments_it_overlaps(encoded, clip, monkeypatch):
    from inrcodec.codec import audio

    full = inrcodec.decode(encoded.data)
    built = []
    real = audio.load_model
    monkeypatch.setattr(audio, "load_model", lambda header, tensors: built.append(header["signal"]["samples"]) or real(header, tensors))
    part, rate = inrcodec.decode_audio(encoded.data, start=0.5, duration=0.5)
    assert rate == RATE and built == [6667, 6667]  # 0.5-1.0 s: the first two segments (boundary at 0.833 s), not the third
    np.testing.assert_array_equal(part, full[4000:8000])
    up, up_rate = inrcodec.decode_audio(encoded.data, rate=16000, start=0.5, duration=0.5)
    assert up_rate == 16000 and up.shape == (8000, 2)


def test_network_resampling_of_a_segmented_file_is_refused_plainly(encoded):
    with pytest.raises(inrcodec.errors.SpdrError, match="--resample classic"):
        inrcodec.decode_audio(encoded.data, rate=16000, resample="network")


def test_cli_announces_the_segments_and_info_and_verify_describe_them(clip, tmp_path):
    out = tmp_path / "clip.spdr"
    runner = CliRunner()
    result = runner.invoke(main, ["encode", str(clip[0]), "-o", str(out), "--segment", "1", "--steps", "6", "--preset", "fast", "-q"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == "3 segments of about 0.83 s, fitted one after another"
    assert any(line.startswith("  3 segments, networks of") for line in lines)
    info = runner.invoke(main, ["info", str(out)])
    assert info.exit_code == 0 and "segments: 3, 6666..6667 samples each" in info.stdout and "spdr 1.4" in info.stdout
    verify = runner.invoke(main, ["verify", str(out)])
    assert verify.exit_code == 0 and "(first of 3 segments)" in verify.stdout
    wav = tmp_path / "part.wav"
    dec = runner.invoke(main, ["decode", str(out), "--start", "1", "--duration", "0.25", "-o", str(wav)])
    assert dec.exit_code == 0, dec.output
    assert sf.info(wav).frames == 2000
    bad = runner.invoke(main, ["decode", str(out), "--start", "3", "-o", str(tmp_path / "x.wav")])
    assert bad.exit_code == 1 and bad.stderr.strip().splitlines() == ["Error: --start 3 s is at or past the end of the audio (2.500 s)"]


# --- video: a segment is a group of frames -------------------------------------------------------------------

@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """3 s of 32x24 video at 10 fps (moving colour waves), H.264 at crf 10."""
    from fractions import Fraction

    from inrcodec.media.video import load_video, save_video

    y, x = np.mgrid[0:24, 0:32]
    frames = [np.clip(128 + 100 * np.sin(0.3 * t + y / 5 + x / 7)[..., None] * np.array([1.0, 0.7, 0.4]), 0, 255).astype(np.uint8)
              for t in range(30)]
    path = tmp_path_factory.mktemp("vseg") / "clip.mp4"
    save_video(path, frames, Fraction(10), crf=10, force=True)
    return path, load_video(path)


@pytest.fixture(scope="module")
def encoded_video(video):
    return inrcodec.encode(video[0], segment=1.0, steps=10, preset="fast", device="cpu")


def test_a_long_video_becomes_segments_of_frames_read_one_segment_at_a_time(video, encoded_video, monkeypatch):
    from inrcodec.media.video import VideoSource

    path, source = video
    assert [n for n, _ in encoded_video.header["segments"]] == [10, 10, 10]
    frames = inrcodec.decode(encoded_video.data)
    assert frames.shape == (30, 24, 32, 3)
    ref = np.clip(np.round((source.data + 1) * 127.5), 0, 255)
    assert encoded_video.psnr_db == pytest.approx(psnr(frames / 127.5 - 1, ref / 127.5 - 1), abs=1e-4)
    assert len(encoded_video.frame_psnr_db) == 30 and encoded_video.snr_db is None
    sizes = []
    real = VideoSource.chunks
    monkeypatch.setattr(VideoSource, "chunks", lambda self, n: sizes.append(n) or real(self, n))
    inrcodec.encode(path, segment=1.0, steps=2, preset="fast", device="cpu")
    assert sizes == [10]  # decoded ten frames at a time, never the whole clip


def test_segmented_video_keeps_its_frames_at_a_new_frame_rate_and_size(encoded_video):
    native = inrcodec.decode(encoded_video.data)
    double = inrcodec.decode(encoded_video.data, fps=20)
    assert double.shape == (60, 24, 32, 3)
    np.testing.assert_array_equal(double[::2], native)  # every original instant reproduced, across segment boundaries too
    assert inrcodec.decode(encoded_video.data, scale=2).shape == (30, 48, 64, 3)
    assert inrcodec.decode(encoded_video.data, scale=2, resample="network").shape == (30, 48, 64, 3)
    with pytest.raises(inrcodec.errors.SpdrError, match="--resample classic"):
        inrcodec.decode(encoded_video.data, fps=20, resample="network")


def test_json_report_of_a_segmented_encode_is_valid_json(clip, tmp_path):
    import json

    out = tmp_path / "j.spdr"
    result = CliRunner().invoke(main, ["encode", str(clip[0]), "-o", str(out), "--segment", "1", "--steps", "3", "--preset", "fast",
                                       "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in the JSON report"))
    assert report["rho_ag"] is None and report["snr_db"] == pytest.approx(report["snr_db"]) and report["samples"] == 20000


def test_what_segments_cost_beyond_their_budget_is_taken_out_of_the_later_ones(clip, monkeypatch):
    """Each segment overruns its budget by 2 s (reading, measuring): the later budgets shrink so the run ends on time."""
    budgets, now = [], [0.0]
    real = segments.encode_signal

    def spy(signal, config, progress=None):
        budgets.append(config.time_limit)
        now[0] += config.time_limit + 2.0
        return real(signal, config, progress)

    monkeypatch.setattr(segments, "encode_signal", spy)
    monkeypatch.setattr(segments, "_clock", lambda: now[0])
    monkeypatch.setattr("inrcodec.api._clock", lambda: now[0])
    result = inrcodec.encode(clip[0], segment=1.0, time_limit=30.0, arch="mlp", **STEPS)
    t = 30 - finishing_reserve(30)
    assert budgets == [pytest.approx(t / 3), pytest.approx(t / 3 - 3), pytest.approx(t / 3 - 3)]
    assert result.seconds == pytest.approx(t)


def test_time_spent_opening_the_input_is_inside_the_bound(clip, monkeypatch):
    """encode(time_limit=T) counts from its call: the segments share what is left after the input is opened."""
    import inrcodec.api as api

    budgets, now = [], [0.0]
    real_open, real_fit = api._source_signal, segments.encode_signal

    def slow_open(*args, **kwargs):
        now[0] += 6.0  # a slow disk or a long container scan
        return real_open(*args, **kwargs)

    def spy(signal, config, progress=None):
        budgets.append(config.time_limit)
        now[0] += config.time_limit
        return real_fit(signal, config, progress)

    monkeypatch.setattr(api, "_source_signal", slow_open)
    monkeypatch.setattr(api, "_clock", lambda: now[0])
    monkeypatch.setattr(segments, "_clock", lambda: now[0])
    monkeypatch.setattr(segments, "encode_signal", spy)
    inrcodec.encode(clip[0], segment=1.0, time_limit=30.0, arch="mlp", **STEPS)
    assert budgets == [pytest.approx((24 - finishing_reserve(30)) / 3)] * 3
    assert now[0] == pytest.approx(30 - finishing_reserve(30))  # the reserve is left for writing the file and exiting
    assert finishing_reserve(600) == 1.5 and finishing_reserve(10) == pytest.approx(0.1)


def test_cli_time_counts_from_the_programs_start(clip, tmp_path, monkeypatch):
    """`spdr encode --time 30` started 12 s ago (Python, torch, reading) leaves the encoder 18 s, less the finishing
    reserve; the notices keep naming the --time the user gave."""
    import time

    from inrcodec.cli import options
    from inrcodec.errors import SpdrError

    seen = []

    def stop_here(signal, config, *args):
        seen.append(config.time_limit)
        raise SpdrError("stopped by the test")

    monkeypatch.setattr(options, "STARTED", time.perf_counter() - 12.0)
    monkeypatch.setattr("inrcodec.api._encode_parts", stop_here)
    CliRunner().invoke(main, ["encode", str(clip[0]), "-o", str(tmp_path / "a.spdr"), "--time", "30"])
    assert seen and 17.0 - finishing_reserve(30) < seen[0] <= 18.0 - finishing_reserve(30)
    monkeypatch.setattr(options, "STARTED", time.perf_counter() - 40.0)
    CliRunner().invoke(main, ["encode", str(clip[0]), "-o", str(tmp_path / "b.spdr"), "--time", "30"])
    assert seen[1] == pytest.approx(1e-3)  # past the bound already: the least a fit can be given, not a negative
    CliRunner().invoke(main, ["encode", str(clip[0]), "-o", str(tmp_path / "c.spdr")])
    assert seen[2] is None  # no --time: no bound
