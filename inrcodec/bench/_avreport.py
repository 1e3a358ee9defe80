"""Tables and the plot of `spdr bench av` (audio): BD-rates, equal-bytes matches, timing, SNR over kbit/s."""

from __future__ import annotations

import numpy as np

from ._avanchors import AUDIO_ANCHORS
from ._rdmetrics import hull
from ._report import figure_png, pyplot, table

LABELS = {"spdr": "spdr (latent grid)", "mp3": "MP3 (LAME)", "opus": "Opus", "aac": "AAC (FFmpeg)"}


def _num(v, f: str = ".2f") -> str:
    return "n/a" if v is None else format(v, f)


def _names(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(r["input"] for r in rows))


def bd_cells(rows: list[dict], name: str, anchors: tuple[str, ...]) -> list[str]:
    """One clip's BD-rates of spdr against each anchor, as table cells."""
    bd = {r["codec"]: r for r in rows if r["kind"] == "bd_rate" and r["input"] == name}
    return [f"{bd[c]['bd_rate_pct']:+.1f} %" if bd[c].get("bd_rate_pct") is not None else "n/a" for c in anchors]


def equal_bytes_body(rows: list[dict], anchors: tuple[str, ...], knob: str, show, metric: str, rate: str) -> list[list[str]]:
    """Rows of an equal-bytes table: per clip and spdr point (its `knob`, shown by `show`), spdr's rate and `metric`,
    then each anchor's best file no larger as "metric (kbit/s)" (`rate`: the kbit/s format)."""
    body = []
    for n in _names(rows):
        matches = [r for r in rows if r["kind"] == "equal_bytes" and r["input"] == n]
        for k in dict.fromkeys(r[f"spdr_{knob}"] for r in matches):
            match = {r["codec"]: r for r in matches if r[f"spdr_{knob}"] == k}
            first = match[anchors[0]]
            cells = [f"{m[metric]:.2f} ({m['kbits']:{rate}})" if m.get(metric) is not None else "none as small"
                     for m in (match[c] for c in anchors)]
            body.append([n, show(k), f"{first['spdr_kbits']:.1f}", f"{first[f'spdr_{metric}']:.2f}", *cells])
    return body


def timing_cells(points: list[dict], codecs: tuple[str, ...]) -> list[str]:
    """Mean encode / decode seconds of each codec's points of one clip."""
    cells = []
    for c in codecs:
        mine = [r for r in points if r["codec"] == c]
        cells.append(f"{np.mean([r['encode_s'] for r in mine]):.3g} / {np.mean([r['decode_s'] for r in mine]):.3g}" if mine else "n/a")
    return cells


def bd_table(rows: list[dict]) -> str:
    head = ["clip", "set"] + [f"vs {LABELS[c]}" for c in AUDIO_ANCHORS]
    body = [[n, next(r["set"] for r in rows if r["input"] == n), *bd_cells(rows, n, AUDIO_ANCHORS)] for n in _names(rows)]
    return table(head, body)


def equal_bytes_table(rows: list[dict]) -> str:
    head = ["clip", "spdr Q", "spdr kbit/s", "spdr SNR dB"] + [f"{LABELS[c]} SNR dB (kbit/s)" for c in AUDIO_ANCHORS]
    return table(head, equal_bytes_body(rows, AUDIO_ANCHORS, "quality", lambda q: f"{q:g}", "snr_db", ".1f"))


def timing_table(rows: list[dict]) -> str:
    head = ["clip", "seconds of audio"] + [f"{LABELS[c]} encode / decode s" for c in ("spdr", *AUDIO_ANCHORS)]
    body = []
    for n in _names(rows):
        pts = [r for r in rows if r["kind"] == "point" and r["input"] == n]
        body.append([n, f"{pts[0]['seconds']:.2f}", *timing_cells(pts, ("spdr", *AUDIO_ANCHORS))])
    return table(head, body)


def audio_report(rows: list[dict]) -> tuple[str, dict[str, bytes]]:
    """The Markdown body and the plot of the audio rows."""
    md = ["", "## BD-rate of spdr against MP3, Opus and AAC (SNR)", "",
          "Negative: spdr needs that much less rate for the same SNR. Positive: that much more.", "", bd_table(rows),
          "## At equal bytes", "", "Each anchor's best-SNR file that is no larger than spdr's file at that quality.", "",
          equal_bytes_table(rows), "## Encode and decode seconds", "",
          "Wall time of one call each, in this run on this machine, mean over each codec's points.", "", timing_table(rows)]
    return "\n".join(md), {"audio_curves": plot(rows)}


