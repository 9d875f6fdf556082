"""Robustness of the shared HMC sampler (sciml.inference.hmc): windowed metric adaptation on badly scaled
Gaussians (analytic moments), bounded parameters by transform (analytic truncated-normal moments, scipy), the
unconstrained transform itself (autograd Jacobian), initialisation guards, and the 2004 Parkfield posterior on
which the earlier adaptation collapsed (step size 0.001, R-hat 9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from conftest import shared_file
from sciml.errors import InputError
from sciml.inference.diagnostics import sampler_metrics, summary
from sciml.inference.hmc import hmc, warmup_schedule
from sciml.inference.transforms import Box

F64 = torch.float64


def _gaussian(sd: torch.Tensor, corr: torch.Tensor | None = None):
    cov = torch.diag(sd ** 2) if corr is None else sd[:, None] * corr * sd[None]
    prec, mu = torch.linalg.inv(cov), 0.5 * sd
    return mu, cov, (lambda q: -0.5 * (((q - mu) @ prec) * (q - mu)).sum(1))


def _correlation(d: int, seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=torch.Generator().manual_seed(seed), dtype=F64))
    c = q @ torch.diag(torch.linspace(0.05, 3.0, d, dtype=F64)) @ q.T
    s = c.diagonal().sqrt()
    return c / s[:, None] / s[None]


def test_warmup_schedule_is_stans():
    """Stan's defaults: 75 fast, windows 25, 50, 100, 200 and a last one stretched to 950, 50 fast; a short
    warm-up splits 15 / 75 / 10 %; below 100 iterations only the step size is adapted."""
    assert warmup_schedule(1000) == (75, [100, 150, 250, 450, 950])
    assert warmup_schedule(100) == (15, [90])
    assert warmup_schedule(99) == (99, [])  # too short for a metric: step size only


def test_short_warmup_warns_that_the_final_step_size_window_is_short(caplog):
    """A warm-up of 100 leaves 10 iterations of step-size adaptation after the metric window (Stan: 50): the
    sampler says so; 150 (Stan's 50-iteration terminal buffer) does not warn."""
    def logp(q):
        return -0.5 * (q ** 2).sum(1)

    init = torch.zeros(2, 2, dtype=F64)
    with caplog.at_level("WARNING", logger="sciml.inference.hmc"):
        hmc(logp, init, n_warmup=100, n_draws=4, n_leapfrog=2, generator=torch.Generator().manual_seed(0))
    assert "leaves 10 iterations for the final step size" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="sciml.inference.hmc"):
        hmc(logp, init, n_warmup=150, n_draws=4, n_leapfrog=2, generator=torch.Generator().manual_seed(0))
    assert "final step size" not in caplog.text


@pytest.mark.parametrize("case,metric,decades", [("diag", "diag", 8), ("diag", "dense", 8), ("correlated", "dense", 6)])
def test_adaptation_recovers_badly_scaled_gaussians(case, metric, decades):
    """Standard deviations over 8 decades (1e-4 .. 1e4; 6 decades with strong correlations), chains started at
    0 with the identity metric: the windowed adaptation finds the scales (analytic reference: means within
    0.1 sd, sds within 12 %), no divergences, R-hat < 1.05, ESS > 300 of 2000 draws. The earlier adaptation
    (shrinkage towards 1e-3 of the mean variance) ended at R-hat 3-5 and ESS 2 on these. (8 correlated decades
    need more than 1000 warm-up iterations: each window extends the adapted range by about (eps L)^2 w.)"""
    d = 8
    sd = torch.logspace(-decades / 2, decades / 2, d, dtype=F64)
    mu, cov, logp = _gaussian(sd, _correlation(d, 0) if case == "correlated" else None)
    res = hmc(logp, torch.zeros(4, d, dtype=F64), n_warmup=1000, n_draws=500, n_leapfrog=12, metric=metric,
              generator=torch.Generator().manual_seed(1))
    x = res.draws.reshape(-1, d)
    s = summary(res.draws)
    assert res.divergences == 0 and s["rhat_max"] < 1.05 and s["ess_min"] > 300, (res.step_size, s)
    np.testing.assert_array_less(np.abs(x.mean(0) - mu.numpy()) / sd.numpy(), 0.1)
    np.testing.assert_allclose(x.std(0) / cov.diagonal().sqrt().numpy(), 1.0, atol=0.12)


