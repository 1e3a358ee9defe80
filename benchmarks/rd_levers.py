"""What each quantization lever and each integer coder is worth, on networks fitted to real photos.

Writes benchmarks/results/rd/quantization.md (+ .json): a plain SPDER is fitted in float, then
quantized several ways (one scale per tensor, one per row, 16-bit first layer and biases,
quantization-aware fine-tuning, 6/8/10 bits); each row's PSNR is measured from the dequantized
network's 8-bit pixels. And benchmarks/results/rd/entropy.md (+ .json): the same integers, and the
latents of latent-grid SPDERs fitted for 0.5 and 1 bpp, coded with zstd -19, zstd on byte planes
and the adaptive range coder of format 1.1 (inrcodec.format.entropy). And grid_levers.md (+ .json): spdr --bpp 1
with each lever of the rate-control encoder (bicubic latents, quantization-aware synthesis, polish
after trimming) changed in turn.

    python benchmarks/rd_levers.py [--size 128] [--steps 600] [--qat-steps 200] [--grid-steps 3000]
                                   [--grid-images chelsea,motorcycle] [--grid-bpp 0.5,2]
                                   [--parts quant,entropy,grid,gridquant]
(grid_quantization.md: the synthesis network of spdr --bpp at 8 bits, float against each storage, QAT on and off.)
"""

from __future__ import annotations

import argparse
import copy
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import zstandard

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _provenance import provenance  # noqa: E402

from inrcodec.bench.rd import load_rgb  # noqa: E402
from inrcodec.format import container, entropy, geometry  # noqa: E402
from inrcodec.nn.coords import grid_coords  # noqa: E402
from inrcodec.nn.quantize import bit_plan, qmax, quantize_state  # noqa: E402
from inrcodec.nn.registry import build_model  # noqa: E402
from inrcodec.train.fit import FitOptions, fit  # noqa: E402
from inrcodec.train.qat import attach_fake_quant, detach_fake_quant  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "rd"
IMAGES = (("camera", "L"), ("astronaut", "RGB"))


def psnr_pixels(model, coords, target_u8) -> float:
    with torch.no_grad():
        out = model(coords).numpy().reshape(target_u8.shape)
    pix = np.clip(np.rint((out + 1) * 127.5), 0, 255)
    return float(10 * np.log10(255**2 / np.mean((pix - target_u8) ** 2)))


def per_tensor(model, bits: int):
    """Every tensor (weights and biases) at `bits` with one scale: the naive baseline."""
    m = copy.deepcopy(model)
    with torch.no_grad():
        for p in m.parameters():
            s = p.abs().max() / qmax(bits)
            p.copy_(torch.clamp(torch.round(p / s), -qmax(bits), qmax(bits)) * s)
    return m


def with_plan(model, plan):
    from inrcodec.nn.quantize import dequantize_state

    tensors, quant = quantize_state(model, plan)
    m = copy.deepcopy(model)
    m.load_state_dict(dequantize_state(tensors, quant))
    return m, tensors, quant


def _with_bits(mtq, bits):
    m, tensors, quant = mtq
    return m, bits, tensors, quant


def qat(model, plan, coords, values, steps):
    m = copy.deepcopy(model)
    attach_fake_quant(m, plan)
    fit(m, coords, values, FitOptions(steps=steps, lr=1e-4, seed=1))
    detach_fake_quant(m)
    return m


def coders(ints: list[np.ndarray], grids: list[np.ndarray] | None = None) -> dict:
    """Bytes of the same integers under each coder (no headers, no scales)."""
    z = zstandard.ZstdCompressor(level=19)
    flat = [a.ravel() for a in ints]
    raw = b"".join(a.astype(np.int8 if np.abs(a).max() <= 127 else np.int16).tobytes() for a in flat)
    planes = b""
    for a in flat:
        if np.abs(a).max() <= 127:
            planes += a.astype(np.int8).tobytes()
        else:
            u = a.astype(np.int16).view(np.uint16)
            planes += (u >> 8).astype(np.uint8).tobytes() + (u & 0xFF).astype(np.uint8).tobytes()
    enc = entropy.RangeEncoder()
    if grids is not None:
        entropy.encode_grids(enc, grids)
    else:
        for a in flat:
            entropy.encode_values(enc, a.tolist())
    out = {"values": int(sum(a.size for a in flat)), "raw": len(raw), "zstd": len(z.compress(raw)),
           "zstd_planes": len(z.compress(planes)), "rc": len(enc.finish().rstrip(b"\x00"))}
    if grids is not None:  # the same coder without neighbour contexts: each level one flat stream
        flat_enc = entropy.RangeEncoder()
        for lv, g in enumerate(grids):
            entropy.encode_values(flat_enc, g.ravel().tolist(), stream=lv)
        out["rc_no_context"] = len(flat_enc.finish().rstrip(b"\x00"))
    return out


