"""`spdr info` and `spdr verify`: what a .spdr file holds, and whether every check a decode makes passes."""

from __future__ import annotations

import json

import click

from .options import handle_errors


@click.command()
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the header and sizes as JSON.")
@handle_errors
def info(file, as_json):
    """Show a .spdr file's header and sizes (no decoding)."""
    from ..api import info as api_info

    facts = api_info(file)
    if as_json:
        click.echo(json.dumps(facts, sort_keys=True))
        return
    h = facts["header"]
    first = facts.get("segment_headers", [h])[0]  # a segmented file (1.4; 1.7: an image's bands): its first segment's network
    piece = "band" if h["modality"] == "image" else "segment"
    sig, arch, enc = h["signal"], first["arch"], h.get("encoder", {})
    click.echo(f"{file}: spdr {facts['version']}, {facts['file_bytes']} bytes "
               f"(header {facts['header_bytes']}, {piece + 's' if 'segments' in h else 'weights'} {facts['payload_bytes']})")
    click.echo(f"  {h['modality']}: " + ", ".join(f"{k} {v}" for k, v in sig.items()))
    if "segments" in h:
        lengths = [n for n, _ in h["segments"]]
        unit = {"image": "rows", "audio": "samples", "video": "frames"}[h["modality"]]
        click.echo(f"  {piece}s: {len(lengths)}, {min(lengths)}..{max(lengths)} {unit} each, one network each")
    click.echo(f"  network{f' (first {piece})' if 'segments' in h else ''}: {arch['activation']} ({arch['damping']}), "
               f"width {arch['width']}, depth {arch['depth']}, {facts['params']} params{' in all' if 'segments' in h else ''}")
    bits = sorted({t["bits"] for t in first["quant"]["tensors"].values()})
    click.echo(f"  weights: {first['quant']['scheme']}, bits {'/'.join(map(str, bits))}")
    if h["modality"] != "image":
        from .av import info_line

        click.echo(info_line(facts))
    elif "bpp" in facts:
        click.echo(f"  rate: {facts['bpp']:.3f} bits per pixel")
    if enc:
        click.echo("  encoder: " + ", ".join(f"{k} {v}" for k, v in enc.items()))



@click.command()
@click.argument("file", type=click.Path(dir_okay=True, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the facts checked as JSON.")
@handle_errors
def verify(file, as_json):
    """Check FILE completely (structure, checksum, tensors, network) without rendering it; exit 1 if bad."""
    from ..codec.verify import summary_line, verify_file

    facts = verify_file(file)
    click.echo(json.dumps(facts, sort_keys=True) if as_json else summary_line(file, facts))


