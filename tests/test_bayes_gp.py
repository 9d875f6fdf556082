"""Gaussian-process prior: sampler moments, densities and spectral frequencies against independent references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sciml.errors import InputError
from sciml.gp import KERNELS, GaussianProcess


@pytest.mark.parametrize("kernel", KERNELS)
def test_sampler_moments_match_kernel(kernel: str) -> None:
    """Empirical mean and covariance of 40k draws match the prescribed mean and kernel matrix (Monte Carlo)."""
    gp = GaussianProcess(kernel, variance=2.0, length_scale=0.3, mean=-1.5)
    x = np.linspace(0.0, 1.0, 12)
    f = gp.sample(x, 40_000, np.random.default_rng(1))
    assert f.shape == (40_000, 12)
    np.testing.assert_allclose(f.mean(0), -1.5, atol=0.05)
    np.testing.assert_allclose(np.cov(f.T), gp.covariance(x), atol=0.06)


def test_log_density_and_gradient_against_scipy_and_finite_differences() -> None:
    """log_density equals scipy's multivariate normal; its gradient equals central finite differences."""
    gp = GaussianProcess("matern52", variance=0.7, length_scale=0.4, mean=0.3)
    x = np.random.default_rng(0).uniform(0, 1, (6, 2))
    f = gp.sample(x, 3, np.random.default_rng(2))
    chol, j = gp.cholesky(x)
    ref = stats.multivariate_normal(np.full(6, 0.3), gp.covariance(x) + j * 0.7 * np.eye(6)).logpdf(f)
    np.testing.assert_allclose(gp.log_density(f, x), ref, rtol=1e-10)
    g = gp.grad_log_density(f[0], x)
    h = 1e-6
    fd = [(gp.log_density(f[0] + h * e, x) - gp.log_density(f[0] - h * e, x)) / (2 * h) for e in np.eye(6)]
    np.testing.assert_allclose(g, fd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kernel", ["se", "matern32"])
def test_spectral_frequencies_reproduce_correlation(kernel: str) -> None:
    """Bochner: the mean of cos(2 pi B r) over spectral draws equals the kernel's correlation rho(r)."""
    gp = GaussianProcess(kernel, length_scale=0.5)
    b = gp.spectral_frequencies(200_000, 1, np.random.default_rng(3))
    r = np.array([0.0, 0.2, 0.5, 1.0])
    mc = np.cos(2 * np.pi * b[:, :1] * r[None, :]).mean(0)
    np.testing.assert_allclose(mc, gp.correlation(r / 0.5), atol=0.01)


def test_bad_parameters_raise_input_error() -> None:
    with pytest.raises(InputError, match="length_scale"):
        GaussianProcess("se", length_scale=-1.0)
    with pytest.raises(InputError, match="kernel"):
        GaussianProcess("rbf")
    with pytest.raises(InputError, match="last axis"):
        GaussianProcess().log_density(np.zeros(3), np.zeros(4))
