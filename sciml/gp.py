"""Gaussian-process functional priors (numpy float64).

A :class:`GaussianProcess` is a stationary prior ``f ~ GP(mean, k)`` with an isotropic kernel
``k(x, x') = variance * rho(|x - x'| / length_scale)``; ``x`` and ``length_scale`` share one length unit,
``variance`` has the squared unit of ``f``. Points are arrays ``(n,)`` (1-D) or ``(n, d)``.
Kernels: ``se`` (squared exponential), ``matern12``, ``matern32``, ``matern52``.

Sampling and densities use a Cholesky factor of ``K + jitter * variance * I``; the jitter is relative to the
variance and escalated (x10, up to ``max_jitter``) only when the factorisation fails, so that
:meth:`sample`, :meth:`log_density` and :meth:`grad_log_density` describe one and the same Gaussian.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla
from scipy import stats

from sciml.errors import InputError, bad_value

KERNELS = ("se", "matern12", "matern32", "matern52")


def as_points(x: np.ndarray, name: str = "x") -> np.ndarray:
    """Return points as a float64 array ``(n, d)``; ``(n,)`` is read as ``n`` points in 1-D."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        raise InputError(f"GaussianProcess: field {name!r} has shape {a.shape}: expected (n,) or (n, d)")
    if not np.all(np.isfinite(a)):
        raise InputError(f"GaussianProcess: field {name!r} contains non-finite values")
    return a


