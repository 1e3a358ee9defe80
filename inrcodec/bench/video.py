"""Task `video`: PSNR per step on a small crop of a real clip, and frame interpolation (the paper's Figure 18).

The networks fit the even frames of a (2K+1)-frame RGB crop, at their timestamps on the full clip's
time axis (format 1.2's TIMESTAMP placement: frame k of n at -1 + 2k/n, so the fitted frames sit
at their own instants and the held-out odd ones exactly halfway between), and the odd frames, which
they never saw, are scored against the real frames (`interp_*` fields) two ways: the network alone
at the held-out instants (`rendering: network`, `spdr decode --resample network`), and as `spdr
decode` renders off the native grid by default (`rendering: classic`, "SPDER + frame blending (spdr
default)": the network's own fitted frames, clipped to [-1, 1], blended at the held-out instants).
The baseline is the same blending of the true fitted frames (the average of the two neighbours).
The middle held-out frame is saved next to its neighbours as PNG.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import torch

from ..media.resample import blend_positions
from ..metrics import mse, psnr, psnr_from_mse, rho_ag
from ..nn.coords import TIMESTAMP, axis_positions
from ..nn.device import pick_device
from . import register
from ._archs import LABELS, NetSpec, make
from ._core import BenchOptions, TaskOutput, fit_recording, predict
from ._data import input_name, shared_media, video
from ._report import figure_png, mean_std, pyplot, table

DEFAULT_INPUTS = ("video/carphone_pristine.mp4", "video/bikes.mp4")
DEFAULT_ARCHS = ("spder", "siren")
CPU = {"size": 48, "frames": 17, "spec": NetSpec(width=128, depth=3, lr=1e-4)}
PAPER = {"size": 128, "frames": 33, "spec": NetSpec(width=256, depth=5, lr=1e-4)}


def coords_for(t_pos: torch.Tensor, size: int) -> torch.Tensor:
    """(t, y, x) coordinates of whole frames at the given time positions, C-order like the clip array."""
    ax = axis_positions(size)
    t, y, x = torch.meshgrid(t_pos, ax, ax, indexing="ij")
    return torch.stack([t, y, x], dim=-1).reshape(-1, 3)


def default_label(arch: str) -> str:
    """'SPDER + frame blending (spdr default)': the network's own fitted frames, blended in between."""
    return f"{LABELS.get(arch, arch)} + frame blending (spdr default)"


def blend_between(frames: np.ndarray) -> np.ndarray:
    """The frames halfway between consecutive ones, by the decoder's frame blending (media/resample.py).

    The fitted frames run at half the clip's rate; the clip's odd frames fall between them.
    """
    out = [(1.0 - w) * frames[a] + w * frames[b] for a, b, w in
           blend_positions(len(frames), Fraction(1), 2 * len(frames) - 1, Fraction(2))]
    return np.stack(out[1::2])


def interp_scores(out: np.ndarray, ref: np.ndarray) -> dict:
    """Held-out frames: MSE, PSNR, rho_AG (per-channel 3-D spectra)."""
    return {"interp_loss": mse(out, ref), "interp_psnr_db": psnr(out, ref), "interp_rho_ag": rho_ag(out, ref, axes=(0, 1, 2))}


