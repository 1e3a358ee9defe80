"""The `rd` task's Markdown tables and its plot, built from the rows alone (so a results file can be redrawn).

Evaluation photos come first and their mean is the headline; tuning photos (seen while tuning the
codec) are listed and averaged apart, so a reader can tell a fitted number from a measured one.
"""

from __future__ import annotations

import numpy as np

from ._rdanchors import ANCHORS
from ._rdmetrics import BD_WINDOW, hull
from ._report import figure_png, pyplot, table

CODECS = ("spdr",) + ANCHORS
LABELS = {"spdr": "spdr --quality", "jpeg": "JPEG", "webp": "WebP", "avif": "AVIF"}
SETS = ("evaluation", "tuning", "other")
METRICS = {"psnr_db": "PSNR", "msssim_db": "MS-SSIM"}


def _pct(v) -> str:
    return "n/a" if v is None else f"{v:+.1f} %"


def _num(v, f: str = ".2f") -> str:
    return "n/a" if v is None else format(v, f)


def _photos(n: int) -> str:
    return f"{n} photo" + ("" if n == 1 else "s")


def _names(rows: list[dict]) -> list[str]:
    """Photo names, evaluation set first, each set in run order."""
    seen = list(dict.fromkeys((r["set"], r["input"]) for r in rows))
    return [n for s in SETS for (t, n) in seen if t == s]


def bd_table(rows: list[dict]) -> str:
    """BD-rate of spdr against each anchor in PSNR and MS-SSIM, per photo and as the mean of each set."""
    bd = {(r["input"], r["codec"], r["metric"]): r["bd_rate_pct"] for r in rows if r["kind"] == "bd_rate"}
    sets = {r["input"]: r["set"] for r in rows}
    cols = [(c, m) for c in ANCHORS for m in METRICS]
    head = ["photo", "set"] + [f"vs {LABELS[c]} ({METRICS[m]})" for c, m in cols]
    body = [[n, sets[n]] + [_pct(bd.get((n, c, m))) for c, m in cols] for n in _names(rows)]
    for s in SETS:
        mine = [n for n in _names(rows) if sets[n] == s]
        if mine:
            means = []
            for c, m in cols:
                vals = [bd.get((n, c, m)) for n in mine]
                ok = [v for v in vals if v is not None]
                means.append(f"**{_pct(float(np.mean(ok)))}**" + ("" if len(ok) == len(vals) else f" ({len(ok)} of {len(vals)})")
                             if ok else "n/a")
            body.append([f"**mean, {s}**", _photos(len(mine))] + means)
    return table(head, body)


def check_table(rows: list[dict]) -> str:
    """The issue's acceptance check per photo: default-quality spdr file against JPEG q85."""
    head = ["photo", "set", "JPEG q85 bytes", "JPEG PSNR dB", "JPEG MS-SSIM", "spdr bytes", "spdr PSNR dB", "spdr MS-SSIM",
            "spdr / JPEG bytes", "smaller at >= PSNR"]
    body = []
    for r in sorted((r for r in rows if r["kind"] == "jpeg_check"), key=lambda r: _names(rows).index(r["input"])):
        has = r.get("spdr_bytes") is not None
        body.append([r["input"], r["set"], str(r["jpeg_bytes"]), _num(r["jpeg_psnr_db"]), _num(r["jpeg_msssim"], ".4f"),
                     str(r.get("spdr_bytes", "n/a")), _num(r.get("spdr_psnr_db")), _num(r.get("spdr_msssim"), ".4f"),
                     f"{r['spdr_bytes'] / r['jpeg_bytes']:.2f}" if has else "n/a",
                     "n/a" if r["passes"] is None else "yes" if r["passes"] else "no"])
    for s in SETS:
        mine = [r for r in rows if r["kind"] == "jpeg_check" and r["set"] == s and r["passes"] is not None]
        if mine:
            body.append([f"**{s}**", _photos(len(mine))] + [""] * 7 + [f"**{sum(r['passes'] for r in mine)} of {len(mine)} pass**"])
    return table(head, body)