def _rd_panels(rows: list[dict], codecs: tuple[str, ...], styles: dict, labels: dict, metric: str, ylabel: str, title,
               log_x: bool, anchor_curve=sorted, width: float = 4.4, xlim: tuple[float, float] | None = None) -> bytes:
    """`metric` over kbit/s, one panel per clip (`title(name, first point)`), every codec; spdr's points joined in rate
    order, each anchor's by `anchor_curve` (sorted, or the audio scans' upper hull)."""
    names = _names(rows)
    plt = pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(width * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=True):
        pts = [r for r in rows if r["kind"] == "point" and r["input"] == name]
        for c in codecs:
            xy = [(r["kbits"], r[metric]) for r in pts if r["codec"] == c]
            curve = sorted(xy) if c == "spdr" else anchor_curve(xy)
            if curve:
                color, style = styles[c]
                ax.plot(*zip(*curve, strict=True), style, color=color, label=labels[c], ms=4, lw=1.4 if c == "spdr" else 1.0)
        ax.set_title(title(name, pts[0]))
        if log_x:
            ax.set_xscale("log")
        ax.set_xlabel("kbit/s (whole file, log)" if log_x else "kbit/s (whole file)")
        ax.set_ylabel(ylabel)
        if xlim is not None:
            ax.set_xlim(*xlim)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    return figure_png(fig)


def plot(rows: list[dict]) -> bytes:
    """SNR against kbit/s, one panel per clip, every codec (the anchors' upper hulls)."""
    styles = {"spdr": ("C3", "o-"), "mp3": ("C0", "s--"), "opus": ("C2", "^-."), "aac": ("C4", "d:")}
    return _rd_panels(rows, ("spdr", *AUDIO_ANCHORS), styles, LABELS, "snr_db", "SNR (dB)",
                      lambda name, p: f"{name} ({p['seconds']:.1f} s, {p['channels']} ch)", log_x=False, anchor_curve=hull,
                      xlim=(0, 210))


VIDEO_LABELS = {"spdr": "spdr (latent grid)", "x264": "x264 medium", "x265": "x265 medium", "svtav1": "SVT-AV1 p8"}


def video_report(rows: list[dict]) -> tuple[str, dict[str, bytes]]:
    """The Markdown body and the plots of the video rows: BD-rates, equal bytes, seconds, RD curves, per-frame PSNR."""
    from ._avvideo import VIDEO_ANCHORS

    names = _names(rows)
    bd_body = [[n, *bd_cells(rows, n, VIDEO_ANCHORS)] for n in names]
    eq_body = equal_bytes_body(rows, VIDEO_ANCHORS, "quality", lambda q: f"Q{q:g}", "psnr_db", ".0f")
    time_body = []
    for n in names:
        pts = [r for r in rows if r["kind"] == "point" and r["input"] == n]
        time_body.append([f"{n} ({pts[0]['size']}, {pts[0]['frames']} frames)", *timing_cells(pts, ("spdr", *VIDEO_ANCHORS))])
    md = ["", "## Video: BD-rate of spdr against x264, x265 and SVT-AV1 (RGB PSNR)", "",
          "Negative: spdr needs that much less rate for the same PSNR; n/a: the PSNR ranges do not overlap.", "",
          table(["clip", *[f"vs {VIDEO_LABELS[c]}" for c in VIDEO_ANCHORS]], bd_body),
          "## Video at equal bytes", "", "Each anchor's best-PSNR file no larger than spdr's: PSNR dB (kbit/s).", "",
          table(["clip", "spdr --quality", "spdr kbit/s", "spdr PSNR dB", *[VIDEO_LABELS[c] for c in VIDEO_ANCHORS]], eq_body),
          "## Video encode and decode seconds", "", "Mean over each codec's points, this run.", "",
          table(["clip", *[f"{VIDEO_LABELS[c]} encode / decode s" for c in ("spdr", *VIDEO_ANCHORS)]], time_body),
          "Per-frame PSNR: `av_video_frames.png` (spdr's largest file and each anchor's file at no more bytes)."]
    return "\n".join(md), {"video_curves": _video_curves(rows), "video_frames": _video_frames(rows, names)}


def _video_curves(rows: list[dict]) -> bytes:
    from ._avvideo import VIDEO_ANCHORS

    styles = {"spdr": ("C3", "o-"), "x264": ("C0", "s--"), "x265": ("C2", "^-."), "svtav1": ("C4", "d:")}
    return _rd_panels(rows, ("spdr", *VIDEO_ANCHORS), styles, VIDEO_LABELS, "psnr_db", "RGB PSNR (dB)",
                      lambda name, p: f"{name} ({p['size']}, {p['seconds']:.1f} s)", log_x=True, width=4.6)


def _video_frames(rows: list[dict], names: list[str]) -> bytes:
    from ._avvideo import VIDEO_ANCHORS

    plt = pyplot()
    fig, axes = plt.subplots(1, len(names), figsize=(4.6 * len(names), 3.3), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=True):
        spdr = max((r for r in rows if r["kind"] == "point" and r["input"] == name and r["codec"] == "spdr"), key=lambda r: r["bytes"])
        ax.plot(spdr["frame_psnr_db"], color="C3", label=f"spdr {spdr['kbits']:.0f} kbit/s")
        for i, c in enumerate(VIDEO_ANCHORS):
            m = next(r for r in rows if r["kind"] == "equal_bytes" and r["input"] == name and r["codec"] == c
                     and r["spdr_quality"] == spdr["quality"])
            if m.get("frame_psnr_db"):
                ax.plot(m["frame_psnr_db"], color=f"C{[0, 2, 4][i]}", lw=0.9, label=f"{VIDEO_LABELS[c]} {m['kbits']:.0f} kbit/s")
        ax.set_title(name)
        ax.set_xlabel("frame")
        ax.set_ylabel("RGB PSNR (dB)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    return figure_png(fig)
