"""`spdr encode --quality`: the default image encoder's scale, its progress phases and its time budget."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import smooth_pixels

import inrcodec
from inrcodec.cli.progress import ProgressReporter
from inrcodec.rate import quality as q
from inrcodec.rate.plan import PRESET_STEPS


def test_lambda_falls_monotonically_over_the_whole_scale():
    lams = [q.quality_lambda(x) for x in range(0, 101, 5)]
    assert all(a > b for a, b in zip(lams, lams[1:], strict=False))
    assert lams[0] == pytest.approx(q.LAMBDA_AT_0) and lams[-1] == pytest.approx(q.LAMBDA_AT_100)
    assert q.quality_lambda(-5) == lams[0] and q.quality_lambda(140) == lams[-1]  # clamped, never extrapolated


def test_expected_rate_grows_with_quality():
    rates = [q.expected_bpp(q.quality_lambda(x)) for x in (0, 25, 50, 75, 100)]
    assert all(a < b for a, b in zip(rates, rates[1:], strict=False))


def test_the_tail_budget_is_a_bounded_share_of_time():
    assert q.tail_seconds(768 * 512, 180.0) == pytest.approx(0.05 * 180 + q.TAIL_SECONDS_PER_PIXEL * 768 * 512)
    assert q.tail_seconds(8192 * 8192, 10.0) == 5.0  # never more than half of --time
    assert 0 < q.tail_seconds(16, 1.0) < 0.1


def test_progress_names_every_phase_in_order(tmp_path):
    """fit, then pack (entropy coding), then measure (decoding the file): each reported as it starts and ends."""
    seen: list[tuple[str, int, int]] = []
    px = smooth_pixels(24, 32, 3).astype(np.uint8)
    inrcodec.encode(px, tmp_path / "a.spdr", steps=50, device="cpu", progress=lambda p, s, n, loss, t: seen.append((p, s, n)))
    phases = list(dict.fromkeys(p for p, _, _ in seen))
    assert phases == ["fit", "pack", "measure"]
    assert seen[-4:] == [("pack", 0, 1), ("pack", 1, 1), ("measure", 0, 1), ("measure", 1, 1)]
    out = io.StringIO()
    report = ProgressReporter(stream=out)
    for p, s, n in seen:
        report(p, s, n, 1e-3, 1.0)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines][-3:] == ["pack", "measure", "measure"]
    assert lines[-2].endswith("starting") and lines[-1].endswith("ETA 0 s")  # no ETA projected from zero steps


def test_higher_quality_never_gives_a_smaller_worse_file(tmp_path):
    px = smooth_pixels(32, 48, 3, seed=3).astype(np.uint8)
    low = inrcodec.encode(px, tmp_path / "low.spdr", quality=5, steps=120, device="cpu")
    high = inrcodec.encode(px, tmp_path / "high.spdr", quality=95, steps=120, device="cpu")
    assert high.bytes > low.bytes
    assert high.psnr_db > low.psnr_db
    assert low.header["quant"]["coding"] == high.header["quant"]["coding"] == "arm"


def test_photos_get_their_own_synthesis_cap():
    high, low = q.quality_lambda(q.LONG_SYNTHESIS_QUALITY), q.quality_lambda(q.LONG_SYNTHESIS_QUALITY - 1)
    assert q.synthesis_cap("image", q.LONG_FIT_STEPS - 1, high) == q.IMAGE_SYNTHESIS  # a short fit
    assert q.synthesis_cap("image", q.LONG_FIT_STEPS, low) == q.IMAGE_SYNTHESIS  # a long fit at a lower quality
    assert q.synthesis_cap("image", q.LONG_FIT_STEPS, high) == q.IMAGE_SYNTHESIS_LONG
    assert q.IMAGE_SYNTHESIS_LONG[0] > q.IMAGE_SYNTHESIS[0]
    for steps in (10, q.LONG_FIT_STEPS, 10**5):
        assert q.synthesis_cap("audio", steps, high) == q.synthesis_cap("video", steps, high) == q.MAX_SYNTHESIS


def test_the_default_encode_fits_the_long_synthesis():
    """balanced (the default preset) at photos' default quality reaches the long cap; fast does not."""
    assert PRESET_STEPS["balanced"] >= q.LONG_FIT_STEPS > PRESET_STEPS["fast"]
    assert q.IMAGE_DEFAULT_QUALITY >= q.LONG_SYNTHESIS_QUALITY


@pytest.mark.parametrize(("steps", "quality", "width"), [(29, 80, 4), (30, 70, 4), (30, 80, 6)])
def test_a_long_fit_writes_the_long_synthesis(tmp_path, monkeypatch, steps, quality, width):
    """The step count and the quality reach the file: only a fit of LONG_FIT_STEPS at LONG_SYNTHESIS_QUALITY or above is
    written with the long cap's network."""
    px = smooth_pixels(48, 64, 3, seed=4).astype(np.uint8)
    monkeypatch.setattr(q, "IMAGE_SYNTHESIS", (4, 0))
    monkeypatch.setattr(q, "IMAGE_SYNTHESIS_LONG", (6, 0))
    monkeypatch.setattr(q, "LONG_FIT_STEPS", 30)
    res = inrcodec.encode(px, tmp_path / "a.spdr", quality=quality, steps=steps, device="cpu")
    assert res.header["arch"]["width"] == width


def test_the_encoder_writes_the_capped_synthesis(tmp_path, monkeypatch):
    """The cap reaches the file: a cap below the rate plan's own width is the width written; a cap above it leaves
    the plan's width."""
    px = smooth_pixels(48, 64, 3, seed=4).astype(np.uint8)
    monkeypatch.setattr(q, "IMAGE_SYNTHESIS", (4, 0))
    capped = inrcodec.encode(px, tmp_path / "a.spdr", quality=20, steps=30, device="cpu")
    assert (capped.header["arch"]["width"], capped.header["arch"]["depth"]) == (4, 0)
    monkeypatch.setattr(q, "IMAGE_SYNTHESIS", (64, 1))
    planned = inrcodec.encode(px, tmp_path / "b.spdr", quality=20, steps=30, device="cpu")
    assert 4 < planned.header["arch"]["width"] < 64