def fit_clip(name: str, clip: np.ndarray, fps: float, archs, steps, spec: NetSpec, opts: BenchOptions,
             device) -> tuple[list[dict], bytes, dict[str, list[float]]]:
    """Fit the even frames with each network; score them and the odd frames at each step; the middle-frame PNG."""
    frames, size = clip.shape[0], clip.shape[1]
    t_all = axis_positions(frames, placement=TIMESTAMP)
    fit, held = clip[0::2], clip[1::2]
    coords = coords_for(t_all[0::2], size).to(device)
    held_coords = coords_for(t_all[1::2], size).to(device)
    values = torch.from_numpy(fit.reshape(-1, 3)).float().to(device)
    mid = len(held) // 2
    shown: dict[str, np.ndarray] = {}
    rows: list[dict] = []
    curves: dict[str, list[float]] = {}
    for arch in archs:
        def record(step, model, pred, arch=arch):
            out = predict(model, held_coords).reshape(held.shape)
            fitted = pred.double().cpu().numpy().reshape(fit.shape)
            classic = blend_between(np.clip(fitted, -1.0, 1.0))
            if step == steps[-1]:
                shown[LABELS.get(arch, arch)] = out[mid]
                shown[f"{LABELS.get(arch, arch)} + blending\n(spdr default)"] = classic[mid]
            return {"rho_ag": rho_ag(fitted, fit, axes=(0, 1, 2)), **interp_scores(out, held),
                    "classic": interp_scores(classic, held)}

        model, lr, facts = make(arch, 3, 3, fit.shape[:3], spec, opts.seed, device)
        rec = fit_recording(model, coords, values, steps, lr, record, opts.log, f"video {name} {arch}")
        same = {"input": name, "arch": arch, **facts, "crop": f"{size}x{size}", "frames_fit": len(fit),
                "frames_held_out": len(held), "fps": fps}
        for r in rec.rows:
            classic = r.pop("classic")
            rows += [{**same, "rendering": "network", **r}, {**same, "rendering": "classic", **r, **classic}]
        curves[arch] = rec.curve
    blend = blend_between(fit)
    shown["neighbour average"] = blend[mid]
    rows.append({"input": name, "arch": "blend", "rendering": "true frames", "step": None, "loss": None, "psnr_db": None,
                 "rho_ag": None, **interp_scores(blend, held), "crop": f"{size}x{size}", "frames_held_out": len(held), "fps": fps})
    return rows, middle_png(fit[mid], held[mid], fit[mid + 1], shown, 2 * mid + 1), curves


@register("video")
def run(opts: BenchOptions) -> TaskOutput:
    """Fit the even frames of a crop; PSNR per step on them and on the odd frames the network never saw."""
    cfg = PAPER if opts.paper else CPU
    size, frames, spec = opts.size or cfg["size"], cfg["frames"], cfg["spec"]
    steps = list(opts.steps or (25, 100, 500))
    archs = list(opts.archs or DEFAULT_ARCHS)
    device = pick_device(opts.device)
    refs = list(opts.inputs or [shared_media(*p.split("/")) for p in DEFAULT_INPUTS])
    clips = []
    for ref in refs:
        clip, fps = video(ref, frames, size)
        clips.append((input_name(ref), clip[: len(clip) - 1 + len(clip) % 2], fps))  # odd: even frames at both ends
    rows: list[dict] = []
    figures: dict[str, bytes] = {}
    for name, clip, fps in clips:
        new_rows, figures[f"{name}_middle"], curves = fit_clip(name, clip, fps, archs, steps, spec, opts, device)
        rows += new_rows
        figures[f"{name}_psnr"] = psnr_png(curves, name)
    head = ["Method"] + [f"{m} @{s}" for s in steps for m in ("PSNR dB (fit frames)", "PSNR dB (held-out frames)")]
    head.append(f"ρ_AG held-out @{steps[-1]}")
    body = []
    methods = [(a, "network", f"{LABELS.get(a, a)} alone") for a in archs]
    methods += [(a, "classic", default_label(a)) for a in archs]
    for arch, render, title in [*methods, ("blend", "true frames", "Average of the two neighbours (true frames)")]:
        mine = [r for r in rows if r["arch"] == arch and r.get("rendering") == render]
        if arch == "blend":
            v = mean_std([r["interp_psnr_db"] for r in mine], "db")
            body.append([title] + ["-", v] * len(steps) + [mean_std([r["interp_rho_ag"] for r in mine], "r")])
            continue
        cells = [title]
        for s in steps:
            cells += [mean_std([r["psnr_db"] for r in mine if r["step"] == s], "db"),
                      mean_std([r["interp_psnr_db"] for r in mine if r["step"] == s], "db")]
        cells.append(mean_std([r["interp_rho_ag"] for r in mine if r["step"] == steps[-1]], "r"))
        body.append(cells)
    n = len(clips[0][1])
    verdict = "\n\n".join(blend_verdict(rows, arch, steps[-1]) for arch in archs)
    md = ["", f"## Video: {size}x{size} RGB centre crop, {n} frames; fit on the {n // 2 + 1} even frames, "
          f"the {n // 2} odd ones held out", "", table(head, body), "", verdict, "",
          "Frames sit at their timestamps (frame k of n at -1 + 2k/n on the time axis). *Alone*: the network at the "
          "held-out instants (`spdr decode --resample network`). *spdr default*: what `spdr decode` renders between "
          "the fitted frames, the blend of the network's own fitted frames (clipped to [-1, 1]); its fit-frame PSNR is "
          "the network's. The baseline blends the true fitted frames.", "",
          "Figures: `video_<clip>_psnr.png` (PSNR on the fitted frames at every step), `video_<clip>_middle.png` "
          "(the middle held-out frame as each method renders it, between its two neighbours, with the real frame)."]
    settings = {"inputs": ", ".join(f"{n} ({fps:g} fps)" for n, _, fps in clips),
                "network": f"{spec.width} wide, {spec.depth} hidden layers after the first, omega0 30 on (t, y, x) in [-1, 1]",
                "optimiser": f"Adam, constant lr {spec.lr:g}, full batch", "steps": ",".join(map(str, steps))}
    return TaskOutput(rows, "\n".join(md), figures, settings)


