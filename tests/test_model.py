"""Coordinate networks (inrcodec.nn.registry): finite gradients at z = 0, exact derivatives, sizes, init."""

from __future__ import annotations

import math

import pytest
import torch

from inrcodec.nn.activations import damped_sine
from inrcodec.nn.mlp import SineLayer
from inrcodec.nn.registry import build_model, count_parameters

DAMPINGS = ["sqrt", "log", "atan", "sqrt-relu", "none"]
NAIVE = {
    "sqrt": lambda z: torch.sin(z) * torch.sqrt(torch.abs(z)),
    "log": lambda z: torch.sin(z) * torch.log(torch.abs(z)),
    "atan": lambda z: torch.sin(z) * torch.atan(z),
    "sqrt-relu": lambda z: torch.sin(z) * torch.sqrt(torch.relu(z)),
    "none": torch.sin,
}


def arch(activation: str = "spder", width: int = 16, depth: int = 2, out: int = 1, **extra) -> dict:
    return {"activation": activation, "damping": "sqrt" if activation == "spder" else "none", "in_features": 2,
            "out_features": out, "width": width, "depth": depth, "omega0": 30.0, "first_omega0": 30.0, **extra}


@pytest.mark.parametrize("damping", DAMPINGS)
@pytest.mark.parametrize("z0", [0.0, 1e-12, -1e-12])
def test_gradient_is_finite_at_zero(damping, z0):
    z = torch.tensor([z0], dtype=torch.float32, requires_grad=True)
    damped_sine(z, damping).sum().backward()
    assert torch.isfinite(z.grad).all(), (damping, z0, z.grad)


def test_naive_autograd_is_not_finite_at_zero():
    # the reason for the custom function: autograd's own sqrt|z| backward gives 0 * inf = nan
    z = torch.zeros(1, requires_grad=True)
    NAIVE["sqrt"](z).sum().backward()
    assert not torch.isfinite(z.grad).all()


@pytest.mark.parametrize("damping", ["sqrt", "log", "atan", "sqrt-relu"])
def test_spder_layer_with_zero_weights_has_finite_gradients(damping):
    layer = SineLayer(2, 8, omega0=30.0, damping=damping, first=False)
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.zero_()
    x = torch.randn(5, 2, requires_grad=True)
    out = layer(x)
    assert torch.isfinite(out).all()
    (out * torch.randn_like(out)).sum().backward()
    for t in (x.grad, layer.weight.grad, layer.bias.grad):
        assert t is not None and torch.isfinite(t).all()


@pytest.mark.parametrize("damping", DAMPINGS)
def test_gradcheck_float64(damping):
    # away from 0 (and from log's clamp at 1e-3) the custom backward is the exact derivative
    gen = torch.Generator().manual_seed(1)
    z = torch.empty(40, dtype=torch.float64).uniform_(0.05, 6.0, generator=gen)
    z = (z * torch.where(torch.rand(40, generator=gen, dtype=torch.float64) < 0.5, -1.0, 1.0)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: damped_sine(t, damping), (z,), eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("damping", DAMPINGS)
def test_backward_matches_autograd_of_the_formula(damping):
    z = torch.linspace(-8, 8, 401, dtype=torch.float64)
    z = z[z.abs() > 1e-2].requires_grad_(True)
    (g_custom,) = torch.autograd.grad(damped_sine(z, damping).sum(), z)
    (g_naive,) = torch.autograd.grad(NAIVE[damping](z).sum(), z)
    torch.testing.assert_close(g_custom, g_naive, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(damped_sine(z, damping), NAIVE[damping](z), rtol=1e-12, atol=1e-12)


def test_paper_network_parameter_count():
    model = build_model(arch(width=256, depth=5, out=1))
    assert count_parameters(model) == 329_985


def test_siren_initialisation_bounds():
    torch.manual_seed(0)
    width = 128
    model = build_model(arch(width=width, depth=2))
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    first, hidden, head = linears[0], linears[1:-1], linears[-1]
    bound = 1.0 / 2  # fan_in = 2 coordinates
    assert first.weight.abs().max() <= bound and first.weight.abs().max() > 0.9 * bound
    for layer in hidden + [head]:
        b = math.sqrt(6.0 / width) / 30.0
        assert layer.weight.abs().max() <= b and layer.weight.abs().max() > 0.9 * b


@pytest.mark.parametrize("activation", ["spder", "siren", "relu", "relu-pe", "relu-ffn"])
def test_every_activation_builds_and_runs(activation):
    torch.manual_seed(0)
    model = build_model(arch(activation, out=3))
    y = model(torch.rand(7, 2) * 2 - 1)
    assert y.shape == (7, 3) and torch.isfinite(y).all()
    y.sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)


def test_fourier_matrix_is_stored_but_not_trained():
    model = build_model(arch("relu-ffn", width=16))
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    assert frozen == ["encoding.B"]
    assert "encoding.B" in model.state_dict()


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError):
        build_model(arch("tanh"))
