"""The `spdr` command line: parse, call the API, print. No maths here."""

from __future__ import annotations

import json
import os
import signal as signals
import sys
import traceback
from functools import wraps
from pathlib import Path

import click

from .config import DEVICES, PRESETS, EncodeConfig
from .errors import SpdrError

DEFAULTS = EncodeConfig()
ACTIVATION_CHOICES = ("spder", "siren", "relu", "relu-pe", "relu-ffn")
DAMPING_CHOICES = ("sqrt", "log", "atan", "sqrt-relu")
BITS_CHOICES = ("6", "8", "10", "12", "16", "32")


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt (so `except Exception` never swallows it)."""


def _sigterm(signum, frame):  # pragma: no cover - exercised through subprocess tests (tests/test_interrupts.py)
    raise Terminated()


def handle_errors(fn):
    """One-line `Error: ...` and exit 1 for expected failures; traceback only with -v."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        verbose = kwargs.pop("verbose", False)
        signals.signal(signals.SIGTERM, _sigterm)
        signals.signal(signals.SIGINT, signals.default_int_handler)  # even when started with SIGINT ignored (background jobs, CI)
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("Error: interrupted", err=True)
            sys.exit(130)
        except Terminated:
            click.echo("Error: terminated", err=True)
            sys.exit(143)
        except (SpdrError, ValueError, OSError, MemoryError) as e:
            if verbose:
                traceback.print_exc()
            msg = str(e).splitlines()[0] if str(e) else type(e).__name__
            click.echo(f"Error: {msg}", err=True)
            sys.exit(1)

    wrapper = click.option("-v", "--verbose", is_flag=True, help="Show a traceback on errors.")(wrapper)
    return wrapper


def _out_path(src: str, out: str | None, suffix: str) -> Path:
    return Path(out) if out else Path(src).with_suffix(suffix)


def _default_decode_name(src: str, scale: float | None, size: str | None, gradient: bool) -> Path:
    """photo.spdr -> photo.decoded.png, photo_x4.png, photo_640x480.png or photo.gradient.png."""
    p = Path(src)
    if gradient:
        return p.with_name(p.stem + ".gradient.png")
    if scale is not None:
        return p.with_name(f"{p.stem}_x{scale:g}.png")
    if size is not None:
        return p.with_name(f"{p.stem}_{size.lower()}.png")
    return p.with_name(p.stem + ".decoded.png")


