"""Segmented audio (format 1.4): seams, the cost of cutting a clip, and a 10-minute song in bounded memory.

Three measurements, each with the real `spdr` command in a fresh process (tests/procstats.py: wall
seconds and the child's peak RSS):

1. seams: the shared clips encoded with the default 4 s segments and with one network over the whole
   clip (`--segment 0`), side by side in one run at the same preset: bytes, kbit/s, SNR of the decoded
   file, and the error next to the segment boundaries (within WINDOW_MS either side) against the
   error everywhere else;
2. a 10-minute stereo 44.1 kHz file (the guitar clip looped) encoded with `--preset fast --time 600`:
   wall seconds, peak RSS against the issue's 4 GB bound, segments, and a decode back to its length.

Prints Markdown and writes it with provenance to --out.

    python benchmarks/segments.py --out benchmarks/results/segments.md
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _provenance import ROOT, markdown_provenance, provenance  # noqa: E402
from procstats import measured_spdr  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media" / "audio"
CLIPS = ("guit_em9.flac", "loop_amen_full.flac")  # the clips longer than one 4 s segment
WINDOW_MS = 10.0
MEMORY_BOUND_MIB = 4096


def spdr(*args: str, timeout: float = 3600) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) and stdout of `spdr ARGS`; exits on failure."""
    code, stdout, stderr, _, rss, wall = measured_spdr(*args, cwd=ROOT, timeout=timeout, wall=True)
    if code != 0:
        raise SystemExit(f"spdr {' '.join(args)} failed: {stderr.strip().splitlines()[-1] if stderr.strip() else code}")
    return wall, rss, stdout


def seam_errors(ref: np.ndarray, out: np.ndarray, boundaries: list[int], rate: int) -> tuple[float, float]:
    """Mean squared error within WINDOW_MS of a boundary, and elsewhere."""
    near = np.zeros(ref.shape[0], dtype=bool)
    w = int(round(WINDOW_MS * rate / 1000))
    for b in boundaries:
        near[max(0, b - w):b + w] = True
    err = np.mean((ref.astype(np.float64) - out) ** 2, axis=1)
    return float(err[near].mean()) if near.any() else float("nan"), float(err[~near].mean())


def snr_db(ref: np.ndarray, out: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(ref.astype(np.float64) ** 2) / np.sum((ref.astype(np.float64) - out) ** 2)))


def seams(preset: str, work: Path) -> list[dict]:
    rows = []
    for name in CLIPS:
        src = MEDIA / name
        ref, rate = sf.read(src, dtype="float32", always_2d=True)
        for segment in ("4", "0"):
            spdr_file = work / f"{src.stem}_{segment}.spdr"
            wav = work / f"{src.stem}_{segment}.wav"
            enc_s, enc_rss, _ = spdr("encode", str(src), "-o", str(spdr_file), "--preset", preset, "--segment", segment,
                                     "--device", "cpu", "--force", "-q")
            spdr("decode", str(spdr_file), "-o", str(wav), "--force", "-q")
            out = sf.read(wav, dtype="float64", always_2d=True)[0]
            facts = json.loads(spdr("info", str(spdr_file), "--json")[2])
            starts = np.cumsum([n for n, _ in facts["header"].get("segments", [])])[:-1].tolist()
            near, away = seam_errors(ref, out, starts, rate)
            rows.append({"clip": name, "segment_s": float(segment), "segments": len(starts) + 1, "bytes": facts["file_bytes"],
                         "kbps": round(facts["kbps"], 1), "snr_db": round(snr_db(ref, out), 2),
                         "mse_near_boundaries": near, "mse_elsewhere": away,
                         "encode_s": round(enc_s, 1), "encode_peak_rss_mib": round(enc_rss)})
    return rows


