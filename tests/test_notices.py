"""Nothing changes silently: every fallback or partial give-up is one `note:` line on stderr and in --json "notices".

Each notice is provoked cheaply (a monkeypatched limit, a poisoned optimiser, a truncated file) and
checked for the numbers it names; the same encode without the trigger has no notice.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import poison_adam, write_image

import inrcodec
import inrcodec.codec.presets
import inrcodec.rate.bpp
import inrcodec.train.fit
from inrcodec.cli import main
from inrcodec.errors import MediaError
from inrcodec.rate.plan import RateOptions


@pytest.fixture(autouse=True)
def _eager(monkeypatch):
    monkeypatch.setenv("SPDR_COMPILE", "0")


def run(tmp_path: Path, src: Path, *args, before=lambda: None) -> tuple:
    """`spdr encode SRC` twice, `before()` each time: (text result, --json result)."""
    base = ["encode", str(src), "-o", str(tmp_path / "out.spdr"), "--force", "--device", "cpu", "-q", *map(str, args)]
    before()
    text = CliRunner().invoke(main, base)
    before()
    as_json = CliRunner().invoke(main, [*base, "--json"])
    return text, as_json


def notes(result) -> list[str]:
    return [line[len("note: "):] for line in result.stderr.splitlines() if line.startswith("note: ")]


def check_cli(tmp_path: Path, src: Path, *args, pattern: str, before=lambda: None) -> tuple[re.Match, dict]:
    """Exactly one notice, matching `pattern`, on the text run's stderr and in the --json report: (match, report)."""
    text, as_json = run(tmp_path, src, *args, before=before)
    assert text.exit_code == 0, text.stderr
    assert as_json.exit_code == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert len(notes(text)) == 1, text.stderr
    assert report["notices"] == notes(text) == notes(as_json), (report["notices"], text.stderr)
    match = re.fullmatch(pattern, report["notices"][0])
    assert match, report["notices"][0]
    return match, report


def check_quiet(tmp_path: Path, src: Path, *args) -> None:
    text, as_json = run(tmp_path, src, *args)
    assert text.exit_code == 0 and as_json.exit_code == 0, (text.stderr, as_json.stderr)
    assert "note:" not in text.stderr and "note:" not in as_json.stderr, text.stderr
    assert json.loads(as_json.stdout)["notices"] == []


# --- width clamp ---------------------------------------------------------------------------------

def test_width_clamp(tmp_path, monkeypatch):
    src = tmp_path / "src.png"
    write_image(src, "grey", h=48, w=64)  # balanced asks for width 13 for 3072 samples
    check_quiet(tmp_path, src, "--steps", 3, "--arch", "mlp")
    monkeypatch.setattr(inrcodec.codec.presets, "MAX_WIDTH", 9)
    m, report = check_cli(tmp_path, src, "--steps", 3, "--arch", "mlp",
                          pattern=r"preset balanced asks for width (\d+) for 3,072 samples: clamped to 9 \(pass --width to choose\)")
    assert int(m[1]) == 13 and report["width"] == 9
    check_quiet(tmp_path, src, "--steps", 3, "--width", 12)  # a width asked for is not clamped by the preset


# --- full batch -> minibatches -------------------------------------------------------------------

def test_minibatch_switch(tmp_path, monkeypatch):
    src = tmp_path / "src.png"
    write_image(src, "grey", h=64, w=80)  # 5120 samples: more than the 4096-sample smallest minibatch
    check_quiet(tmp_path, src, "--steps", 4, "--width", 8)
    monkeypatch.setattr(inrcodec.train.fit, "FULL_BATCH_BYTES", 1 << 10)
    check_cli(tmp_path, src, "--steps", 4, "--width", 8,  # 8 bytes x 33 units (4 x 8 hidden + 1 out) x 5120 samples
              pattern=re.escape("a full batch of 5,120 samples needs about 1.29 MiB for backward, more than 1 KiB: "
                                "training on random minibatches of 4,096"))


def test_no_minibatch_notice_when_the_batch_covers_the_data(tmp_path, monkeypatch):
    """Over the memory limit but under the smallest minibatch (4096): still the full batch, so nothing to say."""
    monkeypatch.setattr(inrcodec.train.fit, "FULL_BATCH_BYTES", 1 << 10)
    src = tmp_path / "src.png"
    write_image(src, "grey")  # 192 samples
    check_quiet(tmp_path, src, "--steps", 4, "--width", 8)


# --- torch.compile failure -> eager --------------------------------------------------------------

