"""Audio: soundfile I/O of every sample format, amplitude mapping, --rate/--scale sample counts, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import inrcodec
from inrcodec.cli import main
from inrcodec.codec.audio import audio_grid, value_map
from inrcodec.codec.result import time_scale
from inrcodec.errors import MediaError
from inrcodec.media import load
from inrcodec.media.audio import array_to_audio, encode_audio_bytes, load_audio

AV_STEPS = 6
NET = {"width": 16, "depth": 1}


def chirp(rate: int = 8000, seconds: float = 0.25, amp: float = 0.6) -> np.ndarray:
    t = np.arange(int(round(rate * seconds))) / rate
    return (amp * np.sin(2 * np.pi * (200 + 1200 * t) * t)).astype(np.float32)


def tone_pair(rate: int = 8000, samples: int = 2001, amp: float = 0.3) -> np.ndarray:
    t = np.arange(samples) / rate
    return (amp * np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 660 * t)], axis=1)).astype(np.float32)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def stereo_spdr(tmp_path_factory):
    """A stereo tone pair at 8 kHz (2001 samples: an odd duration) encoded once: (wav, spdr, samples)."""
    folder = tmp_path_factory.mktemp("audio")
    wav, spdr = folder / "pair.wav", folder / "pair.spdr"
    x = tone_pair()
    sf.write(wav, x, 8000, subtype="PCM_16")
    inrcodec.encode(wav, spdr, steps=AV_STEPS, **NET)
    return wav, spdr, sf.read(wav, dtype="float32", always_2d=True)[0]


@pytest.mark.parametrize(("ext", "subtype"), [(".wav", "PCM_16"), (".wav", "PCM_24"), (".wav", "PCM_U8"), (".wav", "FLOAT"),
                                             (".flac", "PCM_24"), (".aiff", "PCM_16"), (".ogg", "VORBIS")])
def test_load_every_format_keeps_rate_channels_subtype(tmp_path, ext, subtype):
    path = tmp_path / f"a{ext}"
    sf.write(path, tone_pair(rate=11025, samples=999), 11025, subtype=subtype)
    sig = load(path)
    assert sig.modality == "audio" and sig.data.shape == (999, 2) and sig.data.dtype == np.float32
    assert sig.meta == {"samples": 999, "channels": 2, "sample_rate": 11025, "subtype": subtype}


def test_24_bit_samples_are_read_exactly(tmp_path):
    ints = np.array([-8388608, -1, 0, 1, 4194304, 8388607], dtype=np.int32)
    path = tmp_path / "s24.wav"
    sf.write(path, ints << 8, 96000, subtype="PCM_24")
    sig = load_audio(path)
    np.testing.assert_array_equal(np.rint(sig.data[:, 0].astype(np.float64) * 2**23).astype(np.int64), ints)
    assert sig.meta["subtype"] == "PCM_24" and sig.meta["sample_rate"] == 96000


def test_many_channels_and_a_range(tmp_path):
    path = tmp_path / "six.flac"
    sf.write(path, np.random.default_rng(0).uniform(-0.5, 0.5, (4000, 6)), 8000, subtype="PCM_16")
    sig = load(path, start=0.1, duration=0.2)
    assert sig.data.shape == (1600, 6)
    full = load(path)
    np.testing.assert_array_equal(sig.data, full.data[800:2400])
    with pytest.raises(MediaError, match="past the end"):
        load(path, start=1.0)
    with pytest.raises(MediaError, match="--frames applies to video"):
        load(path, frames=3)


def test_amplitude_maps_to_one_and_back():
    sig = array_to_audio(tone_pair(amp=0.3), 8000)
    fitted, values = value_map(sig)
    assert np.abs(fitted).max() == pytest.approx(1.0, abs=1e-6)
    assert values["scale"] == [pytest.approx(0.3, rel=1e-3)] * 2 and values["offset"] == [0.0, 0.0]
    silent = array_to_audio(np.zeros(10), 8000)
    assert value_map(silent)[1]["scale"] == [1.0]


def test_encode_records_recipe_and_decode_restores_level(stereo_spdr):
    _, spdr, x = stereo_spdr
    h = inrcodec.info(spdr)["header"]
    assert h["modality"] == "audio" and h["coords"]["scale"] == [time_scale("audio", h["signal"]["samples"])]
    assert h["arch"]["damping"] == "atan" and h["signal"]["subtype"] == "PCM_16"
    peak = float(np.abs(x).max())
    assert h["values"]["scale"] == [pytest.approx(peak, rel=1e-6)] * 2
    y = inrcodec.decode(spdr)
    assert y.shape == (2001, 2) and y.dtype == np.float32
    assert np.abs(y).max() <= peak * (1 + 1e-6)  # clipped to the stored amplitude


@pytest.mark.parametrize(("rate", "scale", "samples", "out_rate"), [
    (48000, None, 12006, 48000),  # 2001 * 6
    (44100, None, 11031, 44100),  # round(2001 * 44100 / 8000) = round(11030.5125)
    (8000, None, 2001, 8000),
    (None, 0.5, 1001, 4000),  # round(1000.5) half up
    (None, 3, 6003, 24000),
    (1, None, 1, 1),
])
def test_rate_and_scale_sample_counts(stereo_spdr, rate, scale, samples, out_rate):
    _, spdr, _ = stereo_spdr
    h = inrcodec.info(spdr)["header"]
    assert audio_grid(h, rate, scale) == (samples, out_rate)
    assert inrcodec.decode(spdr, rate=rate, scale=scale).shape == (samples, 2)


def test_native_rate_equals_native_decode(stereo_spdr):
    _, spdr, _ = stereo_spdr
    np.testing.assert_array_equal(inrcodec.decode(spdr, rate=8000), inrcodec.decode(spdr))


@pytest.mark.parametrize(("ext", "subtype"), [(".wav", "PCM_16"), (".flac", "PCM_16"), (".ogg", "VORBIS"), (".aiff", "PCM_16")])
def test_cli_decode_formats_from_extension(tmp_path, stereo_spdr, ext, subtype):
    _, spdr, _ = stereo_spdr
    out = tmp_path / f"up{ext}"
    r = run("decode", spdr, "-o", out, "--rate", 16000, "--json")
    assert r.exit_code == 0, r.output
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype) == (16000, 2, subtype)
    assert json.loads(r.stdout)["samples"] == 4002 and abs(info.frames - 4002) <= (0 if ext != ".ogg" else 2)


def test_cli_decode_default_names_and_refusals(tmp_path, stereo_spdr):
    _, spdr, _ = stereo_spdr
    local = tmp_path / "clip.spdr"
    local.write_bytes(spdr.read_bytes())
    assert run("decode", local, "-q").exit_code == 0 and sf.info(tmp_path / "clip.decoded.wav").frames == 2001
    assert run("decode", local, "--rate", 48000, "-q").exit_code == 0 and sf.info(tmp_path / "clip_48000hz.wav").samplerate == 48000
    r = run("decode", local, "--rate", 48000, "-q")
    assert r.exit_code == 1 and r.stderr.startswith("Error: ") and "exists" in r.stderr
    for args in (["--fps", "50"], ["--size", "4x4"], ["--crf", "20"], ["--gradient"], ["--rate", "8000", "--scale", "2"]):
        assert run("decode", local, "-o", tmp_path / "x.wav", *args).exit_code == 2, args
    r = run("decode", local, "-o", tmp_path / "x.mp3")
    assert r.exit_code == 1 and "unsupported audio output" in r.stderr
    assert not (tmp_path / "x.wav").exists() and not (tmp_path / "x.mp3").exists()


def test_writing_clips_never_wraps():
    import io

    loud = np.array([[1.5], [-1.5], [0.25]], dtype=np.float32)
    data, _ = sf.read(io.BytesIO(encode_audio_bytes(loud, 8000, "WAV", "PCM_16")), dtype="int16")
    np.testing.assert_array_equal(data, [32767, -32768, 8192])
    data, _ = sf.read(io.BytesIO(encode_audio_bytes(loud, 8000, "WAV", "PCM_24")), dtype="int32")
    np.testing.assert_array_equal(data >> 8, [8388607, -8388608, 2097152])
    flt, _ = sf.read(io.BytesIO(encode_audio_bytes(loud, 8000, "WAV", "FLOAT")), dtype="float32")
    assert flt.max() == pytest.approx(1.5)  # float files keep levels above full scale


def test_cli_encode_names_the_modality_and_reports_snr(tmp_path):
    src = tmp_path / "chirp.flac"
    sf.write(src, chirp(), 8000, subtype="PCM_24")
    r = run("encode", src, "--steps", AV_STEPS, "--width", 16, "--depth", 1, "-q")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"encoding {src} as audio: 0.250 s, 8000 Hz, 1 channel(s), PCM_24")
    assert "SNR" in r.stdout and "kbit/s" in r.stdout
    out = run("info", tmp_path / "chirp.spdr")
    assert "duration 0.250 s, 8000 Hz, 1 channel(s), 2000 samples" in out.stdout
    report = json.loads(run("encode", src, "-o", tmp_path / "j.spdr", "--steps", 2, "--width", 8, "--depth", 0, "--json").stdout)
    assert report["modality"] == "audio" and report["samples"] == 2000 and np.isfinite(report["snr_db"])
    assert report["kbps"] == pytest.approx(8 * (tmp_path / "j.spdr").stat().st_size / 0.25 / 1000, rel=1e-3)


def test_encode_reports_metrics_of_the_written_file(tmp_path):
    from inrcodec.metrics import snr

    src = tmp_path / "c.wav"
    sf.write(src, chirp(), 8000, subtype="FLOAT")
    result = inrcodec.encode(src, tmp_path / "c.spdr", steps=AV_STEPS, **NET)
    ref = sf.read(src, dtype="float32")[0]
    assert result.snr_db == pytest.approx(snr(ref, inrcodec.decode(tmp_path / "c.spdr")[:, 0]), abs=1e-4)


def test_paper_preset_is_the_paper_recipe():
    from inrcodec.codec.presets import EncodeConfig, resolve

    r = resolve(EncodeConfig(preset="paper"), 100_000, 1, 1, "audio")
    assert (r.width, r.depth, r.lr, r.damping) == (256, 5, 5e-5, "atan")
