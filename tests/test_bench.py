"""spdr bench: metrics on known signals, the hash grid, the measured fit, and every task end to end on tiny inputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from inrcodec.bench import BenchOptions, get_task, parse_archs, parse_steps, register, run_and_write, task_names
from inrcodec.bench._core import fit_recording
from inrcodec.cli import main
from inrcodec.errors import OutputExistsError
from inrcodec.metrics import mse, psnr, psnr_from_mse, rho_ag
from inrcodec.nn.coords import grid_coords
from inrcodec.nn.hashgrid import HashGridMLP, level_resolutions
from inrcodec.nn.registry import build_model

TASKS = ("image", "audio", "superres", "audio-interp", "video", "gradient")
ROW_KEYS = {"task", "input", "arch", "step", "loss", "psnr_db", "rho_ag", "seed", "command", "cpu", "gpu", "torch", "device"}


# --- metrics on known signals -------------------------------------------------------------------------


def test_psnr_of_known_mse():
    a = np.zeros((8, 8))
    b = np.full((8, 8), 0.1)  # MSE 0.01 on [-1, 1] -> 10 log10(4 / 0.01) = 26.0206 dB
    assert mse(a, b) == pytest.approx(0.01)
    assert psnr(a, b) == pytest.approx(10 * math.log10(400))
    assert psnr_from_mse(0.04) == pytest.approx(20.0)
    assert psnr(a, a) == math.inf


def test_rho_ag_known_signals():
    n = np.arange(256)
    x = np.cos(2 * np.pi * 5 * n / 256)
    assert rho_ag(x, x) == pytest.approx(1.0)
    assert rho_ag(0.3 * x, x) == pytest.approx(1.0)  # amplitude spectra only: scale-invariant cosine
    assert rho_ag(np.roll(x, 17), x) == pytest.approx(1.0)  # a shift changes phases, not amplitudes
    assert rho_ag(np.cos(2 * np.pi * 9 * n / 256), x) == pytest.approx(0.0, abs=1e-9)  # disjoint spectra
    img = np.random.default_rng(0).uniform(-1, 1, (16, 16))
    assert rho_ag(img, img) == pytest.approx(1.0)
    assert rho_ag(img, np.zeros_like(img)) == 0.0


# --- options and registry ------------------------------------------------------------------------------


def test_parse_steps_and_archs():
    assert parse_steps("500,25,100,25") == [25, 100, 500]
    assert parse_steps(None) is None
    for bad in ("x", "0,5", "", "-3"):
        with pytest.raises(ValueError):
            parse_steps(bad)
    assert parse_archs("spder,siren,spder") == ["spder", "siren"]
    with pytest.raises(ValueError, match="unknown architecture"):
        parse_archs("spder,gelu")


def test_registry_has_the_six_tasks_and_takes_new_ones():
    assert set(TASKS) <= set(task_names())
    with pytest.raises(ValueError, match="unknown bench task"):
        get_task("nope")

    @register("_test_dummy")
    def dummy(opts):
        return None

    try:
        assert get_task("_test_dummy") is dummy
        with pytest.raises(ValueError, match="twice"):
            register("_test_dummy")(lambda opts: None)
    finally:
        from inrcodec.bench import TASKS as registry

        registry.pop("_test_dummy")


# --- hash grid -----------------------------------------------------------------------------------------


def hash_arch(dims: int, log2: int) -> dict:
    return {"activation": "hashgrid", "in_features": dims, "out_features": 2, "width": 16, "depth": 1, "hash_levels": 4,
            "hash_table_log2": log2, "hash_features": 2, "hash_base": 4, "hash_max_res": 32}


def test_level_resolutions_grow_geometrically():
    assert level_resolutions(4, 4, 32) == [4, 8, 16, 32]
    assert level_resolutions(1, 16, 512) == [16]


@pytest.mark.parametrize("dims", [1, 2, 3])
def test_hashgrid_shapes_tables_and_gradients(dims):
    torch.manual_seed(0)
    model = build_model(hash_arch(dims, 8))
    assert isinstance(model, HashGridMLP)
    enc = model.encoding
    # levels whose (res+1)^d vertices fit 2^8 rows are stored densely, the others hashed into 2^8 rows
    for res, table, dense in zip(enc.resolutions, enc.tables, enc.dense, strict=True):
        assert table.shape == (min(256, (res + 1) ** dims), 2)
        assert dense == ((res + 1) ** dims <= 256)
    x = torch.rand(50, dims) * 2 - 1
    y = model(x)
    assert y.shape == (50, 2)
    y.sum().backward()
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in enc.tables)
    assert set(model.state_dict()) >= {f"encoding.tables.{i}" for i in range(4)}


def test_hashgrid_encoding_interpolates_dense_levels_exactly():
    torch.manual_seed(0)
    model = build_model({**hash_arch(1, 12), "hash_levels": 1, "hash_base": 4, "hash_max_res": 4})
    table = model.encoding.tables[0].detach()
    # x = -1 is vertex 0, x = 1 is vertex 4; x = -0.75 lies halfway between vertices 0 and 1
    feats = model.encoding(torch.tensor([[-1.0], [1.0], [-0.75]])).detach()
    assert torch.allclose(feats[0], table[0]) and torch.allclose(feats[1], table[4])
    assert torch.allclose(feats[2], 0.5 * (table[0] + table[1]))


def test_hashgrid_fits_a_small_image():
    torch.manual_seed(0)
    model = build_model({**hash_arch(2, 10), "out_features": 1})
    coords = grid_coords((16, 16))
    values = torch.sin(3 * coords[:, :1]) * torch.cos(5 * coords[:, 1:])
    rec = fit_recording(model, coords, values, [1, 60], lr=1e-2)
    assert rec.rows[-1]["loss"] < 0.2 * rec.rows[0]["loss"]


# --- the measured fit ------------------------------------------------------------------------------------


def test_fit_recording_measures_the_model_at_each_step():
    torch.manual_seed(0)
    arch = {"activation": "spder", "damping": "sqrt", "in_features": 1, "out_features": 1, "width": 16, "depth": 1,
            "omega0": 30.0, "first_omega0": 30.0}
    model = build_model(arch)
    coords = grid_coords((64,))
    values = torch.sin(4 * coords)
    seen = {}

    def record(step, m, pred):
        again = m(coords)  # the model handed over is the one that produced `pred`, after exactly `step` updates
        seen[step] = float(torch.mean((again - values) ** 2))
        return {"probe": step}

    rec = fit_recording(model, coords, values, [3, 1, 5], lr=1e-3, record=record)
    assert [r["step"] for r in rec.rows] == [1, 3, 5]
    assert len(rec.curve) == 6  # loss after 0..5 updates
    for r in rec.rows:
        assert r["probe"] == r["step"]
        assert r["loss"] == pytest.approx(seen[r["step"]], rel=1e-5) == pytest.approx(rec.curve[r["step"]])
        assert r["psnr_db"] == pytest.approx(psnr_from_mse(r["loss"]))


# --- tasks end to end on tiny inputs ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    """A short stereo WAV and a 7-frame RGB video, written here (no shared media needed)."""
    import av
    import soundfile as sf

    root = tmp_path_factory.mktemp("bench_media")
    t = np.arange(2048) / 8000
    wav = root / "tone.wav"
    sf.write(wav, np.stack([np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 660 * t)], axis=1), 8000)
    mp4 = root / "clip.mkv"
    with av.open(str(mp4), "w") as out:
        stream = out.add_stream("ffv1", rate=10)
        stream.width, stream.height, stream.pix_fmt = 24, 24, "yuv444p"
        y, x = np.mgrid[0:24, 0:24]
        for i in range(7):
            rgb = np.stack([(x * 10 + i * 8) % 256, (y * 10) % 256, np.full_like(x, 128)], axis=-1).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return {"wav": str(wav), "video": str(mp4)}


TINY = {
    "image": ({"inputs": ["camera"], "size": 12, "archs": ["spder", "siren", "hashgrid", "relu-pe"]}, 4 * 2),
    "audio": ({"size": 128, "archs": ["spder", "relu"]}, (2 + 1) * 2),
    "superres": ({"inputs": ["camera"], "size": 8, "archs": ["spder"]}, 2 * 4 * 2 + 2 * 4 + 2 * 4),  # alone + default, codec, Pillow
    "audio-interp": ({"size": 256, "archs": ["siren"]}, 2 * 2 * (4 + 3) + 2 * 3),
    "video": ({"size": 8, "archs": ["spder"]}, 2 * 2 + 1),
    "gradient": ({"inputs": ["text"], "size": 24, "archs": ["spder", "siren"]}, 2 * 2),
}


@pytest.mark.parametrize("task", TASKS)
def test_task_end_to_end(task, tmp_path, media):
    kwargs, n_rows = TINY[task]
    inputs = kwargs.pop("inputs", None) or [media["video"] if task == "video" else media["wav"]]
    opts = BenchOptions(task, inputs=inputs, steps=[1, 2], seed=3, **kwargs)
    rows = run_and_write(opts, str(tmp_path), command="spdr bench test")
    assert len(rows) == n_rows
    for row in rows:
        assert ROW_KEYS <= set(row), ROW_KEYS - set(row)
        assert row["task"] == task and row["seed"] == 3 and row["command"] == "spdr bench test"
        assert all(not isinstance(v, (dict, list)) for v in row.values())  # flat
        assert row["loss"] is None or row["loss"] >= 0
    assert json.loads((tmp_path / f"{task}.json").read_text()) == rows
    md = (tmp_path / f"{task}.md").read_text()
    assert "spdr bench test" in md and "seed: 3" in md and "torch" in md and "|---" in md
    pngs = sorted(tmp_path.glob(f"{task}_*.png"))
    assert pngs
    from PIL import Image

    with Image.open(pngs[0]) as img:
        assert "spdr bench test" in img.text["Description"]
    with pytest.raises(OutputExistsError):
        run_and_write(opts, str(tmp_path))


def test_audio_runs_sine_networks_at_both_frequencies(tmp_path, media):
    rows = run_and_write(BenchOptions("audio", inputs=[media["wav"]], size=4096, steps=[1], archs=["siren"]), str(tmp_path))
    assert sorted(r["first_omega0"] for r in rows) == [30.0, 3000.0]


def test_superres_baselines_are_exact_at_scale_one(tmp_path):
    rows = run_and_write(BenchOptions("superres", inputs=["camera"], size=8, steps=[1], archs=["siren"]), str(tmp_path))
    lanczos = {r["scale"]: r for r in rows if r["arch"] == "lanczos"}
    assert lanczos[1]["loss"] == 0 and lanczos[8]["loss"] > 0


# --- spdr's default rendering: the classic resampler of the network's own output --------------------------
# Each test refits the task's network (same seed, same data, CPU: the same weights), renders it on its own
# fitted grid, applies the classic resampler here, independently of the task's code, and checks the task's
# "spdr default" rows score exactly that; and that they differ from the network alone.


def refit(arch: str, in_f: int, out_f: int, grid, spec, coords: torch.Tensor, values: torch.Tensor, steps) -> np.ndarray:
    """The network after the task's fit, evaluated on its fitted coordinates (clipped like a decoder), float64."""
    from inrcodec.bench._archs import make

    model, lr, _ = make(arch, in_f, out_f, grid, spec, 3, torch.device("cpu"))
    fit_recording(model, coords, values, steps, lr)
    with torch.no_grad():
        return np.clip(model(coords).double().numpy(), -1, 1)


