"""Method drivers shared by the studies: FPI prior tuning, FPI-BPINN (HMC, SVGD) and fParVI-PINN.

Every driver takes an :class:`~sciml.bayes.problem.InverseProblem`, a plain config dict (the study's config
section for that method) and a seed, and returns posterior function samples ``(n_samples, m)`` at the problem's
points plus a flat dict of diagnostics (floats/ints/strings, ready to become NetCDF attributes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import torch

from sciml.errors import InputError
from sciml.bayes.diagnostics import ess, split_rhat
from sciml.bayes.fparvi import fparvi
from sciml.bayes.fpi import FPIResult, tune_prior
from sciml.bayes.hmc import hmc
from sciml.bayes.problem import InverseProblem
from sciml.bayes.rff import RFFNetwork
from sciml.bayes.svgd import svgd

METHODS = ("exact", "fpi_bpinn_hmc", "fpi_bpinn_svgd", "fparvi")


def _get(cfg: Mapping, key: str, section: str):
    if key not in cfg:
        raise InputError(f"config: section {section!r} lacks field {key!r}")
    return cfg[key]


def build_network(problem: InverseProblem, cfg: Mapping, seed: int) -> RFFNetwork:
    """RFF network for the problem's field (input dimension of ``problem.x``), initialised from its GP prior."""
    return RFFNetwork(problem.x.shape[1], int(_get(cfg, "n_freq", "network")), tuple(cfg.get("hidden", ())),
                      gp=problem.prior, activation=cfg.get("activation", "tanh"), seed=seed,
                      quasi=bool(cfg.get("quasi", True)))


def run_fpi(net: RFFNetwork, problem: InverseProblem, cfg: Mapping, seed: int) -> FPIResult:
    """Tune the weight prior of ``net`` against the GP prior on the bounding box of the problem's points."""
    lo, hi = problem.x.min(0), problem.x.max(0)
    return tune_prior(net, problem.prior, lo, hi, metric=cfg.get("distance", "sliced_w1"),
                      steps=int(cfg.get("steps", 300)), lr=float(cfg.get("lr", 0.02)),
                      n_points=int(cfg.get("n_points", 32)), n_samples=int(cfg.get("n_samples", 256)),
                      n_eval=int(cfg.get("n_eval", 10)), seed=seed)


def weight_log_posterior(net: RFFNetwork, problem: InverseProblem) -> Callable[[torch.Tensor], torch.Tensor]:
    """``log p(theta | d)`` up to a constant for weights ``(c, P)``: Gaussian data misfit of the PINN's physics
    (``problem.forward`` of the network's field) plus the tuned Gaussian weight prior."""
    x = torch.as_tensor(problem.x, dtype=net.dtype)
    return lambda th: problem.log_likelihood(net(th, x)) + net.log_prior(th)


def weight_hessian(net: RFFNetwork, problem: InverseProblem) -> Callable[[torch.Tensor], torch.Tensor]:
    """Gauss-Newton curvature in weight space at ``theta``: ``J^T S^-1 J + diag(prior_std^-2)``."""
    x = torch.as_tensor(problem.x, dtype=net.dtype)
    w = torch.as_tensor(problem.sigma, dtype=net.dtype) ** -2
    sd = net.prior_std().detach()

    def hess(theta: torch.Tensor) -> torch.Tensor:
        jac = torch.autograd.functional.jacobian(lambda th: problem.forward(net(th[None], x))[0], theta.detach())
        return jac.T @ (w[:, None] * jac) + torch.diag(sd ** -2)

    return hess


def _laplace_factor(net: RFFNetwork, problem: InverseProblem) -> torch.Tensor:
    """Cholesky factor of the inverse Gauss-Newton Hessian at the prior mean (initial HMC metric)."""
    hmat = weight_hessian(net, problem)(torch.zeros(net.n_params, dtype=net.dtype))
    cov = torch.cholesky_inverse(torch.linalg.cholesky(0.5 * (hmat + hmat.T)))
    return torch.linalg.cholesky(0.5 * (cov + cov.T))


