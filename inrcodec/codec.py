"""Orchestration: Signal -> fitted, quantized .spdr bytes, and .spdr bytes -> samples on any grid."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from . import __version__, container, safety
from .avcodec import eval_interval, measure, value_map
from .config import EncodeConfig, Resolved, resolve
from .errors import NetworkError, OutputTooLargeError, SpdrError
from .fit import FitOptions, fit, full_loss
from .grid import grid_coords, iter_chunks
from .metrics import psnr, rho_ag
from .model import build_model, count_parameters
from .quantize import (
    attach_fake_quant,
    bit_plan,
    dequantize_state,
    detach_fake_quant,
    quantize_state,
)
from .signal import AXES, Signal

COORD_SCALES = {"image": 1.0, "audio": 100.0, "video": 1.0}  # audio: the paper's [-100, 100] time axis
RENDER_CHUNK = 1 << 16
MAX_OUTPUT_SAMPLES = 1 << 27  # decodes above this many grid points need force=True

Progress = Callable[[str, int, int, float, float], None]  # (phase, step, total, loss, seconds)


@dataclass
class EncodeResult:
    """The written bytes and the facts `spdr encode` reports (measured from those bytes)."""

    data: bytes
    header: dict
    steps: int
    seconds: float
    params: int
    float_psnr_db: float
    psnr_db: float
    rho_ag: float
    resolved: Resolved
    snr_db: float | None = None  # audio
    frame_psnr_db: list[float] | None = None  # video, one per frame

    @property
    def bytes(self) -> int:
        return len(self.data)


def pick_device(name: str) -> torch.device:
    """'auto' -> cuda, then mps, then cpu; an unavailable explicit choice is an error."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise SpdrError("--device cuda: no CUDA device is available")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise SpdrError("--device mps: no MPS device is available")
    return torch.device(name)


