"""Provenance for every results file: what ran, where, with what, at which commit."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from pathlib import Path

from inrcodec.bench._report import commit as _commit  # the one git probe (bench rows record it too)
from inrcodec.bench._report import cpu_model  # the one CPU-model probe

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str:
    """HEAD's hash of this checkout, with "+dirty" when tracked files differ from it."""
    return _commit(ROOT)


def provenance(seed: int | None = None, device: str | None = None) -> dict:
    """Command line, seed, machine, torch and Python versions, commit."""
    try:
        import torch

        torch_version, threads = torch.__version__, torch.get_num_threads()
    except ImportError:
        torch_version, threads = "not installed", None
    return {"command": shlex.join([os.path.relpath(sys.argv[0], ROOT) if sys.argv[0] else "python", *sys.argv[1:]]),
            "seed": seed, "machine": f"{cpu_model()}, {os.cpu_count()} cores", "torch": torch_version, "torch_threads": threads,
            "python": platform.python_version(), "device": device, "commit": commit()}


def markdown_provenance(p: dict) -> str:
    """The provenance as a Markdown bullet list."""
    return "\n".join(f"- {k}: `{v}`" for k, v in p.items() if v is not None)