def blend_verdict(rows: list[dict], arch: str, step: int) -> str:
    """Plainly: held-out PSNR of the network alone and of spdr's default vs blending the true frames."""
    def db(a: str, render: str) -> float:
        return float(np.mean([r["interp_psnr_db"] for r in rows if r["arch"] == a and r.get("rendering") == render
                              and r["step"] in (None, step)]))

    base = db("blend", "true frames")
    parts = []
    for title, render in ((f"{LABELS.get(arch, arch)} alone", "network"), (default_label(arch), "classic")):
        a = db(arch, render)
        gap = f"{abs(a - base):.2f} dB {'better' if a > base else 'worse'}" if round(a - base, 2) else "equal"
        parts.append(f"{title} {a:.2f} dB vs the neighbour average {base:.2f} dB ({gap})")
    return f"**{LABELS.get(arch, arch)} vs frame blending (held-out frames, 2x in time, mean PSNR, {step} steps).** " + \
        "; ".join(parts) + "."


def psnr_png(curves: dict[str, list[float]], name: str) -> bytes:
    """PSNR of the fitted frames after every step, one line per architecture."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for arch, curve in curves.items():
        ax.plot([psnr_from_mse(v) if np.isfinite(v) else np.nan for v in curve], label=LABELS.get(arch, arch), lw=1.3)
    ax.set_xlabel("step")
    ax.set_ylabel("PSNR (dB), fitted frames")
    ax.set_title(f"{name}: video fitting")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return figure_png(fig)


def middle_png(before: np.ndarray, real: np.ndarray, after: np.ndarray, outs: dict[str, np.ndarray], index: int) -> bytes:
    """Frame index-1, each method's frame index, the real frame index, frame index+1, titled with PSNR."""
    plt = pyplot()
    tiles = {f"frame {index - 1}": (before, None), **{k: (v, psnr(v, real)) for k, v in outs.items()},
             f"real frame {index}": (real, None), f"frame {index + 1}": (after, None)}
    fig, axes = plt.subplots(1, len(tiles), figsize=(2.1 * len(tiles), 2.5))
    for ax, (title, (img, db)) in zip(np.atleast_1d(axes), tiles.items(), strict=False):
        ax.imshow((np.clip(img, -1, 1) + 1) / 2, interpolation="nearest")
        ax.set_title(title + (f"\n{db:.1f} dB" if db is not None else ""), fontsize=8)
        ax.axis("off")
    return figure_png(fig)
