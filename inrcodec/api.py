"""The Python API: encode(), decode(), decode_frames(), info(); the CLI is a thin layer over these.

A file is read and checked once (read_spdr, torch-free) and the checked contents are handed on, so
callers that already hold a CheckedFile (the CLI refuses hostile files before torch is imported)
never parse it twice.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from . import files
from .errors import MediaError, OutputExistsError, OutputTooLargeError
from .format import container
from .format.limits import CheckedFile, read_checked

Source = bytes | bytearray | memoryview | str | os.PathLike | CheckedFile
_clock = time.perf_counter  # encode()'s clock for time_limit (a test's fake clock replaces it here only)
FINISH_SECONDS, FINISH_SHARE = 1.5, 0.01  # finishing_reserve: at most this, or this share of a short time_limit
STACKED_VIDEO_BYTES = 1 << 30  # decode() of a video returns one array: above this it refuses (decode_frames() streams)


def _source_signal(source: Any, partial: bool = False, **selection):
    from .media import load
    from .media.audio import AudioSource
    from .media.image import array_to_signal
    from .media.video import VideoSource
    from .signal import Signal

    if isinstance(source, (Signal, AudioSource, VideoSource)):
        return source
    if isinstance(source, np.ndarray):
        return array_to_signal(source)
    if isinstance(source, (str, os.PathLike)):
        return load(source, partial=partial, lazy=True, **selection)
    if any(v is not None for v in selection.values()):
        raise MediaError("start, frames and duration select a range of a file: pass a path")
    raise MediaError(f"cannot encode a {type(source).__name__}: pass a path, a numpy array or a Signal")


def encode(source: Any, output: str | os.PathLike | None = None, *, force: bool = False, progress=None,
           start: float | None = None, frames: int | None = None, duration: float | None = None, partial: bool = False,
           announce=None, started: float | None = None, **settings):
    """Fit, quantize and pack `source` (path, array or Signal); write `output` if given.

    `settings` are EncodeConfig fields (preset, steps, time_limit, bits, width, depth,
    activation, damping, lr, seed, device, bpp, quality, arch, between_weight). Images go to the latent-grid
    engine (latents + entropy model + SPDER synthesis, format 1.9) unless arch="mlp", preset="paper" or a
    plain-network setting (width, bits, activation, between_weight) asks for the plain coordinate SPDER;
    quality=Q in 0..100 (default 90 for photos, 75 for audio and video) sets its rate weight; bpp=X makes the whole file land in
    [0.95 X, X] bits per pixel, the network chosen by inrcodec.rate. start (seconds) and frames or
    duration (seconds) select a range of an audio or video file; a video whose stream ends before
    the frames its container declares is refused (MediaError) unless partial=True, which encodes
    the frames that decode. Returns an EncodeResult with the bytes, the metrics measured by decoding
    them, and `notices`: one line for each place where the encoder did other than asked (a clamped
    width, minibatches, eager mode after a compile failure, an early stop, a budget not filled, the
    frames kept of a video that ends early). An audio or video file longer than `segment` seconds
    (default 4; 0: never) is read and fitted segment by segment and written as format 1.4; a photo of more
    than codec/bands.BAND_PIXELS pixels is fitted in bands of rows and written as format 1.7;
    `announce(line)`, if given, hears how many segments or bands before fitting starts. time_limit counts from
    `started` (a time.perf_counter() reading; the spdr program passes its own start) or else from this call. Under torchrun
    (after join_ranks()), segments and bands are shared over the ranks and only rank 0 writes `output`.
    """
    from .codec.presets import EncodeConfig

    if output is not None and Path(output).exists() and not force:
        raise OutputExistsError(f"{output} exists; pass force=True (--force) to replace it")
    from .codec import distributed

    began = _clock() if started is None else started
    world = distributed.current()
    config = EncodeConfig(**settings)
    config = dataclasses.replace(config, device=distributed.rank_device(config.device, world))
    signal = _source_signal(source, partial, start=start, frames=frames, duration=duration)
    asked = config.time_limit
    if asked is not None:  # time_limit bounds the whole call: opening the input and finishing are inside it
        config = dataclasses.replace(config, time_limit=max(1e-3, asked - (_clock() - began) - finishing_reserve(asked)))
    config, switched = _engine_for_time(config, signal, asked)
    result = _encode_parts(signal, config, progress, announce, world)
    result.notices = [switched, *result.notices] if switched else result.notices
    if output is not None and world.writes:
        files.write_atomic(output, result.data, force=force)
    return result


def finishing_reserve(time_limit: float) -> float:
    """Seconds of a time_limit kept for what follows the encoder: writing the file, the report, the program's exit
    (a 10-minute song under --time 600 ended 0.8 s over without it, 0.4 s under with it: benchmarks/results/segments_song_before.md,
    segments_song.md)."""
    return min(FINISH_SECONDS, FINISH_SHARE * time_limit)


def _encode_parts(signal, config, progress, announce, world):
    """The encoder for the input: a long clip's segments (format 1.4) or a large photo's bands (1.7), shared over the
    ranks; else one network, fitted by rank 0 while the others wait for its result (or its error)."""
    from .codec import distributed
    from .signal import Signal

    if not isinstance(signal, Signal):  # an audio or video file, read segment by segment when it is long
        from .codec.segments import encode_segments, needs_segments

        seconds = _segment_seconds(config, signal)
        if config.segment and config.bpp is None and needs_segments(signal, seconds):
            encoder = None
            if config.engine(signal.modality) == "grid":
                from .rate.quality import encode_quality as encoder

                if signal.modality == "audio":  # every segment spends bits by the clip's error, not its own level's
                    read_from = _clock()
                    encoder = functools.partial(encoder, reference_peak=signal.peak())
                    if config.time_limit is not None:  # reading the clip once more is inside --time too
                        config = dataclasses.replace(config, time_limit=max(1e-3, config.time_limit - (_clock() - read_from)))
            return encode_segments(signal, config, progress, seconds, announce, encoder)
    elif signal.modality == "image":
        from .codec.bands import BAND_PIXELS, encode_bands, needs_bands

        if needs_bands(signal):
            if config.bpp is not None:
                raise ValueError(f"--bpp on a photo above {BAND_PIXELS:,} pixels (fitted in bands) is not supported: use --quality")
            return encode_bands(signal, config, _encode_one, progress, announce)
    if world.alone:
        return _encode_one(signal, config, progress)
    value, error = distributed.run_share(lambda: _encode_one(signal, config, progress)) if world.writes else (None, None)
    return distributed.gather(value, error, world)[0]


def _encode_one(signal, config, progress):
    """One network for the whole signal (a short clip is read whole here): the engine the config chooses."""
    from .signal import Signal

    if not isinstance(signal, Signal):
        signal = signal.signal()
    engine = config.engine(signal.modality)
    if engine == "grid" and config.plain_settings() and config.bpp is None:
        raise ValueError(f"{', '.join(config.plain_settings())}: settings of the plain network (arch mlp), not of the latent-grid engine")
    if config.bpp is not None:
        from .rate.bpp import encode_bpp

        result = encode_bpp(signal, config, progress)
    elif engine == "grid":
        from .rate.quality import encode_quality

        result = encode_quality(signal, config, progress)
    else:
        from .codec.encode import encode_signal

        result = encode_signal(signal, config, progress)
    return result


def join_ranks():
    """Under torchrun: join its process group (gloo) and return this process's World (rank, size); alone: a
    World of size 1. encode() then shares a long clip's segments over the ranks and rank 0 writes the file."""
    from .codec.distributed import join_from_env

    return join_from_env()


