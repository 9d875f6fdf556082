"""Physics-informed loss terms (torch, differentiable): the discrete Darcy residual.

Same finite-volume stencil as :func:`sciml.forward.darcy.solve_darcy` (harmonic-mean faces, half-cell
Dirichlet faces), so the residual of the solver's own solution is zero to round-off.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from sciml.errors import InputError, bad_value


def _hmean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return 2.0 * a * b / (a + b)


def darcy_residual_torch(log_k: torch.Tensor, u: torch.Tensor, f: float | torch.Tensor = 1.0) -> torch.Tensor:
    """``(A(k) u) / h^2 - f`` for batches ``(B, n, n)`` (or ``(B, 1, n, n)``) of cell-centred fields."""
    if log_k.shape != u.shape:
        raise InputError(f"darcy_residual_torch: shapes differ: log_k {tuple(log_k.shape)} vs u {tuple(u.shape)}")
    squeeze = log_k.ndim == 4
    if squeeze:
        log_k, u = log_k[:, 0], u[:, 0]
    n = u.shape[-1]
    if log_k.ndim != 3 or u.shape[-2] != n:
        raise InputError(f"darcy_residual_torch: expected (B, n, n) fields, got {tuple(u.shape)}")
    k = torch.exp(log_k)
    ty = torch.cat([2 * k[:, :1], _hmean(k[:, :-1], k[:, 1:]), 2 * k[:, -1:]], dim=1)  # (B, n+1, n)
    tx = torch.cat([2 * k[:, :, :1], _hmean(k[:, :, :-1], k[:, :, 1:]), 2 * k[:, :, -1:]], dim=2)  # (B, n, n+1)
    up = F.pad(u, (0, 0, 1, 0))[:, :-1]   # u[i-1, j] (0 outside)
    dn = F.pad(u, (0, 0, 0, 1))[:, 1:]    # u[i+1, j]
    lf = F.pad(u, (1, 0))[:, :, :-1]      # u[i, j-1]
    rt = F.pad(u, (0, 1))[:, :, 1:]       # u[i, j+1]
    au = ty[:, :-1] * (u - up) + ty[:, 1:] * (u - dn) + tx[:, :, :-1] * (u - lf) + tx[:, :, 1:] * (u - rt)
    res = au * n**2 - f
    return res[:, None] if squeeze else res


def _laplacian_eig(n: int, dtype: torch.dtype, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Eigenpairs of the 1-D unit-coefficient FV matrix (tridiag(-1, 2, -1), boundary diagonal 3)."""
    t = 2.0 * torch.eye(n, dtype=torch.float64) - torch.diag(torch.ones(n - 1, dtype=torch.float64), 1) \
        - torch.diag(torch.ones(n - 1, dtype=torch.float64), -1)
    t[0, 0] = t[-1, -1] = 3.0
    lam, vec = torch.linalg.eigh(t)
    return lam.to(dtype=dtype, device=device), vec.to(dtype=dtype, device=device)


def darcy_residual_loss(log_k: torch.Tensor, u: torch.Tensor, f: float = 1.0, *, norm: str = "h-1") -> torch.Tensor:
    """Relative Darcy-residual loss of predicted pressures ``u`` (``(B, 1, n, n)``).

    ``norm="l2"``: ``||r|| / ||f||`` with the strong residual ``r`` of :func:`darcy_residual_torch`;
    it weights grid-scale errors by ``~n^2``. ``norm="h-1"`` (default): the residual preconditioned by the
    unit-coefficient Dirichlet Laplacian of the same stencil, ``||A0^-1 r|| / ||A0^-1 f||`` (an H^-1-type
    norm, on the scale of the relative error of ``u``), computed exactly by a 2-D eigen-decomposition.
    """
    r = darcy_residual_torch(log_k, u, f)
    if norm == "l2":
        return torch.sqrt(torch.mean(r**2)) / abs(f)
    if norm != "h-1":
        raise bad_value("operators config", "pino.norm", norm, "expected h-1 or l2")
    n = r.shape[-1]
    lam, v = _laplacian_eig(n, r.dtype, r.device)
    denom = lam[:, None] + lam[None, :]

    def solve(x: torch.Tensor) -> torch.Tensor:  # A0^-1 x (scaled by n^2, cancels in the ratio)
        return v @ ((v.T @ x @ v) / denom) @ v.T

    src = torch.full((n, n), float(f), dtype=r.dtype, device=r.device)
    return torch.sqrt(torch.mean(solve(r) ** 2)) / torch.sqrt(torch.mean(solve(src) ** 2))
