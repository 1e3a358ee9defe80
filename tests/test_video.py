"""Video: PyAV I/O, exact frame rates, --start/--frames/--duration, --fps/--scale/--size frame counts, writers."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import inrcodec
from inrcodec.cli import main
from inrcodec.codec.video import video_grid
from inrcodec.errors import MediaError
from inrcodec.media import load
from inrcodec.media.sniff import sniff

AV_STEPS = 6
NET = {"width": 16, "depth": 1}


def moving_square(frames: int = 8, h: int = 24, w: int = 32) -> np.ndarray:
    """An orange square sliding right over a dark background, uint8 (frames, h, w, 3)."""
    out = np.full((frames, h, w, 3), 20, dtype=np.uint8)
    for i in range(frames):
        out[i, 8:16, 2 + 2 * i:10 + 2 * i] = (250, 160, 40)
    return out


def write_video(path, pixels: np.ndarray, fps=25, codec: str = "libx264", options: dict | None = None) -> None:
    with av.open(str(path), "w") as out:
        st = out.add_stream(codec, rate=Fraction(fps))
        st.width, st.height = pixels.shape[2], pixels.shape[1]
        st.pix_fmt = "yuv444p" if codec == "libx264" else ("rgb8" if codec == "gif" else "yuv420p")
        st.options = options or ({"crf": "0"} if codec == "libx264" else {})
        for f in pixels:
            for p in st.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)


def read_video(path) -> tuple[int, int, int, Fraction]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in c.decode(s)]
        return len(frames), frames[0].shape[0], frames[0].shape[1], Fraction(s.average_rate)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def square(tmp_path_factory):
    """The 8-frame moving square at 25 fps as MP4, encoded once: (mp4, spdr)."""
    folder = tmp_path_factory.mktemp("video")
    mp4, spdr = folder / "square.mp4", folder / "square.spdr"
    write_video(mp4, moving_square())
    inrcodec.encode(mp4, spdr, steps=AV_STEPS, **NET)
    return mp4, spdr


def test_load_frames_and_exact_rate(tmp_path):
    path = tmp_path / "ntsc.mkv"
    write_video(path, moving_square(5, 10, 14), fps=Fraction(30000, 1001))
    sig = load(path)
    assert sig.modality == "video" and sig.data.shape == (5, 10, 14, 3) and sig.data.dtype == np.float32
    assert sig.meta == {"frames": 5, "height": 10, "width": 14, "channels": 3, "fps": [30000, 1001]}
    np.testing.assert_allclose((sig.data + 1) * 127.5, moving_square(5, 10, 14), atol=6)  # H.264 4:4:4 lossless, but YUV rounding


@pytest.mark.parametrize(("kw", "first", "count"), [
    ({}, 0, 8), ({"frames": 3}, 0, 3), ({"start": 0.12}, 3, 5), ({"start": 0.04, "frames": 2}, 1, 2),
    ({"duration": 0.2}, 0, 5), ({"start": 0.1, "duration": 10}, 3, 5), ({"frames": 100}, 0, 8),
])
def test_range_selection(square, kw, first, count):
    mp4, _ = square
    full = load(mp4)
    sig = load(mp4, **kw)
    assert sig.meta["frames"] == count
    np.testing.assert_array_equal(sig.data, full.data[first:first + count])


def test_range_errors(square, tmp_path):
    mp4, _ = square
    with pytest.raises(MediaError, match="past the end|no frames"):
        load(mp4, start=5)
    with pytest.raises(MediaError, match="either --frames or --duration"):
        load(mp4, frames=2, duration=0.1)
    png = tmp_path / "p.png"
    Image.fromarray(moving_square(1)[0]).save(png)
    with pytest.raises(MediaError, match="is an image"):
        load(png, frames=1)


@pytest.mark.parametrize(("fps", "frames"), [(None, 8), ("50", 16), ("25", 8), ("12.5", 4), ("30000/1001", 10), ("1", 1),
                                            ("37", 12)])  # 8 * 37 / 25 = 11.84
def test_fps_frame_counts(square, fps, frames):
    _, spdr = square
    h = inrcodec.info(spdr)["header"]
    assert video_grid(h, None if fps is None else Fraction(fps))[0] == (frames, 24, 32)
    assert inrcodec.decode(spdr, fps=fps).shape == (frames, 24, 32, 3)


def test_scale_size_and_generator(square):
    _, spdr = square
    assert inrcodec.decode(spdr, scale=0.5).shape == (8, 12, 16, 3)
    assert inrcodec.decode(spdr, size=(7, 9), fps=50).shape == (16, 7, 9, 3)
    frames = list(inrcodec.decode_frames(spdr, fps="100"))
    assert len(frames) == 32 and frames[0].dtype == np.uint8 and frames[0].shape == (24, 32, 3)
    np.testing.assert_array_equal(np.stack(list(inrcodec.decode_frames(spdr))), inrcodec.decode(spdr))


def test_one_frame_video(tmp_path):
    gif = tmp_path / "one.webm"
    write_video(gif, moving_square(1, 6, 10), codec="libvpx-vp9")
    spdr = tmp_path / "one.spdr"
    result = inrcodec.encode(gif, spdr, steps=AV_STEPS, **NET)
    assert result.header["signal"]["frames"] == 1 and len(result.frame_psnr_db) == 1
    assert inrcodec.decode(spdr, fps=50).shape == (2, 6, 10, 3)
    assert inrcodec.decode(spdr, fps=1).shape == (1, 6, 10, 3)


@pytest.mark.parametrize(("name", "frames", "size", "fps"), [
    ("o.mp4", 16, (24, 32), Fraction(50)), ("o.webm", 16, (24, 32), Fraction(50)), ("o.mov", 16, (24, 32), Fraction(50)),
    ("o.mkv", 16, (24, 32), Fraction(50)), ("o.gif", 16, (24, 32), Fraction(50)),
])
def test_cli_writers(tmp_path, square, name, frames, size, fps):
    _, spdr = square
    out = tmp_path / name
    r = run("decode", spdr, "-o", out, "--fps", 50, "--crf", 30, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["frames"] == frames
    n, h, w, rate = read_video(out)
    assert (n, (h, w), rate) == (frames, size, fps)


def test_cli_odd_size_mp4_and_png_folder(tmp_path, square):
    _, spdr = square
    assert run("decode", spdr, "-o", tmp_path / "odd.mp4", "--size", "33x21", "-q").exit_code == 0
    assert read_video(tmp_path / "odd.mp4")[:3] == (8, 21, 33)
    folder = tmp_path / "frames"
    assert run("decode", spdr, "-o", f"{folder}/", "--fps", "12.5", "-q").exit_code == 0
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"frame_{i:06d}.png" for i in range(4)]
    assert Image.open(folder / names[0]).size == (32, 24)
    r = run("decode", spdr, "-o", f"{folder}/", "-q")
    assert r.exit_code == 1 and "exists" in r.stderr
    assert run("decode", spdr, "-o", f"{folder}/", "-q", "--force").exit_code == 0
    assert len(list(folder.iterdir())) == 8
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep")
    r = run("decode", spdr, "-o", other, "-q", "--force")
    assert r.exit_code == 1 and (other / "notes.txt").read_text() == "keep"


def test_cli_video_refusals(tmp_path, square):
    _, spdr = square
    for args in (["--rate", "8000"], ["--gradient"], ["--scale", "2", "--size", "4x4"]):
        assert run("decode", spdr, "-o", tmp_path / "x.mp4", *args).exit_code == 2, args
    for args in (["--fps", "0"], ["--fps", "abc"], ["-o", tmp_path / "x.avi"]):
        r = run("decode", spdr, *args, "-q")
        assert r.exit_code == 1 and r.stderr.startswith("Error: ") and len(r.stderr.splitlines()) == 1, (args, r.output)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_cli_encode_range_info_and_default_name(tmp_path, square):
    mp4, _ = square
    src = tmp_path / "clip.mp4"
    src.write_bytes(mp4.read_bytes())
    r = run("encode", src, "--start", 0.08, "--frames", 4, "--steps", AV_STEPS, "--width", 16, "--depth", 1, "-q")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith(f"encoding {src} as video: 4 frames of 32x24 at 25 fps (0.160 s)")
    assert "PSNR" in r.stdout and "bits per pixel" in r.stdout
    info = run("info", tmp_path / "clip.spdr").stdout
    assert "duration 0.160 s, 25 fps, 4 frames of 32x24, 3 channels" in info
    assert run("decode", tmp_path / "clip.spdr", "--fps", 50, "-q").exit_code == 0
    assert read_video(tmp_path / "clip_50fps.mp4")[0] == 8


def test_encode_reports_psnr_of_the_written_file(square):
    from inrcodec.metrics import psnr

    mp4, spdr = square
    result = inrcodec.encode(mp4, steps=AV_STEPS, **NET)
    ref = load(mp4).data
    got = inrcodec.decode(result.data).astype(np.float64) / 127.5 - 1
    assert result.psnr_db == pytest.approx(psnr(got, np.rint((ref + 1) * 127.5) / 127.5 - 1), abs=1e-6)
    assert result.header["encoder"]["batch_size"] > 0


def test_sniffing_uses_content_not_extension(tmp_path, square):
    import soundfile as sf

    mp4, _ = square
    disguised = tmp_path / "movie.dat"
    disguised.write_bytes(mp4.read_bytes())
    wav = tmp_path / "sound.png"
    sf.write(wav, np.zeros(100), 8000, format="WAV")
    frames = [Image.fromarray(f) for f in moving_square(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=40)
    frames[0].save(tmp_path / "still.gif")
    text = tmp_path / "notes.mp4"
    text.write_text("hello")
    assert [sniff(p) for p in (disguised, wav, tmp_path / "anim.gif", tmp_path / "still.gif")] == ["video", "audio", "video", "image"]
    with pytest.raises(MediaError):
        load(text)
    gif = load(tmp_path / "anim.gif")
    assert gif.meta["frames"] == 3 and gif.meta["fps"] == [25, 1]


def test_paper_preset_is_the_paper_recipe():
    from inrcodec.codec.presets import EncodeConfig, resolve

    r = resolve(EncodeConfig(preset="paper"), 10**6, 3, 3, "video")
    assert (r.width, r.depth, r.lr) == (1024, 12, 5e-6) and r.batch_size


@pytest.mark.parametrize("frames", [1, 2, 5, 8, 13])
def test_measure_order_visits_every_frame_once_spread_out_first(frames):
    from inrcodec.codec.video import measure_order

    order = measure_order(frames)
    assert sorted(order) == list(range(frames))
    if frames >= 5:  # the first three already span the clip: its start, middle and a quarter
        assert order[0] == 0 and abs(order[1] - frames / 2) <= 1 and max(order[:3]) - min(order[:3]) >= frames // 4


def test_a_time_bounded_measurement_covers_some_frames_and_says_so(square, monkeypatch):
    """With no time left for measuring, one frame is measured; the figures say which, the notice how many."""
    from inrcodec.codec import video
    from inrcodec.codec.presets import Resolved
    from inrcodec.codec.result import finish

    mp4, spdr = square
    signal = load(mp4)
    data = spdr.read_bytes()
    whole = video.measure_video(signal, inrcodec.read_spdr(data), torch_cpu())
    part = finish(signal, data, steps=1, seconds=0.0, params=0, float_mse=0.0, resolved=Resolved(16, 1, 1, 0.0, 8, 0, 0.0),
                  device=torch_cpu(), measure_seconds=0.0)
    measured = [p for p in part.frame_psnr_db if not np.isnan(p)]
    assert len(measured) == 1 and measured[0] == pytest.approx(whole["frame_psnr_db"][0])
    assert part.psnr_db == pytest.approx(whole["frame_psnr_db"][0])
    assert any("measured on 1 of 8 frames" in n for n in part.notices)
    assert whole["measured_frames"] == 8 and not np.isnan(whole["frame_psnr_db"]).any()


def torch_cpu():
    import torch

    return torch.device("cpu")


def test_under_time_a_video_network_is_narrowed_to_what_measuring_it_allows():
    from inrcodec.codec.encode import sized_for_time
    from inrcodec.codec.presets import EncodeConfig, resolve
    from inrcodec.media.video import frames_to_signal

    signal = frames_to_signal(np.zeros((16, 1080, 1920, 3), np.uint8)[:, :, :, :], Fraction(25))
    free = resolve(EncodeConfig(preset="fast"), signal.num_samples, 3, 3, "video")
    timed = sized_for_time(free, signal, EncodeConfig(preset="fast", time_limit=6.0))
    assert 8 <= timed.width < 64 < free.width and any("narrowed" in n for n in timed.notices)
    roomy = sized_for_time(free, signal, EncodeConfig(preset="fast", time_limit=1e6))
    assert roomy.width == free.width
    chosen = sized_for_time(free, signal, EncodeConfig(preset="fast", time_limit=6.0, width=300))
    assert chosen is free  # an explicit --width is the user's choice
