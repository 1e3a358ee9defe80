"""spdr view in a real headless Chromium: the page renders the same function the decoder does.

For each kind of file the format holds (the latent-grid engine with its stencil, bicubic latents, 16-bit grey,
alpha, plain coordinate SPDERs and their baselines' encodings, bands of rows), the canvas after a full frame at
zoom 1 and at zoom 4 over a window is compared, pixel by pixel, with `spdr decode --size` of the whole image at
that zoom (`--resample network`: the network at every output pixel), cropped to the window. Chromium renders
WebGL2 on SwiftShader here, so no GPU is needed. Skipped, with the reason, only where Chromium or Playwright
cannot be installed (browser.missing()); .ci/run installs both and makes a skip a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from browser import Viewer, launched, missing, serving
from click.testing import CliRunner
from conftest import smooth_pixels, write_image
from PIL import Image

import inrcodec
from inrcodec.api import decode, read_spdr
from inrcodec.cli import main
from inrcodec.format import container

DATA = Path(__file__).parent / "data"
CANVAS = (160, 120)  # viewport width, height in CSS pixels (device scale 1: canvas pixels)

_why = missing()
if _why and os.environ.get("SPDR_REQUIRE_BROWSER") == "1":
    raise RuntimeError(f"SPDR_REQUIRE_BROWSER=1 but {_why}")
pytestmark = pytest.mark.skipif(_why is not None, reason=_why or "")


def psnr8(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _photo(width: int, height: int) -> np.ndarray:
    """A real photo (scikit-image's astronaut) area-averaged to width x height."""
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()[40:340, 100:500]).resize((width, height), Image.Resampling.BOX))


def _with_arch(src: Path, dst: Path, **arch) -> Path:
    """src's header with arch fields changed, same tensors (the bicubic variant of a fitted grid)."""
    header, tensors = container.unpack(src.read_bytes())
    header["arch"].update(arch)
    dst.write_bytes(container.pack(header, tensors, compact=True))
    return dst


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("viewfiles")
    out = {}

    def encode(name, source, **settings):
        out[name] = folder / f"{name}.spdr"
        inrcodec.encode(source, out[name], **settings)

    encode("grid", _photo(64, 48), steps=40)  # the default engine: latent grids, 3x3 stencil, ARM
    out["grid-bicubic"] = _with_arch(out["grid"], folder / "grid-bicubic.spdr", grid_interp=3)
    for kind in ("grey16", "rgba"):
        write_image(folder / f"{kind}.png", kind, h=18, w=22)
        encode(kind, folder / f"{kind}.png", steps=10)
    encode("mlp", _photo(30, 20), arch="mlp", steps=30)  # the paper's plain coordinate SPDER
    encode("relu-pe", smooth_pixels(12, 16, 3).astype(np.uint8), activation="relu-pe", steps=5)
    encode("relu-ffn", smooth_pixels(12, 16, 1).astype(np.uint8), activation="relu-ffn", steps=5)
    from inrcodec.codec import bands

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bands, "BAND_PIXELS", 600)  # a photo of bands of rows (format 1.7) without a megapixel fit
        encode("bands", _photo(40, 37), steps=15)
    out["golden-bands"] = DATA / "golden_v1_7.spdr"  # plain networks in bands, one with coords.scale 0.5
    out["golden-grid"] = DATA / "golden_v1_3.spdr"  # a grid without a stencil, grey
    return out


@pytest.fixture(scope="module")
def browser():
    with launched() as b:
        yield b


def reference(path: Path, zoom: int) -> np.ndarray:
    """spdr decode --size of the whole image at `zoom` times its size, with the network at every pixel, as RGBA."""
    checked = read_spdr(path)
    h, w = checked.header["signal"]["height"], checked.header["signal"]["width"]
    px = decode(checked, size=(h * zoom, w * zoom), resample="network")
    if px.dtype == np.uint16:
        px = np.rint(px / 257.0).astype(np.uint8)
    c = px.shape[2]
    rgba = np.full(px.shape[:2] + (4,), 255, dtype=np.uint8)
    rgba[..., :3] = px[..., :1] if c in (1, 2) else px[..., :3]
    if c in (2, 4):
        rgba[..., 3] = px[..., -1]
    return rgba


def window_matches(viewer: Viewer, path: Path, zoom: int, left: int, top: int, ref: np.ndarray | None = None) -> dict:
    ref = reference(path, zoom) if ref is None else ref
    got = viewer.canvas(zoom, left, top)
    want = ref[top:top + got.shape[0], left:left + got.shape[1]]
    seen = got[:want.shape[0], :want.shape[1]]
    assert not viewer.errors, viewer.errors
    assert (got[want.shape[0]:, :, 3] == 0).all() and (got[:, want.shape[1]:, 3] == 0).all()  # beyond the image: nothing
    return {"psnr": psnr8(seen, want), "mean_abs": float(np.abs(seen.astype(int) - want).mean()), "pixels": want.shape[0] * want.shape[1]}


KINDS = ["grid", "grid-bicubic", "grey16", "rgba", "mlp", "relu-pe", "relu-ffn", "bands", "golden-bands", "golden-grid"]


