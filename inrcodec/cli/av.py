"""The audio and video halves of `spdr encode`, `decode` and `info`: output names, writing, report lines.

Kept apart from cli.py so the image commands stay short; no maths here either.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import click

from ..errors import SpdrError
from ..media.resample import rendering
from .options import check_output, echo_notices, parse_size, resample_notices


def describe_signal(signal) -> str:
    """One line naming the modality spdr chose and the signal's shape, e.g. 'audio: 6.857 s, 44100 Hz, 2 channels'."""
    m = signal.meta
    if signal.modality == "audio":
        return f"audio: {m['samples'] / m['sample_rate']:.3f} s, {m['sample_rate']} Hz, {m['channels']} channel(s), {m['subtype']}"
    if signal.modality == "video":
        fps = Fraction(*m["fps"])
        return f"video: {m['frames']} frames of {m['width']}x{m['height']} at {_fps_text(fps)} fps ({float(m['frames'] / fps):.3f} s)"
    return f"image: {m['width']}x{m['height']} {m['mode']}, {m['bit_depth']}-bit"


def _fps_text(fps: Fraction) -> str:
    return f"{fps.numerator}" if fps.denominator == 1 else f"{float(fps):.3f} ({fps.numerator}/{fps.denominator})"


def encode_report(result) -> dict:
    """Audio/video facts for `spdr encode --json` (rates from the written bytes, metrics from decoding them)."""
    from ..codec.video import duration_seconds

    h = result.header
    sig = h["signal"]
    seconds = duration_seconds(h)
    out = {"duration_s": round(seconds, 6), "kbps": round(8 * result.bytes / seconds / 1000, 3)}
    if h["modality"] == "audio":
        out.update(snr_db=round(result.snr_db, 3), sample_rate=sig["sample_rate"], channels=sig["channels"], samples=sig["samples"])
    else:
        frames = result.frame_psnr_db or []
        out.update(bpp=8 * result.bytes / (sig["frames"] * sig["height"] * sig["width"]), frames=sig["frames"],
                   fps=sig["fps"], min_frame_psnr_db=round(min(frames), 3) if frames else None)
    return out


def encode_lines(result, out: Path, report: dict) -> list[str]:
    """The human summary of an audio or video encode."""
    h = result.header
    r = result.resolved
    n = report.get("samples") or report["frames"] * h["signal"]["height"] * h["signal"]["width"]
    lines = [f"wrote {out}: {result.bytes} bytes, {report['kbps']:.1f} kbit/s"
             + (f", {report['bpp']:.4f} bits per pixel" if h["modality"] == "video" else "")]
    if "segments" in h:  # format 1.4: one network a segment
        lines.append(f"  {len(h['segments'])} segments, networks of {r.width}x{r.depth} (the first), {result.params} params in all, "
                     f"{r.bits}-bit, {result.steps} steps in {result.seconds:.1f} s")
    else:
        lines.append(f"  network {r.width}x{r.depth} {h['arch']['activation']} ({h['arch']['damping']}), {result.params} params, "
                     f"{r.bits}-bit, {result.steps} steps in {result.seconds:.1f} s"
                     + (f", batches of {r.batch_size}" if r.batch_size and r.batch_size < n else ""))
    rho = "" if math.isnan(result.rho_ag) else f", rho_AG {result.rho_ag:.5f}"  # nan for segments: not combined
    if h["modality"] == "audio":
        lines.append(f"  decoded SNR {result.snr_db:.2f} dB, PSNR {result.psnr_db:.2f} dB (float {result.float_psnr_db:.2f} dB){rho}")
    else:
        lines.append(f"  decoded PSNR {result.psnr_db:.2f} dB (lowest frame {report['min_frame_psnr_db']:.2f} dB, "
                     f"float {result.float_psnr_db:.2f} dB){rho}")
    return lines


def default_output(file: str, header: dict, rate: int | None, fps: str | None, scale: float | None, size: str | None) -> Path:
    """clip.spdr -> clip.decoded.wav, clip_48000hz.wav, clip_50fps.mp4, clip_x2.mp4, clip_320x240.mp4."""
    p = Path(file)
    ext = ".wav" if header["modality"] == "audio" else ".mp4"
    parts = []
    if rate is not None:
        parts.append(f"{rate}hz")
    if fps is not None:
        parts.append(f"{fps.replace('/', '-')}fps")
    if scale is not None:
        parts.append(f"x{scale:g}")
    if size is not None:
        parts.append(size.lower())
    return p.with_name(f"{p.stem}_{'_'.join(parts)}{ext}" if parts else f"{p.stem}.decoded{ext}")