def test_compile_fallback(tmp_path, monkeypatch):
    src = tmp_path / "src.png"
    write_image(src, "grey")
    calls = {"n": 0}

    def broken_compile(model, **kwargs):
        def compiled(*args):
            calls["n"] += 1
            raise RuntimeError("backend exploded\nsecond line")
        return compiled

    monkeypatch.setattr(inrcodec.train.fit.torch, "compile", broken_compile)
    monkeypatch.setenv("SPDR_COMPILE", "1")
    check_cli(tmp_path, src, "--steps", 6, "--width", 8,
              pattern=re.escape("torch.compile failed on this machine (RuntimeError: backend exploded): "
                                "fitting in eager mode (slower, same result)"))
    assert calls["n"] >= 2  # both runs (fit and quantization-aware tuning) tried it, and said so once each
    monkeypatch.setenv("SPDR_COMPILE", "0")
    check_quiet(tmp_path, src, "--steps", 6, "--width", 8)


# --- repeated divergence -> stop -----------------------------------------------------------------

def test_divergence_stop(tmp_path, monkeypatch):
    """From optimiser step 15 on, every update turns the weights NaN: after MAX_RECOVERIES the fit stops, keeping its best."""
    src = tmp_path / "src.png"
    write_image(src, "grey")
    check_quiet(tmp_path, src, "--steps", 200, "--width", 8, "--bits", 32)
    calls = poison_adam(monkeypatch, at_step=15, every_step_after=True)
    recoveries = inrcodec.train.fit.MAX_RECOVERIES + 1
    m, report = check_cli(tmp_path, src, "--steps", 200, "--width", 8, "--bits", 32,  # 32 bits: no quantization-aware tuning
                          pattern=rf"the fit diverged {recoveries} times \(best weights restored, learning rate halved, "
                                  r"after all but the last\): "
                                  r"stopped at step (\d+) of 200 with the best weights so far",
                          before=lambda: calls.update(n=0))
    # one report window (10 steps) before the poison, then one per recovery
    assert int(m[1]) == 10 * (1 + recoveries) and report["steps"] == int(m[1])
    assert report["psnr_db"] == report["psnr_db"] > 5  # a sound file from the best weights


# --- --bpp under 95 % of the budget --------------------------------------------------------------

def test_bpp_under_budget(tmp_path, monkeypatch):
    src = tmp_path / "src.png"
    write_image(src, "rgb", h=32, w=32)
    check_quiet(tmp_path, src, "--bpp", 4, "--steps", 5)  # lands in [95 %, 100 %] of 512 bytes
    real = inrcodec.rate.bpp.fit_to_budget
    monkeypatch.setattr(inrcodec.rate.bpp, "fit_to_budget",
                        lambda signal, config, progress=None, options=RateOptions(): real(signal, config, progress,
                                                                                         RateOptions(refine_rounds=0)))
    m, report = check_cli(tmp_path, src, "--bpp", 8, "--steps", 5,
                          pattern=r"--bpp 8: the file is (\d+) bytes, (\d+) % of the 1024-byte budget \((\d+\.\d+) bpp\): "
                                  r"the fit ran out of refine rounds before filling it")
    assert int(m[1]) == report["bytes"] < 0.95 * 1024
    assert int(m[2]) == round(100 * report["bytes"] / 1024) and float(m[3]) == pytest.approx(report["bpp"], abs=1e-3)


# --- a video whose stream ends early -------------------------------------------------------------

def write_clip(path: Path, fmt: str = "matroska", frames: int = 24) -> bytes:
    """A 32x24 H.264 clip of `frames` noisy frames at 24 fps, written by PyAV."""
    import av

    rng = np.random.default_rng(0)
    with av.open(os.fspath(path), "w", format=fmt) as c:
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = 32, 24, "yuv420p"
        for i in range(frames):
            rgb = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
            rgb[:, i % 32] = 255
            for packet in s.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                c.mux(packet)
        for packet in s.encode():
            c.mux(packet)
    return path.read_bytes()