def test_bounded_parameters_sample_truncated_normals():
    """A Gaussian likelihood times a uniform prior on a box is a product of truncated normals: two-sided,
    lower-only and upper-only bounds (sampled in unconstrained coordinates with the log-Jacobian) reproduce
    scipy's truncnorm means and sds within 0.06 sd; the draws never leave the box."""
    loc = torch.tensor([0.05, 1.0, -0.2, 3.0], dtype=F64)
    scale = torch.tensor([0.1, 2.0, 0.5, 1.0], dtype=F64)
    lower = torch.tensor([0.0, 0.5, -math.inf, -math.inf], dtype=F64)
    upper = torch.tensor([1.0, math.inf, 0.0, math.inf], dtype=F64)

    def logp(q):
        return -0.5 * (((q - loc) / scale) ** 2).sum(1)

    init = torch.tensor([[0.5, 2.0, -0.5, 0.0]], dtype=F64).repeat(4, 1)
    res = hmc(logp, init, n_warmup=400, n_draws=800, n_leapfrog=8, bounds=(lower, upper),
              generator=torch.Generator().manual_seed(2))
    x = res.draws.reshape(-1, 4)
    assert np.all(x > lower.numpy()) and np.all(x < upper.numpy())
    a, b = ((lower - loc) / scale).numpy(), ((upper - loc) / scale).numpy()
    ref = stats.truncnorm(a, b, loc=loc.numpy(), scale=scale.numpy())
    sd = ref.std()
    np.testing.assert_array_less(np.abs(x.mean(0) - ref.mean()) / sd, 0.06)
    np.testing.assert_allclose(x.std(0) / sd, 1.0, atol=0.06)
    assert summary(res.draws)["rhat_max"] < 1.02 and res.divergences <= 3  # exp-transformed Gaussian tails


def test_box_transform_round_trip_and_jacobian():
    """forward(inverse(theta)) = theta; log|det J| equals the autograd Jacobian of forward; bad bounds raise."""
    box = Box([0.0, -1.0, -math.inf, -math.inf], [2.0, math.inf, 5.0, math.inf])
    z = torch.tensor([0.3, -1.2, 2.0, 0.7], dtype=F64)
    jac = torch.autograd.functional.jacobian(box.forward, z)
    assert torch.allclose(jac, torch.diag(torch.diagonal(jac)))
    assert torch.allclose(box.log_abs_det_jacobian(z), torch.log(torch.diagonal(jac).abs()).sum())
    assert torch.allclose(box.derivative(z), torch.diagonal(jac))
    assert torch.allclose(box.inverse(box.forward(z)), z, atol=1e-12)
    with pytest.raises(InputError, match="lower < upper"):
        Box([1.0], [1.0])


def test_initial_points_are_checked():
    """Chains starting where log_prob is not finite restart at the best finite chain; none finite is an error."""
    def logp(q):
        return torch.where(q[:, 0] > 0, -0.5 * (q ** 2).sum(1), torch.full_like(q[:, 0], -math.inf))

    init = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.5, 0.5]], dtype=F64)
    res = hmc(logp, init, n_warmup=40, n_draws=20, n_leapfrog=4, generator=torch.Generator().manual_seed(0))
    assert np.all(res.draws[..., 0] > 0)
    with pytest.raises(InputError, match="not finite"):
        hmc(logp, -init.abs(), n_warmup=40, n_draws=20)
    with pytest.raises(InputError, match="init has shape"):
        hmc(logp, torch.zeros(3, dtype=F64), n_warmup=40, n_draws=20)


@pytest.fixture(scope="module")
def parkfield():
    """The 2004 Parkfield posterior (Houlie et al. 2014 offsets, the okada.invert_parkfield setup, uniform prior on
    its LM bounds): (problem, names, lower, upper, LM result, exact-Hessian Laplace approximation at the optimum)."""
    from sciml.config import defaults
    from sciml.okada.data import read_parkfield_fault, read_parkfield_gps
    from sciml.okada.fault import RECT_PARAMS
    from sciml.okada.inversion import FaultProblem, laplace, levenberg_marquardt, reduced_chi2_scale
    from sciml.studies import get_step
    from sciml.studies.okada import parkfield_observations

    cfg = get_step("okada.invert_parkfield").slice(defaults())
    obs = parkfield_observations(read_parkfield_gps(shared_file(cfg["gps"])),
                                 read_parkfield_fault(shared_file(cfg["fault"])), cfg)
    inv = cfg["invert"]
    names = tuple(inv["free"])
    ref = {str(k): float(v) for k, v in zip(obs["param"].values, obs["fault_published"].values)}
    st = torch.tensor(np.stack([obs[f"station_{c}"].values for c in ("east", "north", "up")], -1), dtype=F64)
    problem = FaultProblem(st, torch.tensor(obs["obs"].values, dtype=F64), torch.tensor(obs["sigma"].values, dtype=F64),
                           names, {k: ref[k] for k in RECT_PARAMS if k not in names},
                           options=dict(reference="top_center", nu=0.25))
    lo = torch.tensor([inv["bounds"].get(k, (-math.inf, math.inf))[0] for k in names], dtype=F64)
    hi = torch.tensor([inv["bounds"].get(k, (-math.inf, math.inf))[1] for k in names], dtype=F64)
    lm = levenberg_marquardt(problem, torch.tensor([ref[k] for k in names], dtype=F64), lower=lo, upper=hi)
    lap = laplace(problem, lm.theta, noise_scale=reduced_chi2_scale(problem, lm.theta))
    return problem, names, lo, hi, lm, lap


