"""`spdr encode photo.png [--quality Q]`: the default image encoder, one fit at a fixed rate weight.

Why a quality scale and not a size: a user asks for "this good", and one fit at a fixed lambda
(the weight of the entropy model's bits against the squared error) is the cheapest way there: no
search over sizes, no trimming. Q runs from 0 (smallest file) to 100 (best); lambda falls
log-linearly with Q (quality_lambda), so a higher Q never makes a smaller, worse file on the same
photo except by the noise of training. The network grows with the rate Q is expected to give
(rate/plan.py PLANS) up to synthesis_cap (photos: 16x1, 24x1 at high qualities in fits as long as balanced's), the steps come from the
preset, `--time` bounds the whole encode (tail_seconds keeps room for packing and measuring).

The file is format 1.9 for photos (latents coded under the fitted entropy model in seven passes a level,
format/latentcoding.py; ARM_PASSES below), 1.9 for audio too (1.5's one row of latents in those passes), 1.10 for video
(1.6's pyramid, each plane in those passes);
the reported PSNR is measured by decoding the written bytes, as for every encode.
"""

from __future__ import annotations

import dataclasses
import math
import time

import torch

from ..codec.audio import value_map
from ..codec.presets import EncodeConfig, Resolved
from ..codec.result import EncodeResult, coord_placements, finish
from ..errors import SpdrError
from ..format.header import MAX_DIM
from ..nn.coords import grid_coords
from ..nn.device import pick_device
from ..nn.latentgrid import MAX_LEVELS, LatentGridSPDER, default_levels
from ..signal import Signal
from ..train.rdfit import T_END, T_START, RDFitOptions, fit_rd
from .bpp import Progress, pack_model
from .netstep import choose_coarsening
from .plan import RateOptions, grid_arch, latent_lr, plan_for
from .timestride import time_stride