def decodable_frames(path: Path) -> int:
    import av

    with av.open(os.fspath(path)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


@pytest.fixture
def damaged_mkv(tmp_path) -> tuple[Path, int]:
    """Half of a 24-frame MKV, and how many frames PyAV decodes from it."""
    pytest.importorskip("av")
    full = tmp_path / "full.mkv"
    data = write_clip(full)
    src = tmp_path / "clip.mkv"
    src.write_bytes(data[: len(data) // 2])
    read = decodable_frames(src)
    assert 0 < read < 24
    return src, read


def test_damaged_video_is_refused(tmp_path, damaged_mkv):
    src, read = damaged_mkv
    for args in ([], ["--json"]):
        r = CliRunner().invoke(main, ["encode", str(src), "-o", str(tmp_path / "out.spdr"), "--steps", "2", *args])
        assert r.exit_code == 1, r.stdout
        lines = r.stderr.strip().splitlines()
        assert lines == [f"Error: clip.mkv: the video stream ends early: read {read} of 24 frames (damaged or truncated file); "
                         f"pass --partial to encode the frames that decode"], r.stderr
        assert not (tmp_path / "out.spdr").exists()
    with pytest.raises(MediaError, match=f"read {read} of 24 frames"):
        inrcodec.encode(src, steps=2)


def test_damaged_video_with_partial(tmp_path, damaged_mkv):
    src, read = damaged_mkv
    m, report = check_cli(tmp_path, src, "--partial", "--steps", 2, "--width", 8,
                          pattern=r"encoded frames 0-(\d+) of 24: the stream ends early \(damaged or truncated file\)")
    assert int(m[1]) == read - 1 and report["frames"] == read
    assert inrcodec.info(tmp_path / "out.spdr")["header"]["signal"]["frames"] == read
    result = inrcodec.encode(src, partial=True, steps=2, width=8)
    assert result.notices == [f"encoded frames 0-{read - 1} of 24: the stream ends early (damaged or truncated file)"]


def test_damaged_video_selection(tmp_path, damaged_mkv):
    """A selection that ends before the damage is whole; one that reaches past it names the frames asked for."""
    src, read = damaged_mkv
    check_quiet(tmp_path, src, "--frames", read, "--steps", 2, "--width", 8)
    r = CliRunner().invoke(main, ["encode", str(src), "-o", str(tmp_path / "o.spdr"), "--start", f"{1 / 24:.6f}",
                                  "--frames", "20", "--steps", "2"])
    assert r.exit_code == 1
    assert f"read {read - 1} of 20 frames from frame 1 (24 declared; damaged or truncated file)" in r.stderr, r.stderr


@pytest.mark.parametrize("fmt,ext", [("matroska", ".mkv"), ("mp4", ".mp4")])
def test_complete_video_has_no_notice(tmp_path, fmt, ext):
    """MKV declares only a duration, MP4 a frame count: both match what decodes, with or without --partial."""
    pytest.importorskip("av")
    src = tmp_path / f"full{ext}"
    write_clip(src, fmt, frames=13)
    check_quiet(tmp_path, src, "--steps", 2, "--width", 8)
    check_quiet(tmp_path, src, "--partial", "--steps", 2, "--width", 8)
    assert inrcodec.info(tmp_path / "out.spdr")["header"]["signal"]["frames"] == 13


def test_declared_count_slack():
    """Without a decode error a stream may end a frame or two before its declared count; with one, not a frame."""
    from inrcodec.media.video import _ends_early, frame_slack

    assert frame_slack(24, True) == 2 and frame_slack(24, False) == 2 and frame_slack(1000, False) == 10
    assert _ends_early("c.mkv", 0, 22, 10**9, 24, False, None) is None
    problem, notice = _ends_early("c.mkv", 0, 21, 10**9, 24, True, None)
    assert problem == "c.mkv: the video stream ends early: read 21 of 24 frames (damaged or truncated file)"
    assert notice == "encoded frames 0-20 of 24: the stream ends early (damaged or truncated file)"
    problem, notice = _ends_early("c.mkv", 0, 23, 10**9, 24, True, "Invalid data")
    assert problem == "c.mkv: the video stream ends early: read 23 of 24 frames (decode error: Invalid data)"
    assert _ends_early("c.mkv", 0, 24, 10**9, 24, True, "Invalid data") is None  # junk past the declared end loses nothing
    assert _ends_early("c.mkv", 0, 5, 10**9, 0, False, None) is None  # nothing declared, nothing failed
    problem, notice = _ends_early("c.mkv", 0, 5, 10**9, 0, False, "Invalid data")
    assert problem == "c.mkv: the video stream breaks off after frame 4 (decode error: Invalid data)"
    assert notice == "encoded frames 0-4: the stream breaks off there (decode error: Invalid data)"


# --- a range longer than the file -------------------------------------------------------------------

def test_frames_or_duration_past_the_end_are_cut_and_said(tmp_path):
    import soundfile as sf

    clip = tmp_path / "short.mp4"
    write_clip(clip, fmt="mp4", frames=6)
    check_cli(tmp_path, clip, "--steps", 3, "--width", 8, "--start", 0.125, "--frames", 50,
              pattern=r"short\.mp4: --frames 50 asked for 50 frames, the file holds 3 from there on: encoded 3 \(0\.125 s\)")
    check_quiet(tmp_path, clip, "--steps", 3, "--width", 8, "--frames", 6)
    wav = tmp_path / "short.wav"
    sf.write(wav, (0.3 * np.sin(np.arange(800) / 3)).astype(np.float32), 8000)
    check_cli(tmp_path, wav, "--steps", 3, "--width", 8, "--duration", 2,
              pattern=r"short\.wav: --duration 2 s asked for 16000 samples, the file holds 800 from there on: encoded 800 \(0\.100 s\)")
    check_quiet(tmp_path, wav, "--steps", 3, "--width", 8, "--duration", 0.1)
