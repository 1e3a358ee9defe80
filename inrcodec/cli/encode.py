"""`spdr encode`: read a photo, sound or clip, fit it, write a .spdr file and report what the file holds."""

from __future__ import annotations

import json
import math

import click

from ..codec.presets import ARCHS, PRESETS, EncodeConfig
from ..nn.device import DEVICES
from .options import check_output, echo_notices, handle_errors, out_path

DEFAULTS = EncodeConfig()
ACTIVATION_CHOICES = ("spder", "siren", "relu", "relu-pe", "relu-ffn")
DAMPING_CHOICES = ("sqrt", "log", "atan", "sqrt-relu")
BITS_CHOICES = ("6", "8", "10", "12", "16", "32")


@click.command()
@click.argument("image", metavar="FILE", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", help="Output .spdr path (default: FILE with .spdr).")
@click.option("--start", type=click.FloatRange(min=0), help="Audio/video: start this many seconds in.")
@click.option("--frames", type=click.IntRange(min=1), help="Video: encode this many frames.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Audio/video: encode this many seconds.")
@click.option("--partial", is_flag=True,
              help="Video: encode the frames that decode from a stream that ends early (damaged or truncated file) "
                   "instead of refusing it; a note names the frames.")
@click.option("--preset", type=click.Choice(PRESETS), default=DEFAULTS.preset, show_default=True)
@click.option("--steps", type=click.IntRange(0, 10_000_000), default=DEFAULTS.steps, help="Fitting steps (default: preset).")
@click.option("--time", "time_limit", type=click.FloatRange(min=0, min_open=True), default=DEFAULTS.time_limit,
              help="Stop fitting after this many seconds.")
@click.option("--bits", type=click.Choice(BITS_CHOICES), default=DEFAULTS.bits, help="Weight bits (default: preset).")
@click.option("--width", type=click.IntRange(8, 4096), default=DEFAULTS.width, help="Hidden width (default: sized by the preset).")
@click.option("--depth", type=click.IntRange(0, 32), default=DEFAULTS.depth, help="Hidden layers after the first.")
@click.option("--bpp", type=click.FloatRange(min=0, max=64, min_open=True), default=DEFAULTS.bpp,
              help="Images: file size target in bits per pixel (header included); picks network, bits and steps.")
@click.option("--quality", type=click.FloatRange(0, 100), default=DEFAULTS.quality,
              help="Images: 0 (smallest file) .. 100 (best) on the latent-grid engine (default 75).")
@click.option("--arch", type=click.Choice(ARCHS), default=DEFAULTS.arch, show_default=True,
              help="grid: latent grids + entropy model + SPDER synthesis (images); mlp: the plain coordinate SPDER; "
                   "auto: grid for images unless --preset paper or a plain-network option (--width, --bits, --activation).")
@click.option("--activation", type=click.Choice(ACTIVATION_CHOICES), default=DEFAULTS.activation, show_default=True)
@click.option("--damping", type=click.Choice(DAMPING_CHOICES), default=DEFAULTS.damping,
              help="SPDER damping (default: sqrt; atan for audio).")
@click.option("--lr", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), default=DEFAULTS.lr, help="Adam learning rate.")
@click.option("--between-weight", type=click.FloatRange(0, 100), default=DEFAULTS.between_weight,
              help="Weight of the between-samples regulariser: off-grid points fitted to the trivial interpolant "
                   "(bicubic, cubic in time, frame blending) for renders at other sizes and rates; 0 turns it off "
                   "(default: the medium's, benchmarks/results/anyres/levers.md).")
@click.option("--segment", type=float, default=DEFAULTS.segment, show_default=True,
              help="Audio: seconds per segment, each fitted and decodable on its own (format 1.4); 0: one network over the clip.")
@click.option("--seed", type=int, default=DEFAULTS.seed, show_default=True)
@click.option("--device", type=click.Choice(DEVICES), default=DEFAULTS.device, show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def encode(image, output, start, frames, duration, partial, force, quiet, as_json, bits, **settings):
    """Fit FILE (image, audio or video, told apart by content), quantize the network and write a .spdr file."""
    from ..api import encode as api_encode
    from ..media import load
    from .av import describe_signal, encode_lines, encode_report
    from .progress import ProgressReporter

    if settings["bpp"] is not None and (bits is not None or settings["width"] is not None):
        raise click.UsageError("--bpp chooses the network itself: use either --bpp or --width/--bits")
    out = out_path(image, output, ".spdr")
    check_output(out, force)
    signal = load(image, start=start, frames=frames, duration=duration, partial=partial, lazy=True)
    if not as_json:
        click.echo(f"encoding {image} as {describe_signal(signal)}")
    reporter = ProgressReporter(quiet=quiet or as_json)
    try:
        result = api_encode(signal, out, force=force, progress=reporter, bits=None if bits is None else int(bits),
                            announce=None if as_json else click.echo, **settings)
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
        "rho_ag": None if math.isnan(result.rho_ag) else round(result.rho_ag, 6),  # segmented files: not combined
        "bits": result.resolved.bits,
        "width": result.resolved.width,
        "depth": result.resolved.depth,
        "notices": result.notices,
    }
    if result.header["modality"] != "image":
        report.update(encode_report(result))
    echo_notices(result.notices)  # on stderr with --json too: stdout stays one JSON object
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


