"""Audio and video: SPDER against SIREN at the same network size and steps, on the real clips in ../shared/media.

Audio clips in full; video: the first 2 seconds of carphone and of bikes, at native size and at half
size (Pillow LANCZOS per frame). Every clip is encoded twice through inrcodec.encode into a real .spdr
file, once with SPDER (the preset's damping: atan for audio, sqrt for video) and once with SIREN, the
same width, depth, steps, learning rate, batch size and bits. Bytes, kbit/s, bits per pixel, SNR,
PSNR and rho_AG are measured by decoding those files. Writes benchmarks/results/audio_video.md and .json.

    python benchmarks/audio_video.py [--preset fast] [--audio-steps 400] [--video-steps 250]
        [--video-net 64x2] [--clips speech_voice,carphone_pristine] [--device auto] [--seed 0]

The CPU defaults (fewer steps than the preset, a fixed small video network) keep the whole run
near 10 minutes on 2 cores; on a GPU pass --audio-steps 0 --video-steps 0 --video-net preset
for the preset's own steps and sizes.
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import inrcodec  # noqa: E402
from inrcodec.media import load  # noqa: E402
from inrcodec.media.video import frames_to_signal  # noqa: E402
from inrcodec.nn.device import pick_device  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
RESULTS = ROOT / "benchmarks" / "results"
NOTES = RESULTS / "audio_video_notes.md"  # hand-written analysis appended to the table (with its own measurements)
VIDEO_SECONDS = 2.0
VIDEO_CLIPS = ("carphone_pristine", "bikes")
COLUMNS = ["clip", "kind", "model", "network", "steps", "bytes", "kbps", "bpp", "snr_db", "psnr_db", "rho_ag", "seconds"]


def half_size(signal):
    """The same frames at half width and height (rounded), resized with Pillow LANCZOS."""
    pixels = np.rint((signal.data + 1.0) * 127.5).astype(np.uint8)
    h, w = max(1, round(pixels.shape[1] / 2)), max(1, round(pixels.shape[2] / 2))
    small = np.stack([np.asarray(Image.fromarray(f).resize((w, h), Image.Resampling.LANCZOS)) for f in pixels])
    return frames_to_signal(small, Fraction(*signal.meta["fps"]))


def inputs(names: set[str] | None) -> list[tuple[str, str, object]]:
    """(label, kind, Signal) for every clip: audio in full, video's first 2 s at native and half size."""
    out: list[tuple[str, str, object]] = []
    for path in sorted((MEDIA / "audio").glob("*")):
        if names is None or path.stem in names:
            out.append((path.name, "audio", load(path)))
    for stem in VIDEO_CLIPS:
        path = MEDIA / "video" / f"{stem}.mp4"
        if path.exists() and (names is None or stem in names):
            sig = load(path, duration=VIDEO_SECONDS)
            out.append((f"{path.name} (first {VIDEO_SECONDS:g} s)", "video", sig))
            out.append((f"{path.name} (first {VIDEO_SECONDS:g} s, half size)", "video", half_size(sig)))
    return out


def machine(device: str) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {torch.get_num_threads()} torch threads, torch {torch.__version__}, device {device}"


def measure_one(label: str, kind: str, signal, model: str, args, folder: Path) -> dict:
    """Encode `signal` with one model into a .spdr file and measure it from that file."""
    settings = {"preset": args.preset, "activation": model, "seed": args.seed, "device": args.device}
    steps = args.audio_steps if kind == "audio" else args.video_steps
    if steps:
        settings["steps"] = steps
    if kind == "video" and args.video_net != "preset":
        w, d = (int(v) for v in args.video_net.lower().split("x"))
        settings.update(width=w, depth=d)
    path = folder / f"{model}.spdr"
    start = time.perf_counter()
    result = inrcodec.encode(signal, path, force=True, **settings)
    wall = time.perf_counter() - start
    size = path.stat().st_size
    facts = inrcodec.info(path)
    header = facts["header"]
    row = {"clip": label, "kind": kind, "model": f"{model} ({header['arch']['damping']})" if model == "spder" else model,
           "network": f"{header['arch']['width']}x{header['arch']['depth']}", "steps": result.steps, "bytes": size,
           "kbps": round(facts["kbps"], 2), "bpp": round(facts["bpp"], 4) if kind == "video" else None,
           "psnr_db": round(result.psnr_db, 2), "rho_ag": round(result.rho_ag, 5), "seconds": round(wall, 1),
           "lr": header["encoder"]["lr"], "batch_size": header["encoder"].get("batch_size")}
    if kind == "audio":
        from inrcodec.metrics import snr

        decoded = inrcodec.decode(path)  # re-measured from the file itself
        row["snr_db"] = round(snr(signal.data, decoded), 2)
        assert abs(row["snr_db"] - result.snr_db) < 0.01, (row["snr_db"], result.snr_db)
    else:
        row["snr_db"] = None
        row["min_frame_psnr_db"] = round(min(result.frame_psnr_db), 2)
    return row


