"""`spdr decode`: render a .spdr file at native size or any other (audio: any rate; video: any frame rate and size)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..media.resample import RESAMPLE_MODES, rendering
from ..nn.device import DEVICES
from .options import RESAMPLE_HELP, check_output, default_decode_name, echo_notices, handle_errors, parse_size, resample_notices


@click.command()
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", help="Output file, format from the extension (default: FILE.decoded.png/.wav/.mp4, FILE_x4.png, ...); "
              "video: .mp4 .mov .mkv .webm .gif, or a folder (no extension or ending in /) of PNG frames.")
@click.option("--scale", type=click.FloatRange(min=0, min_open=True, max=100000),
              help="Resize factor, e.g. 2, 0.5, 3.7 (video: frame size; audio: number of samples and rate).")
@click.option("--size", help="Exact output size WxH (images, video frames).")
@click.option("--rate", type=click.IntRange(1, 1_000_000), help="Audio: output sample rate in Hz, same duration (e.g. 48000).")
@click.option("--start", type=click.FloatRange(min=0), help="Audio: start this many seconds in.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Audio: decode this many seconds.")
@click.option("--fps", help="Video: output frame rate, e.g. 50, 29.97 or 30000/1001; frames = round(duration x fps).")
@click.option("--crf", type=click.IntRange(0, 63), help="Video: encoder quality for MP4/MOV/MKV (H.264, 0..51) and WebM (VP9, 0..63); "
              "lower is better (default 18).")
@click.option("--resample", type=click.Choice(RESAMPLE_MODES), default="auto", show_default=True, help=RESAMPLE_HELP)
@click.option("--gradient", is_flag=True, help="Write the gradient magnitude of the network instead.")
@click.option("--device", type=click.Choice(DEVICES), default="cpu", show_default=True)
@click.option("--force", is_flag=True, help="Replace an existing output, and allow huge outputs.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def decode(file, output, scale, size, rate, start, duration, fps, crf, resample, gradient, device, force, quiet, as_json):
    """Render a .spdr FILE at native size or any other (audio: any rate; video: any frame rate and size)."""
    import numpy as np

    from .. import files
    from ..api import decode as api_decode
    from ..api import read_spdr
    from ..media.image import encode_image_bytes, save_format

    if scale is not None and size is not None:
        raise click.UsageError("use either --scale or --size, not both")
    checked = read_spdr(file)  # read and checked once; refuses a hostile file before torch is imported
    header = checked.header
    if header["modality"] != "image":
        from .av import decode_av

        return decode_av(file, checked, output, scale=scale, size=size, rate=rate, fps=fps, crf=crf, gradient=gradient,
                         device=device, force=force, quiet=quiet, as_json=as_json, resample=resample, start=start, duration=duration)
    if rate is not None or fps is not None or crf is not None or start is not None or duration is not None:
        raise click.UsageError("--rate, --start and --duration apply to audio, --fps and --crf to video; images take --scale or --size")
    out = Path(output) if output else default_decode_name(file, scale, size, gradient)
    fmt = save_format(out)
    check_output(out, force)
    pixels = api_decode(checked, scale=scale, size=parse_size(size), device=device, force=force, gradient=gradient, resample=resample)
    native = (header["signal"]["height"], header["signal"]["width"])
    notices = resample_notices("image", not gradient and rendering(resample, native, pixels.shape[:2]) == "classic")
    mode = header["signal"]["mode"]
    if gradient:
        peak = float(np.percentile(pixels, 99.5)) or 1.0
        pixels = np.rint(np.clip(pixels / peak, 0, 1) * 255).astype(np.uint8)
        mode = "L"
    files.write_atomic(out, encode_image_bytes(pixels, mode, fmt), force=force)
    h, w = pixels.shape[:2]
    echo_notices(notices)
    if as_json:
        click.echo(json.dumps({"output": str(out), "width": w, "height": h, "channels": int(pixels.shape[2]), "bytes": out.stat().st_size,
                               "notices": notices}))
    elif not quiet:
        click.echo(f"wrote {out}: {w}x{h}")


