"""Task `av`: spdr's default audio encoder (--quality, the latent-grid engine) against MP3, Opus and AAC at equal bytes.

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

import numpy as np
import soundfile as sf

from . import register
from ._avanchors import AUDIO_ANCHORS, AUDIO_SETTINGS, audio_curve
from ._avreport import audio_report
from ._core import BenchOptions, TaskOutput
from ._data import shared_media
from ._rdmetrics import bd_rate

TUNING = ("guit_em9", "speech_voice")  # their first 2 s were probed while choosing the audio engine's settings
EVALUATION = ("loop_amen_full",)
CLIPS = ("audio/guit_em9.flac", "audio/speech_voice.wav", "audio/loop_amen_full.flac")
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


def _curve(points: list[dict]) -> list[tuple[float, float]]:
    return [(p["kbits"], p["snr_db"]) for p in points]


def measure_clip(path: str, opts: BenchOptions, qualities, preset: str, steps: int | None, folder: str) -> list[dict]:
    """Every row of one clip: anchor scans, spdr points, equal-bytes matches, BD-rates."""
    name = os.path.splitext(os.path.basename(path))[0]
    source, rate = sf.read(path, dtype="float32", always_2d=True)
    base = {"input": name, "set": clip_set(name), "seconds": source.shape[0] / rate, "channels": source.shape[1], "rate": rate}
    scans = {}
    for c in AUDIO_ANCHORS:
        opts.log(f"{name}: {c} bitrate scan")
        scans[c] = audio_curve(source, rate, c)
    spdr = []
    for q in qualities:
        opts.log(f"{name}: spdr --quality {q:g} ({preset})")
        spdr.append(spdr_audio_point(path, source, rate, q, preset, steps, opts.seed, opts.device, folder))
        p = spdr[-1]
        opts.log(f"  {p['bytes']} bytes ({p['kbits']:.1f} kbit/s), SNR {p['snr_db']:.2f} dB, encode {p['encode_s']:.0f} s")
    rows = [{"kind": "point", **base, **p} for c in AUDIO_ANCHORS for p in scans[c]] + [{"kind": "point", **base, **p} for p in spdr]
    for p in spdr:
        for c in AUDIO_ANCHORS:
            fits = [a for a in scans[c] if a["bytes"] <= p["bytes"]]
            m = max(fits, key=lambda a: a["snr_db"]) if fits else None
            rows.append({"kind": "equal_bytes", **base, "codec": c, "spdr_quality": p["quality"], "spdr_bytes": p["bytes"],
                         "spdr_kbits": p["kbits"], "spdr_snr_db": p["snr_db"],
                         **({k: m[k] for k in ("requested_kbits", "bytes", "kbits", "snr_db", "psnr_db")} if m else
                            {"note": f"smallest {c} file is {min(a['bytes'] for a in scans[c])} bytes"})})
    for c in AUDIO_ANCHORS:
        bd = bd_rate(_curve(scans[c]), _curve(spdr), window=BD_KBITS)
        why = f"no SNR both curves reach within {BD_KBITS[0]:g}-{BD_KBITS[1]:g} kbit/s (or under 2 points)"
        rows.append({"kind": "bd_rate", **base, "codec": c, "metric": "snr_db", **(bd or {"bd_rate_pct": None, "note": why})})
    return rows


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
            rows.extend(measure_clip(path, opts, qualities, preset, steps, folder))
    sets = {s: ", ".join(dict.fromkeys(r["input"] for r in rows if r["set"] == s)) for s in ("tuning", "evaluation", "other")}
    settings = {"tuning clips (their first 2 s probed while choosing the audio engine's settings)": sets["tuning"] or "none",
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
                           f"{BD_KBITS[0]:g}-{BD_KBITS[1]:g} kbit/s",
                "timing": "wall seconds of one encode and one decode call per point, in this run, same machine"}
    md, figures = audio_report(rows)
    return TaskOutput(rows, md, figures, settings, notes=())
