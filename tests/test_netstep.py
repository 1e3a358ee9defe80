"""The synthesis weights' quantization step, chosen per file by rate-distortion (inrcodec/rate/netstep.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import smooth_pixels

import inrcodec
from inrcodec.format.latentcoding import tensor_stream_bits
from inrcodec.format.limits import read_checked
from inrcodec.nn.coords import grid_coords
from inrcodec.nn.latentgrid import LatentGridSPDER, default_levels
from inrcodec.nn.quantize import qmax, quantize_grid, quantize_tensor, synthesis_matrices
from inrcodec.rate import netstep
from inrcodec.rate.plan import RateOptions, RatePlan, grid_arch
from inrcodec.train.rdfit import RDFitOptions, fit_rd


def _fitted(seed: int = 0, steps: int = 60) -> tuple[LatentGridSPDER, torch.Tensor, torch.Tensor, RatePlan]:
    px = smooth_pixels(24, 32, 3, seed=seed).astype(np.float32) / 127.5 - 1
    plan = RatePlan(10**9, 16, 1, default_levels(24, 32), steps)
    torch.manual_seed(seed)
    model = LatentGridSPDER(grid_arch(plan, 24, 32, 3, "sqrt", RateOptions(stencil=2)))
    coords, values = grid_coords((24, 32)), torch.from_numpy(px.reshape(-1, 3))
    fit_rd(model, coords, values, RDFitOptions(steps=steps, lr_latents=0.1, lr_net=2e-2, lam=1e-3, noise_fraction=0.95))
    return model, coords, values, plan


@pytest.mark.parametrize("coarsen", [1.0, 3.0, 8.0])
def test_a_coarsened_tensor_keeps_its_error_within_half_its_wider_step(coarsen):
    w = torch.randn(12, 20)
    q, s = quantize_tensor(w, 8, per_row=False, coarsen=coarsen)
    assert s[0] == pytest.approx(float(w.abs().max()) / qmax(8) * coarsen, rel=1e-6)
    assert np.abs(q).max() <= qmax(8) / coarsen + 0.5  # the same integer range, fewer of its values used
    assert np.abs(q * s[0] - w.numpy()).max() <= s[0] / 2 + 1e-7


def test_coarser_steps_cost_fewer_stream_bits():
    w = torch.randn(24, 25) * 0.3
    bits = [tensor_stream_bits(quantize_tensor(w, 8, per_row=False, coarsen=c)[0], 8) for c in (1, 2, 4, 8)]
    assert all(a > b for a, b in zip(bits, bits[1:], strict=False))
    assert bits[0] - bits[-1] > 2 * w.numel()  # about log2(8) = 3 bits a weight fewer


def test_only_the_synthesis_matrices_are_coarsened():
    model, *_ = _fitted(steps=5)
    fine, _ = quantize_grid(model, 8, 8, False, 1.0)
    coarse, _ = quantize_grid(model, 8, 8, False, 4.0)
    names = set(synthesis_matrices(model))
    assert names == {"net.0.weight", "net.1.weight", "net.2.weight"}
    for name in fine:
        owner = name.removesuffix(".scale")
        if owner in names and name != owner:
            assert coarse[name][0] == pytest.approx(4 * fine[name][0])
        elif owner in names:
            assert np.abs(coarse[name]).max() <= qmax(8) / 4 + 0.5
        else:  # latents, biases, the entropy model: as before
            assert np.array_equal(fine[name], coarse[name]), name


def test_the_choice_follows_the_rate_weight():
    """No rate weight: the step with the least error (rounding can land a slightly coarser step below the finest);
    an enormous one: the coarsest (fewest bits); each candidate's cost is its MSE plus lambda times its bits per sample."""
    model, coords, values, plan = _fitted()
    least, table = netstep.choose_coarsening(model, coords, values, 0.0, plan)
    assert [row["coarsen"] for row in table] == list(netstep.COARSENINGS)
    assert least == min(table, key=lambda row: row["mse"])["coarsen"] and least <= 4.0
    coarsest, table = netstep.choose_coarsening(model, coords, values, 1e3, plan)
    assert coarsest == netstep.COARSENINGS[-1]
    n = coords.shape[0]
    assert all(row["cost"] == pytest.approx(row["mse"] + 1e3 * row["weight_bits"] / n) for row in table)
    assert table[0]["mse"] < table[-1]["mse"] and table[0]["weight_bits"] > table[-1]["weight_bits"]


def test_an_encoded_file_stores_the_chosen_step_and_decodes_to_what_encode_reported(tmp_path, monkeypatch):
    """The step is the stored scale: the encoder's choice travels in the file, and the PSNR it reports is the
    decoder's. At a low quality the chosen step is coarser than the 8-bit max-covering one, and the file smaller."""
    px = smooth_pixels(32, 48, 3, seed=5).astype(np.uint8)
    chosen = []
    original = netstep.choose_coarsening

    def spy(*args, **kwargs):
        out = original(*args, **kwargs)
        chosen.append(out[0])
        return out

    monkeypatch.setattr("inrcodec.rate.quality.choose_coarsening", spy)
    res = inrcodec.encode(px, tmp_path / "a.spdr", quality=10, steps=80, device="cpu")
    assert chosen and chosen[0] > 1.0
    decoded = inrcodec.decode(tmp_path / "a.spdr")
    psnr = 10 * np.log10(255.0**2 / np.mean((decoded.astype(np.float64) - px) ** 2))
    assert psnr == pytest.approx(res.psnr_db, abs=1e-6)
    tensors = read_checked((tmp_path / "a.spdr").read_bytes()).tensors
    peak = np.abs(tensors["net.1.weight"]).max()
    assert peak <= qmax(8) / chosen[0] + 0.5
    monkeypatch.setattr(netstep, "COARSENINGS", (1.0,))
    plain = inrcodec.encode(px, tmp_path / "b.spdr", quality=10, steps=80, device="cpu")
    assert res.bytes < plain.bytes
