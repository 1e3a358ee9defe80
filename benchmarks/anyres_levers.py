"""Rendering between samples with the plain SPDER: each lever alone against the baseline, on held-out samples.

Writes benchmarks/results/anyres/levers.md (+ .json). Three held-out protocols, each with ground truth:

* video (--fps 2x): a small RGB centre crop of a real clip, 2K+1 frames; the network fits the K+1
  even frames at their timestamps on the full clip's time axis and renders the K odd ones, scored
  against the real frames, beside frame blending of the true neighbours and of its own decoded ones;
* image (--scale 2, 4): a grey photo area-averaged to 64x64 is fitted and rendered at 128 and 256,
  scored against the photo area-averaged to those sizes, beside Pillow's Lanczos of the 64x64 truth
  and of the network's own 64x64 decode;
* audio (--rate 2x, 4x): the loudest 3072-sample window; every 2nd (4th) sample is fitted at its
  timestamp on the full-rate axis, the others are scored (SNR), beside scipy's resample_poly of the
  kept samples.

"native" is each fit's PSNR (audio: SNR) on the samples it was fitted to (float weights): the cost
of a lever at native resolution. Levers, one at a time: (a) the upsampled axes' coordinate scale
times a factor, or the Nyquist rule s = pi n fan_in / (2 omega0) (at init the first layer's largest
frequency equals the fitted samples' Nyquist); (b) first_omega0; (c) the between-samples
regulariser (train/between.py) at weight mu; (d) the best (a) with the best (c). Each medium tunes
on its first input and reports every lever also on its second.

    python benchmarks/anyres_levers.py [--media video,image,audio] [--steps-video 300] [--steps-image 500]
                                       [--steps-audio 1500] [--out benchmarks/results/anyres]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _provenance import markdown_provenance, provenance  # noqa: E402

from inrcodec.bench._data import audio as load_audio  # noqa: E402
from inrcodec.bench._data import loudest_window, video  # noqa: E402
from inrcodec.bench.superres import pyramid, upscale  # noqa: E402
from inrcodec.codec.presets import MODALITY_PRESET_SPECS, PRESET_SPECS  # noqa: E402
from inrcodec.codec.result import COORD_SCALES  # noqa: E402
from inrcodec.metrics import psnr, snr  # noqa: E402
from inrcodec.nn.coords import (  # noqa: E402
    TIMESTAMP,
    axis_affine,  # noqa: E402
    axis_positions,
    forward_chunks,
)
from inrcodec.nn.registry import build_model, make_arch  # noqa: E402
from inrcodec.signal import AXES  # noqa: E402
from inrcodec.train.between import BetweenSampler  # noqa: E402
from inrcodec.train.fit import FitOptions, fit  # noqa: E402

MEDIA = Path("/work/shared/media")
OMEGA0 = 30.0
INPUTS = {"video": ("carphone_pristine", "bikes"), "image": ("camera", "astronaut"), "audio": ("speech_voice", "guit_em9")}
FILES = {"carphone_pristine": MEDIA / "video/carphone_pristine.mp4", "bikes": MEDIA / "video/bikes.mp4",
         "speech_voice": MEDIA / "audio/speech_voice.wav", "guit_em9": MEDIA / "audio/guit_em9.flac"}
NET = {"video": (64, 3), "image": (128, 3), "audio": (128, 3)}  # width, hidden layers after the first
VIDEO_CROP, VIDEO_FRAMES, IMAGE_BASE, AUDIO_WINDOW = 48, 17, 64, 3072


def nyquist_scale(n: int, fan_in: int, first_omega0: float = OMEGA0) -> float:
    """Coordinate scale at which the first layer's largest init frequency, first_omega0 * s / fan_in rad per unit,
    equals the Nyquist frequency pi * n / 2 of n samples over [-1, 1]."""
    return math.pi * n * fan_in / (2.0 * first_omega0)


def levers(medium: str) -> list[dict]:
    """Each lever alone: name, family, scale factor (or 'rule'), first_omega0, mu."""
    mus = (0.01, 0.1, 1.0)
    scales = (0.25, 0.5, 2.0) if medium != "image" else (0.5, 2.0)
    out = [{"name": "baseline", "family": "-"}]
    out += [{"name": f"(a) scale x{f:g}", "family": "a", "scale": f} for f in scales]
    out.append({"name": "(a) scale: Nyquist rule", "family": "a", "scale": "rule"})
    out += [{"name": f"(b) first_omega0 {w:g}", "family": "b", "first_omega0": w} for w in (15.0, 7.5)]
    out += [{"name": f"(c) between mu {m:g}", "family": "c", "mu": m} for m in mus]
    return out


def model_for(medium: str, in_features: int, out_features: int, lever: dict, seed: int):
    width, depth = NET[medium]
    damping = (MODALITY_PRESET_SPECS.get(medium, {}).get("balanced") or PRESET_SPECS["balanced"]).damping
    torch.manual_seed(seed)
    arch = make_arch("spder", in_features, out_features, width, depth, damping=damping,
                     first_omega0=lever.get("first_omega0", OMEGA0))
    return build_model(arch)


def encoder_lr(medium: str) -> float:
    return (MODALITY_PRESET_SPECS.get(medium, {}).get("balanced") or PRESET_SPECS["balanced"]).lr


def predict(model, coords) -> np.ndarray:
    return np.concatenate([o.double().numpy() for _, _, o in forward_chunks(model, coords)])


def run_fit(medium, lever, coords, values, grid_values, affine, axes, kind, steps, seed, in_features):
    model = model_for(medium, in_features, values.shape[1], lever, seed)
    mu = lever.get("mu", 0.0)
    sampler = BetweenSampler(grid_values, affine, axes, count=max(256, values.shape[0] // 2), kind=kind) if mu else None
    opts = FitOptions(steps=steps, lr=encoder_lr(medium), seed=seed, compile=False, between_weight=mu)
    t0 = time.perf_counter()
    fit(model, coords, values, opts, between=sampler)
    return model, time.perf_counter() - t0


def scale_factor(lever: dict, n: int, fan_in: int, base: float) -> float:
    """The upsampled axes' coordinate scale under this lever (base: what the encoder writes today)."""
    f = lever.get("scale", 1.0)
    return nyquist_scale(n, fan_in, lever.get("first_omega0", OMEGA0)) if f == "rule" else base * float(f)


