"""2-D Darcy permeability inversion: differentiable finite-volume forward map, synthetic data, pCN reference.

``-div(exp(m) grad u) = f`` on the unit square, ``u = 0`` on the boundary (:mod:`sciml.forward.darcy`: cell-centred
``(n, n)`` arrays, axis 0 = y, harmonic-mean face transmissibilities). The unknown is the log-permeability ``m``
at the ``n^2`` cell centres (point ``k = i n + j`` at ``x = (j + 1/2)/n, y = (i + 1/2)/n``; all dimensionless);
data are noisy ``u`` at sensor cells. :class:`DarcySolve` makes the solve a torch function: the gradient uses the
adjoint ``lambda = A^-1 g`` (``A`` is symmetric) and ``dL/dm = -d/dm [lambda^T A(m) u]`` with ``lambda, u`` fixed,
which only differentiates the face transmissibilities. The reference posterior is sampled by (generalised)
preconditioned Crank-Nicolson MCMC, :func:`sciml.bayes.pcn.run_pcn`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse.linalg as spla
import torch
import xarray as xr

from sciml.bayes.fields import FieldSpec, prior_attrs, prior_from_attrs, prior_from_config
from sciml.bayes.problem import InverseProblem
from sciml.errors import InputError, bad_value
from sciml.forward.darcy import cell_centres, darcy_matrix


def grid_points(n: int) -> np.ndarray:
    """Cell centres ``(n^2, 2)`` as ``(x, y)`` in C order of the ``(n, n)`` grid (axis 0 = y)."""
    c = cell_centres(n)
    yy, xx = np.meshgrid(c, c, indexing="ij")
    return np.column_stack([xx.ravel(), yy.ravel()])


def _bilinear(m: torch.Tensor, lam: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """``lambda^T A(m) u`` per batch row for fields ``(b, n, n)`` (face-by-face, torch-differentiable in m)."""
    k = torch.exp(m)

    def axis_sum(k, lam, u, dim):
        a, b = k.narrow(dim, 0, k.shape[dim] - 1), k.narrow(dim, 1, k.shape[dim] - 1)
        t = 2.0 * a * b / (a + b)
        dl = lam.narrow(dim, 0, k.shape[dim] - 1) - lam.narrow(dim, 1, k.shape[dim] - 1)
        du = u.narrow(dim, 0, k.shape[dim] - 1) - u.narrow(dim, 1, k.shape[dim] - 1)
        inner = (t * dl * du).sum((1, 2))
        last = k.shape[dim] - 1
        bnd = sum((2.0 * k.select(dim, i) * lam.select(dim, i) * u.select(dim, i)).sum(1) for i in (0, last))
        return inner + bnd

    return axis_sum(k, lam, u, 1) + axis_sum(k, lam, u, 2)


DENSE_MAX = 400  # batched dense LU below this many cells (small grids: no per-solve Python overhead)


def dense_matrices(m: np.ndarray, n: int) -> np.ndarray:
    """Dense FV matrices ``(b, n^2, n^2)`` for log-permeabilities ``(b, n^2)``: the same two-point flux
    discretisation as :func:`sciml.forward.darcy.darcy_matrix`, assembled for a batch at once."""
    with np.errstate(over="ignore"):  # an overflowing trial state (e.g. a diverging leapfrog) is rejected later
        k = np.exp(m.reshape(-1, n, n))
    b = k.shape[0]
    ty = np.empty((b, n + 1, n))
    tx = np.empty((b, n, n + 1))
    with np.errstate(over="ignore", invalid="ignore"):
        ty[:, 1:-1] = 2.0 * k[:, :-1] * k[:, 1:] / (k[:, :-1] + k[:, 1:])
        tx[:, :, 1:-1] = 2.0 * k[:, :, :-1] * k[:, :, 1:] / (k[:, :, :-1] + k[:, :, 1:])
    ty[:, 0], ty[:, -1] = 2.0 * k[:, 0], 2.0 * k[:, -1]
    tx[:, :, 0], tx[:, :, -1] = 2.0 * k[:, :, 0], 2.0 * k[:, :, -1]
    idx = np.arange(n * n).reshape(n, n)
    a = np.zeros((b, n * n, n * n))
    r = idx.ravel()
    a[:, r, r] = (ty[:, :-1] + ty[:, 1:] + tx[:, :, :-1] + tx[:, :, 1:]).reshape(b, -1)
    for p, q, t in ((idx[:-1, :], idx[1:, :], ty[:, 1:-1]), (idx[:, :-1], idx[:, 1:], tx[:, :, 1:-1])):
        a[:, p.ravel(), q.ravel()] = -t.reshape(b, -1)
        a[:, q.ravel(), p.ravel()] = -t.reshape(b, -1)
    return a


class DarcySolve(torch.autograd.Function):
    """``u = A(m)^-1 f h^2`` for a batch of log-permeabilities ``(b, n^2)`` (float64) -> ``(b, n^2)``.

    Grids up to :data:`DENSE_MAX` cells use batched dense LU; larger ones sparse SuperLU per field."""

    @staticmethod
    def forward(ctx, m: torch.Tensor, n: int, f: float) -> torch.Tensor:  # type: ignore[override]
        mm = m.detach().cpu().numpy().reshape(-1, n * n)
        rhs = np.full(n * n, f / n ** 2)
        bad = ~np.all(np.isfinite(mm) & (np.abs(mm) < 300.0), axis=1)  # products of exp(m) would over/underflow
        if bad.any():  # trial states of a sampler far out in the tails: NaN (a rejected, divergent state)
            mm = np.where(bad[:, None], 0.0, mm)
        if n * n <= DENSE_MAX:
            a = dense_matrices(mm, n)
            try:
                u = np.linalg.solve(a, np.broadcast_to(rhs, (a.shape[0], n * n))[..., None])[..., 0]
            except np.linalg.LinAlgError:  # numerically singular trial state: mark it, solve the others
                bad |= np.linalg.cond(a) > 1e14
                a[bad] = np.eye(n * n)
                u = np.linalg.solve(a, np.broadcast_to(rhs, (a.shape[0], n * n))[..., None])[..., 0]
            ctx.solver = lambda g: np.linalg.solve(a, g[..., None])[..., 0]
        else:
            lus = [spla.splu(darcy_matrix(row.reshape(n, n)).tocsc()) for row in mm]
            u = np.array([lu.solve(rhs) for lu in lus])
            ctx.solver = lambda g: np.array([lu.solve(gi) for lu, gi in zip(lus, g)])
        u[bad] = np.nan
        out = torch.as_tensor(u, dtype=m.dtype, device=m.device).reshape(m.shape)
        ctx.n = n
        ctx.save_for_backward(m, out)
        return out

    @staticmethod
    def backward(ctx, grad_u: torch.Tensor):  # type: ignore[override]
        m, u = ctx.saved_tensors
        n = ctx.n
        g = grad_u.detach().cpu().numpy().reshape(-1, n * n)
        lam = torch.as_tensor(ctx.solver(g), dtype=m.dtype)  # A is symmetric: A^T lambda = g
        with torch.enable_grad():
            mm = m.detach().reshape(-1, n, n).requires_grad_(True)
            b = _bilinear(mm, lam.reshape(-1, n, n), u.detach().reshape(-1, n, n))
            (gm,) = torch.autograd.grad(b.sum(), mm)
        return -gm.reshape(m.shape), None, None


def darcy_forward(n: int, sensor_index: np.ndarray, f: float = 1.0):
    """Forward map for :class:`InverseProblem`: fields ``(b, n^2)`` -> pressures at the sensors ``(b, s)``."""
    idx = torch.as_tensor(np.asarray(sensor_index, dtype=np.int64))
    return lambda m: DarcySolve.apply(m, n, f)[:, idx]


def sensor_indices(n: int, per_side: int) -> np.ndarray:
    """Flat indices of ``per_side^2`` sensor cells on a regular interior lattice."""
    if not 1 <= per_side <= n - 2:
        raise bad_value("bayes.darcy", "sensors_per_side", per_side, f"must lie in [1, n - 2 = {n - 2}]")
    pos = np.round(np.linspace(0, n - 1, per_side + 2)[1:-1]).astype(int)
    ii, jj = np.meshgrid(pos, pos, indexing="ij")
    return (ii * n + jj).ravel()


def build_data(cfg: Mapping, seed: int) -> xr.Dataset:
    """Synthetic ``data.nc``: a GP-prior draw as true log-permeability, noisy pressures at the sensors (config
    keys ``grid.n``, ``prior``, ``source``, ``noise_sigma``, ``sensors_per_side``)."""
    n = int(cfg["grid"]["n"])
    prior = prior_from_config(cfg["prior"])
    f = float(cfg["source"])
    sigma = float(cfg["noise_sigma"])
    if n < 4:
        raise bad_value("bayes.darcy", "grid.n", n, "must be >= 4")
    if not sigma > 0:
        raise bad_value("bayes.darcy", "noise_sigma", sigma, "must be > 0")
    rng = np.random.default_rng(seed)
    x = grid_points(n)
    truth = prior.sample(x, 1, rng)[0]
    idx = sensor_indices(n, int(cfg["sensors_per_side"]))
    u = DarcySolve.apply(torch.as_tensor(truth[None]), n, f)[0].numpy()
    d = u[idx] + sigma * rng.standard_normal(idx.size)
    c = cell_centres(n)
    one = {"units": "1"}
    ds = xr.Dataset(
        {
            "sensor_index": ("sensor", idx, {**one, "long_name": "flat cell index (i n + j) of the sensor"}),
            "sensor_x": ("sensor", x[idx, 0], {**one, "long_name": "sensor x"}),
            "sensor_y": ("sensor", x[idx, 1], {**one, "long_name": "sensor y"}),
            "pressure": ("sensor", d, {**one, "long_name": "observed pressure u"}),
            "sigma": ("sensor", np.full(idx.size, sigma), {**one, "long_name": "pressure standard deviation"}),
            "true_log_permeability": (("y", "x"), truth.reshape(n, n), {**one, "long_name": "true log-permeability"}),
            "true_pressure": (("y", "x"), u.reshape(n, n), {**one, "long_name": "noise-free pressure"}),
        },
        coords={"x": ("x", c, {**one, "long_name": "x"}), "y": ("y", c, {**one, "long_name": "y"})},
    )
    ds.attrs.update(prior_attrs(prior))
    ds.attrs.update({"source_f": f, "grid_n": n, "synthetic": 1})
    return ds


def problem_from_dataset(ds: xr.Dataset, source: str = "data.nc"
                         ) -> tuple[InverseProblem, FieldSpec, np.ndarray | None]:
    """Inverse problem, field spec and truth (or None) from ``data.nc``."""
    for k in ("sensor_index", "pressure", "sigma"):
        if k not in ds:
            raise InputError(f"{source}: missing variable {k!r}")
    prior = prior_from_attrs(ds.attrs, source)
    n = int(ds.attrs["grid_n"])
    idx = np.asarray(ds["sensor_index"].values, dtype=np.int64)
    if idx.min() < 0 or idx.max() >= n * n:
        raise InputError(f"{source}: field 'sensor_index' outside [0, {n * n})")
    problem = InverseProblem(grid_points(n), ds["pressure"].values, ds["sigma"].values, prior,
                             darcy_forward(n, idx, float(ds.attrs.get("source_f", 1.0))))
    c = cell_centres(n)
    spec = FieldSpec("log_permeability", "1", "log-permeability", ("y", "x"),
                     {"y": (c, "1", "y"), "x": (c, "1", "x")})
    truth = ds["true_log_permeability"].values.ravel() if "true_log_permeability" in ds else None
    return problem, spec, truth
