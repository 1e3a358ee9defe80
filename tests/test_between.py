"""The between-samples regulariser: off-grid targets (train/between.py), the fit's extra term, the encoder setting."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch

import inrcodec
from inrcodec.codec.presets import EncodeConfig
from inrcodec.media.audio import array_to_audio
from inrcodec.media.video import frames_to_signal
from inrcodec.nn.coords import CENTRE, TIMESTAMP, axis_affine, axis_positions
from inrcodec.nn.registry import build_model, make_arch
from inrcodec.train.between import BetweenSampler
from inrcodec.train.fit import FitOptions, fit

NET = {"width": 12, "depth": 1}


@pytest.mark.parametrize("placement", [CENTRE, TIMESTAMP])
def test_axis_affine_matches_the_grid_positions(placement):
    origin, step = axis_affine(7, 3.0, placement)
    assert torch.allclose(origin + step * torch.arange(7.0), axis_positions(7, 3.0, placement=placement))


@pytest.mark.parametrize("kind", ["linear", "cubic"])
def test_targets_of_a_plane_are_the_plane_at_the_coordinates(kind):
    # values a + b y + c x: linear and Keys cubic interpolants are both exact for it (inside the grid)
    h, w = 6, 9
    yy, xx = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    grid = (0.3 + 0.1 * yy - 0.05 * xx)[..., None]
    aff = [axis_affine(h), axis_affine(w)]
    coords, target = BetweenSampler(grid, aff, [0, 1], 500, kind)(torch.Generator().manual_seed(0))
    u = [(coords[:, a] - aff[a][0]) / aff[a][1] for a in range(2)]
    inside = (u[0] >= 1) & (u[0] <= h - 2) & (u[1] >= 1) & (u[1] <= w - 2) if kind == "cubic" else torch.ones(500, dtype=torch.bool)
    assert coords.shape == (500, 2) and target.shape == (500, 1)
    assert ((u[0] >= 0) & (u[0] <= h - 1) & (u[1] >= 0) & (u[1] <= w - 1)).all()
    assert torch.allclose(target[inside, 0], (0.3 + 0.1 * u[0] - 0.05 * u[1])[inside], atol=1e-5)


def test_axes_not_interpolated_stay_on_their_samples():
    grid = torch.randn(4, 5, 3, 2)  # (t, y, x, channels): blending along t only
    aff = [axis_affine(4, 1.0, TIMESTAMP), axis_affine(5), axis_affine(3)]
    coords, target = BetweenSampler(grid, aff, [0], 64, "linear")(torch.Generator().manual_seed(1))
    for a, n in ((1, 5), (2, 3)):
        u = (coords[:, a] - aff[a][0]) / aff[a][1]
        assert torch.allclose(u, u.round(), atol=1e-5) and u.min() >= 0 and u.max() <= n - 1
    ut = (coords[:, 0] - aff[0][0]) / aff[0][1]
    i0 = ut.floor().clamp(max=2).long()
    f = (ut - i0)[:, None]
    yi = ((coords[:, 1] - aff[1][0]) / aff[1][1]).round().long()
    xi = ((coords[:, 2] - aff[2][0]) / aff[2][1]).round().long()
    blend = (1 - f) * grid[i0, yi, xi] + f * grid[i0 + 1, yi, xi]
    assert torch.allclose(target, blend, atol=1e-5)


def test_fit_needs_a_sampler_for_a_positive_weight():
    model = build_model(make_arch("spder", 1, 1, 8, 1))
    x, y = torch.linspace(-1, 1, 8)[:, None], torch.zeros(8, 1)
    with pytest.raises(ValueError):
        fit(model, x, y, FitOptions(steps=2, between_weight=0.5))
    with pytest.raises(ValueError):
        fit(model, x, y, FitOptions(steps=2, between_weight=-1.0), between=lambda g: (x, y))


def test_the_regulariser_pulls_renders_between_samples_towards_the_interpolant():
    n = 9
    values = torch.sin(torch.linspace(0, 3, n))[:, None]
    origin, step = axis_affine(n)
    coords = origin + step * torch.arange(n, dtype=torch.float32)[:, None]
    probe = origin + step * (torch.arange(n - 1, dtype=torch.float32)[:, None] + 0.5)  # the midpoints
    mid = 0.5 * (values[:-1] + values[1:])
    errors = {}
    for mu in (0.0, 1.0):
        torch.manual_seed(0)
        model = build_model(make_arch("spder", 1, 1, 32, 2, first_omega0=30.0))  # rings between 9 samples unregularised
        sampler = BetweenSampler(values, [(origin, step)], [0], 64, "linear")
        res = fit(model, coords, values, FitOptions(steps=300, lr=1e-3, compile=False, between_weight=mu), between=sampler)
        assert np.isfinite(res.best_loss)
        with torch.no_grad():
            errors[mu] = float(torch.mean((model(probe) - mid) ** 2))
    assert errors[1.0] < 0.1 * errors[0.0]


def test_config_checks_the_weight():
    assert EncodeConfig(between_weight=0.0).between_weight == 0.0
    for bad in (-0.1, float("nan"), 1e9):
        with pytest.raises(ValueError):
            EncodeConfig(between_weight=bad)
    with pytest.raises(ValueError):
        EncodeConfig(bpp=1.0, between_weight=0.1)


def tiny_signals():
    t = np.arange(200) / 8000
    audio = array_to_audio((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[:, None], 8000)
    frames = np.full((3, 8, 10, 3), 40, np.uint8)
    frames[1, 2:5, 3:6] = 200
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (9, 11), dtype=np.uint8)
    return {"image": image, "audio": audio, "video": frames_to_signal(frames, Fraction(25))}


@pytest.mark.parametrize("medium", ["image", "audio", "video"])
def test_encoder_writes_what_it_used_and_the_file_decodes(medium):
    src = tiny_signals()[medium]
    result = inrcodec.encode(src, steps=6, between_weight=0.25, **NET)
    assert result.header["encoder"]["between_weight"] == 0.25
    assert np.isfinite(result.psnr_db)
    off = inrcodec.encode(src, steps=6, between_weight=0.0, **NET)
    assert "between_weight" not in off.header["encoder"]


def test_time_axis_scale_follows_the_sample_count_up_to_the_old_scale():
    from inrcodec.codec.result import coord_scales, time_scale

    assert time_scale("video", 9) == pytest.approx(0.25, abs=1e-3) and time_scale("video", 37) == 1.0
    assert time_scale("audio", 1536) == pytest.approx(25.0, abs=0.05) and time_scale("audio", 10_000) == 100.0
    assert coord_scales("video", (9, 4, 4)) == [time_scale("video", 9), 1.0, 1.0]
    assert coord_scales("image", (5, 7)) == [1.0, 1.0] and coord_scales("audio", (100_000,)) == [100.0]
    short = inrcodec.encode(tiny_signals()["video"], steps=2, **NET)
    assert short.header["coords"]["scale"] == [time_scale("video", 3), 1.0, 1.0]
