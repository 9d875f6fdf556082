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


def summary(x: np.ndarray) -> dict[str, float]:
    """Minimum and median ESS and maximum split R-hat over the trailing dimensions of draws (c, n, ...)."""
    e, r = ess(x), split_rhat(x)
    return {"ess_min": float(np.nanmin(e)), "ess_median": float(np.nanmedian(e)), "rhat_max": float(np.nanmax(r))}


def sampler_metrics(res, draws: np.ndarray | None = None, *, prefix: str = "hmc_", seconds: float | None = None
                    ) -> dict[str, tuple[float, str, str]]:
    """``metric_`` entries (name -> (value, units, long name), for :func:`sciml.io.netcdf.add_metrics`) of an
    :class:`~sciml.inference.hmc.HMCResult`: acceptance, step size, divergences (warm-up and sampling), ESS and
    split R-hat of ``draws`` (default: the parameters ``res.draws``), and ESS per second if ``seconds`` is given."""
    s = summary(res.draws if draws is None else draws)
    c, n = res.draws.shape[:2]
    out = {
        "accept_rate": (res.accept_rate, "1", "mean HMC acceptance probability after warm-up"),
        "step_size": (res.step_size, "1", "adapted HMC leapfrog step size (whitened coordinates)"),
        "divergences": (res.divergences, "1", "divergent HMC transitions after warm-up (all chains)"),
        "divergences_warmup": (res.divergences_warmup, "1", "divergent HMC transitions during warm-up"),
        "ess_min": (s["ess_min"], "1", "smallest effective sample size over parameters (all chains)"),
        "ess_median": (s["ess_median"], "1", "median effective sample size over parameters"),
        "rhat_max": (s["rhat_max"], "1", "largest split R-hat over parameters (1 at convergence)"),
        "chains": (c, "1", "HMC chains"),
        "draws_per_chain": (n, "1", "HMC draws kept per chain"),
        "grad_evals": (res.n_grad_evals, "1", "batched log-density gradient evaluations (warm-up + sampling)"),
    }
    if seconds is not None:
        out["seconds"] = (seconds, "s", "wall time of the sampler")
        out["ess_per_s"] = (s["ess_min"] / seconds, "s-1", "smallest ESS per second of sampler wall time")
    return {prefix + k: v for k, v in out.items()}
