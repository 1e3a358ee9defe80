"""Oversized decode requests: refused with the size stated unless --force; forced ones stay in bounded memory."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner
from procstats import measured_python

from inrcodec.cli import main
from inrcodec.format.container import pack

DATA = Path(__file__).parent / "data"


def _golden(height: int, width: int) -> bytes:
    spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    header, tensors = module.build_golden()
    header["signal"].update(height=height, width=width)
    return pack(header, tensors)


def test_scale_1000_on_a_large_image_states_the_size_and_refuses(tmp_path):
    src = tmp_path / "large.spdr"
    src.write_bytes(_golden(3000, 4000))
    r = CliRunner().invoke(main, ["decode", str(src), "--scale", "1000", "-o", str(tmp_path / "huge.png")])
    assert r.exit_code == 1
    assert r.stderr.strip() == ("Error: output would be 3000000x4000000 (12,000,000,000,000 samples); "
                                "pass --force to render it")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["large.spdr"]


def test_force_on_an_impossible_size_fails_cleanly(tmp_path):
    """--force cannot make 12 trillion pixels fit in memory: refused before rendering, nothing written."""
    src = tmp_path / "large.spdr"
    src.write_bytes(_golden(3000, 4000))
    r = CliRunner().invoke(main, ["decode", str(src), "--scale", "1000", "--force", "-o", str(tmp_path / "huge.png")])
    assert r.exit_code == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("Error: output would be 3000000x4000000 (12,000,000,000,000 samples), more than this machine's")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["large.spdr"]


PEAK = """
import inrcodec.codec.runtime as runtime
runtime.MAX_OUTPUT_SAMPLES = 1 << 20  # so a 4-megapixel decode needs --force, like a real huge one
from inrcodec.cli import main
main()
"""


def peak_decode(tmp_path: Path, *args: str) -> tuple[int, float, str]:
    code, _, err, _, rss = measured_python(PEAK, "decode", *args, cwd=tmp_path)
    return code, rss, err


@pytest.mark.parametrize("resample", ["network", "classic"])
def test_forced_large_decode_streams_into_the_output_array(tmp_path, monkeypatch, resample):
    """A forced 2048x2048 decode adds about its own output size (4 MiB of pixels, the PNG bytes) to the
    baseline, not the ~100 MiB its coordinates and float samples would take if held whole: the network's
    render streams chunk by chunk, the classic one resizes 8-bit planes."""
    src = tmp_path / "g.spdr"
    src.write_bytes(_golden(3, 5))
    monkeypatch.setattr("inrcodec.codec.runtime.MAX_OUTPUT_SAMPLES", 1 << 20)
    r = CliRunner().invoke(main, ["decode", str(src), "--size", "2048x2048", "-o", str(tmp_path / "big.png")])
    assert r.exit_code == 1 and "output would be 2048x2048 (4,194,304 samples); pass --force" in r.stderr
    code, base_rss, err = peak_decode(tmp_path, str(src), "-o", "native.png")
    assert code == 0, err
    code, big_rss, err = peak_decode(tmp_path, str(src), "--size", "2048x2048", "-o", "big.png", "--force", "--resample", resample)
    assert code == 0, err
    print(f"peak RSS: native decode {base_rss:.0f} MiB, forced 2048x2048 decode {big_rss:.0f} MiB")
    assert big_rss - base_rss < 40, (base_rss, big_rss)
    assert (tmp_path / "big.png").stat().st_size > 0


@pytest.mark.parametrize("args", [["--size", "0x5"], ["--scale", "0"]])
def test_empty_sizes_are_usage_errors(tmp_path, args):
    src = tmp_path / "g.spdr"
    src.write_bytes(_golden(3, 5))
    r = CliRunner().invoke(main, ["decode", str(src), *args, "-o", str(tmp_path / "o.png")])
    assert r.exit_code == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["g.spdr"]
