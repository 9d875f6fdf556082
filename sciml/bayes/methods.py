"""Method drivers shared by the studies: FPI prior tuning, FPI-BPINN (HMC, SVGD) and fParVI-PINN.

Every driver takes an :class:`~sciml.bayes.problem.InverseProblem`, a config dict (the study's complete,
validated config section for that method: every key present, see ``workflow/schemas/bayes.schema.yaml``) and a
seed, and returns posterior function samples ``(n_samples, m)`` at the problem's points plus a flat dict of
diagnostics (numbers, keyed as in :data:`DIAGNOSTICS`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np
import scipy.optimize
import torch

from sciml.bayes.fparvi import fparvi
from sciml.bayes.fpi import FPIResult, tune_prior
from sciml.bayes.problem import InverseProblem
from sciml.bayes.rff import RFFNetwork
from sciml.bayes.svgd import svgd
from sciml.errors import InputError
from sciml.inference.diagnostics import ess, split_rhat
from sciml.inference.hmc import hmc

# Diagnostics the drivers (and sciml.bayes.pcn.run_pcn) report: name -> (units, long name); "field" stands
# for the unit of the unknown field. The study steps store each as a 0-d variable metric_<name>.
DIAGNOSTICS = {
    "accept_rate": ("1", "mean acceptance probability after warm-up"),
    "step_size": ("1", "adapted leapfrog step size (whitened coordinates)"),
    "n_leapfrog": ("1", "maximum leapfrog steps per HMC trajectory"),
    "divergences": ("1", "divergent HMC trajectories after warm-up"),
    "ess_min": ("1", "smallest effective sample size over the field points"),
    "ess_median": ("1", "median effective sample size over the field points"),
    "rhat_max": ("1", "largest split R-hat over the field points"),
    "n_chains": ("1", "number of chains"),
    "n_draws": ("1", "draws per chain kept after warm-up (and thinning)"),
    "n_grad_evals": ("1", "gradient evaluations of the log posterior"),
    "beta": ("1", "adapted pCN step parameter beta"),
    "thin": ("1", "thinning interval of the pCN chains"),
    "n_solves": ("1", "forward (Darcy) solves of the pCN chains"),
    "ess_sq_min": ("1", "smallest effective sample size of the squared deviations (the std estimate)"),
    "mcse_rel_err_mean": ("1", "Monte Carlo standard error of the reference mean, in rel_err_mean units"),
    "map_iterations": ("1", "L-BFGS iterations to the MAP point of the pCN Laplace reference"),
    "mcse_rel_err_std": ("1", "Monte Carlo standard error of the reference std, in rel_err_std units"),
    "n_particles": ("1", "number of particles"),
    "n_steps": ("1", "particle update steps"),
    "final_log_post": ("1", "mean log posterior density of the particles at the last step (up to a constant)"),
    "sampler_wall_s": ("s", "wall time of the sampler alone"),
    "fpi_distance": ("field", "distance of the tuned network prior to the GP prior (FPI)"),
    "network_n_params": ("1", "number of network weights"),
    "method_wall_s": ("s", "wall time of the method (network set-up, sampling and field evaluation)"),
}


def build_network(problem: InverseProblem, cfg: Mapping, seed: int) -> RFFNetwork:
    """RFF network (config ``network``: ``n_freq``, ``hidden``, ``activation``, ``quasi``) for the problem's
    field (input dimension of ``problem.x``), initialised from its GP prior."""
    return RFFNetwork(problem.x.shape[1], int(cfg["n_freq"]), tuple(cfg["hidden"]), gp=problem.prior,
                      activation=cfg["activation"], seed=seed, quasi=bool(cfg["quasi"]))


def tuned_network(problem: InverseProblem, cfg: Mapping, hyperparameters: Mapping, seed: int) -> RFFNetwork:
    """The network of :func:`build_network` with the prior hyper-parameters tuned by FPI (``freq_scale``,
    per-layer ``weight_scale`` and ``bias_scale``, ``mean``: :meth:`RFFNetwork.hyperparameters`), frozen."""
    net = build_network(problem, cfg, seed)
    ws = np.atleast_1d(np.asarray(hyperparameters["weight_scale"], dtype=float))
    bs = np.atleast_1d(np.asarray(hyperparameters["bias_scale"], dtype=float))
    if ws.size != len(net.shapes) or bs.size != len(net.shapes):
        raise InputError(f"FPI prior has {ws.size} layer scales but the network config gives {len(net.shapes)} "
                         "layers: rerun the FPI step")
    with torch.no_grad():
        net.log_freq_scale.fill_(float(np.log(float(hyperparameters["freq_scale"]))))
        net.log_weight_scale.copy_(torch.as_tensor(np.log(ws)))
        net.log_bias_scale.copy_(torch.as_tensor(np.log(bs)))
        net.mean_shift.fill_((float(hyperparameters["mean"]) - float(net.mean_ref[0])) / float(net.mean_ref[1]))
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def run_fpi(net: RFFNetwork, problem: InverseProblem, cfg: Mapping, seed: int) -> FPIResult:
    """Tune the weight prior of ``net`` against the GP prior on the bounding box of the problem's points."""
    lo, hi = problem.x.min(0), problem.x.max(0)
    return tune_prior(net, problem.prior, lo, hi, metric=cfg["distance"], steps=int(cfg["steps"]),
                      lr=float(cfg["lr"]), n_points=int(cfg["n_points"]), n_samples=int(cfg["n_samples"]),
                      n_eval=int(cfg["n_eval"]), seed=seed)


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


