"""Fidelity metrics on signals in [-1, 1]: MSE, PSNR (peak-to-peak 2), SNR and rho_AG."""

from __future__ import annotations

import math

import numpy as np


def mse(a: np.ndarray, b: np.ndarray) -> float:
    """Mean squared error, computed in float64."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return float(np.mean(d * d))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB for signals on [-1, 1]: 10 log10(4 / MSE); inf for identical inputs."""
    m = mse(a, b)
    return math.inf if m == 0 else 10.0 * math.log10(4.0 / m)


def psnr_from_mse(m: float) -> float:
    """PSNR in dB of a known MSE on [-1, 1]: inf for 0, -inf for an infinite MSE, nan for nan."""
    if math.isnan(m):
        return math.nan
    if m == math.inf:
        return -math.inf
    return math.inf if m <= 0 else 10.0 * math.log10(4.0 / m)


def snr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Signal-to-noise ratio in dB: power of the reference over power of the error."""
    ref = np.asarray(reference, dtype=np.float64)
    err = ref - np.asarray(estimate, dtype=np.float64)
    pe = float(np.mean(err * err))
    ps = float(np.mean(ref * ref))
    if pe == 0:
        return math.inf
    return 10.0 * math.log10(max(ps, 1e-30) / pe)


def rho_ag(output: np.ndarray, truth: np.ndarray, axes: tuple[int, ...] | None = None) -> float:
    """Cosine similarity of FFT amplitude spectra (SPDER paper, Eq. 5).

    `axes` are the signal axes to transform (default: all but a trailing channel axis when the
    input has one more dimension than needed is not guessed: pass axes explicitly for channels).
    """
    a = np.abs(np.fft.fftn(np.asarray(output, dtype=np.float64), axes=axes)).ravel()
    b = np.abs(np.fft.fftn(np.asarray(truth, dtype=np.float64), axes=axes)).ravel()
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return 1.0 if na == nb else 0.0
    return float(np.dot(a, b) / (na * nb))
