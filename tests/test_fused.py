"""Fused activations (nn/activations.fused_kernels): the same values and gradients as the eager kernels,
used only by long latent-grid fits, never by decoding, and a fit that still runs, with a notice, where compiling fails."""

from __future__ import annotations

import pytest
import torch

from inrcodec.nn import activations
from inrcodec.nn.activations import damped_sine
from inrcodec.nn.coords import grid_coords
from inrcodec.nn.fused import fused_kernels
from inrcodec.nn.latentgrid import LatentGridSPDER
from inrcodec.train.rdfit import RDFitOptions, fit_rd, should_fuse


def _z() -> torch.Tensor:
    torch.manual_seed(0)
    z = torch.randn(257, 19) * 4
    z[0, :5] = torch.tensor([0.0, -0.0, 1e-3, -1e-3, 3000.0])
    return z


@pytest.mark.parametrize("damping", ["sqrt", "atan"])
def test_fused_kernels_give_the_eager_values_and_gradients(damping):
    z = _z()
    eager_in, fused_in = z.clone().requires_grad_(True), z.clone().requires_grad_(True)
    g = torch.randn_like(z)
    eager = damped_sine(eager_in, damping)
    eager.backward(g)
    with fused_kernels():
        fused = damped_sine(fused_in, damping)
        fused.backward(g)
    assert fused.grad_fn._forward_cls is activations._fused_function(damping)
    torch.testing.assert_close(fused, eager, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(fused_in.grad, eager_in.grad, rtol=1e-4, atol=1e-4)
    assert torch.isfinite(fused_in.grad).all()


def test_without_gradients_the_eager_kernels_run_so_decoding_never_fuses():
    z = _z()
    with fused_kernels(), torch.no_grad():
        inside = damped_sine(z, "sqrt")
    assert torch.equal(inside, damped_sine(z, "sqrt"))
    with fused_kernels(False):
        assert damped_sine(z.clone().requires_grad_(True), "sqrt").grad_fn._forward_cls is not activations._fused_function("sqrt")


def _model(h=12, w=16, width=8) -> LatentGridSPDER:
    torch.manual_seed(0)
    arch = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 3, "width": width, "depth": 1,
            "omega0": 1.0, "first_omega0": 1.0, "grid_levels": 3, "grid_height": h, "grid_width": w, "arm_width": 4, "arm_depth": 1}
    return LatentGridSPDER(arch)


def test_only_long_fits_fuse(monkeypatch):
    monkeypatch.delenv("SPDR_COMPILE", raising=False)
    model = _model(width=24)
    assert not should_fuse(model, 64 * 48, RDFitOptions(steps=500))  # a test-sized photo
    assert should_fuse(model, 768 * 512, RDFitOptions(steps=500))  # the fast preset at 768x512
    assert not should_fuse(model, 768 * 512, RDFitOptions(steps=500, time_limit=10))  # no time to compile
    assert not should_fuse(model, 768 * 512, RDFitOptions(steps=500, fused=False))
    assert should_fuse(model, 10, RDFitOptions(steps=1, fused=True))
    monkeypatch.setenv("SPDR_COMPILE", "0")
    assert not should_fuse(model, 768 * 512, RDFitOptions(steps=500, fused=True))
    monkeypatch.setenv("SPDR_COMPILE", "1")
    assert should_fuse(model, 10, RDFitOptions(steps=1))


def _fit(fused: bool):
    model = _model()
    coords = grid_coords((12, 16))
    values = torch.rand(12 * 16, 3) * 2 - 1
    return fit_rd(model, coords, values, RDFitOptions(steps=30, fused=fused)), model


def test_a_fused_fit_lands_where_an_eager_one_does(monkeypatch):
    monkeypatch.delenv("SPDR_COMPILE", raising=False)
    eager, _ = _fit(False)
    fused, _ = _fit(True)
    assert fused.notices == () and fused.steps == eager.steps == 30
    assert fused.mse == pytest.approx(eager.mse, rel=0.05)


def test_a_fit_whose_compile_fails_runs_eager_and_says_so(monkeypatch):
    monkeypatch.delenv("SPDR_COMPILE", raising=False)

    def broken(damping):
        raise RuntimeError("no C compiler here\nsecond line")

    monkeypatch.setattr(activations, "_fused_function", broken)
    result, model = _fit(True)
    assert result.steps == 30 and len(result.notices) == 1
    assert result.notices[0].startswith("torch.compile failed on this machine (RuntimeError: no C compiler here)")
    assert torch.equal(model.latents, torch.round(model.latents))


def test_the_fused_rate_equals_the_entropy_models_own():
    model = _model(h=20, w=24)
    with torch.no_grad():
        model.latents.copy_(torch.round(torch.randn(model.latents.shape) * 3))
    eager = model.arm.bits(model.levels())
    eager.backward()
    want = [p.grad.clone() for p in model.arm.parameters()]
    model.zero_grad(set_to_none=True)
    with fused_kernels():
        fused = model.arm.bits(model.levels())
        fused.backward()
    torch.testing.assert_close(fused, eager, rtol=1e-5, atol=1e-3)
    for got, ref in zip((p.grad for p in model.arm.parameters()), want, strict=True):
        torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-4)
    with fused_kernels(), torch.no_grad():
        assert torch.equal(model.arm.bits(model.levels()), eager.detach())  # no gradients: the eager path, bit for bit