def plain_levers(name, mode, size, steps, qat_steps) -> tuple[list[dict], list[dict]]:
    pixels = load_rgb(name, size)
    if mode == "L":
        pixels = np.asarray(__import__("PIL.Image").Image.fromarray(pixels).convert("L"))[..., None]
    h, w, c = pixels.shape
    coords = grid_coords((h, w))
    values = torch.from_numpy(pixels.reshape(-1, c).astype(np.float32) / 127.5 - 1)
    torch.manual_seed(0)
    arch = {"activation": "spder", "damping": "sqrt", "in_features": 2, "out_features": c, "width": 48, "depth": 3,
            "omega0": 30.0, "first_omega0": 30.0}
    model = build_model(arch)
    start = time.perf_counter()
    fit(model, coords, values, FitOptions(steps=steps, lr=1e-3))
    fit_s = time.perf_counter() - start
    ref = psnr_pixels(model, coords, pixels)
    rows = [{"image": f"{name} {mode}", "lever": "float32 network", "bits": 32, "psnr_db": ref, "drop_db": 0.0,
             "payload_bytes": None, "fit_seconds": fit_s}]

    def add(label, m, bits, tensors=None, quant=None):
        payload = None
        if tensors is not None:
            header = {"modality": "image", "signal": {"height": h, "width": w, "channels": c, "mode": mode, "bit_depth": 8},
                      "coords": {"convention": "pixel-centre", "axes": ["y", "x"], "scale": [1.0, 1.0]},
                      "values": {"offset": [0.0] * c, "scale": [1.0] * c}, "arch": arch, "quant": quant}
            payload = container.peek(container.pack(header, tensors))["payload_bytes"]
        p = psnr_pixels(m, coords, pixels)
        rows.append({"image": f"{name} {mode}", "lever": label, "bits": bits, "psnr_db": p, "drop_db": ref - p,
                     "payload_bytes": payload})

    add("8-bit, one scale per tensor (naive)", per_tensor(model, 8), 8)
    uniform = {n: 8 for n, _ in model.named_parameters()}
    add("8-bit, one scale per row", *_with_bits(with_plan(model, uniform), 8))
    plan8 = bit_plan(model, 8)
    m8, t8, q8 = with_plan(model, plan8)
    add("8-bit per row + first layer and biases at 16 bits (bit_plan)", m8, 8, t8, q8)
    mq = qat(model, uniform, coords, values, qat_steps)
    add(f"8-bit per row + QAT ({qat_steps} steps)", *_with_bits(with_plan(mq, uniform), 8))
    for bits in (6, 8, 10):
        plan = bit_plan(model, bits)
        mq = qat(model, plan, coords, values, qat_steps)
        add(f"{bits}-bit bit_plan + QAT ({qat_steps} steps)", *_with_bits(with_plan(mq, plan), bits))
    ints = [t8[n] for n in sorted(q8["tensors"])]
    ent = [{"network": f"plain SPDER 48x4 on {name} {mode} (bit_plan 8/16)", **coders([i.astype(np.int64) for i in ints])}]
    return rows, ent


def grid_entropy(name: str, size: int, steps: int) -> list[dict]:
    """Latents of latent-grid SPDERs fitted by the rate control, under each coder; quantization loss of the synthesis."""
    import inrcodec

    pixels = load_rgb(name, size)
    out = []
    for bpp in (0.5, 1.0):
        res = inrcodec.encode(pixels, bpp=bpp, steps=steps)
        header, tensors = container.unpack(res.data)
        a = header["arch"]
        shapes = geometry.level_shapes(a["grid_height"], a["grid_width"], a["grid_levels"])
        q = tensors["latents"].astype(np.int64)
        cut = np.cumsum([0] + [h * w for h, w in shapes])
        grids = [q[cut[i]:cut[i + 1]].reshape(shapes[i]) for i in range(len(shapes))]
        out.append({"network": f"latent grids, {name} at {bpp} bpp ({a['grid_levels']} levels)", **coders([q], grids)})
    return out


GRID_VARIANTS = (  # (label, inrcodec.rate.plan.RateOptions fields changed from the shipped defaults)
    ("spdr --bpp as shipped (bilinear, no QAT, polish, gentle refine)", {}),
    ("bicubic latent sampling", {"grid_interp": 3}),
    ("quantization-aware synthesis", {"qat": True}),
    ("no polish after trimming", {"polish_rounds": 0}),
    ("refine rounds at the full latent learning rate", {"refine_lr": 1.0}),
)


