"""The `spdr` command line through click's test runner (plus real subprocesses where it matters)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import click
import numpy as np
import pytest
from click.testing import CliRunner
from conftest import TINY_STEPS, write_image
from PIL import Image

import inrcodec
from inrcodec.cli import main
from inrcodec.codec.presets import EncodeConfig
from inrcodec.media.image import pixels_to_unit
from inrcodec.metrics import psnr

JSON_FIELDS = {"psnr_db", "rho_ag", "bytes", "bpp", "steps", "seconds", "params"}


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, code: int = 1) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output


def read_pixels(path) -> np.ndarray:
    with Image.open(path) as img:
        a = np.asarray(img)
    return a[..., None] if a.ndim == 2 else a


# --- encode ---------------------------------------------------------------------------------------


def test_encode_json_reports_what_the_file_holds(tmp_path, grey_png):
    src, px = grey_png
    out = tmp_path / "g.spdr"
    r = run("encode", src, "-o", out, "--steps", TINY_STEPS, "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    assert JSON_FIELDS <= set(report)
    assert report["bytes"] == out.stat().st_size
    assert report["bpp"] == pytest.approx(8 * report["bytes"] / (12 * 16))
    assert report["steps"] >= TINY_STEPS and report["params"] > 0 and report["seconds"] > 0
    # the PSNR it claims is the PSNR of the image `spdr decode` writes from that file
    png = tmp_path / "g.png"
    assert run("decode", out, "-o", png, "-q").exit_code == 0
    db = psnr(pixels_to_unit(read_pixels(png), 8), pixels_to_unit(px, 8))
    assert report["psnr_db"] == pytest.approx(db, abs=1e-3)


def test_encode_default_output_name_and_text_summary(tmp_path):
    src = tmp_path / "photo.png"
    write_image(src, "rgb")
    r = run("encode", src, "--steps", 3, "-q")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "photo.spdr").exists()
    assert "PSNR" in r.stdout and "bpp" in r.stdout and "rho_AG" in r.stdout


def test_encode_refuses_to_overwrite_without_force(tmp_path, grey_png):
    src, _ = grey_png
    out = tmp_path / "exists.spdr"
    out.write_bytes(b"precious")
    r = run("encode", src, "-o", out, "--steps", 2, "-q")
    assert_one_line_error(r)
    assert out.read_bytes() == b"precious"
    r = run("encode", src, "-o", out, "--steps", 2, "-q", "--force")
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:5] == b"\x89SPDR"


def test_encode_missing_input(tmp_path):
    r = run("encode", tmp_path / "nope.png", "-q")
    assert_one_line_error(r)
    assert list(tmp_path.iterdir()) == []


def test_encode_unreadable_image_leaves_nothing_behind(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_text("not an image")
    r = run("encode", bad, "-q")
    assert_one_line_error(r)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.png"]


def test_verbose_shows_the_traceback(tmp_path):
    r = run("encode", tmp_path / "nope.png", "-q", "-v")
    assert r.exit_code == 1 and "Traceback" in r.stderr


@pytest.mark.parametrize(
    "args",
    [["encode"], ["encode", "x.png", "--preset", "huge"], ["encode", "x.png", "--bits", "7"],
     ["encode", "x.png", "--steps", "-1"], ["encode", "x.png", "--activation", "tanh"],
     ["encode", "x.png", "--lr", "0"], ["encode", "x.png", "--bogus"], ["decode", "x.spdr", "--scale", "0"],
     ["nonsense"]],
)
def test_usage_errors_exit_2(args):
    assert run(*args).exit_code == 2


def test_cli_defaults_equal_api_defaults():
    cfg = EncodeConfig()
    fields = {f.name for f in dataclasses.fields(EncodeConfig)}
    options = {p.name: p for p in main.commands["encode"].params if isinstance(p, click.Option)}
    assert fields <= set(options), f"encode lacks options for {fields - set(options)}"
    for name in fields:
        default = options[name].default
        expected = getattr(cfg, name)
        assert default == expected or (default is not None and expected is not None and type(expected)(default) == expected), name


# --- decode ---------------------------------------------------------------------------------------


def test_decode_scale_and_size(tmp_path, encoded_grey):
    _, spdr, _ = encoded_grey
    out = tmp_path / "big.png"
    r = run("decode", spdr, "-o", out, "--scale", "2.5", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["width"] == 40 and Image.open(out).size == (40, 30)
    r = run("decode", spdr, "-o", tmp_path / "wide.png", "--size", "33x5", "-q")
    assert r.exit_code == 0 and Image.open(tmp_path / "wide.png").size == (33, 5)
    r = run("decode", spdr, "-o", tmp_path / "half.png", "--scale", "0.5", "-q")
    assert r.exit_code == 0 and Image.open(tmp_path / "half.png").size == (8, 6)


@pytest.mark.parametrize("args", [["--scale", "2", "--size", "3x3"], ["--size", "abc"], ["--size", "0x4"]])
def test_decode_bad_size_arguments_exit_2(tmp_path, encoded_grey, args):
    _, spdr, _ = encoded_grey
    out = tmp_path / "o.png"
    assert run("decode", spdr, "-o", out, *args).exit_code == 2
    assert not out.exists()


def test_decode_is_byte_deterministic(tmp_path, encoded_grey):
    """`spdr decode` in two fresh processes, one with 1 thread and one with 2: the same PNG bytes, as this process writes."""
    _, spdr, _ = encoded_grey
    cmd = [sys.executable, "-c", "from inrcodec.cli import main; main()", "decode", str(spdr), "--scale", "9", "-q", "-o"]
    children = [subprocess.Popen([*cmd, str(tmp_path / f"t{n}.png")], stderr=subprocess.PIPE, text=True,
                                 env={**os.environ, "OMP_NUM_THREADS": str(n), "MKL_NUM_THREADS": str(n)}) for n in (1, 2)]
    for child in children:
        assert child.wait(timeout=300) == 0, child.stderr.read()
        child.stderr.close()
    assert run("decode", spdr, "-o", tmp_path / "here.png", "--scale", "9", "-q").exit_code == 0
    assert (tmp_path / "t1.png").read_bytes() == (tmp_path / "t2.png").read_bytes() == (tmp_path / "here.png").read_bytes()
    assert Image.open(tmp_path / "t1.png").size == (144, 108)


@pytest.mark.parametrize(("ext", "fmt", "lossless"), [(".tif", "TIFF", True), (".webp", "WEBP", True), (".jpg", "JPEG", False),
                                                     (".png", "PNG", True)])
def test_decode_output_formats(tmp_path, encoded_grey, ext, fmt, lossless):
    _, spdr, _ = encoded_grey
    out = tmp_path / f"o{ext}"
    r = run("decode", spdr, "-o", out, "-q")
    assert r.exit_code == 0, r.output
    with Image.open(out) as img:
        assert img.format == fmt and img.size == (16, 12)
    if lossless:
        got = read_pixels(out)
        np.testing.assert_array_equal(got[..., :1], inrcodec.decode(spdr))


def test_decode_unsupported_extension(tmp_path, encoded_grey):
    _, spdr, _ = encoded_grey
    assert_one_line_error(run("decode", spdr, "-o", tmp_path / "o.bmpx"))
    assert list(tmp_path.iterdir()) == []


def test_decode_sixteen_bit_png(tmp_path, encoded_grey16):
    _, spdr, _ = encoded_grey16
    out = tmp_path / "o16.png"
    assert run("decode", spdr, "-o", out, "-q").exit_code == 0
    with Image.open(out) as img:
        assert img.mode.startswith("I")
        got = np.asarray(img)
    np.testing.assert_array_equal(got, inrcodec.decode(spdr)[..., 0])
    assert got.max() > 255


def test_decode_gradient_writes_grey(tmp_path, encoded_grey):
    _, spdr, _ = encoded_grey
    out = tmp_path / "grad.png"
    r = run("decode", spdr, "--gradient", "-o", out, "--scale", "2", "-q")
    assert r.exit_code == 0, r.output
    with Image.open(out) as img:
        assert img.mode == "L" and img.size == (32, 24)
        assert np.asarray(img).max() > 0


def test_decode_refuses_to_overwrite(tmp_path, encoded_grey):
    _, spdr, _ = encoded_grey
    out = tmp_path / "o.png"
    out.write_bytes(b"keep")
    assert_one_line_error(run("decode", spdr, "-o", out))
    assert out.read_bytes() == b"keep"
    assert run("decode", spdr, "-o", out, "--force", "-q").exit_code == 0
    assert Image.open(out).size == (16, 12)


def test_decode_missing_and_corrupt_files(tmp_path):
    assert_one_line_error(run("decode", tmp_path / "missing.spdr", "-o", tmp_path / "o.png"))
    junk = tmp_path / "junk.spdr"
    junk.write_bytes(b"\x89SPDR\r\n\x1a\n" + b"\x00" * 40)
    assert_one_line_error(run("decode", junk, "-o", tmp_path / "o.png"))
    assert not (tmp_path / "o.png").exists()


# --- info, demo, entry points ---------------------------------------------------------------------


def test_info_text_and_json(encoded_grey):
    _, spdr, _ = encoded_grey
    r = run("info", spdr)
    assert r.exit_code == 0 and "bits per pixel" in r.stdout and "params" in r.stdout
    facts = json.loads(run("info", spdr, "--json").stdout)
    assert facts["file_bytes"] == spdr.stat().st_size
    assert facts["header"]["signal"]["width"] == 16 and facts["params"] > 0


def test_info_does_not_load_torch(encoded_grey):
    _, spdr, _ = encoded_grey
    code = (
        "import sys; from click.testing import CliRunner; from inrcodec.cli import main; "
        f"r = CliRunner().invoke(main, ['info', {str(spdr)!r}]); "
        "assert r.exit_code == 0, r.output; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_info_on_a_non_spdr_file(tmp_path, grey_png):
    src, _ = grey_png
    assert_one_line_error(run("info", src))


def test_demo_with_few_steps(tmp_path):
    folder = tmp_path / "demo"
    r = run("demo", "--out", folder, "--steps", 2, "-q")
    assert r.exit_code == 0, r.output
    assert "PSNR" in r.stdout
    with Image.open(folder / "camera_x4.png") as img, Image.open(folder / "camera.png") as src:
        assert img.size == (1024, 1024)
        decoded = inrcodec.decode(folder / "camera.spdr")
        lanczos = Image.fromarray(decoded[..., 0]).resize((1024, 1024), Image.Resampling.LANCZOS)
        assert np.array_equal(np.asarray(img), np.asarray(lanczos)) and src.size == (256, 256)
    with Image.open(folder / "camera_x4_network.png") as img:
        assert img.size == (1024, 1024)
    assert (folder / "camera.spdr").stat().st_size > 0
    assert_one_line_error(run("demo", "--out", folder, "--steps", 2, "-q"))  # files exist, no --force


def test_python_dash_m_help():
    out = subprocess.run([sys.executable, "-m", "inrcodec", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for command in ("encode", "decode", "info", "demo"):
        assert command in out.stdout


def test_decode_parses_the_file_once(tmp_path, encoded_grey, monkeypatch):
    """The CLI checks the file before torch is imported and hands the checked contents on: one unpack per decode."""
    import inrcodec.format.container as container

    calls = []
    real = container.unpack
    monkeypatch.setattr(container, "unpack", lambda data: calls.append(len(data)) or real(data))
    _, spdr, _ = encoded_grey
    for args in ([], ["--scale", "2"], ["--gradient"]):
        calls.clear()
        r = run("decode", str(spdr), *args, "-o", str(tmp_path / f"o{len(args)}.png"))
        assert r.exit_code == 0, r.stderr
        assert calls == [spdr.stat().st_size], args


def test_bench_without_the_bench_extra_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    gone = ("matplotlib", "skimage", "pytorch_msssim")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in gone else real(name, *a))
    r = run("bench", "image")
    assert_one_line_error(r)
    assert "needs matplotlib, scikit-image: pip install 'inrcodec[bench]'" in r.stderr
    r = run("bench", "rd")  # MS-SSIM comes from pytorch-msssim
    assert_one_line_error(r)
    assert "needs matplotlib, scikit-image, pytorch-msssim: pip install 'inrcodec[bench]'" in r.stderr
