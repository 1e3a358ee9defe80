"""Task `av`: spdr against MP3, Opus and AAC (audio) and x264, x265 and SVT-AV1 (video) at equal bytes.

Video (_avvideo.py): the first VIDEO_SECONDS of each clip, spdr's default video engine (the latent
grid on (t, y, x), format 1.10) at VIDEO_QUALITIES against the anchors' bitrate scans, RGB PSNR and per-frame PSNR, BD-rate over
BD_VIDEO_KBITS. Audio:

For each clip, spdr encodes the whole file at each of QUALITIES (segmented into 4 s segments as
`spdr encode` does) and the file on disk gives the rate; MP3, Opus and AAC (PyAV, _avanchors.py)
are scanned over bitrates. Reported, as COIN++ does: SNR and PSNR on [-1, 1] of what each decoder
returns (spdr: the WAV that `spdr decode` writes, read back), encode and decode seconds of every
point in this one run; at each spdr point, each anchor's best file no larger; BD-rates of spdr
against each anchor over the SNRs both reach within BD_KBITS. Clips are split into a tuning set
(looked at while choosing the audio engine's settings) and an evaluation set (not).
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from fractions import Fraction

import numpy as np
import soundfile as sf

from . import register
from ._avanchors import AUDIO_ANCHORS, AUDIO_SETTINGS, audio_curve
from ._avreport import audio_report, video_report
from ._avvideo import VIDEO_ANCHORS, VIDEO_QUALITIES, VIDEO_SETTINGS, spdr_video_point, video_curve
from ._core import BenchOptions, TaskOutput
from ._data import shared_media
from ._rdmetrics import bd_rate

TUNING = ("guit_em9", "speech_voice")  # their first 2 s were probed while choosing the audio engine's settings
EVALUATION = ("loop_amen_full",)
CLIPS = ("audio/guit_em9.flac", "audio/speech_voice.wav", "audio/loop_amen_full.flac", "video/carphone_pristine.mp4",
         "video/bikes.mp4")
VIDEO_SECONDS = 2.0  # of each video clip, as the first measurement
# carphone's first 16 frames and bikes' first 8 chose the video engine's per-segment time stride (rate/timestride.py)
VIDEO_SETS = {"carphone_pristine": "tuning", "bikes": "tuning"}
BD_VIDEO_KBITS = (20.0, 1000.0)
QUALITIES = (30.0, 50.0, 65.0, 80.0)  # about 20-110 kbit/s on the shared clips
BD_KBITS = (16.0, 200.0)  # the rate range BD-rates are taken over, where both curves reach
PRESET = "fast"


def clip_set(name: str) -> str:
    return "tuning" if name in TUNING else "evaluation" if name in EVALUATION else "other"


def spdr_audio_point(path: str, source: np.ndarray, rate: int, quality: float, preset: str, steps: int | None, seed: int,
                     device: str, folder: str) -> dict:
    """One `spdr encode --quality` point, measured on the file on disk and on the WAV its decode writes."""
    import inrcodec
    from inrcodec.media.audio import encode_audio_bytes, output_subtype
    from inrcodec.metrics import psnr, snr

    out = os.path.join(folder, f"spdr_q{quality:g}.spdr")
    t0 = time.perf_counter()
    res = inrcodec.encode(path, out, quality=quality, preset=preset, steps=steps, seed=seed, device=device, force=True)
    t1 = time.perf_counter()
    samples, sr = inrcodec.decode_audio(out)
    wav = encode_audio_bytes(samples, sr, "WAV", output_subtype("WAV", res.header["signal"]["subtype"]))
    t2 = time.perf_counter()
    decoded = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)[0]
    size = os.path.getsize(out)
    return {"codec": "spdr", "quality": quality, "bytes": size, "kbits": 8 * size / (source.shape[0] / rate) / 1000,
            "snr_db": snr(source, decoded), "psnr_db": psnr(decoded, source), "encode_s": t1 - t0, "decode_s": t2 - t1,
            "steps": res.steps, "preset": preset, "segments": len(res.header.get("segments", [])) or 1}


def scan_anchors(opts: BenchOptions, name: str, codecs: tuple[str, ...], curve) -> dict[str, list[dict]]:
    """Each anchor's bitrate scan of one clip (`curve(codec)`), logged as it goes."""
    scans = {}
    for c in codecs:
        opts.log(f"{name}: {c} bitrate scan")
        scans[c] = curve(c)
    return scans


