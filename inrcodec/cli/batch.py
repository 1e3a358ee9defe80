"""`spdr encode a.png b.png ... -o outdir/`: many inputs, one after another, or shared over torchrun's ranks.

Every output name is decided and checked before anything is fitted, so a batch never stops half way on a
file that exists, and two inputs never write one output. A failing input is reported and the others go on;
the run then exits non-zero. Under torchrun each rank encodes its block of the inputs whole (its own
segments too), writes its own outputs, and rank 0 prints what every rank wrote.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from ..errors import OutputExistsError, SpdrError
from .encodejob import encode_file, summary_lines
from .options import check_output, echo_notices


def batch_targets(inputs: tuple[str, ...], output: str | None) -> list[Path]:
    """One NAME.spdr per input: in `output` (a folder) if given, else beside the input; refuses two inputs that
    would write one file."""
    folder = None if output is None else Path(output)
    if folder is not None and folder.exists() and not folder.is_dir():
        raise SpdrError(f"-o {output}: with several inputs, -o names a folder, and {output} is a file")
    targets = [(folder / Path(i).with_suffix(".spdr").name) if folder is not None else Path(i).with_suffix(".spdr") for i in inputs]
    seen: dict[Path, str] = {}
    for name, target in zip(inputs, targets, strict=True):
        key = target.absolute()
        if key in seen:
            raise SpdrError(f"{seen[key]} and {name} would both be written to {target}: encode them into different folders")
        seen[key] = name
    return targets


def _check_targets(targets: list[Path], force: bool) -> None:
    """Refuse the batch before any fitting if an output exists (without --force) or cannot be written."""
    existing = [str(t) for t in targets if t.exists()]
    if existing and not force:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise OutputExistsError(f"{existing[0]}{more} exist; pass --force to replace them")
    for target in targets:
        check_output(target, force)


def encode_batch(inputs: tuple[str, ...], output: str | None, job: dict, quiet: bool, as_json: bool, world) -> None:
    """Encode every input (this rank's block of them under torchrun); raise if any failed, after trying them all."""
    from ..codec import distributed

    def prepare() -> list[Path]:
        targets = batch_targets(inputs, output)
        if output is not None:
            Path(output).mkdir(parents=True, exist_ok=True)
        _check_targets(targets, job["force"])
        return targets

    if world.alone:
        targets = prepare()
    else:  # every rank checks before any rank writes: a fast rank's new file is never taken for one that existed
        targets, error = distributed.run_share(prepare)
        distributed.gather(None, error, world)
    mine = distributed.share(len(inputs), world)
    chatty = not as_json and world.writes
    started = time.monotonic()
    records = []
    for n, k in enumerate(mine):
        label = f"[{k + 1}/{len(inputs)}] "
        if chatty and n:
            spent = time.monotonic() - started
            click.echo(f"{label}{n} of {len(mine)} done in {spent:.0f} s, about {spent / n * (len(mine) - n):.0f} s left")
        try:
            with distributed.alone():
                report, result = encode_file(inputs[k], targets[k], job, quiet=quiet or not chatty, chatty=chatty, label=label)
        except (SpdrError, ValueError, OSError, MemoryError) as e:
            message = str(e).splitlines()[0] if str(e) else type(e).__name__
            click.echo(f"Error: {inputs[k]}: {message}", err=True)
            records.append((k, None, [], message))
            continue
        echo_notices(result.notices)
        lines = summary_lines(report, result)
        if chatty and world.alone:
            for line in lines:
                click.echo(line)
        records.append((k, report, lines, None))
    everyone = sorted(distributed.merge_shares(distributed.gather(records, None, world)), key=lambda r: r[0])
    failed = [(inputs[k], message) for k, _, _, message in everyone if message is not None]
    if world.writes:
        if as_json:
            click.echo(json.dumps({"outputs": [r for _, r, _, m in everyone if m is None],
                                   "failed": [{"input": i, "error": m} for i, m in failed]}))
        elif not world.alone:
            for _, _, lines, _ in everyone:
                for line in lines:
                    click.echo(line)
        if not as_json:
            click.echo(f"encoded {len(inputs) - len(failed)} of {len(inputs)} inputs in {time.monotonic() - started:.1f} s"
                       + ("" if world.alone else f" over {world.size} processes"))
    if failed:
        raise distributed.RankFailed(f"{len(failed)} of {len(inputs)} inputs failed (first: {failed[0][0]}: {failed[0][1]})", 0)
