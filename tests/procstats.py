"""Run a command in a fresh child and measure its CPU time and peak memory (used by the robustness tests).

CPU seconds (user + system of the child), not wall time: the machine is shared, and a test must not
fail because another process held the cores.

The child is started from a small wrapper process, not from pytest: Linux keeps a process's peak RSS
across exec, so a child forked straight from a large pytest process would report pytest's size.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

WRAPPER = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(repr((proc.returncode, proc.stdout, proc.stderr, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, wall)))
"""


def measured_python(code: str, *args: str, cwd: Path, timeout: float = 300, wall: bool = False) -> tuple:
    """Run `python -c CODE ARGS`: exit code, stdout, stderr, CPU seconds, peak RSS in MiB (and, with
    wall=True, the child's wall seconds: for benchmarks of one run on free cores, never for tests)."""
    cmd = [sys.executable, "-c", code, *args]
    out = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True, cwd=cwd, timeout=timeout)
    assert out.returncode == 0, out.stderr
    measured = ast.literal_eval(out.stdout)
    return measured if wall else measured[:5]


def measured_spdr(*args: str, cwd: Path, timeout: float = 300, wall: bool = False) -> tuple:
    """Run `spdr ARGS` (as python -c, so no console-script lookup) and measure it."""
    return measured_python("from inrcodec.cli import main; main()", *args, cwd=cwd, timeout=timeout, wall=wall)