@pytest.mark.parametrize("kind", KINDS)
def test_canvas_matches_the_decoder_at_zoom_1_and_at_zoom_4_over_a_window(browser, files, kind):
    path = files[kind]
    with serving(path) as (server, manifest, _):
        viewer = Viewer(browser, server.url, *CANVAS)
        try:
            h, w = manifest["height"], manifest["width"]
            for zoom, left, top in [(1, 0, 0), (4, max(0, min(37, 4 * w - 40)), max(0, min(21, 4 * h - 30)))]:
                result = window_matches(viewer, path, zoom, left, top)
                assert result["psnr"] >= 40 and result["mean_abs"] <= 1.0, (kind, zoom, result)
        finally:
            viewer.close()


def test_the_real_spdr_decode_command_agrees_with_the_canvas(browser, files, tmp_path):
    """The issue's words exactly: `spdr decode --size` (the program, writing a PNG) against the canvas."""
    path = files["grid"]
    out = tmp_path / "x4.png"
    result = CliRunner().invoke(main, ["decode", str(path), "--size", "256x192", "--resample", "network", "-o", str(out)])
    assert result.exit_code == 0, result.output
    ref = np.asarray(Image.open(out).convert("RGBA"))
    with serving(path) as (server, _, _):
        viewer = Viewer(browser, server.url, *CANVAS)
        try:
            found = window_matches(viewer, path, 4, 70, 50, ref=ref)
        finally:
            viewer.close()
    assert found["psnr"] >= 40 and found["mean_abs"] <= 1.0, found


@pytest.mark.parametrize("query", ["sampling=exact", "weights=texture"])
def test_the_other_shader_paths_match_too(browser, files, query):
    """Latents sampled by hand instead of the GPU's filter; weights fetched from a texture instead of inlined."""
    path = files["grid"]
    with serving(path) as (server, _, _):
        viewer = Viewer(browser, f"{server.url}?{query}", *CANVAS)
        try:
            assert viewer.info["hardware"] is (query != "sampling=exact")
            assert viewer.info["inline"] is (query != "weights=texture")
            found = window_matches(viewer, path, 4, 37, 21)
        finally:
            viewer.close()
    assert found["psnr"] >= 40 and found["mean_abs"] <= 1.0, found


def test_compare_shows_the_stored_pixels_upscaled_bicubically(browser, files):
    path = files["grid"]
    native = decode(read_spdr(path))
    upscaled = np.asarray(Image.fromarray(native).resize((256, 192), Image.Resampling.BICUBIC))
    with serving(path) as (server, _, _):
        viewer = Viewer(browser, server.url, *CANVAS)
        try:
            got = viewer.canvas(4, 37, 21, compare=True)[..., :3]
            network = viewer.canvas(4, 37, 21)[..., :3]
            label = viewer.page.inner_text("#source")
        finally:
            viewer.close()
    want = upscaled[21:21 + CANVAS[1], 37:37 + CANVAS[0]]
    inner = (slice(8, -8), slice(8, -8))  # Pillow renormalises its kernel at the border; the shader clamps
    assert psnr8(got[inner], want[inner]) >= 40
    assert psnr8(network, want) < psnr8(got, want)  # the toggle changes what is shown
    assert "network" in label


def test_wheel_zooms_around_the_pointer_drag_pans_and_reset_fits(browser, files):
    path = files["grid"]
    with serving(path) as (server, _, _):
        viewer = Viewer(browser, server.url, 320, 240)
        page = viewer.page
        try:
            fit = page.evaluate("spdrViewer.view()")
            assert fit["zoom"] == pytest.approx(min(320 / 64, 240 / 48))
            x, y = 100, 80
            before = (fit["left"] + x / fit["zoom"], fit["top"] + y / fit["zoom"])
            page.mouse.move(x, y)
            page.mouse.wheel(0, -300)
            viewer.until(f"(await spdrViewer.view()).zoom > {fit['zoom'] * 1.5}")
            v = page.evaluate("spdrViewer.view()")
            assert (v["left"] + x / v["zoom"], v["top"] + y / v["zoom"]) == pytest.approx(before)
            page.mouse.move(200, 150)
            page.mouse.down()
            page.mouse.move(150, 120, steps=5)
            page.mouse.up()
            moved = page.evaluate("spdrViewer.view()")
            assert (moved["left"], moved["top"]) == pytest.approx((v["left"] + 50 / v["zoom"], v["top"] + 30 / v["zoom"]))
            page.click("#reset")
            assert page.evaluate("spdrViewer.view()") == pytest.approx(fit)
            page.click("#one")
            assert page.evaluate("spdrViewer.view()")["zoom"] == 1
            page.keyboard.press("c")
            viewer.until("document.getElementById('compare').getAttribute('aria-pressed') === 'true'")
            assert "bicubic from the stored 64×48" in page.inner_text("#source")
            assert not viewer.errors, viewer.errors
        finally:
            viewer.close()


def test_readout_gives_the_zoom_and_the_equivalent_decoded_size(browser, files):
    with serving(files["grid"]) as (server, _, _):
        viewer = Viewer(browser, server.url, *CANVAS)
        try:
            viewer.canvas(4, 0, 0)
            viewer.until("document.getElementById('size').textContent === '256×192'")
            assert viewer.page.inner_text("#zoom") == "4.00×"
        finally:
            viewer.close()