def by(rows: list[dict], **want) -> dict:
    """The one row matching every field in want."""
    (row,) = [r for r in rows if all(r.get(k) == v for k, v in want.items())]
    return row


def test_superres_default_rendering_is_lanczos_of_the_network_base_pixels(tmp_path):
    from PIL import Image

    from inrcodec.bench import superres

    rows = run_and_write(BenchOptions("superres", inputs=["camera"], size=8, steps=[1, 2], archs=["spder"], seed=3), str(tmp_path))
    pyr = superres.pyramid("camera", 8)
    coords = grid_coords((8, 8))
    own = refit("spder", 2, 1, (8, 8), superres.CPU["spec"], coords, torch.from_numpy(pyr[1].reshape(-1, 1)).float(), [1, 2])
    pix = Image.fromarray(np.rint((own.reshape(8, 8) + 1) * 127.5).astype(np.uint8))
    for s in (2, 4, 8):
        up = np.asarray(pix.resize((8 * s, 8 * s), Image.Resampling.LANCZOS), dtype=np.float64) / 127.5 - 1
        row = by(rows, arch="spder", rendering="classic", step=2, scale=s)
        assert row["loss"] == pytest.approx(mse(up, pyr[s]), rel=1e-9)
        assert row["loss"] != by(rows, arch="spder", rendering="network", step=2, scale=s)["loss"]
    assert len([r for r in rows if r["rendering"] == "true base"]) == 2 * 4  # the baselines of the true photo stay
    md = (tmp_path / "superres.md").read_text()
    assert "SPDER + Lanczos (spdr default)" in md and "SPDER alone" in md and "Lanczos (Pillow) of the true base image" in md
    assert "x8: SPDER alone" in md and ("dB worse" in md or "dB better" in md)