def _check_output(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise SpdrError(f"{path} exists; pass --force to replace it")
    if path.is_dir():
        raise SpdrError(f"{path} is a directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise SpdrError(f"output folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise SpdrError(f"output folder {parent} is not writable")


def _parse_size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise click.BadParameter("expected WxH, e.g. 1920x1080", param_hint="--size") from None
    if w < 1 or h < 1:
        raise click.BadParameter("width and height must be at least 1", param_hint="--size")
    return h, w


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="inrcodec", prog_name="spdr")
def main() -> None:
    """spdr: fit a SPDER network to a photo and store it as a small, resolution-free .spdr file."""


@main.command()
@click.argument("image", metavar="FILE", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", help="Output .spdr path (default: FILE with .spdr).")
@click.option("--start", type=click.FloatRange(min=0), help="Audio/video: start this many seconds in.")
@click.option("--frames", type=click.IntRange(min=1), help="Video: encode this many frames.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Audio/video: encode this many seconds.")
@click.option("--preset", type=click.Choice(PRESETS), default=DEFAULTS.preset, show_default=True)
@click.option("--steps", type=click.IntRange(0, 10_000_000), default=DEFAULTS.steps, help="Fitting steps (default: preset).")
@click.option("--time", "time_limit", type=click.FloatRange(min=0, min_open=True), default=DEFAULTS.time_limit,
              help="Stop fitting after this many seconds.")
@click.option("--bits", type=click.Choice(BITS_CHOICES), default=DEFAULTS.bits, help="Weight bits (default: preset).")
@click.option("--width", type=click.IntRange(8, 4096), default=DEFAULTS.width, help="Hidden width (default: sized by the preset).")
@click.option("--depth", type=click.IntRange(0, 32), default=DEFAULTS.depth, help="Hidden layers after the first.")
@click.option("--bpp", type=click.FloatRange(min=0, max=64, min_open=True), default=DEFAULTS.bpp,
              help="Images: file size target in bits per pixel (header included); picks network, bits and steps.")
@click.option("--activation", type=click.Choice(ACTIVATION_CHOICES), default=DEFAULTS.activation, show_default=True)
@click.option("--damping", type=click.Choice(DAMPING_CHOICES), default=DEFAULTS.damping,
              help="SPDER damping (default: sqrt; atan for audio).")
@click.option("--lr", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), default=DEFAULTS.lr, help="Adam learning rate.")
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True)
@click.option("--device", type=click.Choice(DEVICES), default=DEFAULTS.device, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def encode(image, output, start, frames, duration, force, quiet, as_json, bits, **settings):
    """Fit FILE (image, audio or video, told apart by content), quantize the network and write a .spdr file."""
    from .api import encode as api_encode
    from .cli_av import describe_signal, encode_lines, encode_report
    from .media import load
    from .progress import ProgressReporter

    if settings["bpp"] is not None and (bits is not None or settings["width"] is not None):
        raise click.UsageError("--bpp chooses the network itself: use either --bpp or --width/--bits")
    out = _out_path(image, output, ".spdr")
    _check_output(out, force)
    signal = load(image, start=start, frames=frames, duration=duration)
    if not as_json:
        click.echo(f"encoding {image} as {describe_signal(signal)}")
    reporter = ProgressReporter(quiet=quiet or as_json)
    try:
        result = api_encode(signal, out, force=force, progress=reporter, bits=None if bits is None else int(bits), **settings)
    finally:
        reporter.close()
    sig = result.header["signal"]
    report = {
        "output": str(out),
        "modality": result.header["modality"],
        "steps": result.steps,
        "seconds": round(result.seconds, 3),
        "params": result.params,
        "bytes": result.bytes,
        "bpp": 8 * result.bytes / (sig["height"] * sig["width"]) if result.header["modality"] == "image" else None,
        "psnr_db": round(result.psnr_db, 3),
        "float_psnr_db": round(result.float_psnr_db, 3),
        "rho_ag": round(result.rho_ag, 6),
        "bits": result.resolved.bits,
        "width": result.resolved.width,
        "depth": result.resolved.depth,
    }
    if result.header["modality"] != "image":
        report.update(encode_report(result))
    if as_json:
        click.echo(json.dumps(report))
        return
    if result.header["modality"] != "image":
        for line in encode_lines(result, out, report):
            click.echo(line)
        return
    click.echo(f"wrote {out}: {result.header['modality']} {sig.get('width')}x{sig.get('height')}, "
               f"{report['bytes']} bytes, {report['bpp']:.3f} bpp")
    click.echo(f"  network {result.resolved.width}x{result.resolved.depth} ({report['params']} params, {report['bits']}-bit), "
               f"{report['steps']} steps in {report['seconds']:.1f} s")
    click.echo(f"  decoded PSNR {report['psnr_db']:.2f} dB (float {report['float_psnr_db']:.2f} dB), rho_AG {report['rho_ag']:.5f}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", help="Output file, format from the extension (default: FILE.decoded.png/.wav/.mp4, FILE_x4.png, ...); "
              "video: .mp4 .mov .mkv .webm .gif, or a folder (no extension or ending in /) of PNG frames.")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True, max=100000),
              help="Resize factor, e.g. 2, 0.5, 3.7 (video: frame size; audio: number of samples and rate).")
@click.option("--size", help="Exact output size WxH (images, video frames).")
@click.option("--rate", type=click.IntRange(1, 1_000_000), help="Audio: output sample rate in Hz, same duration (e.g. 48000).")
@click.option("--fps", help="Video: output frame rate, e.g. 50, 29.97 or 30000/1001; frames = round(duration x fps).")
@click.option("--crf", type=click.IntRange(0, 63), help="Video: encoder quality for MP4/MOV/MKV (H.264, 0..51) and WebM (VP9, 0..63); "
              "lower is better (default 18).")
