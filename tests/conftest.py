"""Shared fixtures: tiny synthetic images of every kind the codec accepts, written as PNG files."""

from __future__ import annotations

import os
from pathlib import Path

# The test process decodes as the spdr program does: MKL in strict (thread-count independent) mode, set before
# torch's first BLAS call. Without it, a CLI test run in-process sets it for the children spawned later but too
# late for this process, and a decode here and one in a child differ in the last bits (seen on AMD EPYC).
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

import numpy as np
import pytest
from PIL import Image

TINY_STEPS = 8  # enough to exercise fit + quantization-aware tuning, fast on 2 cores


def smooth_pixels(h: int, w: int, channels: int, peak: int = 255, seed: int = 0) -> np.ndarray:
    """A smooth test pattern plus a little noise, as integers in 0..peak, shape (h, w, channels)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    out = []
    for c in range(channels):
        base = 0.5 + 0.35 * np.sin(2 * np.pi * (x / max(w, 2) * (c + 1) + y / max(h, 2) * 0.7 + 0.3 * c))
        out.append(np.clip(base + 0.05 * rng.standard_normal((h, w)), 0, 1))
    return np.rint(np.stack(out, axis=-1) * peak)


def write_image(path: Path, kind: str, h: int = 12, w: int = 16) -> np.ndarray:
    """Write a `kind` image (grey, rgb, rgba, palette, grey16) to path; return its pixels (h, w, C)."""
    if kind == "grey":
        px = smooth_pixels(h, w, 1).astype(np.uint8)
        Image.fromarray(px[..., 0], mode="L").save(path)
    elif kind == "rgb":
        px = smooth_pixels(h, w, 3).astype(np.uint8)
        Image.fromarray(px, mode="RGB").save(path)
    elif kind == "rgba":
        px = smooth_pixels(h, w, 4).astype(np.uint8)
        Image.fromarray(px, mode="RGBA").save(path)
    elif kind == "palette":
        rgb = Image.fromarray(smooth_pixels(h, w, 3).astype(np.uint8), mode="RGB")
        pal = rgb.quantize(colors=16)
        pal.save(path)
        px = np.asarray(pal.convert("RGB"))
    elif kind == "grey16":
        px = smooth_pixels(h, w, 1, peak=65535).astype(np.uint16)
        Image.fromarray(px[..., 0]).save(path)  # uint16 -> mode I;16
    else:
        raise ValueError(kind)
    return px


@pytest.fixture
def grey_png(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A 16x12 grey PNG and its pixels."""
    path = tmp_path / "grey.png"
    return path, write_image(path, "grey")


@pytest.fixture(scope="session")
def encoded_grey(tmp_path_factory) -> tuple[Path, Path, np.ndarray]:
    """One tiny grey image encoded once per session: (png, spdr, pixels)."""
    import inrcodec

    folder = tmp_path_factory.mktemp("encoded")
    png, spdr = folder / "src.png", folder / "src.spdr"
    px = write_image(png, "grey")
    inrcodec.encode(png, spdr, steps=TINY_STEPS)
    return png, spdr, px


@pytest.fixture(scope="session")
def encoded_grey16(tmp_path_factory) -> tuple[Path, Path, np.ndarray]:
    """One tiny 16-bit grey image encoded once per session: (png, spdr, pixels)."""
    import inrcodec

    folder = tmp_path_factory.mktemp("encoded16")
    png, spdr = folder / "src16.png", folder / "src16.spdr"
    px = write_image(png, "grey16")
    inrcodec.encode(png, spdr, steps=TINY_STEPS)
    return png, spdr, px


def poison_adam(monkeypatch, at_step: int, every_step_after: bool = False) -> dict:
    """Make Adam turn every parameter NaN at optimiser step `at_step` (and at each later one if every_step_after).

    Returns the live call counter {"n": steps so far}; reset it with counter.update(n=0) between fits.
    """
    import torch

    real_step, calls = torch.optim.Adam.step, {"n": 0}

    def poisoned_step(self, *args, **kwargs):
        out = real_step(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] == at_step or (every_step_after and calls["n"] > at_step):
            with torch.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.fill_(float("nan"))
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", poisoned_step)
    return calls
