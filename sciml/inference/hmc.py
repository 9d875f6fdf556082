"""Hamiltonian Monte Carlo for a batch of chains (torch autograd gradients), with Stan's windowed warm-up.

Sampling runs in whitened coordinates ``y``: ``q = C y`` with ``C C^T`` the inverse mass matrix (the metric) and
``q`` the unconstrained parameters (``z`` of a :class:`~sciml.inference.transforms.Box` when ``bounds`` are given,
else ``theta`` itself). A transition draws momenta ``N(0, I)``, runs the leapfrog integrator for
``ceil(L/2) .. L`` steps with the step size jittered by +-20 % (no periodic trajectories) and applies the
Metropolis correction; an energy error above ``max_energy_error`` (or a non-finite one) is a divergence and is
rejected. All chains share step size and metric and move as one batch (one ``log_prob`` call per leapfrog step).

Warm-up (Stan's windowed adaptation; Stan Reference Manual, "HMC algorithm parameters"):

1. initial fast buffer (75 iterations; 15 % of a warm-up shorter than 150; all of one shorter than 100, which
   adapts the step size only): step size only;
2. slow windows doubling from 25 (75 % of a short warm-up; the last stretched to the terminal buffer). At each
   window end the metric is re-estimated from the window's draws: the within-chain covariance pooled over chains
   (chain means removed, so chains still apart do not inflate it), computed in the current whitened coordinates
   and shrunk towards the current metric with weight ``5 / (n + 5)`` (n pooled draws). That regularisation is
   scale-free; Stan's ``1e-3 I`` (or a multiple of the mean variance, as this module had) swamps parameters far
   below unit scale and collapses the step size. Then the step size is re-initialised by the doubling/halving
   heuristic (Hoffman & Gelman 2014, Alg. 4; median over chains) and dual averaging restarts from it;
3. terminal fast buffer (50; 10 %): step size only. Sampling uses the dual-averaged step size.

Dual averaging (gamma 0.05, t0 10, kappa 0.75, mu = log 10 eps) targets the chain-mean acceptance probability.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from sciml.errors import InputError, bad_value
from sciml.inference.transforms import Box, as_box
from sciml.progress import Progress

log = logging.getLogger(__name__)
METRICS = ("dense", "diag")
MIN_METRIC_WARMUP = 100  # shorter warm-ups adapt the step size only


@dataclass
class HMCResult:
    """Draws ``(n_chains, n_draws, n_params)`` (in the parameters of ``log_prob``), their log densities
    ``log_prob(theta)`` and sampler statistics. ``inv_metric`` (P, P) is the adapted inverse mass matrix in the
    sampling coordinates (unconstrained ones when bounds were given); ``chain_accept`` the per-chain mean
    acceptance probability after warm-up."""

    draws: np.ndarray
    log_prob: np.ndarray
    accept_rate: float
    step_size: float
    n_leapfrog: int
    divergences: int
    n_grad_evals: int
    divergences_warmup: int = 0
    inv_metric: np.ndarray | None = None
    chain_accept: np.ndarray | None = None
    seconds_warmup: float = 0.0
    seconds_sampling: float = 0.0


def warmup_schedule(n_warmup: int) -> tuple[int, list[int]]:
    """Stan's schedule: (end of the initial fast buffer, end indices of the slow metric windows). Below
    ``MIN_METRIC_WARMUP`` iterations there are no metric windows (too few draws for a metric, and too few
    iterations left for the step size after it)."""
    if n_warmup < MIN_METRIC_WARMUP:
        return n_warmup, []
    if n_warmup < 150:
        init, term = int(0.15 * n_warmup), int(0.1 * n_warmup)
        base = n_warmup - init - term
    else:
        init, term, base = 75, 50, 25
    end = n_warmup - term
    ends, k, w = [], init, base
    while k < end:
        nxt = k + w
        if nxt + 2 * w > end:
            nxt = end
        ends.append(nxt)
        k, w = nxt, 2 * w
    return init, ends


class _DualAveraging:
    def __init__(self, eps0: float, target: float) -> None:
        self.mu, self.target = math.log(10 * eps0), target
        self.hbar, self.logeps_bar, self.t = 0.0, math.log(eps0), 0
        self.logeps = math.log(eps0)

    def update(self, accept: float) -> float:
        self.t += 1
        eta = 1.0 / (self.t + 10)
        self.hbar = (1 - eta) * self.hbar + eta * (self.target - accept)
        self.logeps = self.mu - math.sqrt(self.t) / 0.05 * self.hbar
        w = self.t ** -0.75
        self.logeps_bar = w * self.logeps + (1 - w) * self.logeps_bar
        return math.exp(self.logeps)

    @property
    def final(self) -> float:
        return math.exp(self.logeps_bar)


def _initial_factor(init_scale: torch.Tensor | None, p: int, dt: torch.dtype) -> torch.Tensor:
    if init_scale is None:
        return torch.eye(p, dtype=dt)
    s0 = init_scale.detach().to(dt)
    if s0.shape not in ((p,), (p, p)):
        raise InputError(f"hmc: init_scale has shape {tuple(s0.shape)}, expected ({p},) or ({p}, {p})")
    return torch.diag(s0) if s0.ndim == 1 else torch.tril(s0)


def _adapted_factor(chol: torch.Tensor, ys: torch.Tensor, metric: str) -> torch.Tensor:
    """New inverse-mass factor from whitened window draws ``ys`` (c, w, P) taken under factor ``chol``: the
    pooled within-chain covariance with its correlations shrunk by ``n / (n + 5)`` (n pooled draws; variances
    kept, so the estimate stays scale-free); the current factor is kept if no draw moved."""
    c, w, p = ys.shape
    yc = ys - ys.mean(1, keepdim=True)
    n = c * w
    cov = torch.einsum("cwi,cwj->ij", yc, yc) / max(c * (w - 1), 1)
    var = torch.diagonal(cov)
    if not bool(torch.isfinite(cov).all()) or float(var.max()) <= 0:
        return chol
    if metric == "diag":
        v = torch.diagonal(chol @ cov @ chol.T)
        return torch.diag(v.clamp(min=1e-16 * float(v.max())).sqrt())
    var = var.clamp(min=1e-16 * float(var.max()))
    off = cov - torch.diag(torch.diagonal(cov))
    cov = (n / (n + 5.0)) * off + torch.diag(var)
    factor, info = torch.linalg.cholesky_ex(0.5 * (cov + cov.T))
    if int(info) != 0 or not bool(torch.isfinite(factor).all()):
        return chol
    return chol @ factor


def hmc(log_prob: Callable[[torch.Tensor], torch.Tensor], init: torch.Tensor, *, n_warmup: int = 500,
        n_draws: int = 500, n_leapfrog: int = 16, target_accept: float = 0.8, metric: str = "dense",
        init_scale: torch.Tensor | None = None, adapt_metric: bool = True, bounds=None,
        max_energy_error: float = 1000.0, generator: torch.Generator | None = None) -> HMCResult:
    """Sample ``log_prob`` (batched: ``(c, P) -> (c,)``) with ``c = init.shape[0]`` chains started at ``init``.

    ``bounds``: ``(lower, upper)`` (length-P, +-inf for none) or a :class:`~sciml.inference.transforms.Box`: the
    chains then move in unconstrained coordinates with the log-Jacobian added (a uniform prior on the box when
    ``log_prob`` is the likelihood there); ``init`` and the draws stay in the parameters of ``log_prob``.
    ``init_scale``: initial inverse-mass factor in the sampling coordinates, a vector (diagonal) or a
    lower-triangular ``(P, P)`` matrix ``C`` with ``C C^T`` the inverse mass (e.g. the Cholesky factor of a Laplace
    covariance); ``adapt_metric=False`` keeps it and adapts only the step size. ``metric`` is the form of the
    adapted metric (``dense`` or ``diag``). Initial points with a non-finite log density are replaced by the
    best finite one (an error if there is none)."""
    if metric not in METRICS:
        raise bad_value("hmc config", "metric", metric, f"expected one of {METRICS}")
    if n_warmup < 20 or n_draws < 4 or n_leapfrog < 1 or not 0 < target_accept < 1:
        raise InputError(f"hmc config: n_warmup={n_warmup} (>=20), n_draws={n_draws} (>=4), "
                         f"n_leapfrog={n_leapfrog} (>=1), target_accept={target_accept} (in (0,1))")
    if init.ndim != 2:
        raise InputError(f"hmc: init has shape {tuple(init.shape)}, expected (n_chains, n_params)")
    c, p = init.shape
    dt = init.dtype
    box: Box | None = as_box(bounds, p, dtype=dt)
    chol = _initial_factor(init_scale, p, dt)
    n_grad = 0

    def target(q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(log density in the sampling coordinates, log_prob of the parameters)."""
        if box is None:
            lp = log_prob(q)
            return lp, lp
        lp = log_prob(box.forward(q))
        return lp + box.log_abs_det_jacobian(q), lp

    def grad_y(y: torch.Tensor):
        """(log density, its gradient, log_prob of the parameters) at whitened y; -inf / 0 where not finite."""
        nonlocal n_grad
        y = y.detach().requires_grad_(True)
        lpq, lpt = target(y @ chol.T)
        (g,) = torch.autograd.grad(lpq.sum(), y)
        n_grad += 1
        bad = ~torch.isfinite(lpq) | ~torch.isfinite(g).all(1)
        lpq = torch.where(bad, torch.full_like(lpq, -math.inf), lpq.detach())
        return lpq, torch.where(bad[:, None], torch.zeros_like(g), g), lpt.detach()

    def evaluate(y: torch.Tensor):
        """Chain state (y, log density, gradient, log_prob of the parameters)."""
        return (y.detach(), *grad_y(y))

    def leapfrog(y, g, mom, eps, n_steps):
        mom = mom + 0.5 * eps * g
        for i in range(n_steps):
            y = y + eps * mom
            lpn, g, lpt = grad_y(y)
            if i < n_steps - 1:
                mom = mom + eps * g
        return y, lpn, g, lpt, mom + 0.5 * eps * g

    def transition(state, eps: float):
        y, lp, g, lpt = state
        eps = eps * (0.8 + 0.4 * torch.rand((), generator=generator, dtype=dt).item())
        n_steps = int(torch.randint((n_leapfrog + 1) // 2, n_leapfrog + 1, (), generator=generator))
        mom = torch.randn(y.shape, generator=generator, dtype=dt)
        h0 = -lp + 0.5 * (mom ** 2).sum(1)
        yn, lpn, gn, lptn, mom = leapfrog(y, g, mom, eps, n_steps)
        dh = h0 - (-lpn + 0.5 * (mom ** 2).sum(1))
        ok = torch.isfinite(dh) & (dh > -max_energy_error)
        acc_prob = torch.where(ok, torch.exp(torch.clamp(dh, max=0.0)), torch.zeros_like(dh))
        accept = torch.rand(c, generator=generator, dtype=dt) < acc_prob
        state = (torch.where(accept[:, None], yn, y), torch.where(accept, lpn, lp),
                 torch.where(accept[:, None], gn, g), torch.where(accept, lptn, lpt))
        return state, acc_prob, int((~ok).sum())

    def init_step(state, eps: float) -> float:
        """Hoffman & Gelman (2014) Alg. 4 on the median chain: double or halve until acceptance crosses 1/2."""
        y, lp, g, _ = state
        mom = torch.randn(y.shape, generator=generator, dtype=dt)
        h0 = -lp + 0.5 * (mom ** 2).sum(1)

        def log_ratio(e: float) -> float:
            _, lpn, _, _, m = leapfrog(y, g, mom, e, 1)
            d = h0 - (-lpn + 0.5 * (m ** 2).sum(1))
            d = torch.where(torch.isfinite(d), d, torch.full_like(d, -math.inf))
            return float(d.median())

        up = log_ratio(eps) > math.log(0.5)
        for _ in range(60):
            nxt = eps * (2.0 if up else 0.5)
            if (log_ratio(nxt) > math.log(0.5)) != up:
                return eps if up else nxt
            eps = nxt
        return eps

    # --- initial points: whitened, checked
    q0 = init.detach().clone()
    if box is not None:
        q0 = box.inverse(q0)
    y = torch.linalg.solve_triangular(chol, q0.T, upper=False).T
    state = evaluate(y)
    finite = torch.isfinite(state[1])
    if not bool(finite.any()):
        raise InputError("hmc: log_prob is not finite (or has a non-finite gradient) at any initial point")
    if not bool(finite.all()):
        best = int(torch.argmax(torch.where(finite, state[1], torch.full_like(state[1], -math.inf))))
        log.warning("hmc: chains %s start where log_prob is not finite; restarted at chain %d",
                    torch.nonzero(~finite).flatten().tolist(), best)
        state = evaluate(torch.where(finite[:, None], y, y[best]))

    # --- warm-up
    t0 = time.perf_counter()
    eps = init_step(state, 1.0)
    da = _DualAveraging(eps, target_accept)
    init_end, ends = warmup_schedule(n_warmup)
    if adapt_metric and ends and n_warmup - ends[-1] < 50:
        log.warning("hmc: warm-up of %d leaves %d iterations for the final step size after the last metric window "
                    "(Stan's terminal buffer is 50; >= 150 warm-up gets it): the step size may end off its target "
                    "acceptance %.2f (measured: 0.95 for 0.8 at 100)", n_warmup, n_warmup - ends[-1], target_accept)
    window: list[torch.Tensor] = []
    div_warm = 0
    bar = Progress(n_warmup + n_draws, f"HMC ({c} chains)", log=log)  # total and ETA: bar on a tty, log lines
    for it in range(n_warmup):
        state, acc, d = transition(state, eps)
        div_warm += d
        bar.update(1, phase="warmup")
        eps = da.update(float(acc.mean()))
        if not adapt_metric or it < init_end or not ends:
            continue
        window.append(state[0])
        if it + 1 == ends[0]:
            ends.pop(0)
            q = state[0] @ chol.T
            chol = _adapted_factor(chol, torch.stack(window, 1), metric)
            window = []
            state = evaluate(torch.linalg.solve_triangular(chol, q.T, upper=False).T)
            eps = init_step(state, eps)
            da = _DualAveraging(eps, target_accept)
    eps = da.final
    t1 = time.perf_counter()

    # --- sampling
    draws, lps, accs, div = [], [], [], 0
    for _ in range(n_draws):
        state, acc, d = transition(state, eps)
        draws.append(state[0] @ chol.T)
        lps.append(state[3])
        accs.append(acc)
        div += d
        bar.update(1, phase="sampling")
    bar.close()
    q = torch.stack(draws, 1)
    theta = q if box is None else box.forward(q)
    acc_all = torch.stack(accs, 1)
    return HMCResult(theta.detach().cpu().numpy(), torch.stack(lps, 1).cpu().numpy(), float(acc_all.mean()),
                     float(eps), n_leapfrog, div, n_grad, divergences_warmup=div_warm,
                     inv_metric=(chol @ chol.T).cpu().numpy(), chain_accept=acc_all.mean(1).cpu().numpy(),
                     seconds_warmup=t1 - t0, seconds_sampling=time.perf_counter() - t1)