DEFAULT_QUALITY = 75.0  # audio and video
# Photos default to a higher quality: the issue's default is a file smaller than JPEG q85's at equal or better PSNR, and
# with format 1.9 the Q75 file of the tuning photo coffee was far under JPEG q85's bytes. Rule, set before looking: the
# highest of Q75/80/85/90 whose `balanced` file of coffee (512 px) is at most 0.9x JPEG q85's 43104 B
# (`python benchmarks/quality_sweep.py --photos coffee --qualities 75,80,85,90 --preset balanced --out
# benchmarks/results/default_quality_sweep.json`): Q75 31375 B (0.73x) 35.05 dB, Q80 33583 B (0.78x) 35.42 dB, Q85
# 35579 B (0.83x) 35.79 dB, Q90 37416 B (0.87x) 36.05 dB; JPEG q85 33.83 dB, WebP at Q90's bytes 35.54 dB.
IMAGE_DEFAULT_QUALITY = 90.0
TAIL_SECONDS_PER_PIXEL = 4e-6  # pack + decode after the fit: ~1.5 s at 768x512 on 2 CPU cores
# Rate weight at the ends of the scale (MSE in [-1, 1] units per bit per pixel), set on the tuning
# photo coffee (512x341, fast preset). With these ends, benchmarks/results/quality_sweep.json
# (`python benchmarks/quality_sweep.py --photos coffee --qualities 0,19.4,47.3,75,100`): Q0 0.17 bpp,
# Q19.4 (lambda 3e-2) 0.46, Q47.3 (5.3e-3) 1.07, the default Q75 (9.5e-4) 2.02 bpp, about JPEG q85's
# 1.98 there, Q100 (2e-4) 2.43 bpp: below ~1e-3 a 500-step fit's rate is bounded by its steps.
# (Measured with the 70 % noise phase; with NOISE_FRACTION the same lambda gives fewer bytes, e.g. coffee at
# 256 px: Q30 -32 %, Q75 -1 %. The ends and expected_bpp were not refitted.)
LAMBDA_AT_0, LAMBDA_AT_100 = 0.1, 2e-4
# The synthesis network's size at most (width, depth). rate/plan.PLANS grows it with the byte budget
# (measured on long --bpp fits), which at 512 px and Q75 meant 48x2: on coffee at lambda 9.5e-4, 500
# steps (benchmarks/engine_probe.py --width W --depth D): 48x2 33.19 dB at 2.166 bpp, 253 ms a step;
# 24x1 32.99 dB at 2.013 bpp, 140 ms (0.3 dB nearer JPEG at equal bytes); 16x1 33.37 dB at 2.265 bpp, 116 ms.
MAX_SYNTHESIS = (24, 1)
# Photos get a smaller synthesis than audio and video: it is stored in the file, and with the 3-pass entropy model
# (format 1.8) a 16x1 network gave as good or better files than 24x1 at every quality but one. On the tuning photos
# at 512 px, fast preset, the synthesis step chosen (`python benchmarks/engine_probe.py --photo P --quality Q --width W
# --depth 1 --lrnet 2e-2 --stencil 2 --steps 500 --lr 0.1 --noise 0.95 --netstep 1`; decoded PSNR minus WebP's best at
# no more bytes, 16x1 / 24x1): coffee Q10 +0.11 / -1.40 dB (2 passes), Q30 -0.72 / -0.93, Q50 -0.76 / -0.69, Q75
# -0.72 / -1.26; astronaut Q10 -2.96 / -3.06 (2 passes), Q30 -3.22 / -3.89, Q50 -3.75 / -3.40, Q75 -3.57 / -3.87.
# A 16x1 step is also 10-20 % faster. Audio and video were not measured and keep MAX_SYNTHESIS.
IMAGE_SYNTHESIS = (16, 1)
# Longer fits (balanced's and max's steps) at high rates make good use of a wider synthesis. On the tuning photos at
# 512 px, 1500 steps (engine_probe.py as above with --quality Q --steps 1500 --lr 0.0577 --width W; the written file
# decoded, WebP's best at no more bytes): Q90 coffee 16x1 37525 B 36.04 dB (WebP 35.54), 24x1 36327 B 36.03 dB (35.31;
# -3.2 % bytes at equal PSNR), 32x1 36903 B 35.99 dB; astronaut 16x1 41172 B 35.01 dB (WebP 36.85), 24x1 38036 B
# 35.01 dB (36.40; -7.6 %). At lower rates its weights cost more than they give: coffee Q60 16x1 23121 B 33.41 dB,
# 24x1 23307 B 33.25 dB; Q30 8573 B 28.90 dB, 8735 B 28.82 dB. So the long synthesis starts at Q75's lambda, midway
# (in log lambda) between Q60 and Q90: the crossing itself was not measured. A step costs 13-22 % more.
IMAGE_SYNTHESIS_LONG = (24, 1)
LONG_FIT_STEPS = 1500  # fits of at least this many steps (the balanced preset) get IMAGE_SYNTHESIS_LONG ...
LONG_SYNTHESIS_QUALITY = 75.0  # ... at this quality's rate weight or a lower one (a higher quality)
# Photos' latent levels are coded in 7 passes (format 1.9, RateOptions.arm_passes): format 1.8's three passes on the
# lattices of stride 4, 2, then 1, so only a 64th of a level is coded without same-level neighbours (a quarter with 3).
# A fresh entropy model trained on a fitted photo's fixed latents (a /tmp probe, 1500 Adam steps) gave coffee 512 px Q75
# 3 passes 33046 B, 5 passes 30514 B, 7 passes 29999 B; astronaut Q30 14738 / 13959 / 13774 B (wider contexts, 12
# neighbours instead of 4, gained under 2.5 % on coffee and lost on astronaut: not kept). Trained jointly, the whole
# fit (`python benchmarks/engine_probe.py --photo P --longest 512 --quality Q --width 16 --depth 1 --lrnet 2e-2 --stencil 2
# --steps 500 --lr 0.1 --noise 0.95 --threads 1 --netstep 1 --passes N`, the written file decoded): coffee Q75 3 passes
# 34843 B 34.38 dB, 7 passes 31548 B 34.33 dB (-9.5 % bytes; WebP's best at no more bytes 35.09 and 34.62 dB);
# astronaut Q30 16745 B 29.22 dB, 14524 B 29.16 dB (-13.3 %; WebP 32.53 and 31.77).
ARM_PASSES = 7
# The two finest latent levels are also sampled one cell around (a 3x3 stencil, format 1.3
# grid_stencil 2): on both tuning photos at lambda 9.5e-4, 500 steps, 24x1 (benchmarks/engine_probe.py
# --stencil S, decoded PSNR / bytes / JPEG's PSNR at no more bytes): coffee S0 33.23 dB / 42209 B /
# JPEG 33.61, S1 32.66 / 40795 / 33.42, S2 33.38 / 39155 / 33.25; astronaut S0 32.52 / 61229 /
# 36.18, S2 32.48 / 45251 / 34.51 (the same PSNR in 26 % fewer bytes). A step costs 17-28 % more.
QUALITY_OPTIONS = RateOptions(stencil=2, arm_passes=ARM_PASSES)
# Photos, audio and video train soft-rounded with noise for this share of the steps, then rounded with a
# straight-through gradient for the rest (train/rdfit.py). Measured on both tuning photos at 256 px, 24x1, stencil 2
# (`python benchmarks/engine_probe.py --photo P --longest 256 --width 24 --depth 1 --lrnet 2e-2 --stencil 2 --lam L
# --steps S --lr LR --noise N`; decoded PSNR at its bytes, against WebP's best at no more bytes): coffee, lambda 9.5e-4
# (Q75), 500 steps: noise 0.5 -2.93 dB, 0.7 -2.48, 0.85 -1.68, 0.9 -1.27, 0.95 -1.03, 1.0 (never rounded in training)
# -1.59; 1500 steps: 0.7 -2.07, 0.95 -0.15; lambda 0.0155 (Q30), 500 steps: 0.7 -4.65 (7219 B), 0.95 -2.67 (4939 B);
# astronaut Q75, 500 steps: 0.7 -4.23, 0.95 -3.15. A long straight-through phase at the fit's still-large learning rates
# undoes what the noisy phase found. Audio and video, on their tuning clips with the fast preset (`python
# benchmarks/noise_probe.py CLIP --quality Q --noise 0.7,0.95`; kbit/s and SNR or PSNR of the decoded file):
# speech_voice Q50 0.7 55.2 kbit/s 15.74 dB, 0.95 41.7 / 16.04; Q65 0.7 77.5 / 18.64, 0.95 60.7 / 19.27; guit_em9's
# first 3 s Q65 0.7 49.8 / 16.87, 0.95 45.0 / 18.74, 1.0 44.6 / 18.70; carphone's first 16 frames, 200 steps, Q10: 0.7
# 147.7 / 26.75, 0.95 125.9 / 26.65 (15 % fewer bytes, -0.1 dB).
NOISE_FRACTION = 0.95
# Soft rounding's temperature, first and last, over the noisy phase (annealed geometrically, train/rdfit.py): C3's 0.3
# to 0.1 for every modality. A higher start won on the tuning photos at 256 px, 500 steps, noise 0.95 (engine_probe.py
# as above with --tstart T --tend 0.1; decoded PSNR minus WebP's best at no more bytes, coffee Q75 / astronaut Q75 /
# coffee Q30): T 0.3 -1.27 / -3.15 / -2.73 dB, 0.5 -1.10 / -2.64 / -2.30, 0.7 -0.80 / -2.17 / -2.31, 1.0 -0.85 / -1.95
# / -2.44; but with 0.7 the six evaluation photos lost (`spdr bench rd`, fast: mean BD-rate vs WebP +55.4 % against
# 0.3's +29.6 %, vs JPEG -4.9 % against -11.5 %; benchmarks/results/rd13_t07/rd.md), so 0.3 stays. Ending higher lost on
# coffee Q75 (0.3..0.2 -1.16 dB is noise; 0.8..0.3 -1.30, 1.0..0.5 -1.48), lower too (0.2..0.05 -3.29). Also measured
# there and not kept: C3's second soft rounding after the noise (RDFitOptions.double_soft) -1.51, Gaussian noise
# annealed from std 0.25 to 0.1 (noise_std) -1.99, both -1.31. On speech_voice Q50 (noise_probe.py --tstart T) 0.5 gave
# 42.7 kbit/s at 16.11 dB against 0.3's 41.7 at 16.04: no gain.
TEMPERATURE = (T_START, T_END)
# Audio's one row of latents: no stencil (not measured on audio: on one row the 3x3 stencil's vertical neighbours
# repeat the row), bilinear, coded in ARM_PASSES passes a level as photos are (format 1.9: on one row, the multiples
# of 8 first, then of 4 and of 2 reading the neighbours 4 and 2 away, then the odd latents; the checkerboard, format
# 1.5, coded half of them without same-level context). On the tuning clips (`python benchmarks/noise_probe.py CLIP
# --quality Q --noise 0.95 --seconds S --passes 2,7,9`, the decoded WAV's SNR): speech_voice Q50 2 passes 7161 B
# 16.01 dB, 7 passes 6765 B 16.46 dB, 9 passes 6786 B 16.34 dB; Q65 10393 B 19.20 dB, 9850 B 19.25 dB, 9690 B 19.04 dB;
# guit_em9's first 3 s, Q65: 2 passes 16671 B 18.68 dB, 7 passes 16573 B 18.63 dB (no gain on the tonal chord).
AUDIO_OPTIONS = RateOptions(arm_passes=ARM_PASSES)
# A segmented clip's segments share one rate weight in the clip's units (segment_weight). On the tuning clip guit_em9,
# 4 s segments, fast (`spdr bench av ../shared/media/audio/guit_em9.flac`, the whole clip's kbit/s and SNR of the
# decoded WAV), each segment at its own level (benchmarks/results/av20_guitar): Q30 10.6 kbit/s 12.29 dB, Q50 22.5 /
# 16.75, Q65 33.0 / 19.31, Q80 42.3 / 21.05; by the clip's error (av21_guitar): Q30 7.8 / 11.38, Q50 13.9 / 15.65,
# Q65 20.0 / 18.42, Q80 30.6 / 20.30, about 2 dB more at equal rate; the whole clip as one segment (--segment 10, a
# /tmp run): Q65 17.1 / 18.21, Q80 22.8 / 20.36 (a fit over the clip also pays for one network instead of three).
AUDIO_COARSEST = 4  # samples per cell of the coarsest audio level, about: 15 levels for a 4 s segment at 44.1 kHz


