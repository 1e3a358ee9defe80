"""`spdr demo`: a real photo through the whole codec, using only what the package installs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import SpdrError


def demo_photo(size: int = 256) -> np.ndarray:
    """scikit-image's bundled `camera` photo, downscaled (Pillow, Lanczos) to size x size."""
    from PIL import Image

    try:
        from skimage import data
    except ImportError as e:  # pragma: no cover - scikit-image is a dependency
        raise SpdrError("spdr demo needs scikit-image (pip install scikit-image)") from e
    img = Image.fromarray(data.camera())
    return np.asarray(img.resize((size, size), Image.Resampling.LANCZOS))


def run_demo(out_dir: Path, preset: str = "fast", force: bool = False, quiet: bool = False,
             steps: int | None = None) -> Iterator[str]:
    """Write camera.png, camera.spdr and camera_x4.png into out_dir; yield summary lines."""
    from . import api, container
    from .media.image import encode_image_bytes
    from .metrics import psnr
    from .progress import ProgressReporter

    out_dir.mkdir(parents=True, exist_ok=True)
    src, spdr, big = out_dir / "camera.png", out_dir / "camera.spdr", out_dir / "camera_x4.png"
    for p in (src, spdr, big):
        if p.exists() and not force:
            raise SpdrError(f"{p} exists; pass --force to replace the demo's files")
    photo = demo_photo()
    container.write_atomic(src, encode_image_bytes(photo[..., None], "L", "PNG"), force=True)
    reporter = ProgressReporter(quiet=quiet)
    try:
        result = api.encode(src, spdr, force=True, preset=preset, steps=steps, progress=reporter)
    finally:
        reporter.close()
    native = api.decode(spdr)
    x4 = api.decode(spdr, scale=4)
    container.write_atomic(big, encode_image_bytes(x4, "L", "PNG"), force=True)
    ref = photo.astype(np.float64) / 127.5 - 1
    db = psnr(native[..., 0].astype(np.float64) / 127.5 - 1, ref)
    yield f"source   {src} (256x256 grey, from scikit-image)"
    yield f"encoded  {spdr}: {result.bytes} bytes, {8 * result.bytes / 65536:.3f} bpp, {result.steps} steps, {result.seconds:.1f} s"
    yield f"quality  PSNR {db:.2f} dB at native size (float network {result.float_psnr_db:.2f} dB), rho_AG {result.rho_ag:.5f}"
    yield f"decoded  {big}: {x4.shape[1]}x{x4.shape[0]} (4x)"