def test_superres_codec_rows_are_the_decoded_file(tmp_path, monkeypatch):
    """The codec's rows score what inrcodec.decode returns for its file: by default Lanczos of the native pixels."""
    from PIL import Image

    import inrcodec
    from inrcodec.bench import superres

    files = []
    real_encode = inrcodec.encode
    monkeypatch.setattr(inrcodec, "encode", lambda px, path, **kw: files.append(path) or real_encode(px, path, **{**kw, "steps": 30}))
    monkeypatch.setattr(superres, "CODEC_PRESET", "fast")
    rows = run_and_write(BenchOptions("superres", inputs=["camera"], size=8, steps=[1], archs=["siren"], seed=3), str(tmp_path))
    native = by(rows, arch="codec", rendering="classic", scale=1)
    assert native["bytes"] > 0 and native["steps"] == 30
    assert native["loss"] == by(rows, arch="codec", rendering="network", scale=1)["loss"]  # the native grid: one rendering
    pyr = superres.pyramid("camera", 8)
    px = np.rint((np.clip(pyr[1], -1, 1) + 1) * 127.5).astype(np.uint8)
    real_encode(px, tmp_path / "again.spdr", preset="fast", seed=3, device="cpu", steps=30)
    own = Image.fromarray(inrcodec.decode(tmp_path / "again.spdr")[..., 0])
    up = np.asarray(own.resize((32, 32), Image.Resampling.LANCZOS), dtype=np.float64) / 127.5 - 1
    assert by(rows, arch="codec", rendering="classic", scale=4)["loss"] == pytest.approx(mse(up, pyr[4]), rel=1e-9)
    assert "spdr encode (--preset fast), decoded by the network" in (tmp_path / "superres.md").read_text()