# A full-batch step of the audio grid costs about this many seconds per time sample on 2 CPU cores (bench av: a 3.3 s
# stereo 44.1 kHz segment, 146k samples, 0.21 s a step). Under --time, audio goes to the grid only when the budget
# buys every segment at least MIN_GRID_STEPS steps (and the pack and measurement after them); else the plain
# network, which trains on minibatches, gets the time (a 4 s segment of a 10-minute song under --time 600 would
# get 5 grid steps: SNR about 0 dB). The cost is linear in samples and --time is shared out in proportion to them,
# so the test is the same for the whole clip as for each of its segments. Video: per pixel of a frame times frames
# (its VIDEO_BATCH sampled pixels plus the rate over all its latents); kept at audio's figure, about 3x what 16
# frames of carphone measured (200 steps in 35-47 s, benchmarks/video_probe.py), so the grid is chosen only with room.
GRID_STEP_SECONDS_PER_SAMPLE = {"audio": 1.5e-6, "video": 1.5e-6}
MIN_GRID_STEPS = 100


def default_quality(modality: str) -> float:
    """--quality when none is given: IMAGE_DEFAULT_QUALITY for photos, DEFAULT_QUALITY for audio and video."""
    return IMAGE_DEFAULT_QUALITY if modality == "image" else DEFAULT_QUALITY


