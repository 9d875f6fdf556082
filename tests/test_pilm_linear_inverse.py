"""Validation of sciml.linear_inverse against direct Gaussian densities (scipy.stats) and brute force."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.stats import multivariate_normal

from sciml.linear_inverse import abic_profile, fit, fit_abic


def _problem(n=30, m=8, seed=0):
    rng = np.random.default_rng(seed)
    G = rng.normal(size=(n, m))
    a_true = np.cumsum(rng.normal(size=m))
    sig = rng.uniform(0.5, 2.0, size=n)
    d = G @ a_true + sig * rng.normal(size=n) * 0.3
    D1 = np.diff(np.eye(m), axis=0)  # first differences, rank m-1 (constant null space)
    return G, d, sig, D1, rng


def test_evidence_equals_direct_gaussian_logpdf_full_rank_prior():
    """Closed-form evidence == scipy multivariate_normal.logpdf of d ~ N(G a0, s2 (E + G Q^-1 G^T))."""
    G, d, sig, D1, rng = _problem()
    m = G.shape[1]
    R1, R2 = D1, np.eye(m)
    f1, f2 = rng.normal(size=m - 1), rng.normal(size=m)
    w = np.array([3.0, 0.2])
    s2 = 0.7
    res = fit(G, d, [R1, R2], w, data_sigma=sig, targets=[f1, f2], sigma2=s2)
    Q = w[0] * R1.T @ R1 + w[1] * R2.T @ R2
    a0 = np.linalg.solve(Q, w[0] * R1.T @ f1 + w[1] * R2.T @ f2)
    C = s2 * (np.diag(sig**2) + G @ np.linalg.solve(Q, G.T))
    ref = multivariate_normal(G @ a0, C).logpdf(d)
    assert res.rank_prior == m
    assert res.log_evidence == pytest.approx(ref, rel=1e-10, abs=1e-8)
    # posterior mean/covariance against the normal equations
    H = G.T @ np.diag(sig**-2) @ G + Q
    a_ref = np.linalg.solve(H, G.T @ (d / sig**2) + w[0] * R1.T @ f1 + w[1] * R2.T @ f2)
    np.testing.assert_allclose(res.coef, a_ref, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(res.cov, s2 * np.linalg.inv(H), rtol=1e-8, atol=1e-12)


def test_evidence_improper_prior_is_limit_of_proper_prior():
    """Rank-deficient prior: evidence == lim_{eps->0} [log N(d; 0, s2(E + G (Q+eps I)^-1 G^T)) + (M-P)/2 log(2 pi s2/eps)]."""
    G, d, sig, D1, _ = _problem(seed=1)
    m = G.shape[1]
    w, s2 = 5.0, 0.4
    res = fit(G, d, [D1], [w], data_sigma=sig, sigma2=s2)
    assert res.rank_prior == m - 1
    eps = 1e-7
    Q = w * D1.T @ D1 + eps * np.eye(m)
    C = s2 * (np.diag(sig**2) + G @ np.linalg.solve(Q, G.T))
    ref = multivariate_normal(np.zeros(len(d)), C).logpdf(d) + 0.5 * (m - res.rank_prior) * np.log(2 * np.pi * s2 / eps)
    assert res.log_evidence == pytest.approx(ref, abs=1e-4)


def test_profiled_sigma2_maximises_evidence():
    """sigma2=None returns the maximum-likelihood noise scale: the evidence drops on either side."""
    G, d, sig, D1, _ = _problem(seed=2)
    res = fit(G, d, [D1], [2.0], data_sigma=sig)
    for f in (0.8, 1.25):
        other = fit(G, d, [D1], [2.0], data_sigma=sig, sigma2=res.sigma2 * f)
        assert other.log_evidence < res.log_evidence
    fixed = fit(G, d, [D1], [2.0], data_sigma=sig, sigma2=res.sigma2)
    assert fixed.log_evidence == pytest.approx(res.log_evidence, rel=1e-12)


@pytest.mark.parametrize("sigma2", [None, 0.3])
def test_abic_single_regulariser_matches_brute_force(sigma2):
    """fit_abic (generalised-eigen fast path) finds the evidence maximum of a brute-force QR grid."""
    G, d, sig, D1, _ = _problem(n=40, m=12, seed=3)
    best = fit_abic(G, d, [D1], data_sigma=sig, sigma2=sigma2, log10_bounds=(-4, 4))
    grid = np.linspace(-4, 4, 161)
    ev = [fit(G, d, [D1], [10**g], data_sigma=sig, sigma2=sigma2).log_evidence for g in grid]
    assert best.log_evidence >= max(ev) - 1e-6
    assert np.log10(best.weights[0]) == pytest.approx(grid[int(np.argmax(ev))], abs=0.06)
    prof = abic_profile(G, d, D1, grid[::20], data_sigma=sig, sigma2=sigma2)
    ref = [fit(G, d, [D1], [10**g], data_sigma=sig, sigma2=sigma2).abic for g in grid[::20]]
    np.testing.assert_allclose(prof, ref, rtol=1e-8)


def test_abic_multiple_regularisers_is_local_optimum_and_accepts_sparse():
    """Two fields with their own smoothing weights: no perturbation of the ABIC optimum improves the evidence."""
    rng = np.random.default_rng(4)
    m = 15
    x = np.linspace(0, 1, m)
    a_true = np.concatenate([np.sin(2 * np.pi * x), 0.3 * np.cumsum(rng.normal(size=m))])
    G = rng.normal(size=(60, 2 * m))
    d = G @ a_true + 0.2 * rng.normal(size=60)
    D = np.diff(np.eye(m), axis=0)
    Z = np.zeros_like(D)
    R1, R2 = np.hstack([D, Z]), np.hstack([Z, D])
    best = fit_abic(sp.csr_array(G), d, [sp.csr_array(R1), R2], log10_bounds=(-5, 5))
    assert best.weights.shape == (2,)
    assert np.all(np.abs(np.log10(best.weights)) < 4.9)
    for j in range(2):
        for f in (0.7, 1.4):
            w = best.weights.copy()
            w[j] *= f
            assert fit(G, d, [R1, R2], w).log_evidence <= best.log_evidence + 1e-7


def test_predict_std_matches_covariance():
    """predict() via the triangular factor equals sqrt(diag(A C A^T))."""
    G, d, sig, D1, rng = _problem(seed=5)
    res = fit(G, d, [D1], [1.0], data_sigma=sig)
    A = rng.normal(size=(5, G.shape[1]))
    mean, std = res.predict(A)
    np.testing.assert_allclose(std, np.sqrt(np.diag(A @ res.cov @ A.T)), rtol=1e-10)
    np.testing.assert_allclose(mean, A @ res.coef)


def test_bad_inputs_raise():
    G, d, sig, D1, _ = _problem()
    with pytest.raises(ValueError, match="weights"):
        fit(G, d, [D1], [0.0])
    with pytest.raises(ValueError, match="d has"):
        fit(G, d[:-1], [D1], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        fit(G, np.where(np.arange(len(d)) == 0, np.nan, d), [D1], [1.0])


def test_tall_regulariser_compression_and_eigen_path_match_qr():
    """A regulariser with more rows than unknowns (compressed internally) and the fit_abic eigen path give the
    same posterior, evidence and roughness as the stacked QR of the uncompressed system."""
    rng = np.random.default_rng(6)
    m = 10
    G = rng.normal(size=(25, m))
    d = G @ rng.normal(size=m) + 0.1 * rng.normal(size=25)
    R = rng.normal(size=(40, m)) @ np.diag(np.r_[np.ones(m - 2), 0, 0])  # tall, rank m - 2
    f = rng.normal(size=40)
    best = fit_abic(G, d, [sp.csr_array(R)], targets=[f], log10_bounds=(-4, 4))
    ref = fit(G, d, [R], best.weights, targets=[f])
    # direct, uncompressed reference for the posterior mean and roughness
    w = best.weights[0]
    A = np.vstack([G, np.sqrt(w) * R])
    a = np.linalg.lstsq(A, np.concatenate([d, np.sqrt(w) * f]), rcond=None)[0]
    for res in (best, ref):
        np.testing.assert_allclose(res.coef, a, rtol=1e-8, atol=1e-10)
        assert res.roughness == pytest.approx(np.sum((R @ a - f) ** 2), rel=1e-9)
        assert res.rank_prior == m - 2
    assert best.log_evidence == pytest.approx(ref.log_evidence, rel=1e-9)
    np.testing.assert_allclose(best.cov, ref.cov, rtol=1e-7, atol=1e-12)
