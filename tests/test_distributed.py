"""Several processes, one file: torchrun with 2 gloo ranks on the CPU.

The segmented file two ranks write equals the one-process file byte for byte (same seed, one thread a
process); a rank that raises fails the run with one error line and no output; a rank that dies outright
takes the run down with it (torchrun stops the others) and leaves no output; a batch of inputs is shared
over the ranks and a bad input among them is reported while the others are written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from inrcodec.codec import distributed

STEPS = ["--steps", "12", "--segment", "0.25"]  # 1 s of audio: 4 segments, 2 a rank


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")}
    return {**env, "OMP_NUM_THREADS": "1", "MKL_CBWR": "AUTO,STRICT", **extra}


def _torchrun(args: list[str], cwd: Path, module: bool = True) -> subprocess.CompletedProcess:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                "--monitor-interval", "0.2"]
    return subprocess.run(launcher + (["-m", "inrcodec"] if module else []) + args, capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=_env())


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """1 s of a stereo chirp with a little noise at 8 kHz."""
    path = tmp_path_factory.mktemp("dist") / "chirp.wav"
    t = np.arange(8000) / 8000
    rng = np.random.default_rng(3)
    left = 0.5 * np.sin(2 * np.pi * (200 + 600 * t) * t)
    samples = np.stack([left, 0.8 * left[::-1]], axis=1) + 0.01 * rng.standard_normal((8000, 2))
    sf.write(path, samples.astype(np.float32), 8000, subtype="FLOAT")
    return path


def test_shares_are_contiguous_blocks_that_cover_every_part():
    for count in range(0, 12):
        for size in range(1, 6):
            blocks = [distributed.share(count, distributed.World(r, size)) for r in range(size)]
            assert [k for b in blocks for k in b] == list(range(count))
            assert max(map(len, blocks)) - min(map(len, blocks)) <= 1


def test_two_gloo_ranks_write_the_one_process_file(clip, tmp_path):
    one, two = tmp_path / "one.spdr", tmp_path / "two.spdr"
    alone = subprocess.run([sys.executable, "-m", "inrcodec", "encode", str(clip), *STEPS, "--threads", "1", "-q", "-o", str(one)],
                           capture_output=True, text=True, timeout=300, env=_env())
    assert alone.returncode == 0, alone.stderr
    run = _torchrun(["encode", str(clip), *STEPS, "-o", str(two)], tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "4 segments of about 0.25 s, shared over 2 processes" in run.stdout
    assert run.stdout.count("wrote ") == 1  # rank 0 reports, once
    assert two.read_bytes() == one.read_bytes()


FAILING_RANK = """
import os, sys
import inrcodec.rate.quality as quality
from inrcodec.cli import main
from inrcodec.errors import MediaError

real = quality.encode_quality
def encode_quality(signal, config, progress=None, **options):
    if os.environ["RANK"] == "1":
        if sys.argv[1] == "die":
            os._exit(7)
        raise MediaError("rank one cannot fit this segment")
    return real(signal, config, progress, **options)
quality.encode_quality = encode_quality  # the audio engine api.encode hands each segment to
main(sys.argv[2:])
"""


@pytest.mark.parametrize("how", ["raise", "die"])
def test_a_failed_rank_fails_the_run_with_one_error_and_no_file(clip, tmp_path, how):
    script = tmp_path / "failing.py"
    script.write_text(FAILING_RANK)
    out = tmp_path / "never.spdr"
    run = _torchrun([str(script), how, "encode", str(clip), *STEPS, "-q", "-o", str(out)], tmp_path, module=False)
    assert run.returncode != 0
    assert not out.exists() and not list(tmp_path.glob(".never.spdr*"))  # no file, no temporary left behind
    if how == "raise":
        errors = [line for line in run.stderr.splitlines() if line.startswith("Error:")]
        assert errors == ["Error: rank 1 of 2: rank one cannot fit this segment"], run.stderr[-2000:]
        assert "inrcodec" not in run.stderr.split("Error: rank 1")[1]  # no traceback of ours (torchrun prints its own summary)


def test_a_batch_is_shared_over_ranks_and_a_bad_input_is_reported(clip, tmp_path):
    from PIL import Image

    from tests.conftest import smooth_pixels

    inputs = []
    for k in range(3):
        path = tmp_path / f"photo{k}.png"
        Image.fromarray(smooth_pixels(12, 16, 3, seed=k).astype(np.uint8)).save(path)
        inputs.append(path)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    inputs.append(bad)
    outdir = tmp_path / "out"
    run = _torchrun(["encode", *map(str, inputs), "--steps", "8", "-q", "-o", str(outdir) + "/"], tmp_path)
    assert run.returncode == 1
    assert sorted(p.name for p in outdir.iterdir()) == ["photo0.spdr", "photo1.spdr", "photo2.spdr"]
    assert "encoded 3 of 4 inputs" in run.stdout and "over 2 processes" in run.stdout
    assert "broken.png" in run.stderr and "inrcodec/" not in run.stderr


SMALL_BANDS = """
import sys
import inrcodec.codec.bands as bands
from inrcodec.cli import main

bands.BAND_PIXELS = 200  # the test photo (24 x 37) becomes 5 bands
main(sys.argv[1:])
"""


def test_two_ranks_share_a_photos_bands_and_write_the_one_process_file(tmp_path):
    from PIL import Image

    from tests.conftest import smooth_pixels

    photo = tmp_path / "photo.png"
    Image.fromarray(smooth_pixels(37, 24, 3, seed=9).astype(np.uint8)).save(photo)
    script = tmp_path / "small_bands.py"
    script.write_text(SMALL_BANDS)
    one, two = tmp_path / "one.spdr", tmp_path / "two.spdr"
    args = ["encode", str(photo), "--steps", "10", "-q"]
    alone = subprocess.run([sys.executable, str(script), *args, "--threads", "1", "-o", str(one)], capture_output=True, text=True,
                           timeout=300, env=_env())
    assert alone.returncode == 0, alone.stderr
    run = _torchrun([str(script), *args, "-o", str(two)], tmp_path, module=False)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "5 bands of 7-8 rows" in run.stdout and "shared over 2 processes" in run.stdout
    assert two.read_bytes() == one.read_bytes()