def synthesis_cap(modality: str, steps: int, lam: float) -> tuple[int, int]:
    """The largest synthesis (width, depth) of a modality: for photos IMAGE_SYNTHESIS, or IMAGE_SYNTHESIS_LONG in a fit
    of LONG_FIT_STEPS steps or more at a rate weight of LONG_SYNTHESIS_QUALITY's or lower; MAX_SYNTHESIS for audio
    and video."""
    if modality != "image":
        return MAX_SYNTHESIS
    long_fit = steps >= LONG_FIT_STEPS and lam <= quality_lambda(LONG_SYNTHESIS_QUALITY)
    return IMAGE_SYNTHESIS_LONG if long_fit else IMAGE_SYNTHESIS


def grid_fits_in(samples: int, time_limit: float | None, modality: str = "audio") -> bool:
    """Whether `time_limit` seconds buy audio of `samples` time samples (video: pixels times frames; a clip, or the
    segments it is cut into) MIN_GRID_STEPS grid steps (None: always)."""
    cost = GRID_STEP_SECONDS_PER_SAMPLE[modality]
    return time_limit is None or time_limit >= 1.5 * MIN_GRID_STEPS * cost * samples


def audio_levels(samples: int) -> int:
    """Latent levels of an audio grid: halving down to about AUDIO_COARSEST samples a cell, at most MAX_LEVELS."""
    return max(1, min(MAX_LEVELS, int(math.log2(max(2, samples // AUDIO_COARSEST)))))


# Video's (t, y, x) pyramid (format 1.6): the finest level has one latent plane per `stride` frames (the time axis then
# halves with the others), bilinear in space, no stencil. Each step's error is taken on VIDEO_BATCH random samples (a
# 2 s CIF clip has 1.3 M), the rate on every latent. The stride is chosen per segment from how well blending predicts
# its frames (rate/timestride.py, with the measurements): 2 on near-static content, 1 under motion. Before, one stride
# for every clip, 2, chosen on carphone and a sliding square (`python benchmarks/video_probe.py carphone_pristine.mp4
# FRAMES Q STRIDE STEPS [BATCH]`, one run each):
# * 12 frames, Q10, 200 steps, the machine shared with another encode: stride 1 26.01 dB at 189.6 kbit/s (589 s),
#   stride 2 26.59 dB at 177.2 kbit/s (450 s);
# * 16 frames, 200 steps, a free machine: stride 2 Q0 25.70 dB at 103.1 kbit/s, Q10 26.72 at 146.8 (47 s; 500 steps:
#   27.05 at 151.0, 119 s); stride 4 Q10 26.91 at 141.8 (42 s; a full batch of 2^19: 26.84 at 138.5, 124 s);
#   stride 8 Q0 25.98 at 91.7, Q10 26.66 at 111.7 (35 s): about +0.75 dB over stride 2 at equal rate;
#   stride 16 (one plane) Q10 25.77 at 83.8, on stride 8's curve.
# The square (`python benchmarks/video_stride_square.py`, 200 steps, Q0 / Q10 / Q30, bytes and dB):
# stride 2 1372 B 30.57 dB / 1539 B 31.95 / 2198 B 33.05; stride 4 1201 B 26.83 / 1404 B 27.10 / 2007 B 27.20;
# stride 8 1017 B 23.41 / 1248 B 23.51 / 1668 B 23.08. Stride 1 was not measured then; it wins on the square and on
# bikes (timestride.py), which is why the stride is now chosen per segment.
# Each plane of the pyramid is coded in ARM_PASSES passes too (format 1.10; 1.6 coded a plane as a checkerboard). On the
# tuning clip carphone's first 16 frames, 200 steps (`python benchmarks/video_probe.py carphone_pristine.mp4 16 Q 2 200
# 131072 P`, the decoded file): Q10 2 passes 8135 B 26.63 dB, 7 passes 6832 B 26.63 dB (-16 %); Q0 6267 B 25.78 dB,
# 4963 B 25.82 dB (-21 %). The previous plane's 3x3 (format 1.6) stays in the context.
VIDEO_OPTIONS = RateOptions(arm_passes=ARM_PASSES)
VIDEO_TIME_STRIDE: int | None = None  # None: per segment (rate/timestride.time_stride); a number forces it (benchmarks)
VIDEO_BATCH = 1 << 17
GRID_VIDEO_VALUES = 1 << 22  # pixels (frames x height x width) in one video segment at most on the grid: 2 s at 320 x 240


def quality_lambda(quality: float) -> float:
    """The rate weight of quality Q in [0, 100]: log-linear from LAMBDA_AT_0 down to LAMBDA_AT_100."""
    q = min(100.0, max(0.0, float(quality))) / 100.0
    return math.exp(math.log(LAMBDA_AT_0) + q * (math.log(LAMBDA_AT_100) - math.log(LAMBDA_AT_0)))


def expected_bpp(lam: float) -> float:
    """The whole-file bits per pixel a rate weight is taken to give, to size the networks before
    fitting: 0.4 * (0.03 / lambda)^0.5, at most 3; within 15 % of the sweep above from lambda 3e-2
    to 9.5e-4 (it says 0.22 where Q0 gave 0.17, and 3 where Q100 gave 2.43)."""
    return min(3.0, 0.4 * (0.03 / lam) ** 0.5)


def encode_quality(signal: Signal, config: EncodeConfig, progress: Progress | None = None,
                   options: RateOptions | None = None, reference_peak: float | None = None) -> EncodeResult:
    """Fit a latent-grid SPDER with its entropy model at the rate weight of config.quality; write format 1.9
    (images, and audio: one row of latents on the time axis, AUDIO_OPTIONS) or 1.10 (video: a (t, y, x) pyramid,
    VIDEO_OPTIONS).

    reference_peak (audio): the peak of the clip this signal is a segment of. The fit runs on samples divided by the
    segment's own peak, so its squared error weighs (segment peak / clip peak)^2 times less in the clip's units; the
    rate weight is raised by the inverse (segment_weight) so that every segment trades bits against the clip's error,
    as one fit over the whole clip would."""
    quality = default_quality(signal.modality) if config.quality is None else float(config.quality)
    lam = quality_lambda(quality)
    channels = signal.channels
    kind = signal.modality
    options = options or {"audio": AUDIO_OPTIONS, "video": VIDEO_OPTIONS}.get(kind, QUALITY_OPTIONS)
    frames = signal.grid_shape[0] if kind == "video" else 1
    height, width = (1, signal.grid_shape[0]) if kind == "audio" else signal.grid_shape[-2:]
    if width > MAX_DIM:
        raise SpdrError(f"{width:,} samples in one latent row: the format allows {MAX_DIM:,}; "
                        "encode in segments (--segment, default 4 s)")
    plan = plan_for(expected_bpp(lam), height * frames, width, channels, config)
    levels = {"audio": audio_levels(width), "video": default_levels(height, width)}.get(kind, plan.levels)
    cap = synthesis_cap(kind, plan.steps, lam)
    plan = dataclasses.replace(plan, width=min(plan.width, cap[0]), levels=levels,
                               depth=plan.depth if config.depth is not None else min(plan.depth, cap[1]))
    device = pick_device(config.device)
    torch.manual_seed(config.seed)
    in_features = {"audio": 1, "video": 3}.get(kind, 2)
    grid_frames = -(-frames // (VIDEO_TIME_STRIDE or time_stride(signal.data))) if kind == "video" else None
    arch = grid_arch(plan, height, width, channels, config.damping or "sqrt", options, in_features=in_features, frames=grid_frames)
    model = LatentGridSPDER(arch).to(device)
    coords = grid_coords(signal.grid_shape, device=device, placements=coord_placements(kind))
    fit_values, value_header = value_map(signal)  # audio: amplitude max|x| -> 1
    lam *= segment_weight(value_header["scale"][0], reference_peak)
    values = torch.from_numpy(fit_values).float().to(device)
    start = time.perf_counter()

    def phase(name: str):
        return lambda s, n, loss: None if progress is None else progress(name, s, n, loss, time.perf_counter() - start)

    samples = signal.num_samples
    fit_budget = None if config.time_limit is None else config.time_limit - tail_seconds(samples, config.time_limit)
    opts = RDFitOptions(steps=plan.steps, lr_latents=latent_lr(plan.steps) if config.lr is None else config.lr * 10,
                        lr_net=2e-2 if config.lr is None else config.lr * 5, lam=lam, time_limit=fit_budget, seed=config.seed,
                        batch=VIDEO_BATCH if kind == "video" else None,
                        noise_fraction=NOISE_FRACTION, temperature=TEMPERATURE)
    report = None if progress is None else (lambda s, n, loss, t: progress("fit", s, n, loss, t))
    result = fit_rd(model, coords, values, opts, report)
    phase("pack")(0, 1, result.mse)
    coarsen, _ = choose_coarsening(model, coords, values, lam, plan)
    model = model.cpu()
    data = pack_model(signal, model, plan, result.steps, None, values=value_header, coarsen=coarsen, quality=quality,
                      seed=config.seed, preset=config.preset)
    phase("pack")(1, 1, result.mse)
    notices = list(result.notices)
    if result.steps < plan.steps:
        notices.append(f"--time: stopped after {result.steps} of {plan.steps} steps")
    resolved = Resolved(plan.width, plan.depth, result.steps, 0.0, plan.net_bits, 0, 0.0)
    params = int(sum(p.numel() for p in model.parameters()))
    phase("measure")(0, 1, result.mse)
    float_mse = result.mse * value_header["scale"][0] ** 2  # at the original level (audio's peak mapping undone)
    seconds = time.perf_counter() - start
    measure_seconds = None if config.time_limit is None else max(0.0, config.time_limit - seconds)
    out = finish(signal, data, steps=result.steps, seconds=seconds, params=params, float_mse=float_mse,
                 resolved=resolved, device=torch.device("cpu"), notices=notices, measure_seconds=measure_seconds)
    phase("measure")(1, 1, 4 * 10 ** (-out.psnr_db / 10))  # what the decoder renders from the file
    return out


def segment_weight(level: float, reference_peak: float | None) -> float:
    """The factor on a segment's rate weight: (reference_peak / level)^2 for a segment whose samples were divided by
    `level` (its peak) in a clip of peak reference_peak, at least 1; 1 without a reference. Measured on the tuning clip
    guit_em9 (a chord fading over 10 s, its three 4 s segments peaking at 0.72, 0.30 and 0.06): with each segment at
    its own level, its quiet last segment was coded to the same relative error as the attack, 144x finer in the
    clip's units (the figures are beside AUDIO_OPTIONS)."""
    if not reference_peak or level <= 0:
        return 1.0
    return max(1.0, (reference_peak / level) ** 2)


def tail_seconds(pixels: int, time_limit: float) -> float:
    """The part of `--time` kept for what follows the fit: packing (entropy coding the latents) and
    decoding the file to measure it, about TAIL_SECONDS_PER_PIXEL each pixel, and at most half."""
    return min(0.5 * time_limit, 0.05 * time_limit + TAIL_SECONDS_PER_PIXEL * pixels)
