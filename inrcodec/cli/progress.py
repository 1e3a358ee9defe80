"""Progress reporting: a tqdm bar on a terminal, plain lines elsewhere (CI, pipes), nothing with -q."""

from __future__ import annotations

import math
import sys
import time


class ProgressReporter:
    """Callable with (phase, step, total, loss, seconds); shows step, PSNR and ETA."""

    def __init__(self, quiet: bool = False, stream=None, line_every: float = 5.0, prefix: str = ""):
        self.quiet = quiet
        self.prefix = prefix  # before each phase's name: a batch's "[2/5] photo.png: "
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.line_every = line_every
        self._bar = None
        self._phase = None
        self._last_line = 0.0

    def __call__(self, phase: str, step: int, total: int, loss: float, seconds: float) -> None:
        if self.quiet:
            return
        from ..metrics import psnr_from_mse

        phase = self.prefix + phase
        db = psnr_from_mse(loss)
        quality = f"PSNR {db:.2f} dB" if math.isfinite(db) else "PSNR not measured yet"  # minibatch fits score every few steps
        if self.tty:
            from tqdm import tqdm

            if phase != self._phase:
                self.close()
                self._bar = tqdm(total=total, desc=phase, unit="step", file=self.stream, leave=False, dynamic_ncols=True)
                self._phase = phase
            assert self._bar is not None
            self._bar.n = step
            self._bar.set_postfix_str(quality, refresh=True)
            return
        now = time.monotonic()
        if phase != self._phase or step == total or now - self._last_line >= self.line_every:
            eta = f"ETA {seconds / step * (total - step):.0f} s" if step else "starting"  # no rate to project before a step
            print(f"{phase}: step {step}/{total}, {quality}, {seconds:.0f} s, {eta}", file=self.stream, flush=True)
            self._phase = phase
            self._last_line = now

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
