"""One input encoded by the CLI: load it, fit it with progress, and the report and lines that say what was written.

Shared by `spdr encode FILE` (encode.py) and the batch of several FILEs (batch.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import click


def encode_file(path: str, out: Path, job: dict, quiet: bool, chatty: bool, label: str = "") -> tuple[dict, object]:
    """Encode one input to `out` (checked by the caller); returns the report dict and the EncodeResult."""
    from ..api import encode as api_encode
    from ..media import load
    from .av import describe_signal, encode_report
    from .progress import ProgressReporter

    job = dict(job)
    selection = {k: job.pop(k) for k in ("start", "frames", "duration", "partial")}
    signal = load(path, lazy=True, **selection)
    if chatty:
        click.echo(f"{label}encoding {path} as {describe_signal(signal)}")
    reporter = ProgressReporter(quiet=quiet, prefix=label)
    try:
        result = api_encode(signal, out, progress=reporter, announce=click.echo if chatty else None, **job)
    finally:
        reporter.close()
    sig = result.header["signal"]
    report = {
        "input": str(path),
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
    return report, result


def summary_lines(report: dict, result) -> list[str]:
    """The lines that say what a written file holds."""
    from .av import encode_lines

    out = report["output"]
    if result.header["modality"] != "image":
        return list(encode_lines(result, out, report))
    sig = result.header["signal"]
    bands = result.header.get("segments")
    network = (f"  {len(bands)} bands, networks of {result.resolved.width}x{result.resolved.depth} (the first), "
               f"{report['params']} params in all" if bands else
               f"  network {result.resolved.width}x{result.resolved.depth} ({report['params']} params")
    rho = "" if report["rho_ag"] is None else f", rho_AG {report['rho_ag']:.5f}"  # bands: a whole-spectrum measure, not combined
    return [f"wrote {out}: {result.header['modality']} {sig.get('width')}x{sig.get('height')}, "
            f"{report['bytes']} bytes, {report['bpp']:.3f} bpp",
            f"{network}, {report['bits']}-bit{'' if bands else ')'}, {report['steps']} steps in {report['seconds']:.1f} s",
            f"  decoded PSNR {report['psnr_db']:.2f} dB (float {report['float_psnr_db']:.2f} dB){rho}"]
