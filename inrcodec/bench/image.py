"""Task `image`: the paper's Table 1 (loss, PSNR, rho_AG after 25/100/500 steps) and Figure 4 (log-loss curves).

Every architecture fits the same grey photos from the same seed; `--arch spder-sqrt,spder-log,
spder-atan,spder-sqrt-relu,siren` gives the damping ablation (the paper's Figure 20).
"""

from __future__ import annotations

import numpy as np
import torch

from ..metrics import rho_ag
from ..nn.coords import grid_coords
from ..nn.device import pick_device
from . import register
from ._archs import LABELS, NetSpec, make
from ._core import BenchOptions, TaskOutput, fit_recording
from ._data import input_name, photo
from ._report import arch_table, loss_curves_png, mean_std, table

DEFAULT_INPUTS = ("camera", "astronaut", "chelsea", "coffee", "rocket")
DEFAULT_ARCHS = ("relu", "relu-pe", "relu-ffn", "siren", "hashgrid", "spder")
CPU = {"size": 64, "spec": NetSpec(width=128, depth=3, lr=1e-4, hash_table_log2=12)}
PAPER = {"size": 256, "spec": NetSpec(width=256, depth=5, lr=1e-4, hash_table_log2=14)}


def fit_photo(img: np.ndarray, archs, steps, spec: NetSpec, opts: BenchOptions, device, name: str, curves: dict) -> list[dict]:
    """Fit every architecture to one grey photo (H, W) in [-1, 1]; rows at each requested step."""
    h, w = img.shape
    coords = grid_coords((h, w), device=device)
    values = torch.from_numpy(img.reshape(-1, 1)).float().to(device)
    rows = []

    def record(step, model, pred):
        return {"rho_ag": rho_ag(pred.double().cpu().numpy().reshape(h, w), img)}

    for arch in archs:
        model, lr, facts = make(arch, 2, 1, (h, w), spec, opts.seed, device)
        rec = fit_recording(model, coords, values, steps, lr, record, opts.log, f"image {name} {arch}")
        rows += [{"input": name, "arch": arch, **r, **facts, "size": f"{w}x{h}"} for r in rec.rows]
        curves.setdefault(arch, []).append(rec.curve)
    return rows


def psnr_by_input(rows: list[dict], archs, step: int) -> str:
    """Per-photo PSNR at one step, one column per architecture."""
    names = list(dict.fromkeys(r["input"] for r in rows))
    body = []
    for name in names:
        cells = [name]
        for arch in archs:
            v = [r["psnr_db"] for r in rows if r["input"] == name and r["arch"] == arch and r["step"] == step]
            cells.append(mean_std(v, "db"))
        body.append(cells)
    return table(["input"] + [LABELS.get(a, a) for a in archs], body)


def spder_vs_siren(rows: list[dict], step: int) -> str:
    """One sentence: on how many inputs SPDER's PSNR beats SIREN's at `step`."""
    by = {(r["input"], r["arch"]): r["psnr_db"] for r in rows if r["step"] == step}
    names = sorted({n for n, a in by if a == "spder"} & {n for n, a in by if a == "siren"})
    if not names:
        return ""
    wins = [n for n in names if (by[(n, "spder")] or 0) > (by[(n, "siren")] or 0)]
    lost = ", ".join(sorted(set(names) - set(wins)))
    text = f"SPDER's PSNR exceeds SIREN's at step {step} on {len(wins)} of {len(names)} inputs"
    return text + (f" (not on {lost})" if lost else "") + ".\n"


@register("image")
def run(opts: BenchOptions) -> TaskOutput:
    """Table 1 on grey photos: every architecture, loss/PSNR/rho_AG at each step, log-loss curves."""
    cfg = PAPER if opts.paper else CPU
    size = opts.size or cfg["size"]
    steps = list(opts.steps or (25, 100, 500))
    archs = list(opts.archs or DEFAULT_ARCHS)
    spec = cfg["spec"]
    device = pick_device(opts.device)
    inputs = list(opts.inputs or DEFAULT_INPUTS)
    photos = [(input_name(ref), photo(ref, size)) for ref in inputs]  # load all first: bad input fails early
    rows: list[dict] = []
    curves: dict[str, list[list[float]]] = {}
    for name, img in photos:
        rows += fit_photo(img, archs, steps, spec, opts, device, name, curves)
    columns = [("loss", "e", s) for s in steps] + [("psnr_db", "db", s) for s in steps] + [("rho_ag", "r", steps[-1])]
    mid = 100 if 100 in steps else steps[len(steps) // 2]
    md = ["", f"## Table 1: image fitting, {len(photos)} grey photos at {size}x{size}, mean ± std over photos", "",
          arch_table(rows, archs, columns, LABELS), "", f"### PSNR (dB) at step {mid} per photo", "",
          psnr_by_input(rows, archs, mid), "", spder_vs_siren(rows, mid),
          "", "Figure: `image_loss.png` (log loss against step, geometric mean over photos, band = min..max)."]
    fig = loss_curves_png(curves, LABELS, f"Image fitting, {len(photos)} photos at {size}x{size}")
    settings = {"inputs": ", ".join(n for n, _ in photos), "size": f"{size}x{size} grey (centre square, area-averaged)",
                "network": f"{spec.width} wide, {spec.depth} hidden layers after the first (hash grid: "
                           f"{spec.hash_width}x{spec.hash_depth} MLP, 16 levels x 2^{spec.hash_table_log2} x 2)",
                "optimiser": f"Adam, constant lr {spec.lr:g} (hash grid 1e-2), full batch", "steps": ",".join(map(str, steps))}
    return TaskOutput(rows, "\n".join(md), {"loss": fig}, settings)
