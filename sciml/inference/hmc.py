"""Hamiltonian Monte Carlo for a batch of independent chains (torch autograd gradients).

HMC with a randomised path (``ceil(n_leapfrog/2) .. n_leapfrog`` steps, step size jittered by +-20 %, which
avoids periodic trajectories) with Stan-style warm-up: dual averaging of
the step size towards ``target_accept`` (Hoffman & Gelman 2014) and a mass matrix (``dense`` or ``diag``)
estimated from the pooled chains in doubling windows (Stan's schedule). Sampling runs in whitened coordinates
``q = C y`` with ``C C^T`` the inverse mass matrix. All chains share step size and metric.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from sciml.errors import InputError, bad_value

METRICS = ("dense", "diag")


@dataclass
class HMCResult:
    """Draws ``(n_chains, n_draws, n_params)``, their log densities and sampler statistics."""

    draws: np.ndarray
    log_prob: np.ndarray
    accept_rate: float
    step_size: float
    n_leapfrog: int
    divergences: int
    n_grad_evals: int


def _windows(n_warmup: int) -> list[int]:
    """End indices of the slow (metric) adaptation windows: 15 % initial and 10 % terminal fast buffers."""
    start, end = int(0.15 * n_warmup), n_warmup - int(0.1 * n_warmup)
    ends, w, k = [], max(10, (end - start) // 7), start
    while k + w < end:
        nxt = k + w if k + 3 * w <= end else end
        ends.append(nxt)
        k, w = nxt, 2 * w
    if not ends or ends[-1] != end:
        ends.append(end)
    return ends


class _DualAveraging:
    def __init__(self, eps0: float, target: float) -> None:
        self.mu, self.target = math.log(10 * eps0), target
        self.hbar, self.logeps_bar, self.t = 0.0, 0.0, 0
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


def hmc(log_prob: Callable[[torch.Tensor], torch.Tensor], init: torch.Tensor, *, n_warmup: int = 500,
        n_draws: int = 500, n_leapfrog: int = 16, target_accept: float = 0.8, metric: str = "dense",
        init_scale: torch.Tensor | None = None, adapt_metric: bool = True,
        generator: torch.Generator | None = None) -> HMCResult:
    """Sample ``log_prob`` (batched: ``(c, P) -> (c,)``) with ``c = init.shape[0]`` chains started at ``init``.

    ``init_scale``: initial inverse-mass factor, a vector (diagonal) or a lower-triangular ``(P, P)`` matrix ``C``
    with ``C C^T`` the inverse mass (e.g. the Cholesky factor of an inverse Gauss-Newton Hessian);
    ``adapt_metric=False`` keeps it and adapts only the step size."""
    if metric not in METRICS:
        raise bad_value("hmc config", "metric", metric, f"expected one of {METRICS}")
    if n_warmup < 20 or n_draws < 4 or n_leapfrog < 1 or not 0 < target_accept < 1:
        raise InputError(f"hmc config: n_warmup={n_warmup} (>=20), n_draws={n_draws} (>=4), "
                         f"n_leapfrog={n_leapfrog} (>=1), target_accept={target_accept} (in (0,1))")
    q = init.detach().clone()
    c, p = q.shape
    dt = q.dtype
    if init_scale is None:
        chol = torch.eye(p, dtype=dt)
    else:
        s0 = init_scale.detach().to(dt)
        chol = torch.diag(s0) if s0.ndim == 1 else torch.tril(s0)
    n_grad = 0

    def grad_y(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        nonlocal n_grad
        y = y.detach().requires_grad_(True)
        lp = log_prob(y @ chol.T)
        (g,) = torch.autograd.grad(lp.sum(), y)
        n_grad += 1
        return lp.detach(), g

    def transition(y: torch.Tensor, lp: torch.Tensor, g: torch.Tensor, eps: float):
        eps = eps * (0.8 + 0.4 * torch.rand((), generator=generator, dtype=dt).item())
        n_steps = int(torch.randint((n_leapfrog + 1) // 2, n_leapfrog + 1, (), generator=generator))
        mom = torch.randn(y.shape, generator=generator, dtype=dt)
        h0 = -lp + 0.5 * (mom ** 2).sum(1)
        yn, gn = y.clone(), g
        mom = mom + 0.5 * eps * gn
        for i in range(n_steps):
            yn = yn + eps * mom
            lpn, gn = grad_y(yn)
            if i < n_steps - 1:
                mom = mom + eps * gn
        mom = mom + 0.5 * eps * gn
        h1 = -lpn + 0.5 * (mom ** 2).sum(1)
        dh = h0 - h1
        finite = torch.isfinite(dh)
        acc_prob = torch.where(finite, torch.exp(torch.clamp(dh, max=0.0)), torch.zeros_like(dh))
        accept = torch.rand(c, generator=generator, dtype=dt) < acc_prob
        divergent = int((~finite | (dh < -1000)).sum())
        y = torch.where(accept[:, None], yn, y)
        lp = torch.where(accept, lpn, lp)
        g = torch.where(accept[:, None], gn, g)
        return y, lp, g, float(acc_prob.mean()), divergent

    y = torch.linalg.solve_triangular(chol, q.T, upper=False).T
    lp, g = grad_y(y)
    eps = 0.5 / math.sqrt(n_leapfrog)
    da = _DualAveraging(eps, target_accept)
    ends = _windows(n_warmup)
    window: list[torch.Tensor] = []
    for it in range(n_warmup):
        y, lp, g, acc, _ = transition(y, lp, g, eps)
        eps = da.update(acc)
        if int(0.15 * n_warmup) <= it:
            window.append((y @ chol.T).clone())
        if adapt_metric and ends and it + 1 == ends[0]:
            ends.pop(0)
            qs = torch.cat(window)
            window = []
            n = qs.shape[0]
            cov = torch.cov(qs.T).reshape(p, p)
            if metric == "diag":
                cov = torch.diag(torch.diag(cov))
            shrink = 1e-3 * torch.diag(cov).mean()
            cov = (n / (n + 5.0)) * cov + shrink * (5.0 / (n + 5.0)) * torch.eye(p, dtype=dt)
            qcur = y @ chol.T
            chol = torch.linalg.cholesky(cov)
            y = torch.linalg.solve_triangular(chol, qcur.T, upper=False).T
            lp, g = grad_y(y)
            da = _DualAveraging(eps, target_accept)
    eps = da.final
    draws, lps, accs, div = [], [], [], 0
    for _ in range(n_draws):
        y, lp, g, acc, d = transition(y, lp, g, eps)
        draws.append((y @ chol.T).clone())
        lps.append(lp.clone())
        accs.append(acc)
        div += d
    return HMCResult(torch.stack(draws, 1).cpu().numpy(), torch.stack(lps, 1).cpu().numpy(),
                     float(np.mean(accs)), float(eps), n_leapfrog, div, n_grad)
