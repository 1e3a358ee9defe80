"""The entropy model of format 1.3, in exact integer arithmetic: contexts, the ARM, the Laplace parameters. No torch.

Why integers: the decoder must compute bit for bit the probabilities the encoder used, on any CPU or
GPU, or every latent after the first difference decodes to garbage. Every quantity here is an
integer (or an integer over a power of two), so float64 arithmetic on it is exact: products stay
below 2^40 and sums of at most MAX_FAN_IN of them below 2^53, in any summation order (BLAS, FMA).
docs/format.md section 10 is the normative text; in short:

* Order. Levels are coded coarsest first; within a level, pass 0 codes the anchors (row + column
  even) in row-major order, pass 1 the others. Everything a context reads is decoded before it.
* Context of latent (i, j) of level l, CONTEXT = 14 integers: the 3x3 latents of level l+1 around
  (i // 2, j // 2) (zero outside the grid, all zero at the coarsest level); in pass 1 the four
  same-level neighbours up, left, right, down (zero outside the grid; in pass 0 all four are zero);
  last the pass number (0 or 1). On video (format 1.6, VIDEO_CONTEXT = 23) a level's planes are coded in
  time order and 9 more integers follow: the 3x3 latents of the same level's previous plane around (i, j)
  (zero outside the plane, all zero for the first plane).
* ARM: arm_depth hidden layers of arm_width units, then 2 outputs. Activations carry ACT_BITS (8)
  fractional bits: the input is context * 2^8; a layer with weights W (integers over 2^sw) and
  biases b (integers over 2^sb, sb <= sw + 8) computes acc = W a + b * 2^(sw + 8 - sb), then
  a' = floor(acc / 2^sw), clamped to [0, 2^24] (ReLU) in hidden layers and to [-2^24, 2^24] at the output.
* Parameters: mean = out0 / 2^8, clamped to the latents' range; v = out1 + level_bias[l], clamped to
  [V_MIN, V_MAX], is log2 of the Laplace scale with 8 fractional bits, and the scale is
  dyadic_scale(v) = 2^floor(v / 256) * (1 + (v mod 256) / 256), exact in float64.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import PayloadError

CONTEXT = 14  # 9 coarser-level latents, 4 same-level neighbours, the pass number
VIDEO_CONTEXT = CONTEXT + 9  # and the previous plane's 3x3 (video, format 1.6)
ACT_BITS = 8
ACT_LIMIT = 1 << 24
MAX_FAN_IN = 64
V_MIN = -932  # log2 of the smallest Laplace scale, 8 fractional bits: dyadic_scale(V_MIN) = 0.0850
V_MAX = 12 * 256  # the largest scale, 4096
MAX_SHIFT = 24  # weight and bias scales are 2^-shift with 0 <= shift <= MAX_SHIFT


def dyadic_scale(v: np.ndarray | int, frac_bits: int = ACT_BITS) -> np.ndarray:
    """2^floor(v / 2^f) * (1 + (v mod 2^f) / 2^f): a monotone, exactly computable stand-in for 2^(v / 2^f)."""
    v = np.asarray(v, dtype=np.int64)
    unit = 1 << frac_bits
    return np.ldexp(1.0 + (v & (unit - 1)) / unit, (v >> frac_bits).astype(np.int32))


MIN_SCALE = float(dyadic_scale(V_MIN))
# The most probable integer under a Laplace of scale b has probability at most 1 - exp(-0.5 / b), so each
# coded latent costs at least MIN_BITS bits: a stream of S bytes holds at most LATENTS_PER_BIT * (8 S + 64)
# latents, and the decoder refuses a payload declaring more (its work is bounded by its bytes).
MIN_BITS = -math.log2(1.0 - math.exp(-0.5 / MIN_SCALE))
LATENTS_PER_BIT = math.ceil(1.0 / MIN_BITS)


def shift_of(scale: float) -> int | None:
    """The shift s of a power-of-two scale 2^-s with 0 <= s <= MAX_SHIFT, else None."""
    if not (isinstance(scale, float) and scale > 0 and math.isfinite(scale)):
        return None
    mantissa, exponent = math.frexp(scale)
    s = 1 - exponent
    return s if mantissa == 0.5 and 0 <= s <= MAX_SHIFT else None


class IntegerArm:
    """The ARM of a file: per layer (W as float64 integers, b aligned to W's scale, shift)."""

    def __init__(self, layers: list[tuple[np.ndarray, np.ndarray, int]], level_bias: np.ndarray):
        self.layers = layers
        self.level_bias = np.asarray(level_bias, dtype=np.int64)

    @classmethod
    def from_tensors(cls, tensors: dict[str, np.ndarray], depth: int) -> IntegerArm:
        """Build from the file's integer tensors arm.K.weight/bias and their power-of-two scales.

        Shapes were checked against the header (format/limits.py); the scales are checked here."""
        layers = []
        for k in range(depth + 1):
            sw = shift_of(float(tensors[f"arm.{k}.weight.scale"].reshape(-1)[0]))
            sb = shift_of(float(tensors[f"arm.{k}.bias.scale"].reshape(-1)[0]))
            if sw is None or sb is None or sb > sw + ACT_BITS:
                raise PayloadError(
                    f"entropy model layer {k}: scales must be 2^-s with 0 <= s <= {MAX_SHIFT}, "
                    f"the bias's s at most the weight's + {ACT_BITS}"
                )
            w = np.asarray(tensors[f"arm.{k}.weight"], dtype=np.float64)
            b = np.asarray(tensors[f"arm.{k}.bias"], dtype=np.float64) * float(2 ** (sw + ACT_BITS - sb))
            layers.append((w, b, sw))
        return cls(layers, np.asarray(tensors["arm.level"]).reshape(-1))

    def parameters(self, context: np.ndarray, level: int, limit: int) -> tuple[np.ndarray, np.ndarray]:
        """(mean, scale) float64 arrays of the Laplace of each row of `context` (N, CONTEXT) of `level`."""
        a = context.astype(np.float64) * float(1 << ACT_BITS)
        last = len(self.layers) - 1
        for k, (w, b, shift) in enumerate(self.layers):
            acc = a @ w.T + b
            a = np.floor(np.ldexp(acc, -shift))
            a = np.clip(a, -ACT_LIMIT if k == last else 0, ACT_LIMIT)
        mean = np.clip(a[:, 0] / float(1 << ACT_BITS), -limit, limit)
        v = np.clip(a[:, 1].astype(np.int64) + int(self.level_bias[level]), V_MIN, V_MAX)
        return mean, dyadic_scale(v)


DIRECT = ((-1, 0), (0, -1), (0, 1), (1, 0))  # up, left, right, down
DIAGONAL = ((-1, -1), (-1, 1), (1, -1), (1, 1))  # up-left, up-right, down-left, down-right (format 1.8's second pass)


MAX_PASSES = 9  # a level in at most 9 passes (format 1.9, the header's limit): rounds of stride 8, 4, 2, 1


def pass_masks(h: int, w: int, passes: int = 2) -> list[np.ndarray]:
    """The positions each pass of an h x w level codes, in order.

    2 passes (formats 1.3 to 1.7), the checkerboard: row + column even, then the rest. An odd number 2R + 1 of passes
    (3: format 1.8; 5, 7, 9: format 1.9) is R rounds on ever finer lattices, stride k = 2^(R-1) down to 1: the first
    pass codes the positions with row and column multiples of 2k; each round then codes the stride-k positions with
    row / k and column / k both odd (their diagonal stride-k neighbours are decoded), then the remaining stride-k
    positions (their direct stride-k neighbours are). With 3 passes: row and column even, both odd, the rest."""
    i, j = np.arange(h)[:, None], np.arange(w)[None, :]
    if passes == 2:
        anchors = np.broadcast_to((i + j) % 2 == 0, (h, w))
        return [anchors, ~anchors]
    rounds = (passes - 1) // 2
    masks = []
    for r in reversed(range(rounds)):
        k = 1 << r
        on = (i % k == 0) & (j % k == 0)
        a, b = (i // k) % 2, (j // k) % 2
        if r == rounds - 1:
            masks.append(on & (a == 0) & (b == 0))
        masks += [on & (a == 1) & (b == 1), on & ((a + b) % 2 == 1)]
    return [np.broadcast_to(m, (h, w)) for m in masks]


def busy_passes(h: int, w: int, passes: int = 2) -> int:
    """How many of pass_masks(h, w, passes) hold a position (the walk skips the empty ones), without building them:
    the first pass always (it holds (0, 0)); in the round of stride k, the both-odd pass when h > k and w > k, the other
    when h > k or w > k."""
    if passes == 2:
        return 1 + (h * w > 1)
    strides = [1 << r for r in range((passes - 1) // 2)]
    return 1 + sum(int(h > k and w > k) + int(h > k or w > k) for k in strides)


def same_offsets(passes: int, pass_: int) -> tuple[tuple[int, int], ...]:
    """The same-level neighbours pass `pass_` reads: in a round of stride k (pass_masks), the four diagonal ones k away
    in its first pass, the four direct ones k away in its second; the checkerboard's second pass reads the direct ones
    (a first pass reads none: its context holds zeros there)."""
    if passes == 2 or pass_ == 0:
        return DIRECT
    k = 1 << ((passes - 1) // 2 - 1 - (pass_ - 1) // 2)
    return tuple((k * di, k * dj) for di, dj in (DIAGONAL if pass_ % 2 == 1 else DIRECT))


def _neighbourhood(grid: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """(len(rows), len(cols), 9): the 3x3 latents of `grid` around each (rows[i], cols[j]), zero outside, row by row."""
    hp, wp = grid.shape
    padded = np.pad(grid.astype(np.int64), 1)
    out = np.zeros((rows.size, cols.size, 9), dtype=np.int64)
    for k, (di, dj) in enumerate((di, dj) for di in (-1, 0, 1) for dj in (-1, 0, 1)):
        out[:, :, k] = padded[1 + di : 1 + di + hp, 1 + dj : 1 + dj + wp][rows][:, cols]
    return out


def coarse_context(parent: np.ndarray | None, h: int, w: int) -> np.ndarray:
    """(h, w, 9): the 3x3 parent-level latents around (i // 2, j // 2), zero outside; zeros at the coarsest level."""
    if parent is None:
        return np.zeros((h, w, 9), dtype=np.int64)
    return _neighbourhood(parent, np.arange(h) // 2, np.arange(w) // 2)


def same_context(held: np.ndarray, offsets: tuple[tuple[int, int], ...] = DIRECT) -> np.ndarray:
    """(h, w, 4): the neighbours at `offsets` of each latent of a level holding only its decoded latents (zero
    elsewhere and outside the grid)."""
    h, w = held.shape
    r = max(max(abs(di), abs(dj)) for di, dj in offsets)
    p = np.pad(held.astype(np.int64), r)
    return np.stack([p[r + di : r + di + h, r + dj : r + dj + w] for di, dj in offsets], axis=-1)


def previous_context(previous: np.ndarray | None, h: int, w: int) -> np.ndarray:
    """(h, w, 9): the 3x3 latents of the previous plane around (i, j), zero outside; zeros for a level's first plane."""
    if previous is None:
        return np.zeros((h, w, 9), dtype=np.int64)
    return _neighbourhood(previous, np.arange(h), np.arange(w))


def pass_context(coarse: np.ndarray, held: np.ndarray | None, mask: np.ndarray, pass_: int,
                 previous: np.ndarray | None = None, offsets: tuple[tuple[int, int], ...] = DIRECT) -> np.ndarray:
    """(N, CONTEXT) contexts of the latents of one pass, in row-major order of `mask`: `held` is the level with its
    earlier passes' latents (None in the first pass), read at `offsets`; (N, VIDEO_CONTEXT) with the previous
    plane's context `previous` (h, w, 9)."""
    n = int(mask.sum())
    same = np.zeros((n, 4), dtype=np.int64) if held is None else same_context(held, offsets)[mask]
    flag = np.full((n, 1), pass_, dtype=np.int64)
    parts = [coarse[mask], same, flag] + ([] if previous is None else [previous[mask]])
    return np.concatenate(parts, axis=1)
