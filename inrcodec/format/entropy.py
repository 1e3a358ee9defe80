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

Decoder bounds (docs/format.md, section 9), so that a hostile stream costs work in proportion to
its bytes:

* Stream end. The decoder reads exactly as many bytes as the encoder emitted (5 initial bytes,
  then one per renormalisation, which the encoder mirrors with one shift-low each; the final five
  shift-lows flush `low`). The stored stream drops the encoder's trailing zero bytes, so a valid
  stream's decoder reads past its end exactly as many bytes as were stripped. Measured: 0 or 1 on
  real encodes; more only when the last coded decisions are long runs of 0 bits (a final all-zero
  weight row). The decoder refuses, the moment it happens, a read more than MAX_OVERRUN (16) bytes
  past the end (`PayloadError("range-coded stream ends early ...")`), and the encoder never strips
  more than MAX_OVERRUN zeros (`RangeEncoder.stream`), so every file it writes is accepted.
* Decisions per byte. A probability never leaves 15..4081 (p += (4096 - p) >> 4 stops at 4081,
  p -= p >> 4 stops at 15), so one decision leaves at most a fraction
  r = 1 - 15 * 4095 / 2**24 of `range` (the most probable symbol of a saturated context; the
  1 - p/4096 + p/2**24 of a 1 bit includes the rounding of range >> 12, with range >= 2**24).
  `range` starts below 2**32, ends at or above 2**24 and gains 8 bits per byte read, so N
  decisions need B bytes read after the first five with N * log2(1/r) <= 8 * (B + 1):
  8 / log2(1/r) = 1511.8, at most DECISIONS_PER_BYTE = 1512 decisions per byte. A stream of S
  stored bytes is read to at most S + 1 + MAX_OVERRUN bytes (the prepended 0 included), so it
  holds at most max_decisions(S) = 1512 * (S + MAX_OVERRUN - 3) decisions; every integer costs
  at least one (its zero flag), so a payload declaring more values is refused before decoding.
* Work. Decoding is therefore bounded by max_decisions(S) binary decisions and as many integers:
  about 1.2 us per latent on a 2024 laptop core, some 2 ms per stream byte at the worst
  (a saturated run of zeros), whatever the header declares.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..errors import PayloadError

PROB_BITS = 12
PROB_INIT = 1 << (PROB_BITS - 1)
ADAPT_SHIFT = 4
TOP = 1 << 24
MASK32 = 0xFFFFFFFF
MAX_PREFIX = 30
CTX_CAP = 15
MAX_OVERRUN = 16  # bytes a decoder may read past the stored stream (the zeros the encoder stripped)
DECISIONS_PER_BYTE = 1512  # >= 8 / log2(1 / (1 - 15 * 4095 / 2**24)) = 1511.8, see the module docstring


def max_decisions(stream_bytes: int) -> int:
    """The most binary decisions (so integers) a stored stream of `stream_bytes` bytes can hold."""
    return DECISIONS_PER_BYTE * (stream_bytes + MAX_OVERRUN - 3)


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
        """The whole coded stream (flushed once: later calls return the same bytes)."""
        if not getattr(self, "_finished", False):
            for _ in range(5):
                self._shift_low()
            self._finished = True
        return bytes(self.out[1:])  # the first byte the LZMA coder emits is always 0

    def stream(self) -> bytes:
        """finish() without its trailing zero bytes, but never more than MAX_OVERRUN of them.

        The decoder reads the stripped zeros back past the end; stripping at most what it allows
        keeps every stream this encoder writes decodable.
        """
        full = self.finish()
        return full[:max(len(full.rstrip(b"\x00")), len(full) - MAX_OVERRUN)]


class RangeDecoder:
    """Mirror of RangeEncoder; reading past the end yields zero bytes (the zeros the encoder stripped).

    Reading more than `max_overrun` bytes past the end raises PayloadError at once: the stream
    ended early (it was cut, or a header declares more values than it holds).
    """

    def __init__(self, data: bytes, max_overrun: int = MAX_OVERRUN) -> None:
        self.data, self.pos = b"\x00" + bytes(data), 0
        self.end, self.max_overrun = len(self.data), max_overrun
        self.range, self.code = MASK32, 0
        self.probs: dict = {}
        for _ in range(5):
            self.code = (self.code << 8) | self._byte()

    def _byte(self) -> int:
        pos = self.pos
        self.pos = pos + 1
        if pos < self.end:
            return self.data[pos]
        if pos - self.end >= self.max_overrun:
            raise PayloadError(f"range-coded stream ends early: the decoder needs more than {self.max_overrun} "
                               f"bytes past the {self.end - 1} stored (file cut or values missing)")
        return 0

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
