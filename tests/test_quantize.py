"""Quantization (inrcodec.nn.quantize): error bounds, per-row scales, bit plan, fake = real quantization."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from inrcodec.format.header import ALLOWED_BITS
from inrcodec.nn.quantize import BIAS_BITS, bit_plan, dequantize_state, qmax, quantize_state
from inrcodec.nn.registry import build_model
from inrcodec.train.qat import attach_fake_quant, detach_fake_quant, fake_quantize

ARCH = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 3, "width": 24, "depth": 2,
        "omega0": 30.0, "first_omega0": 30.0}


def model(activation: str = "spder"):
    torch.manual_seed(0)
    return build_model({**ARCH, "activation": activation, "damping": "sqrt" if activation == "spder" else "none"})


def uniform_plan(m, bits):
    return {n: (32 if not p.requires_grad else bits) for n, p in m.named_parameters()}


@pytest.mark.parametrize("bits", ALLOWED_BITS)
def test_round_trip_error_within_half_a_step(bits):
    m = model()
    tensors, quant = quantize_state(m, uniform_plan(m, bits))
    restored = dequantize_state(tensors, quant)
    for name, p in m.named_parameters():
        err = (restored[name] - p.detach()).abs()
        if bits >= 32:
            assert err.max() == 0
            continue
        scale = torch.from_numpy(tensors[name + ".scale"])
        per_elem = scale.reshape(-1, *([1] * (p.dim() - 1))) if p.dim() >= 2 else scale
        assert (err <= per_elem / 2 * (1 + 1e-6)).all(), name
        q = tensors[name]
        assert np.abs(q).max() <= qmax(bits)
        assert q.dtype == (np.int8 if bits <= 8 else np.int16)


def test_scales_are_per_output_row():
    m = model()
    with torch.no_grad():
        m.net[1].weight[0] *= 100.0  # one loud row must not coarsen the others
    tensors, quant = quantize_state(m, uniform_plan(m, 8))
    w = tensors["net.1.weight"]
    s = tensors["net.1.weight.scale"]
    assert s.shape == (w.shape[0],)
    assert quant["tensors"]["net.1.weight"]["scale_shape"] == [w.shape[0]]
    assert s[0] > 50 * s[1:].max()
    row_max = m.net[1].weight.detach().abs().amax(dim=1).numpy()
    np.testing.assert_allclose(s, row_max / qmax(8), rtol=1e-6)
    assert tensors["net.1.bias.scale"].shape == (1,)


@pytest.mark.parametrize("bits", [6, 8, 10, 16, 32])
def test_bit_plan(bits):
    m = model()
    plan = bit_plan(m, bits)
    assert set(plan) == {n for n, _ in m.named_parameters()}
    matrices = [n for n, p in m.named_parameters() if p.dim() >= 2]
    assert plan[matrices[0]] >= max(bits, BIAS_BITS) and BIAS_BITS >= 16
    for n in matrices[1:]:
        assert plan[n] == bits
    for n, p in m.named_parameters():
        if p.dim() == 1:
            assert plan[n] >= max(bits, 16)


def test_bit_plan_keeps_frozen_fourier_matrix_in_float():
    m = model("relu-ffn")
    plan = bit_plan(m, 8)
    assert plan["encoding.B"] == 32
    assert plan["net.0.weight"] >= 16


@pytest.mark.parametrize("bits", [6, 8, 10, 12, 16])
def test_fake_quantize_equals_stored_weights_exactly(bits):
    m = model()
    plan = uniform_plan(m, bits)
    tensors, quant = quantize_state(m, plan)
    restored = dequantize_state(tensors, quant)
    for name, p in m.named_parameters():
        assert torch.equal(fake_quantize(p.detach(), bits), restored[name]), name


def test_quantization_aware_model_sees_what_the_file_holds():
    m = model()
    plan = bit_plan(m, 8)
    tensors, quant = quantize_state(m, plan)
    loaded = model()
    loaded.load_state_dict(dequantize_state(tensors, quant))
    attach_fake_quant(m, plan)
    x = torch.rand(50, 2) * 2 - 1
    with torch.no_grad():
        assert torch.equal(m(x), loaded(x))
    detach_fake_quant(m)
    tensors2, _ = quantize_state(m, plan)  # float weights underneath survive removal
    for name in tensors:
        np.testing.assert_array_equal(tensors[name], tensors2[name])


def test_straight_through_gradient():
    w = torch.randn(6, 5, requires_grad=True)
    weights = torch.randn(6, 5)
    (fake_quantize(w, 6) * weights).sum().backward()
    torch.testing.assert_close(w.grad, weights)


def test_zero_tensor_quantizes_without_nan():
    m = model()
    with torch.no_grad():
        m.net[1].weight.zero_()
    tensors, quant = quantize_state(m, uniform_plan(m, 8))
    restored = dequantize_state(tensors, quant)
    assert torch.equal(restored["net.1.weight"], torch.zeros_like(m.net[1].weight))
