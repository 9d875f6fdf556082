"""A Bayesian inverse problem on function values: GP prior on a field ``f`` at points ``x``, Gaussian noise on data.

``d = F(f(x)) + e``, ``e ~ N(0, diag(sigma^2))``, ``f ~ GP``. ``forward`` maps a batch of fields ``(n, m)``
(values at the ``m`` points ``x``) to predicted data ``(n, n_data)`` and must be differentiable in torch (a
PINN's physics: the traveltime integral, the Darcy solve). ``linear_operator`` is ``F`` when it is linear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from sciml.errors import InputError
from sciml.gp import GaussianProcess, as_points


@dataclass
class InverseProblem:
    """Field points ``x`` (m, d), data and standard deviations (n_data,), GP prior and forward map."""

    x: np.ndarray
    data: np.ndarray
    sigma: np.ndarray
    prior: GaussianProcess
    forward: Callable[[torch.Tensor], torch.Tensor]
    linear_operator: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.x = as_points(self.x)
        self.data = np.asarray(self.data, dtype=np.float64)
        self.sigma = np.asarray(self.sigma, dtype=np.float64)
        if self.data.shape != self.sigma.shape or self.data.ndim != 1:
            raise InputError(f"InverseProblem: data {self.data.shape} and sigma {self.sigma.shape} must be equal 1-D")
        if not np.all(self.sigma > 0):
            raise InputError("InverseProblem: field 'sigma' must be > 0 everywhere")

    @property
    def n_points(self) -> int:
        return self.x.shape[0]

    def log_likelihood(self, f: torch.Tensor) -> torch.Tensor:
        """Gaussian log-likelihood of fields ``(n, m)`` -> ``(n,)`` (up to a constant)."""
        d = torch.as_tensor(self.data, dtype=f.dtype, device=f.device)
        s = torch.as_tensor(self.sigma, dtype=f.dtype, device=f.device)
        return -0.5 * (((self.forward(f) - d) / s) ** 2).sum(-1)

    def gauss_newton(self, f_ref: torch.Tensor) -> torch.Tensor:
        """Gauss-Newton data precision ``J^T diag(sigma^-2) J`` (m, m) with ``J = dF/df`` at the field ``f_ref``."""
        if self.linear_operator is not None:
            jac = torch.as_tensor(self.linear_operator, dtype=f_ref.dtype, device=f_ref.device)
        else:
            jac = torch.autograd.functional.jacobian(lambda g: self.forward(g[None])[0], f_ref.detach())
        w = torch.as_tensor(self.sigma, dtype=f_ref.dtype, device=f_ref.device) ** -2
        return jac.T @ (w[:, None] * jac)

    def prior_precision(self, dtype: torch.dtype = torch.float64) -> torch.Tensor:
        """GP prior precision on the field points (jittered, from the Cholesky factor)."""
        return torch.as_tensor(self.prior.precision(self.x), dtype=dtype)