@click.option("--gradient", is_flag=True, help="Write the gradient magnitude of the network instead.")
@click.option("--device", type=click.Choice(DEVICES), default="cpu", show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output, and allow huge outputs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def decode(file, output, scale, size, rate, fps, crf, gradient, device, force, quiet, as_json):
    """Render a .spdr FILE at native size or any other (audio: any rate; video: any frame rate and size)."""
    import numpy as np

    from . import container, safety
    from .api import decode as api_decode
    from .media.image import encode_image_bytes, save_format

    if scale is not None and size is not None:
        raise click.UsageError("use either --scale or --size, not both")
    data = container.read_file(file)
    header = safety.read_checked(data)[0]  # refuses a hostile file before torch is imported
    if header["modality"] != "image":
        from .cli_av import decode_av

        return decode_av(file, data, header, output, scale=scale, size=size, rate=rate, fps=fps, crf=crf, gradient=gradient,
                         device=device, force=force, quiet=quiet, as_json=as_json)
    if rate is not None or fps is not None or crf is not None:
        raise click.UsageError("--rate applies to audio, --fps and --crf to video; images take --scale or --size")
    out = Path(output) if output else _default_decode_name(file, scale, size, gradient)
    fmt = save_format(out)
    _check_output(out, force)
    pixels = api_decode(data, scale=scale, size=_parse_size(size), device=device, force=force, gradient=gradient)
    mode = header["signal"]["mode"]
    if gradient:
        peak = float(np.percentile(pixels, 99.5)) or 1.0
        pixels = np.rint(np.clip(pixels / peak, 0, 1) * 255).astype(np.uint8)
        mode = "L"
    container.write_atomic(out, encode_image_bytes(pixels, mode, fmt), force=force)
    h, w = pixels.shape[:2]
    if as_json:
        click.echo(json.dumps({"output": str(out), "width": w, "height": h, "channels": int(pixels.shape[2]), "bytes": out.stat().st_size}))
    elif not quiet:
        click.echo(f"wrote {out}: {w}x{h}")


@main.command()
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the header and sizes as JSON.")
@handle_errors
def info(file, as_json):
    """Show a .spdr file's header and sizes (no decoding)."""
    from .api import info as api_info

    facts = api_info(file)
    if as_json:
        click.echo(json.dumps(facts, sort_keys=True))
        return
    h = facts["header"]
    sig, arch, enc = h["signal"], h["arch"], h.get("encoder", {})
    click.echo(f"{file}: spdr {facts['version']}, {facts['file_bytes']} bytes "
               f"(header {facts['header_bytes']}, weights {facts['payload_bytes']})")
    click.echo(f"  {h['modality']}: " + ", ".join(f"{k} {v}" for k, v in sig.items()))
    click.echo(f"  network: {arch['activation']} ({arch['damping']}), width {arch['width']}, depth {arch['depth']}, "
               f"{facts['params']} params")
    bits = sorted({t["bits"] for t in h["quant"]["tensors"].values()})
    click.echo(f"  weights: {h['quant']['scheme']}, bits {'/'.join(map(str, bits))}")
    if h["modality"] != "image":
        from .cli_av import info_line

        click.echo(info_line(facts))
    elif "bpp" in facts:
        click.echo(f"  rate: {facts['bpp']:.3f} bits per pixel")
    if enc:
        click.echo("  encoder: " + ", ".join(f"{k} {v}" for k, v in enc.items()))


@main.command()
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the facts checked as JSON.")
@handle_errors
def verify(file, as_json):
    """Check FILE completely (structure, checksum, tensors, network) without rendering it; exit 1 if bad."""
    from .verify import summary_line, verify_file

    facts = verify_file(file)
    click.echo(json.dumps(facts, sort_keys=True) if as_json else summary_line(file, facts))


@main.command()
@click.option("--out", "out_dir", default="spdr-demo", show_default=True, help="Folder for the demo's files.")
@click.option("--preset", type=click.Choice(PRESETS), default="fast", show_default=True)
@click.option("--steps", type=click.IntRange(0, 10_000_000), default=None, help="Fitting steps (default: preset).")
@click.option("--force", is_flag=True, help="Replace files from an earlier demo run.")
@click.option("-q", "--quiet", is_flag=True)
@handle_errors
def demo(out_dir, preset, steps, force, quiet):
    """Encode scikit-image's camera photo (256x256), decode it 4x larger into ./spdr-demo/."""
    from .demo import run_demo

    for line in run_demo(Path(out_dir), preset=preset, force=force, quiet=quiet, steps=steps):
        click.echo(line)


@main.command()
@click.argument("task")
@click.argument("inputs", nargs=-1)
@click.option("--size", type=click.IntRange(2, 1_000_000), help="Image side / audio window in samples / video crop (default: the task's).")
@click.option("--steps", help="Comma-separated step counts to measure at, e.g. 25,100,500 (default: the task's).")
@click.option("--arch", "archs", help="Comma-separated architectures: relu, relu-pe, relu-ffn, siren, hashgrid, spder, spder-log, ...")
@click.option("--out", "out_dir", default="spdr-bench", show_default=True, help="Folder for TASK.json, TASK.md and TASK_*.png.")
@click.option("--json", "as_json", is_flag=True, help="Also print the rows as JSON on stdout.")
@click.option("--paper", is_flag=True, help="The paper's sizes (256x256, 5x256 net, lr 1e-4, full batch): for a GPU.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--force", is_flag=True, help="Replace this task's earlier results in --out.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@handle_errors
def bench(task, inputs, size, steps, archs, out_dir, as_json, paper, seed, device, force, quiet):
    """Reproduce a table of the SPDER paper (TASK: image, audio, superres, audio-interp, video, gradient) or draw
    rate-distortion curves against JPEG, WebP and COIN (TASK: rd)."""
    import shlex

    from .bench import BenchOptions, get_task, parse_archs, parse_steps, run_and_write

    try:
        get_task(task)
        opts = BenchOptions(task, inputs, size, parse_steps(steps), parse_archs(archs), seed, paper, device,
                            log=(lambda line: None) if quiet else (lambda line: click.echo(line, err=True)))
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    typed = sys.argv[1:2] == ["bench"]
    rows = run_and_write(opts, out_dir, force=force, command=shlex.join(["spdr", *sys.argv[1:]]) if typed else None)
    if as_json:
        click.echo(json.dumps(rows))
    elif not quiet:
        click.echo(f"wrote {len(rows)} rows to {Path(out_dir) / (task + '.json')}, {task}.md and plots", err=True)
