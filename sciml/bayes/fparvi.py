"""fParVI-PINN: function-space particle variational inference (Wang et al. 2019, function-space POVI).

Each particle is a network weight vector ``theta_i``; its function values ``f_i = f(x; theta_i)`` at the
problem's points are moved by an SVGD step in function space, where the target is the posterior
``p(f | d) ~ N(f; GP) p(d | f)`` (the GP prior's log-density gradient acts on function values) and the kernel
acts on function values. The step is preconditioned by the Gauss-Newton posterior curvature in function space
(``H = J^T S^-1 J + K^-1``, refreshed at the particle mean every ``precond_every`` steps; matrix-valued kernel
SVGD, Wang et al. 2019). The function-space displacement ``df_i`` is pulled back to the particle's weights by
damped least squares, ``dtheta_i = J_i^T (J_i J_i^T + lambda_i I)^-1 df_i`` with ``J_i = df_i/dtheta_i``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch

from sciml.errors import bad_value
from sciml.progress import track
from sciml.bayes.problem import InverseProblem
from sciml.bayes.rff import RFFNetwork
from sciml.bayes.svgd import stein_direction


@dataclass
class FParVIResult:
    """Final particles (weights ``(n, P)``, function values ``(n, m)``) and the mean log-posterior history."""

    particles: np.ndarray
    functions: np.ndarray
    history: np.ndarray
    n_steps: int


def fparvi(net: RFFNetwork, problem: InverseProblem, init: torch.Tensor, *, steps: int = 500,
           step_size: float = 0.1, kernel: str = "rbf+linear", damping: float = 1e-8,
           precond_every: int = 50) -> FParVIResult:
    """Run fParVI from weight particles ``init`` ``(n, P)`` (e.g. draws from the network's weight prior)."""
    for field, value in (("steps", steps), ("step_size", step_size)):
        if not value > 0:
            raise bad_value("fparvi config", field, value, "must be positive")
    if not damping >= 0:
        raise bad_value("fparvi config", "damping", damping, "must be >= 0")
    dt = init.dtype
    x = torch.as_tensor(problem.x, dtype=dt)
    prec = problem.prior_precision(dt)
    mu = problem.prior.mean

    theta = init.detach().clone()
    hist = []
    m = problem.n_points
    eye = torch.eye(m, dtype=dt)
    pull = None  # (P, m) pull-back J^T (J J^T + lambda I)^-1 when the Jacobian does not depend on the weights
    if not net.hidden:
        jac = net.jacobian(theta[:1], x)[0]
        jjt = jac @ jac.T
        pull = torch.linalg.solve(jjt + damping * jjt.diagonal().mean() * eye, jac).T  # J J^T is symmetric
    for it in track(range(int(steps)), "fParVI", log=logging.getLogger(__name__)):
        with torch.no_grad():
            f = net(theta, x)
        fg = f.clone().requires_grad_(True)
        ll = problem.log_likelihood(fg)
        (g_lik,) = torch.autograd.grad(ll.sum(), fg)
        r = f - mu
        score = g_lik - r @ prec
        hist.append(float((ll.detach() - 0.5 * ((r @ prec) * r).sum(1)).mean()))
        if it % max(1, precond_every) == 0:
            centre = f.mean(0)
            hmat = problem.gauss_newton(centre) + prec
            chol = torch.linalg.cholesky(0.5 * (hmat + hmat.T))
        y = (f - centre) @ chol
        score_y = torch.linalg.solve_triangular(chol, score.T, upper=False).T
        phi = stein_direction(y, score_y, kernel)
        df = step_size * torch.linalg.solve_triangular(chol.T, phi.T, upper=True).T  # (n, m)
        if pull is not None:  # linear read-out: one Jacobian for all particles, one pull-back matrix
            theta = theta + df @ pull.T
            continue
        jac = net.jacobian(theta, x)  # (n, m, P)
        jjt = jac @ jac.transpose(1, 2)
        lam = damping * jjt.diagonal(dim1=1, dim2=2).mean(1)
        z = torch.linalg.solve(jjt + lam[:, None, None] * eye, df[..., None])
        theta = theta + (jac.transpose(1, 2) @ z)[..., 0]
    with torch.no_grad():
        f = net(theta, x)
    return FParVIResult(theta.cpu().numpy(), f.cpu().numpy(), np.asarray(hist), int(steps))
