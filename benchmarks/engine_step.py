"""Where one fitting step of the image engine goes, each speed-up against what it replaced, side by side in one run.

The model is the one `spdr encode --preset fast` fits on a 768x512 RGB photo at the default quality (latent pyramid with
the 3x3 stencil on its two finest levels, 24x1 SPDER synthesis, entropy model 16x2). Timed, each the median of --repeat
calls after a warm-up:

* the latent features, forward and backward: grid_sample at every pixel (`LatentGridSPDER.features`) against the
  separable sampler (`nn/separable.py`), and the largest difference between the two;
* the synthesis, forward and backward on fixed features (fused kernels), with omega = 1 skipped (as shipped) and with a
  multiply by omega kept (omega 1 + 2^-20: the same pass as a real multiply, numbers all but the same);
* the entropy model's rate of the latents, forward and backward (fused);
* whole steps of `fit_rd` (fused), with and without the separable sampler.

    python benchmarks/engine_step.py --out benchmarks/results/engine_step.md
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _provenance import markdown_provenance, provenance  # noqa: E402
from engine_speed import photo_768x512  # noqa: E402

from inrcodec.codec.presets import EncodeConfig  # noqa: E402
from inrcodec.nn.coords import grid_coords  # noqa: E402
from inrcodec.nn.fused import fused_kernels  # noqa: E402
from inrcodec.nn.latentgrid import LatentGridSPDER  # noqa: E402
from inrcodec.nn.separable import product_features  # noqa: E402
from inrcodec.rate import quality  # noqa: E402
from inrcodec.rate.plan import grid_arch, latent_lr, plan_for  # noqa: E402
from inrcodec.train.rdfit import RDFitOptions, fit_rd  # noqa: E402


def fast_preset_model(height: int, width: int) -> LatentGridSPDER:
    """The network encode_quality builds for this size at the default quality and the fast preset."""
    lam = quality.quality_lambda(quality.DEFAULT_QUALITY)
    plan = plan_for(quality.expected_bpp(lam), height, width, 3, EncodeConfig(preset="fast"))
    cap = quality.synthesis_cap("image", plan.steps, lam)
    plan = dataclasses.replace(plan, width=min(plan.width, cap[0]), depth=min(plan.depth, cap[1]))
    return LatentGridSPDER(grid_arch(plan, height, width, 3, "sqrt", quality.QUALITY_OPTIONS))


def median_ms(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photo", default="motorcycle")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--steps", type=int, default=20, help="fit_rd steps per whole-step timing")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    px = photo_768x512(args.photo)
    h, w = px.shape[:2]
    model = fast_preset_model(h, w)
    coords = grid_coords((h, w))
    values = torch.from_numpy(px.reshape(-1, 3).copy()).float() / 127.5 - 1
    lam = quality.quality_lambda(quality.DEFAULT_QUALITY)
    opts = RDFitOptions(steps=args.steps, lr_latents=latent_lr(500), lr_net=2e-2, lam=lam, fused=True, seed=args.seed)
    fit_rd(model, coords, values, dataclasses.replace(opts, steps=30))  # compiled kernels ready, latents of a few units
    latents = model.latents.detach().clone().requires_grad_(True)
    axes = model.separable_axes(coords)
    rows = []

    def features_step(separable: bool):
        def run():
            latents.grad = None
            f = product_features(model.levels(latents), model.stencil, *axes) if separable else model.features(coords, latents)
            f.sum().backward()
        return run

    with torch.no_grad():
        gap = float((model.features(coords, latents) - product_features(model.levels(latents), model.stencil, *axes)).abs().max())
    per_point, separable = median_ms(features_step(False), args.repeat), median_ms(features_step(True), args.repeat)
    rows.append(("latent features, forward + backward", "grid_sample at every pixel", per_point, "separable (as shipped)", separable))

    feats = model.features(coords, latents).detach().requires_grad_(True)
    with_multiply = copy.deepcopy(model)
    for m in with_multiply.net:
        if hasattr(m, "omega"):
            m.omega = 1.0 + 2.0**-20

    def synthesis_step(net):
        def run():
            with fused_kernels():
                net.zero_grad(set_to_none=True)
                ((net(feats) - values) ** 2).mean().backward()
        return run

    rows.append(("synthesis on fixed features, forward + backward (fused)", "omega multiplied",
                 median_ms(synthesis_step(with_multiply.net), args.repeat), "omega 1 skipped (as shipped)",
                 median_ms(synthesis_step(model.net), args.repeat)))

    def rate_step():
        with fused_kernels():
            model.arm.bits(model.levels(latents)).backward()

    arm = median_ms(rate_step, args.repeat)
    steps = {}
    for name, sep in (("per-point", False), ("separable", True)):
        trial = copy.deepcopy(model)
        if not sep:
            trial.separable_axes = lambda c: None  # this copy's fit samples with grid_sample
        t = time.perf_counter()
        fit_rd(trial, coords, values, opts)
        steps[name] = 1000 * (time.perf_counter() - t) / args.steps
    rows.append((f"whole fit_rd step (fused; mean of {args.steps})", "grid_sample features", steps["per-point"],
                 "separable features (as shipped)", steps["separable"]))

    lines = [f"# One fitting step of the image engine: {args.photo} at {w}x{h}, fast preset, default quality", "",
             f"Model: {model.arch['grid_levels']} latent levels (stencil on {model.stencil}), synthesis "
             f"{model.arch['width']}x{model.arch['depth']}, entropy model {model.arch['arm_width']}x{model.arch['arm_depth']}. "
             f"Median of {args.repeat} calls each (ms), both variants in this one run.", "",
             "| part | before | ms | now | ms | speed-up |", "|---|---|---|---|---|---|"]
    lines += [f"| {part} | {a} | {ta:.1f} | {b} | {tb:.1f} | {ta / tb:.2f}x |" for part, a, ta, b, tb in rows]
    lines += ["", f"Entropy model's rate, forward + backward (fused): {arm:.1f} ms.", "",
              f"Largest difference between the two samplers' features: {gap:.2e} (features up to "
              f"{float(feats.detach().abs().max()):.1f}; both compute grid_sample's taps in float32).", "", "## Provenance", "",
              markdown_provenance(provenance(seed=args.seed, device="cpu"))]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        out = Path(args.out)
        out.write_text(text)
        out.with_suffix(".json").write_text(json.dumps({"rows": [dict(zip(("part", "before", "before_ms", "now", "now_ms"), r, strict=True))
                                                                 for r in rows], "rate_ms": arm, "feature_gap": gap,
                                                        "provenance": provenance(seed=args.seed, device="cpu")}, indent=2) + "\n")


if __name__ == "__main__":
    main()
