"""Task `audio-interp`: the paper's Table 4. Fit on every 8th sample, evaluate at 2x, 4x, 8x against the original.

The clip window is decimated by plain subsampling (x[::8], no anti-alias filter, as in the paper),
so content above the decimated Nyquist frequency is lost to every method alike. The networks are
fitted at the kept samples' own positions on the full-rate pixel-centre grid and queried at the
positions of x[::4], x[::2] and x; the baselines are scipy's polyphase resampler
(`resample_poly`, Kaiser-windowed FIR) and linear interpolation of the same decimated samples.
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics import mse, psnr, rho_ag, snr
from ..nn.coords import axis_positions
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
    pos = axis_positions(x.size).reshape(-1, 1)
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
            if step == steps[-1]:
                shown[label(key)] = out[FACTOR]
            return {"per": {k: scores(out[k], refs[k]) for k in SCALES}}

        model, lr, facts = make(arch, 1, 1, (dec.size,), spec, opts.seed, device)
        rec = fit_recording(model, grids[1], values, steps, lr, record, opts.log, f"audio-interp {name} {key}")
        for r in rec.rows:
            per = r.pop("per")
            rows += [{"input": name, "arch": arch, "variant": key, "first_omega0": om, **r, "fit_loss": r["loss"], **per[k],
                      "scale": k, "rate": rate * k // FACTOR, **facts} for k in SCALES]
    for how, title in BASELINES.items():
        for k in SCALES[1:]:
            out = baseline(dec, k, how)
            rows.append({"input": name, "arch": how, "step": None, **scores(out, refs[k]), "scale": k, "rate": rate * k // FACTOR})
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
    for key in [*keys, *BASELINES]:
        cells = [label(key) + f" ({last} steps)" if key in keys else BASELINES[key]]
        for k in SCALES[1:]:
            mine = [r for r in rows if r.get("variant", r["arch"]) == key and r["scale"] == k and r["step"] in (None, last)]
            cells += [mean_std([r["loss"] for r in mine], "e"), mean_std([r["snr_db"] for r in mine], "db"),
                      mean_std([r["rho_ag"] for r in mine], "r")]
        body.append(cells)
    md = ["", f"## Table 4: audio interpolation from every {FACTOR}th sample, {len(clips)} clips, loudest {n_full}-sample window, "
          "mean ± std over clips", "", table(head, body), "",
          f"x{FACTOR} compares with the original samples; x2 and x4 with the original at 1/4 and 1/2 of its rate. "
          "Figures: `audio-interp_<clip>_x8.png` (an excerpt of each method's 8x output over the original)."]
    settings = {"inputs": ", ".join(f"{n} ({r} Hz)" for n, _, r in clips),
                "window": f"loudest {n_full} samples of the mono mix, peak-normalised, then x[::{FACTOR}] "
                          f"({n_full // FACTOR} samples fitted)",
                "network": f"{cfg['width']} wide, {cfg['depth']} hidden layers after the first",
                "optimiser": "Adam, constant lr 1e-4, full batch", "steps": ",".join(map(str, steps))}
    return TaskOutput(rows, "\n".join(md), figures, settings)


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
