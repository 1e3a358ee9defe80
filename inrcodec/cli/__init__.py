"""The `spdr` command line: parse, call the API, print. No maths here.

One module per command (encode, decode, info + verify, view, demo, bench); options.py holds what they share.
"""

from __future__ import annotations

import os

import click

from .bench import bench
from .decode import decode
from .demo import demo
from .encode import encode
from .info import info, verify
from .view import view


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inrcodec", prog_name="spdr")
def main() -> None:
    """spdr: fit a SPDER network to a photo, sound or clip and store it as a small, resolution-free .spdr file."""
    # Decoding must give the same bytes whatever the CPU thread count. MKL's GEMM splits reductions
    # across threads for narrow layers, which changes the last bits; its strict CNR mode is bitwise
    # reproducible. MKL reads this at its first BLAS call, which in the spdr program comes later (torch
    # is imported by the commands); a user's own MKL_CBWR wins. The library never sets it (README).
    os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")


for _command in (encode, decode, info, verify, view, demo, bench):
    main.add_command(_command)
