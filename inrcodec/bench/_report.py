"""Writing bench results: JSON rows, a Markdown table, PNGs; each records machine, command and seed.

Rows are flat dicts, so results of several runs concatenate; the provenance fields are repeated in
every row for that reason. Files are written atomically and never replace others without force.
"""

from __future__ import annotations

import io
import json
import math
import os
import platform
from pathlib import Path

import numpy as np

from ..errors import OutputExistsError
from ..files import write_atomic
from ._core import BenchOptions, TaskOutput

PSNR_NOTE = ("PSNR = 10·log10(4 / MSE) on samples in [-1, 1]. The paper's code computes 20·log10(255 / MSE) "
             "(no square root, peak 255 on data in [-1, 1]), which inflates its PSNR figures; compare losses, not PSNR.")


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux) or platform."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def commit(root: Path = Path(__file__).resolve().parents[2]) -> str:
    """HEAD's hash of the checkout the code runs from, "+dirty" when tracked files differ ("unknown" outside git)."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True).stdout
        return head + ("+dirty" if dirty.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_info(device: str) -> dict:
    """CPU model and usable cores, GPU model when the run used one, torch and Python versions."""
    import torch

    gpu = torch.cuda.get_device_name(0) if device.startswith("cuda") and torch.cuda.is_available() else None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu": f"{cpu_model()} ({cores} cores, {torch.get_num_threads()} torch threads)", "gpu": gpu,
            "torch": torch.__version__, "python": platform.python_version(), "device": device}


def output_names(task: str) -> tuple[str, str]:
    """The JSON and Markdown file names of a task."""
    return f"{task}.json", f"{task}.md"


def check_outputs(out_dir: str, task: str, force: bool) -> None:
    """Refuse (before any work) when this task's results already exist in `out_dir`, unless force."""
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise OutputExistsError(f"--out {folder} exists and is not a folder")
    if force or not folder.is_dir():
        return
    clash = sorted(p.name for p in folder.iterdir() if p.name in output_names(task) or p.name.startswith(f"{task}_"))
    if clash:
        raise OutputExistsError(f"{folder / clash[0]} exists; pass --force to replace this task's results")


def _clean(value):
    """JSON-safe: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_outputs(out_dir: str, opts: BenchOptions, output: TaskOutput, force: bool, command: str | None) -> list[dict]:
    """Add provenance to every row and write TASK.json, TASK.md and the task's PNGs; returns the rows."""
    from ..nn.device import pick_device

    device = str(pick_device(opts.device))
    machine = machine_info(device)
    command = command or canonical_command(opts, out_dir)
    prov = {"seed": opts.seed, "paper": opts.paper, "command": command, "cpu": machine["cpu"], "gpu": machine["gpu"],
            "torch": machine["torch"], "device": device, "commit": commit()}
    rows = [{k: _clean(v) for k, v in {"task": opts.task, **row, **prov}.items()} for row in output.rows]
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    json_name, md_name = output_names(opts.task)
    header = [f"# spdr bench {opts.task}", "", f"- command: `{command}`", f"- seed: {opts.seed}",
              f"- machine: {machine['cpu']}; GPU: {machine['gpu'] or 'none'}; device {device}; torch {machine['torch']}; "
              f"Python {machine['python']}", f"- commit: {prov['commit']}"]
    header += [f"- {k}: {v}" for k, v in output.settings.items()]
    header += [f"- {note}" for note in ((PSNR_NOTE,) if output.notes is None else output.notes)] + [""]
    meta = {"Software": f"spdr bench {opts.task}", "Description": f"command: {command}; seed {opts.seed}; machine: "
            f"{machine['cpu']}; GPU: {machine['gpu'] or 'none'}; torch {machine['torch']}; commit {prov['commit']}"}
    write_atomic(folder / json_name, (json.dumps(rows, indent=1, allow_nan=False) + "\n").encode(), force=True)
    write_atomic(folder / md_name, ("\n".join(header) + output.markdown.rstrip() + "\n").encode(), force=True)
    for name, png in output.figures.items():
        write_atomic(folder / f"{opts.task}_{name}.png", with_png_text(png, meta), force=True)
    return rows


