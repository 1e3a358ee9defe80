"""The separable sampler (nn/separable.py) gives what grid_sample gives on a photo's own pixel grid, values and
gradients, and a full-batch fit through it lands where the per-point path does."""

from __future__ import annotations

import copy

import pytest
import torch

from inrcodec.nn.coords import grid_coords
from inrcodec.nn.latentgrid import LatentGridSPDER, default_levels
from inrcodec.nn.separable import bilinear_taps, product_axes
from inrcodec.train.rdfit import RDFitOptions, fit_rd


def _model(h: int, w: int, stencil: int = 0, interp: int = 1, levels: int | None = None) -> LatentGridSPDER:
    torch.manual_seed(0)
    arch = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 3, "width": 8, "depth": 1,
            "omega0": 1.0, "first_omega0": 1.0, "grid_levels": levels or default_levels(h, w), "grid_height": h,
            "grid_width": w, "arm_width": 4, "arm_depth": 1}
    if stencil:
        arch["grid_stencil"] = stencil
    if interp != 1:
        arch["grid_interp"] = interp
    model = LatentGridSPDER(arch)
    with torch.no_grad():  # integer-like latents of several units, as a fit leaves them
        model.latents.copy_(torch.round(torch.randn(model.latents.shape) * 4))
    return model


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 1), (3, 3), (12, 16), (13, 17), (31, 8), (64, 97)])
@pytest.mark.parametrize("stencil", [0, 1, 2])
def test_features_and_gradients_equal_grid_samples(shape, stencil):
    h, w = shape
    model = _model(h, w, stencil=min(stencil, default_levels(h, w)))
    coords = grid_coords(shape)
    axes = model.separable_axes(coords)
    assert axes is not None
    outs = []
    for ax in (None, axes):
        latents = model.latents.detach().clone().requires_grad_(True)
        pred = model(coords, latents, axes=ax)
        pred.square().sum().backward()
        outs.append((pred.detach(), latents.grad))
    (p0, g0), (p1, g1) = outs
    assert torch.allclose(p1, p0, atol=1e-5, rtol=1e-5)
    assert torch.allclose(g1, g0, atol=1e-3, rtol=1e-4)


def test_taps_clamp_at_the_borders_as_border_padding_does():
    x = torch.tensor([-1.5, -1.0, -0.99, 0.0, 0.99, 1.0, 1.5])
    i0, i1, w0, w1 = bilinear_taps(x, 4)
    assert i0.min() >= 0 and i1.max() <= 3
    assert torch.allclose(w0 + w1, torch.ones_like(w0))
    assert (i0[0], w1[0]) == (0, 0.0) and i0[-1] == 3 and w1[-1] == 0.0  # outside: the edge cell, whole


def test_only_a_whole_row_major_pixel_grid_is_separable():
    coords = grid_coords((6, 5))
    assert product_axes(coords, 6, 5) is not None
    assert product_axes(coords, 5, 6) is None  # not this grid's shape
    assert product_axes(coords[:-1], 6, 5) is None  # a part of it
    assert product_axes(grid_coords((5, 6))[:, [1, 0]], 6, 5) is None  # the same points, y varying fastest
    bumped = coords.clone()
    bumped[7, 1] += 1e-6
    assert product_axes(bumped, 6, 5) is None  # one point off the grid
    assert product_axes(grid_coords((12, 10)), 6, 5) is None  # a 2x render's coordinates


def test_any_product_grid_is_sampled_right_not_only_the_native_one():
    model = _model(6, 5, stencil=1)
    coords = grid_coords((6, 5)).flip(0) * 1.3  # reversed axes, reaching past the borders
    axes = model.separable_axes(coords)
    assert axes is not None
    with torch.no_grad():
        assert torch.allclose(model(coords, axes=axes), model(coords), atol=1e-5)


def test_bicubic_latents_keep_the_per_point_path():
    model = _model(6, 5, interp=3)
    assert model.separable_axes(grid_coords((6, 5))) is None


def test_a_full_batch_fit_lands_where_the_per_point_fit_does(monkeypatch):
    model = _model(24, 32, stencil=2)
    coords = grid_coords((24, 32))
    torch.manual_seed(1)
    values = torch.rand(24 * 32, 3) * 2 - 1
    opts = RDFitOptions(steps=40, fused=False)
    fast = copy.deepcopy(model)
    r_fast = fit_rd(fast, coords, values, opts)
    monkeypatch.setattr(LatentGridSPDER, "separable_axes", lambda self, c: None)
    slow = copy.deepcopy(model)
    r_slow = fit_rd(slow, coords, values, opts)
    assert r_fast.mse == pytest.approx(r_slow.mse, rel=1e-3)
    assert r_fast.latent_bits == pytest.approx(r_slow.latent_bits, rel=1e-3)
    assert (fast.latents != slow.latents).float().mean() < 0.01  # rounded latents: at most a rare tie flips


def test_a_minibatch_fit_does_not_take_the_separable_path(monkeypatch):
    model = _model(12, 16)
    calls = []
    monkeypatch.setattr("inrcodec.nn.latentgrid.product_features", lambda *a: calls.append(a))
    fit_rd(model, grid_coords((12, 16)), torch.zeros(12 * 16, 3), RDFitOptions(steps=3, batch=50, fused=False))
    assert calls == []
