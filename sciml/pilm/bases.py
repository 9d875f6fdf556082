"""Basis families with analytic derivatives of any order, in 1-D and 2-D.

Every basis exposes ``size`` and ``design(points, deriv)`` returning a ``scipy.sparse.csr_array`` of shape
(n_points, size) whose column j holds the ``deriv``-th derivative of basis function j at the points.
1-D: ``points`` (n,), ``deriv`` an int. 2-D: ``points`` (n, 2) as (x, y), ``deriv`` a pair (i, j) meaning
d^(i+j) / dx^i dy^j. Coordinates are in the user's length unit; derivatives carry that unit.

Families: cubic (any degree) B-splines on uniform knots (compact support, sparse); Fourier series
(periodic, spectral); Gaussian radial basis functions (derivatives via Hermite polynomials). 2-D bases are
tensor products of 1-D ones (assembled sparsely row by row), hierarchical tensor B-splines refined locally
(Kraft 1997), or isotropic Gaussian RBFs at scattered centres.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import scipy.sparse as sp
from numpy.polynomial import hermite_e
from scipy.interpolate import BSpline

__all__ = ["Basis", "BSpline1D", "Fourier1D", "GaussianRBF1D", "TensorBasis2D", "GaussianRBF2D",
           "HierarchicalBSpline2D"]


class Basis(ABC):
    """A finite set of functions with analytic derivatives."""

    ndim: int
    size: int

    @abstractmethod
    def design(self, points, deriv=0) -> sp.csr_array:
        """Matrix (n_points, size) of the ``deriv`` derivative of every basis function at ``points``."""


def _points1d(x) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(x)):
        raise ValueError("basis: points contain NaN or infinite values")
    return x


def _order(deriv) -> int:
    k = int(deriv)
    if k < 0 or k != deriv:
        raise ValueError(f"basis: derivative order must be a non-negative integer, got {deriv!r}")
    return k


class BSpline1D(Basis):
    """B-splines of degree ``degree`` on ``n_intervals`` uniform intervals of [a, b] (size n_intervals + degree).

    Derivatives of order > degree vanish; the basis is C^(degree-1) and reproduces polynomials of degree
    <= ``degree`` exactly on [a, b]. Outside [a, b] the spline on the extended uniform knots is returned
    (it decays to zero within degree * h of the domain), so keep all points inside [a, b].
    """

    ndim = 1

    def __init__(self, a: float, b: float, n_intervals: int, degree: int = 3):
        if not b > a or n_intervals < 1 or degree < 0:
            raise ValueError(f"BSpline1D: need a < b, n_intervals >= 1, degree >= 0; got {a}, {b}, {n_intervals}, {degree}")
        self.a, self.b, self.k = float(a), float(b), int(degree)
        h = (self.b - self.a) / n_intervals
        self.t = self.a + h * np.arange(-self.k, n_intervals + self.k + 1)
        self.size = n_intervals + self.k
        self.h = h

    def design(self, points, deriv=0) -> sp.csr_array:
        x = _points1d(points)
        nu = _order(deriv)
        if nu > self.k:
            return sp.csr_array((x.size, self.size))
        x = np.where(x == self.b, np.nextafter(self.b, self.a), x)  # x = b belongs to the last interval
        # d/dx B_{j,p} = (B_{j,p-1} - B_{j+1,p-1}) / h on uniform knots: lower-degree design times differences
        out = sp.csr_array(BSpline.design_matrix(x, self.t, self.k - nu, extrapolate=True))
        for p in range(self.k - nu + 1, self.k + 1):
            n_p = len(self.t) - p - 1
            diff = sp.diags_array([np.ones(n_p), -np.ones(n_p)], offsets=[0, -1], shape=(n_p + 1, n_p)) / self.h
            out = out @ diff
        return sp.csr_array(out)


class Fourier1D(Basis):
    """Real Fourier series on [a, a + period): 1, cos(2 pi m (x-a)/L), sin(...) for m = 1..n_modes (size 2 n_modes + 1)."""

    ndim = 1

    def __init__(self, a: float, period: float, n_modes: int):
        if period <= 0 or n_modes < 0:
            raise ValueError(f"Fourier1D: need period > 0 and n_modes >= 0; got {period}, {n_modes}")
        self.a, self.period, self.n_modes = float(a), float(period), int(n_modes)
        self.size = 2 * self.n_modes + 1

    def design(self, points, deriv=0) -> sp.csr_array:
        x = _points1d(points)
        nu = _order(deriv)
        w = 2.0 * np.pi * np.arange(1, self.n_modes + 1) / self.period
        ph = np.outer(x - self.a, w) + 0.5 * np.pi * nu  # d^nu cos(wx) = w^nu cos(wx + nu pi/2)
        out = np.empty((x.size, self.size))
        out[:, 0] = 1.0 if nu == 0 else 0.0
        out[:, 1::2] = w**nu * np.cos(ph)
        out[:, 2::2] = w**nu * np.sin(ph)
        return sp.csr_array(out)


def _gauss_deriv(u: np.ndarray, ell: float, nu: int) -> np.ndarray:
    """d^nu/dx^nu exp(-u^2/2) with u = (x - c)/ell: (-1/ell)^nu He_nu(u) exp(-u^2/2)."""
    coef = np.zeros(nu + 1)
    coef[nu] = 1.0
    return (-1.0 / ell) ** nu * hermite_e.hermeval(u, coef) * np.exp(-0.5 * u * u)


class GaussianRBF1D(Basis):
    """Gaussian bumps exp(-(x - c_j)^2 / (2 ell^2)) at centres c_j (size = number of centres)."""

    ndim = 1

    def __init__(self, centres, length_scale: float):
        self.centres = _points1d(centres)
        if length_scale <= 0:
            raise ValueError(f"GaussianRBF1D: length_scale must be > 0, got {length_scale}")
        self.ell = float(length_scale)
        self.size = self.centres.size

    def design(self, points, deriv=0) -> sp.csr_array:
        x = _points1d(points)
        u = (x[:, None] - self.centres[None, :]) / self.ell
        return sp.csr_array(_gauss_deriv(u, self.ell, _order(deriv)))


def _points2d(xy) -> np.ndarray:
    xy = np.asarray(xy, dtype=np.float64)
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError(f"basis: 2-D points must have shape (n, 2), got {xy.shape}")
    if not np.all(np.isfinite(xy)):
        raise ValueError("basis: points contain NaN or infinite values")
    return xy


def _deriv2(deriv) -> tuple[int, int]:
    if np.isscalar(deriv):
        if deriv != 0:
            raise ValueError(f"basis: 2-D derivative must be a pair (i, j), got {deriv!r}")
        return 0, 0
    i, j = deriv
    return _order(i), _order(j)


def row_kron(A: sp.csr_array, B: sp.csr_array) -> sp.csr_array:
    """Row-wise Kronecker (face-splitting) product: row p = kron(A[p], B[p]); column index ia * B.shape[1] + ib."""
    A, B = sp.csr_array(A), sp.csr_array(B)
    A.sum_duplicates()
    B.sum_duplicates()
    n = A.shape[0]
    na, nb = np.diff(A.indptr), np.diff(B.indptr)
    cnt = na * nb
    total = int(cnt.sum())
    rows = np.repeat(np.arange(n), cnt)
    start = np.repeat(np.cumsum(cnt) - cnt, cnt)
    p = np.arange(total) - start
    nbr = nb[rows]
    ia = A.indptr[rows] + p // np.maximum(nbr, 1)
    ib = B.indptr[rows] + p % np.maximum(nbr, 1)
    vals = A.data[ia] * B.data[ib]
    cols = A.indices[ia] * B.shape[1] + B.indices[ib]
    indptr = np.concatenate([[0], np.cumsum(cnt)])
    return sp.csr_array((vals, cols, indptr), shape=(n, A.shape[1] * B.shape[1]))


class TensorBasis2D(Basis):
    """Tensor product phi_ij(x, y) = bx_i(x) by_j(y) of two 1-D bases; column index i * by.size + j."""

    ndim = 2

    def __init__(self, bx: Basis, by: Basis):
        if bx.ndim != 1 or by.ndim != 1:
            raise ValueError("TensorBasis2D: both factors must be 1-D bases")
        self.bx, self.by = bx, by
        self.size = bx.size * by.size

    def design(self, points, deriv=(0, 0)) -> sp.csr_array:
        xy = _points2d(points)
        i, j = _deriv2(deriv)
        return row_kron(self.bx.design(xy[:, 0], i), self.by.design(xy[:, 1], j))


class GaussianRBF2D(Basis):
    """Isotropic Gaussian RBFs exp(-|p - c_j|^2 / (2 ell^2)) at scattered centres c_j (m, 2); dense."""

    ndim = 2

    def __init__(self, centres, length_scale: float):
        self.centres = _points2d(centres)
        if length_scale <= 0:
            raise ValueError(f"GaussianRBF2D: length_scale must be > 0, got {length_scale}")
        self.ell = float(length_scale)
        self.size = self.centres.shape[0]

    def design(self, points, deriv=(0, 0)) -> sp.csr_array:
        xy = _points2d(points)
        i, j = _deriv2(deriv)
        ux = (xy[:, :1] - self.centres[None, :, 0]) / self.ell
        uy = (xy[:, 1:] - self.centres[None, :, 1]) / self.ell
        return sp.csr_array(_gauss_deriv(ux, self.ell, i) * _gauss_deriv(uy, self.ell, j))


class HierarchicalBSpline2D(Basis):
    """Tensor B-splines refined locally by dyadic levels (hierarchical B-splines, Kraft 1997).

    Level l has ``n_intervals * 2**l`` uniform intervals per axis on the same rectangle [x0, x1] x [y0, y1]
    (nested spline spaces). ``refined[l]`` is a boolean mask over the level-l cells (shape (nx 2^l, ny 2^l),
    index [i, j] = x cell i, y cell j) marking the region Omega_(l+1) refined to level l+1. Active functions of
    level l: support (within the rectangle) inside Omega_l (Omega_0 = the rectangle) and not inside
    Omega_(l+1). The active set is linearly independent and spans a space containing the level-0 splines
    (hence all polynomials of bidegree <= degree). Columns: level by level, each in tensor order.
    """

    ndim = 2

    def __init__(self, x0: float, x1: float, y0: float, y1: float, n_intervals: tuple[int, int],
                 refined=(), degree: int = 3):
        self.levels: list[tuple[TensorBasis2D, np.ndarray]] = []
        self.cell_masks: list[np.ndarray] = []
        nx, ny = int(n_intervals[0]), int(n_intervals[1])
        inside = np.ones((nx, ny), dtype=bool)  # Omega_l on level-l cells
        for level in range(len(refined) + 1):
            sx, sy = nx * 2**level, ny * 2**level
            nxt = np.zeros((sx, sy), dtype=bool) if level == len(refined) else np.asarray(refined[level], dtype=bool)
            if nxt.shape != (sx, sy):
                raise ValueError(f"HierarchicalBSpline2D: refined[{level}] has shape {nxt.shape}, expected {(sx, sy)}")
            nxt = nxt & inside
            basis = TensorBasis2D(BSpline1D(x0, x1, sx, degree), BSpline1D(y0, y1, sy, degree))
            ins, out = self._supported(inside, degree), self._supported(nxt, degree)
            active = np.flatnonzero((ins & ~out).ravel())
            self.levels.append((basis, active))
            self.cell_masks.append(inside & ~nxt)  # leaf cells of this level
            inside = np.repeat(np.repeat(nxt, 2, axis=0), 2, axis=1)
        self.size = int(sum(a.size for _, a in self.levels))
        self.domain = (float(x0), float(x1), float(y0), float(y1))
        self.n_intervals = (nx, ny)

    @staticmethod
    def _supported(region: np.ndarray, degree: int) -> np.ndarray:
        """(sx + degree, sy + degree) mask: tensor function (i, j) has its cells [i-degree, i] x [j-degree, j]
        (clipped to the rectangle) all inside ``region``."""
        sx, sy = region.shape
        bad = np.pad(~region, degree)  # outside cells count as inside: support is clipped to the rectangle
        bad[:degree, :] = bad[-degree:, :] = bad[:, :degree] = bad[:, -degree:] = False
        c = np.cumsum(np.cumsum(np.pad(bad, ((1, 0), (1, 0))).astype(int), 0), 1)
        k = degree + 1  # window of k x k cells ending at (i, j) in padded indices i .. i + degree
        win = c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]
        return win[: sx + degree, : sy + degree] == 0

    def leaf_cells(self) -> list[tuple[float, np.ndarray]]:
        """[(cell size along x, (n, 2) lower-left corners), ...] of the leaf cells of each level."""
        x0, x1, y0, y1 = self.domain
        out = []
        for level, mask in enumerate(self.cell_masks):
            hx = (x1 - x0) / (self.n_intervals[0] * 2**level)
            hy = (y1 - y0) / (self.n_intervals[1] * 2**level)
            i, j = np.nonzero(mask)
            out.append((hx, hy, np.column_stack([x0 + i * hx, y0 + j * hy])))
        return out

    def design(self, points, deriv=(0, 0)) -> sp.csr_array:
        return sp.hstack([b.design(points, deriv)[:, active] for b, active in self.levels], format="csr")