def grid_levers(names: list[str], size: int, steps: int, rates: list[float]) -> list[dict]:
    """spdr --bpp at one rate with each lever of the rate-control encoder switched off in turn."""
    from inrcodec.codec.presets import EncodeConfig
    from inrcodec.media.image import array_to_signal
    from inrcodec.rate.bpp import encode_bpp
    from inrcodec.rate.plan import RateOptions

    rows = []
    for name, bpp in [(n, b) for n in names for b in rates]:
        pixels = load_rgb(name, size)
        h, w = pixels.shape[:2]
        for label, overrides in GRID_VARIANTS:
            start = time.perf_counter()
            res = encode_bpp(array_to_signal(pixels), EncodeConfig(bpp=bpp, steps=steps), options=RateOptions(**overrides))
            a = res.header["arch"]
            rows.append({"image": name, "target_bpp": bpp, "lever": label, "bpp": 8 * res.bytes / (h * w), "psnr_db": res.psnr_db,
                         "network": f"{a['width']}x{a['depth'] + 1}", "steps": res.steps,
                         "seconds": time.perf_counter() - start})
            print(f"{name} @ {bpp} {label}: {res.psnr_db:.2f} dB at {rows[-1]['bpp']:.3f} bpp", flush=True)
    return rows


def grid_quantization(names: list[str], size: int, steps: int, bpp: float = 1.0) -> list[dict]:
    """The synthesis network of spdr --bpp at 8 bits: float against each storage, with and without QAT.

    The latents are integers by construction (no loss); what is measured is the rounding of the
    synthesis weights, with the fitted model's own integer latents held fixed."""
    from inrcodec.codec.presets import EncodeConfig
    from inrcodec.codec.result import measure
    from inrcodec.media.image import array_to_signal
    from inrcodec.nn.quantize import dequantize_state, quantize_grid
    from inrcodec.rate.bpp import fit_to_budget
    from inrcodec.rate.plan import RateOptions

    rows = []
    for name in names:
        pixels = load_rgb(name, size)
        h, w = pixels.shape[:2]
        coords = grid_coords((h, w))
        for qat_on in (True, False):
            signal = array_to_signal(pixels)
            fitted = fit_to_budget(signal, EncodeConfig(bpp=bpp, steps=steps), options=RateOptions(qat=qat_on))
            model = fitted.model
            ref = psnr_pixels(model, coords, pixels)
            file_psnr = measure(signal, fitted.data, torch.device("cpu"))["psnr_db"]
            base = {"image": name, "qat": qat_on, "float_psnr_db": ref, "file_psnr_db": file_psnr}
            for label, bits, bias_bits, per_row in (("8-bit, one scale per tensor (stored)", 8, 8, False),
                                                     ("8-bit, one scale per row", 8, 8, True),
                                                     ("8-bit weights, 16-bit biases", 8, 16, False),
                                                     ("6-bit, one scale per tensor", 6, 6, False)):
                tensors, quant = quantize_grid(model, bits, bias_bits, per_row)
                m = copy.deepcopy(model)
                m.load_state_dict(dequantize_state(tensors, quant))
                net_bytes = sum(tensors[k].nbytes for k in tensors if not k.startswith("latents"))
                p = psnr_pixels(m, coords, pixels)
                rows.append({**base, "storage": label, "psnr_db": p, "drop_db": ref - p, "raw_net_bytes": net_bytes})
            print(f"{name} qat={qat_on}: float {ref:.2f} dB, stored {rows[-4]['psnr_db']:.2f} dB", flush=True)
    return rows


def f(x, d=2):
    return "-" if x is None else f"{x:.{d}f}"