# ---------------------------------------------------------------- video
def video_case(name: str, lever: dict, steps: int, seed: int) -> dict:
    clip, fps = video(str(FILES[name]), VIDEO_FRAMES, VIDEO_CROP)
    clip = clip[: len(clip) - 1 + len(clip) % 2]
    frames, size = clip.shape[0], clip.shape[1]
    fitf, held = clip[0::2], clip[1::2]
    base = [COORD_SCALES["video"] if a == "t" else 1.0 for a in AXES["video"]]  # [t, y, x], before time_scale
    st = scale_factor(lever, len(fitf), 3, base[0])
    t_all = axis_positions(frames, st, placement=TIMESTAMP)
    ax = axis_positions(size)

    def coords_at(tp):
        t, y, x = torch.meshgrid(tp, ax, ax, indexing="ij")
        return torch.stack([t, y, x], -1).reshape(-1, 3)

    coords, held_coords = coords_at(t_all[0::2]), coords_at(t_all[1::2])
    values = torch.from_numpy(fitf.reshape(-1, 3)).float()
    affine = [(-st, 4.0 * st / frames), axis_affine(size), axis_affine(size)]  # even frame k at -1 + 2 (2k) / frames
    model, secs = run_fit("video", lever, coords, values, values.reshape(fitf.shape), affine, [0], "linear", steps, seed, 3)
    out_held = predict(model, held_coords).reshape(held.shape)
    out_fit = predict(model, coords).reshape(fitf.shape)
    return {"medium": "video", "input": name, "lever": lever["name"], "family": lever["family"], "t_scale": st,
            "first_omega0": lever.get("first_omega0", OMEGA0), "mu": lever.get("mu", 0.0), "seconds": round(secs, 1),
            "held_db": psnr(out_held, held), "native_db": psnr(out_fit, fitf),
            "classic_db": psnr(0.5 * (fitf[:-1] + fitf[1:]), held), "decoded_classic_db": psnr(0.5 * (out_fit[:-1] + out_fit[1:]), held),
            "fps": fps, "crop": f"{size}x{size}x{frames}"}


