"""spdr view without a browser: the scene's numbers, the server's table of paths, and the command's refusals and exit.

The page itself, in a real Chromium, is tests/test_view_browser.py.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from browser import serving
from click.testing import CliRunner

from inrcodec import errors
from inrcodec.api import decode, read_spdr
from inrcodec.cli import main
from inrcodec.codec.runtime import load_model
from inrcodec.format.geometry import grid_level_shapes
from inrcodec.view.scene import ViewError, build_scene, native_rgba
from inrcodec.view.server import STATIC, static_file

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "attacks"
STATIC_DIR = Path(__file__).resolve().parents[1] / "inrcodec" / "view" / "static"


@pytest.fixture(scope="module")
def grid_file(tmp_path_factory) -> Path:
    """A real latent-grid photo file (the default engine: stencil 2) of 24x20 RGB."""
    from conftest import smooth_pixels

    import inrcodec

    path = tmp_path_factory.mktemp("view") / "photo.spdr"
    inrcodec.encode(smooth_pixels(20, 24, 3).astype(np.uint8), path, steps=12)
    return path


# --- the scene: the decoder's own networks, laid out for vec4 fetches -----------------------------------------------


def _floats(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype="<f4")


def test_scene_holds_the_decoders_latents_and_weights_padded_to_vec4(grid_file):
    checked = read_spdr(grid_file)
    manifest, blob = build_scene(checked, "photo.spdr")
    values = _floats(blob)
    assert manifest["format"] == 1 and manifest["floats"] == values.size and values.size % 4 == 0
    assert (manifest["width"], manifest["height"], manifest["channels"], manifest["mode"]) == (24, 20, 3, "RGB")
    (band,) = manifest["bands"]
    assert (band["start"], band["rows"]) == (0, 20)
    net, model = band["net"], load_model(checked.header, checked.tensors)
    assert net["input"]["kind"] == "grid" and net["input"]["stencil"] == model.stencil == 2
    assert [(lv["h"], lv["w"]) for lv in net["input"]["levels"]] == grid_level_shapes(checked.header["arch"])
    for level, grid in zip(net["input"]["levels"], model.levels(), strict=True):
        assert level["offset"] % 4 == 0
        np.testing.assert_array_equal(values[level["offset"]:level["offset"] + level["h"] * level["w"]],
                                      grid.detach().reshape(-1).numpy())
    linears = [m for m in model.net if isinstance(m, torch.nn.Linear)]
    assert [layer["act"] for layer in net["layers"]] == ["sine"] * (len(linears) - 1) + ["none"]
    for layer, m in zip(net["layers"], linears, strict=True):
        rows, cols = -(-layer["out"] // 4) * 4, -(-layer["in"] // 4) * 4
        stored = values[layer["weight"]:layer["weight"] + rows * cols].reshape(rows, cols)
        np.testing.assert_array_equal(stored[:layer["out"], :layer["in"]], m.weight.detach().numpy())
        assert not stored[layer["out"]:].any() and not stored[:, layer["in"]:].any()
        np.testing.assert_array_equal(values[layer["bias"]:layer["bias"] + layer["out"]], m.bias.detach().numpy())
    assert net["values"] == checked.header["values"] and net["coords_scale"] == checked.header["coords"]["scale"]


def test_scene_of_bands_has_one_network_per_band_at_its_rows():
    checked = read_spdr(DATA / "golden_v1_7.spdr")
    manifest, _ = build_scene(checked, "bands.spdr")
    assert [(b["start"], b["rows"]) for b in manifest["bands"]] == [
        (start, part.header["signal"]["height"]) for start, part in zip(checked.starts, checked.segments, strict=True)]
    assert [b["net"]["coords_scale"] for b in manifest["bands"]] == [p.header["coords"]["scale"] for p in checked.segments]
    assert all(b["net"]["input"] == {"kind": "coords", "encoding": "none"} for b in manifest["bands"])


def test_native_pixels_are_the_decoders_as_rgba(grid_file):
    checked = read_spdr(grid_file)
    rgba = np.frombuffer(native_rgba(checked), dtype=np.uint8).reshape(20, 24, 4)
    np.testing.assert_array_equal(rgba[..., :3], decode(checked))
    assert (rgba[..., 3] == 255).all()


def test_native_pixels_of_16_bit_grey_round_to_8_bits(tmp_path):
    from conftest import write_image

    import inrcodec

    src = tmp_path / "g16.png"
    write_image(src, "grey16", h=8, w=10)
    inrcodec.encode(src, tmp_path / "g16.spdr", steps=4)
    checked = read_spdr(tmp_path / "g16.spdr")
    rgba = np.frombuffer(native_rgba(checked), dtype=np.uint8).reshape(8, 10, 4)
    want = np.rint(decode(checked)[..., 0] / 257.0).astype(np.uint8)
    assert all((rgba[..., c] == want).all() for c in range(3))


@pytest.mark.parametrize("name, kind", [("golden_v1_2.spdr", "audio"), ("golden_v1_6.spdr", "video")])
def test_audio_and_video_are_refused_with_what_to_do(name, kind):
    with pytest.raises(ViewError, match=f"spdr view shows images; this file is {kind}: render it with spdr decode"):
        build_scene(read_spdr(DATA / name), name)


def test_every_hostile_file_is_refused_before_a_server_starts():
    """The attack corpus: whatever decode refuses while reading or building the network, view refuses too."""
    entries = json.loads((CORPUS / "MANIFEST.json").read_text())
    checked = 0
    for entry in entries:
        if "decode" not in entry["refused_by"] or entry["stage"] == "output" or entry["modality"] != "image":
            continue
        with pytest.raises(errors.SpdrError):
            build_scene(read_spdr((CORPUS / entry["file"]).read_bytes()), entry["file"])
        checked += 1
    assert checked > 500


# --- the server: its own page and this file's numbers, nothing else ---------------------------------------------------


def _get(server, path, method="GET", host=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest(method, path, skip_host=True)
    conn.putheader("Host", f"127.0.0.1:{server.port}" if host is None else host)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), body


def test_server_serves_the_page_its_scripts_and_the_files_numbers(grid_file):
    with serving(grid_file) as (server, manifest, blob):
        assert server.url.startswith("http://127.0.0.1:") and server.server_address[0] == "127.0.0.1"
        for path, (name, kind) in STATIC.items():
            status, headers, body = _get(server, path)
            assert status == 200 and headers["Content-Type"] == kind and body == static_file(name)
            assert "default-src 'none'" in headers["Content-Security-Policy"] and headers["Cache-Control"] == "no-store"
        assert json.loads(_get(server, "/scene.json")[2]) == manifest
        assert _get(server, "/scene.bin")[2] == blob
        assert len(_get(server, "/native.bin")[2]) == 24 * 20 * 4
        status, headers, body = _get(server, "/?zoom=4", method="HEAD")
        assert status == 200 and body == b"" and int(headers["Content-Length"]) == len(static_file("viewer.html"))
        assert _get(server, "/", host=f"localhost:{server.port}")[0] == 200


@pytest.mark.parametrize("path", ["/etc/passwd", "/../../etc/passwd", "/static/viewer.js", "/scene.json/", "/photo.spdr",
                                  "/scene.bin/..", "/%2e%2e/scene.bin", "/favicon.ico", "/SCENE.JSON"])
def test_server_refuses_every_other_path(grid_file, path):
    with serving(grid_file) as (server, _, _):
        assert _get(server, path)[0] == 404


def test_server_refuses_other_methods_and_other_hosts(grid_file):
    with serving(grid_file) as (server, _, _):
        for method in ("POST", "PUT", "DELETE", "OPTIONS"):
            assert _get(server, "/", method=method)[0] == 405
        for host in ("evil.example:80", f"evil.example:{server.port}", "127.0.0.1", ""):
            assert _get(server, "/scene.bin", host=host)[0] == 421


def test_page_loads_nothing_from_elsewhere():
    """Offline: no CDN, no external font or script; every asset is one of the server's own paths."""
    for path in STATIC_DIR.iterdir():
        text = path.read_text()
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(", text, re.I), path.name
    html = (STATIC_DIR / "viewer.html").read_text()
    assert set(re.findall(r'(?:src|href)="([^"]+)"', html)) == {"viewer.js", "viewer.css", "data:,"}
    assert {p.name for p in STATIC_DIR.iterdir()} == {name for name, _ in STATIC.values()}
    imports = set(re.findall(r'from "\./([^"]+)"', "".join(p.read_text() for p in STATIC_DIR.glob("*.js"))))
    assert imports <= {name for name, _ in STATIC.values()}


# --- the command --------------------------------------------------------------------------------------------------------


def test_view_refuses_audio_and_hostile_files_in_one_line():
    runner = CliRunner()
    for path, message in ((DATA / "golden_v1_2.spdr", "Error: spdr view shows images; this file is audio"),
                          (CORPUS / "image-gray--truncated-at-0.spdr", "Error: "),
                          (DATA / "no-such-file.spdr", "Error: ")):
        result = runner.invoke(main, ["view", str(path), "--no-browser"])
        assert result.exit_code == 1 and result.stderr.startswith(message), result.output
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
        assert "spdr view:" not in result.stdout  # no server was started


def _spdr_view(*args) -> subprocess.Popen:
    env = {**os.environ, "CI": "true", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-c", "from inrcodec.cli import main; main()", "view", *map(str, args), "--no-browser"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_view_serves_until_ctrl_c_then_exits_cleanly(grid_file):
    proc = _spdr_view(grid_file)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert url, line
        port = int(url.group(1))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/scene.json")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "stopped" in out and err == "", (out, err)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_view_on_a_port_in_use_says_so(grid_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["view", str(grid_file), "--no-browser", "--port", str(port)])
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}"), result.output
