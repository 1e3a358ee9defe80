"""The encoder side of format 1.7: a photo larger than a band is fitted band by band and packed as one file.

BAND_PIXELS is lowered here so that tiny photos are cut; the real one (1 M pixels) is measured by
benchmarks/large_photo.py on an 8000x6000 photo.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import inrcodec
from inrcodec.cli import main
from inrcodec.codec import bands
from inrcodec.format.container import unpack_segmented
from inrcodec.media.image import array_to_signal
from inrcodec.metrics import psnr
from tests.conftest import smooth_pixels

STEPS = 20


@pytest.fixture
def small_bands(monkeypatch):
    monkeypatch.setattr(bands, "BAND_PIXELS", 300)
    return 300


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return smooth_pixels(37, 24, 3, seed=5).astype(np.uint8)


def test_band_rows_are_few_equal_and_cover_the_photo():
    rows = bands.band_rows(6000, 8000)  # the benchmark's photo: 46 bands of 130-131 rows, each under 2^20 pixels
    assert len(rows) == 46 and sum(rows) == 6000 and max(rows) * 8000 <= 1 << 20
    for height, width, pixels in [(37, 24, 300), (1, 5000, 100), (1000, 1, 7), (10, 10, 100)]:
        rows = bands.band_rows(height, width, pixels)
        assert sum(rows) == height and max(rows) - min(rows) <= 1
        assert max(rows) == 1 or max(rows) * width <= pixels


def test_a_photo_larger_than_a_band_is_fitted_band_by_band(small_bands, photo, monkeypatch):
    seen = []
    real = bands.fit_parts

    def spy(signals, *args, **kwargs):
        def each():
            for k, signal in signals:
                seen.append(signal.grid_shape)
                yield k, signal
        return real(each(), *args, **kwargs)

    monkeypatch.setattr(bands, "fit_parts", spy)
    result = inrcodec.encode(photo, steps=STEPS)
    table, parts = unpack_segmented(result.data)
    assert inrcodec.info(result.data)["version"] == "1.7"
    assert [n for n, _ in table["segments"]] == bands.band_rows(37, 24, small_bands) == [h for h, _ in seen]
    assert all(h * w <= small_bands for h, w in seen)
    decoded = inrcodec.decode(result.data)
    assert decoded.shape == photo.shape
    unit = lambda a: a.astype(np.float32) / 127.5 - 1  # noqa: E731
    assert result.psnr_db == pytest.approx(psnr(unit(decoded), unit(photo)), abs=0.01)  # reported = decoded
    first, second = bands.band_rows(37, 24, small_bands)[:2]
    alone = inrcodec.encode(array_to_signal(photo[:first]), steps=STEPS, seed=0)
    assert parts[0] == alone.data  # band 0: the ordinary encode of its rows, seed 0 (band k: seed k)
    assert parts[1] == inrcodec.encode(array_to_signal(photo[first:first + second]), steps=STEPS, seed=1).data


def test_bpp_on_a_banded_photo_is_refused_in_one_line(small_bands, photo, tmp_path):
    path = tmp_path / "p.png"
    Image.fromarray(photo).save(path)
    run = CliRunner().invoke(main, ["encode", str(path), "--bpp", "2", "-o", str(tmp_path / "p.spdr")])
    assert run.exit_code == 1 and "--bpp on a photo above 300 pixels" in run.output
    assert not (tmp_path / "p.spdr").exists()


def test_the_cli_announces_the_bands_and_decodes_them_at_any_size(small_bands, photo, tmp_path):
    path = tmp_path / "p.png"
    Image.fromarray(photo).save(path)
    out = tmp_path / "p.spdr"
    run = CliRunner().invoke(main, ["encode", str(path), "--steps", str(STEPS), "-q", "-o", str(out)])
    assert run.exit_code == 0, run.output
    assert "4 bands of 9-10 rows (24 wide, 300 pixels a band at most), fitted one after another" in run.output
    big = tmp_path / "x2.png"
    assert CliRunner().invoke(main, ["decode", str(out), "--scale", "2", "-o", str(big)]).exit_code == 0
    assert Image.open(big).size == (48, 74)