def _engine_for_time(config, signal, asked: float | None) -> tuple:
    """Audio or video under a --time too short for the latent grid (rate/quality.grid_fits_in) goes to the plain
    network, which trains on minibatches; returns the config to use and the notice saying so (or None). config's
    time_limit is what is left of the `asked` one: the test uses it, the notice names what the user asked."""
    kind = signal.modality
    if kind == "image" or config.arch != "auto" or config.time_limit is None or config.engine(kind) != "grid":
        return config, None
    from .rate.quality import grid_fits_in

    meta = signal.meta
    samples = meta["samples"] if kind == "audio" else meta["frames"] * meta["height"] * meta["width"]
    if grid_fits_in(samples, config.time_limit, kind):
        return config, None
    import dataclasses

    seconds = meta["samples"] / meta["sample_rate"] if kind == "audio" else float(meta["frames"] * Fraction(*meta["fps"][::-1]))
    return dataclasses.replace(config, arch="mlp"), (
        f"--time {asked:g}: about {config.time_limit / max(seconds, 1e-9):.1f} s a second of {kind} is too short "
        f"for the latent-grid {kind} engine; fitted the plain network (--arch mlp) instead")


def _segment_seconds(config, signal) -> float:
    """The segment length to cut at: config.segment, shorter for video on the latent grid so that one segment holds at
    most rate/quality.GRID_VIDEO_VALUES pixels (its latents, contexts and gradients stay in bounded memory)."""
    if signal.modality != "video" or config.engine("video") != "grid":
        return config.segment
    from .rate.quality import GRID_VIDEO_VALUES

    meta = signal.meta
    frames = max(1, GRID_VIDEO_VALUES // (meta["height"] * meta["width"]))
    return min(config.segment, frames / float(Fraction(*meta["fps"])))


def read_spdr(source: Source) -> CheckedFile:
    """A .spdr file (bytes or path) read and checked once, without torch; a CheckedFile passes through."""
    if isinstance(source, CheckedFile):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        return read_checked(bytes(source))
    return read_checked(files.read_file(source))


def _device(name: str):
    from .nn.device import pick_device

    return pick_device(name)


def decode(source: Source, scale: float | None = None, size: tuple[int, ...] | None = None,
           *, rate: int | None = None, fps: Any = None, device: str = "cpu", force: bool = False,
           gradient: bool = False, resample: str = "auto") -> np.ndarray:
    """Render a .spdr file as the samples its writer would store.

    Images: uint8 (or uint16 for 16-bit sources) array (H, W, C); `size` is (height, width).
    With gradient=True: float32 (H, W, 1) gradient magnitude of the network. An image stored as horizontal
    bands (format 1.7) decodes band by band into one array, in the units of one network over the whole image.
    Audio: float32 (samples, channels) at the original level, clipped to the stored amplitude;
    `rate` (Hz) or `scale` resamples over the same duration.
    Video: uint8 (frames, H, W, 3); `fps` (number or 'num/den') sets round(duration x fps) frames,
    `scale` or `size` (height, width) the frame size. decode_frames() yields frames one by one.
    resample: how samples off the native grid are rendered: "auto" (default) and "classic" render the
    native grid and resample it classically (Lanczos; libswresample; frame blending), "network" asks the
    network at every output sample (media/resample.py `rendering` says why auto is classic).
    """
    checked = read_spdr(source)
    modality = checked.header["modality"]
    if gradient and modality != "image":
        raise MediaError("gradient applies to images")
    if modality == "audio":
        if fps is not None or size is not None:
            raise MediaError("fps and size apply to video; use rate or scale for audio")
        return decode_audio(checked, rate=rate, scale=scale, device=device, force=force, resample=resample)[0]
    if modality == "video":
        if rate is not None:
            raise MediaError("rate applies to audio; use fps, scale or size for video")
        video = open_video(checked, scale, size, fps=fps, device=device, force=force, resample=resample)
        held = int(np.prod(video.shape)) * 3
        if held > STACKED_VIDEO_BYTES and not force:  # one array of every frame: stream with decode_frames() instead
            raise OutputTooLargeError(f"decode() would hold {held / 2**30:.1f} GiB of frames in one array; "
                                      f"iterate decode_frames() to stream them, or pass force=True")
        return np.stack(list(decode_frames(video)))
    if rate is not None or fps is not None:
        raise MediaError("rate applies to audio and fps to video; use scale or size for images")
    from .codec.image import decode_image

    return decode_image(checked, scale, None if size is None else (int(size[0]), int(size[1])), device=_device(device),
                        force=force, gradient=gradient, resample=resample)


def decode_audio(source: Source, rate: int | None = None, scale: float | None = None, *, device: str = "cpu",
                 force: bool = False, resample: str = "auto", start: float | None = None,
                 duration: float | None = None) -> tuple[np.ndarray, int]:
    """An audio file's float32 samples (n, channels) at the original level, and their sample rate; start and
    duration (seconds) pick a range (of a segmented file, only the segments it overlaps are rendered)."""
    checked = read_spdr(source)
    if checked.header["modality"] != "audio":
        raise MediaError(f"decode_audio needs an audio file, not {checked.header['modality']}")
    from .codec.audio import decode_audio as render_audio

    return render_audio(checked, rate=rate, scale=scale, device=_device(device), force=force, resample=resample,
                        start=start, duration=duration)


def open_video(source: Source, scale: float | None = None, size: tuple[int, int] | None = None, *, fps: Any = None,
               device: str = "cpu", force: bool = False, resample: str = "auto"):
    """A resolved video render (its .shape, .fps and .frames()), refused here if the request is too large."""
    checked = read_spdr(source)
    if checked.header["modality"] != "video":
        raise MediaError(f"decode_frames needs a video file, not {checked.header['modality']}")
    from .codec.video import VideoDecode, parse_fps

    return VideoDecode(checked, None if fps is None else parse_fps(fps), scale, None if size is None else (int(size[0]), int(size[1])),
                       device=_device(device), force=force, resample=resample)


def decode_frames(source: Any, scale: float | None = None, size: tuple[int, int] | None = None, *, fps: Any = None,
                  device: str = "cpu", force: bool = False, resample: str = "auto"):
    """Yield a video file's frames as uint8 (H, W, 3), rendered a few at a time (bounded memory)."""
    from .codec.video import VideoDecode

    video = source if isinstance(source, VideoDecode) else open_video(source, scale, size, fps=fps, device=device, force=force,
                                                                      resample=resample)
    yield from video.frames()


def info(source: bytes | str | os.PathLike) -> dict:
    """Header and sizes of a .spdr file, without loading torch or decompressing weights."""
    data = bytes(source) if isinstance(source, (bytes, bytearray, memoryview)) else files.read_file(source)
    peek = container.peek(data)
    header = peek["header"]
    out = {k: v for k, v in peek.items() if k != "header"}
    if "segments" in header:  # format 1.4 (1.7: an image's bands): each one's own header is peeked (CRC checked, weights not decoded)
        inner = [facts["header"] for facts in container.peek_segments(data)]
        out["segment_headers"] = inner
    else:
        inner = [header]
    params = sum(int(np.prod(t["shape"])) for h in inner if "quant" in h for t in h["quant"]["tensors"].values())
    out.update(header=header, params=params)
    sig = header["signal"]
    if header["modality"] == "image":
        out["bpp"] = 8 * len(data) / (sig["height"] * sig["width"])
    elif header["modality"] == "audio":
        out["duration_s"] = sig["samples"] / sig["sample_rate"]
        out["kbps"] = 8 * len(data) / out["duration_s"] / 1000
    else:
        out["duration_s"] = float(sig["frames"] * Fraction(sig["fps"][1], sig["fps"][0]))
        out["fps"] = float(Fraction(*sig["fps"]))
        out["kbps"] = 8 * len(data) / out["duration_s"] / 1000
        out["bpp"] = 8 * len(data) / (sig["frames"] * sig["height"] * sig["width"])
    return out
