"""Audio anchors for `spdr bench av`: MP3 (LAME), Opus and AAC through PyAV's FFmpeg, each over a bitrate scan.

Sizes are whole files as PyAV's muxers write them (MP3 frames, Ogg/Opus, AAC in ADTS: the smallest
containers for each, so the anchors pay no more overhead than they must). The decoded samples are
what FFmpeg's decoders return, as float; Opus decodes at 48 kHz and is resampled back to the
source rate with libswresample (the path a player takes). Decoders add a codec delay (priming
samples) that the container does not always undo, so each decoded clip is aligned to the source at
the delay that minimises its error, searched over 0..MAX_DELAY samples by cross-correlation: the
alignment can only help the anchors.
"""

from __future__ import annotations

import io
import time

import numpy as np

AUDIO_ANCHORS = ("mp3", "opus", "aac")
KBITS = (16, 24, 32, 48, 64, 96, 128, 160, 192)  # requested bitrates; the encoders' real rates are what the file says
CODECS = {"mp3": ("libmp3lame", "mp3"), "opus": ("libopus", "ogg"), "aac": ("aac", "adts")}  # name -> (encoder, muxer)
OPUS_RATE = 48000
MAX_DELAY = 8192
AUDIO_SETTINGS = {"mp3": "libmp3lame (LAME) via PyAV, CBR at the requested bitrate, .mp3",
                  "opus": "libopus via PyAV, 48 kHz, VBR at the requested bitrate, Ogg; decoded at 48 kHz and "
                          "resampled to the source rate (libswresample)",
                  "aac": "FFmpeg's native AAC (LC) via PyAV at the requested bitrate, ADTS"}


def _layout(channels: int) -> str:
    return "mono" if channels == 1 else "stereo"


def encode_audio(samples: np.ndarray, rate: int, codec: str, kbits: int) -> bytes:
    """The bytes of (n, channels) float samples in [-1, 1] encoded by `codec` at `kbits` kbit/s."""
    import av

    encoder, muxer = CODECS[codec]
    layout = _layout(samples.shape[1])
    buf = io.BytesIO()
    with av.open(buf, "w", format=muxer) as out:
        stream = out.add_stream(encoder, rate=OPUS_RATE if codec == "opus" else rate)
        stream.bit_rate = int(kbits * 1000)
        stream.layout = layout
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T, dtype=np.float32), format="fltp", layout=layout)
        frame.sample_rate = rate
        fmt = stream.codec_context.format.name
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=stream.codec_context.sample_rate)
        for part in [*resampler.resample(frame), *resampler.resample(None), None]:
            for packet in stream.encode(part):
                out.mux(packet)
    return buf.getvalue()


def decode_audio(data: bytes, rate: int, channels: int) -> np.ndarray:
    """(n, channels) float32 samples a decoder returns for `data`, at `rate` Hz."""
    import av

    resampler = av.AudioResampler(format="fltp", layout=_layout(channels), rate=rate)
    parts = []
    with av.open(io.BytesIO(data)) as src:
        for frame in src.decode(audio=0):
            parts += [f.to_ndarray() for f in resampler.resample(frame)]
        parts += [f.to_ndarray() for f in resampler.resample(None)]
    return np.concatenate(parts, axis=1).T.astype(np.float32) if parts else np.zeros((0, channels), np.float32)


def align(decoded: np.ndarray, source: np.ndarray) -> tuple[np.ndarray, int]:
    """`decoded` shifted by the delay (0..MAX_DELAY samples) that best matches `source`, cut or zero-padded to its length."""
    n = source.shape[0]
    a, b = source.mean(axis=1), decoded.mean(axis=1)
    size = 1 << int(np.ceil(np.log2(n + b.shape[0] + MAX_DELAY)))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)[:MAX_DELAY + 1]
    best = None
    for d in np.argsort(corr)[::-1][:8]:  # the strongest correlations, judged by the error itself
        out = np.zeros_like(source)
        part = decoded[int(d):int(d) + n]
        out[:part.shape[0]] = part
        err = float(np.mean((out - source) ** 2))
        if best is None or err < best[0]:
            best = (err, out, int(d))
    return best[1], best[2]


def audio_point(source: np.ndarray, rate: int, codec: str, kbits: int) -> dict:
    """One anchor bitrate, measured: codec, requested and real kbit/s, bytes, SNR and PSNR, delay, encode/decode seconds."""
    from ..metrics import psnr, snr

    t0 = time.perf_counter()
    data = encode_audio(source, rate, codec, kbits)
    t1 = time.perf_counter()
    decoded = decode_audio(data, rate, source.shape[1])
    t2 = time.perf_counter()
    aligned, delay = align(decoded, source)
    seconds = source.shape[0] / rate
    return {"codec": codec, "requested_kbits": kbits, "bytes": len(data), "kbits": 8 * len(data) / seconds / 1000,
            "snr_db": snr(source, aligned), "psnr_db": psnr(aligned, source), "delay": delay,
            "encode_s": t1 - t0, "decode_s": t2 - t1}


def audio_curve(source: np.ndarray, rate: int, codec: str) -> list[dict]:
    """Every bitrate of KBITS the encoder accepts for this clip (an encoder may refuse a rate: it is left out)."""
    import av

    points = []
    for k in KBITS:
        try:
            points.append(audio_point(source, rate, codec, k))
        except (av.error.FFmpegError, ValueError):
            continue
    return points
