"""spdr bench av: the PyAV audio anchors (real files, delay alignment) and a tiny end-to-end run through the CLI."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from inrcodec.bench import _avanchors
from inrcodec.cli import main

needs_scipy = pytest.mark.skipif(importlib.util.find_spec("scipy") is None, reason="scipy is not installed (pip install -e '.[bench]')")
RATE = 44100


def chord(seconds: float = 0.5, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1320 * t + 1)
    return np.stack([x * (1 - 0.3 * c) for c in range(channels)], axis=1).astype(np.float32)


def test_align_finds_a_decoder_delay_and_keeps_the_length():
    src = np.random.default_rng(0).normal(0, 0.2, (4000, 2)).astype(np.float32)
    delayed = np.concatenate([np.zeros((777, 2), np.float32), src[:-500]])
    out, delay = _avanchors.align(delayed, src)
    assert delay == 777 and out.shape == src.shape
    np.testing.assert_array_equal(out[:3500], src[:3500])
    assert not out[3500:].any()  # what the decoder did not return counts as silence, never as a match


@pytest.mark.parametrize("codec", _avanchors.AUDIO_ANCHORS)
def test_each_anchor_writes_a_real_file_near_its_bitrate_that_decodes_close_to_the_source(codec):
    src = chord()
    p = _avanchors.audio_point(src, RATE, codec, 96)
    assert p["bytes"] > 1000 and 50 < p["kbits"] < 200  # whole files: container overhead included
    assert p["snr_db"] > 10 and p["delay"] <= _avanchors.MAX_DELAY
    low = _avanchors.audio_point(src, RATE, codec, 32)
    assert low["bytes"] < p["bytes"]


@needs_scipy
def test_bench_av_end_to_end_on_a_tiny_clip(tmp_path):
    wav = tmp_path / "chord.wav"
    sf.write(wav, chord(0.25, 1)[::4], RATE // 4, subtype="PCM_16")  # 11 kHz mono: a small fit
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["bench", "av", str(wav), "--steps", "10", "--quality", "20,90", "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    rows = json.loads((out / "av.json").read_text())
    kinds = {r["kind"] for r in rows}
    assert kinds == {"point", "equal_bytes", "bd_rate"}
    spdr = [r for r in rows if r["kind"] == "point" and r["codec"] == "spdr"]
    assert [r["quality"] for r in spdr] == [20, 90] and all(r["bytes"] > 0 and r["snr_db"] > 0 for r in spdr)
    assert {r["codec"] for r in rows if r["kind"] == "bd_rate"} == set(_avanchors.AUDIO_ANCHORS)
    md = (out / "av.md").read_text()
    assert "BD-rate of spdr against MP3, Opus and AAC" in md and "chord" in md
    assert (out / "av_audio_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_quality_is_refused_for_tasks_without_it():
    res = CliRunner().invoke(main, ["bench", "audio", "--quality", "50"])
    assert res.exit_code != 0 and "apply to bench rd and av" in res.output


@needs_scipy
def test_bench_av_video_end_to_end_on_a_tiny_clip(tmp_path, monkeypatch):
    """A 6-frame 176x144 clip: x264, x265 and SVT-AV1 scans (two bitrates here) against two spdr qualities."""
    import av

    from inrcodec.bench import _avvideo
    from inrcodec.bench import av as av_task
    from inrcodec.bench._avvideo import VIDEO_ANCHORS

    monkeypatch.setattr(_avvideo, "VIDEO_KBITS", (50, 400))
    monkeypatch.setattr(av_task, "VIDEO_QUALITIES", (10, 60))

    clip = tmp_path / "square.mp4"
    t, y, x = np.mgrid[0:6, 0:144, 0:176]
    frames = np.stack([(128 + 100 * np.sin(0.1 * x + 0.3 * t)), 40 + 0 * y, (120 + 80 * np.cos(0.07 * y))], -1).astype(np.uint8)
    with av.open(str(clip), "w") as out:
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt, st.options = 176, 144, "yuv444p", {"crf": "0"}
        for f in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    res = CliRunner().invoke(main, ["bench", "av", str(clip), "--steps", "3", "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    rows = json.loads((tmp_path / "out" / "av.json").read_text())
    spdr = [r for r in rows if r["kind"] == "point" and r["codec"] == "spdr"]
    assert [r["quality"] for r in spdr] == [10, 60] and all(r["decoded_frames"] == 6 for r in spdr)
    assert all(r["network"].startswith("latent grid") for r in spdr)
    anchors = [r for r in rows if r["kind"] == "point" and r["codec"] in VIDEO_ANCHORS]
    assert {r["codec"] for r in anchors} == set(VIDEO_ANCHORS) and all(len(r["frame_psnr_db"]) == 6 for r in anchors)
    assert max(r["psnr_db"] for r in anchors) > 30  # the anchors are real codecs: their best file is close to the source
    md = (tmp_path / "out" / "av.md").read_text()
    assert "Video: BD-rate of spdr against x264, x265 and SVT-AV1" in md
    for name in ("av_video_curves.png", "av_video_frames.png"):
        assert (tmp_path / "out" / name).read_bytes()[:4] == b"\x89PNG"
