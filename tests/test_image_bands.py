"""Format 1.7 on the decode side: an image stored as horizontal bands, each an ordinary image file (docs/format.md 14).

The banded files here are built from small encodes of the bands' rows (and, for the gradient's units, from one
network over the whole image re-expressed on each band's coordinates), then decoded through the API and the CLI.
"""

from __future__ import annotations

import copy
import gc
import subprocess
import sys
import weakref
from fractions import Fraction

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import TINY_STEPS, smooth_pixels

import inrcodec
from inrcodec import errors
from inrcodec.cli import main
from inrcodec.format import container, header
from inrcodec.format.limits import read_checked

ROWS = (5, 3, 4)  # a 12 x 16 RGB image


def banded(parts: list[bytes]) -> bytes:
    """The 1.7 file of `parts` (image files, top to bottom): the table's signal is the first band's with the rows summed."""
    heads = [container.peek(p)["header"] for p in parts]
    signal = {**heads[0]["signal"], "height": sum(h["signal"]["height"] for h in heads)}
    segments = [[h["signal"]["height"], len(p)] for h, p in zip(heads, parts, strict=True)]
    table = {"modality": "image", "signal": signal, "segments": segments}
    return container.pack_segmented(table, parts)


@pytest.fixture(scope="module")
def bands() -> list[bytes]:
    """Three bands of a smooth 12 x 16 RGB picture, encoded alone: the latent-grid engine, the plain network, the grid again."""
    px = smooth_pixels(sum(ROWS), 16, 3).astype(np.uint8)
    starts = np.cumsum((0,) + ROWS)
    plain = {"arch": "mlp", "width": 8, "depth": 1}
    return [inrcodec.encode(px[a:b], steps=TINY_STEPS, **(plain if k == 1 else {})).data
            for k, (a, b) in enumerate(zip(starts[:-1], starts[1:], strict=True))]


@pytest.fixture(scope="module")
def file_of_bands(bands) -> bytes:
    return banded(bands)


def test_a_segment_table_over_an_image_is_format_1_7_and_audio_stays_1_4(file_of_bands):
    assert file_of_bands[9:11] == b"\x01\x07"
    checked = read_checked(file_of_bands)
    assert checked.version == "1.7" and checked.starts == (0, 5, 8) and len(checked.segments) == 3
    audio = {"modality": "audio", "signal": {"samples": 6, "channels": 1, "sample_rate": 8000, "subtype": "PCM_16"},
             "segments": [[6, 30]]}
    assert container.segmented_minor(audio) == container.SEGMENTED_MINOR == 4
    assert container.segmented_minor(checked.header) == container.IMAGE_BANDS_MINOR == 7


def test_band_table_messages_name_rows_and_the_height(file_of_bands):
    table = copy.deepcopy(read_checked(file_of_bands).header)
    table["signal"]["height"] = 13
    with pytest.raises(errors.HeaderInvalid, match=r"rows must add up to signal.height \(13\)"):
        header.validate_segmented(table)
    table["signal"]["height"] = 12
    table["segments"][0][0] = 0
    with pytest.raises(errors.HeaderInvalid, match="rows must be in 1..1048576"):
        header.validate_segmented(table)


def test_native_decode_is_the_bands_own_decodes_stacked(bands, file_of_bands):
    pixels = inrcodec.decode(file_of_bands)
    assert pixels.shape == (12, 16, 3) and pixels.dtype == np.uint8
    np.testing.assert_array_equal(pixels, np.concatenate([inrcodec.decode(b) for b in bands]))


def test_classic_resize_is_lanczos_of_the_assembled_image(bands, file_of_bands):
    from inrcodec.media.resample import lanczos

    native = np.concatenate([inrcodec.decode(b) for b in bands])
    np.testing.assert_array_equal(inrcodec.decode(file_of_bands, scale=2), lanczos(native, 24, 32))
    np.testing.assert_array_equal(inrcodec.decode(file_of_bands, size=(7, 9), resample="classic"), lanczos(native, 7, 9))


def test_network_render_at_scale_2_is_each_band_at_scale_2(bands, file_of_bands):
    """At twice the size output rows 2 start_k .. 2 end_k - 1 have their centres in band k, at exactly the positions
    the band's own scale-2 render samples: the banded render is the bands' network renders stacked."""
    x2 = inrcodec.decode(file_of_bands, scale=2, resample="network")
    own = np.concatenate([inrcodec.decode(b, scale=2, resample="network") for b in bands])
    assert x2.shape == (24, 32, 3)
    np.testing.assert_array_equal(x2, own)


