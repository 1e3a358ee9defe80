"""Any-resolution decoding, measured on the product: `spdr encode` a lower-rate signal, decode it at a
higher rate, and score against the real higher-rate signal, beside the classic resampler.

* images: a photo area-averaged to 2S x 2S and 4S x 4S (truth) and S x S (what is encoded); decoded at
  --scale 2 and 4 with the network alone (`--resample network`) and with the default (classic: Lanczos
  of the decoded pixels); baseline: Lanczos of the S x S photo itself.
* video: a crop of a real clip; the even frames are encoded (at half the frame rate) and decoded at the
  full rate; the odd output frames are scored against the real odd frames; the even ones against the
  native decode (they must be identical). Baseline: frame blending of the real even frames.
* audio: a window of a real recording, downsampled 2x and 4x with scipy's resample_poly (the encoded
  signal) and decoded at the full rate; SNR against the real window. Baseline: resample_poly of the
  encoded signal back up.

Writes benchmarks/results/anyres/anyres.{json,md} and two figures. Tuned on nothing (default settings);
inputs named in the results.  python benchmarks/anyres.py [--steps N] [--quick]
"""

from __future__ import annotations

import argparse
import io
import json
import math
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _provenance import ROOT, markdown_provenance, provenance  # noqa: E402

import inrcodec  # noqa: E402
from inrcodec.bench._data import load_pil, square_crop  # noqa: E402
from inrcodec.media.audio import array_to_audio  # noqa: E402
from inrcodec.media.video import frames_to_signal, load_video  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "anyres"
MEDIA = ROOT.parent / "shared" / "media"