def md_table(head, rows):
    return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=600)
    ap.add_argument("--qat-steps", type=int, default=200)
    ap.add_argument("--grid-steps", type=int, default=3000)
    ap.add_argument("--grid-images", default="chelsea,motorcycle")
    ap.add_argument("--grid-bpp", default="0.5,2")
    ap.add_argument("--quant-bpp", type=float, default=1.0)
    ap.add_argument("--parts", default="quant,entropy,grid,gridquant", help="comma-separated: quant, entropy, grid, gridquant")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    command = "python benchmarks/rd_levers.py " + shlex.join(sys.argv[1:])
    prov = provenance(seed=0)  # every fit here uses fixed seeds (EncodeConfig's default 0, FitOptions seed 1, torch seed 0)
    machine = f"{prov['machine']}, torch {prov['torch']}, {prov['torch_threads']} threads, seed 0, commit {prov['commit']}"
    OUT.mkdir(parents=True, exist_ok=True)
    if "grid" in parts:
        names = args.grid_images.split(",")
        rates = [float(b) for b in args.grid_bpp.split(",")]
        grows = grid_levers(names, args.size, args.grid_steps, rates)
        (OUT / "grid_levers.json").write_text(json.dumps(grows, indent=1) + "\n")

        def shipped(r: dict) -> float:
            return next(x["psnr_db"] for x in grows if x["image"] == r["image"] and x["target_bpp"] == r["target_bpp"])

        gmd = [f"# Latent-grid levers: spdr --bpp ({args.size} px, {args.grid_steps} steps), one lever changed at a time", "",
               f"`{command}` ({machine}). PSNR is RGB PSNR of the decoded file; every file is at most its target.", "",
               md_table(["image", "target bpp", "lever", "bpp", "PSNR dB", "vs shipped", "synthesis", "steps", "seconds"],
                        [[r["image"], f"{r['target_bpp']:g}", r["lever"], f(r["bpp"], 3), f(r["psnr_db"]),
                          f"{r['psnr_db'] - shipped(r):+.2f}", r["network"], str(r["steps"]), f(r["seconds"], 0)] for r in grows])]
        means = [[label] + [f"{np.mean([r['psnr_db'] for r in grows if r['lever'] == label and r['target_bpp'] == b]):.2f}"
                            for b in rates] for label, _ in GRID_VARIANTS]
        gmd += ["", "Mean PSNR dB over the images:", "", md_table(["lever"] + [f"{b:g} bpp" for b in rates], means)]
        (OUT / "grid_levers.md").write_text("\n".join(gmd))
        print("\n".join(gmd))
    if "gridquant" in parts:
        names = args.grid_images.split(",")
        qg = grid_quantization(names, args.size, args.grid_steps, args.quant_bpp)
        (OUT / "grid_quantization.json").write_text(json.dumps(qg, indent=1) + "\n")
        md = [f"# Quantization of the latent-grid synthesis: spdr --bpp {args.quant_bpp:g} ({args.size} px, {args.grid_steps} steps)", "",
              f"`{command}` ({machine}). The fitted model's integer latents are kept; only the synthesis weights are "
              "rounded. float = the same model with float32 synthesis weights; drop = float - quantized (8-bit pixels); "
              "raw bytes = the synthesis integers before entropy coding. QAT = the synthesis trained through its rounding "
              "once the latents are rounded (inrcodec/rdfit.py).", "",
              md_table(["image", "QAT", "storage", "float PSNR dB", "PSNR dB", "drop dB", "raw synthesis bytes"],
                       [[r["image"], "yes" if r["qat"] else "no", r["storage"], f(r["float_psnr_db"]), f(r["psnr_db"]),
                         f(r["drop_db"]), str(r["raw_net_bytes"])] for r in qg])]
        (OUT / "grid_quantization.md").write_text("\n".join(md))
        print("\n".join(md))
    if not parts & {"quant", "entropy"}:
        return
    qrows, erows = [], []
    for name, mode in IMAGES:
        r, e = plain_levers(name, mode, args.size, args.steps, args.qat_steps)
        qrows += r
        erows += e
    erows += grid_entropy("astronaut", args.size, args.grid_steps)
    (OUT / "quantization.json").write_text(json.dumps(qrows, indent=1) + "\n")
    (OUT / "entropy.json").write_text(json.dumps(erows, indent=1) + "\n")

    qmd = [f"# Quantization levers (plain SPDER, width 48, depth 3, {args.steps} float steps)", "",
           f"`{command}` ({machine}). Photos area-averaged to {args.size} px on the long side. PSNR from the "
           "dequantized network's 8-bit pixels; drop = float PSNR - quantized PSNR; payload = the format 1.0 "
           "zstd/safetensors payload of those integers and scales (bit allocation costs bytes).", "",
           md_table(["image", "lever", "PSNR dB", "drop dB", "payload bytes"],
                    [[r["image"], r["lever"], f(r["psnr_db"]), f(r["drop_db"]), f(r["payload_bytes"], 0)] for r in qrows])]
    (OUT / "quantization.md").write_text("\n".join(qmd))
    emd = ["# Coding the integer weights: zstd against byte planes and the range coder", "",
           f"`{command}` ({machine}). Bytes of the integers alone (no header, no scales). rc = the adaptive binary range "
           "coder of format 1.1 (inrcodec/entropy.py); for latent grids with its neighbour and parent contexts, and "
           "rc_no_context = the same coder with one flat stream per level.", "",
           md_table(["integers", "values", "raw int8/16", "zstd -19", "zstd byte planes", "rc", "rc, no context", "rc vs zstd"],
                    [[r["network"], str(r["values"]), str(r["raw"]), str(r["zstd"]), str(r["zstd_planes"]), str(r["rc"]),
                      str(r.get("rc_no_context", "-")), f"{100 * (r['rc'] / r['zstd'] - 1):+.1f} %"] for r in erows])]
    (OUT / "entropy.md").write_text("\n".join(emd))
    print("\n".join(qmd) + "\n" + "\n".join(emd))


if __name__ == "__main__":
    main()
