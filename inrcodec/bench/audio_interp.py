"""Task `audio-interp`: the paper's Table 4. Fit on every 8th sample, evaluate at 2x, 4x, 8x against the original.

The clip window is decimated by plain subsampling (x[::8], no anti-alias filter, as in the paper),
so content above the decimated Nyquist frequency is lost to every method alike. The time axis is
placed at timestamps (format 1.2's TIMESTAMP placement of the full window: sample k of n at
-1 + 2k/n), so the kept samples sit at their own instants and the networks are fitted there. Each
network is scored two ways at the instants of x[::4], x[::2] and x: alone (`rendering: network`,
the network queried there, `spdr decode --resample network`), and as `spdr decode` renders off the
native grid by default (`rendering: classic`, "SPDER + resample_poly (spdr default)": the network's
own samples on the kept grid, clipped to [-1, 1], resampled by scipy's `resample_poly`). The
baselines are scipy's polyphase resampler (`resample_poly`, Kaiser-windowed FIR) and linear
interpolation of the true decimated samples.
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics import mse, psnr, rho_ag, snr
from ..nn.coords import TIMESTAMP, axis_positions
from ..nn.device import pick_device
from . import register
from ._archs import NetSpec, make
from ._core import BenchOptions, TaskOutput, fit_recording, predict
from ._report import figure_png, mean_std, pyplot, table
from .audio import CPU, PAPER, label, loudest_clips, variants

FACTOR = 8
SCALES = (1, 2, 4, 8)
DEFAULT_ARCHS = ("spder", "siren")
BASELINES = {"resample_poly": "scipy resample_poly", "linear": "linear interpolation"}
CLASSIC = "resample_poly"  # the classic resampler applied to the network's own samples for the spdr-default rows


def default_label(key: str) -> str:
    """'SPDER, ω₁ = 30 + resample_poly (spdr default)'."""
    return f"{label(key)} + resample_poly (spdr default)"


def baseline(dec: np.ndarray, k: int, how: str) -> np.ndarray:
    """The decimated clip brought to k times its rate by a standard method (aligned with x[::8 // k])."""
    if how == "resample_poly":
        from scipy.signal import resample_poly

        return resample_poly(dec, k, 1)
    t = np.arange(dec.size * k) / k
    return np.interp(t, np.arange(dec.size), dec)


def scores(out: np.ndarray, ref: np.ndarray) -> dict:
    """MSE, PSNR, SNR and rho_AG against the original samples at that rate."""
    return {"loss": mse(out, ref), "psnr_db": psnr(out, ref), "snr_db": snr(ref, out), "rho_ag": rho_ag(out, ref)}


def interp_clip(name: str, x: np.ndarray, rate: int, archs, steps, cfg: dict, opts: BenchOptions, device) -> tuple[list[dict], bytes]:
    """Fit x[::8] with each network; score 1x..8x at each step; baselines; the waveform PNG."""
    pos = axis_positions(x.size, placement=TIMESTAMP).reshape(-1, 1)
    dec = x[::FACTOR]
    refs = {k: x[:: FACTOR // k] for k in SCALES}
    grids = {k: pos[:: FACTOR // k].to(device) for k in SCALES}
    values = torch.from_numpy(dec.reshape(-1, 1)).float().to(device)
    shown: dict[str, np.ndarray] = {}
    rows: list[dict] = []
    for key, arch, om in variants(archs, dec.size):
        spec = NetSpec(cfg["width"], cfg["depth"], 1e-4, first_omega0=om)

        def record(step, model, pred, key=key):
            out = {k: predict(model, g).ravel() for k, g in grids.items()}
            own = np.clip(pred.double().cpu().numpy().ravel(), -1.0, 1.0)  # the network's samples on the kept grid
            classic = {k: baseline(own, k, CLASSIC) for k in SCALES[1:]}
            if step == steps[-1]:
                shown[label(key)] = out[FACTOR]
                shown[default_label(key)] = classic[FACTOR]
            return {"per": {k: scores(out[k], refs[k]) for k in SCALES},
                    "classic": {k: scores(classic[k], refs[k]) for k in SCALES[1:]}}

        model, lr, facts = make(arch, 1, 1, (dec.size,), spec, opts.seed, device)
        rec = fit_recording(model, grids[1], values, steps, lr, record, opts.log, f"audio-interp {name} {key}")
        for r in rec.rows:
            per, classic = r.pop("per"), r.pop("classic")
            for render, got in (("network", per), ("classic", classic)):
                rows += [{"input": name, "arch": arch, "variant": key, "rendering": render, "first_omega0": om, **r,
                          "fit_loss": r["loss"], **got[k], "scale": k, "rate": rate * k // FACTOR, **facts} for k in got]
    for how, title in BASELINES.items():
        for k in SCALES[1:]:
            out = baseline(dec, k, how)
            rows.append({"input": name, "arch": how, "rendering": "true samples", "step": None, **scores(out, refs[k]),
                         "scale": k, "rate": rate * k // FACTOR})
            if k == FACTOR:
                shown[title] = out
    return rows, waveform_png(x, dec, shown, rate, name)


@register("audio-interp")
def run(opts: BenchOptions) -> TaskOutput:
    """Table 4: each clip's loudest window decimated 8x, fitted, and evaluated at 2x/4x/8x the kept rate."""
    cfg = PAPER if opts.paper else CPU
    n_full = opts.size or 4 * cfg["size"]
    n_full -= n_full % FACTOR
    if n_full < 4 * FACTOR:
        raise ValueError(f"--size must be at least {4 * FACTOR} samples for audio-interp")
    steps = list(opts.steps or (25, 100, 500, 1000))
    archs = list(opts.archs or DEFAULT_ARCHS)
    device = pick_device(opts.device)
    clips = loudest_clips(opts.inputs, n_full, FACTOR)
    rows: list[dict] = []
    figures: dict[str, bytes] = {}
    for name, x, rate in clips:
        new_rows, figures[f"{name}_x8"] = interp_clip(name, x, rate, archs, steps, cfg, opts, device)
        rows += new_rows
    keys = list(dict.fromkeys(r["variant"] for r in rows if "variant" in r))
    last = steps[-1]
    head = ["Method"] + [f"{m} x{k}" for k in SCALES[1:] for m in ("MSE", "SNR dB", "ρ_AG")]
    body = []
    methods = [(key, "network", f"{label(key)} alone ({last} steps)") for key in keys]
    methods += [(key, "classic", f"{default_label(key)} ({last} steps)") for key in keys]
    methods += [(how, "true samples", f"{title} of the true samples") for how, title in BASELINES.items()]
    for key, render, title in methods:
        cells = [title]
        for k in SCALES[1:]:
            mine = pick(rows, key, render, k, last)
            cells += [mean_std([r["loss"] for r in mine], "e"), mean_std([r["snr_db"] for r in mine], "db"),
                      mean_std([r["rho_ag"] for r in mine], "r")]
        body.append(cells)
    verdict = "\n\n".join(poly_verdict(rows, key, last) for key in keys)
    md = ["", f"## Table 4: audio interpolation from every {FACTOR}th sample, {len(clips)} clips, loudest {n_full}-sample window, "
          "mean ± std over clips", "", table(head, body), "", verdict, "",
          "Samples sit at their timestamps (sample k of n at -1 + 2k/n). *Alone*: the network queried at the "
          "in-between instants (`spdr decode --resample network`). *spdr default*: the classic resampler of the "
          "network's own samples on the kept grid (clipped to [-1, 1]); here scipy's `resample_poly`, the same "
          "resampler as the baseline, so the two differ only in the samples they start from.", "",
          f"x{FACTOR} compares with the original samples; x2 and x4 with the original at 1/4 and 1/2 of its rate. "
          "Figures: `audio-interp_<clip>_x8.png` (an excerpt of each method's 8x output over the original)."]
    settings = {"inputs": ", ".join(f"{n} ({r} Hz)" for n, _, r in clips),
                "window": f"loudest {n_full} samples of the mono mix, peak-normalised, then x[::{FACTOR}] "
                          f"({n_full // FACTOR} samples fitted)",
                "network": f"{cfg['width']} wide, {cfg['depth']} hidden layers after the first",
                "optimiser": "Adam, constant lr 1e-4, full batch", "steps": ",".join(map(str, steps))}
    return TaskOutput(rows, "\n".join(md), figures, settings)


def pick(rows: list[dict], key: str, render: str, k: int, step: int) -> list[dict]:
    """The rows of one method (variant or baseline, and rendering) at scale k, at `step` (baselines: any step)."""
    return [r for r in rows if r.get("variant", r["arch"]) == key and r.get("rendering") == render and r["scale"] == k
            and r["step"] in (None, step)]


def poly_verdict(rows: list[dict], key: str, step: int) -> str:
    """Plainly, per scale: mean SNR of the network alone and of spdr's default vs resample_poly of the true samples."""
    parts = []
    for k in SCALES[1:]:
        base = [r["snr_db"] for r in pick(rows, "resample_poly", "true samples", k, step)]
        if not base:
            continue
        b = float(np.mean(base))
        said = []
        for title, render in (("alone", "network"), ("+ resample_poly (spdr default)", "classic")):
            a = float(np.mean([r["snr_db"] for r in pick(rows, key, render, k, step)]))
            gap = f"{abs(a - b):.2f} dB {'better' if a > b else 'worse'}" if round(a - b, 2) else "equal"
            said.append(f"{label(key)} {title} {a:.2f} dB vs resample_poly of the true samples {b:.2f} dB ({gap})")
        parts.append(f"x{k}: " + "; ".join(said))
    return f"**{label(key)} vs resample_poly (mean SNR, {step} steps).** " + ". ".join(parts) + "." if parts else ""


def waveform_png(x: np.ndarray, dec: np.ndarray, outs: dict[str, np.ndarray], rate: int, name: str) -> bytes:
    """The loudest 256-sample excerpt: original, kept samples, and every method's 8x reconstruction."""
    plt = pyplot()
    n = min(256, x.size)
    start = int(np.argmax(np.convolve(x * x, np.ones(n), mode="valid")[::FACTOR])) * FACTOR if x.size > n else 0
    t = (np.arange(start, start + n)) / rate * 1e3
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(t, x[start:start + n], color="k", lw=2.2, alpha=0.35, label="original")
    for title, out in outs.items():
        ax.plot(t, out[start:start + n], lw=1.0, label=title)
    kept = np.arange(start, start + n)[np.arange(start, start + n) % FACTOR == 0]
    ax.plot(kept / rate * 1e3, x[kept], "o", color="k", ms=3, label=f"kept (every {FACTOR}th)")
    ax.set_xlabel("time (ms)")
    ax.set_title(f"{name}: 8x interpolation")
    ax.legend(fontsize=7, ncol=2)
    return figure_png(fig)