def comparison_rows(base: dict, scans: dict[str, list[dict]], spdr: list[dict], metric: str, knob: str, fields: tuple[str, ...],
                    window: tuple[float, float]) -> list[dict]:
    """The rows of one clip: every point; at each spdr point (named by its `knob`, quality or width) each anchor's
    best-`metric` file that is no larger (its `fields`); and the BD-rate of spdr against each anchor over `window` kbit/s."""
    rows = [{"kind": "point", **base, **p} for c in scans for p in scans[c]] + [{"kind": "point", **base, **p} for p in spdr]
    for p in spdr:
        for c, points in scans.items():
            fits = [a for a in points if a["bytes"] <= p["bytes"]]
            m = max(fits, key=lambda a: a[metric]) if fits else None
            rows.append({"kind": "equal_bytes", **base, "codec": c, f"spdr_{knob}": p[knob], "spdr_bytes": p["bytes"],
                         "spdr_kbits": p["kbits"], f"spdr_{metric}": p[metric],
                         **({k: m[k] for k in fields} if m else {"note": f"smallest {c} file is {min(a['bytes'] for a in points)} bytes"})})
    for c, points in scans.items():
        bd = bd_rate(*[[(a["kbits"], a[metric]) for a in pts] for pts in (points, spdr)], window=window)
        why = f"no {metric} both curves reach within {window[0]:g}-{window[1]:g} kbit/s (or under 2 points)"
        rows.append({"kind": "bd_rate", **base, "codec": c, "metric": metric, **(bd or {"bd_rate_pct": None, "note": why})})
    return rows


def spdr_points(opts: BenchOptions, label: str, qualities, preset: str, metric_name: str, metric: str, point) -> list[dict]:
    """`point(q)` at each quality, each logged before (`label`) and after (bytes, rate, `metric`, encode seconds)."""
    out = []
    for q in qualities:
        opts.log(f"{label} --quality {q:g} ({preset})")
        p = point(q)
        opts.log(f"  {p['bytes']} bytes ({p['kbits']:.1f} kbit/s), {metric_name} {p[metric]:.2f} dB, encode {p['encode_s']:.0f} s")
        out.append(p)
    return out


def measure_clip(path: str, opts: BenchOptions, qualities, preset: str, steps: int | None, folder: str) -> list[dict]:
    """Every row of one clip: anchor scans, spdr points, equal-bytes matches, BD-rates."""
    name = os.path.splitext(os.path.basename(path))[0]
    source, rate = sf.read(path, dtype="float32", always_2d=True)
    base = {"input": name, "set": clip_set(name), "medium": "audio", "seconds": source.shape[0] / rate,
            "channels": source.shape[1], "rate": rate}
    scans = scan_anchors(opts, name, AUDIO_ANCHORS, lambda c: audio_curve(source, rate, c))
    spdr = spdr_points(opts, f"{name}: spdr", qualities, preset, "SNR", "snr_db",
                       lambda q: spdr_audio_point(path, source, rate, q, preset, steps, opts.seed, opts.device, folder))
    return comparison_rows(base, scans, spdr, "snr_db", "quality", ("requested_kbits", "bytes", "kbits", "snr_db", "psnr_db"), BD_KBITS)


def measure_video_clip(path: str, opts: BenchOptions, qualities, preset: str, steps: int | None, folder: str) -> list[dict]:
    """Every row of one video clip: anchor scans, spdr points, equal-bytes matches, BD-rates (RGB PSNR)."""
    from ..media.image import to_pixels
    from ..media.video import load_video

    name = os.path.splitext(os.path.basename(path))[0]
    signal = load_video(path, frames=opts.frames) if opts.frames else load_video(path, duration=VIDEO_SECONDS)
    frames = to_pixels(signal.data, 8)
    fps = Fraction(*signal.meta["fps"])
    base = {"input": name, "set": VIDEO_SETS.get(name, "other"), "medium": "video", "seconds": frames.shape[0] / float(fps),
            "size": f"{frames.shape[2]}x{frames.shape[1]}", "frames": frames.shape[0]}
    scans = scan_anchors(opts, name, VIDEO_ANCHORS, lambda c: video_curve(frames, fps, c))
    spdr = spdr_points(opts, f"{name}: spdr video", qualities, preset, "PSNR", "psnr_db",
                       lambda q: spdr_video_point(path, frames, fps, q, preset, steps, opts.seed, opts.device, folder))
    return comparison_rows(base, scans, spdr, "psnr_db", "quality", ("requested_kbits", "bytes", "kbits", "psnr_db", "frame_psnr_db"),
                           BD_VIDEO_KBITS)


