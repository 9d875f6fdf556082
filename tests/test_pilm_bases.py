"""Bases: derivatives against scipy.interpolate.BSpline and analytic/finite-difference references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import BSpline

from sciml.pilm.bases import BSpline1D, Fourier1D, GaussianRBF1D, GaussianRBF2D, TensorBasis2D, row_kron


@pytest.mark.parametrize("degree", [2, 3, 5])
def test_bspline_derivatives_match_scipy(degree):
    """Every derivative order equals scipy BSpline(t, c, k)(x, nu) on [a, b], including x = b."""
    b = BSpline1D(-1.0, 2.0, 9, degree)
    c = np.random.default_rng(0).normal(size=b.size)
    x = np.linspace(-1.0, 2.0, 57)
    ref = BSpline(b.t, c, degree)
    for nu in range(degree + 2):
        np.testing.assert_allclose(b.design(x, nu) @ c, ref(x, nu=nu), atol=1e-9 * 10.0**nu)


def test_bspline_reproduces_cubic_polynomial():
    """Cubic B-splines represent x^3 exactly: least squares fit has zero residual and exact derivatives."""
    b = BSpline1D(0.0, 1.0, 5, 3)
    x = np.linspace(0, 1, 40)
    c = np.linalg.lstsq(b.design(x).toarray(), x**3, rcond=None)[0]
    np.testing.assert_allclose(b.design(x, 2) @ c, 6 * x, atol=1e-10)


def test_fourier_and_gaussian_derivatives_analytic():
    """Fourier: d^n cos(w x) = w^n cos(w x + n pi/2); Gaussian RBF: Hermite formula vs closed forms."""
    f = Fourier1D(0.0, 2.0, 3)
    x = np.linspace(0, 2, 11)
    w = 2 * np.pi * 2 / 2.0
    np.testing.assert_allclose(f.design(x, 3).toarray()[:, 3], w**3 * np.sin(w * x), atol=1e-9)  # cos'''=w^3 sin
    g = GaussianRBF1D([0.3], 0.5)
    u = (x - 0.3) / 0.5
    phi = np.exp(-0.5 * u**2)
    np.testing.assert_allclose(g.design(x, 1).toarray()[:, 0], -u / 0.5 * phi, atol=1e-14)
    np.testing.assert_allclose(g.design(x, 2).toarray()[:, 0], (u**2 - 1) / 0.25 * phi, atol=1e-13)


def test_2d_bases_mixed_derivative_by_finite_differences():
    """d2/dxdy of tensor B-spline x Fourier and of scattered Gaussian RBFs vs central differences."""
    rng = np.random.default_rng(1)
    xy = rng.uniform(0.1, 0.9, size=(20, 2))
    h = 1e-5
    for basis in (TensorBasis2D(BSpline1D(0, 1, 4), Fourier1D(0, 1, 2)),
                  GaussianRBF2D(rng.uniform(size=(6, 2)), 0.3)):
        c = rng.normal(size=basis.size)
        fd = (basis.design(xy + [h, 0], (0, 1)) @ c - basis.design(xy - [h, 0], (0, 1)) @ c) / (2 * h)
        np.testing.assert_allclose(basis.design(xy, (1, 1)) @ c, fd, rtol=1e-5, atol=1e-5)


def test_row_kron_equals_dense_face_splitting_product():
    rng = np.random.default_rng(2)
    A, B = rng.normal(size=(7, 3)) * (rng.uniform(size=(7, 3)) > 0.4), rng.normal(size=(7, 4))
    ref = np.einsum("pi,pj->pij", A, B).reshape(7, 12)
    np.testing.assert_allclose(row_kron(A, B).toarray(), ref)


def test_hierarchical_bsplines_are_independent_and_reproduce_cubics():
    """Locally refined (2 dyadic levels) tensor B-splines: full column rank on a dense point set, and a bicubic
    polynomial and its derivatives reproduced to 1e-9 by least squares (the space contains the level-0 splines)."""
    import numpy as np

    from sciml.pilm.bases import HierarchicalBSpline2D

    r1 = np.zeros((4, 3), dtype=bool)  # level-0 cells refined to level 1
    r1[1:3, 0:2] = True
    r2 = np.zeros((8, 6), dtype=bool)  # level-1 cells refined to level 2
    r2[2:5, 1:3] = True
    b = HierarchicalBSpline2D(0.0, 4.0, 0.0, 3.0, (4, 3), [r1, r2])
    assert b.size > 7 * 6 and len(b.levels) == 3
    g = np.linspace(0, 1, 61)
    pts = np.column_stack([a.ravel() for a in np.meshgrid(4 * g, 3 * g[:46])])
    A = b.design(pts).toarray()
    assert np.linalg.matrix_rank(A) == b.size
    x, y = pts[:, 0], pts[:, 1]
    f = 1 + x - 2 * y + 0.5 * x**2 * y - 0.1 * x**3 * y**3
    c = np.linalg.lstsq(A, f, rcond=None)[0]
    assert np.max(np.abs(A @ c - f)) < 1e-9
    fxy = 0.5 * 2 * x - 0.1 * 9 * x**2 * y**2  # d2f/dxdy
    assert np.max(np.abs(b.design(pts, (1, 1)) @ c - fxy)) < 1e-7