def test_gradient_in_each_band_is_its_networks_in_whole_image_units(bands, file_of_bands):
    """Band k's y runs over its own rows: d/dy of the whole image is (H / rows_k) times the band's; x is shared."""
    grad = inrcodec.decode(file_of_bands, gradient=True)
    assert grad.shape == (12, 16, 1) and grad.dtype == np.float32
    for band, start in zip(bands, (0, 5, 8), strict=True):
        alone = inrcodec.decode(band, gradient=True)
        rows = alone.shape[0]
        mine = grad[start:start + rows]
        # |(a g_y, g_x)| with a = 12 / rows >= 1 lies between the band's own |(g_y, g_x)| and a times it
        assert np.all(mine >= alone * (1 - 1e-5)) and np.all(mine <= alone * 12 / rows * (1 + 1e-5))


def whole_and_bands(rows: tuple[int, ...]) -> tuple[bytes, bytes]:
    """One plain network over a whole 12 x 16 image, and the same function as a 1.7 file: band k's network is the
    whole one with its y re-expressed on the band's rows (float32 tensors; coords.scale and net.0.bias absorb the map)."""
    px = smooth_pixels(sum(rows), 16, 3, seed=3).astype(np.uint8)
    whole = inrcodec.encode(px, steps=TINY_STEPS, arch="mlp", width=8, depth=1).data
    head, tensors = container.unpack(whole)
    floats = {name: (tensors[name].astype(np.float32) * tensors[f"{name}.scale"].reshape(-1, *[1] * (tensors[name].ndim - 1)))
              .astype(np.float32) for name in head["quant"]["tensors"]}
    height, sy = sum(rows), head["coords"]["scale"][0]
    parts, start = [], 0
    for n in rows:
        band = copy.deepcopy(head)
        band["signal"]["height"] = n
        band["coords"]["scale"][0] = sy * n / height  # u_whole = (n / H) u_band + (2 start + n - H) / H
        band["quant"]["tensors"] = {name: {"bits": 32, "shape": list(a.shape), "scale_shape": [1]} for name, a in floats.items()}
        own = dict(floats)
        own["net.0.bias"] = (floats["net.0.bias"].astype(np.float64)
                             + floats["net.0.weight"][:, 0].astype(np.float64) * sy * (2 * start + n - height) / height).astype(np.float32)
        parts.append(container.pack(band, {**own, **{f"{k}.scale": np.ones(1, np.float32) for k in own}}))
        start += n
    return whole, banded(parts)


@pytest.mark.parametrize("scale", [1, 2, 1.5, 0.5])
def test_bands_of_one_function_render_as_that_function_at_any_size(scale):
    """Whatever band a pixel centre falls in, the banded render is the whole network's: pixels within a step of
    rounding, gradients in the whole image's units (the 1.7 conversion), at sizes whose rows straddle band borders."""
    whole, bands_file = whole_and_bands(ROWS)
    got = inrcodec.decode(bands_file, scale=scale, resample="network").astype(int)
    want = inrcodec.decode(whole, scale=scale, resample="network").astype(int)
    assert got.shape == want.shape and np.abs(got - want).max() <= 1
    g_bands = inrcodec.decode(bands_file, scale=scale, gradient=True)
    g_whole = inrcodec.decode(whole, scale=scale, gradient=True)
    np.testing.assert_allclose(g_bands, g_whole, rtol=2e-3, atol=1e-2 * float(g_whole.max()))


@pytest.mark.parametrize("height", [1, 2, 5, 7, 12, 13, 18, 24, 31])
def test_every_output_row_goes_to_the_band_holding_its_centre(file_of_bands, height):
    """codec/image.band_rows against exact fractions: row i's centre (i + 1/2) 12 / height in [start_k, end_k)."""
    from inrcodec.codec.image import band_rows

    checked = read_checked(file_of_bands)
    spans = band_rows(checked, height)
    edges = [0, 5, 8, 12]
    for i in range(height):
        centre = Fraction(2 * i + 1, 2) * 12 / height
        k = next(k for k in range(3) if edges[k] <= centre < edges[k + 1])
        assert spans[k][0] <= i < spans[k][1]
    assert spans[0][0] == 0 and spans[-1][1] == height and all(a[1] == b[0] for a, b in zip(spans[:-1], spans[1:], strict=True))


def test_one_band_network_at_a_time(monkeypatch, file_of_bands):
    """Bounded memory: each band's network is let go before the next one is built."""
    from inrcodec.codec import image

    live: list[weakref.ref] = []
    real = image.load_model

    def tracked(head, tensors):
        gc.collect()
        assert all(ref() is None for ref in live), "a previous band's network is still held"
        model = real(head, tensors)
        live.append(weakref.ref(model))
        return model

    monkeypatch.setattr(image, "load_model", tracked)
    inrcodec.decode(file_of_bands, scale=1.5, resample="network")
    assert len(live) == 3


