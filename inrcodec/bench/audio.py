"""Task `audio`: the paper's Table 2 (loss and rho_AG after 25/100/500/1000 steps) on real clips.

Each clip is mixed to mono, cut to its loudest window of --size samples and peak-normalised (the
SIREN/SPDER code normalises by the peak too). The sine networks depend on the first layer's
frequency factor, so each runs twice: with the paper's radians per sample (its code puts a
308,200-sample clip on [-100, 100] with omega0 = 30, i.e. 3000 on [-1, 1]: first_omega0 =
3000 * n / 308200, at least 30, for n samples) and with SIREN's audio recipe, first_omega0 = 3000
on [-1, 1] whatever the length. The hash grid is left out, as in the paper.
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics import rho_ag, snr
from ..nn.coords import grid_coords
from ..nn.device import pick_device
from . import register
from ._archs import LABELS, NetSpec, make
from ._core import BenchOptions, TaskOutput, fit_recording
from ._data import audio, input_name, loudest_window, shared_media
from ._report import arch_table, loss_curves_png

DEFAULT_INPUTS = ("audio/loop_amen_full.flac", "audio/guit_em9.flac", "audio/speech_voice.wav")
DEFAULT_ARCHS = ("relu", "relu-pe", "relu-ffn", "siren", "spder", "spder-atan")
PAPER_SAMPLES = 308_200
CPU = {"size": 3072, "width": 128, "depth": 3}
PAPER = {"size": PAPER_SAMPLES, "width": 256, "depth": 5}


def audio_omega(n: int) -> float:
    """First-layer frequency factor that keeps the paper's radians per sample for an n-sample clip."""
    return max(30.0, 3000.0 * n / PAPER_SAMPLES)


def default_inputs() -> list[str]:
    """The bundled clips in ../shared/media (an error later if the folder is missing)."""
    return [shared_media(*p.split("/")) for p in DEFAULT_INPUTS]


SINE = ("siren", "spder", "spder-sqrt", "spder-log", "spder-atan", "spder-sqrt-relu")
SIREN_AUDIO_OMEGA = 3000.0


def variants(archs, n: int) -> list[tuple[str, str, float]]:
    """(row key, architecture, first_omega0): sine networks at both frequency settings, the rest once."""
    out = []
    for arch in archs:
        if arch in SINE:
            out += [(f"{arch}@{om:g}", arch, om) for om in dict.fromkeys((audio_omega(n), SIREN_AUDIO_OMEGA))]
        else:
            out.append((arch, arch, 30.0))
    return out


def label(key: str) -> str:
    """'spder@40' -> 'SPDER, ω₁ = 40'."""
    arch, _, om = key.partition("@")
    return LABELS.get(arch, arch) + (f", ω₁ = {om}" if om else "")


def fit_clip(x, archs, steps, cfg: dict, opts: BenchOptions, device, name: str, curves: dict) -> list[dict]:
    """Fit every architecture (and frequency variant) to one mono clip in [-1, 1]; rows at each step."""
    n = x.size
    coords = grid_coords((n,), device=device)
    values = torch.from_numpy(x.reshape(-1, 1)).float().to(device)
    rows = []

    def record(step, model, pred):
        p = pred.double().cpu().numpy().ravel()
        return {"rho_ag": rho_ag(p, x), "snr_db": snr(x, p)}

    for key, arch, om in variants(archs, n):
        spec = NetSpec(cfg["width"], cfg["depth"], 1e-4, first_omega0=om)
        model, lr, facts = make(arch, 1, 1, (n,), spec, opts.seed, device)
        rec = fit_recording(model, coords, values, steps, lr, record, opts.log, f"audio {name} {key}")
        extra = {"variant": key, "first_omega0": om} if arch in SINE else {}
        rows += [{"input": name, "arch": arch, **extra, **r, **facts, "samples": n} for r in rec.rows]
        curves.setdefault(key, []).append(rec.curve)
    return rows


def loudest_clips(inputs, n: int, multiple: int = 1) -> list[tuple[str, np.ndarray, int]]:
    """(name, loudest n-sample window cut to a multiple of `multiple`, rate) per clip (default: bundled ones)."""
    clips = []
    for ref in list(inputs or default_inputs()):
        samples, rate = audio(ref)
        x = loudest_window(samples, n)
        clips.append((input_name(ref), x[: x.size - x.size % multiple], rate))
    return clips


@register("audio")
def run(opts: BenchOptions) -> TaskOutput:
    """Table 2 on the loudest window of each clip: loss and rho_AG at each step, log-loss curves."""
    cfg = PAPER if opts.paper else CPU
    n_req = opts.size or cfg["size"]
    steps = list(opts.steps or (25, 100, 500, 1000))
    archs = list(opts.archs or DEFAULT_ARCHS)
    device = pick_device(opts.device)
    clips = loudest_clips(opts.inputs, n_req)
    rows: list[dict] = []
    curves: dict[str, list[list[float]]] = {}
    for name, x, rate in clips:
        rows += [{**r, "rate": rate} for r in fit_clip(x, archs, steps, cfg, opts, device, name, curves)]
    keys = list(dict.fromkeys(k for _, x, _ in clips for k, _, _ in variants(archs, x.size)))
    labels = {k: label(k) for k in keys}
    columns = [("loss", "e", s) for s in steps] + [("rho_ag", "r", s) for s in steps]
    md = ["", f"## Table 2: audio fitting, {len(clips)} clips, loudest {n_req}-sample window, mean ± std over clips", "",
          arch_table(rows, keys, columns, labels), "",
          "ω₁ is the first layer's frequency factor on [-1, 1]; the sine networks run at the paper's radians per sample "
          "and at SIREN's audio setting (3000).", "",
          "Figure: `audio_loss.png` (log loss against step, geometric mean over clips, band = min..max)."]
    fig = loss_curves_png(curves, labels, f"Audio fitting, {len(clips)} clips of {n_req} samples")
    settings = {"inputs": ", ".join(f"{n} ({r} Hz)" for n, _, r in clips),
                "window": f"loudest {n_req} samples of the mono mix, peak-normalised",
                "network": f"{cfg['width']} wide, {cfg['depth']} hidden layers after the first",
                "optimiser": "Adam, constant lr 1e-4, full batch", "steps": ",".join(map(str, steps))}
    return TaskOutput(rows, "\n".join(md), {"loss": fig}, settings)