# ---------------------------------------------------------------- image
def image_case(name: str, lever: dict, steps: int, seed: int) -> dict:
    pyr = pyramid(name, IMAGE_BASE)
    n = IMAGE_BASE
    s = scale_factor(lever, n, 2, 1.0)

    def coords_at(m):
        a = axis_positions(m, s)
        y, x = torch.meshgrid(a, a, indexing="ij")
        return torch.stack([y, x], -1).reshape(-1, 2)

    coords = coords_at(n)
    values = torch.from_numpy(pyr[1].reshape(-1, 1)).float()
    affine = [axis_affine(n, s), axis_affine(n, s)]
    model, secs = run_fit("image", lever, coords, values, values.reshape(n, n, 1), affine, [0, 1], "cubic", steps, seed, 2)
    native = predict(model, coords).reshape(n, n)
    row = {"medium": "image", "input": name, "lever": lever["name"], "family": lever["family"], "xy_scale": s,
           "first_omega0": lever.get("first_omega0", OMEGA0), "mu": lever.get("mu", 0.0), "seconds": round(secs, 1),
           "native_db": psnr(native, pyr[1])}
    decoded8 = np.rint((np.clip(native, -1, 1) + 1) * 127.5) / 127.5 - 1  # what a decoder writes at 64x64
    for k in (2, 4):
        m = n * k
        out = predict(model, coords_at(m)).reshape(m, m)
        row[f"held_db_x{k}"] = psnr(out, pyr[k])
        row[f"classic_db_x{k}"] = psnr(upscale(pyr[1], m, "lanczos"), pyr[k])
        row[f"decoded_classic_db_x{k}"] = psnr(upscale(decoded8, m, "lanczos"), pyr[k])
    return row


# ---------------------------------------------------------------- audio
def audio_case(name: str, lever: dict, steps: int, seed: int, factor: int) -> dict:
    from scipy.signal import resample_poly

    samples, rate = load_audio(str(FILES[name]))
    x = loudest_window(samples, AUDIO_WINDOW)
    kept = x[::factor]
    base = COORD_SCALES["audio"]
    st = scale_factor(lever, kept.size, 1, base)
    pos = axis_positions(x.size, st, placement=TIMESTAMP).reshape(-1, 1)
    mask = np.ones(x.size, bool)
    mask[::factor] = False
    coords, held_coords = pos[::factor], pos[torch.from_numpy(mask)]
    values = torch.from_numpy(kept.reshape(-1, 1)).float()
    affine = [(-st, 2.0 * st * factor / x.size)]
    model, secs = run_fit("audio", lever, coords, values, values, affine, [0], "cubic", steps, seed, 1)
    out_held = predict(model, held_coords).ravel()
    out_fit = predict(model, coords).ravel()
    poly = resample_poly(kept, factor, 1)[: x.size]
    return {"medium": "audio", "input": name, "factor": factor, "lever": lever["name"], "family": lever["family"], "t_scale": st,
            "first_omega0": lever.get("first_omega0", OMEGA0), "mu": lever.get("mu", 0.0), "seconds": round(secs, 1),
            "held_db": snr(x[mask], out_held), "native_db": snr(kept, out_fit), "classic_db": snr(x[mask], poly[mask]),
            "rate": rate}


# ---------------------------------------------------------------- driver
def held(row: dict) -> float:
    return row["held_db"] if "held_db" in row else 0.5 * (row["held_db_x2"] + row["held_db_x4"])


def best_of(rows: list[dict], family: str, base: dict, max_cost: float = 0.3) -> dict | None:
    """The family's setting with the best held-out score among those within max_cost dB of the baseline's native
    score; where none is, the best held-out score overall."""
    fam = [r for r in rows if r["family"] == family]
    if not fam:
        return None
    cheap = [r for r in fam if base["native_db"] - r["native_db"] <= max_cost]
    return max(cheap or fam, key=held)


def lever_of(row: dict, all_levers: list[dict]) -> dict:
    return next(lv for lv in all_levers if lv["name"] == row["lever"])


