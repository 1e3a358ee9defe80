"""A fit that produces NaN recovers (and the file it writes is sound), or, when it never had a finite loss, fails with
one line and no file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from conftest import poison_adam, write_image

import inrcodec
import inrcodec.nn.activations
import inrcodec.nn.mlp
from inrcodec.cli import main
from inrcodec.codec.verify import verify_file


def encode(tmp_path, *args):
    src = tmp_path / "src.png"
    write_image(src, "grey")
    return CliRunner().invoke(main, ["encode", str(src), "-o", str(tmp_path / "out.spdr"), "--json", "--device", "cpu", *args])


def test_absurd_learning_rate_is_recovered_from(tmp_path, monkeypatch):
    """lr 0.9 blows the loss up: the fit halves the rate and restores its best weights (measured, seed 0: twice), so the
    fitted network is no worse than the untrained one and the file is finite, not NaN. (The stored 8-bit network can lose
    about 1 dB to that float network here: weights wrecked by lr 0.9 quantize badly, so the bound is on the float fit.)"""
    monkeypatch.setenv("SPDR_COMPILE", "0")
    src = tmp_path / "src.png"
    px = write_image(src, "grey")
    base = inrcodec.encode(src, steps=1, lr=1e-9, width=16)
    untrained = base.float_psnr_db
    rates, real_init = [], torch.optim.Adam.__init__

    def init(self, params, lr=1e-3, **kwargs):
        rates.append(lr)
        real_init(self, params, lr=lr, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "__init__", init)
    r = encode(tmp_path, "--lr", "0.9", "--steps", "30", "--width", "16")
    assert r.exit_code == 0, r.stderr
    assert rates[:3] == [0.9, pytest.approx(0.45), pytest.approx(0.225)], rates  # two recoveries, each halving the rate
    report = json.loads(r.stdout)
    assert report["float_psnr_db"] >= untrained - 0.05, (report["float_psnr_db"], untrained)
    assert report["psnr_db"] >= base.psnr_db - 1.5, (report["psnr_db"], base.psnr_db)  # finite, and near the untrained file
    err = inrcodec.decode(tmp_path / "out.spdr").astype(np.float64) - px
    assert report["psnr_db"] == pytest.approx(10 * np.log10(255**2 / np.mean(err**2)), abs=1e-3)  # measured from the file
    assert verify_file(tmp_path / "out.spdr")["params"] == report["params"]


def test_nan_midway_is_recovered_from(tmp_path, monkeypatch):
    """Parameters turned NaN at one optimiser step: the fit restores its best weights and carries on."""
    monkeypatch.setenv("SPDR_COMPILE", "0")
    calls = poison_adam(monkeypatch, at_step=15)
    r = encode(tmp_path, "--steps", "30", "--width", "16")
    assert r.exit_code == 0, r.stderr
    assert calls["n"] > 15
    report = json.loads(r.stdout)
    assert report["psnr_db"] > 5 and verify_file(tmp_path / "out.spdr")["params"] == report["params"]


def test_nan_from_the_first_step_fails_with_one_line_and_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SPDR_COMPILE", "0")
    real = inrcodec.nn.activations.damped_sine
    monkeypatch.setattr(inrcodec.nn.mlp, "damped_sine", lambda z, damping="sqrt": real(z, damping) * float("nan"))
    r = encode(tmp_path, "--steps", "30", "--width", "16")
    assert r.exit_code == 1, r.stdout
    assert r.stderr.strip().startswith("Error: fit diverged") and "lower --lr" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src.png"]
