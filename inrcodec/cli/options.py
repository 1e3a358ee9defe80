"""Pieces every spdr command shares: error handling, signals, size parsing, output names. No maths here."""

from __future__ import annotations

import os
import signal as signals
import sys
import time
import traceback
from functools import wraps
from pathlib import Path

import click

from ..errors import SpdrError
from ..files import check_output
from ..media.resample import CLASSIC

__all__ = ["RESAMPLE_HELP", "check_output", "default_decode_name", "echo_notices", "handle_errors", "out_path", "parse_size",
           "resample_notices"]


# The program's clock starts when the commands are imported, before torch: `spdr encode FILE --time T` passes it to
# inrcodec.encode(started=), so starting Python, importing torch and reading the input are inside T.
STARTED = time.perf_counter()


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt (so `except Exception` never swallows it)."""


def _sigterm(signum, frame):  # pragma: no cover - exercised through subprocess tests (tests/test_interrupts.py)
    raise Terminated()


def handle_errors(fn):
    """One-line `Error: ...` and exit 1 for expected failures; traceback only with -v."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        verbose = kwargs.pop("verbose", False)
        signals.signal(signals.SIGTERM, _sigterm)
        signals.signal(signals.SIGINT, signals.default_int_handler)  # even when started with SIGINT ignored (background jobs, CI)
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            sys.exit(130)
        except Terminated:
            click.echo("Error: terminated", err=True)
            sys.exit(143)
        except (SpdrError, ValueError, OSError, MemoryError) as e:
            if _elsewhere(e):  # under torchrun: the rank whose error it is says it, the others exit quietly
                sys.exit(1)
            if verbose:
                traceback.print_exc()
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            click.echo(f"Error: {msg}", err=True)
            sys.exit(1)

    wrapper = click.option("-v", "--verbose", is_flag=True, help="Show a traceback on errors.")(wrapper)
    return wrapper


def _elsewhere(error: BaseException) -> bool:
    """Whether `error` is another rank's failure (a RankFailed whose origin is not this process's RANK)."""
    origin = getattr(error, "origin", None)
    return origin is not None and str(origin) != os.environ.get("RANK", "0")


def out_path(src: str, out: str | None, suffix: str) -> Path:
    return Path(out) if out else Path(src).with_suffix(suffix)


def default_decode_name(src: str, scale: float | None, size: str | None, gradient: bool) -> Path:
    """photo.spdr -> photo.decoded.png, photo_x4.png, photo_640x480.png or photo.gradient.png."""
    p = Path(src)
    if gradient:
        return p.with_name(p.stem + ".gradient.png")
    if scale is not None:
        return p.with_name(f"{p.stem}_x{scale:g}.png")
    if size is not None:
        return p.with_name(f"{p.stem}_{size.lower()}.png")
    return p.with_name(p.stem + ".decoded.png")


def parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter("expected WxH, e.g. 1920x1080", param_hint="--size") from None
    if w < 1 or h < 1:
        raise click.BadParameter("width and height must be at least 1", param_hint="--size")
    return h, w




RESAMPLE_HELP = ("Off the native grid: classic (network on its own grid, then Lanczos / libswresample / frame blending), "
                 "network (the network at every output sample), or auto (default: classic; the network alone renders worse "
                 "between its samples, benchmarks/results/anyres/).")


def resample_notices(modality: str, classic: bool) -> list[str]:
    """The one line that says an off-grid decode did not come from the network alone."""
    if not classic:
        return []
    return [f"rendered between the stored samples with {CLASSIC[modality]}: the network alone renders worse there; "
            "--resample network renders the network itself"]


def echo_notices(notices: list[str]) -> None:
    """Each place where spdr did other than asked, one `note:` line on stderr (also in --json as "notices")."""
    for line in notices:
        click.echo(f"note: {line}", err=True)
