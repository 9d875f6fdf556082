"""Nonlinear fault-parameter inversion: Levenberg-Marquardt with autograd Jacobians, Laplace posterior from
the exact Hessian, and HMC (:func:`sciml.inference.hmc.hmc`) checked against the Laplace approximation.

Model: ``d = u(theta) [- u_ref(theta)] + e``, ``e ~ N(0, diag(sigma^2))`` per station and ENU component,
optional independent Gaussian priors on the free parameters (flat otherwise). ``theta`` holds the free
parameters (names from :data:`sciml.okada.fault.RECT_PARAMS`) in natural units (m, degrees).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.func import hessian, jacfwd

from sciml.errors import InputError
from sciml.inference.hmc import hmc
from sciml.inference.transforms import as_box
from sciml.okada.fault import RECT_PARAMS, rectangle

log = logging.getLogger(__name__)


@dataclass
class FaultProblem:
    """Observations and model of a single rectangular fault.

    stations (n, 3) ENU m; obs, sigma (n, 3) m (sigma inf or nan = component unused); names: free parameters;
    fixed: values of the other parameters; prior: {name: (mean, sd)}; reference: (3,) station whose modelled
    displacement is subtracted (observations relative to a reference site) or None.
    """

    stations: torch.Tensor
    obs: torch.Tensor
    sigma: torch.Tensor
    names: tuple[str, ...]
    fixed: dict[str, float]
    prior: dict[str, tuple[float, float]] = field(default_factory=dict)
    reference: torch.Tensor | None = None
    options: dict = field(default_factory=dict)

    def __post_init__(self):
        bad = [k for k in list(self.names) + list(self.fixed) if k not in RECT_PARAMS]
        if bad:
            raise InputError(f"okada inversion: unknown fault parameters {bad}; expected {RECT_PARAMS}")
        missing = [k for k in RECT_PARAMS if k not in self.names and k not in self.fixed and k != "opening"]
        if missing:
            raise InputError(f"okada inversion: parameters {missing} are neither free nor fixed")
        w = 1.0 / self.sigma
        self.weight = torch.where(torch.isfinite(w) & (self.sigma > 0), w, torch.zeros_like(w))
        self.obs_filled = torch.where(self.weight > 0, self.obs, torch.zeros_like(self.obs))

    @property
    def n_data(self) -> int:
        return int((self.weight > 0).sum())

    def params(self, theta: torch.Tensor) -> dict:
        """Keyword parameters for :func:`rectangle`; leading batch dims of theta (..., p) broadcast over stations."""
        kw = dict(self.fixed)
        for i, k in enumerate(self.names):
            kw[k] = theta[..., i, None]
        return kw

    def predict(self, theta: torch.Tensor, stations: torch.Tensor | None = None) -> torch.Tensor:
        """Modelled displacement (..., n, 3) (m), relative to the reference site if one is set."""
        st = self.stations if stations is None else stations
        kw = self.params(theta)
        u = rectangle(st, **kw, **self.options, derivatives=False).u
        if self.reference is not None:
            u = u - rectangle(self.reference[None, :], **kw, **self.options, derivatives=False).u
        return u

    def residual(self, theta: torch.Tensor) -> torch.Tensor:
        """Whitened residuals (..., N [+ priors]): (obs - model) / sigma, then (theta - mean) / sd."""
        r = ((self.obs_filled - self.predict(theta)) * self.weight).flatten(-2)
        if self.prior:
            pr = [(theta[..., self.names.index(k)] - m) / s for k, (m, s) in self.prior.items() if k in self.names]
            if pr:
                r = torch.cat([r, torch.stack(pr, -1)], -1)
        return r

    def neg_log_post(self, theta: torch.Tensor) -> torch.Tensor:
        """0.5 |residual|^2 (up to a constant)."""
        return 0.5 * (self.residual(theta) ** 2).sum(-1)


@dataclass
class LMResult:
    theta: torch.Tensor
    cost: float
    iterations: int
    converged: bool
    history: list[float]


def levenberg_marquardt(problem: FaultProblem, theta0: torch.Tensor, *, max_iter: int = 100, tol: float = 1e-10,
                        lam0: float = 1e-2, lower: torch.Tensor | None = None, upper: torch.Tensor | None = None
                        ) -> LMResult:
    """Minimise 0.5 |r(theta)|^2 by Levenberg-Marquardt (Marquardt scaling, forward-mode Jacobian).

    Steps are clipped to ``[lower, upper]`` (projected LM). Converged when the relative cost decrease and the
    scaled step are below ``tol``.
    """
    theta = theta0.detach().clone()
    r = problem.residual(theta)
    cost = 0.5 * float(r @ r)
    lam, hist, converged, it = lam0, [cost], False, 0
    for it in range(1, max_iter + 1):
        jac = jacfwd(problem.residual)(theta)  # (m, p)
        jtj = jac.T @ jac
        g = jac.T @ r
        d = torch.clamp(torch.diagonal(jtj), min=1e-30)
        improved = False
        for _ in range(30):
            a = jtj + lam * torch.diag(d)
            step = -torch.linalg.solve(a, g)
            cand = theta + step
            if lower is not None:
                cand = torch.maximum(cand, lower)
            if upper is not None:
                cand = torch.minimum(cand, upper)
            rc = problem.residual(cand)
            cc = 0.5 * float(rc @ rc)
            if np.isfinite(cc) and cc < cost:
                improved = True
                break
            lam *= 10.0
        if not improved:
            converged = True  # no descent possible at machine precision
            break
        rel = (cost - cc) / max(cost, 1e-300)
        scaled_step = float(torch.max(torch.abs(cand - theta) * torch.sqrt(d) / (1.0 + (cc * 2.0) ** 0.5)))
        theta, r, cost = cand, rc, cc
        hist.append(cost)
        lam = max(lam / 10.0, 1e-12)
        if rel < tol or scaled_step < tol:
            converged = True
            break
    log.info("LM: %d iterations, cost %.6g, converged=%s", it, cost, converged)
    return LMResult(theta, cost, it, converged, hist)


@dataclass
class Laplace:
    mean: torch.Tensor
    cov: torch.Tensor
    hessian: torch.Tensor
    noise_scale: float

    @property
    def std(self) -> torch.Tensor:
        return torch.sqrt(torch.diagonal(self.cov))


def laplace(problem: FaultProblem, theta_map: torch.Tensor, *, noise_scale: float = 1.0) -> Laplace:
    """Gaussian approximation at the MAP: covariance = noise_scale^2 * (d^2 neg_log_post / d theta^2)^-1."""
    h = hessian(problem.neg_log_post)(theta_map.detach())
    h = 0.5 * (h + h.T)
    chol = torch.linalg.cholesky(h)
    cov = torch.cholesky_inverse(chol) * noise_scale**2
    return Laplace(theta_map.detach(), cov, h, noise_scale)


def reduced_chi2_scale(problem: FaultProblem, theta: torch.Tensor) -> float:
    """sqrt(chi^2 / (N - p)) of the data residuals at theta (noise-scale estimate when sigmas are unknown)."""
    r = ((problem.obs_filled - problem.predict(theta)) * problem.weight).flatten()
    dof = max(problem.n_data - len(problem.names), 1)
    return float(torch.sqrt((r @ r) / dof))


def sample_hmc(problem: FaultProblem, lap: Laplace, *, chains: int = 4, warmup: int = 200, draws: int = 300,
               leapfrog: int = 8, target_accept: float = 0.8, adapt_metric: bool = True, metric: str = "dense",
               bounds: tuple[torch.Tensor, torch.Tensor] | None = None, generator: torch.Generator | None = None):
    """HMC draws (chains, draws, p) of the posterior, chains started from Laplace draws and the Laplace
    covariance as the initial metric (re-estimated in warm-up when ``adapt_metric``). ``bounds`` (lower, upper)
    (p,) make the prior uniform on that box (flat otherwise): sampling then runs in unconstrained coordinates
    (:class:`sciml.inference.transforms.Box`). Returns :class:`sciml.inference.hmc.HMCResult`."""
    s = lap.noise_scale

    def log_prob(theta: torch.Tensor) -> torch.Tensor:
        return _log_prob_scaled(problem, theta, s)

    chol = torch.linalg.cholesky(lap.cov)
    z = torch.randn(chains, lap.mean.numel(), generator=generator, dtype=lap.mean.dtype)
    init = lap.mean + z @ chol.T
    box = as_box(bounds, lap.mean.numel(), dtype=lap.mean.dtype)
    if box is not None:
        init = box.forward(box.inverse(init, margin=1e-6))  # Laplace draws outside the box moved just inside
        chol = torch.linalg.cholesky(_spd(box.unconstrained_factor(lap.mean, chol)))
    return hmc(log_prob, init, n_warmup=warmup, n_draws=draws, n_leapfrog=leapfrog, target_accept=target_accept,
               metric=metric, init_scale=chol, adapt_metric=adapt_metric, bounds=box, generator=generator)


def _spd(factor: torch.Tensor) -> torch.Tensor:
    cov = factor @ factor.T
    return 0.5 * (cov + cov.T)


def _log_prob_scaled(problem: FaultProblem, theta: torch.Tensor, s: float) -> torch.Tensor:
    """Data term scaled by the noise-scale factor, prior term unscaled."""
    r = ((problem.obs_filled - problem.predict(theta)) * problem.weight).flatten(-2)
    lp = -0.5 * (r**2).sum(-1) / s**2
    for k, (m, sd) in problem.prior.items():
        if k in problem.names:
            lp = lp - 0.5 * ((theta[..., problem.names.index(k)] - m) / sd) ** 2
    return lp


def compare_to_laplace(draws: np.ndarray, lap: Laplace) -> dict[str, np.ndarray]:
    """Standardised mean offsets and std ratios of MCMC draws (..., p) against the Laplace posterior."""
    flat = draws.reshape(-1, draws.shape[-1])
    sd = lap.std.numpy()
    return {"mean_offset_sd": (flat.mean(0) - lap.mean.numpy()) / sd, "std_ratio": flat.std(0, ddof=1) / sd}


def start_from(values: Mapping[str, float], names: Sequence[str], *, dtype=torch.float64) -> torch.Tensor:
    return torch.tensor([float(values[k]) for k in names], dtype=dtype)
