"""Static checks run with the tests: ruff on the package, mypy on the torch-free modules."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TORCH_FREE = ["inrcodec/format", "inrcodec/errors.py", "inrcodec/files.py", "inrcodec/signal.py", "inrcodec/metrics.py"]


def tool(name: str) -> list[str]:
    """The command for a tool: its console script, else `python -m name`; skip when neither exists."""
    exe = shutil.which(name)
    if exe:
        return [exe]
    probe = subprocess.run([sys.executable, "-m", name, "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", name]
    pytest.skip(f"{name} is not installed (pip install -e '.[test]')")


def test_ruff():
    out = subprocess.run([*tool("ruff"), "check", "inrcodec"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_on_torch_free_modules():
    # --follow-imports=silent: imported modules inform the types, but only TORCH_FREE is reported on
    cmd = [*tool("mypy"), "--follow-imports=silent", *TORCH_FREE]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