def test_output_size_guards_the_whole_output(file_of_bands):
    with pytest.raises(errors.OutputTooLargeError):
        inrcodec.decode(file_of_bands, size=(1 << 14, 1 << 14))


def test_decode_samples_refuses_a_file_of_bands_in_one_line(file_of_bands):
    from inrcodec.codec.runtime import decode_samples

    with pytest.raises(errors.SpdrError, match="one network"):
        decode_samples(read_checked(file_of_bands))


def test_info_verify_and_the_cli_on_a_file_of_bands(tmp_path, file_of_bands):
    from inrcodec.codec.verify import verify_bytes

    facts = inrcodec.info(file_of_bands)
    assert facts["version"] == "1.7" and len(facts["segment_headers"]) == 3 and facts["bpp"] == 8 * len(file_of_bands) / (12 * 16)
    checked = verify_bytes(file_of_bands)
    assert checked["native"] == [12, 16] and "(first of 3 bands)" in checked["network"]
    path = tmp_path / "bands.spdr"
    path.write_bytes(file_of_bands)
    runner = CliRunner()
    out = runner.invoke(main, ["info", str(path)])
    assert out.exit_code == 0 and "spdr 1.7" in out.stdout and "bands: 3, 3..5 rows each" in out.stdout, out.stdout
    out = runner.invoke(main, ["verify", str(path)])
    assert out.exit_code == 0 and out.stdout.startswith("OK ") and "image 16x12 RGB" in out.stdout, out.stdout
    for args, size in ((["--scale", "2", "--resample", "network"], (32, 24)), (["--gradient"], (16, 12)), ([], (16, 12))):
        target = tmp_path / f"out{len(args)}.png"
        out = runner.invoke(main, ["decode", str(path), "-o", str(target), *args])
        assert out.exit_code == 0, out.stderr
        from PIL import Image

        assert Image.open(target).size == size


def _hostile(file_of_bands: bytes, bands: list[bytes]) -> dict[str, bytes]:
    """Variants of the banded file a decoder must refuse (CRCs valid)."""
    import struct
    import zlib

    table = read_checked(file_of_bands).header
    older = bytearray(file_of_bands)
    older[10] = 6
    older[-4:] = struct.pack("<I", zlib.crc32(bytes(older[:-4])))
    short = copy.deepcopy(table)
    short["signal"]["height"] = 13
    narrow = inrcodec.encode(smooth_pixels(3, 15, 3).astype(np.uint8), steps=2, arch="mlp", width=8, depth=1).data
    wide = [bands[0], narrow, bands[2]]
    return {"marked-1.6": bytes(older), "rows-not-adding-up": _frame(short, bands),
            "band-of-another-width": _frame({**table, "segments": [[5, len(bands[0])], [3, len(narrow)], [4, len(bands[2])]]}, wide),
            "nested": _frame({**table, "segments": [[5, len(bands[0])], [3, len(file_of_bands)], [4, len(bands[2])]]},
                          [bands[0], file_of_bands, bands[2]])}


def _frame(head: dict, parts: list[bytes]) -> bytes:
    """A 1.7 file of any table (nothing validated), framed with a valid CRC."""
    import struct
    import zlib

    from inrcodec.format import compact

    raw = compact.compress_header(header.canonical_json(head))
    payload = b"".join(parts)
    out = container.SIGNATURE + struct.pack("<BBHI", 1, 7, 0, len(raw)) + raw + struct.pack("<I", len(payload)) + payload
    return out + struct.pack("<I", zlib.crc32(out))


def test_hostile_files_of_bands_are_refused_by_the_real_cli_in_one_line(tmp_path, bands, file_of_bands):
    expected = {"marked-1.6": "needs format 1.7", "rows-not-adding-up": "rows must add up", "band-of-another-width": "segment 1",
                "nested": "nesting"}
    for name, data in _hostile(file_of_bands, bands).items():
        path, target = tmp_path / f"{name}.spdr", tmp_path / f"{name}.png"
        path.write_bytes(data)
        done = subprocess.run([sys.executable, "-m", "inrcodec", "decode", str(path), "-o", str(target)],
                              capture_output=True, text=True, timeout=120)
        lines = done.stderr.strip().splitlines()
        assert done.returncode != 0 and len(lines) == 1 and lines[0].startswith("Error: "), (name, done.stderr)
        assert expected[name] in lines[0] and "Traceback" not in done.stderr + done.stdout, (name, lines)
        assert not target.exists()