def is_video(path: str) -> bool:
    from ..media.sniff import sniff

    return sniff(path) == "video"


@register("av")
def run(opts: BenchOptions) -> TaskOutput:
    from ..nn.device import pick_device
    from ..rate.plan import PRESET_STEPS

    preset = opts.preset or PRESET
    steps = opts.steps[-1] if opts.steps else None
    qualities = tuple(opts.qualities) if opts.qualities else QUALITIES
    paths = list(opts.inputs) or [shared_media(*c.split("/")) for c in CLIPS]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise FileNotFoundError(f"no such clip: {missing[0]}")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="spdr-av-") as folder:
        for path in paths:
            if is_video(path):
                rows.extend(measure_video_clip(path, opts, tuple(opts.qualities) if opts.qualities else VIDEO_QUALITIES, preset,
                                               steps, folder))
            else:
                rows.extend(measure_clip(path, opts, qualities, preset, steps, folder))
    sets = {s: ", ".join(dict.fromkeys(r["input"] for r in rows if r["set"] == s)) for s in ("tuning", "evaluation", "other")}
    settings = {"tuning clips (audio: their first 2 s probed while choosing the audio engine's settings; video: its "
                "first 12 frames chose the time stride)": sets["tuning"] or "none",
                "evaluation clips (not looked at while tuning)": sets["evaluation"] or "none",
                **({"other inputs": sets["other"]} if sets["other"] else {}),
                "spdr": f"spdr encode --quality {', '.join(f'{q:g}' for q in qualities)}, preset {preset}, "
                        f"{steps if steps else PRESET_STEPS.get(preset, 2000)} steps a segment{' (--steps)' if steps else ''}, "
                        f"4 s segments, seed {opts.seed}, device {pick_device(opts.device)}; measured on the WAV "
                        "`spdr decode` writes (the source's PCM subtype)",
                **{k.upper() if k != "opus" else "Opus": v for k, v in AUDIO_SETTINGS.items()},
                "metrics": "SNR = 10·log10(Σx² / Σ(x−y)²) and PSNR = 10·log10(4 / MSE) on [-1, 1], over all samples and "
                           "channels of the whole clip; anchors aligned to the source at their best codec delay",
                "BD-rate": f"spdr against each anchor's scan, PCHIP of log-rate over SNR dB, over the SNRs both reach within "
                           f"{BD_KBITS[0]:g}-{BD_KBITS[1]:g} kbit/s (video: over RGB PSNR, "
                           f"{BD_VIDEO_KBITS[0]:g}-{BD_VIDEO_KBITS[1]:g} kbit/s)",
                **({"spdr video": f"the first {f'{opts.frames} frames' if opts.frames else f'{VIDEO_SECONDS:g} s'} of each clip; "
                                  "spdr encode --quality "
                                  f"{', '.join(f'{q:g}' for q in (opts.qualities or VIDEO_QUALITIES))} on the default engine (the "
                                  f"latent grid on (t, y, x), format 1.10), preset {preset}; decoded frames from inrcodec.decode_frames",
                    "video metrics": "RGB PSNR (peak 255) of the mean per-frame MSE over all frames; per-frame PSNR in av.json",
                    **{k: v for k, v in VIDEO_SETTINGS.items()}} if any(r.get("medium") == "video" for r in rows) else {}),
                "timing": "wall seconds of one encode and one decode call per point, in this run, same machine"}
    audio = [r for r in rows if r.get("medium") != "video"]
    video = [r for r in rows if r.get("medium") == "video"]
    md, figures = audio_report(audio) if audio else ("", {})
    if video:
        vmd, vfig = video_report(video)
        md, figures = md + "\n" + vmd, {**figures, **vfig}
    return TaskOutput(rows, md, figures, settings, notes=())
