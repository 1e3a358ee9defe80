"""Bench inputs: scikit-image's bundled photos or any image file, audio through soundfile, video through PyAV.

Photos are centre-cropped to a square and area-averaged (Pillow BOX) to the bench size, like a
sensor with bigger pixels; every sample is in [-1, 1] as in the codec. Audio is mixed to mono and
divided by its peak (as the SIREN and SPDER code do); video is decoded to RGB frames.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import MediaError
from ..media import check_input

# Photos bundled in the scikit-image wheel that load offline (no pooch download)
SKIMAGE_PHOTOS = ("camera", "astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
                  "retina", "text", "moon", "page", "coins", "brick", "grass", "gravel")
SHARED_MEDIA = Path(__file__).resolve().parents[2].parent / "shared" / "media"


def shared_media(*parts: str) -> str:
    """Path of a clip in ../shared/media next to the project checkout (may not exist)."""
    return str(SHARED_MEDIA.joinpath(*parts))


def input_name(ref: str) -> str:
    """Short name for tables: 'camera' or the file's stem."""
    return ref if ref in SKIMAGE_PHOTOS and not os.path.exists(ref) else Path(ref).stem


def load_pil(ref: str) -> Image.Image:
    """A scikit-image photo by name, or any image file Pillow reads."""
    if ref in SKIMAGE_PHOTOS and not os.path.exists(ref):
        import skimage.data

        arr = np.asarray(getattr(skimage.data, ref)())
        if arr.dtype != np.uint8:
            arr = np.clip(np.rint(arr.astype(np.float64) / max(float(arr.max()), 1e-12) * 255), 0, 255).astype(np.uint8)
        return Image.fromarray(arr)
    p = check_input(ref)
    try:
        with Image.open(p) as img:
            img.load()
            return img.copy()
    except (OSError, SyntaxError, ValueError) as e:
        raise MediaError(f"{p.name}: not a readable image ({e.__class__.__name__})") from e


def to_unit(img: Image.Image, grey: bool = True) -> np.ndarray:
    """Pillow image -> float64 in [-1, 1]: (H, W) grey or (H, W, 3) RGB."""
    img = img.convert("L" if grey else "RGB")
    return np.asarray(img, dtype=np.float64) / 127.5 - 1.0


def square_crop(img: Image.Image) -> Image.Image:
    """The centred square of side min(W, H)."""
    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return img.crop((left, top, left + s, top + s))


def photo(ref: str, size: int | None, grey: bool = True) -> np.ndarray:
    """Centre square of the photo, area-averaged to size x size (None: native square)."""
    img = square_crop(load_pil(ref).convert("L" if grey else "RGB"))
    if size is not None and img.size[0] != size:
        img = img.resize((size, size), Image.Resampling.BOX)
    return to_unit(img, grey)


def photo_longest(ref: str, longest: int | None, grey: bool = True) -> np.ndarray:
    """The whole photo, area-averaged so its longer side is `longest` (None: native)."""
    img = load_pil(ref).convert("L" if grey else "RGB")
    w, h = img.size
    if longest is not None and max(w, h) != longest:
        f = longest / max(w, h)
        img = img.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)
    return to_unit(img, grey)


def audio(ref: str) -> tuple[np.ndarray, int]:
    """(mono float64 samples, sample rate) through soundfile."""
    import soundfile as sf

    p = check_input(ref)
    try:
        data, rate = sf.read(str(p), dtype="float64", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, TypeError) as e:
        raise MediaError(f"{p.name}: not a readable audio file ({str(e).splitlines()[0] if str(e) else type(e).__name__})") from e
    if data.shape[0] == 0:
        raise MediaError(f"{p.name}: audio file has no samples")
    return data.mean(axis=1), int(rate)


def loudest_window(x: np.ndarray, n: int) -> np.ndarray:
    """The n consecutive samples with the highest energy (hop n/4), peak-normalised to 1."""
    if n >= x.size:
        w = x.copy()
    else:
        hop = max(1, n // 4)
        energy = np.convolve(x * x, np.ones(n), mode="valid")[::hop]
        start = int(np.argmax(energy)) * hop
        w = x[start:start + n].copy()
    peak = float(np.max(np.abs(w)))
    if peak == 0:
        raise MediaError("audio window is silent")
    return w / peak


def video(ref: str, frames: int, crop: int, start: int = 0, min_frames: int = 3) -> tuple[np.ndarray, float]:
    """(up to `frames`, crop, crop, 3) RGB in [-1, 1] from the centre of the picture, and the frame rate."""
    import av

    p = check_input(ref)
    out = []
    try:
        with av.open(str(p)) as container:
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 0) or 25.0
            for i, frame in enumerate(container.decode(stream)):
                if i < start:
                    continue
                out.append(frame.to_ndarray(format="rgb24"))
                if len(out) == frames:
                    break
    except (av.error.FFmpegError, IndexError) as e:
        raise MediaError(f"{p.name}: not a readable video ({e.__class__.__name__})") from e
    if len(out) < min_frames:
        raise MediaError(f"{p.name}: needs at least {min_frames} frames from frame {start}, has {len(out)}")
    clip = np.stack(out).astype(np.float64) / 127.5 - 1.0
    _, h, w, _ = clip.shape
    if min(h, w) < crop:
        raise MediaError(f"{p.name}: {w}x{h} frames are smaller than the {crop}x{crop} crop")
    top, left = (h - crop) // 2, (w - crop) // 2
    return clip[:, top:top + crop, left:left + crop], fps