def test_video_default_rendering_blends_the_network_fitted_frames(tmp_path, media):
    from inrcodec.bench import video as vtask
    from inrcodec.bench._data import video as load_clip

    rows = run_and_write(BenchOptions("video", inputs=[media["video"]], size=8, steps=[1, 2], archs=["spder"], seed=3), str(tmp_path))
    clip, _ = load_clip(media["video"], vtask.CPU["frames"], 8)
    clip = clip[: len(clip) - 1 + len(clip) % 2]
    n = len(clip)
    fit, held = clip[0::2], clip[1::2]
    t = -1 + 2 * np.arange(0, n, 2) / n  # fitted frames at their timestamps, frame k of n at -1 + 2k/n
    ax = -1 + (2 * np.arange(8) + 1) / 8
    coords = torch.from_numpy(np.stack(np.meshgrid(t, ax, ax, indexing="ij"), axis=-1).reshape(-1, 3)).float()
    own = refit("spder", 3, 3, fit.shape[:3], vtask.CPU["spec"], coords, torch.from_numpy(fit.reshape(-1, 3)).float(), [1, 2])
    own = own.reshape(fit.shape)
    row = by(rows, arch="spder", rendering="classic", step=2)
    assert row["interp_loss"] == pytest.approx(mse(0.5 * (own[:-1] + own[1:]), held), rel=1e-9)
    alone = by(rows, arch="spder", rendering="network", step=2)
    assert row["interp_loss"] != alone["interp_loss"] and row["loss"] == alone["loss"]
    assert by(rows, arch="blend")["interp_loss"] == pytest.approx(mse(0.5 * (fit[:-1] + fit[1:]), held))
    assert "SPDER + frame blending (spdr default)" in (tmp_path / "video.md").read_text()


