"""Byte-exact golden files for .spdr 1.0 to 1.8: the writer must reproduce them and the reader must read them.

Set SPDR_REGENERATE_GOLDEN=1 to rewrite tests/data/golden_v1*.spdr after an intended
format change.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from inrcodec.format.container import pack, peek, unpack

DATA = Path(__file__).parent / "data"


def _golden_module():
    spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_golden = _golden_module()


@pytest.mark.parametrize(("build", "path"), [("build_golden", "GOLDEN_PATH"), ("build_golden_v1_1", "GOLDEN_V1_1_PATH"),
                                              ("build_golden_v1_2", "GOLDEN_V1_2_PATH"), ("build_golden_v1_3", "GOLDEN_V1_3_PATH"),
                                              ("build_golden_v1_5", "GOLDEN_V1_5_PATH"), ("build_golden_v1_6", "GOLDEN_V1_6_PATH"),
                                              ("build_golden_v1_8", "GOLDEN_V1_8_PATH"), ("build_golden_v1_9", "GOLDEN_V1_9_PATH"),
                                              ("build_golden_v1_10", "GOLDEN_V1_10_PATH")])
def test_writer_reproduces_golden_bytes(build, path):
    """Formats 1.0 to 1.3, 1.5, 1.6, 1.8, 1.9 and 1.10: the writer's bytes equal the committed golden file's."""
    data, golden = pack(*getattr(make_golden, build)()), getattr(make_golden, path)
    if os.environ.get("SPDR_REGENERATE_GOLDEN") == "1":
        golden.write_bytes(data)
        pytest.skip(f"regenerated {golden}")
    assert data == golden.read_bytes(), (
        f"writer output differs from tests/data/{golden.name}; if the change is intended, rerun "
        "with SPDR_REGENERATE_GOLDEN=1 and bump the format version if old files read differently")


def assert_samples(got: np.ndarray, pinned: np.ndarray) -> None:
    """Float audio samples against their pinned values, to within one 16-bit PCM step (2^-15): torch's sin and the
    matrix products take other vectorised code paths on other CPUs, and omega0 = 30 magnifies their last-bit
    differences (pinned on Intel; on AMD EPYC one sample of golden 1.2 is 1.4e-5 off). The integers a file stores,
    and every pixel (rounded to 8 bits), are pinned exactly."""
    np.testing.assert_allclose(got, pinned, rtol=0, atol=2.0**-15)


def marked_as(path: str, minor: int) -> bytes:
    """A golden file with its minor version byte set to `minor` and its CRC made valid again."""
    import struct
    import zlib

    data = bytearray(getattr(make_golden, path).read_bytes())
    data[10] = minor
    data[-4:] = struct.pack("<I", zlib.crc32(bytes(data[:-4])))
    return bytes(data)


@pytest.mark.parametrize(("path", "older", "minor"), [("GOLDEN_V1_5_PATH", 4, 5), ("GOLDEN_V1_6_PATH", 5, 6),
                                                      ("GOLDEN_V1_8_PATH", 7, 8), ("GOLDEN_V1_9_PATH", 8, 9),
                                                      ("GOLDEN_V1_9_PATH", 7, 9), ("GOLDEN_V1_10_PATH", 9, 10),
                                                      ("GOLDEN_V1_10_PATH", 7, 10), ("GOLDEN_V1_10_PATH", 5, 6)])
def test_golden_file_marked_as_an_older_minor_is_refused(path, older, minor):
    """1.5 (audio grid), 1.6 (video grid), 1.8 (three passes), 1.9 (seven passes) and 1.10 (video planes in seven
    passes) files relabelled below their minor are refused, naming the minor their passes need (a 1.10 file marked 1.5
    fails on 1.6's rule for a video grid first)."""
    from inrcodec.errors import HeaderInvalid

    with pytest.raises(HeaderInvalid, match=f"needs format 1.{minor}"):
        unpack(marked_as(path, older))


def read_back(build: str, path: str, minor: int) -> tuple[bytes, dict, dict, dict, dict]:
    """(file bytes, peek info, the built tensors, the header and tensors read back) of a golden file, after
    checking its signature and version and that the reader returns exactly what the builder made."""
    header, tensors = getattr(make_golden, build)()
    data = getattr(make_golden, path).read_bytes()
    assert data[:13] == b"\x89SPDR\r\n\x1a\n\x01" + bytes([minor]) + b"\x00\x00"
    info = peek(data)
    assert info["version"] == f"1.{minor}" and info["file_bytes"] == len(data)
    got_header, got = unpack(data)
    assert got_header == header
    assert set(got) == set(tensors)
    for name, arr in tensors.items():
        assert got[name].dtype == arr.dtype
        np.testing.assert_array_equal(got[name], arr)
    return data, info, tensors, got_header, got


def test_reader_reads_golden_file():
    read_back("build_golden", "GOLDEN_PATH", 0)  # signature 1.0, size, header and every tensor


# --- format 1.1: latent grid, compressed header, range-coded payload -----------------------------------

def test_reader_reads_golden_v1_1_file():
    from inrcodec.format import compact

    data, info, _, got_header, _ = read_back("build_golden_v1_1", "GOLDEN_V1_1_PATH", 1)
    hlen = info["header_bytes"]
    assert compact.is_compressed_header(data[17:17 + hlen]) and hlen < 150
    assert got_header["quant"]["coding"] == "rc"
    assert got_header["arch"]["grid_levels"] == 3 and (got_header["arch"]["grid_height"], got_header["arch"]["grid_width"]) == (6, 5)
    assert got_header["quant"]["tensors"]["latents"] == {"bits": 8, "shape": [43], "scale_shape": [1]}


def test_golden_v1_1_decodes_to_its_pixels():
    from inrcodec import decode

    pixels = decode(make_golden.GOLDEN_V1_1_PATH.read_bytes())
    assert pixels.dtype == np.uint8 and pixels.shape == (6, 5, 1)
    np.testing.assert_array_equal(pixels[..., 0], np.array(make_golden.V1_1_PIXELS, dtype=np.uint8))


def test_golden_v1_2_decodes_to_its_samples_and_keeps_them_at_twice_the_rate():
    from inrcodec import decode, decode_audio, info

    data = make_golden.GOLDEN_V1_2_PATH.read_bytes()
    assert info(data)["version"] == "1.2" and info(data)["header"]["coords"]["convention"] == "timestamp"
    assert_samples(decode(data)[:, 0], np.array(make_golden.V1_2_SAMPLES, dtype=np.float32))
    x2, rate = decode_audio(data, rate=16000, resample="network")  # the network itself at every output timestamp
    assert rate == 16000
    classic, _ = decode_audio(data, rate=16000)  # the default resamples the native samples: originals kept exactly
    assert_samples(classic[::2, 0], np.array(make_golden.V1_2_SAMPLES, dtype=np.float32))
    assert_samples(x2[:, 0], np.array(make_golden.V1_2_SAMPLES_X2, dtype=np.float32))
    np.testing.assert_array_equal(x2[::2, 0], decode(data)[:, 0])  # the same timestamps: this machine's native samples exactly


# --- format 1.3: latents coded under the file's own integer entropy model ---------------------------------

def test_reader_reads_golden_v1_3_file():
    from inrcodec.format import armmodel, latentcoding

    data, info, tensors, header, _ = read_back("build_golden_v1_3", "GOLDEN_V1_3_PATH", 3)
    assert header["quant"]["coding"] == "arm"
    assert (header["arch"]["arm_width"], header["arch"]["arm_depth"]) == (3, 1)
    # the payload's fixed fields (docs/format.md section 10.3): scales, the u16 level mask (3 levels, all coded), spreads
    payload = data[21 + info["header_bytes"]:-4]
    scales = 4 * sum(spec["scale_shape"][0] for spec in header["quant"]["tensors"].values())
    assert payload[scales:scales + 2] == b"\x07\x00"
    others = sorted(n for n in header["quant"]["tensors"] if n != "latents")
    spreads = payload[scales + 2:scales + 2 + len(others)]
    assert list(spreads) == [latentcoding.spread_code(tensors[n]) for n in others]
    assert (len(payload) - scales - 2 - len(others)) % 4 == 0
    # the golden's ARM is not degenerate: its means and scales vary with the context
    arm = armmodel.IntegerArm.from_tensors(tensors, 1)
    grids = latentcoding._levels(header, tensors["latents"].astype(np.int64))
    seen = []
    latentcoding._walk(header, arm, grids, 7, lambda plane, where, mean, scale: seen.append((len(set(mean)), len(set(scale)))))
    assert len(seen) == 6 and max(m for m, _ in seen) > 4 and max(s for _, s in seen) > 4


def test_golden_v1_3_decodes_to_its_pixels_at_one_and_two_times():
    import hashlib

    from inrcodec import decode

    data = make_golden.GOLDEN_V1_3_PATH.read_bytes()
    pixels = decode(data)
    assert pixels.dtype == np.uint8 and pixels.shape == (6, 5, 1)
    np.testing.assert_array_equal(pixels[..., 0], np.array(make_golden.V1_3_PIXELS, dtype=np.uint8))
    x2 = decode(data, scale=2, resample="network")
    assert x2.dtype == np.uint8 and x2.shape == (12, 10, 1)
    assert hashlib.sha256(np.ascontiguousarray(x2).tobytes()).hexdigest() == make_golden.V1_3_X2_SHA256


# --- format 1.4: segments ---------------------------------------------------------------------------------

def test_writer_reproduces_golden_v1_4_bytes():
    """The segmented writer's bytes equal the committed golden file's."""
    from inrcodec.format.container import pack_segmented

    data = pack_segmented(*make_golden.build_golden_v1_4())
    if os.environ.get("SPDR_REGENERATE_GOLDEN") == "1":
        make_golden.GOLDEN_V1_4_PATH.write_bytes(data)
        pytest.skip(f"regenerated {make_golden.GOLDEN_V1_4_PATH}")
    assert data == make_golden.GOLDEN_V1_4_PATH.read_bytes(), "rerun with SPDR_REGENERATE_GOLDEN=1 if the change is intended"


def test_golden_v1_4_reads_back_as_its_segments_and_decodes_to_their_samples():
    from inrcodec import decode, decode_audio, info
    from inrcodec.format.container import unpack_segmented
    from inrcodec.format.limits import read_checked

    data = make_golden.GOLDEN_V1_4_PATH.read_bytes()
    assert data[:13] == b"\x89SPDR\r\n\x1a\n\x01\x04\x00\x00"
    header, parts = make_golden.build_golden_v1_4()
    got_header, got_parts = unpack_segmented(data)
    assert got_header == header and got_parts == parts
    checked = read_checked(data)
    assert checked.version == "1.4" and checked.starts == (0, 6) and len(checked.segments) == 2
    assert checked.segments[0].header == make_golden.build_golden_v1_2()[0]
    facts = info(data)
    assert facts["version"] == "1.4" and len(facts["segment_headers"]) == 2
    assert facts["params"] == 2 * 33  # 1x4 + 4 + 4x4 + 4 + 4x1 + 1 weights a segment
    expected = np.array(make_golden.V1_2_SAMPLES + make_golden.V1_4_SECOND_SAMPLES, dtype=np.float32)
    assert_samples(decode(data)[:, 0], expected)
    classic, rate = decode_audio(data, rate=16000)  # the joined native samples resampled as a whole
    assert rate == 16000 and classic.shape == (20, 1)
    assert_samples(classic[::2, 0], expected)


# --- format 1.5: a latent grid on audio's time axis ------------------------------------------------------

def test_golden_v1_5_reads_back_and_decodes_to_its_samples():
    from inrcodec import decode

    data, _, _, header, _ = read_back("build_golden_v1_5", "GOLDEN_V1_5_PATH", 5)
    assert header["arch"]["grid_height"] == 1 and header["quant"]["coding"] == "arm"
    samples = decode(data)
    assert samples.dtype == np.float32 and samples.shape == (12, 2)
    assert_samples(samples, np.array(make_golden.V1_5_SAMPLES, dtype=np.float32))


def test_golden_v1_5_at_twice_the_rate_keeps_every_original_sample():
    """docs/format.md 12.2: timestamps sit at their finest cell's centre, so output sample 2i is native sample i."""
    from inrcodec import decode_audio

    data = make_golden.GOLDEN_V1_5_PATH.read_bytes()
    x2, rate = decode_audio(data, rate=16000, resample="network")
    assert rate == 16000 and x2.shape == (24, 2)
    np.testing.assert_allclose(x2[::2], np.array(make_golden.V1_5_SAMPLES, dtype=np.float32), atol=1e-6)
    assert np.abs(x2[1::2] - x2[::2]).max() > 1e-3  # the in-betweens are the network's own, not copies


def test_golden_v1_6_reads_back_and_decodes_to_its_frames():
    import hashlib

    from inrcodec import decode

    data, _, _, header, _ = read_back("build_golden_v1_6", "GOLDEN_V1_6_PATH", 6)
    assert header["arch"]["grid_frames"] == 4 and header["quant"]["coding"] == "arm"
    frames = decode(data)
    assert frames.dtype == np.uint8 and frames.shape == (4, 3, 2, 3)
    assert frames[0].tolist() == make_golden.V1_6_FIRST_FRAME
    assert hashlib.sha256(frames.tobytes()).hexdigest() == make_golden.V1_6_FRAMES_SHA256
    assert len({f.tobytes() for f in frames}) == 4  # every frame its own: the time axis is sampled


def test_golden_v1_10_holds_the_1_6_integers_in_seven_passes_a_plane_and_decodes_to_its_frames():
    """docs/format.md section 17: the 1.6 golden's integers, each plane walked in its non-empty passes (a 3 x 2 plane
    has 4 of the 7, 2 x 1 two, 1 x 1 one), coarsest level first, planes in time order; the same frames as 1.6."""
    import hashlib

    from inrcodec import decode
    from inrcodec.format import armmodel, latentcoding

    data, _, tensors, header, _ = read_back("build_golden_v1_10", "GOLDEN_V1_10_PATH", 10)
    assert header["arch"]["arm_passes"] == 7 and header["arch"]["grid_frames"] == 4
    assert data != make_golden.GOLDEN_V1_6_PATH.read_bytes()
    grids = latentcoding._levels(header, tensors["latents"].astype(np.int64))
    seen = []
    latentcoding._walk(header, armmodel.IntegerArm.from_tensors(tensors, 1), grids, 7,
                       lambda plane, where, mean, scale: seen.append(int(where.sum())))
    assert seen == [1] + [1, 1] * 2 + [1, 1, 1, 3] * 4  # 3 x 2: (0, 0); (2, 0) at stride 2; (1, 1); the other three
    frames = decode(data)
    assert hashlib.sha256(frames.tobytes()).hexdigest() == make_golden.V1_6_FRAMES_SHA256


def test_golden_v1_6_at_twice_the_frame_rate_keeps_every_original_frame():
    """docs/format.md 13.2: frame i sits at the centre of finest plane i, so output frame 2i is native frame i."""
    from inrcodec import decode

    data = make_golden.GOLDEN_V1_6_PATH.read_bytes()
    native = decode(data)
    x2 = decode(data, fps=50, resample="network")
    assert x2.shape == (8, 3, 2, 3)
    np.testing.assert_array_equal(x2[::2], native)
    assert np.abs(x2[1::2].astype(int) - x2[::2].astype(int)).max() > 0  # in-betweens are the network's own


# --- format 1.7: an image as horizontal bands ---------------------------------------------------------------

def test_writer_reproduces_golden_v1_7_bytes():
    """The band table over three image files, written by pack_segmented, equals the committed golden file."""
    from inrcodec.format.container import pack_segmented

    data = pack_segmented(*make_golden.build_golden_v1_7())
    if os.environ.get("SPDR_REGENERATE_GOLDEN") == "1":
        make_golden.GOLDEN_V1_7_PATH.write_bytes(data)
        pytest.skip(f"regenerated {make_golden.GOLDEN_V1_7_PATH}")
    assert data == make_golden.GOLDEN_V1_7_PATH.read_bytes(), "rerun with SPDR_REGENERATE_GOLDEN=1 if the change is intended"


def test_golden_v1_7_reads_back_as_its_bands_and_decodes_to_their_pixels_stacked():
    import hashlib

    from inrcodec import decode, info
    from inrcodec.format.container import unpack_segmented
    from inrcodec.format.limits import read_checked

    data = make_golden.GOLDEN_V1_7_PATH.read_bytes()
    assert data[:13] == b"\x89SPDR\r\n\x1a\n\x01\x07\x00\x00"
    header, parts = make_golden.build_golden_v1_7()
    assert unpack_segmented(data) == (header, parts)
    checked = read_checked(data)
    assert checked.version == "1.7" and checked.starts == (0, 2, 5)
    assert [band.header for band in checked.segments] == [h for h, _ in make_golden.build_golden_v1_7_bands()]
    facts = info(data)
    assert facts["version"] == "1.7" and len(facts["segment_headers"]) == 3 and facts["bpp"] == 8 * len(data) / 28
    pixels = decode(data)
    assert pixels.dtype == np.uint8 and pixels.shape == (7, 4, 3)
    assert hashlib.sha256(pixels.tobytes()).hexdigest() == make_golden.V1_7_PIXELS_SHA256
    assert pixels[0].tolist() == make_golden.V1_7_FIRST_ROW
    stacked = np.concatenate([decode(part) for part in parts])  # each band decoded alone, as an ordinary image file
    np.testing.assert_array_equal(pixels, stacked)


def test_golden_v1_7_at_twice_the_size_asks_each_pixel_of_the_band_holding_its_centre():
    """docs/format.md 14.4: at scale 2 output rows 2 start_k .. 2 (start_k + rows_k) - 1 fall in band k, each at the
    position the band's own scale-2 render samples, so the banded render is the bands' own renders stacked."""
    import hashlib

    from inrcodec import decode

    data = make_golden.GOLDEN_V1_7_PATH.read_bytes()
    x2 = decode(data, scale=2, resample="network")
    assert x2.shape == (14, 8, 3)
    assert hashlib.sha256(np.ascontiguousarray(x2).tobytes()).hexdigest() == make_golden.V1_7_X2_SHA256
    own = np.concatenate([decode(part, scale=2, resample="network") for part in make_golden.build_golden_v1_7()[1]])
    np.testing.assert_array_equal(x2, own)
    classic = decode(data, scale=2)  # the default: Lanczos of the assembled native image
    assert classic.shape == (14, 8, 3) and not np.array_equal(classic, x2)


def test_golden_v1_7_marked_as_an_older_minor_is_refused():
    from inrcodec.errors import HeaderInvalid
    from inrcodec.format.container import unpack_segmented

    for minor in (4, 6):
        with pytest.raises(HeaderInvalid, match="on an image needs format 1.7"):
            unpack_segmented(marked_as("GOLDEN_V1_7_PATH", minor))


# --- format 1.8: an image's latents in three passes a level -------------------------------------------------

@pytest.mark.parametrize(("build", "path", "minor", "passes", "sizes"), [
    # levels 2 x 2, 3 x 3, 6 x 5 (coarsest first); 1.8: even-even, odd-odd, the rest
    ("build_golden_v1_8", "GOLDEN_V1_8_PATH", 8, 3, [1, 1, 2, 4, 1, 4, 9, 6, 15]),
    # 1.9: the same three on the lattices of stride 4 (first: multiples of 8), 2 and 1; empty passes are skipped
    ("build_golden_v1_9", "GOLDEN_V1_9_PATH", 9, 7, [1, 1, 2, 1, 1, 2, 1, 4, 1, 1, 2, 1, 4, 6, 15])])
def test_reader_reads_golden_file_in_its_passes(build, path, minor, passes, sizes):
    """The 1.8 and 1.9 golden files hold the 1.3 golden's integers in another order: the walk visits each level's
    passes with the positions pass_masks gives, and the entropy model's means vary within a pass."""
    from inrcodec.format import armmodel, latentcoding

    data, _, tensors, header, _ = read_back(build, path, minor)
    assert header["arch"]["arm_passes"] == passes and header["quant"]["coding"] == "arm"
    assert data != make_golden.GOLDEN_V1_3_PATH.read_bytes()  # the same integers, another coding order
    arm = armmodel.IntegerArm.from_tensors(tensors, 1)
    grids = latentcoding._levels(header, tensors["latents"].astype(np.int64))
    seen = []
    latentcoding._walk(header, arm, grids, 7, lambda plane, where, mean, scale: seen.append((int(where.sum()), len(set(mean)))))
    assert [n for n, _ in seen] == sizes
    assert max(m for _, m in seen) > 4


@pytest.mark.parametrize("path", ["GOLDEN_V1_8_PATH", "GOLDEN_V1_9_PATH"])
def test_golden_v1_8_and_v1_9_decode_to_the_1_3_pixels_at_one_and_two_times(path):
    import hashlib

    from inrcodec import decode

    data = getattr(make_golden, path).read_bytes()
    pixels = decode(data)
    np.testing.assert_array_equal(pixels[..., 0], np.array(make_golden.V1_3_PIXELS, dtype=np.uint8))
    x2 = decode(data, scale=2, resample="network")
    assert hashlib.sha256(np.ascontiguousarray(x2).tobytes()).hexdigest() == make_golden.V1_3_X2_SHA256