def long_song(minutes: float, time_limit: float, work: Path) -> dict:
    guitar, rate = sf.read(MEDIA / "guit_em9.flac", dtype="float32", always_2d=True)
    total = int(minutes * 60 * rate)
    song = work / "song.flac"
    with sf.SoundFile(song, "w", rate, guitar.shape[1], subtype="PCM_16") as f:  # written in blocks: no 10-minute array
        written = 0
        while written < total:
            block = guitar[:total - written]
            f.write(block)
            written += block.shape[0]
    spdr_file = work / "song.spdr"
    enc_s, enc_rss, stdout = spdr("encode", str(song), "-o", str(spdr_file), "--preset", "fast", "--time", str(time_limit),
                                  "--device", "cpu", "--force", "-q", timeout=2 * time_limit + 600)
    wav = work / "song.wav"
    dec_s, dec_rss, _ = spdr("decode", str(spdr_file), "-o", str(wav), "--force", "-q")
    facts = json.loads(spdr("info", str(spdr_file), "--json")[2])
    decoded = sf.info(wav)
    return {"minutes": minutes, "samples": total, "channels": guitar.shape[1], "rate": rate, "time_limit_s": time_limit,
            "segments": len(facts["header"]["segments"]), "bytes": facts["file_bytes"], "kbps": round(facts["kbps"], 1),
            "encode_s": round(enc_s, 1), "encode_peak_rss_mib": round(enc_rss), "decode_s": round(dec_s, 1),
            "decode_peak_rss_mib": round(dec_rss), "decoded_samples": decoded.frames, "announce": stdout.splitlines()[1]}


def markdown(rows: list[dict], song: dict | None, prov: dict) -> str:
    lines = ["# Segmented audio (format 1.4)", "",
             f"## Seams and the cost of segments (preset {prov['preset']}, decoded files)", "",
             "MSE near boundaries: samples within 10 ms of a segment boundary; elsewhere: all others (one network: no boundary).", "",
             "| clip | --segment | segments | bytes | kbit/s | SNR dB | MSE near boundaries | MSE elsewhere | encode s "
             "| encode peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        near = "-" if r["segments"] == 1 else f"{r['mse_near_boundaries']:.2e}"
        lines.append(f"| {r['clip']} | {r['segment_s']:g} | {r['segments']} | {r['bytes']} | {r['kbps']} | {r['snr_db']} | {near} | "
                     f"{r['mse_elsewhere']:.2e} | {r['encode_s']} | {r['encode_peak_rss_mib']} |")
    if song:
        ok = "yes" if song["encode_peak_rss_mib"] < MEMORY_BOUND_MIB and song["decoded_samples"] == song["samples"] else "no"
        lines += ["", f"## A {song['minutes']:g}-minute stereo song, `spdr encode --preset fast --time {song['time_limit_s']:g}`", "",
                  f"Announced: \"{song['announce']}\".", "",
                  "| samples | segments | bytes | kbit/s | encode s | encode peak RSS MiB | decode s | decode peak RSS MiB "
                  f"| decoded samples | under {MEMORY_BOUND_MIB} MiB, right length |", "|---|---|---|---|---|---|---|---|---|---|",
                  f"| {song['samples']} | {song['segments']} | {song['bytes']} | {song['kbps']} | {song['encode_s']} | "
                  f"{song['encode_peak_rss_mib']} | {song['decode_s']} | {song['decode_peak_rss_mib']} | "
                  f"{song['decoded_samples']} | {ok} |"]
    return "\n".join(lines + ["", markdown_provenance(prov), ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--time", type=float, default=600.0)
    ap.add_argument("--skip-song", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "segments.md")
    a = ap.parse_args()
    prov = {**provenance(seed=0, device="cpu"), "preset": a.preset}
    with tempfile.TemporaryDirectory() as tmp:
        rows = seams(a.preset, Path(tmp))
        song = None if a.skip_song else long_song(a.minutes, a.time, Path(tmp))
    text = markdown(rows, song, prov)
    print(text)
    a.out.write_text(text)
    a.out.with_suffix(".json").write_text(json.dumps({"seams": rows, "song": song, "provenance": prov}, indent=1) + "\n")


if __name__ == "__main__":
    main()