def run_medium(medium: str, steps: int, seed: int, log) -> list[dict]:
    tune, report = INPUTS[medium]

    def case(name, lever, factor=2):
        t0 = time.perf_counter()
        if medium == "video":
            r = video_case(name, lever, steps, seed)
        elif medium == "image":
            r = image_case(name, lever, steps, seed)
        else:
            r = audio_case(name, lever, steps, seed, factor)
        r["role"] = "tune" if name == tune else "report"
        log(f"{medium} {name}{' x' + str(factor) if medium == 'audio' else ''} {lever['name']}: held {held(r):.2f} dB, "
            f"native {r['native_db']:.2f} dB ({time.perf_counter() - t0:.0f} s)")
        return r

    all_levers = levers(medium)
    rows = [case(tune, lv) for lv in all_levers]
    base = rows[0]
    a, c = best_of(rows, "a", base), best_of(rows, "c", base)
    if a is not None and c is not None:
        la, lc = lever_of(a, all_levers), lever_of(c, all_levers)
        combo = {"name": f"(d) {la['name'][4:]} + {lc['name'][4:]}", "family": "d", "scale": la["scale"], "mu": lc["mu"]}
        all_levers.append(combo)
        rows.append(case(tune, combo))
    rows += [case(report, lv) for lv in all_levers]
    if medium == "audio":  # the 4x protocol on both clips: baseline and each family's tuned (2x) choice
        b = best_of(rows[: len(all_levers)], "b", base)
        chosen = [all_levers[0], *[lever_of(r, all_levers) for r in (a, b, c) if r is not None], all_levers[-1]]
        for name in (tune, report):
            rows += [case(name, lv, 4) for lv in chosen]
    return rows


def parse_extra(text: str) -> list[dict]:
    """'scale=0.1;scale=0.25+mu=1' -> follow-up levers (family e)."""
    out = []
    for spec in [p.strip() for p in text.split(";") if p.strip()]:
        lever: dict = {"family": "e"}
        for part in spec.split("+"):
            key, _, value = part.partition("=")
            key = {"scale": "scale", "mu": "mu", "omega": "first_omega0"}[key.strip()]
            lever[key] = value.strip() if value.strip() == "rule" else float(value)
        names = {"scale": "scale x{}", "mu": "between mu {}", "first_omega0": "first_omega0 {}"}
        lever["name"] = "(e) " + " + ".join(names[k].format(f"{v:g}" if isinstance(v, float) else v)
                                            for k, v in lever.items() if k in names)
        out.append(lever)
    return out


def run_extra(medium: str, text: str, steps: int, seed: int, log) -> list[dict]:
    rows = []
    for name in INPUTS[medium]:
        for lever in parse_extra(text):
            for factor in ((2, 4) if medium == "audio" else (2,)):
                r = (video_case(name, lever, steps, seed) if medium == "video" else image_case(name, lever, steps, seed)
                     if medium == "image" else audio_case(name, lever, steps, seed, factor))
                r["role"] = "tune" if name == INPUTS[medium][0] else "report"
                log(f"{medium} {name} {lever['name']}: held {held(r):.2f} dB, native {r['native_db']:.2f} dB")
                rows.append(r)
    return rows


def fmt(v: float) -> str:
    return f"{v:.2f}"