def psnr8(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR of 8-bit pixels on [-1, 1] (10 log10(4 / MSE)), the codec's convention."""
    d = (np.asarray(a, np.float64) - np.asarray(b, np.float64)) / 127.5
    m = float(np.mean(d * d))
    return math.inf if m == 0 else 10 * math.log10(4 / m)


def snr(ref: np.ndarray, est: np.ndarray) -> float:
    ref = np.asarray(ref, np.float64)
    return 10 * math.log10(float(np.sum(ref ** 2)) / max(float(np.sum((ref - est) ** 2)), 1e-30))


def box(img: Image.Image, side: int) -> np.ndarray:
    return np.asarray(square_crop(img).resize((side, side), Image.Resampling.BOX))


def lanczos(px: np.ndarray, h: int, w: int) -> np.ndarray:
    planes = [np.asarray(Image.fromarray(np.ascontiguousarray(px[..., c])).resize((w, h), Image.Resampling.LANCZOS))
              for c in range(px.shape[2])]
    return np.stack(planes, axis=-1)


ENCODE: dict = {"preset": "balanced"}  # set from the command line: preset, width, depth, steps


def images(names: list[str], side: int, steps: int | None, seed: int) -> tuple[list[dict], dict]:
    rows, shown = [], {}
    for name in names:
        photo = load_pil(name).convert("RGB")
        base = box(photo, side)
        start = time.perf_counter()
        res = inrcodec.encode(base, seed=seed, **ENCODE)
        enc_s = time.perf_counter() - start
        native = inrcodec.decode(res.data)
        for k in (2, 4):
            truth = box(photo, side * k)
            net = inrcodec.decode(res.data, scale=k, resample="network")
            classic = inrcodec.decode(res.data, scale=k)
            ref = lanczos(base, side * k, side * k)
            rows.append({"medium": "image", "input": name, "factor": k, "native_psnr_db": psnr8(native, base),
                         "network_db": psnr8(net, truth), "spdr_default_db": psnr8(classic, truth),
                         "baseline_db": psnr8(lanczos(native, side * k, side * k), truth), "original_baseline_db": psnr8(ref, truth),
                         "baseline": "Lanczos (Pillow)", "encode_s": round(enc_s, 1), "bytes": res.bytes})
            if k == 4 and name == names[0]:
                shown = {"truth": truth, "network": net, "classic": classic, "lanczos": ref}
    return rows, shown


def video(names: list[str], frames: int, crop: tuple[int, int], steps: int | None, seed: int) -> tuple[list[dict], dict]:
    rows, shown = [], {}
    for name in names:
        sig = load_video(MEDIA / "video" / name, frames=frames)
        clip = np.rint((sig.data + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
        h, w = crop
        y0, x0 = (clip.shape[1] - h) // 2, (clip.shape[2] - w) // 2
        clip = clip[:, y0:y0 + h, x0:x0 + w]
        fps = Fraction(*sig.meta["fps"])
        even, odd = clip[0::2], clip[1::2]
        start = time.perf_counter()
        res = inrcodec.encode(frames_to_signal(even, fps / 2), seed=seed, **ENCODE)
        enc_s = time.perf_counter() - start
        native = inrcodec.decode(res.data)
        out = {}
        for mode in ("network", "classic"):
            up = inrcodec.decode(res.data, fps=fps, resample=mode)
            out[mode] = up
        n_between = len(odd) if len(even) > len(odd) else len(odd) - 1
        blend = np.rint((even[:-1].astype(np.float64) + even[1:]) / 2)
        decoded_blend = np.rint((native[:-1].astype(np.float64) + native[1:]) / 2)
        rows.append({"medium": "video", "input": name, "factor": 2, "native_psnr_db": psnr8(native, even),
                     "originals_kept": bool(np.array_equal(out["classic"][0::2][:len(even)], native)
                                            and np.array_equal(out["network"][0::2][:len(even)], native)),
                     "network_db": psnr8(out["network"][1::2][:n_between], odd[:n_between]),
                     "spdr_default_db": psnr8(out["classic"][1::2][:n_between], odd[:n_between]),
                     "baseline_db": psnr8(decoded_blend[:n_between], odd[:n_between]),
                     "original_baseline_db": psnr8(blend[:n_between], odd[:n_between]), "baseline": "frame blending",
                     "encode_s": round(enc_s, 1), "bytes": res.bytes})
        if name == names[0]:
            mid = n_between // 2
            shown = {"before": even[mid], "truth": odd[mid], "network": out["network"][2 * mid + 1],
                     "classic": out["classic"][2 * mid + 1], "blend": blend[mid].astype(np.uint8), "after": even[mid + 1]}
    return rows, shown


def audio(names: list[str], seconds: float, steps: int | None, seed: int) -> list[dict]:
    import soundfile as sf
    from scipy.signal import resample_poly

    rows = []
    for name in names:
        x, rate = sf.read(MEDIA / "audio" / name, dtype="float32", always_2d=True)
        x = x[:, :1]
        n = int(seconds * rate)
        energy = np.convolve(x[:, 0] ** 2, np.ones(n // 8), mode="valid")
        s = int(np.argmax(energy[::max(1, n // 16)]) * max(1, n // 16))
        s = max(0, min(s, len(x) - n))
        truth = x[s:s + n]
        for k in (2, 4):
            truth_k = truth[: (n // k) * k]
            low = resample_poly(truth_k[:, 0], 1, k).astype(np.float32)[:, None]
            start = time.perf_counter()
            res = inrcodec.encode(array_to_audio(low, rate // k), seed=seed, **ENCODE)
            enc_s = time.perf_counter() - start
            native = inrcodec.decode(res.data)
            net, _ = inrcodec.decode_audio(res.data, rate=rate // k * k, resample="network")
            classic, _ = inrcodec.decode_audio(res.data, rate=rate // k * k)
            base = resample_poly(low[:, 0], k, 1)[:, None]
            decoded_base = resample_poly(native[:, 0], k, 1)[:, None]
            m = min(len(truth_k), len(net), len(classic), len(base))
            rows.append({"medium": "audio", "input": name, "factor": k, "native_snr_db": snr(low, native),
                         "network_db": snr(truth_k[:m], net[:m]), "spdr_default_db": snr(truth_k[:m], classic[:m]),
                         "baseline_db": snr(truth_k[:m], decoded_base[:m]), "original_baseline_db": snr(truth_k[:m], base[:m]),
                         "baseline": "scipy resample_poly (SNR)",
                         "encode_s": round(enc_s, 1), "bytes": res.bytes})
    return rows


def strip(images_: list[np.ndarray], labels: list[str], scale: int = 1) -> bytes:
    """A row of images with labels underneath, as PNG."""
    from PIL import ImageDraw

    tiles = [Image.fromarray(np.asarray(im, np.uint8)).resize((im.shape[1] * scale, im.shape[0] * scale), Image.Resampling.NEAREST)
             for im in images_]
    w, h = sum(t.width for t in tiles) + 4 * (len(tiles) - 1), max(t.height for t in tiles) + 14
    canvas = Image.new("RGB", (w, h), "white")
    x = 0
    draw = ImageDraw.Draw(canvas)
    for t, label in zip(tiles, labels, strict=True):
        canvas.paste(t, (x, 0))
        draw.text((x + 2, t.height + 1), label, fill="black")
        x += t.width + 4
    buf = io.BytesIO()
    canvas.save(buf, format="PNG")
    return buf.getvalue()


def table(rows: list[dict]) -> list[str]:
    out = ["| medium | input | up | native | network alone | spdr default | baseline on decoded | net − base | default − base "
           "| baseline on original |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        native = r.get("native_psnr_db", r.get("native_snr_db"))
        out.append(f"| {r['medium']} | {r['input']} | {r['factor']}x | {native:.2f} | {r['network_db']:.2f} | {r['spdr_default_db']:.2f} | "
                   f"{r['baseline_db']:.2f} ({r['baseline']}) | {r['network_db'] - r['baseline_db']:+.2f} | "
                   f"{r['spdr_default_db'] - r['baseline_db']:+.2f} | {r['original_baseline_db']:.2f} |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="fitting steps (default: the fast preset's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="one input per medium, smaller sizes (a smoke run)")
    parser.add_argument("--preset", default="balanced", help="the encoder preset (default: spdr encode's own default)")
    parser.add_argument("--width", type=int, default=None, help="hidden width (default: the preset's, sized by the samples)")
    parser.add_argument("--depth", type=int, default=None)
    args = parser.parse_args()
    ENCODE.update(preset=args.preset, steps=args.steps, width=args.width, depth=args.depth)
    photos = ["camera"] if args.quick else ["camera", "astronaut", "coffee"]  # square crops of at least 384 px
    clips = ["carphone_pristine.mp4"] if args.quick else ["carphone_pristine.mp4", "bikes.mp4"]
    sounds = ["speech_voice.wav"] if args.quick else ["speech_voice.wav", "guit_em9.flac"]
    rows, shown_image = images(photos, 48 if args.quick else 96, args.steps, args.seed)
    vrows, shown_video = video(clips, 9 if args.quick else 17, (48, 64) if args.quick else (72, 96), args.steps, args.seed)
    arows = audio(sounds, 0.25 if args.quick else 0.5, args.steps, args.seed)
    rows += vrows + arows
    for line in table(rows):
        print(line)
    OUT.mkdir(parents=True, exist_ok=True)
    prov = provenance(seed=args.seed)
    (OUT / "anyres.json").write_text(json.dumps({"provenance": prov, "rows": rows}, indent=1) + "\n")
    figures = {}
    if shown_image:
        figures["anyres_image_x4.png"] = strip([shown_image[k] for k in ("truth", "lanczos", "classic", "network")],
                                               ["truth", "Lanczos", "spdr default", "network alone"])
    if shown_video:
        figures["anyres_video_between.png"] = strip([shown_video[k] for k in ("before", "truth", "blend", "classic", "network", "after")],
                                                    ["frame k", "truth k+1/2", "blending", "spdr default", "network alone", "frame k+1"],
                                                    scale=2)
    for name, data in figures.items():
        (OUT / name).write_bytes(data)
    md = ["# Any-resolution decoding: network alone, spdr's default rendering, and the classic resampler", "",
          f"Each signal is encoded at a lower rate with `spdr encode` ({ENCODE}) and decoded at the higher rate; "
          "scores are against the real higher-rate signal "
          "(images and video: PSNR in dB on [-1, 1]; audio: SNR in dB). *native*: the encoded signal's own decode. "
          "*network alone*: `--resample network`. *spdr default*: `--resample auto` (classic off the native grid). "
          "*baseline on decoded*: the classic resampler of the medium applied to the same decoded samples (the targets' "
          "reference); *baseline on original*: the same resampler applied to the encoded signal itself, before any codec loss. "
          "Nothing was tuned on these inputs.", "", *table(rows), "",
          "Video: the output frames at the original instants equal the native decode exactly in every run "
          f"({all(r.get('originals_kept', True) for r in rows)}).", "",
          *[f"![{n}]({n})" for n in figures], "", "Provenance:", "", markdown_provenance(prov), ""]
    (OUT / "anyres.md").write_text("\n".join(md))


if __name__ == "__main__":
    main()