def decode_av(file: str, checked, output: str | None, *, scale, size, rate, fps, crf, gradient, device,
              force: bool, quiet: bool, as_json: bool, resample: str = "auto", start: float | None = None,
              duration: float | None = None) -> None:
    """`spdr decode` for audio and video files: render at the requested rate/size and write as it renders."""
    from .. import files
    from ..api import decode_audio, decode_frames, open_video

    header = checked.header
    modality = header["modality"]
    if gradient:
        raise click.UsageError("--gradient applies to images")
    if modality == "audio" and (fps is not None or size is not None or crf is not None):
        raise click.UsageError("--fps, --size and --crf apply to video; audio takes --rate or --scale")
    if modality == "video" and (rate is not None or start is not None or duration is not None):
        raise click.UsageError("--rate, --start and --duration apply to audio; video takes --fps, --scale or --size")
    if rate is not None and scale is not None:
        raise click.UsageError("use either --rate or --scale, not both")
    target = output if output else str(default_output(file, header, rate, fps, scale, size))
    out = Path(target)
    if modality == "audio":
        from ..media.audio import audio_format, encode_audio_bytes

        fmt = audio_format(out)
        check_output(out, force)
        samples, out_rate = decode_audio(checked, rate, scale, device=device, force=force, resample=resample,
                                         start=start, duration=duration)
        resampled = out_rate != header["signal"]["sample_rate"] or (scale is not None and scale != 1)
        ranged = start is not None or duration is not None or bool(checked.segments)  # always resampled classically
        classic = ranged or rendering(resample, (header["signal"]["samples"],), samples.shape[:1]) == "classic"
        notices = resample_notices("audio", resampled and classic)
        files.write_atomic(out, encode_audio_bytes(samples, out_rate, fmt, header["signal"]["subtype"]), force=force)
        facts = {"output": str(out), "samples": int(samples.shape[0]), "sample_rate": out_rate,
                 "channels": int(samples.shape[1]), "bytes": out.stat().st_size}
        text = f"wrote {out}: {facts['samples']} samples at {facts['sample_rate']} Hz, {facts['channels']} channel(s)"
    else:
        from ..media.video import check_video_target, is_frames_folder, save_video

        check_video_target(target)
        if not is_frames_folder(target):
            check_output(out, force)
        elif out.exists() and not force:
            raise SpdrError(f"{out} exists; pass --force to replace it")
        video = open_video(checked, scale, parse_size(size), fps=fps, device=device, force=force, resample=resample)
        notices = resample_notices("video", video.rendering == "classic")
        n = save_video(target, decode_frames(video), video.fps, crf=crf, force=force)
        t, h, w = video.shape
        facts = {"output": str(out), "frames": n, "width": w, "height": h, "fps": [video.fps.numerator, video.fps.denominator]}
        text = f"wrote {out}: {n} frames of {w}x{h} at {_fps_text(video.fps)} fps"
    echo_notices(notices)
    if as_json:
        click.echo(json.dumps({**facts, "notices": notices}))
    elif not quiet:
        click.echo(text)


def info_line(facts: dict) -> str | None:
    """`spdr info`'s line of duration, rate and sizes for audio and video files."""
    h = facts["header"]
    sig = h["signal"]
    if h["modality"] == "audio":
        return (f"  duration {facts['duration_s']:.3f} s, {sig['sample_rate']} Hz, {sig['channels']} channel(s), "
                f"{sig['samples']} samples, {facts['kbps']:.1f} kbit/s")
    if h["modality"] == "video":
        fps = Fraction(*sig["fps"])
        return (f"  duration {facts['duration_s']:.3f} s, {_fps_text(fps)} fps, {sig['frames']} frames of {sig['width']}x{sig['height']}, "
                f"{sig['channels']} channels, {facts['kbps']:.1f} kbit/s, {facts['bpp']:.4f} bits per pixel")
    return None
