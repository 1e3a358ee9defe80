"""`spdr encode`: read a photo, sound or clip, fit it, write a .spdr file and report what the file holds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from ..codec.presets import ARCHS, PRESETS, EncodeConfig
from ..nn.device import DEVICES
from .encodejob import encode_file, summary_lines
from .options import check_output, echo_notices, handle_errors, out_path

DEFAULTS = EncodeConfig()
ACTIVATION_CHOICES = ("spder", "siren", "relu", "relu-pe", "relu-ffn")
DAMPING_CHOICES = ("sqrt", "log", "atan", "sqrt-relu")
BITS_CHOICES = ("6", "8", "10", "12", "16", "32")


@click.command()
@click.argument("inputs", metavar="FILE...", nargs=-1, required=True, type=click.Path(dir_okay=True, path_type=str))
@click.option("-o", "--output", help="Output .spdr path (default: FILE with .spdr); with several FILEs, or ending in /, "
                                       "a folder (made if missing) that gets one NAME.spdr per input.")
@click.option("--start", type=click.FloatRange(min=0), help="Audio/video: start this many seconds in.")
@click.option("--frames", type=click.IntRange(min=1), help="Video: encode this many frames.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), help="Audio/video: encode this many seconds.")
@click.option("--partial", is_flag=True,
              help="Video: encode the frames that decode from a stream that ends early (damaged or truncated file) "
                   "instead of refusing it; a note names the frames.")
@click.option("--preset", type=click.Choice(PRESETS), default=DEFAULTS.preset, show_default=True)
@click.option("--steps", type=click.IntRange(0, 10_000_000), default=DEFAULTS.steps, help="Fitting steps (default: preset).")
@click.option("--time", "time_limit", type=click.FloatRange(min=0, min_open=True), default=DEFAULTS.time_limit,
              help="Seconds for the whole encode, from the program's start (reading, fitting, packing, measuring); "
                   "a long clip shares them over its segments, a batch gives them to each FILE.")
@click.option("--bits", type=click.Choice(BITS_CHOICES), default=DEFAULTS.bits, help="Weight bits (default: preset).")
@click.option("--width", type=click.IntRange(8, 4096), default=DEFAULTS.width, help="Hidden width (default: sized by the preset).")
@click.option("--depth", type=click.IntRange(0, 32), default=DEFAULTS.depth, help="Hidden layers after the first.")
@click.option("--bpp", type=click.FloatRange(min=0, max=64, min_open=True), default=DEFAULTS.bpp,
              help="Images: file size target in bits per pixel (header included); picks network, bits and steps.")
@click.option("--quality", type=click.FloatRange(0, 100), default=DEFAULTS.quality,
              help="0 (smallest file) .. 100 (best) on the latent-grid engine (default 90 for photos, 75 for audio and video).")
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
@click.option("--threads", type=click.IntRange(1, 4096),
              help="CPU threads for fitting (default: torch's; 1 a process under torchrun). A CPU fit's bytes depend on it.")
@click.option("--force", is_flag=True, help="Replace an existing output file.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@handle_errors
def encode(inputs, output, start, frames, duration, partial, force, quiet, as_json, bits, threads, **settings):
    """Fit each FILE (image, audio or video, told apart by content), quantize the network and write a .spdr file.

    Under torchrun (`torchrun --nproc-per-node N -m inrcodec encode ...`) the processes share the work: a long
    clip's segments, or the FILEs of a batch; rank 0 writes a clip's one file."""
    from ..api import join_ranks

    if settings["bpp"] is not None and (bits is not None or settings["width"] is not None):
        raise click.UsageError("--bpp chooses the network itself: use either --bpp or --width/--bits")
    world = join_ranks()  # under torchrun: join its process group (alone: nothing started, torch not imported)
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    job = dict(start=start, frames=frames, duration=duration, partial=partial, force=force,
               bits=None if bits is None else int(bits), **settings)
    if len(inputs) == 1 and not (output and _is_folder(output)):
        out = out_path(inputs[0], output, ".spdr")
        check_output(out, force)
        from .options import STARTED  # read now: one input's --time counts from the program's start

        job["started"] = STARTED
        _report(encode_file(inputs[0], out, job, quiet=quiet or as_json or not world.writes, chatty=not as_json and world.writes),
                as_json, world.writes)
        return
    from .batch import encode_batch

    encode_batch(inputs, output, job, quiet=quiet, as_json=as_json, world=world)


def _is_folder(output: str) -> bool:
    return output.endswith(("/", os.sep)) or Path(output).is_dir()


def _report(done: tuple[dict, object], as_json: bool, writes: bool) -> None:
    """What one encode prints: its notices (stderr), then one JSON object or the summary lines (rank 0 only)."""
    report, result = done
    if not writes:
        return
    echo_notices(result.notices)  # on stderr with --json too: stdout stays one JSON object
    if as_json:
        click.echo(json.dumps(report))
        return
    for line in summary_lines(report, result):
        click.echo(line)
