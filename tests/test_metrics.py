"""Fidelity metrics (inrcodec.metrics): PSNR, SNR and rho_AG on inputs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from inrcodec.metrics import mse, psnr, psnr_from_mse, rho_ag, snr


def test_psnr_of_a_known_mse():
    a = np.zeros((8, 8))
    b = np.full((8, 8), 0.1)  # MSE 0.01 on a peak-to-peak range of 2
    assert mse(a, b) == pytest.approx(0.01)
    assert psnr(a, b) == pytest.approx(10 * math.log10(400))
    assert psnr_from_mse(0.01) == pytest.approx(10 * math.log10(400))


def test_psnr_of_identical_inputs_is_infinite():
    x = np.linspace(-1, 1, 10)
    assert psnr(x, x) == math.inf


def test_snr_of_a_known_noise():
    ref = np.ones(1000)
    noise = 0.1 * np.where(np.arange(1000) % 2 == 0, 1.0, -1.0)  # power 0.01
    assert snr(ref, ref + noise) == pytest.approx(20.0)
    assert snr(ref, ref) == math.inf


def test_rho_ag_identical_and_scaled():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 12, 3))
    assert rho_ag(x, x, axes=(0, 1)) == pytest.approx(1.0)
    assert rho_ag(3.5 * x, x, axes=(0, 1)) == pytest.approx(1.0)


def test_rho_ag_below_one_for_different_inputs():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((16, 12))
    smooth = np.outer(np.hanning(16), np.hanning(12))
    value = rho_ag(smooth, x)
    assert 0.0 < value < 0.99
    assert rho_ag(x, np.zeros_like(x)) == 0.0


def test_psnr_of_an_infinite_or_unknown_mse():
    assert psnr_from_mse(math.inf) == -math.inf
    assert math.isnan(psnr_from_mse(math.nan))
    assert psnr_from_mse(0.0) == math.inf


def test_progress_before_the_first_minibatch_score(capsys):
    """Minibatch fits score the full data every few steps; before the first score the loss is inf (was a crash)."""
    import io

    from inrcodec.cli.progress import ProgressReporter

    out = io.StringIO()
    report = ProgressReporter(stream=out)
    report("fit", 10, 30, math.inf, 1.0)
    report("fit", 30, 30, 0.01, 3.0)
    lines = out.getvalue().splitlines()
    assert lines == ["fit: step 10/30, PSNR not measured yet, 1 s, ETA 2 s", "fit: step 30/30, PSNR 26.02 dB, 3 s, ETA 0 s"]
