"""Posterior summaries of function samples and their distance to a reference posterior.

Samples are arrays ``(n_samples, m)`` of field values at ``m`` points. Conventions:

* ``rel_err_mean = ||mean - mean_ref|| / ||mean_ref - prior_mean||`` (L2 over points): error relative to what
  the data changed (stricter than dividing by ``||mean_ref||`` when the field has a large constant part; that
  ratio is reported as ``rel_err_mean_plain``);
* ``rel_err_std = ||std - std_ref|| / ||std_ref||``;
* ``coverage``: fraction of points where the truth lies in the central credible band of level ``level``;
* ``w1_marginal``: mean over points of the 1-D Wasserstein-1 distance between the sample marginal and the
  reference Gaussian marginal ``N(mean_ref, std_ref^2)`` (unit of the field).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from sciml.errors import InputError, bad_value

# The metrics of :func:`summarize`: name -> (units, long name); "field" stands for the unit of the field.
METRICS = {
    "rel_err_mean": ("1", "relative L2 error of the posterior mean against the reference (over the data-driven "
                          "change)"),
    "rel_err_mean_plain": ("1", "relative L2 error of the posterior mean against the reference (over its norm)"),
    "rel_err_std": ("1", "relative L2 error of the posterior standard deviation against the reference"),
    "w1_marginal": ("field", "mean marginal Wasserstein-1 distance to the reference Gaussian marginals"),
    "coverage": ("1", "fraction of points where the central credible band covers the truth"),
    "rmse_truth": ("field", "root-mean-square error of the posterior mean against the truth"),
}


@dataclass
class Summary:
    """Pointwise mean, std and credible band ``[lower, upper]`` plus scalar metrics (``metrics`` dict)."""

    mean: np.ndarray
    std: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float
    metrics: dict[str, float] = field(default_factory=dict)


def w1_to_gaussian(samples: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Per-point W1 distance between sample marginals ``(n, m)`` and ``N(mean, std^2)`` (quantile coupling)."""
    n = samples.shape[0]
    q = stats.norm.ppf((np.arange(n) + 0.5) / n)
    ref = mean[None, :] + std[None, :] * q[:, None]
    return np.mean(np.abs(np.sort(samples, axis=0) - ref), axis=0)


def summarize(samples: np.ndarray, *, level: float = 0.95, reference_mean: np.ndarray | None = None,
              reference_std: np.ndarray | None = None, prior_mean: float = 0.0,
              truth: np.ndarray | None = None) -> Summary:
    """Pointwise summaries and, when given, metrics against a reference posterior and the truth."""
    s = np.asarray(samples, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] < 2:
        raise InputError(f"summarize: samples have shape {s.shape}: expected (n_samples >= 2, n_points)")
    if not 0 < level < 1:
        raise bad_value("summarize", "level", level, "must lie in (0, 1)")
    mean, std = s.mean(0), s.std(0, ddof=1)
    a = 0.5 * (1 - level)
    lower, upper = np.quantile(s, a, axis=0), np.quantile(s, 1 - a, axis=0)
    out = Summary(mean, std, lower, upper, level)
    if reference_mean is not None and reference_std is not None:
        rm, rs = np.asarray(reference_mean), np.asarray(reference_std)
        out.metrics["rel_err_mean"] = float(np.linalg.norm(mean - rm) / np.linalg.norm(rm - prior_mean))
        out.metrics["rel_err_mean_plain"] = float(np.linalg.norm(mean - rm) / np.linalg.norm(rm))
        out.metrics["rel_err_std"] = float(np.linalg.norm(std - rs) / np.linalg.norm(rs))
        out.metrics["w1_marginal"] = float(np.mean(w1_to_gaussian(s, rm, np.maximum(rs, 0.0))))
    if truth is not None:
        t = np.asarray(truth)
        out.metrics["coverage"] = float(np.mean((t >= lower) & (t <= upper)))
        out.metrics["rmse_truth"] = float(np.sqrt(np.mean((mean - t) ** 2)))
    return out