def verdicts(rows: list[dict]) -> list[str]:
    """One line per clip: does SPDER beat SIREN on the clip's main metric (SNR for audio, PSNR for video)?"""
    lines = []
    for clip in dict.fromkeys(r["clip"] for r in rows):
        pair = {r["model"].split(" ")[0]: r for r in rows if r["clip"] == clip}
        if set(pair) != {"spder", "siren"}:
            continue
        key = "snr_db" if pair["spder"]["kind"] == "audio" else "psnr_db"
        diff = pair["spder"][key] - pair["siren"][key]
        word = "beats" if diff > 0 else "does not beat"
        lines.append(f"- {clip}: SPDER {word} SIREN ({key.replace('_db', '').upper()} {diff:+.2f} dB, "
                     f"rho_AG {pair['spder']['rho_ag'] - pair['siren']['rho_ag']:+.5f})")
    return lines


def command() -> str:
    return ("python benchmarks/audio_video.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])).strip()


def markdown(rows: list[dict], args, where: str, total: float, cmd: str | None = None) -> str:
    cmd = cmd or command()
    head = ["clip", "model", "network", "steps", "bytes", "kbit/s", "bits/pixel", "SNR dB", "PSNR dB", "rho_AG", "seconds"]
    lines = [
        "# Audio and video: SPDER vs SIREN",
        "",
        f"Command: `{cmd}` ({total / 60:.1f} min in all). Machine: {where}.",
        "",
        f"Preset `{args.preset}` sizes the networks (video: {args.video_net} on this run); steps are capped at "
        f"{args.audio_steps or 'the preset'} (audio) and {args.video_steps or 'the preset'} (video), "
        "**far fewer than the presets' own** (fast: 1000 + 200 quantization-aware), to fit about 10 minutes on 2 CPU cores: "
        "these are short fits, not the codec's best quality. Both models get the same width, depth, steps, learning rate, "
        "minibatch size and 8-bit weights (16-bit first layer and biases). Every number is measured from the written .spdr "
        "file: its size, and the samples `inrcodec.decode` renders from it (SNR and PSNR on the original level, "
        "full scale [-1, 1]; video PSNR over all frames of 8-bit RGB; rho_AG is the paper's Eq. 5 on the 1-D amplitude "
        "spectrum for audio and the mean over frames of the 2-D one for video).",
        "",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        cells = [r["clip"], r["model"], r["network"], r["steps"], r["bytes"], f"{r['kbps']:.1f}",
                 "" if r["bpp"] is None else f"{r['bpp']:.4f}", "" if r["snr_db"] is None else f"{r['snr_db']:.2f}",
                 f"{r['psnr_db']:.2f}", f"{r['rho_ag']:.4f}", f"{r['seconds']:.0f}"]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", "## SPDER against SIREN", ""] + verdicts(rows)
    if NOTES.exists():
        lines += ["", NOTES.read_text().strip()]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--audio-steps", type=int, default=400, help="0: the preset's")
    ap.add_argument("--video-steps", type=int, default=250, help="0: the preset's")
    ap.add_argument("--video-net", default="64x2", help="WIDTHxDEPTH for video, or 'preset'")
    ap.add_argument("--clips", help="comma-separated file stems (default: all)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--render-only", action="store_true", help="rewrite the .md from the committed .json (no fitting)")
    args = ap.parse_args()
    if args.render_only:
        saved = json.loads((RESULTS / "audio_video.json").read_text())
        vars(args).update(saved["args"], render_only=True)
        text = markdown(saved["rows"], args, saved["machine"], saved["seconds"], saved.get("command"))
        (RESULTS / "audio_video.md").write_text(text)
        print(text)
        return 0
    if not MEDIA.is_dir():
        print(f"{MEDIA} does not exist: nothing to measure", file=sys.stderr)
        return 1
    device = str(pick_device(args.device))
    start = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, kind, signal in inputs(set(args.clips.split(",")) if args.clips else None):
            for model in ("spder", "siren"):
                row = measure_one(label, kind, signal, model, args, Path(tmp))
                rows.append(row)
                print(json.dumps(row), flush=True)
    total = time.perf_counter() - start
    RESULTS.mkdir(parents=True, exist_ok=True)
    where = machine(device)
    text = markdown(rows, args, where, total)
    (RESULTS / "audio_video.md").write_text(text)
    saved = {"args": vars(args), "command": command(), "machine": where, "seconds": round(total, 1), "rows": rows}
    (RESULTS / "audio_video.json").write_text(json.dumps(saved, indent=1) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
