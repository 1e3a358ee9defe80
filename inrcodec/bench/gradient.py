"""Task `gradient`: the paper's Figure 5. |grad f| of each network after 10 and 25 steps on scikit-image's `text`.

The network's gradient comes from autograd at the pixel centres; the reference is the photo's own
finite-difference gradient in the same coordinate units (numpy.gradient with the grid spacing 2/n).
`grad_corr` is the Pearson correlation of the two magnitude images: how much the network's
derivative already looks like the picture's edges.
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
from ._data import input_name, photo_longest
from ._report import figure_png, mean_std, pyplot, table

DEFAULT_INPUTS = ("text",)
DEFAULT_ARCHS = ("spder", "siren", "relu-pe")
CPU = {"size": None, "spec": NetSpec(width=128, depth=3, lr=1e-4)}
PAPER = {"size": None, "spec": NetSpec(width=256, depth=5, lr=1e-4)}


def grad_magnitude(model, coords: torch.Tensor, shape: tuple[int, int], chunk: int = 1 << 15) -> np.ndarray:
    """|d f / d (y, x)| at every pixel centre, by autograd, in chunks."""
    out = []
    with torch.enable_grad():
        for s in range(0, coords.shape[0], chunk):
            x = coords[s:s + chunk].detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(model(x).sum(), x)
            out.append(g.norm(dim=-1).detach().double().cpu().numpy())
    return np.concatenate(out).reshape(shape)


def true_gradient(img: np.ndarray) -> np.ndarray:
    """|grad| of the photo by central differences, in [-1, 1] coordinate units."""
    h, w = img.shape
    gy, gx = np.gradient(img, 2.0 / h, 2.0 / w)
    return np.hypot(gy, gx)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images (0 when one is constant)."""
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    d = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / d if d > 0 else 0.0


def fit_gradients(name: str, img: np.ndarray, archs, steps, spec: NetSpec, opts: BenchOptions, device) -> tuple[list[dict], bytes]:
    """Fit each network to one photo; its gradient image and scores at each step; the figure."""
    h, w = img.shape
    coords = grid_coords((h, w), device=device)
    values = torch.from_numpy(img.reshape(-1, 1)).float().to(device)
    truth = true_gradient(img)
    grads: dict[tuple[str, int], np.ndarray] = {}
    rows: list[dict] = []
    for arch in archs:
        def record(step, model, pred, arch=arch):
            g = grad_magnitude(model, coords, (h, w))
            grads[(arch, step)] = g
            return {"rho_ag": rho_ag(pred.double().cpu().numpy().reshape(h, w), img), "grad_corr": corr(g, truth)}

        model, lr, facts = make(arch, 2, 1, (h, w), spec, opts.seed, device)
        rec = fit_recording(model, coords, values, steps, lr, record, opts.log, f"gradient {name} {arch}")
        rows += [{"input": name, "arch": arch, **r, **facts, "size": f"{w}x{h}"} for r in rec.rows]
    return rows, gradient_png(img, truth, grads, archs, steps)


@register("gradient")
def run(opts: BenchOptions) -> TaskOutput:
    """Fit each network for a few steps and show its gradient image beside the photo's."""
    cfg = PAPER if opts.paper else CPU
    steps = list(opts.steps or (10, 25))
    archs = list(opts.archs or DEFAULT_ARCHS)
    spec = cfg["spec"]
    device = pick_device(opts.device)
    photos = [(input_name(ref), photo_longest(ref, opts.size or cfg["size"])) for ref in list(opts.inputs or DEFAULT_INPUTS)]
    rows: list[dict] = []
    figures: dict[str, bytes] = {}
    for name, img in photos:
        new_rows, figures[name] = fit_gradients(name, img, archs, steps, spec, opts, device)
        rows += new_rows
    head = ["Architecture"] + [f"{m} @{s}" for s in steps for m in ("loss", "PSNR dB", "grad corr")]
    body = []
    for arch in archs:
        cells = [LABELS.get(arch, arch)]
        for s in steps:
            mine = [r for r in rows if r["arch"] == arch and r["step"] == s]
            cells += [mean_std([r["loss"] for r in mine], "e"), mean_std([r["psnr_db"] for r in mine], "db"),
                      mean_std([r["grad_corr"] for r in mine], "r")]
        body.append(cells)
    sizes = ", ".join(f"{n} {i.shape[1]}x{i.shape[0]}" for n, i in photos)
    md = ["", f"## Figure 5: gradients after {' and '.join(map(str, steps))} steps ({sizes})", "", table(head, body), "",
          "grad corr: Pearson correlation between |∇f| of the network (autograd) and |∇| of the photo (central differences). "
          "Figures: `gradient_<photo>.png` (rows: architectures; columns: steps; last row: the photo and its gradient)."]
    settings = {"inputs": sizes + " grey (whole photo, area-averaged when --size is given)",
                "network": f"{spec.width} wide, {spec.depth} hidden layers after the first",
                "optimiser": f"Adam, constant lr {spec.lr:g}, full batch", "steps": ",".join(map(str, steps))}
    return TaskOutput(rows, "\n".join(md), figures, settings)


def gradient_png(img: np.ndarray, truth: np.ndarray, grads: dict, archs, steps) -> bytes:
    """Grid of gradient images (each scaled to its own 99.5th percentile), photo and true gradient last."""
    plt = pyplot()
    cols = max(2, len(steps))
    h, w = img.shape
    fig, axes = plt.subplots(len(archs) + 1, cols, figsize=(cols * 3.2 * w / max(h, w) + 0.5, (len(archs) + 1) * 3.2 * h / max(h, w) + 0.5),
                             squeeze=False)

    def show(ax, a, title, grey=False):
        top = float(np.percentile(a, 99.5)) or 1.0
        ax.imshow(a if grey else np.clip(a / top, 0, 1), cmap="gray", vmin=-1 if grey else 0, vmax=1, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.axis("off")

    for i, arch in enumerate(archs):
        for j in range(cols):
            if j < len(steps) and (arch, steps[j]) in grads:
                show(axes[i][j], grads[(arch, steps[j])], f"{LABELS.get(arch, arch)}, step {steps[j]}")
            else:
                axes[i][j].axis("off")
    show(axes[-1][0], img, "photo", grey=True)
    show(axes[-1][1], truth, "photo gradient")
    for j in range(2, cols):
        axes[-1][j].axis("off")
    return figure_png(fig)
