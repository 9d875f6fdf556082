"""Darcy inversion pieces: differentiable solver vs sciml.forward.darcy, adjoint gradient, pCN vs exact posterior."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sciml.bayes import darcy as D
from sciml.bayes.pcn import mc_standard_errors, run_pcn
from sciml.bayes import tomography as tm
from sciml.config import defaults
from sciml.forward.darcy import darcy_matrix, solve_darcy
from sciml.gp import GaussianProcess
from bayes_threads import one_torch_thread  # noqa: F401  (autouse fixture)

DARCY = defaults("bayes")["darcy"]  # the complete default section; tests override what they need


@pytest.mark.parametrize("n", [6, 21])
def test_batched_solver_matches_forward_darcy(n: int) -> None:
    """DarcySolve (dense batched LU for small grids, SuperLU above DENSE_MAX cells) equals solve_darcy."""
    m = np.random.default_rng(0).standard_normal((3, n * n)) * 0.7
    u = D.DarcySolve.apply(torch.as_tensor(m), n, 1.0).numpy()
    for k in range(3):
        np.testing.assert_allclose(u[k], solve_darcy(m[k].reshape(n, n)).ravel(), rtol=1e-10, atol=1e-14)
    if n * n <= D.DENSE_MAX:
        np.testing.assert_allclose(D.dense_matrices(m, n)[1], darcy_matrix(m[1].reshape(n, n)).toarray())


def test_adjoint_gradient_matches_finite_differences() -> None:
    """torch.autograd.gradcheck of the adjoint backward of DarcySolve at sensor cells."""
    m = torch.as_tensor(np.random.default_rng(1).standard_normal((2, 36)) * 0.5).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda z: D.DarcySolve.apply(z, 6, 1.0)[:, [7, 14, 21, 28]], (m,),
                                    eps=1e-6, atol=1e-8)


@pytest.mark.parametrize("reference", ["prior", "laplace"])
def test_pcn_recovers_exact_gaussian_posterior_of_a_linear_problem(reference: str) -> None:
    """Classic pCN (prior reference) and generalised pCN (Laplace reference at the MAP) on the linear tomography
    problem reproduce the exact Gaussian posterior mean and std, with converged diagnostics; the Laplace reference
    is exact for a linear problem, so its chains mix far better (ESS) at the same cost."""
    picks = tm.Picks(np.zeros(4), np.array([2.0, 4.0, 6.0, 8.0]), np.array([0.33, 0.62, 0.95, 1.22]),
                     np.full(4, 0.03))
    x = tm.grid(8.0, 9)
    problem = tm.make_problem(picks, x, GaussianProcess("se", 4e-4, 2.0, 0.15))
    post = tm.exact_posterior(problem)
    cfg = {**DARCY["pcn"], "chains": 4, "warmup": 1000, "draws": 1500, "thin": 4, "beta": 0.3,
           "reference": reference, "target_accept": 0.25 if reference == "prior" else 0.5}
    s, info = run_pcn(problem, cfg, 0)
    assert info["rhat_max"] < 1.1 and 0.1 < info["accept_rate"] < 0.7
    tol = 0.15 if reference == "prior" else 0.05
    np.testing.assert_allclose(s.mean(0), post.mean, atol=tol * post.std.max())
    np.testing.assert_allclose(s.std(0), post.std, rtol=tol)
    if reference == "laplace":
        assert info["ess_min"] > 2000 and info["map_iterations"] >= 1


def test_mc_standard_errors_of_iid_gaussian_draws() -> None:
    """For i.i.d. N(1, 1) draws the standard errors are the textbook sd / sqrt(N) of the mean and
    sd / sqrt(2 N) of the std (expressed relative to the norms of mean - prior_mean and of sd)."""
    draws = 1.0 + np.random.default_rng(3).standard_normal((4, 2000, 5))
    se = mc_standard_errors(draws, prior_mean=0.0)
    n = 8000
    assert se["mcse_rel_err_mean"] == pytest.approx(1 / np.sqrt(n), rel=0.1)
    assert se["mcse_rel_err_std"] == pytest.approx(1 / np.sqrt(2 * n), rel=0.15)
    assert se["ess_sq_min"] > 0.6 * n


def test_synthetic_darcy_data_and_problem_round_trip() -> None:
    cfg = {**DARCY, "grid": {"n": 8}, "noise_sigma": 1e-9, "sensors_per_side": 3,
           "prior": {"kernel": "matern52", "variance": 1.0, "length_scale": 0.4, "mean": 0.0}}
    ds = D.build_data(cfg, 5)
    problem, spec, truth = D.problem_from_dataset(ds)
    assert spec.shape == (8, 8) and ds.sizes["sensor"] == 9
    pred = problem.forward(torch.as_tensor(truth[None]))[0].numpy()
    np.testing.assert_allclose(pred, ds["pressure"].values, atol=1e-8)
