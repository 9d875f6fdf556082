"""Steady 2-D Darcy flow on the unit square (finite volumes, sparse direct solve).

Equation: ``-div(exp(m) grad u) = f`` on ``(0, 1)^2`` with ``u = 0`` on the boundary.
Grid convention (used throughout ``sciml.operators``): an ``(n, n)`` array holds cell-centred
values, axis 0 = y (rows), axis 1 = x (columns); cell ``(i, j)`` has centre
``((j + 1/2) h, (i + 1/2) h)`` with ``h = 1/n``. All quantities are dimensionless.

Discretisation: two-point flux across each face with the harmonic mean of the neighbouring
permeabilities; a boundary face uses the cell permeability and the half-cell distance ``h/2`` to the
Dirichlet value. Second-order accurate for smooth coefficients.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from sciml.errors import InputError

__all__ = ["cell_centres", "face_transmissibilities", "darcy_matrix", "solve_darcy", "darcy_residual"]


def cell_centres(n: int) -> np.ndarray:
    """Cell-centre coordinates ``(k + 1/2)/n``, k = 0..n-1, of an ``n``-cell unit interval."""
    return (np.arange(n, dtype=np.float64) + 0.5) / n


def _check_log_k(log_k: np.ndarray) -> np.ndarray:
    log_k = np.asarray(log_k)
    if log_k.ndim != 2 or log_k.shape[0] != log_k.shape[1] or log_k.shape[0] < 2:
        raise InputError(f"solve_darcy: log_k must be a square (n, n) array with n >= 2, got shape {log_k.shape}")
    if log_k.dtype != np.float64:
        raise InputError(f"solve_darcy: log_k must be float64, got {log_k.dtype}")
    if not np.all(np.isfinite(log_k)):
        raise InputError("solve_darcy: log_k contains non-finite values")
    return log_k


def face_transmissibilities(log_k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Face coefficients (dimensionless transmissibilities) including the boundary faces.

    Returns ``(ty, tx)``: ``ty`` has shape ``(n+1, n)`` (faces normal to y), ``tx`` shape ``(n, n+1)``.
    Interior faces: harmonic mean ``2 k_P k_E / (k_P + k_E)``; boundary faces: ``2 k_P`` (half-cell distance).
    The flux through a face of length ``h`` over distance ``h`` is ``t * (u_P - u_E)``.
    """
    k = np.exp(log_k)
    n = k.shape[0]
    ty = np.empty((n + 1, n))
    tx = np.empty((n, n + 1))
    ty[1:-1] = 2.0 * k[:-1] * k[1:] / (k[:-1] + k[1:])
    ty[0], ty[-1] = 2.0 * k[0], 2.0 * k[-1]
    tx[:, 1:-1] = 2.0 * k[:, :-1] * k[:, 1:] / (k[:, :-1] + k[:, 1:])
    tx[:, 0], tx[:, -1] = 2.0 * k[:, 0], 2.0 * k[:, -1]
    return ty, tx


def darcy_matrix(log_k: np.ndarray) -> sp.csr_matrix:
    """Sparse FV matrix ``A`` (n^2 x n^2, C-order unknowns) with ``A u = f h^2``."""
    log_k = _check_log_k(log_k)
    n = log_k.shape[0]
    ty, tx = face_transmissibilities(log_k)
    idx = np.arange(n * n).reshape(n, n)
    diag = (ty[:-1] + ty[1:] + tx[:, :-1] + tx[:, 1:]).ravel()
    rows = [idx.ravel()]
    cols = [idx.ravel()]
    vals = [diag]
    for (a, b, t) in (
        (idx[:-1, :], idx[1:, :], ty[1:-1]),  # y-neighbours
        (idx[:, :-1], idx[:, 1:], tx[:, 1:-1]),  # x-neighbours
    ):
        rows += [a.ravel(), b.ravel()]
        cols += [b.ravel(), a.ravel()]
        vals += [-t.ravel(), -t.ravel()]
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n * n, n * n)
    )


def _source(f: float | np.ndarray, n: int) -> np.ndarray:
    f_arr = np.broadcast_to(np.asarray(f, dtype=np.float64), (n, n)) if np.ndim(f) == 0 else np.asarray(f)
    if f_arr.shape != (n, n):
        raise InputError(f"solve_darcy: source f must be a scalar or shape ({n}, {n}), got {f_arr.shape}")
    if f_arr.dtype != np.float64:
        raise InputError(f"solve_darcy: source f must be float64, got {f_arr.dtype}")
    return f_arr


def solve_darcy(log_k: np.ndarray, f: float | np.ndarray = 1.0) -> np.ndarray:
    """Pressure ``u`` (n, n) solving ``-div(exp(log_k) grad u) = f``, ``u = 0`` on the boundary.

    ``log_k``: (n, n) float64 cell-centred log-permeability; ``f``: scalar or (n, n) cell-centred source.
    Sparse direct solve (SuperLU).
    """
    log_k = _check_log_k(log_k)
    n = log_k.shape[0]
    rhs = _source(f, n).ravel() / n**2
    u = spla.spsolve(darcy_matrix(log_k).tocsc(), rhs)
    return u.reshape(n, n)


def darcy_residual(log_k: np.ndarray, u: np.ndarray, f: float | np.ndarray = 1.0) -> np.ndarray:
    """Cell residual ``(A u)/h^2 - f`` (approximates ``-div(k grad u) - f``), shape (n, n)."""
    log_k = _check_log_k(log_k)
    n = log_k.shape[0]
    return (darcy_matrix(log_k) @ np.asarray(u, dtype=np.float64).ravel()).reshape(n, n) * n**2 - _source(f, n)
