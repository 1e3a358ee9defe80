"""Adaptive binary range coding of integer tensors (format 1.1 payload coding "rc"). No torch.

Why: the latents of a grid model are mostly zeros that cluster in flat regions; an adaptive
coder whose contexts see the already-coded neighbours spends fewer bytes than zstd on the same
integers (benchmarks/results/rd/entropy.md). Everything is integer arithmetic, so encoder and
decoder agree bit for bit on every platform.

Coder: the LZMA range coder (32-bit range, carry propagation through a cached byte), 12-bit
probabilities, adaptation shift 4, all probabilities starting at 1/2.

Binarisation of one integer v under a context class c (docs/format.md, section 8):
  zero flag  [v != 0]                               context (stream, "z", c)
  sign       [v < 0]                                context (stream, "s")
  m = |v| - 1, k = bit_length(m + 1) - 1 (0..30):
  prefix     k ones then a zero (no zero when k = 30) context (stream, "p", min(i, 15), c)
  suffix     the k low bits of m + 1, high to low    context (stream, "x", min(k, 15), j)

Streams and classes: each latent level is a 2-D grid coded row-major, coarsest level first;
its class counts |left| + |up| + |up-left| + |up-right| (same level, clipped to 0..3) plus 4 when
the co-located value of the next coarser level is non-zero. Every other tensor is coded in C
order as the stream "w" with class 0.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

PROB_BITS = 12
PROB_INIT = 1 << (PROB_BITS - 1)
ADAPT_SHIFT = 4
TOP = 1 << 24
MASK32 = 0xFFFFFFFF
MAX_PREFIX = 30
CTX_CAP = 15


class RangeEncoder:
    """Binary adaptive range encoder; `bit(ctx, b)` codes b under the adaptive context ctx."""

    def __init__(self) -> None:
        self.low, self.range, self.cache, self.cache_size = 0, MASK32, 0, 1
        self.out = bytearray()
        self.probs: dict = {}

    def _shift_low(self) -> None:
        if self.low < 0xFF000000 or self.low > MASK32:
            carry = self.low >> 32
            temp = self.cache
            while True:
                self.out.append((temp + carry) & 0xFF)
                temp = 0xFF
                self.cache_size -= 1
                if self.cache_size == 0:
                    break
            self.cache = (self.low >> 24) & 0xFF
        self.cache_size += 1
        self.low = (self.low << 8) & MASK32

    def bit(self, ctx, b: int) -> None:
        p = self.probs.get(ctx, PROB_INIT)
        bound = (self.range >> PROB_BITS) * p
        if b:
            self.low += bound
            self.range -= bound
            self.probs[ctx] = p - (p >> ADAPT_SHIFT)
        else:
            self.range = bound
            self.probs[ctx] = p + (((1 << PROB_BITS) - p) >> ADAPT_SHIFT)
        while self.range < TOP:
            self.range <<= 8
            self._shift_low()

    def finish(self) -> bytes:
        for _ in range(5):
            self._shift_low()
        return bytes(self.out[1:])  # the first byte the LZMA coder emits is always 0


class RangeDecoder:
    """Mirror of RangeEncoder; reading past the end yields zero bytes (the encoder's flush)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = b"\x00" + bytes(data), 0
        self.range, self.code = MASK32, 0
        self.probs: dict = {}
        for _ in range(5):
            self.code = (self.code << 8) | self._byte()

    def _byte(self) -> int:
        b = self.data[self.pos] if self.pos < len(self.data) else 0
        self.pos += 1
        return b

    def bit(self, ctx) -> int:
        p = self.probs.get(ctx, PROB_INIT)
        bound = (self.range >> PROB_BITS) * p
        if self.code < bound:
            self.range = bound
            self.probs[ctx] = p + (((1 << PROB_BITS) - p) >> ADAPT_SHIFT)
            b = 0
        else:
            self.code -= bound
            self.range -= bound
            self.probs[ctx] = p - (p >> ADAPT_SHIFT)
            b = 1
        while self.range < TOP:
            self.range = (self.range << 8) & MASK32
            self.code = ((self.code << 8) | self._byte()) & MASK32
        return b

    def overrun(self) -> int:
        """Bytes read beyond the data (a valid stream needs at most the 4 flushed ones)."""
        return max(0, self.pos - len(self.data))


def _encode_int(enc: RangeEncoder, stream, v: int, c: int) -> None:
    enc.bit((stream, "z", c), int(v != 0))
    if v == 0:
        return
    enc.bit((stream, "s"), int(v < 0))
    n = abs(v)  # = m + 1 >= 1
    k = n.bit_length() - 1
    for i in range(min(k, MAX_PREFIX)):
        enc.bit((stream, "p", min(i, CTX_CAP), c), 1)
    if k < MAX_PREFIX:
        enc.bit((stream, "p", min(k, CTX_CAP), c), 0)
    for j in range(k - 1, -1, -1):
        enc.bit((stream, "x", min(k, CTX_CAP), j), (n >> j) & 1)


def _decode_int(dec: RangeDecoder, stream, c: int) -> int:
    if not dec.bit((stream, "z", c)):
        return 0
    negative = dec.bit((stream, "s"))
    k = 0
    while k < MAX_PREFIX and dec.bit((stream, "p", min(k, CTX_CAP), c)):
        k += 1
    n = 1
    for j in range(k - 1, -1, -1):
        n = (n << 1) | dec.bit((stream, "x", min(k, CTX_CAP), j))
    return -n if negative else n


def _grid_class(g: np.ndarray, parent: np.ndarray | None, i: int, j: int) -> int:
    h, w = g.shape
    a = 0
    if j > 0:
        a += abs(int(g[i, j - 1]))
    if i > 0:
        a += abs(int(g[i - 1, j]))
        if j > 0:
            a += abs(int(g[i - 1, j - 1]))
        if j + 1 < w:
            a += abs(int(g[i - 1, j + 1]))
    c = min(a, 3)
    if parent is not None and parent[i // 2, j // 2] != 0:
        c += 4
    return c


def encode_grids(enc: RangeEncoder, grids: list[np.ndarray]) -> None:
    """Code 2-D integer grids (finest first in the list), coarsest first, with spatial contexts."""
    parent = None
    for lv in range(len(grids) - 1, -1, -1):
        g = grids[lv].astype(np.int64)
        h, w = g.shape
        for i in range(h):
            for j in range(w):
                _encode_int(enc, lv, int(g[i, j]), _grid_class(g, parent, i, j))
        parent = g


def decode_grids(dec: RangeDecoder, shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    grids: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(shapes)
    parent = None
    for lv in range(len(shapes) - 1, -1, -1):
        h, w = shapes[lv]
        g = np.zeros((h, w), dtype=np.int64)
        for i in range(h):
            for j in range(w):
                g[i, j] = _decode_int(dec, lv, _grid_class(g, parent, i, j))
        grids[lv] = g
        parent = g
    return grids


def encode_values(enc: RangeEncoder, values: Iterable[int], stream="w") -> None:
    """Code a sequence of integers with no spatial context."""
    for v in values:
        _encode_int(enc, stream, int(v), 0)


def decode_values(dec: RangeDecoder, count: int, stream="w") -> np.ndarray:
    return np.array([_decode_int(dec, stream, 0) for _ in range(count)], dtype=np.int64)
