"""The one owner of spdr's torch.compile policy shared by every fit: the SPDR_COMPILE override and the notice
a fit gives when compiling fails on the machine (train/fit.py compiles the plain network, train/rdfit.py the
latent-grid engine's fused kernels; each decides for itself when compiling pays)."""

from __future__ import annotations

import os

COMPILE_ENV = "SPDR_COMPILE"  # "0" never compiles, "1" always does; unset: the fit decides


def forced() -> bool | None:
    """What SPDR_COMPILE forces (True, False), or None where it is unset or neither 0 nor 1."""
    env = os.environ.get(COMPILE_ENV)
    return env == "1" if env in ("0", "1") else None


def failure_notice(error: BaseException, fallback: str) -> str:
    """The one-line notice for a compile that failed here: the error's class and first line, then what the fit does."""
    why = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"torch.compile failed on this machine ({type(error).__name__}{': ' + why[:120] if why else ''}): {fallback}"
