"""Video for `spdr bench av`: x264, x265 and SVT-AV1 through PyAV over a bitrate scan, and spdr's video points.

Anchors encode the clip's 8-bit RGB frames as yuv420p at a target bitrate (single-pass ABR) into an
in-memory MP4 (whole-file bytes, container included) and are decoded back to RGB by FFmpeg; spdr
encodes the clip at each of VIDEO_QUALITIES on its default video engine (the latent grid on (t, y, x),
format 1.10) and is decoded by `inrcodec.decode_frames`, the frames `spdr decode` writes. Every
codec's PSNR is RGB PSNR over all frames (peak 255, the mean of the per-frame MSEs), with each
frame's PSNR kept for the per-frame plot.
"""

from __future__ import annotations

import io
import os
import time
from fractions import Fraction

import numpy as np

VIDEO_ANCHORS = ("x264", "x265", "svtav1")
VIDEO_KBITS = (25, 50, 100, 200, 400, 800)
VIDEO_CODECS = {"x264": ("libx264", {"preset": "medium"}), "x265": ("libx265", {"preset": "medium", "x265-params": "log-level=error"}),
                "svtav1": ("libsvtav1", {"preset": "8"})}
VIDEO_SETTINGS = {"x264": "libx264 via PyAV, preset medium, yuv420p, single-pass ABR at the requested bitrate, MP4",
                  "x265": "libx265 via PyAV, preset medium, yuv420p, single-pass ABR at the requested bitrate, MP4",
                  "svtav1": "libsvtav1 via PyAV, preset 8, yuv420p, ABR at the requested bitrate, MP4"}
VIDEO_QUALITIES = (5, 20, 40)  # spdr's video points: --quality on the default engine (the latent grid, format 1.10)


def frame_psnrs(decoded: list[np.ndarray], frames: np.ndarray) -> list[float]:
    """Per-frame RGB PSNR (peak 255); a missing frame is compared with the last one decoded (or black)."""
    out = []
    for i, ref in enumerate(frames):
        got = decoded[min(i, len(decoded) - 1)] if decoded else np.zeros_like(ref)
        err = float(np.mean((got.astype(np.float64) - ref.astype(np.float64)) ** 2))
        out.append(float("inf") if err == 0 else 10 * np.log10(255.0**2 / err))
    return out


def clip_psnr(per_frame: list[float]) -> float:
    """PSNR of the mean per-frame MSE."""
    mses = [255.0**2 / 10 ** (p / 10) for p in per_frame]
    m = float(np.mean(mses))
    return float("inf") if m == 0 else float(10 * np.log10(255.0**2 / m))


def encode_video(frames: np.ndarray, fps: Fraction, codec: str, kbits: int) -> bytes:
    """MP4 bytes of uint8 RGB frames (t, h, w, 3) encoded by `codec` at `kbits` kbit/s."""
    import av

    name, options = VIDEO_CODECS[codec]
    os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner on stderr otherwise
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream(name, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.bit_rate = int(kbits * 1000)
        stream.options = dict(options)
        for f in frames:
            for p in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
    return buf.getvalue()


def decode_video(data: bytes) -> list[np.ndarray]:
    import av

    with av.open(io.BytesIO(data)) as src:
        return [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]


def video_point(frames: np.ndarray, fps: Fraction, codec: str, kbits: int) -> dict:
    t0 = time.perf_counter()
    data = encode_video(frames, fps, codec, kbits)
    t1 = time.perf_counter()
    decoded = decode_video(data)
    t2 = time.perf_counter()
    per = frame_psnrs(decoded, frames)
    seconds = frames.shape[0] / float(fps)
    return {"codec": codec, "requested_kbits": kbits, "bytes": len(data), "kbits": 8 * len(data) / seconds / 1000,
            "bpp": 8 * len(data) / frames[..., 0].size, "psnr_db": clip_psnr(per), "frame_psnr_db": per,
            "decoded_frames": len(decoded), "encode_s": t1 - t0, "decode_s": t2 - t1}


def video_curve(frames: np.ndarray, fps: Fraction, codec: str) -> list[dict]:
    return [video_point(frames, fps, codec, k) for k in VIDEO_KBITS]


def spdr_video_point(path: str, frames: np.ndarray, fps: Fraction, quality: float, preset: str, steps: int | None, seed: int,
                     device: str, folder: str) -> dict:
    """One spdr video encode of the clip's first len(frames) frames at `quality` (default engine), measured on its
    decoded frames."""
    import inrcodec

    out = os.path.join(folder, f"spdr_q{quality:g}.spdr")
    t0 = time.perf_counter()
    res = inrcodec.encode(path, out, frames=frames.shape[0], quality=quality, preset=preset, steps=steps, seed=seed,
                          device=device, force=True)
    t1 = time.perf_counter()
    decoded = list(inrcodec.decode_frames(out))
    t2 = time.perf_counter()
    per = frame_psnrs(decoded, frames)
    size = os.path.getsize(out)
    seconds = frames.shape[0] / float(fps)
    arch = res.header["arch"] if "arch" in res.header else {}
    kind = "latent grid" if "grid_levels" in arch else "plain SPDER"
    network = f"{kind} {arch['width']}x{arch['depth']}" if arch else "segmented"
    return {"codec": "spdr", "quality": quality, "bytes": size, "kbits": 8 * size / seconds / 1000, "bpp": 8 * size / frames[..., 0].size,
            "psnr_db": clip_psnr(per), "frame_psnr_db": per, "decoded_frames": len(decoded), "encode_s": t1 - t0, "decode_s": t2 - t1,
            "steps": res.steps, "preset": preset, "network": network}
