"""`spdr verify` and the decoder's network limits (inrcodec/verify.py, inrcodec/safety.py)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import inrcodec
from inrcodec.cli import main
from inrcodec.codec.runtime import load_model
from inrcodec.codec.verify import verify_bytes
from inrcodec.errors import NetworkError, TensorMismatch
from inrcodec.format import geometry
from inrcodec.format import limits as safety
from inrcodec.format.container import pack
from inrcodec.nn.quantize import bit_plan, quantize_state
from inrcodec.nn.registry import build_model


def arch(activation="spder", inputs=2, outputs=1, width=8, depth=1, **extra) -> dict:
    return {"activation": activation, "damping": "sqrt" if activation == "spder" else "none", "in_features": inputs,
            "out_features": outputs, "width": width, "depth": depth, "omega0": 30.0, "first_omega0": 30.0, **extra}


def image_file(a: dict, height=5, width=7, seed=0, **header_changes) -> bytes:
    """A .spdr image file of a randomly initialised network `a` (no fitting)."""
    torch.manual_seed(seed)
    model = build_model(a)
    tensors, quant = quantize_state(model, bit_plan(model, 8))
    channels = a["out_features"]
    mode = {1: "L", 3: "RGB"}[channels]
    header = {"modality": "image", "signal": {"height": height, "width": width, "channels": channels, "mode": mode, "bit_depth": 8},
              "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
              "values": {"offset": [0.0] * channels, "scale": [1.0] * channels}, "arch": a, "quant": quant}
    for path, value in header_changes.items():
        section, key = path.split("__")
        header[section][key] = value
    return pack(header, tensors)


@pytest.mark.parametrize("a", [
    arch(), arch(width=16, depth=0), arch("spder", 3, 3, 12, 3), arch("siren", 1, 2, 8, 2), arch("relu", 2, 3, 8, 2),
    arch("relu-pe", 2, 1, 8, 1, pe_frequencies=4), arch("relu-ffn", 3, 3, 8, 2, ffn_features=5, ffn_sigma=2.0),
    arch("spder", 2, 4, 8, 1, damping="log"), arch(grid_levels=2, grid_height=4, grid_width=4, omega0=1.0, first_omega0=1.0),
    arch("spder", 2, 3, 12, 0, grid_levels=4, grid_height=7, grid_width=5, grid_interp=3),
], ids=lambda a: f"{a['activation']}-{a['in_features']}-{a['out_features']}-{a['width']}x{a['depth']}")
def test_expected_tensors_match_the_torch_model(a):
    """safety's torch-free shape rules must describe exactly what model.build_model builds."""
    built = {k: list(v.shape) for k, v in build_model(a).state_dict().items()}
    assert safety.expected_tensors(a) == built
    assert geometry.network_params(built) == sum(p.numel() for p in build_model(a).parameters())


def test_hash_grid_is_deferred_to_torch_and_unknown_kinds_are_refused():
    assert safety.expected_tensors(arch("hashgrid", hash_levels=2, hash_table_log2=4, hash_features=2, hash_base=4,
                                        hash_max_res=16)) is None
    with pytest.raises(NetworkError, match="latent-grid siren network"):
        safety.expected_tensors(arch("siren", grid_levels=2, grid_height=4, grid_width=4))
    with pytest.raises(NetworkError, match="not supported"):
        safety.expected_tensors(arch(hash_levels=2))


def test_cap_refuses_before_building():
    header = json.loads(json.dumps({"arch": arch(width=4096, depth=32), "quant": {"tensors": {}}, "values": {"offset": [0.0],
                                    "scale": [1.0]}, "coords": {"scale": [1.0, 1.0]}}))
    with pytest.raises(NetworkError, match=r"network of 537,\d+,\d+ weights .*limit of 16,777,216"):
        safety.check_header(header)


def test_load_model_refuses_a_mismatched_header_without_torch_errors():
    data = image_file(arch())
    header, tensors = inrcodec.format.container.unpack(data)
    bad = copy.deepcopy(header)
    bad["arch"]["depth"] = 2
    with pytest.raises(TensorMismatch, match=r"spder network needs tensor 'net\.3\.(bias|weight)', which the file lacks"):
        load_model(bad, tensors)


def test_encoder_refuses_a_network_no_decoder_builds():
    with pytest.raises(NetworkError, match="more than the 16,777,216"):
        inrcodec.encode(np.zeros((4, 4), np.uint8), width=4096, depth=2, steps=1, device="cpu")


def test_render_rows_bound_activation_memory():
    assert safety.render_rows(arch(width=64)) == 1 << 16
    assert safety.render_rows(arch(width=4096)) == 1024
    assert safety.render_rows(arch("relu-pe", width=8, pe_frequencies=32)) == safety.RENDER_ELEMENTS // (2 * 65)  # encoding widest


def test_verify_cli_on_a_good_file(tmp_path):
    path = tmp_path / "good.spdr"
    path.write_bytes(image_file(arch("spder", 2, 3, 8, 2)))
    r = CliRunner().invoke(main, ["verify", str(path)])
    assert r.exit_code == 0, r.stderr
    weights = 8 * 2 + 8 + 2 * (8 * 8 + 8) + 3 * 8 + 3
    assert r.stdout.startswith(f"OK {path}: spdr 1.0") and "image 7x5 RGB 8-bit" in r.stdout
    assert f"spder width 8 depth 2 ({weights} weights, 8/16-bit)" in r.stdout
    facts = json.loads(CliRunner().invoke(main, ["verify", str(path), "--json"]).stdout)
    assert facts["params"] == weights and facts["native"] == [5, 7] and facts["native_needs_force"] is False


def test_verify_reports_a_native_size_that_needs_force(tmp_path):
    path = tmp_path / "huge.spdr"
    path.write_bytes(image_file(arch(), height=1 << 16, width=1 << 16))
    r = CliRunner().invoke(main, ["verify", str(path)])
    assert r.exit_code == 0 and "needs --force" in r.stdout


def test_non_finite_output_is_refused_by_verify_and_decode(tmp_path):
    """omega0 = 1e30 is finite and valid for the container, but the network's output overflows."""
    path = tmp_path / "overflow.spdr"
    path.write_bytes(image_file(arch(width=8, depth=2), arch__omega0=1e30))
    with pytest.raises(NetworkError, match="not finite"):
        verify_bytes(path.read_bytes())
    for args in (["verify", str(path)], ["decode", str(path), "-o", str(tmp_path / "o.png")]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 1 and r.stderr.startswith("Error: the network's output is not finite"), r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overflow.spdr"]


def test_verify_missing_and_directory(tmp_path):
    for target, text in ((tmp_path / "nope.spdr", "no such file"), (tmp_path, "is a folder")):
        r = CliRunner().invoke(main, ["verify", str(target)])
        assert r.exit_code == 1 and text in r.stderr and len(r.stderr.strip().splitlines()) == 1
