"""Ctrl-C and SIGTERM during real `spdr encode` / `spdr decode` processes, and atomic --force replacement.

Each test starts a real process, waits until it is working (encode: its first progress line; decode:
a few seconds into a long render), sends the signal and checks: exit 130 (SIGINT) or 143 (SIGTERM), one
'Error:' line, no output file, no temporary file, and an existing file replaced with --force intact.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inrcodec.files import write_atomic
from inrcodec.format.container import pack
from inrcodec.nn.quantize import bit_plan, quantize_state
from inrcodec.nn.registry import build_model

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
OLD = b"the previous output, which must survive an interrupted --force run\n"


def spdr(*args, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "CI": "true", "SPDR_COMPILE": "0", "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-c", "from inrcodec.cli import main; main()", *map(str, args)]
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def interrupt(proc: subprocess.Popen, sig: int, *, wait_for: str | None, delay: float) -> tuple[int, str]:
    """Send `sig` once stderr shows `wait_for` (or after `delay` s); return exit code and all stderr."""
    seen = []
    if wait_for is not None:
        deadline = time.monotonic() + 120
        for line in proc.stderr:
            seen.append(line)
            if wait_for in line or time.monotonic() > deadline:
                break
    time.sleep(delay)
    assert proc.poll() is None, "the process finished before it could be interrupted: " + "".join(seen)
    proc.send_signal(sig)
    _, rest = proc.communicate(timeout=60)
    return proc.returncode, "".join(seen) + rest


def assert_clean(folder: Path, expected: set[str]) -> None:
    assert {p.name for p in folder.iterdir()} == expected, "partial output or temporary file left behind"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_encode(tmp_path, sig):
    src = tmp_path / "photo.png"
    Image.fromarray((np.indices((48, 48)).sum(0) * 2).astype(np.uint8)).save(src)
    (tmp_path / "photo.spdr").write_bytes(OLD)
    proc = spdr("encode", src, "--steps", 100000, "--width", 32, "--force", cwd=tmp_path)
    code, err = interrupt(proc, sig, wait_for="fit: step", delay=0.5)
    assert code == CODES[sig], err
    assert err.strip().splitlines()[-1] == ("Error: interrupted" if sig == signal.SIGINT else "Error: terminated"), err
    assert "Traceback" not in err
    assert (tmp_path / "photo.spdr").read_bytes() == OLD
    assert_clean(tmp_path, {"photo.png", "photo.spdr"})


@pytest.fixture(scope="module")
def slow_file(tmp_path_factory) -> Path:
    """A random 256-wide network: decoding it at 1500x1500 takes well over the few seconds we wait."""
    torch.manual_seed(0)
    arch = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": 3, "width": 256, "depth": 3,
            "omega0": 30.0, "first_omega0": 30.0}
    model = build_model(arch)
    tensors, quant = quantize_state(model, bit_plan(model, 8))
    header = {"modality": "image", "signal": {"height": 64, "width": 64, "channels": 3, "mode": "RGB", "bit_depth": 8},
              "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
              "values": {"offset": [0.0] * 3, "scale": [1.0] * 3}, "arch": arch, "quant": quant}
    path = tmp_path_factory.mktemp("slow") / "wide.spdr"
    path.write_bytes(pack(header, tensors))
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_decode(tmp_path, slow_file, sig):
    src = tmp_path / "wide.spdr"
    src.write_bytes(slow_file.read_bytes())
    (tmp_path / "big.png").write_bytes(OLD)
    proc = spdr("decode", src, "--size", "1500x1500", "--resample", "network", "-o", tmp_path / "big.png", "--force", cwd=tmp_path)
    code, err = interrupt(proc, sig, wait_for=None, delay=3.0)
    assert code == CODES[sig], err
    assert err.strip().splitlines()[-1].startswith("Error: "), err
    assert "Traceback" not in err
    assert (tmp_path / "big.png").read_bytes() == OLD
    assert_clean(tmp_path, {"wide.spdr", "big.png"})


def test_force_replaces_atomically_when_the_write_fails(tmp_path, monkeypatch):
    """The old file stays byte-identical until os.replace; a failure before it leaves the old file and no temp."""
    target = tmp_path / "out.spdr"
    target.write_bytes(OLD)
    seen = {}

    def failing_fsync(fd):
        seen["partial"] = sorted(p.name for p in tmp_path.iterdir())
        assert target.read_bytes() == OLD  # the new bytes are only in the temporary file so far
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space"):
        write_atomic(target, b"new" * 1000, force=True)
    assert len(seen["partial"]) == 2  # out.spdr and the temporary file beside it
    assert target.read_bytes() == OLD
    assert_clean(tmp_path, {"out.spdr"})
    monkeypatch.undo()
    write_atomic(target, b"new", force=True)
    assert target.read_bytes() == b"new"
    assert_clean(tmp_path, {"out.spdr"})
