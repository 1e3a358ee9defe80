"""`spdr demo`: a real photo through the whole codec, using only what the package installs.

The photo is `inrcodec/data/camera.png` (256x256 grey, CC0; inrcodec/data/README.md says where it is from).
"""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import click
import numpy as np

from ..codec.presets import PRESETS
from ..errors import SpdrError
from .options import echo_notices, handle_errors

DEMO_PHOTO = "camera.png"


def demo_photo() -> np.ndarray:
    """The bundled camera photo as uint8 (256, 256)."""
    from PIL import Image

    with resources.files("inrcodec.data").joinpath(DEMO_PHOTO).open("rb") as f, Image.open(f) as img:
        return np.asarray(img.convert("L"))


def run_demo(out_dir: Path, preset: str = "fast", force: bool = False, quiet: bool = False,
             steps: int | None = None) -> Iterator[str]:
    """Write camera.png, camera.spdr, camera_x4.png and camera_x4_network.png into out_dir; yield summary lines."""
    from .. import api, files
    from ..media.image import encode_image_bytes
    from ..metrics import psnr
    from .progress import ProgressReporter

    out_dir.mkdir(parents=True, exist_ok=True)
    src, spdr, big = out_dir / "camera.png", out_dir / "camera.spdr", out_dir / "camera_x4.png"
    net = out_dir / "camera_x4_network.png"
    for p in (src, spdr, big, net):
        if p.exists() and not force:
            raise SpdrError(f"{p} exists; pass --force to replace the demo's files")
    photo = demo_photo()
    files.write_atomic(src, encode_image_bytes(photo[..., None], "L", "PNG"), force=True)
    reporter = ProgressReporter(quiet=quiet)
    try:
        result = api.encode(src, spdr, force=True, preset=preset, steps=steps, progress=reporter)
    finally:
        reporter.close()
    echo_notices(result.notices)
    checked = api.read_spdr(spdr)
    native = api.decode(checked)
    x4 = api.decode(checked, scale=4)  # the default rendering: the network's pixels, then Lanczos between them
    files.write_atomic(big, encode_image_bytes(x4, "L", "PNG"), force=True)
    x4_net = api.decode(checked, scale=4, resample="network")
    files.write_atomic(net, encode_image_bytes(x4_net, "L", "PNG"), force=True)
    ref = photo.astype(np.float64) / 127.5 - 1
    db = psnr(native[..., 0].astype(np.float64) / 127.5 - 1, ref)
    h, w = photo.shape
    yield f"source   {src} ({w}x{h} grey, CC0, bundled with spdr)"
    yield f"encoded  {spdr}: {result.bytes} bytes, {8 * result.bytes / (h * w):.3f} bpp, {result.steps} steps, {result.seconds:.1f} s"
    yield f"quality  PSNR {db:.2f} dB at native size (float network {result.float_psnr_db:.2f} dB), rho_AG {result.rho_ag:.5f}"
    yield f"decoded  {big}: {x4.shape[1]}x{x4.shape[0]} (4x: the decoded pixels, Lanczos between them, the default)"
    yield f"         {net}: the same 4x from the network alone (spdr decode --resample network)"


@click.command()
@click.option("--out", "out_dir", default="spdr-demo", show_default=True, help="Folder for the demo's files.")
@click.option("--preset", type=click.Choice(PRESETS), default="fast", show_default=True)
@click.option("--steps", type=click.IntRange(0, 10_000_000), default=None, help="Fitting steps (default: preset).")
@click.option("--force", is_flag=True, help="Replace files from an earlier demo run.")
@click.option("-q", "--quiet", is_flag=True)
@handle_errors
def demo(out_dir, preset, steps, force, quiet):
    """Encode the bundled camera photo (256x256 grey), decode it 4x larger into ./spdr-demo/."""
    for line in run_demo(Path(out_dir), preset=preset, force=force, quiet=quiet, steps=steps):
        click.echo(line)
