"""The synthesis weights' quantization step, chosen per file by rate-distortion once the fit ends.

Why: the synthesis is stored as integers over one scale per tensor, and the scale that covers max|w| at 8 bits
spends about 7.5 bits a weight (its mean |q| is ~30). A 24x1 synthesis is ~1300 weights: at a low quality that
is a fifth of the file. A coarser step codes each weight in about log2(coarsen) fewer bits for a small rise in
error, and the best trade differs from photo to photo and from quality to quality. So, as Cool-chic chooses its
networks' steps, the encoder tries each step of COARSENINGS on the fitted model and keeps the one with the lowest
MSE + lambda * bits / samples: the same cost the fit minimised, measured with the stored weights and the stream's
own coding of them (format/latentcoding.tensor_stream_bits). The decoder needs nothing new: the step is the
tensor's stored scale.
"""

from __future__ import annotations

import math

import torch
from torch.func import functional_call

from ..format.latentcoding import tensor_stream_bits
from ..nn.latentgrid import LatentGridSPDER
from ..nn.quantize import broadcast, dequantize_state, quantize_grid, quantize_tensor, synthesis_matrices
from .plan import RatePlan

# Step factors tried, against the 8-bit scale that covers max|w|. On the tuning photos at 512 px (engine_probe.py
# --netstep 1, figures in README) the choice was 1 to 8, and from the same fit it gave 2-9 % fewer bytes for 0.0-0.1 dB.
COARSENINGS = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0)
MAX_SAMPLES = 1 << 18  # the error of each candidate is taken on at most this many samples (an even stride)


def choose_coarsening(model: LatentGridSPDER, coords: torch.Tensor, values: torch.Tensor, lam: float,
                      plan: RatePlan) -> tuple[float, list[dict]]:
    """(the step factor of COARSENINGS with the lowest MSE + lam * synthesis bits / samples, every candidate's
    figures). `model` holds its fitted, rounded latents; `coords`/`values` are what it was fitted to."""
    n = coords.shape[0]
    axes = model.separable_axes(coords)
    if axes is None and n > MAX_SAMPLES:  # audio and video: an even subset, the same for every candidate
        stride = math.ceil(n / MAX_SAMPLES)
        coords, values = coords[::stride], values[::stride]
    names = synthesis_matrices(model)
    # the synthesis as stored (biases rounded too), once; each candidate then re-quantizes only the matrices
    stored = {k: v.to(coords.device) for k, v in dequantize_state(*quantize_grid(model, plan.net_bits, plan.bias_bits,
                                                                                 plan.per_row)).items() if k.startswith("net.")}
    params = dict(model.named_parameters())
    table = []
    with torch.no_grad():
        for coarsen in COARSENINGS:
            bits, weights = 0, dict(stored)
            for name in names:
                q, s = quantize_tensor(params[name], plan.net_bits, plan.per_row, coarsen)
                q_t = torch.from_numpy(q.astype("float32"))
                weights[name] = (q_t * broadcast(torch.from_numpy(s), q_t)).to(coords.device)
                bits += tensor_stream_bits(q, plan.net_bits)
            pred = functional_call(model, weights, (coords,), {"axes": axes})
            mse = float(torch.mean((pred - values) ** 2))
            table.append({"coarsen": coarsen, "mse": mse, "weight_bits": bits, "cost": mse + lam * bits / n})
    best = min(table, key=lambda row: row["cost"])
    return best["coarsen"], table
