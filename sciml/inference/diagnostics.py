"""MCMC convergence diagnostics over chains: split R-hat and effective sample size (Stan's estimators).

Inputs are arrays ``(n_chains, n_draws, ...)``; results have the trailing shape. References: Gelman et al.,
*Bayesian Data Analysis* 3rd ed. (split R-hat); Geyer (1992) initial monotone sequence for the ESS with the
multi-chain autocorrelation of Vehtari et al. (2021), without rank normalisation.
"""

from __future__ import annotations

import numpy as np

from sciml.errors import InputError


def _check(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2 or x.shape[1] < 4:
        raise InputError(f"diagnostics: draws have shape {x.shape}: expected (n_chains, n_draws >= 4, ...)")
    return x


def split_rhat(x: np.ndarray) -> np.ndarray:
    """Potential scale reduction of chains split in halves (1 at convergence; > 1.01-1.05 signals trouble)."""
    x = _check(x)
    half = x.shape[1] // 2
    y = np.concatenate([x[:, :half], x[:, half:2 * half]], axis=0)
    n = y.shape[1]
    w = y.var(axis=1, ddof=1).mean(0)
    b_over_n = y.mean(1).var(axis=0, ddof=1)
    var_plus = (n - 1) / n * w + b_over_n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w > 0, np.sqrt(var_plus / w), np.nan)


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance along axis 1 (biased, FFT), shape like ``x``."""
    n = x.shape[1]
    xc = x - x.mean(1, keepdims=True)
    nfft = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(xc, n=nfft, axis=1)
    return np.fft.irfft(f * np.conj(f), n=nfft, axis=1)[:, :n] / n


def ess(x: np.ndarray) -> np.ndarray:
    """Multi-chain effective sample size of the mean (Geyer initial monotone sequence)."""
    x = _check(x)
    m, n = x.shape[:2]
    flat = x.reshape(m, n, -1)
    acov = _autocov(flat)  # (m, n, k)
    w = flat.var(axis=1, ddof=1).mean(0)
    var_plus = (n - 1) / n * w + (flat.mean(1).var(axis=0, ddof=1) if m > 1 else 0.0)
    out = np.empty(flat.shape[2])
    for k in range(flat.shape[2]):
        if var_plus[k] <= 0:
            out[k] = np.nan
            continue
        rho = 1.0 - (w[k] - acov[:, :, k].mean(0)) / var_plus[k]
        rho[0] = 1.0
        pairs = rho[: 2 * (n // 2)].reshape(-1, 2).sum(1)
        pos = np.nonzero(pairs < 0)[0]
        pairs = pairs[: pos[0]] if pos.size else pairs
        pairs = np.minimum.accumulate(pairs)
        tau = max(-1.0 + 2.0 * pairs.sum(), 1.0 / np.log10(m * n + 10))
        out[k] = m * n / tau
    return out.reshape(x.shape[2:])
