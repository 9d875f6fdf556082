"""1-D traveltime tomography: forward operator, exact posterior, picks ingestion and a small end-to-end run."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf

from sciml.bayes import methods, tomography as tm
from sciml.bayes.summary import summarize
from sciml.config import defaults
from sciml.errors import InputError
from sciml.gp import GaussianProcess
from bayes_threads import one_torch_thread  # noqa: F401  (autouse fixture)

AK135 = Path(__file__).resolve().parents[2] / "shared" / "data" / "velocity_models" / "ak135.tvel"


def test_traveltime_operator_integrates_piecewise_linear_models_exactly() -> None:
    """G s equals the analytic integral of a linear slowness s(x) = a + b x, also between grid nodes."""
    x = np.linspace(0.0, 10.0, 11)
    xr = np.array([0.0, 0.5, 3.3, 10.0])
    g = tm.traveltime_operator(x, xr)
    np.testing.assert_allclose(g @ (0.2 + 0.01 * x), 0.2 * xr + 0.005 * xr ** 2, rtol=1e-13, atol=1e-15)


def _se_joint(x: np.ndarray, xr: np.ndarray, var: float, ell: float):
    """Exact covariances of the SE GP and its integrals: cov(s(x), T(a)), cov(T(a), T(b)) (closed form)."""
    c = ell * math.sqrt(math.pi / 2)
    k_sx = var * np.exp(-0.5 * ((x[:, None] - x[None, :]) / ell) ** 2)
    k_st = var * c * (erf((xr[None, :] - x[:, None]) / (math.sqrt(2) * ell)) + erf(x[:, None] / (math.sqrt(2) * ell)))

    def f2(u):
        return u * c * erf(u / (math.sqrt(2) * ell)) - ell ** 2 * (1 - np.exp(-0.5 * (u / ell) ** 2))

    k_tt = var * (f2(xr[:, None]) + f2(xr[None, :]) - f2(xr[:, None] - xr[None, :]))
    return k_sx, k_st, k_tt


def test_exact_posterior_matches_brute_force_continuous_conditioning() -> None:
    """The grid posterior (quadrature G, Cholesky) agrees with brute-force conditioning of the joint Gaussian of
    s(x) and the exact integrals T(x_i) = int_0^x_i s (closed-form erf covariances, explicit solve)."""
    var, ell, mean = 9e-4, 3.0, 0.15
    gp = GaussianProcess("se", var, ell, mean)
    x = np.linspace(0.0, 20.0, 201)
    xr = np.array([3.0, 7.5, 12.0, 16.0, 20.0])
    d = np.array([0.52, 1.20, 1.85, 2.40, 3.05])
    sig = np.full(5, 0.02)
    picks = tm.Picks(np.zeros(5), xr, d, sig)
    post = tm.exact_posterior(tm.make_problem(picks, x, gp))
    k_sx, k_st, k_tt = _se_joint(x, xr, var, ell)
    a = k_tt + np.diag(sig ** 2)
    m_bf = mean + k_st @ np.linalg.solve(a, d - mean * xr)
    c_bf = k_sx - k_st @ np.linalg.solve(a, k_st.T)
    sd_bf = np.sqrt(np.diag(c_bf))
    assert np.max(np.abs(post.mean - m_bf)) < 0.01 * sd_bf.min()
    np.testing.assert_allclose(post.std, sd_bf, rtol=2e-3)


def _picks(tmp_path: Path, rows: list[str]) -> Path:
    p = tmp_path / "picks.csv"
    p.write_text("source_x,receiver_x,traveltime,sigma\n" + "\n".join(rows) + "\n")
    return p


def test_picks_ingestion_reads_csv_and_names_bad_fields(tmp_path: Path) -> None:
    good = tm.read_picks(_picks(tmp_path, ["0,2.0,0.35,0.02", "0,4.0,0.69,0.02"]), 40.0)
    np.testing.assert_allclose(good.traveltime, [0.35, 0.69])
    for row, field in (("0,2.0,0.35,0", "sigma"), ("0,45.0,0.35,0.02", "receiver_x"),
                       ("1.0,2.0,0.35,0.02", "source_x"), ("0,2.0,abc,0.02", "traveltime"),
                       ("0,2.0,nan,0.02", "traveltime")):
        with pytest.raises(InputError, match=f"picks.csv: row 1: field '{field}'"):
            tm.read_picks(_picks(tmp_path, [row]), 40.0)
    (tmp_path / "bad.csv").write_text("receiver_x,traveltime\n2,0.3\n")
    with pytest.raises(InputError, match="missing column"):
        tm.read_picks(tmp_path / "bad.csv", 40.0)


def test_synthetic_picks_from_ak135_or_builtin_crust() -> None:
    """Noise-free traveltimes through the ak135 crust equal the layer sums (20 km at 5.8, 15 km at 6.5 km/s, ...)."""
    path = AK135 if AK135.is_file() else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = tm.synthetic_picks(path, length_km=40.0, n_receivers=4, noise_sigma=1e-12,
                               rng=np.random.default_rng(0))
    expect = [10 / 5.8, 20 / 5.8, 20 / 5.8 + 10 / 6.5, 20 / 5.8 + 15 / 6.5 + 5 / 8.04]
    np.testing.assert_allclose(p.traveltime, expect, rtol=1e-4)


@pytest.fixture(scope="module")
def small_problem():
    rng = np.random.default_rng(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        picks = tm.synthetic_picks(AK135 if AK135.is_file() else None, length_km=40.0, n_receivers=20,
                                   noise_sigma=0.02, rng=rng)
    x = tm.grid(40.0, 21)
    gp = GaussianProcess("se", 9e-4, 3.0, 0.15)
    problem = tm.make_problem(picks, x, gp)
    truth = tm.piecewise_value(picks.true_x, picks.true_slowness, x)
    return problem, tm.exact_posterior(problem), truth


@pytest.mark.parametrize("method", ["fpi_bpinn_hmc", "fpi_bpinn_svgd", "fparvi"])
def test_small_end_to_end_tomography_meets_loose_target(small_problem, method: str) -> None:
    """Each method's posterior mean/std lie within 25 % of the exact Gaussian posterior and its 95 % band covers
    >= 80 % of the true (layered ak135) model: a loose version of the study target."""
    problem, post, truth = small_problem
    cfg = defaults("bayes")["tomography"]  # the complete default section, small sizes below
    net = methods.build_network(problem, {**cfg["network"], "n_freq": 64}, 0)
    if method == "fparvi":
        f, _ = methods.run_fparvi(net, problem, {**cfg["fparvi"], "particles": 40, "steps": 100, "step_size": 0.2,
                                                 "kernel": "linear"}, 0)
    else:
        res = methods.run_fpi(net, problem, {**cfg["fpi"], "steps": 40, "n_samples": 128, "n_eval": 2}, 0)
        assert res.distance < 2.0 * res.floor
        if method == "fpi_bpinn_hmc":
            f, info = methods.run_hmc(net, problem, {**cfg["hmc"], "chains": 2, "warmup": 100, "draws": 150,
                                                     "leapfrog": 10, "adapt_metric": False}, 0)
            assert info["rhat_max"] < 1.1
        else:
            f, _ = methods.run_svgd(net, problem, {**cfg["svgd"], "particles": 150, "steps": 150, "step_size": 0.2,
                                                   "kernel": "linear"}, 0)
    s = summarize(f, reference_mean=post.mean, reference_std=post.std, prior_mean=0.15, truth=truth)
    assert s.metrics["rel_err_mean"] < 0.25
    assert s.metrics["rel_err_std"] < 0.25
    assert s.metrics["coverage"] >= 0.8


def test_weight_map_equals_the_closed_form_minimum_of_a_linear_problem(small_problem) -> None:
    """For linear traveltimes and a linear-read-out network the negative log weight posterior is quadratic, so
    its minimum is one exact Newton step from the prior mean, -H^-1 grad (H = Gauss-Newton Hessian, exact here):
    the L-BFGS MAP used to place the HMC metric (``metric_at: map``) must agree with it."""
    import torch

    problem, _, _ = small_problem
    net = methods.build_network(problem, {**defaults("bayes")["tomography"]["network"], "n_freq": 16}, 0)
    for par in net.parameters():
        par.requires_grad_(False)
    th0 = torch.zeros(net.n_params, dtype=net.dtype, requires_grad=True)
    (-methods.weight_log_posterior(net, problem)(th0[None])[0]).backward()
    newton = -torch.linalg.solve(methods.weight_hessian(net, problem)(th0.detach()), th0.grad)
    np.testing.assert_allclose(methods.weight_map(net, problem).numpy(), newton.numpy(),
                               atol=1e-4 * float(newton.abs().max()))
