"""The Python API (inrcodec.encode / decode / info): inputs, outputs, claims measured from the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import smooth_pixels

import inrcodec
from inrcodec.errors import MediaError, OutputExistsError, SpdrError
from inrcodec.media.image import pixels_to_unit
from inrcodec.metrics import psnr, rho_ag
from inrcodec.nn.registry import build_model, count_parameters


def test_public_names_work_through_the_package(tmp_path):
    """Each name in inrcodec.__all__, called through the package namespace, with its result checked."""
    assert sorted(inrcodec.__all__) == ["FormatError", "MediaError", "SpdrError", "__version__", "decode", "decode_audio",
                                        "decode_frames", "encode", "info", "open_video", "read_spdr"]
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert 'version = {attr = "inrcodec._version.__version__"}' in pyproject  # one source for the version
    from importlib.metadata import version

    assert inrcodec.__version__ == version("inrcodec")
    px = smooth_pixels(6, 7, 3).astype(np.uint8)
    result = inrcodec.encode(px, tmp_path / "p.spdr", steps=2, width=8, depth=1)
    assert result.header["encoder"]["tool"] == f"spdr {inrcodec.__version__}"
    out = inrcodec.decode(tmp_path / "p.spdr")
    assert out.shape == (6, 7, 3) and out.dtype == np.uint8
    assert psnr(pixels_to_unit(out, 8), pixels_to_unit(px, 8)) == pytest.approx(result.psnr_db, abs=1e-9)
    facts = inrcodec.info(tmp_path / "p.spdr")
    assert facts["file_bytes"] == result.bytes == len(result.data) and facts["header"] == result.header
    with pytest.raises(inrcodec.MediaError, match="decode_frames needs a video file, not image"):
        next(inrcodec.decode_frames(result.data))
    checked = inrcodec.read_spdr(result.data)  # parsed and checked once, then reused without re-reading
    assert checked.header == result.header and checked.file_bytes == result.bytes
    np.testing.assert_array_equal(inrcodec.decode(checked), out)
    with pytest.raises(inrcodec.MediaError, match="decode_audio needs an audio file, not image"):
        inrcodec.decode_audio(checked)
    with pytest.raises(inrcodec.MediaError, match="decode_frames needs a video file, not image"):
        inrcodec.open_video(checked)
    with pytest.raises(inrcodec.FormatError) as bad:
        inrcodec.decode(b"\x89SPDR\r\n\x1a\n" + bytes(40))
    assert isinstance(bad.value, SpdrError) and isinstance(bad.value, ValueError)
    with pytest.raises(inrcodec.MediaError) as media:
        inrcodec.encode(np.zeros((2, 2, 7), np.uint8), steps=1)
    assert inrcodec.MediaError is MediaError and inrcodec.SpdrError is SpdrError and isinstance(media.value, SpdrError)


@pytest.mark.parametrize(
    ("array", "channels", "depth"),
    [(smooth_pixels(12, 16, 1)[..., 0].astype(np.uint8), 1, 8),
     (smooth_pixels(12, 16, 3).astype(np.uint8), 3, 8),
     (smooth_pixels(12, 16, 2).astype(np.uint8), 2, 8),
     (smooth_pixels(12, 16, 3) / 255.0, 3, 8),
     (smooth_pixels(12, 16, 1, peak=65535).astype(np.uint16), 1, 16)],
)
def test_encode_arrays(array, channels, depth):
    result = inrcodec.encode(array, steps=3)
    sig = result.header["signal"]
    assert (sig["height"], sig["width"], sig["channels"], sig["bit_depth"]) == (12, 16, channels, depth)
    out = inrcodec.decode(result.data)
    assert out.shape == (12, 16, channels) and out.dtype == (np.uint16 if depth == 16 else np.uint8)


def test_reported_metrics_are_measured_from_the_written_file(tmp_path, encoded_grey):
    src, _, px = encoded_grey
    out = tmp_path / "m.spdr"
    result = inrcodec.encode(src, out, steps=6, seed=1)
    assert out.read_bytes() == result.data and result.bytes == out.stat().st_size
    decoded = inrcodec.decode(out)
    ref, got = pixels_to_unit(px, 8), pixels_to_unit(decoded, 8)
    assert result.psnr_db == pytest.approx(psnr(got, ref), abs=1e-9)
    assert result.rho_ag == pytest.approx(rho_ag(got, ref, axes=(0, 1)), abs=1e-12)
    model = build_model(result.header["arch"])
    assert result.params == count_parameters(model)


def test_decode_accepts_bytes_and_paths(encoded_grey):
    _, spdr, _ = encoded_grey
    np.testing.assert_array_equal(inrcodec.decode(spdr), inrcodec.decode(spdr.read_bytes()))
    np.testing.assert_array_equal(inrcodec.decode(str(spdr)), inrcodec.decode(bytearray(spdr.read_bytes())))


def test_info(encoded_grey):
    _, spdr, _ = encoded_grey
    facts = inrcodec.info(spdr)
    assert facts["file_bytes"] == spdr.stat().st_size
    assert facts["bpp"] == pytest.approx(8 * spdr.stat().st_size / (12 * 16))
    assert facts["params"] == count_parameters(build_model(facts["header"]["arch"]))
    assert facts["header"]["encoder"]["seed"] == 0


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "o.spdr"
    out.write_bytes(b"keep")
    px = smooth_pixels(4, 5, 1).astype(np.uint8)
    with pytest.raises(OutputExistsError):
        inrcodec.encode(px, out, steps=1)
    assert out.read_bytes() == b"keep"
    inrcodec.encode(px, out, steps=1, force=True)
    assert out.read_bytes() != b"keep"


@pytest.mark.parametrize(
    "source",
    [np.zeros((4, 4, 5), np.uint8), np.zeros((0, 4), np.uint8), np.full((3, 3), 1.5), np.zeros((3, 3), np.int32), 42],
)
def test_bad_sources_are_media_errors(source):
    with pytest.raises(MediaError):
        inrcodec.encode(source, steps=1)


@pytest.mark.parametrize("settings", [{"bits": 7}, {"preset": "huge"}, {"lr": 0.0}, {"time_limit": -1.0}, {"activation": "tanh"}])
def test_bad_settings_are_value_errors(settings):
    with pytest.raises(ValueError):
        inrcodec.encode(np.zeros((3, 3), np.uint8), steps=1, **settings)


def test_missing_input_file(tmp_path):
    with pytest.raises(SpdrError):
        inrcodec.encode(tmp_path / "missing.png")
    with pytest.raises(SpdrError):
        inrcodec.decode(tmp_path / "missing.spdr")


def test_bits_setting_is_honoured():
    px = smooth_pixels(12, 16, 1).astype(np.uint8)
    r16 = inrcodec.encode(px, steps=3, bits=16, width=16)
    r6 = inrcodec.encode(px, steps=3, bits=6, width=16)
    bits16 = {t["bits"] for t in r16.header["quant"]["tensors"].values()}
    bits6 = {t["bits"] for t in r6.header["quant"]["tensors"].values()}
    assert bits16 == {16} and 6 in bits6
    assert r6.bytes < r16.bytes


def test_decode_of_a_video_too_large_for_one_array_refuses_and_points_to_decode_frames(monkeypatch):
    from attackgen import attack_generator

    import inrcodec.api

    video = attack_generator().bases()["video-ts"].data  # 4 frames of 5x3
    assert inrcodec.decode(video).shape == (4, 3, 5, 3)
    monkeypatch.setattr(inrcodec.api, "STACKED_VIDEO_BYTES", 4 * 3 * 5 * 3 - 1)
    with pytest.raises(inrcodec.errors.OutputTooLargeError, match="iterate decode_frames"):
        inrcodec.decode(video)
    assert inrcodec.decode(video, force=True).shape == (4, 3, 5, 3)
    assert len(list(inrcodec.decode_frames(video))) == 4  # streaming has no such limit