def tables(rows: list[dict]) -> list[str]:
    md: list[str] = []
    for medium in ("video", "image", "audio"):
        mine = [r for r in rows if r["medium"] == medium]
        if not mine:
            continue
        groups = sorted({(r["input"], r.get("factor")) for r in mine}, key=lambda g: ([r["input"] for r in mine].index(g[0]), g[1] or 0))
        for name, factor in groups:
            g = [r for r in mine if r["input"] == name and r.get("factor") == factor]
            base = next(r for r in g if r["lever"] == "baseline")
            role = "tuning input" if g[0]["role"] == "tune" else "report input (settings chosen on the other)"
            if medium == "image":
                md += [f"### image super-resolution, {name} 64x64 -> 128/256 ({role})", "",
                       "| lever | xy scale | x2 PSNR | vs Lanczos | x4 PSNR | vs Lanczos | native PSNR | native cost | fit s |",
                       "|---|---|---|---|---|---|---|---|---|"]
                for r in g:
                    md.append(f"| {r['lever']} | {r['xy_scale']:.3g} | {fmt(r['held_db_x2'])} | "
                              f"{r['held_db_x2'] - r['classic_db_x2']:+.2f} | "
                              f"{fmt(r['held_db_x4'])} | {r['held_db_x4'] - r['classic_db_x4']:+.2f} | {fmt(r['native_db'])} | "
                              f"{r['native_db'] - base['native_db']:+.2f} | {r['seconds']} |")
                md += ["", f"Lanczos of the 64x64 truth: x2 {fmt(base['classic_db_x2'])} dB, x4 {fmt(base['classic_db_x4'])} dB; "
                       f"Lanczos of the baseline network's 8-bit 64x64 decode: x2 {fmt(base['decoded_classic_db_x2'])} dB, "
                       f"x4 {fmt(base['decoded_classic_db_x4'])} dB.", ""]
                continue
            if medium == "video":
                md += [f"### video 2x --fps, {name} {base['crop']} ({role})", "",
                       "| lever | t scale | held-out PSNR | vs blending | native PSNR | native cost | blend of own frames | fit s |",
                       "|---|---|---|---|---|---|---|---|"]
                for r in g:
                    md.append(f"| {r['lever']} | {r['t_scale']:.3g} | {fmt(r['held_db'])} | {r['held_db'] - r['classic_db']:+.2f} | "
                              f"{fmt(r['native_db'])} | {r['native_db'] - base['native_db']:+.2f} | {fmt(r['decoded_classic_db'])} | "
                              f"{r['seconds']} |")
                md += ["", f"Frame blending of the true neighbours: {fmt(base['classic_db'])} dB.", ""]
                continue
            md += [f"### audio {factor}x --rate, {name} {AUDIO_WINDOW}-sample window ({role})", "",
                   "| lever | t scale | held-out SNR | vs resample_poly | native SNR | native cost | fit s |",
                   "|---|---|---|---|---|---|---|"]
            for r in g:
                md.append(f"| {r['lever']} | {r['t_scale']:.4g} | {fmt(r['held_db'])} | {r['held_db'] - r['classic_db']:+.2f} | "
                          f"{fmt(r['native_db'])} | {r['native_db'] - base['native_db']:+.2f} | {r['seconds']} |")
            md += ["", f"resample_poly of the kept samples: {fmt(base['classic_db'])} dB.", ""]
    return md


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--media", default="video,image,audio")
    ap.add_argument("--steps-video", type=int, default=150)
    ap.add_argument("--steps-image", type=int, default=300)
    ap.add_argument("--steps-audio", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: steady timings on a shared machine)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "anyres"))
    ap.add_argument("--extra", default=None,
                    help="follow-up settings chosen after a first run, e.g. 'scale=0.1;scale=0.1+mu=1': run on both inputs of "
                         "each --media (family e) and added to the existing levers.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    steps = {"video": args.steps_video, "image": args.steps_image, "audio": args.steps_audio}
    rows: list[dict] = []
    media = [m.strip() for m in args.media.split(",") if m.strip()]
    if args.extra:
        rows = json.loads((Path(args.out) / "levers.json").read_text())["rows"]
        for medium in media:
            rows += run_extra(medium, args.extra, steps[medium], args.seed, lambda s: print(s, flush=True))
            write(args, steps, rows)
        print("\n".join(tables(rows)))
        return
    for medium in media:
        rows += run_medium(medium, steps[medium], args.seed, lambda s: print(s, flush=True))
        write(args, steps, rows)
    print("\n".join(tables(rows)))


def write(args, steps: dict, rows: list[dict]) -> None:
    prov = provenance(seed=args.seed, device="cpu")
    settings = {m: {"width": NET[m][0], "hidden_layers": NET[m][1], "steps": steps[m], "lr": encoder_lr(m),
                    "schedule": "FitOptions defaults (cosine to 0.1 lr), full batch, float weights, no QAT",
                    "inputs": {"tune": INPUTS[m][0], "report": INPUTS[m][1]}} for m in steps}
    md = ["# Rendering between samples: levers of the plain SPDER, one at a time", "",
          "Held-out samples against the trivial interpolator of each medium (video: frame blending; images: Lanczos; "
          "audio: scipy resample_poly), and the native PSNR/SNR on the fitted samples (the cost). Each family's choice "
          "for (d) and for audio 4x was made on the tuning input (best held-out score within 0.3 dB native cost). "
          "Damping, learning rate and coordinate scales are the encoder's (balanced preset); the width is fixed "
          "(the preset's per-sample sizing would give these tiny crops 8-16 units).", "",
          *tables(rows), "## Settings", "", "```", json.dumps(settings, indent=1), "```", "", "## Provenance", "",
          markdown_provenance(prov), ""]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "levers.md").write_text("\n".join(md))
    (out / "levers.json").write_text(json.dumps({"provenance": prov, "settings": settings, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
