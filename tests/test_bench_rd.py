"""spdr bench rd: MS-SSIM against the paper's definition, BD-rate on hand-computed curves, the AVIF
anchor, and a tiny end-to-end run through the CLI."""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

from inrcodec.bench import _rdanchors
from inrcodec.bench._rdmetrics import bd_rate, ms_ssim, msssim_db, msssim_window
from inrcodec.bench.rd import load_rgb
from inrcodec.cli import main

needs_msssim = pytest.mark.skipif(importlib.util.find_spec("pytorch_msssim") is None,
                                   reason="pytorch-msssim is not installed (pip install -e '.[bench]')")


def reference_msssim(a: np.ndarray, b: np.ndarray) -> float:
    """MS-SSIM as Wang, Simoncelli & Bovik 2003 define it, in plain numpy (sizes even at every scale):
    gaussian 11 / 1.5 'valid' statistics, K = (0.01, 0.03), L = 255, 2x2 mean downsampling, contrast-
    structure at scales 1-4 and full SSIM at 5 under the paper's exponents; per channel, then averaged."""
    from numpy.lib.stride_tricks import sliding_window_view as win

    g = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    g /= g.sum()

    def blur(x):
        return win(win(x, 11, axis=0) @ g, 11, axis=1) @ g

    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    weights = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
    out = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        value = 1.0
        for level, w in enumerate(weights):
            mx, my = blur(x), blur(y)
            sxx, syy, sxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
            cs = (2 * sxy + c2) / (sxx + syy + c2)
            if level < 4:
                value *= max(cs.mean(), 0) ** w
                x, y = (v.reshape(v.shape[0] // 2, 2, v.shape[1] // 2, 2).mean(axis=(1, 3)) for v in (x, y))
            else:
                value *= max((((2 * mx * my + c1) / (mx**2 + my**2 + c1)) * cs).mean(), 0) ** w
        out.append(value)
    return float(np.mean(out))


@pytest.fixture(scope="module")
def photo256() -> np.ndarray:
    import skimage.data

    return np.ascontiguousarray(skimage.data.astronaut()[128:384, 128:384])


@needs_msssim
def test_msssim_identity_ordering_and_reference(photo256):
    rng = np.random.default_rng(0)
    noisy = {s: np.clip(photo256 + rng.normal(0, s, photo256.shape), 0, 255).astype(np.uint8) for s in (4, 16)}
    assert ms_ssim(photo256, photo256) == pytest.approx(1.0, abs=1e-6)
    assert msssim_db(1.0) == math.inf and msssim_db(0.9) == pytest.approx(10.0)
    assert 1 > ms_ssim(noisy[4], photo256) > ms_ssim(noisy[16], photo256) > 0.5
    jpeg = {q: _rdanchors.pillow_decode(_rdanchors.pillow_encode(photo256, "jpeg", q)) for q in (10, 50, 90)}
    assert ms_ssim(jpeg[90], photo256) > ms_ssim(jpeg[50], photo256) > ms_ssim(jpeg[10], photo256)
    for img in (noisy[16], jpeg[10]):  # the library against the paper's definition (float32 in the library)
        assert ms_ssim(img, photo256) == pytest.approx(reference_msssim(img, photo256), abs=2e-5)
    assert ms_ssim(noisy[16], photo256) == pytest.approx(0.9177, abs=1e-3)  # pinned: σ=16 noise on this crop


def test_msssim_window_follows_the_image_size():
    assert msssim_window(512, 768) == 11 and msssim_window(161, 900) == 11
    assert msssim_window(160, 160) == 9 and msssim_window(48, 48) == 3 and msssim_window(32, 64) is None


def test_bd_rate_on_hand_computed_curves():
    anchor = [(0.25, 30.0), (0.5, 33.0), (1.0, 36.0), (2.0, 39.0)]  # Q = 36 + 3 log2(R)
    # the same curve at 80 % of the rate: -20 % wherever they overlap
    assert bd_rate(anchor, [(0.8 * r, q) for r, q in anchor])["bd_rate_pct"] == pytest.approx(-20.0)
    # Q = 36 + 6 log2(R): log-rate difference (Q - 36)/6·ln2 - (Q - 36)/3·ln2, mean over the shared 30..39 dB
    # (both curves reach it inside 0.25-2 bpp) is +1.5/6·ln2, so BD-rate = 2^0.25 - 1 = +18.92 %
    steep = [(2.0**k, 36.0 + 6 * k) for k in range(-3, 3)]
    res = bd_rate(anchor, steep)
    assert res["bd_rate_pct"] == pytest.approx((2**0.25 - 1) * 100)
    assert (res["q_lo"], res["q_hi"], res["n_anchor"], res["n_test"]) == (30.0, 39.0, 4, 6)
    # twice the rate, half of it beyond 2 bpp: only 30..36 dB is shared inside the window; +100 %
    res = bd_rate(anchor, [(2 * r, q) for r, q in anchor])
    assert res["bd_rate_pct"] == pytest.approx(100.0) and res["q_hi"] == pytest.approx(36.0)
    # points that are no better than a smaller file are dropped; too few points or no overlap: None
    assert bd_rate(anchor, [(0.3, 31.0), (0.4, 30.0), (1.0, 35.0)])["n_test"] == 2
    assert bd_rate(anchor, [(1.0, 35.0)]) is None
    assert bd_rate(anchor, [(2.5, 40.0), (4.0, 42.0)]) is None
    assert bd_rate(anchor, [(0.3, 45.0), (1.0, 50.0)]) is None


@needs_msssim
def test_avif_anchor_curve_rises_and_decodes(monkeypatch):
    pixels = load_rgb("coffee", 64)
    monkeypatch.setitem(_rdanchors.QUALITIES, "avif", tuple(range(0, 101, 10)))
    curve = _rdanchors.pillow_curve(pixels, "avif")
    sizes, psnrs = [p["bytes"] for p in curve], [p["psnr_db"] for p in curve]
    assert sum(b < a for a, b in zip(sizes, sizes[1:], strict=False)) <= 1 and sizes[-1] > 3 * sizes[0]  # monotone-ish
    assert sum(b < a - 0.1 for a, b in zip(psnrs, psnrs[1:], strict=False)) <= 1 and psnrs[-1] > psnrs[0] + 8
    data = _rdanchors.pillow_encode(pixels, "avif", 50)
    assert data[4:12] == b"ftypavif" and data == _rdanchors.pillow_encode(pixels, "avif", 50)  # deterministic
    decoded = _rdanchors.pillow_decode(data)
    assert decoded.shape == pixels.shape and decoded.dtype == np.uint8
    assert all(p["encode_s"] > 0 and p["decode_s"] > 0 for p in curve)
    assert [p["msssim"] is not None for p in curve] == [i % 2 == 0 or i == 10 for i in range(11)]


def test_photos_are_area_averaged_never_upscaled():
    assert load_rgb("chelsea", 512).shape == (300, 451, 3)
    assert load_rgb("coffee", 512).shape == (341, 512, 3) and load_rgb("motorcycle", 48).shape == (32, 48, 3)


@needs_msssim
def test_bench_rd_end_to_end(tmp_path, monkeypatch):
    """Two photos (one of each set) at 48 px, two qualities, 20 steps, coarse anchor scans."""
    for codec, qs in {"jpeg": (10, 30, 50, 70, 85, 95), "webp": (10, 40, 70, 100), "avif": (10, 40, 70, 100)}.items():
        monkeypatch.setitem(_rdanchors.QUALITIES, codec, qs)
    args = ["bench", "rd", "astronaut", "immunohistochemistry", "--size", "48", "--steps", "20", "--quality", "40,90",
            "--out", str(tmp_path), "--json", "-q"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows == json.loads((tmp_path / "rd.json").read_text())
    kinds = {k: [r for r in rows if r["kind"] == k] for k in ("point", "equal_bytes", "bd_rate", "jpeg_check")}
    assert sum(map(len, kinds.values())) == len(rows)
    spdr = [r for r in kinds["point"] if r["codec"] == "spdr"]
    assert len(spdr) == 4 and len(kinds["point"]) == 4 + 2 * (6 + 4 + 4)
    assert len(kinds["equal_bytes"]) == 4 * 3 and len(kinds["bd_rate"]) == 2 * 3 * 2 and len(kinds["jpeg_check"]) == 2
    assert {r["input"]: r["set"] for r in rows} == {"astronaut": "tuning", "immunohistochemistry": "evaluation"}
    for r in spdr:
        assert r["steps"] == 20 and r["preset"] == "fast" and r["encode_s"] > 0 and r["decode_s"] > 0
        assert r["bytes"] * 8 == pytest.approx(r["bpp"] * 48 * 48) and 10 < r["psnr_db"] < 60 and 0 < r["msssim"] < 1
    scan = {(r["input"], r["codec"], r["quality"]): r for r in kinds["point"]}
    for r in kinds["equal_bytes"]:  # the best anchor file no larger, its MS-SSIM measured, in the points too
        assert r["bytes"] is None or r["bytes"] <= r["spdr_bytes"]
        assert r["bytes"] is None or r["msssim"] is not None and scan[(r["input"], r["codec"], r["quality"])]["msssim"] == r["msssim"]
    assert all(r["bd_rate_pct"] is None or math.isfinite(r["bd_rate_pct"]) for r in kinds["bd_rate"])
    assert all(r["jpeg_quality"] == 85 and r["passes"] in (True, False) for r in kinds["jpeg_check"])
    assert all(r["commit"] and r["seed"] == 0 and "spdr bench rd" in r["command"] for r in rows)
    md = (tmp_path / "rd.md").read_text()
    for text in ("commit:", "tuning photos", "evaluation photos", "preset fast, 20 steps", "AVIF: Pillow libavif, speed",
                 "## BD-rate", "mean, evaluation", "mean, tuning", "JPEG q85", "## At equal bytes", "## Encode and decode"):
        assert text in md, text
    from PIL import Image

    with Image.open(tmp_path / "rd_curves.png") as img:
        assert "spdr bench rd" in img.text["Description"] and "commit" in img.text["Description"]
    assert CliRunner().invoke(main, ["bench", "image", "--quality", "50"]).exit_code == 2