def equal_bytes_table(rows: list[dict]) -> str:
    """At each spdr point: spdr's bpp, PSNR, MS-SSIM and each anchor's best file no larger."""
    head = ["photo", "spdr q", "spdr bpp / PSNR / MS-SSIM"] + [f"{LABELS[c]} q: bpp / PSNR / MS-SSIM" for c in ANCHORS]
    eq = {(r["input"], r["spdr_quality"], r["codec"]): r for r in rows if r["kind"] == "equal_bytes"}
    body = []
    for n in _names(rows):
        for p in (r for r in rows if r["kind"] == "point" and r["codec"] == "spdr" and r["input"] == n):
            cells = [n, f"{p['quality']:g}", f"{p['bpp']:.3f} / {p['psnr_db']:.2f} / {_num(p['msssim'], '.4f')}"]
            for c in ANCHORS:
                m = eq.get((n, p["quality"], c), {})
                cells.append(f"q{m['quality']}: {m['bpp']:.3f} / {m['psnr_db']:.2f} / {_num(m['msssim'], '.4f')}"
                             if m.get("bytes") is not None else m.get("note") or "n/a")
            body.append(cells)
    return table(head, body)


def timing_table(rows: list[dict]) -> str:
    """Mean encode and decode seconds per codec and photo: spdr over its points, anchors over the files
    matched to spdr's (the same rates)."""
    head = ["photo"] + [f"{LABELS[c]} encode / decode s" for c in CODECS]
    body = []
    for n in _names(rows):
        cells = [n]
        for c in CODECS:
            kind = "point" if c == "spdr" else "equal_bytes"
            pts = [r for r in rows if r["kind"] == kind and r["input"] == n and r["codec"] == c and r.get("encode_s") is not None]
            cells.append(f"{np.mean([r['encode_s'] for r in pts]):.3g} / {np.mean([r['decode_s'] for r in pts]):.3g}" if pts else "n/a")
        body.append(cells)
    return table(head, body)


def report(rows: list[dict]) -> tuple[str, dict[str, bytes]]:
    """The Markdown body and the plot of the `rd` rows."""
    lo, hi = BD_WINDOW
    md = ["", "## BD-rate of spdr against JPEG, WebP and AVIF", "",
          f"Negative: spdr needs that much less rate for the same quality. Bjøntegaard delta rate over the qualities both "
          f"curves reach within {lo:g}-{hi:g} bpp (PCHIP of log-rate over PSNR dB, or over MS-SSIM dB = -10·log10(1-MS-SSIM)); "
          "anchors from their full quality scans, spdr from its --quality points (rd.json holds each one's quality interval, "
          "q_lo..q_hi). Means are over photos of one set; "
          "the evaluation set was not looked at while tuning the codec.", "", bd_table(rows),
          "## Default quality against JPEG q85 (acceptance check)", "",
          "Passes when spdr's default-quality file is smaller than JPEG's at quality 85 and its PSNR is equal or better.",
          "", check_table(rows), "## At equal bytes", "",
          "Each anchor's best-PSNR file that is no larger than spdr's file at that quality (q: the anchor's quality setting).",
          "", equal_bytes_table(rows), "## Encode and decode seconds", "",
          "Wall time of one call each, in this run on this machine (spdr: mean over its points; anchors: over the files "
          "matched at equal bytes).", "", timing_table(rows)]
    return "\n".join(md), {"curves": plot(rows)}


def plot(rows: list[dict]) -> bytes:
    """RGB PSNR against bpp, one panel per evaluation photo (every photo when none is), all codecs."""
    names = [n for n in _names(rows) if any(r["input"] == n and r["set"] == "evaluation" for r in rows)] or _names(rows)
    plt = pyplot()
    cols = min(3, len(names))
    nrows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.4 * nrows), squeeze=False)
    styles = {"spdr": ("C3", "o-"), "jpeg": ("C0", "--"), "webp": ("C2", "-."), "avif": ("C4", ":")}
    for ax, name in zip(axes.flat, names, strict=False):
        pts = [r for r in rows if r["kind"] == "point" and r["input"] == name]
        right = max([2.5] + [1.05 * r["bpp"] for r in pts if r["codec"] == "spdr"])  # 0-2.5 bpp, or out to spdr's points
        for c in CODECS:
            xy = [(r["bpp"], r["psnr_db"]) for r in pts if r["codec"] == c]
            curve = sorted(xy) if c == "spdr" else [p for p in hull(xy) if p[0] <= right]  # spdr's points as measured
            if curve:
                color, style = styles[c]
                ax.plot(*zip(*curve, strict=True), style, color=color, label=LABELS[c], ms=4, lw=1.4 if c == "spdr" else 1.0)
        ax.set_title(f"{name} ({pts[0]['width']}x{pts[0]['height']})")
        ax.set_xlabel("bits per pixel (whole file)")
        ax.set_ylabel("RGB PSNR (dB)")
        ax.set_xlim(0, right)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return figure_png(fig)
