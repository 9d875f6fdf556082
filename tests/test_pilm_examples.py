"""1-D PILM problems against their exact solutions (convergence rates, posterior of uncertain BCs)."""

from __future__ import annotations

import numpy as np

from sciml.pilm.examples import forward_bvp, inverse_source, periodic_fourier, uncertain_bvp


def test_forward_bvp_cubic_bspline_converges_at_fourth_order():
    """-u'' = f, exact u = e^x sin(pi x): max error of cubic-spline PILM falls as h^4 (observed slope >= 3.5)."""
    n = np.array([4, 8, 16, 32])
    err = np.array([forward_bvp(int(k))["max_error"] for k in n])
    slope = np.polyfit(np.log(1.0 / n), np.log(err), 1)[0]
    assert slope >= 3.5, (slope, err)
    assert err[-1] < 2e-6


def test_periodic_fourier_converges_spectrally():
    """u'' - u = f, u = exp(sin x): error drops by >= 10x per two added modes, below 1e-10 at 12 modes."""
    err = np.array([periodic_fourier(k)["max_error"] for k in (4, 6, 8, 10, 12)])
    assert np.all(err[1:] < err[:-1] / 10)
    assert err[-1] < 1e-10


def test_uncertain_bcs_posterior_equals_exact_gaussian():
    """Uncertain u(0), u(1): posterior std == sqrt((1-x)^2 s0^2 + x^2 s1^2), mean -> u + (1-x) g0 + x g1."""
    errs = []
    for n in (8, 16, 32):
        r = uncertain_bvp(n)
        np.testing.assert_allclose(r["std"], r["exact_std"], rtol=1e-6, atol=1e-9)
        errs.append(r["max_error"])
    assert errs[-1] < 1e-5 and errs[-1] < errs[0] / 50


def test_inverse_source_recovered_within_uncertainty():
    """Unknown source q = pi^2 sin(pi x) + 6x from 40 noisy u values: < 3% error, >= 90% within 2 sigma."""
    r = inverse_source(noise=1e-3, seed=0)
    assert r["q_rel_error"] < 0.03
    z = np.abs(r["q"] - r["q_exact"]) / r["q_std"]
    assert np.mean(z < 2.0) >= 0.9
    assert 0.3 < r["result"].inner.sigma2 < 3.0  # noise level recovered (sigma2 ~ 1)


def test_unknown_constant_coefficient_recovered():
    """-u'' = c with unknown scalar c (Constant1D field), exact u = c x (1 - x) / 2: c from noisy u within 3 sigma."""
    from sciml.pilm.bases import BSpline1D
    from sciml.pilm.model import Constant1D, D, LinearModel

    rng = np.random.default_rng(2)
    c_true, noise = 3.0, 1e-3
    m = LinearModel([BSpline1D(0.0, 1.0, 8), Constant1D()])
    x = np.linspace(0.05, 0.95, 30)
    m.add_data("u", x, c_true * x * (1 - x) / 2 + noise * rng.normal(size=x.size), noise, op=D(0, field=0))
    xc = np.linspace(0, 1, 41)
    m.add_term("pde", xc, -D(2, field=0) - D(0, field=1), 0.0, sigma=1e-6)
    m.add_term("bc", [0.0, 1.0], D(0, field=0), 0.0, exact=True)
    res = m.fit(sigma2=1.0)
    c, c_std = m.predict(res, D(0, field=1), [0.5])
    assert abs(c[0] - c_true) < 3 * c_std[0] and c_std[0] < 0.05