def test_audio_interp_default_rendering_is_resample_poly_of_the_network_samples(tmp_path, media):
    from scipy.signal import resample_poly

    from inrcodec.bench._archs import NetSpec
    from inrcodec.bench.audio import CPU, loudest_clips, variants

    rows = run_and_write(BenchOptions("audio-interp", inputs=[media["wav"]], size=256, steps=[1, 2], archs=["siren"], seed=3),
                         str(tmp_path))
    ((_, x, _),) = loudest_clips([media["wav"]], 256, 8)
    dec = x[::8]
    coords = torch.from_numpy(-1 + 2 * np.arange(0, x.size, 8) / x.size).float().reshape(-1, 1)  # kept samples' timestamps
    for key, arch, om in variants(["siren"], dec.size):
        spec = NetSpec(CPU["width"], CPU["depth"], 1e-4, first_omega0=om)
        own = refit(arch, 1, 1, (dec.size,), spec, coords, torch.from_numpy(dec.reshape(-1, 1)).float(), [1, 2]).ravel()
        for k in (2, 4, 8):
            row = by(rows, variant=key, rendering="classic", step=2, scale=k)
            assert row["loss"] == pytest.approx(mse(resample_poly(own, k, 1), x[:: 8 // k]), rel=1e-9)
            assert row["loss"] != by(rows, variant=key, rendering="network", step=2, scale=k)["loss"]
    md = (tmp_path / "audio-interp.md").read_text()
    assert "+ resample_poly (spdr default)" in md and "scipy resample_poly of the true samples" in md


def test_cli_bench_json_errors_and_force(tmp_path):
    runner = CliRunner()
    args = ["bench", "image", "camera", "--size", "8", "--steps", "1,2", "--arch", "siren", "--out", str(tmp_path), "--json", "-q"]
    res = runner.invoke(main, args)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["step"] for r in rows] == [1, 2] and rows[0]["arch"] == "siren"
    res = runner.invoke(main, args)
    assert res.exit_code == 1 and "exists" in res.output and "--force" in res.output
    assert runner.invoke(main, args + ["--force"]).exit_code == 0
    assert runner.invoke(main, ["bench", "nope"]).exit_code == 2
    assert runner.invoke(main, ["bench", "image", "--steps", "a,b"]).exit_code == 2
    res = runner.invoke(main, ["bench", "image", str(tmp_path / "missing.png"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 1 and res.output.startswith("Error:") and "Traceback" not in res.output
    assert not (tmp_path / "o" / "image.json").exists()