def canonical_command(opts: BenchOptions, out_dir: str) -> str:
    """A command line that repeats this run (used when the caller did not pass the typed one)."""
    import shlex

    parts = ["spdr", "bench", opts.task, *opts.inputs]
    if opts.size is not None:
        parts += ["--size", str(opts.size)]
    if opts.steps is not None:
        parts += ["--steps", ",".join(map(str, opts.steps))]
    if opts.archs is not None:
        parts += ["--arch", ",".join(opts.archs)]
    if opts.preset is not None:
        parts += ["--preset", opts.preset]
    if opts.qualities is not None:
        parts += ["--quality", ",".join(f"{q:g}" for q in opts.qualities)]
    parts += ["--seed", str(opts.seed), "--out", out_dir] + (["--paper"] if opts.paper else [])
    return shlex.join(parts)


def with_png_text(png: bytes, text: dict[str, str]) -> bytes:
    """The PNG re-saved with tEXt chunks (provenance)."""
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for k, v in text.items():
        info.add_text(k, v)
    with Image.open(io.BytesIO(png)) as img:
        img.load()
        buf = io.BytesIO()
        img.save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def figure_png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (Agg), then closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def array_png(pixels: np.ndarray) -> bytes:
    """[-1, 1] (H, W) or (H, W, 3) samples as an 8-bit PNG."""
    from PIL import Image

    a = np.rint((np.clip(pixels, -1, 1) + 1) * 127.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format="PNG")
    return buf.getvalue()


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fmt(x: float | None, kind: str = "e") -> str:
    """3 significant digits: '7.9e-03' style for losses, '31.42' for dB, '0.9871' for correlations."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    return {"e": f"{x:.2e}", "db": f"{x:.2f}", "r": f"{x:.6f}"}[kind]


def mean_std(values: list[float | None], kind: str = "e") -> str:
    """'mean ± std' over inputs (just the value for one input; n/a when any is missing)."""
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals or len(vals) != len(values):
        return "n/a"
    if len(vals) == 1:
        return fmt(vals[0], kind)
    return f"{fmt(float(np.mean(vals)), kind)} ± {fmt(float(np.std(vals)), kind)}"


def table(head: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


COLUMN_NAMES = {"loss": "loss", "psnr_db": "PSNR dB", "rho_ag": "ρ_AG", "mse": "MSE", "snr_db": "SNR dB"}


def variant(row: dict) -> str:
    """The table row a result belongs to: its architecture, or a variant of it (e.g. 'siren@3000')."""
    return row.get("variant") or row["arch"]


def arch_table(rows: list[dict], archs: list[str], columns: list[tuple[str, str, int]], labels: dict[str, str]) -> str:
    """Rows per architecture (or variant), columns (metric, kind, step) as mean ± std over inputs, plus parameters."""
    head = ["Architecture", "params"] + [f"{COLUMN_NAMES.get(metric, metric)} @{step}" for metric, _, step in columns]
    body = []
    for arch in archs:
        mine = [r for r in rows if variant(r) == arch]
        if not mine:
            continue
        params = sorted({r["params"] for r in mine if "params" in r})
        cells = [labels.get(arch, arch), "/".join(f"{p:,}" for p in params) or "-"]
        for metric, kind, step in columns:
            cells.append(mean_std([r.get(metric) for r in mine if r["step"] == step], kind))
        body.append(cells)
    return table(head, body)


def loss_curves_png(curves: dict[str, list[list[float]]], labels: dict[str, str], title: str, ylabel: str = "loss (MSE)") -> bytes:
    """Log-loss against step, one line per architecture (geometric mean over inputs, band min..max)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for arch, runs in curves.items():
        if not runs:
            continue
        n = min(len(r) for r in runs)
        a = np.array([r[:n] for r in runs], dtype=np.float64)
        a = np.where(np.isfinite(a) & (a > 0), a, np.nan)
        steps = np.arange(n)
        ax.plot(steps, np.exp(np.nanmean(np.log(a), axis=0)), label=labels.get(arch, arch), lw=1.4)
        if len(runs) > 1:
            ax.fill_between(steps, np.nanmin(a, axis=0), np.nanmax(a, axis=0), alpha=0.15)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return figure_png(fig)
