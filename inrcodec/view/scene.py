"""A checked image file as the numbers the browser viewer renders: one JSON manifest and one float32 blob.

Why here: the page must evaluate exactly the function `spdr decode` evaluates, so the networks are rebuilt
by the decode runtime (codec/runtime.load_model: the file's checks, entropy decoding and dequantization stay
in Python) and then read back layer by layer into a layout a fragment shader can fetch as vec4 texels:

* every matrix is padded with zeros to a multiple of 4 rows and columns and stored row-major, every bias
  to a multiple of 4 (a padded unit computes act(0) = 0, which the next padded column multiplies by 0);
* latent levels are stored row-major, finest first, each level's own shape beside its offset;
* offsets and lengths count float32 values from the start of the blob (all multiples of 4).

A file of horizontal bands (format 1.7) is one entry per band, with its first row and row count; any other
image is one band of all rows. Audio, video and networks the shader does not implement are refused here
with a ViewError, before a server starts.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpdrError
from ..format.limits import CheckedFile

SCENE_VERSION = 1  # the manifest's "format" number; viewer.js refuses any other


class ViewError(SpdrError, ValueError):
    """A file the browser viewer cannot show (audio, video, or a network kind it does not render)."""


class _Blob:
    """float32 arrays appended in order, each padded to a multiple of 4 values; returns their offsets."""

    def __init__(self) -> None:
        self.parts: list[np.ndarray] = []
        self.size = 0

    def add(self, values: np.ndarray) -> int:
        flat = np.asarray(values, dtype=np.float32).reshape(-1)
        padded = np.zeros(-(-flat.size // 4) * 4, dtype=np.float32)
        padded[:flat.size] = flat
        offset, self.size = self.size, self.size + padded.size
        self.parts.append(padded)
        return offset

    def matrix(self, weight: np.ndarray) -> int:
        """A (out, in) matrix padded to (4k, 4m), row-major."""
        out, inp = weight.shape
        padded = np.zeros((-(-out // 4) * 4, -(-inp // 4) * 4), dtype=np.float32)
        padded[:out, :inp] = weight
        return self.add(padded)

    def bytes(self) -> bytes:
        return b"".join(p.astype("<f4").tobytes() for p in self.parts)


def _damping(module) -> str:
    return str(getattr(module, "damping", "none"))


def _layers(net, blob: _Blob) -> list[dict]:
    """The Sequential's linear layers, each with the activation that follows it (the last one: none)."""
    from torch import nn

    from ..nn.latentgrid import DampedLinear
    from ..nn.mlp import SineLayer

    mods = list(net)
    layers: list[dict] = []
    for i, m in enumerate(mods):
        if not isinstance(m, nn.Linear):
            if not isinstance(m, nn.ReLU):
                raise ViewError(f"the viewer does not render a {type(m).__name__} layer")
            continue
        w = m.weight.detach().float().cpu().numpy()
        b = m.bias.detach().float().cpu().numpy()
        layer = {"in": int(w.shape[1]), "out": int(w.shape[0]), "weight": blob.matrix(w), "bias": blob.add(b)}
        if isinstance(m, (DampedLinear, SineLayer)):
            omega = float(m.omega if isinstance(m, DampedLinear) else m.omega0)
            layer.update(act="sine", omega=omega, damping=_damping(m))
        elif i + 1 < len(mods) and isinstance(mods[i + 1], nn.ReLU):
            layer.update(act="relu")
        else:
            layer.update(act="none")
        layers.append(layer)
    return layers


def _inputs(model, blob: _Blob) -> dict:
    """What feeds the first layer: latent levels sampled at (x, y), or the coordinates (with their encoding)."""
    from torch import nn

    from ..nn.latentgrid import LatentGridSPDER
    from ..nn.mlp import CoordinateMLP, FourierFeatures, PositionalEncoding

    if isinstance(model, LatentGridSPDER):
        levels = []
        for grid, shape in zip(model.levels(), model.shapes, strict=True):
            h, w = (int(s) for s in shape)
            levels.append({"h": h, "w": w, "offset": blob.add(grid.detach().float().cpu().numpy())})
        return {"kind": "grid", "levels": levels, "interp": int(model.arch.get("grid_interp", 1)), "stencil": model.stencil}
    if isinstance(model, CoordinateMLP):
        enc = model.encoding
        if isinstance(enc, nn.Identity):
            return {"kind": "coords", "encoding": "none"}
        if isinstance(enc, PositionalEncoding):
            return {"kind": "coords", "encoding": "pe", "frequencies": int(enc.bands.numel())}
        if isinstance(enc, FourierFeatures):
            b = enc.B.detach().float().cpu().numpy()
            return {"kind": "coords", "encoding": "ffn", "features": int(b.shape[0]), "B": blob.matrix(b)}
    activation = model.arch.get("activation", type(model).__name__) if hasattr(model, "arch") else type(model).__name__
    raise ViewError(f"the viewer renders latent-grid and coordinate networks, not this file's {activation} network; "
                    "use spdr decode")


def _network(header: dict, tensors: dict, blob: _Blob) -> dict:
    from ..codec.runtime import load_model

    model = load_model(header, tensors)  # an image header's network takes (y, x): format/header.py checks in_features
    return {"input": _inputs(model, blob), "layers": _layers(model.net, blob),
            "coords_scale": [float(s) for s in header["coords"]["scale"]],
            "values": {"scale": [float(v) for v in header["values"]["scale"]],
                       "offset": [float(v) for v in header["values"]["offset"]]}}


def check_viewable(checked: CheckedFile) -> None:
    """Refuse audio and video with one line that says what to do instead."""
    modality = checked.header["modality"]
    if modality != "image":
        verb = "play" if modality == "audio" else "watch"
        raise ViewError(f"spdr view shows images; this file is {modality}: render it with spdr decode and {verb} the output")


def build_scene(checked: CheckedFile, name: str) -> tuple[dict, bytes]:
    """(manifest, blob) for a checked image file: see the module docstring for the layout."""
    check_viewable(checked)
    header = checked.header
    sig = header["signal"]
    blob = _Blob()
    parts = zip(checked.segments, checked.starts, strict=True) if checked.segments else [(checked, 0)]
    bands = []
    for part, start in parts:
        bands.append({"start": int(start), "rows": int(part.header["signal"]["height"]),
                      "net": _network(part.header, part.tensors, blob)})
    manifest = {"format": SCENE_VERSION, "name": name, "height": int(sig["height"]), "width": int(sig["width"]),
                "channels": int(sig["channels"]), "mode": sig["mode"], "bit_depth": int(sig["bit_depth"]),
                "version": checked.version, "file_bytes": int(checked.file_bytes), "floats": blob.size, "bands": bands}
    return manifest, blob.bytes()


def native_rgba(checked: CheckedFile) -> bytes:
    """The file decoded at its stored size by `spdr decode`'s own path, as 8-bit RGBA rows (top row first): the
    page's "stored resolution, upscaled bicubically" comparison."""
    from ..codec.image import decode_image

    pixels = decode_image(checked)
    if pixels.dtype == np.uint16:
        pixels = ((pixels.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    h, w, c = pixels.shape
    rgba = np.full((h, w, 4), 255, dtype=np.uint8)
    grey = c in (1, 2)
    rgba[..., :3] = pixels[..., :1] if grey else pixels[..., :3]
    if c in (2, 4):
        rgba[..., 3] = pixels[..., -1]
    return rgba.tobytes()