def weight_map(net: RFFNetwork, problem: InverseProblem) -> torch.Tensor:
    """MAP weights ``(P,)``: L-BFGS (scipy) on the negative log posterior from the prior mean."""
    logp = weight_log_posterior(net, problem)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        th = torch.as_tensor(theta, dtype=net.dtype).requires_grad_(True)
        val = -logp(th[None])[0]
        val.backward()
        return float(val.detach()), th.grad.numpy().copy()

    res = scipy.optimize.minimize(objective, np.zeros(net.n_params), jac=True, method="L-BFGS-B",
                                  options={"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10})
    return torch.as_tensor(res.x, dtype=net.dtype)


def _laplace_factor(net: RFFNetwork, problem: InverseProblem, at: str = "prior_mean") -> torch.Tensor:
    """Cholesky factor of the inverse Gauss-Newton Hessian at the prior mean or the MAP weights (``at``; the
    initial HMC metric)."""
    theta = weight_map(net, problem) if at == "map" else torch.zeros(net.n_params, dtype=net.dtype)
    hmat = weight_hessian(net, problem)(theta)
    cov = torch.cholesky_inverse(torch.linalg.cholesky(0.5 * (hmat + hmat.T)))
    return torch.linalg.cholesky(0.5 * (cov + cov.T))


def _functions(net: RFFNetwork, problem: InverseProblem, theta: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return net(torch.as_tensor(theta, dtype=net.dtype),
                   torch.as_tensor(problem.x, dtype=net.dtype)).cpu().numpy()


def run_hmc(net: RFFNetwork, problem: InverseProblem, cfg: Mapping, seed: int) -> tuple[np.ndarray, dict]:
    """FPI-BPINN with HMC: chains start from prior draws; R-hat and ESS are computed on the field values."""
    gen = torch.Generator().manual_seed(seed)
    chains = int(cfg["chains"])
    init = net.sample_prior(chains, gen).detach()
    t0 = time.perf_counter()
    res = hmc(weight_log_posterior(net, problem), init, n_warmup=int(cfg["warmup"]), n_draws=int(cfg["draws"]),
              n_leapfrog=int(cfg["leapfrog"]), target_accept=float(cfg["target_accept"]), metric=cfg["metric"],
              init_scale=_laplace_factor(net, problem, cfg["metric_at"]), adapt_metric=bool(cfg["adapt_metric"]), generator=gen)
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
    init = net.sample_prior(int(cfg["particles"]), gen).detach()
    t0 = time.perf_counter()
    res = svgd(weight_log_posterior(net, problem), init, hessian=weight_hessian(net, problem),
               steps=int(cfg["steps"]), step_size=float(cfg["step_size"]), kernel=cfg["kernel"],
               precond_every=int(cfg["precond_every"]))
    info = {"n_particles": init.shape[0], "n_steps": res.n_grad_evals, "final_log_post": float(res.history[-1]),
            "sampler_wall_s": time.perf_counter() - t0}
    return _functions(net, problem, res.particles), info


def run_fparvi(net: RFFNetwork, problem: InverseProblem, cfg: Mapping, seed: int) -> tuple[np.ndarray, dict]:
    """fParVI-PINN from draws of the network's weight prior (no prior tuning needed: the GP acts directly)."""
    gen = torch.Generator().manual_seed(seed)
    for par in net.parameters():
        par.requires_grad_(False)
    init = net.sample_prior(int(cfg["particles"]), gen).detach()
    t0 = time.perf_counter()
    res = fparvi(net, problem, init, steps=int(cfg["steps"]), step_size=float(cfg["step_size"]),
                 kernel=cfg["kernel"], damping=float(cfg["damping"]), precond_every=int(cfg["precond_every"]))
    info = {"n_particles": init.shape[0], "n_steps": res.n_steps, "final_log_post": float(res.history[-1]),
            "sampler_wall_s": time.perf_counter() - t0}
    return res.functions, info