def _arch(config: EncodeConfig, r: Resolved, in_features: int, channels: int) -> dict:
    arch = {
        "activation": config.activation,
        "damping": r.damping if config.activation == "spder" else "none",
        "in_features": in_features,
        "out_features": channels,
        "width": r.width,
        "depth": r.depth,
        "omega0": 30.0,
        "first_omega0": 30.0,
    }
    if config.activation == "relu-pe":
        arch["pe_frequencies"] = 10
    if config.activation == "relu-ffn":
        arch.update(ffn_features=max(16, r.width // 2), ffn_sigma=10.0)
    return arch


def encode_signal(signal: Signal, config: EncodeConfig = EncodeConfig(), progress: Progress | None = None) -> EncodeResult:
    """Fit, quantize and pack `signal`; PSNR and rho_AG are measured by decoding the packed bytes."""
    if config.bpp is not None:  # a size target: the rate control picks network, bits and steps
        from .ratecontrol import encode_bpp

        return encode_bpp(signal, config, progress)
    device = pick_device(config.device)
    axes = AXES[signal.modality]
    scales = [COORD_SCALES[signal.modality] if a == "t" and signal.modality == "audio" else 1.0 for a in axes]
    r = resolve(config, signal.num_samples, signal.channels, len(axes), signal.modality)
    torch.manual_seed(config.seed)
    arch = _arch(config, r, len(axes), signal.channels)
    safety.check_arch_size(arch)
    model = build_model(arch).to(device)
    coords = grid_coords(signal.grid_shape, scales, device=device)
    fit_values, value_header = value_map(signal)  # audio: amplitude max|x| -> 1
    values = torch.from_numpy(fit_values).to(device)
    start = time.perf_counter()
    budget = config.time_limit
    float_budget = None if budget is None else budget * (0.8 if r.qat_steps else 1.0)

    def phase(name: str):
        return None if progress is None else (lambda s, n, loss, t: progress(name, s, n, loss, t))

    every = eval_interval(signal.num_samples, r.batch_size)
    fopts = FitOptions(steps=r.steps, lr=r.lr, time_limit=float_budget, seed=config.seed, batch_size=r.batch_size, eval_every=every)
    result = fit(model, coords, values, fopts, phase("fit"))
    float_loss = result.best_loss * value_header["scale"][0] ** 2  # MSE at the original level
    steps = result.steps
    plan = bit_plan(model, r.bits)
    if r.qat_steps:
        tuned = copy.deepcopy(model)
        attach_fake_quant(tuned, plan)
        remaining = None if budget is None else max(0.0, budget - (time.perf_counter() - start))
        if remaining is None or remaining > 0:
            qopts = FitOptions(steps=r.qat_steps, lr=r.qat_lr, time_limit=remaining, seed=config.seed + 1, batch_size=r.batch_size,
                               eval_every=every)
            qres = fit(tuned, coords, values, qopts, phase("quantize"))
            steps += qres.steps
        detach_fake_quant(tuned)
        model = tuned if _quantized_loss(tuned, plan, coords, values) <= _quantized_loss(model, plan, coords, values) else model
    tensors, quant = quantize_state(model.cpu(), plan)
    header = {
        "modality": signal.modality,
        "signal": dict(signal.meta),
        "coords": {"convention": "pixel-centre", "axes": list(axes), "scale": scales},
        "values": value_header,
        "arch": arch,
        "quant": quant,
        "encoder": {"tool": f"spdr {__version__}", "preset": config.preset, "steps": steps, "seed": config.seed, "lr": r.lr},
    }
    if r.batch_size is not None:
        header["encoder"]["batch_size"] = r.batch_size
    data = container.pack(header, tensors)
    seconds = time.perf_counter() - start
    if signal.modality != "image":
        m = measure(signal, data, device)
        return EncodeResult(data, header, steps, seconds, count_parameters(model), _psnr_of_loss(float_loss),
                            m["psnr_db"], m["rho_ag"], r, m.get("snr_db"), m.get("frame_psnr_db"))
    decoded = decode_samples(data)
    from .media.image import pixels_to_unit, to_pixels

    if signal.modality == "image":
        depth = signal.meta["bit_depth"]
        out = pixels_to_unit(to_pixels(decoded, depth), depth)
        ref = pixels_to_unit(to_pixels(signal.data, depth), depth)
    else:
        out, ref = np.clip(decoded, -1, 1), signal.data
    rho = rho_ag(out, ref, axes=tuple(range(len(axes))))
    return EncodeResult(data, header, steps, seconds, count_parameters(model), _psnr_of_loss(float_loss), psnr(out, ref), rho, r)


def _psnr_of_loss(loss: float) -> float:
    from .metrics import psnr_from_mse

    return psnr_from_mse(loss)


def _quantized_loss(model: torch.nn.Module, plan: dict, coords: torch.Tensor, values: torch.Tensor) -> float:
    probe = copy.deepcopy(model).cpu()
    tensors, quant = quantize_state(probe, plan)
    probe.load_state_dict(dequantize_state(tensors, quant))
    return full_loss(probe.to(coords.device), coords, values)


def load_model(header: dict, tensors: dict) -> torch.nn.Module:
    """An empty network built from the header, then filled strictly from the file's tensors.

    safety refuses unsupported, oversized or overflowing networks before any weight is allocated.
    """
    safety.check_header(header)
    safety.check_weights(header, tensors)
    try:
        if safety.expected_tensors(header["arch"]) is None:  # another module's network: size it on the meta device first
            with torch.device("meta"):
                safety.check_shapes(header, {k: list(v.shape) for k, v in build_model(header["arch"]).state_dict().items()})
        model = build_model(header["arch"])
    except SpdrError:
        raise
    except (ImportError, ValueError, TypeError, KeyError, RuntimeError, NotImplementedError) as e:
        raise NetworkError(f"cannot build the header's {header['arch']['activation']} network: {str(e).splitlines()[0]}") from None
    try:
        model.load_state_dict(dequantize_state(tensors, header["quant"]), strict=True)
    except (RuntimeError, KeyError) as e:
        raise container.TensorMismatch(f"tensors do not fit the header's network: {str(e).splitlines()[0]}") from e
    return model.eval()


def output_shape(header: dict, scale: float | None = None, size: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """The grid to render: native, scaled by `scale` on the spatial/time axes, or an explicit size."""
    sig = header["signal"]
    native = {"image": (sig["height"], sig["width"]), "audio": (sig.get("samples", 0),),
              "video": (sig.get("frames", 0), sig.get("height", 0), sig.get("width", 0))}[header["modality"]]
    if size is not None:
        return tuple(int(s) for s in size)
    if scale is not None:
        return tuple(max(1, int(round(n * scale))) for n in native)
    return tuple(int(n) for n in native)


def render(model: torch.nn.Module, header: dict, shape: tuple[int, ...], convert: Callable[[np.ndarray], np.ndarray] | None = None,
           device: torch.device = torch.device("cpu"), gradient: bool = False,
           progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Evaluate the network on `shape` in chunks; `convert` maps each float chunk to the stored dtype.

    With gradient=True each sample is |d output / d coords| (mean over channels), as float32.
    """
    total = int(np.prod(shape))
    channels = 1 if gradient else header["arch"]["out_features"]
    scales = header["coords"]["scale"]
    model = model.to(device)
    out: np.ndarray | None = None
    for s, e in iter_chunks(total, safety.render_rows(header["arch"])):
        x = grid_coords(shape, scales, s, e, device=device)
        if gradient:
            x.requires_grad_(True)
            y = model(x).mean(dim=-1).sum()
            (g,) = torch.autograd.grad(y, x)
            chunk = (g * torch.tensor(scales, device=device)).norm(dim=-1, keepdim=True).detach().cpu().numpy()
        else:
            with torch.no_grad():
                chunk = model(x).cpu().numpy()
                off = np.asarray(header["values"]["offset"], dtype=np.float32)
                sc = np.asarray(header["values"]["scale"], dtype=np.float32)
                chunk = chunk * sc + off
        safety.check_finite(chunk)
        if convert is not None:
            chunk = convert(chunk)
        if out is None:
            out = np.empty((total, channels), dtype=chunk.dtype)
        out[s:e] = chunk
        if progress is not None:
            progress(e, total)
    assert out is not None
    return out.reshape(*shape, channels)


def check_output_size(shape: tuple[int, ...], force: bool) -> None:
    """Refuse absurd renders unless forced, naming the size."""
    total = int(np.prod([int(s) for s in shape]))
    if min(shape) < 1:
        raise SpdrError(f"output size {'x'.join(map(str, shape))} is empty")
    if total > MAX_OUTPUT_SAMPLES and not force:
        raise OutputTooLargeError(f"output would be {'x'.join(map(str, shape))} ({total:,} samples); pass --force to render it")
    if total > safety.physical_memory():  # at least a byte per sample: cannot be held, even with --force
        raise OutputTooLargeError(f"output would be {'x'.join(map(str, shape))} ({total:,} samples), "
                                  f"more than this machine's {safety.physical_memory():,} bytes of memory")


def decode_samples(data: bytes, scale: float | None = None, size: tuple[int, ...] | None = None, device: str = "cpu",
                   force: bool = False, gradient: bool = False) -> np.ndarray:
    """Float samples in [-1, 1] (unclipped) on the requested grid, shape (*grid, channels)."""
    header, tensors = safety.read_checked(data)
    shape = output_shape(header, scale, size)
    check_output_size(shape, force)
    model = load_model(header, tensors)
    return render(model, header, shape, device=pick_device(device), gradient=gradient)
