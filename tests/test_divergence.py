"""A fit that produces NaN either recovers (and the file it writes is sound) or fails with one line and no file."""

from __future__ import annotations

import json

import torch
from click.testing import CliRunner
from conftest import write_image

import inrcodec.nn.activations
import inrcodec.nn.mlp
from inrcodec.cli import main
from inrcodec.codec.verify import verify_file


def encode(tmp_path, *args):
    src = tmp_path / "src.png"
    write_image(src, "grey")
    return CliRunner().invoke(main, ["encode", str(src), "-o", str(tmp_path / "out.spdr"), "--json", "--device", "cpu", *args])


def test_absurd_learning_rate_recovers_or_fails_cleanly(tmp_path, monkeypatch):
    monkeypatch.setenv("SPDR_COMPILE", "0")
    r = encode(tmp_path, "--lr", "0.9", "--steps", "30", "--width", "16")
    if r.exit_code == 0:
        report = json.loads(r.stdout)
        assert report["psnr_db"] == report["psnr_db"]  # not NaN: measured by decoding the written file
        assert verify_file(tmp_path / "out.spdr")["params"] == report["params"]
    else:
        assert r.exit_code == 1 and r.stderr.startswith("Error: fit diverged"), r.stderr
        assert not (tmp_path / "out.spdr").exists()


def test_nan_midway_is_recovered_from(tmp_path, monkeypatch):
    """Parameters turned NaN at one optimiser step: the fit restores its best weights and carries on."""
    monkeypatch.setenv("SPDR_COMPILE", "0")
    real_step, calls = torch.optim.Adam.step, {"n": 0}

    def poisoned_step(self, *args, **kwargs):
        out = real_step(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 15:
            with torch.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.fill_(float("nan"))
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", poisoned_step)
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