# Well determined by the 14 sites (off the ridge of test_parkfield_posterior_has_a_ridge_to_the_length_bound).
PARKFIELD_WELL_DETERMINED = ("strike", "dip", "rake")


def test_parkfield_posterior_with_metric_adaptation(parkfield):
    """adapt_metric=True after a normal warm-up on the Parkfield posterior, where the earlier adaptation collapsed
    (step size 0.0017, R-hat 24, ESS 2 in our rerun). Now the step size stays O(1) in whitened units, at most 5
    divergences after warm-up, and the well-determined strike, dip and rake have R-hat < 1.05, ESS > 100 of 4 x 250
    draws and means within 0.3 sd of the Laplace means (reference: the exact-Hessian Laplace approximation at the
    LM optimum).

    East, north and length are not asserted: they lie on a ridge that reaches the prior's length bound (next test),
    holding a few per cent of the posterior mass in a flat tail. Whether one of 4 chains enters it within 450
    iterations depends on the seed and on the machine's rounding: measured on 2026-12-03, seeds 0-3 give ESS_min
    75 / 269 / 352 / 550 and R-hat_max 1.052 / 1.008 / 1.003 / 1.004 (a 16-chain seed-1 run: one chain at 57 km,
    R-hat 1.20), i.e. R-hat flags the tail when a chain finds it, while strike, dip and rake keep ESS >= 354 and
    R-hat <= 1.007 in all of them (3.5x the ESS bound at the worst seed)."""
    from sciml.inference.diagnostics import ess, split_rhat
    from sciml.okada.inversion import sample_hmc

    problem, names, lo, hi, _, lap = parkfield
    res = sample_hmc(problem, lap, chains=4, warmup=200, draws=250, leapfrog=6, adapt_metric=True,
                     bounds=(lo, hi), generator=torch.Generator().manual_seed(0))
    assert res.step_size > 0.1 and res.divergences <= 5, (res.step_size, res.divergences)
    idx = [names.index(k) for k in PARKFIELD_WELL_DETERMINED]
    e, r = ess(res.draws[..., idx]), split_rhat(res.draws[..., idx])
    assert np.all(r < 1.05) and np.all(e > 100), dict(zip(PARKFIELD_WELL_DETERMINED, zip(e, r)))
    flat = res.draws.reshape(-1, len(names))
    for k, i in zip(PARKFIELD_WELL_DETERMINED, idx):
        assert abs(flat[:, i].mean() - float(lap.mean[i])) < 0.3 * float(lap.std[i]), k
    m = sampler_metrics(res, seconds=1.0)
    assert {"hmc_rhat_max", "hmc_ess_min", "hmc_divergences", "hmc_ess_per_s"} <= set(m)


def test_parkfield_posterior_has_a_ridge_to_the_length_bound(parkfield):
    """Why the east/north/length diagnostics of the previous test are seed-dependent: along the fault's length, with
    its NW end held where the data put it (the centre moved SE along strike by half the extension; the SE end is
    what the 14 sites leave free) and the other free
    parameters re-optimised (projected LM), the profile log posterior falls by less than 10 from the optimum (21 km)
    out to the 100 km bound (measured: -5.4 at 40 km, -7.4 at 57 km, -9.0 at 99 km), while a 99 km fault
    would be 620 log units down if the Laplace approximation (sd 2.2 km) held. Reference: the Laplace approximation's
    own prediction of that drop."""
    from sciml.okada.inversion import _log_prob_scaled, levenberg_marquardt

    problem, names, lo, hi, lm, lap = parkfield
    i, k = names.index("length"), names.index("strike")
    best = float(_log_prob_scaled(problem, lm.theta[None], lap.noise_scale)[0])
    length = 99000.0
    drops = []
    for sign in (1.0, -1.0):  # keep either end fixed; the better one is the profile
        t = lm.theta.clone()
        shift = sign * (length - float(t[i])) / 2
        t[0] += shift * math.sin(math.radians(float(t[k])))
        t[1] += shift * math.cos(math.radians(float(t[k])))
        t[i] = length
        lo2, hi2 = lo.clone(), hi.clone()
        lo2[i], hi2[i] = length - 1e-3, length + 1e-3
        fit = levenberg_marquardt(problem, t, lower=lo2, upper=hi2)
        drops.append(best - float(_log_prob_scaled(problem, fit.theta[None], lap.noise_scale)[0]))
    gaussian_drop = 0.5 * ((length - float(lm.theta[i])) / float(lap.std[i])) ** 2
    assert min(drops) < 10.0 < gaussian_drop / 5, (drops, gaussian_drop)
