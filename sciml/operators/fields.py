"""Random input fields on regular grids drawn from a Gaussian-process prior (:mod:`sciml.gp`)."""
from __future__ import annotations

import numpy as np

from sciml.errors import InputError
from sciml.gp import GaussianProcess

MAX_DENSE_POINTS = 6400  # non-separable kernels factorise the full (ny*nx)^2 covariance


def sample_grid(gp: GaussianProcess, y: np.ndarray, x: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` prior draws on the grid ``y x x`` (1-D coordinate arrays, unit of ``gp.length_scale``):
    array ``(count, ny, nx)`` float64.

    The squared-exponential kernel is separable, ``k = variance * k_y k_x``, so the draw is
    ``mean + sqrt(variance) * L_y Z L_x^T`` with 1-D Cholesky factors (exact, any grid size); other kernels
    factorise the dense covariance (at most ``MAX_DENSE_POINTS`` grid points).
    """
    y, x = np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)
    if y.ndim != 1 or x.ndim != 1:
        raise InputError(f"sample_grid: y and x must be 1-D coordinate arrays, got shapes {y.shape}, {x.shape}")
    if gp.kernel == "se":
        unit = GaussianProcess("se", 1.0, gp.length_scale, jitter=gp.jitter, max_jitter=gp.max_jitter)
        ly, _ = unit.cholesky(y)
        lx, _ = unit.cholesky(x)
        z = rng.standard_normal((int(count), y.size, x.size))
        return gp.mean + np.sqrt(gp.variance) * (ly @ z @ lx.T)
    if y.size * x.size > MAX_DENSE_POINTS:
        raise InputError(f"sample_grid: kernel {gp.kernel!r} on {y.size}x{x.size} points exceeds "
                         f"{MAX_DENSE_POINTS} points; use kernel 'se' or a coarser grid")
    gy, gx = np.meshgrid(y, x, indexing="ij")
    pts = np.column_stack([gy.ravel(), gx.ravel()])
    return gp.sample(pts, int(count), rng).reshape(int(count), y.size, x.size)
