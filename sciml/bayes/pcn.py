"""Reference MCMC of the Bayesian studies: preconditioned Crank-Nicolson, optionally with a Laplace reference.

Target: ``p(m | d) ~ exp(-Phi(m)) N(m; mu, K)`` with ``Phi`` the Gaussian data misfit of an
:class:`~sciml.bayes.problem.InverseProblem`. In prior-whitened coordinates ``m = mu + L z`` (``K = L L^T``) the
generalised pCN proposal (Rudolf & Sprungk 2018) is

    ``z' = c + sqrt(1 - beta^2) (z - c) + beta R xi``,  ``xi ~ N(0, I)``,

which keeps the reference Gaussian ``N(c, R R^T)`` invariant; it is accepted with
``min(1, w(z') / w(z))``, ``w = target / reference``. The reference (config ``reference``):

* ``prior`` (``c = 0, R = I``): classic pCN (Cotter et al. 2013, accepted with ``exp(Phi(m) - Phi(m'))``);
  chains start from prior draws;
* ``laplace``: ``c`` = the MAP point (L-BFGS on the adjoint gradient of the misfit), ``R R^T`` =
  ``reference_inflation`` times the inverse Gauss-Newton Hessian ``(I + L^T J^T S^-1 J L)^-1`` there; chains
  start from draws of this (inflated, hence over-dispersed) reference.

``beta`` is adapted towards ``target_accept`` in the warm-up and frozen for the draws. (Refitting
the reference to the warm-up draws was tried and dropped: a covariance from a few hundred autocorrelated draws in
64 dimensions under-estimates the small variances, the weight ``w`` becomes unbounded and chains stick,
measured acceptance 0.05, ESS 4 on the default Darcy problem.) Any reference gives an exact MCMC of the
same target: the gradient only shapes the proposal, and the accept/reject step uses the misfit alone, so the
reference shares no approximation with the gradient-based methods it checks.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np
import scipy.optimize
import torch

from sciml.bayes.problem import InverseProblem
from sciml.errors import bad_value
from sciml.progress import track
from sciml.inference.diagnostics import ess, split_rhat


def laplace_reference(problem: InverseProblem, chol: np.ndarray, inflation: float
                      ) -> tuple[np.ndarray, np.ndarray, dict]:
    """MAP point ``z*`` in prior-whitened coordinates (L-BFGS, adjoint gradient of the misfit) and the Cholesky
    factor of ``inflation`` times the inverse Gauss-Newton Hessian ``I + (J L)^T S^-1 (J L)`` there."""
    mu, lt = problem.prior.mean, torch.as_tensor(chol)

    def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
        zt = torch.as_tensor(z).requires_grad_(True)
        val = -problem.log_likelihood(mu + (lt @ zt)[None])[0] + 0.5 * (zt ** 2).sum()
        val.backward()
        return float(val.detach()), zt.grad.numpy().copy()

    d = chol.shape[0]
    res = scipy.optimize.minimize(objective, np.zeros(d), jac=True, method="L-BFGS-B",
                                  options={"maxiter": 2000, "gtol": 1e-8})
    gn = lt.T @ problem.gauss_newton(torch.as_tensor(mu + chol @ res.x)) @ lt
    cov = inflation * np.linalg.inv(np.eye(d) + gn.numpy())
    return res.x, np.linalg.cholesky(0.5 * (cov + cov.T)), {"map_iterations": int(res.nit)}


def mc_standard_errors(draws: np.ndarray, prior_mean: float) -> dict[str, float]:
    """Monte Carlo standard errors of the posterior mean and std of chains ``(c, n, m)``, in the units of the
    comparison metrics (``rel_err_mean``, ``rel_err_std``): ``||sd / sqrt(ESS)|| / ||mean - prior_mean||`` and
    ``||sd_err|| / ||sd||`` with ``sd_err = sqrt(Var[(x - mean)^2] / ESS_sq) / (2 sd)`` (delta method)."""
    flat = draws.reshape(-1, draws.shape[-1])
    mean, sd = flat.mean(0), flat.std(0, ddof=1)
    sq = (draws - mean) ** 2
    e, e_sq = ess(draws), ess(sq)
    sd_err = np.sqrt(sq.reshape(-1, draws.shape[-1]).var(0, ddof=1) / e_sq) / (2.0 * sd)
    return {"ess_sq_min": float(np.nanmin(e_sq)),
            "mcse_rel_err_mean": float(np.linalg.norm(sd / np.sqrt(e)) / np.linalg.norm(mean - prior_mean)),
            "mcse_rel_err_std": float(np.linalg.norm(sd_err) / np.linalg.norm(sd))}


def run_pcn(problem: InverseProblem, cfg: Mapping, seed: int, *, section: str = "bayes.darcy.pcn"
            ) -> tuple[np.ndarray, dict]:
    """Sample the posterior of ``problem`` (config keys ``chains, warmup, draws, thin, beta, target_accept,
    reference, reference_inflation``; ``section`` names them in errors). Returns the thinned
    draws ``(chains * draws, m)`` of the field and diagnostics (acceptance, beta, R-hat, ESS, Monte Carlo
    standard errors of the summaries)."""
    chains, warmup = int(cfg["chains"]), int(cfg["warmup"])
    draws, thin = int(cfg["draws"]), int(cfg["thin"])
    beta, target = float(cfg["beta"]), float(cfg["target_accept"])
    inflation = float(cfg["reference_inflation"])
    kind = str(cfg["reference"])
    if kind not in ("prior", "laplace"):
        raise bad_value(section, "reference", kind, "expected 'prior' or 'laplace'")
    for field, value in (("chains", chains), ("warmup", warmup), ("draws", draws), ("thin", thin)):
        if value < 1:
            raise bad_value(section, field, value, "must be >= 1")
    if chains < 2 or draws < 4:
        raise bad_value(section, "chains" if chains < 2 else "draws", chains if chains < 2 else draws,
                        "R-hat and ESS need >= 2 chains and >= 4 draws")
    if not 0 < beta < 1:
        raise bad_value(section, "beta", beta, "must lie in (0, 1)")
    if not inflation >= 1:
        raise bad_value(section, "reference_inflation", inflation, "must be >= 1")
    if not 0 < target < 1:
        raise bad_value(section, "target_accept", target, "must lie in (0, 1)")
    rng = np.random.default_rng(seed)
    chol, _ = problem.prior.cholesky(problem.x)
    mu, d = problem.prior.mean, chol.shape[0]

    def log_target(z: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            ll = problem.log_likelihood(torch.as_tensor(mu + z @ chol.T)).numpy()
        return np.where(np.isfinite(ll), ll, -np.inf) - 0.5 * (z ** 2).sum(1)

    centre, ref = np.zeros(d), np.eye(d)  # reference Gaussian N(centre, ref ref^T); the prior: classic pCN
    extra: dict = {}
    if kind == "laplace":
        centre, ref, extra = laplace_reference(problem, chol, inflation)

    def log_weight(z: np.ndarray, lt: np.ndarray) -> np.ndarray:
        r = np.linalg.solve(ref, (z - centre).T) if kind == "laplace" else z.T
        return lt + 0.5 * (r ** 2).sum(0)

    z = centre + rng.standard_normal((chains, d)) @ ref.T  # prior draws, or draws of the Laplace reference
    lt = log_target(z)
    lw = log_weight(z, lt)
    out, acc_sum, n_acc = [], 0.0, 0
    for it in track(range(warmup + draws * thin), f"pCN ({chains} chains)", log=logging.getLogger(__name__)):
        prop = centre + math.sqrt(1 - beta ** 2) * (z - centre) + beta * rng.standard_normal((chains, d)) @ ref.T
        lt_p = log_target(prop)
        lw_p = log_weight(prop, lt_p)
        with np.errstate(invalid="ignore"):
            a = np.exp(np.minimum(0.0, np.nan_to_num(lw_p - lw, nan=-np.inf)))
        ok = rng.uniform(size=chains) < a
        z[ok], lt[ok], lw[ok] = prop[ok], lt_p[ok], lw_p[ok]
        if it < warmup:
            beta = float(np.clip(math.exp(math.log(beta) + (a.mean() - target) / math.sqrt(it + 1.0)), 1e-4, 0.99))
        else:
            acc_sum += a.mean()
            n_acc += 1
            if (it - warmup) % thin == thin - 1:
                out.append(mu + z @ chol.T)
    arr = np.stack(out, 1)  # (chains, draws, m)
    e, r = ess(arr), split_rhat(arr)
    info = {"accept_rate": float(acc_sum / max(n_acc, 1)), "beta": beta, "n_chains": chains, "n_draws": draws,
            "thin": thin, "n_solves": chains * (warmup + draws * thin + 1), "ess_min": float(np.nanmin(e)),
            "ess_median": float(np.nanmedian(e)), "rhat_max": float(np.nanmax(r)),
            **mc_standard_errors(arr, mu), **extra}
    return arr.reshape(chains * draws, -1), info
