"""Rate control (--bpp), the latent-grid SPDER and its quantization: budgets are never exceeded."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import inrcodec
from inrcodec.cli import main
from inrcodec.codec.presets import EncodeConfig
from inrcodec.errors import SpdrError
from inrcodec.nn.latentgrid import LatentGridSPDER
from inrcodec.nn.quantize import quantize_grid
from inrcodec.rate import plan as rate_plan
from inrcodec.rate import trim as rate_trim
from inrcodec.signal import Signal


def photo(side: int = 40) -> np.ndarray:
    import skimage.data

    img = Image.fromarray(skimage.data.astronaut()).resize((side, side * 3 // 4), Image.Resampling.BOX)
    return np.asarray(img)


def grid_model(h=12, w=17, levels=3, width=8, depth=1) -> LatentGridSPDER:
    torch.manual_seed(0)
    arch = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 3, "width": width, "depth": depth,
            "omega0": 1.0, "first_omega0": 1.0, "grid_levels": levels, "grid_height": h, "grid_width": w}
    m = LatentGridSPDER(arch)
    with torch.no_grad():
        m.latents.copy_(torch.randn(m.latents.shape) * 3)
    return m


def test_budget_and_plan_grow_with_bpp():
    assert rate_plan.budget_bytes(1.0, 128, 128) == 2048
    assert rate_plan.budget_bytes(0.3, 10, 10) == 3
    plans = [rate_plan.plan_for(b, 128, 128, 3, EncodeConfig()) for b in (0.25, 0.5, 1, 2, 8)]
    params = [p.width * (p.depth + 1) for p in plans]
    assert params == sorted(params) and params[0] < params[-1]
    assert rate_plan.plan_for(1, 128, 128, 3, EncodeConfig(depth=3, steps=7)).depth == 3


@pytest.mark.parametrize("per_row", [True, False])
def test_quantize_grid_error_bounds(per_row):
    m = grid_model()
    tensors, quant = quantize_grid(m, bits=8, bias_bits=8, per_row=per_row)
    assert quant["tensors"]["latents"]["scale_shape"] == [1]
    np.testing.assert_array_equal(tensors["latents"], torch.round(m.latents).detach().numpy())
    assert float(tensors["latents.scale"][0]) == 1.0
    for name, p in m.named_parameters():
        if name == "latents":
            continue
        q, s = tensors[name].astype(np.float64), tensors[f"{name}.scale"].astype(np.float64)
        w = p.detach().numpy().astype(np.float64)
        step = s.reshape(-1, 1) if (q.ndim == 2 and s.size > 1) else s
        assert np.all(np.abs(q * step - w) <= step / 2 + 1e-7)
        assert np.abs(q).max() <= 127
        assert (s.size > 1) == (per_row and q.ndim == 2)


def test_latents_beyond_int8_are_stored_as_int16():
    m = grid_model()
    with torch.no_grad():
        m.latents[0] = 300.0
    tensors, quant = quantize_grid(m)
    assert quant["tensors"]["latents"]["bits"] == 16 and tensors["latents"].dtype == np.int16
    assert int(tensors["latents"][0]) == 300


def test_trim_never_exceeds_the_budget():
    rng = np.random.default_rng(0)
    q = rng.integers(-4, 5, 500)
    order = np.flatnonzero(q)

    def pack(lat: np.ndarray) -> bytes:
        return b"x" * (100 + 3 * int(np.count_nonzero(lat)))

    for budget in rng.integers(100, 1600, 25):
        data, k = rate_trim.trim_to_budget(pack, q, order, int(budget))
        assert len(data) <= budget and len(data) > budget - 3 or len(data) == len(pack(q))
    with pytest.raises(SpdrError, match="every latent zero"):
        rate_trim.trim_to_budget(pack, q, order, 99)


def test_trim_order_drops_small_fine_latents_first():
    m = grid_model(levels=2)
    with torch.no_grad():
        m.latents.zero_()
        n0 = m.sizes[0]
        m.latents[0], m.latents[1], m.latents[n0] = 1.0, 3.0, 1.0  # fine 1, fine 3, coarse 1 (weight 4)
    assert rate_trim.trim_order(m).tolist() == [0, 1, n0]


@pytest.mark.parametrize(("bpp", "settings"), [
    pytest.param(3.0, {"steps": 300}, id="3bpp-300-steps"),  # a short fit already fills 3 bpp
    pytest.param(3.0, {"preset": "fast"}, id="3bpp-fast", marks=pytest.mark.slow),  # the real fits: 800 steps
    pytest.param(6.0, {"preset": "fast"}, id="6bpp-fast", marks=pytest.mark.slow),  # shorter fits cannot fill 6 bpp
])
def test_bpp_lands_within_5_percent_and_never_above(bpp, settings, tmp_path):
    pixels = photo(40)
    out = tmp_path / "p.spdr"
    result = inrcodec.encode(pixels, out, bpp=bpp, **settings)
    h, w = pixels.shape[:2]
    budget = rate_plan.budget_bytes(bpp, h, w)
    size = out.stat().st_size
    assert size == result.bytes and 0.95 * budget <= size <= budget
    info = inrcodec.info(out)
    assert info["version"] == "1.9" and info["header"]["quant"]["coding"] == "arm" and info["header"]["arch"]["arm_passes"] == 7
    decoded = inrcodec.decode(out)
    assert decoded.shape == pixels.shape
    err = decoded.astype(np.float64) - pixels
    assert abs(10 * np.log10(255**2 / np.mean(err**2)) - result.psnr_db) < 1e-6
    assert result.psnr_db > 15
    assert inrcodec.decode(out, scale=2).shape == (2 * h, 2 * w, 3)  # still resolution-free


def test_bpp_refuses_what_it_cannot_do():
    with pytest.raises(SpdrError, match="smallest useful file"):
        inrcodec.encode(photo(16), bpp=0.05, steps=1)
    with pytest.raises(SpdrError, match="for images"):
        audio = Signal("audio", np.zeros((100, 1), np.float32), {"samples": 100, "channels": 1, "sample_rate": 8000,
                                                                "subtype": "PCM_16"})
        inrcodec.encode(audio, bpp=1.0, steps=1)
    with pytest.raises(SpdrError, match="activation"):
        inrcodec.encode(photo(16), bpp=4.0, steps=1, activation="siren")
    with pytest.raises(ValueError, match="leave width and bits unset"):
        EncodeConfig(bpp=1.0, width=16)
    with pytest.raises(ValueError, match="bpp must be"):
        EncodeConfig(bpp=0.0)


def test_cli_bpp_is_exclusive_with_width_and_bits(tmp_path):
    src = tmp_path / "p.png"
    Image.fromarray(photo(16)).save(src)
    runner = CliRunner()
    for extra in (["--width", "16"], ["--bits", "8"]):
        res = runner.invoke(main, ["encode", str(src), "--bpp", "2", *extra])
        assert res.exit_code == 2 and "either --bpp or --width/--bits" in res.output
    assert not (tmp_path / "p.spdr").exists()
    res = runner.invoke(main, ["encode", str(src), "--bpp", "0.01", "--steps", "1", "-q"])
    assert res.exit_code == 1 and res.output.splitlines()[-1].startswith("Error: --bpp 0.01 gives 0 bytes")
    assert "Traceback" not in res.output and not (tmp_path / "p.spdr").exists()


def _keys(s: np.ndarray, a: float = -0.75) -> np.ndarray:
    s = np.abs(s)
    return np.where(s <= 1, (a + 2) * s**3 - (a + 3) * s**2 + 1,
                    np.where(s < 2, a * s**3 - 5 * a * s**2 + 8 * a * s - 4 * a, 0.0))


def _sample_spec(grid: np.ndarray, y: float, x: float, interp: int) -> float:
    """docs/format.md section 3.5, written out: pixel-centre index, then bilinear or Keys bicubic."""
    n, m = grid.shape
    u, v = (y + 1) * n / 2 - 0.5, (x + 1) * m / 2 - 0.5
    if interp == 1:
        u, v = min(max(u, 0), n - 1), min(max(v, 0), m - 1)
        i, j = min(int(np.floor(u)), n - 1), min(int(np.floor(v)), m - 1)
        t, s = u - i, v - j
        g = lambda a, b: grid[min(a, n - 1), min(b, m - 1)]  # noqa: E731
        return (1 - t) * ((1 - s) * g(i, j) + s * g(i, j + 1)) + t * ((1 - s) * g(i + 1, j) + s * g(i + 1, j + 1))
    i, j = int(np.floor(u)), int(np.floor(v))
    ks = np.arange(-1, 3)
    rows = grid[np.clip(i + ks, 0, n - 1)][:, np.clip(j + ks, 0, m - 1)]
    return float(_keys(u - i - ks) @ rows @ _keys(v - j - ks))


@pytest.mark.parametrize("interp", [1, 3])
def test_latent_sampling_matches_the_format_spec(interp):
    m = grid_model(h=7, w=10, levels=3)
    m.arch["grid_interp"] = interp
    rng = np.random.default_rng(1)
    pts = np.concatenate([rng.uniform(-1.2, 1.2, (40, 2)), [[-1, -1], [1, 1], [-1, 1], [0, 0]]])
    with torch.no_grad():
        got = m.features(torch.tensor(pts, dtype=torch.float32)).numpy()
    grids = [g.detach().reshape(g.shape[-2:]).numpy().astype(np.float64) for g in m.levels()]
    want = np.array([[_sample_spec(g, y, x, interp) for g in grids] for y, x in pts])
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_header_checks_grid_interp():
    from inrcodec.errors import HeaderInvalid
    from inrcodec.format.header import validate_header

    m = grid_model()
    m.arch["grid_interp"] = 3
    tensors, quant = quantize_grid(m)
    header = {"modality": "image", "signal": {"height": 12, "width": 17, "channels": 3, "mode": "RGB", "bit_depth": 8},
              "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
              "values": {"offset": [0.0] * 3, "scale": [1.0] * 3}, "arch": dict(m.arch), "quant": quant}
    validate_header(header)
    for bad, match in ((2, "must be one of 1, 3"), ("3", "must be an integer")):
        with pytest.raises(HeaderInvalid, match=match):
            validate_header({**header, "arch": {**m.arch, "grid_interp": bad}})
    plain = {k: v for k, v in m.arch.items() if not k.startswith("grid_")}
    with pytest.raises(HeaderInvalid, match="needs 'arch.grid_levels'"):
        validate_header({**header, "arch": {**plain, "grid_interp": 3}})