class GaussianProcess:
    """Stationary GP prior with constant mean.

    Parameters
    ----------
    kernel: one of ``se | matern12 | matern32 | matern52``.
    variance: marginal variance (unit of f squared), > 0.
    length_scale: correlation length (unit of x), > 0.
    mean: constant prior mean (unit of f).
    jitter: relative diagonal jitter added before every Cholesky factorisation.
    """

    def __init__(
        self,
        kernel: str = "se",
        variance: float = 1.0,
        length_scale: float = 1.0,
        mean: float = 0.0,
        *,
        jitter: float = 1e-8,
        max_jitter: float = 1e-3,
    ) -> None:
        if kernel not in KERNELS:
            raise bad_value("GaussianProcess", "kernel", kernel, f"expected one of {KERNELS}")
        for name, val in (("variance", variance), ("length_scale", length_scale)):
            if not (np.isfinite(val) and val > 0):
                raise bad_value("GaussianProcess", name, val, "must be finite and > 0")
        if not np.isfinite(mean):
            raise bad_value("GaussianProcess", "mean", mean, "must be finite")
        if not (0 <= jitter <= max_jitter):
            raise bad_value("GaussianProcess", "jitter", jitter, f"must lie in [0, {max_jitter}]")
        self.kernel = kernel
        self.variance = float(variance)
        self.length_scale = float(length_scale)
        self.mean = float(mean)
        self.jitter = float(jitter)
        self.max_jitter = float(max_jitter)

    def __repr__(self) -> str:
        return (f"GaussianProcess(kernel={self.kernel!r}, variance={self.variance:g}, "
                f"length_scale={self.length_scale:g}, mean={self.mean:g})")

    def correlation(self, r: np.ndarray) -> np.ndarray:
        """Correlation ``rho(r)`` of the scaled distance ``r = |x - x'| / length_scale``."""
        r = np.asarray(r, dtype=np.float64)
        if self.kernel == "se":
            return np.exp(-0.5 * r * r)
        if self.kernel == "matern12":
            return np.exp(-r)
        if self.kernel == "matern32":
            a = math.sqrt(3.0) * r
            return (1.0 + a) * np.exp(-a)
        a = math.sqrt(5.0) * r
        return (1.0 + a + a * a / 3.0) * np.exp(-a)

    def covariance(self, x1: np.ndarray, x2: np.ndarray | None = None) -> np.ndarray:
        """Kernel matrix ``k(x1_i, x2_j)`` of shape ``(n1, n2)`` (no jitter)."""
        a = as_points(x1, "x1")
        b = a if x2 is None else as_points(x2, "x2")
        if a.shape[1] != b.shape[1]:
            raise InputError(f"GaussianProcess: x1 has dimension {a.shape[1]} but x2 has {b.shape[1]}")
        d2 = np.maximum(
            np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2.0 * a @ b.T, 0.0)
        if x2 is None:
            np.fill_diagonal(d2, 0.0)
        return self.variance * self.correlation(np.sqrt(d2) / self.length_scale)

    def cholesky(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """Lower Cholesky factor of ``K(x, x) + j * variance * I`` and the relative jitter ``j`` used."""
        k = self.covariance(x)
        eye = np.eye(k.shape[0])
        j = self.jitter
        while True:
            try:
                return np.linalg.cholesky(k + j * self.variance * eye), j
            except np.linalg.LinAlgError:
                j = max(10.0 * j, 1e-12)
                if j > self.max_jitter:
                    raise InputError(
                        f"GaussianProcess: covariance on {k.shape[0]} points is not positive definite even "
                        f"with relative jitter {self.max_jitter:g} (duplicate points?)") from None

    def sample(self, x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` independent prior draws on points ``x``: array ``(n, npts)``."""
        if int(n) < 0:
            raise bad_value("GaussianProcess.sample", "n", n, "must be >= 0")
        chol, _ = self.cholesky(x)
        z = rng.standard_normal((chol.shape[0], int(n)))
        return self.mean + (chol @ z).T

    def _residual(self, f: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f = np.asarray(f, dtype=np.float64)
        chol, _ = self.cholesky(x)
        if f.shape[-1] != chol.shape[0]:
            raise InputError(
                f"GaussianProcess: f has {f.shape[-1]} values on its last axis but x has {chol.shape[0]} points")
        return f - self.mean, chol

    def log_density(self, f: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Gaussian log-density of function values ``f`` (``(npts,)`` or ``(..., npts)``) on points ``x``."""
        r, chol = self._residual(f, x)
        z = sla.solve_triangular(chol, r.reshape(-1, r.shape[-1]).T, lower=True)
        quad = np.sum(z * z, axis=0).reshape(r.shape[:-1])
        logdet = 2.0 * np.sum(np.log(np.diag(chol)))
        return -0.5 * (quad + logdet + chol.shape[0] * math.log(2.0 * math.pi))

    def grad_log_density(self, f: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Gradient of :meth:`log_density` with respect to ``f``: ``-(K + jitter)^{-1} (f - mean)``."""
        r, chol = self._residual(f, x)
        sol = sla.cho_solve((chol, True), r.reshape(-1, r.shape[-1]).T)
        return -sol.T.reshape(r.shape)

    def precision(self, x: np.ndarray) -> np.ndarray:
        """Inverse of ``K(x, x) + jitter``, formed from the Cholesky factor (for torch twins of the density)."""
        chol, _ = self.cholesky(x)
        return sla.cho_solve((chol, True), np.eye(chol.shape[0]))

    def spectral_frequencies(self, n: int, dim: int, rng: np.random.Generator | None = None, *,
                             quasi: bool = False) -> np.ndarray:
        """Frequencies ``B`` (cycles per unit of x, shape ``(n, dim)``) drawn from the kernel's spectral density.

        With ``gamma(x) = [cos(2 pi B x), sin(2 pi B x)]``, ``variance / n * gamma(x) . gamma(x')`` is a
        random-Fourier-feature approximation of ``k(x, x')`` (Rahimi & Recht 2007). ``quasi=True`` uses a
        scrambled Sobol sequence (``rng`` seeds the scrambling) instead of i.i.d. draws.
        """
        if self.kernel == "se":
            nu = math.inf
        else:
            nu = {"matern12": 0.5, "matern32": 1.5, "matern52": 2.5}[self.kernel]
        rng = rng if rng is not None else np.random.default_rng(0)
        if quasi:
            u = stats.qmc.Sobol(d=dim + (0 if math.isinf(nu) else 1), scramble=True, seed=rng).random(n)
            u = np.clip(u, 1e-12, 1 - 1e-12)
            z = stats.norm.ppf(u[:, :dim])
            chi = None if math.isinf(nu) else stats.chi2.ppf(u[:, dim], 2 * nu)
        else:
            z = rng.standard_normal((n, dim))
            chi = None if math.isinf(nu) else rng.chisquare(2 * nu, n)
        if chi is not None:  # Matern spectral density: multivariate Student t with 2 nu dof
            z = z * np.sqrt(2 * nu / chi)[:, None]
        return z / (2.0 * math.pi * self.length_scale)