def _functions(net: RFFNetwork, problem: InverseProblem, theta: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.as_tensor(theta, dtype=net.dtype),
                   torch.as_tensor(problem.x, dtype=net.dtype)).cpu().numpy()


def run_hmc(net: RFFNetwork, problem: InverseProblem, cfg: Mapping, seed: int) -> tuple[np.ndarray, dict]:
    """FPI-BPINN with HMC: chains start from prior draws; R-hat and ESS are computed on the field values."""
    gen = torch.Generator().manual_seed(seed)
    chains = int(cfg.get("chains", 4))
    init = net.sample_prior(chains, gen).detach()
    t0 = time.perf_counter()
    res = hmc(weight_log_posterior(net, problem), init, n_warmup=int(cfg.get("warmup", 500)),
              n_draws=int(cfg.get("draws", 500)), n_leapfrog=int(cfg.get("leapfrog", 16)),
              target_accept=float(cfg.get("target_accept", 0.8)), metric=cfg.get("metric", "dense"),
              init_scale=_laplace_factor(net, problem), adapt_metric=bool(cfg.get("adapt_metric", True)),
              generator=gen)
    wall = time.perf_counter() - t0
    c, n, p = res.draws.shape
    f = _functions(net, problem, res.draws.reshape(c * n, p)).reshape(c, n, -1)
    e, r = ess(f), split_rhat(f)
    info = {"accept_rate": res.accept_rate, "step_size": res.step_size, "n_leapfrog": res.n_leapfrog,
            "divergences": res.divergences, "ess_min": float(np.nanmin(e)), "ess_median": float(np.nanmedian(e)),
            "rhat_max": float(np.nanmax(r)), "n_chains": c, "n_draws": n, "n_grad_evals": res.n_grad_evals,
            "sampler_wall_s": wall}
    return f.reshape(c * n, -1), info


def run_svgd(net: RFFNetwork, problem: InverseProblem, cfg: Mapping, seed: int) -> tuple[np.ndarray, dict]:
    """FPI-BPINN with weight-space SVGD (Gauss-Newton preconditioned) from prior draws."""
    gen = torch.Generator().manual_seed(seed)
    init = net.sample_prior(int(cfg.get("particles", 100)), gen).detach()
    t0 = time.perf_counter()
    res = svgd(weight_log_posterior(net, problem), init, hessian=weight_hessian(net, problem),
               steps=int(cfg.get("steps", 500)), step_size=float(cfg.get("step_size", 0.1)),
               kernel=cfg.get("kernel", "rbf+linear"), precond_every=int(cfg.get("precond_every", 100)))
    info = {"n_particles": init.shape[0], "n_steps": res.n_grad_evals, "final_log_post": float(res.history[-1]),
            "sampler_wall_s": time.perf_counter() - t0}
    return _functions(net, problem, res.particles), info


def run_fparvi(net: RFFNetwork, problem: InverseProblem, cfg: Mapping, seed: int) -> tuple[np.ndarray, dict]:
    """fParVI-PINN from draws of the network's weight prior (no prior tuning needed: the GP acts directly)."""
    gen = torch.Generator().manual_seed(seed)
    for par in net.parameters():
        par.requires_grad_(False)
    init = net.sample_prior(int(cfg.get("particles", 100)), gen).detach()
    t0 = time.perf_counter()
    res = fparvi(net, problem, init, steps=int(cfg.get("steps", 500)), step_size=float(cfg.get("step_size", 0.1)),
                 kernel=cfg.get("kernel", "rbf+linear"), damping=float(cfg.get("damping", 1e-8)),
                 precond_every=int(cfg.get("precond_every", 50)))
    info = {"n_particles": init.shape[0], "n_steps": res.n_steps, "final_log_post": float(res.history[-1]),
            "sampler_wall_s": time.perf_counter() - t0}
    return res.functions, info
