"""`spdr bench`: the paper's tables and rate-distortion curves (needs the optional `bench` extra)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import click

from ..errors import SpdrError
from ..nn.device import DEVICES
from .options import handle_errors

BENCH_EXTRA = ("matplotlib", "scipy", "skimage", "pytorch_msssim")  # the `bench` extra in pyproject.toml
TASK_ONLY = {"pytorch_msssim": "rd"}  # needed by one task only


PIP_NAMES = {"skimage": "scikit-image", "pytorch_msssim": "pytorch-msssim"}


def check_bench_extra(task: str) -> None:
    """One line naming what to install when the optional benchmark packages `task` needs are missing."""
    needed = [name for name in BENCH_EXTRA if TASK_ONLY.get(name, task) == task]
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise SpdrError(f"spdr bench needs {', '.join(PIP_NAMES.get(m, m) for m in missing)}: "
                        "pip install 'inrcodec[bench]'")


@click.command()
@click.argument("task")
@click.argument("inputs", nargs=-1)
@click.option("--size", type=click.IntRange(2, 1_000_000), help="Image side / audio window in samples / video crop (default: the task's).")
@click.option("--steps", help="Comma-separated step counts to measure at, e.g. 25,100,500 (default: the task's).")
@click.option("--arch", "archs", help="Comma-separated architectures: relu, relu-pe, relu-ffn, siren, hashgrid, spder, spder-log, ...")
@click.option("--quality", "qualities", help="rd, av: comma-separated spdr --quality points (default: the task's QUALITIES).")
@click.option("--preset", type=click.Choice(["fast", "balanced", "max"]),
              help="rd, av: spdr's encoder preset (default fast; rd: balanced with --paper).")
@click.option("--frames", type=click.IntRange(1, 100_000), help="av: video frames from the start of each clip (default: 2 s).")
@click.option("--out", "out_dir", default="spdr-bench", show_default=True, help="Folder for TASK.json, TASK.md and TASK_*.png.")
@click.option("--json", "as_json", is_flag=True, help="Also print the rows as JSON on stdout.")
@click.option("--paper", is_flag=True, help="The paper's sizes (256x256, 5x256 net, lr 1e-4, full batch): for a GPU.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option("--force", is_flag=True, help="Replace this task's earlier results in --out.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@handle_errors
def bench(task, inputs, size, steps, archs, qualities, preset, frames, out_dir, as_json, paper, seed, device, force, quiet):
    """Reproduce a table of the SPDER paper (TASK: image, audio, superres, audio-interp, video, gradient) or compare
    spdr --quality with JPEG, WebP and AVIF at equal bytes: PSNR, MS-SSIM, BD-rates, seconds (TASK: rd), or audio
    with MP3, Opus and AAC: SNR, PSNR, BD-rates, seconds (TASK: av)."""
    import shlex

    check_bench_extra(task)
    from ..bench import BenchOptions, get_task, parse_archs, parse_qualities, parse_steps, run_and_write

    try:
        get_task(task)
        if task not in ("rd", "av") and (qualities or preset):
            raise ValueError("--quality and --preset apply to bench rd and av")
        if task != "av" and frames:
            raise ValueError("--frames applies to bench av")
        opts = BenchOptions(task, inputs, size, parse_steps(steps), parse_archs(archs), seed, paper, device, preset,
                            parse_qualities(qualities), frames=frames,
                            log=(lambda line: None) if quiet else (lambda line: click.echo(line, err=True)))
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    typed = sys.argv[1:2] == ["bench"]
    rows = run_and_write(opts, out_dir, force=force, command=shlex.join(["spdr", *sys.argv[1:]]) if typed else None)
    if as_json:
        click.echo(json.dumps(rows))
    elif not quiet:
        click.echo(f"wrote {len(rows)} rows to {Path(out_dir) / (task + '.json')}, {task}.md and plots", err=True)
