"""EncodeConfig and the named presets: what the user asks for, and what it resolves to (plain encoder)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

from ..format.header import ALLOWED_ACTIVATIONS as ACTIVATIONS
from ..format.header import ALLOWED_BITS as BIT_WIDTHS
from ..format.header import ALLOWED_DAMPINGS as DAMPINGS
from ..nn.device import DEVICES

Preset = Literal["fast", "balanced", "max", "paper"]
PRESETS: tuple[str, ...] = get_args(Preset)


@dataclass(frozen=True)
class PresetSpec:
    """A preset: network size per sample (or fixed), step budget and learning rates."""

    params_per_sample: float | None  # None: fixed width/depth below
    depth: int
    width: int | None
    steps: int
    lr: float
    bits: int
    qat_steps: int
    qat_lr: float
    damping: str = "sqrt"
    batch_size: int | None = None  # None: full batch while it fits fit.py's memory budget


PRESET_SPECS: dict[str, PresetSpec] = {
    "fast": PresetSpec(0.10, 2, None, 150, 1e-3, 8, 50, 1e-4),
    "balanced": PresetSpec(0.20, 3, None, 300, 1e-3, 8, 100, 1e-4),
    "max": PresetSpec(0.40, 3, None, 1000, 1e-3, 10, 200, 5e-5),
    "paper": PresetSpec(None, 5, 256, 500, 1e-4, 16, 0, 1e-5),
}
# Audio and video: parameters per sample (audio: per sample frame, video: per pixel of every frame).
# Audio uses atan damping: with the time axis at [-100, 100] the first layer's z reaches ~3000, where
# sqrt|z| (or log|z|) blows the activations up (measured: SNR 0 dB on speech_voice.wav, atan 13.8 dB);
# lr 5e-4 was SPDER's best of 1e-4, 2e-4, 5e-4, 1e-3 there. `paper` is the paper's recipe: audio
# 5x256, atan, lr 5e-5; video 12 hidden layers of 1024 at lr 5e-6. Video always trains on random
# minibatches of batch_size coordinates, so memory for activations stays bounded at any length.
MODALITY_PRESET_SPECS: dict[str, dict[str, PresetSpec]] = {
    "audio": {
        "fast": PresetSpec(0.10, 3, None, 1000, 5e-4, 8, 200, 5e-5, "atan", 1 << 14),
        "balanced": PresetSpec(0.20, 3, None, 2000, 5e-4, 8, 300, 5e-5, "atan", 1 << 15),
        "max": PresetSpec(0.40, 4, None, 4000, 2e-4, 10, 500, 2e-5, "atan", 1 << 16),
        "paper": PresetSpec(None, 5, 256, 1000, 5e-5, 16, 0, 5e-6, "atan"),
    },
    "video": {
        "fast": PresetSpec(0.004, 3, None, 1000, 1e-3, 8, 200, 1e-4, "sqrt", 1 << 14),
        "balanced": PresetSpec(0.008, 3, None, 2000, 1e-3, 8, 300, 1e-4, "sqrt", 1 << 15),
        "max": PresetSpec(0.02, 4, None, 5000, 5e-4, 10, 500, 5e-5, "sqrt", 1 << 16),
        "paper": PresetSpec(None, 12, 1024, 1000, 5e-6, 16, 0, 5e-7, "sqrt", 1 << 16),
    },
}
MIN_WIDTH, MAX_WIDTH = 8, 1024
# The between-samples regulariser (train/between.py) per modality: weight mu of the off-grid MSE against
# the signal's trivial interpolant (images: bicubic in y and x; audio: cubic in t; video: frame blending
# in t), measured in benchmarks/results/anyres/levers.md. 0 leaves the plain fit.
MAX_BETWEEN_WEIGHT = 100.0


@dataclass(frozen=True)
class EncodeConfig:
    """Encoder settings; None means "the preset decides". CLI defaults equal these."""

    preset: str = "balanced"
    steps: int | None = None
    time_limit: float | None = None
    bits: int | None = None
    width: int | None = None
    depth: int | None = None
    activation: str = "spder"
    damping: str | None = None  # None: the preset's (sqrt; atan for audio)
    lr: float | None = None
    seed: int = 0
    device: str = "auto"
    bpp: float | None = None  # images: target bits per pixel of the whole file (rate/bpp.py)
    quality: float | None = None  # images: 0 (smallest) .. 100 (best) on the latent-grid engine (rate/quality.py); None: 75
    arch: str = "auto"  # "grid" (latent grids + entropy model), "mlp" (plain coordinate SPDER), "auto" (see engine())
    between_weight: float = 0.0  # off-grid regulariser weight (0: off, the default for every medium); plain encoder
    segment: float = 4.0  # audio: seconds per independently fitted segment (format 1.4); 0: one network over the clip

    def __post_init__(self) -> None:
        checks = [
            (self.preset in PRESETS, f"preset must be one of {', '.join(PRESETS)}"),
            (self.activation in ACTIVATIONS and self.activation != "hashgrid", "unknown activation"),
            (self.damping is None or (self.damping in DAMPINGS and self.damping != "none"), "unknown damping"),
            (self.bits is None or self.bits in BIT_WIDTHS, f"bits must be one of {BIT_WIDTHS}"),
            (self.steps is None or 0 <= self.steps <= 10_000_000, "steps must be in 0..10000000"),
            (self.width is None or MIN_WIDTH <= self.width <= 4096, f"width must be in {MIN_WIDTH}..4096"),
            (self.depth is None or 0 <= self.depth <= 32, "depth must be in 0..32"),
            (self.lr is None or (math.isfinite(self.lr) and 0 < self.lr < 1), "lr must be in (0, 1)"),
            (self.time_limit is None or (math.isfinite(self.time_limit) and self.time_limit > 0), "time must be > 0"),
            (self.device in DEVICES, f"device must be one of {', '.join(DEVICES)}"),
            (self.bpp is None or (math.isfinite(self.bpp) and 0 < self.bpp <= 64), "bpp must be in (0, 64]"),
            (math.isfinite(self.between_weight) and 0 <= self.between_weight <= MAX_BETWEEN_WEIGHT,
             f"between weight must be in 0..{MAX_BETWEEN_WEIGHT:g}"),
            (self.bpp is None or not self.between_weight, "bpp is the rate-control encoder: leave between weight unset"),
            (self.arch in ARCHS, f"arch must be one of {', '.join(ARCHS)}"),
            (math.isfinite(self.segment) and (self.segment == 0 or 0.05 <= self.segment <= 3600),
             "segment must be 0 (off) or 0.05..3600 seconds"),
            (self.quality is None or (math.isfinite(self.quality) and 0 <= self.quality <= 100), "quality must be in 0..100"),
            (self.quality is None or self.bpp is None, "use either quality or bpp"),
            (self.quality is None or self.arch != "mlp", "quality sets the latent-grid engine's rate: not with arch mlp"),
            (self.bpp is None or (self.width is None and self.bits is None),
             "bpp chooses the width and bits itself: leave width and bits unset"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)


    def plain_settings(self) -> list[str]:
        """The settings that only the plain coordinate network has (the grid engine sizes itself)."""
        named = {"width": self.width, "bits": self.bits, "between weight": self.between_weight or None}
        out = [name for name, value in named.items() if value is not None]
        if self.activation != "spder":
            out.append("activation")
        return out

    def engine(self, modality: str) -> str:
        """"grid" or "mlp": auto picks the grid for images, audio and video (format 1.6), except for the
        paper preset and plain-network settings."""
        if self.arch != "auto":
            return self.arch
        if self.preset == "paper" or self.plain_settings():
            return "mlp"
        return "grid"


ARCHS = ("auto", "grid", "mlp")


@dataclass(frozen=True)
class Resolved:
    """Concrete numbers for one encode."""

    width: int
    depth: int
    steps: int
    lr: float
    bits: int
    qat_steps: int
    qat_lr: float
    damping: str = "sqrt"
    batch_size: int | None = None
    notices: tuple[str, ...] = ()  # where the numbers differ from what the preset asked, one line each
    between_weight: float = 0.0  # the off-grid regulariser's weight (train/between.py)


def resolve(config: EncodeConfig, num_samples: int, channels: int, in_features: int, modality: str = "image") -> Resolved:
    """Fill every None in `config` from its preset, sizing the net by the number of samples."""
    spec = MODALITY_PRESET_SPECS.get(modality, PRESET_SPECS)[config.preset]
    depth = spec.depth if config.depth is None else config.depth
    notices: list[str] = []
    width = config.width or spec.width
    if width is None:
        budget = spec.params_per_sample * num_samples * max(1, channels) ** 0.5
        # params ~ depth w^2 + (in + 1 + out + depth + 1) w  ->  solve for w
        a, b = max(depth, 1), in_features + channels + depth + 2
        asked = int((-b + math.sqrt(b * b + 4 * a * budget)) / (2 * a))
        width = max(MIN_WIDTH, min(MAX_WIDTH, asked))
        if asked > MAX_WIDTH:
            notices.append(f"preset {config.preset} asks for width {asked} for {num_samples:,} samples: "
                           f"clamped to {MAX_WIDTH} (pass --width to choose)")
    steps = spec.steps if config.steps is None else config.steps
    bits = spec.bits if config.bits is None else config.bits
    qat = 0 if bits >= 32 else spec.qat_steps
    if config.steps is not None:
        qat = min(qat, max(0, config.steps // 3))
    lr = spec.lr if config.lr is None else config.lr
    damping = config.damping or spec.damping
    return Resolved(width, depth, steps, lr, bits, qat, spec.qat_lr if config.lr is None else lr / 10, damping, spec.batch_size,
                    tuple(notices), float(config.between_weight))
