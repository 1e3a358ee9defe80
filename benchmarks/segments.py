"""Segmented audio (format 1.4): seams, the cost of cutting a clip, and a 10-minute song in bounded memory.

Three measurements, each with the real `spdr` command in a fresh process (tests/procstats.py: wall
seconds and the child's peak RSS):

1. seams: the shared clips encoded with the default 4 s segments and with one network over the whole
   clip (`--segment 0`), side by side in one run at the same preset and the same `--time`: bytes, kbit/s, SNR of the decoded
   file, and the error next to the segment boundaries (within WINDOW_MS either side) against the
   error everywhere else;
2. a 10-minute stereo 44.1 kHz file (the guitar clip looped) encoded with `--preset fast --time 600`:
   wall seconds, peak RSS against the issue's 4 GB bound, segments, and a decode back to its length;
3. the same for a synthetic 60 s 1080p clip at 25 fps (made frame by frame, H.264 crf 18).

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


def seams(preset: str, time_limit: float, work: Path) -> list[dict]:
    rows = []
    for name in CLIPS:
        src = MEDIA / name
        ref, rate = sf.read(src, dtype="float32", always_2d=True)
        for segment in ("4", "0"):
            spdr_file = work / f"{src.stem}_{segment}.spdr"
            wav = work / f"{src.stem}_{segment}.wav"
            enc_s, enc_rss, _ = spdr("encode", str(src), "-o", str(spdr_file), "--preset", preset, "--segment", segment,
                                     "--time", str(time_limit), "--device", "cpu", "--force", "-q")
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


def long_video(seconds: float, time_limit: float, work: Path, decode_scale: float = 1.0) -> dict:
    """A synthetic 1080p clip at 25 fps (moving colour waves over fixed texture), made frame by frame; decoded
    back at `decode_scale` of its frame size (every frame, so the length check is whole; 1080p rendering of
    60 s takes longer on 2 cores than the encode was allowed)."""
    from fractions import Fraction

    from inrcodec.media.video import save_video

    h, w, fps = 1080, 1920, 25
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    texture = np.random.default_rng(0).normal(0, 12, (h, w, 1)).astype(np.float32)

    def frames():
        for t in range(int(seconds * fps)):
            wave = np.sin(0.01 * x + 0.013 * y + 0.2 * t)[..., None] * np.array([90, 60, 30], np.float32)
            yield np.clip(128 + wave + texture, 0, 255).astype(np.uint8)

    clip = work / "clip1080.mp4"
    save_video(clip, frames(), Fraction(fps), crf=18, force=True)
    spdr_file = work / "clip1080.spdr"
    enc_s, enc_rss, stdout = spdr("encode", str(clip), "-o", str(spdr_file), "--preset", "fast", "--time", str(time_limit),
                                  "--device", "cpu", "--force", "-q", timeout=2 * time_limit + 1200)
    out = work / "clip1080_decoded.mp4"
    scale = [] if decode_scale == 1.0 else ["--scale", f"{decode_scale:g}"]
    dec_s, dec_rss, _ = spdr("decode", str(spdr_file), "-o", str(out), *scale, "--force", "-q", timeout=3600)
    facts = json.loads(spdr("info", str(spdr_file), "--json")[2])
    import av

    with av.open(str(out)) as c:
        decoded = sum(1 for _ in c.decode(video=0))
    return {"seconds": seconds, "frames": int(seconds * fps), "size": f"{w}x{h}", "time_limit_s": time_limit,
            "segments": len(facts["header"]["segments"]), "bytes": facts["file_bytes"], "kbps": round(facts["kbps"], 1),
            "encode_s": round(enc_s, 1), "encode_peak_rss_mib": round(enc_rss), "decode_s": round(dec_s, 1),
            "decode_peak_rss_mib": round(dec_rss), "decoded_frames": decoded, "decode_scale": decode_scale,
            "announce": stdout.splitlines()[1]}


def long_run_table(title: str, run: dict, unit: str, expected: int, decoded: int) -> list[str]:
    """The Markdown section of one long encode (song or clip): sizes, seconds, memory, and the two checks."""
    ok = "yes" if run["encode_peak_rss_mib"] < MEMORY_BOUND_MIB and decoded == expected else "no"
    return ["", f"## {title}, `spdr encode --preset fast --time {run['time_limit_s']:g}`", "",
            f"Announced: \"{run['announce']}\".", "",
            f"| {unit} | segments | bytes | kbit/s | encode s | encode peak RSS MiB | decode s | decode peak RSS MiB "
            f"| decoded {unit} | under {MEMORY_BOUND_MIB} MiB, right length |", "|---|---|---|---|---|---|---|---|---|---|",
            f"| {expected} | {run['segments']} | {run['bytes']} | {run['kbps']} | {run['encode_s']} | {run['encode_peak_rss_mib']} | "
            f"{run['decode_s']} | {run['decode_peak_rss_mib']} | {decoded} | {ok} |"]


def markdown(rows: list[dict], song: dict | None, prov: dict, film: dict | None = None) -> str:
    lines = ["# Segmented audio and video (format 1.4)", "",
             f"## Seams and the cost of segments (preset {prov['preset']}, --time {prov['seam_time']:g} each, decoded files)", "",
             "MSE near boundaries: samples within 10 ms of a segment boundary; elsewhere: all others (one network: no boundary).", "",
             "| clip | --segment | segments | bytes | kbit/s | SNR dB | MSE near boundaries | MSE elsewhere | encode s "
             "| encode peak RSS MiB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        near = "-" if r["segments"] == 1 else f"{r['mse_near_boundaries']:.2e}"
        lines.append(f"| {r['clip']} | {r['segment_s']:g} | {r['segments']} | {r['bytes']} | {r['kbps']} | {r['snr_db']} | {near} | "
                     f"{r['mse_elsewhere']:.2e} | {r['encode_s']} | {r['encode_peak_rss_mib']} |")
    if song:
        lines += long_run_table(f"A {song['minutes']:g}-minute stereo song", song, "samples", song["samples"], song["decoded_samples"])
    if film:
        lines += long_run_table(f"A {film['seconds']:g} s {film['size']} clip", film, "frames", film["frames"], film["decoded_frames"])
        if film.get("decode_scale", 1.0) != 1.0:
            lines += ["", f"The check decode renders every frame at `--scale {film['decode_scale']:g}` of the frame size, so that it "
                          "finishes in bounded time on this CPU; its decode seconds are for that size."]
    return "\n".join(lines + ["", markdown_provenance(prov), ""])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="fast")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--time", type=float, default=600.0)
    ap.add_argument("--seam-time", type=float, default=90.0, help="--time of each seam encode (the same for both)")
    ap.add_argument("--skip-song", action="store_true")
    ap.add_argument("--video-seconds", type=float, default=60.0, help="the 1080p clip's length (0: skip it)")
    ap.add_argument("--video-decode-scale", type=float, default=0.25, help="frame-size scale of the 1080p clip's check decode")
    ap.add_argument("--skip-seams", action="store_true")
    ap.add_argument("--note", default="", help="a line on the conditions of this run, written under the title")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "segments.md")
    a = ap.parse_args()
    prov = {**provenance(seed=0, device="cpu"), "preset": a.preset, "seam_time": a.seam_time}
    with tempfile.TemporaryDirectory() as tmp:
        rows = [] if a.skip_seams else seams(a.preset, a.seam_time, Path(tmp))
        song = None if a.skip_song else long_song(a.minutes, a.time, Path(tmp))
        film = long_video(a.video_seconds, a.time, Path(tmp), a.video_decode_scale) if a.video_seconds > 0 else None
    text = markdown(rows, song, prov, film)
    if a.note:
        text = text.replace("\n\n", f"\n\n{a.note}\n\n", 1)
    print(text)
    a.out.write_text(text)
    a.out.with_suffix(".json").write_text(json.dumps({"seams": rows, "song": song, "video": film, "note": a.note, "provenance": prov},
                                                     indent=1) + "\n")


if __name__ == "__main__":
    main()
