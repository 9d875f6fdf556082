"""Exact differential operators on network outputs (automatic differentiation, batched).

Two families, both exact to round-off:

* graph-based (``gradient``, ``jacobian``, ``divergence``, ``laplacian``, ``time_derivative``): take an
  output tensor ``u`` computed from ``x`` (``x.requires_grad``) and differentiate it with
  ``torch.autograd.grad``; ``create_graph=True`` keeps them differentiable for training. Because
  PINN networks act pointwise, the derivative of ``u.sum()`` w.r.t. ``x`` is the per-point gradient.
* functional (``func_gradient``, ``func_hessian``, ``func_laplacian``): take a callable ``f`` mapping
  ``(n, d) -> (n, m)`` and use ``torch.func`` (``vmap`` of ``jacrev``/``hessian``) per point.

``value_grad_laplacian(model, x)`` picks the fastest route: the forward-mode ``model.taylor`` of
:mod:`sciml.nn.networks` when available, else autograd.

Shapes: ``x`` (n, d); scalar fields ``(n,)`` or ``(n, 1)``; gradients ``(n, d)``; Jacobians ``(n, m, d)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.func import hessian, jacrev, vmap

from sciml.errors import InputError, bad_value


def _scalar(u: torch.Tensor, name: str) -> torch.Tensor:
    if u.ndim == 2 and u.shape[1] == 1:
        return u[:, 0]
    if u.ndim != 1:
        raise InputError(f"derivatives: field {name!r} shape = {tuple(u.shape)}: expected (n,) or (n, 1)")
    return u


def gradient(u: torch.Tensor, x: torch.Tensor, *, create_graph: bool = True) -> torch.Tensor:
    """``du/dx`` of a scalar field, shape ``(n, d)``. ``u`` must have been computed from ``x``."""
    u = _scalar(u, "u")
    if not x.requires_grad:
        raise InputError("derivatives: field 'x.requires_grad' = False: call x.requires_grad_() before the forward")
    (g,) = torch.autograd.grad(u, x, torch.ones_like(u), create_graph=create_graph, allow_unused=True)
    return torch.zeros_like(x) if g is None else g


def jacobian(u: torch.Tensor, x: torch.Tensor, *, create_graph: bool = True) -> torch.Tensor:
    """``J[n, k, i] = du_k/dx_i`` for a vector output ``u`` (n, m); shape ``(n, m, d)``."""
    if u.ndim == 1:
        u = u[:, None]
    return torch.stack([gradient(u[:, k], x, create_graph=create_graph) for k in range(u.shape[1])], dim=1)


def divergence(v: torch.Tensor, x: torch.Tensor, *, create_graph: bool = True) -> torch.Tensor:
    """``div v = sum_i dv_i/dx_i`` for a vector field ``v`` (n, d) with ``d`` = number of spatial inputs used.

    ``v`` may have fewer components than ``x`` has columns (e.g. space-time inputs): component ``i``
    is differentiated w.r.t. column ``i``.
    """
    if v.ndim != 2 or v.shape[1] > x.shape[1]:
        raise InputError(f"derivatives: field 'v' shape = {tuple(v.shape)}: expected (n, k) with k <= {x.shape[1]}")
    return sum(gradient(v[:, i], x, create_graph=create_graph)[:, i] for i in range(v.shape[1]))


def laplacian(u: torch.Tensor, x: torch.Tensor, *, dims: int | None = None, create_graph: bool = True) -> torch.Tensor:
    """``sum_i d^2u/dx_i^2`` over the first ``dims`` columns of ``x`` (all by default); shape ``(n,)``."""
    g = gradient(u, x, create_graph=True)
    k = x.shape[1] if dims is None else int(dims)
    return divergence(g[:, :k], x, create_graph=create_graph)


def time_derivative(u: torch.Tensor, x: torch.Tensor, *, order: int = 1, t_index: int = -1,
                    create_graph: bool = True) -> torch.Tensor:
    """``d^order u / dt^order`` where time is column ``t_index`` of ``x`` (last by default); shape ``(n,)``."""
    if order < 1:
        raise bad_value("derivatives", "order", order, "expected >= 1")
    out = _scalar(u, "u")
    for _ in range(order):
        out = gradient(out, x, create_graph=True if _ < order - 1 else create_graph)[:, t_index]
    return out


def func_gradient(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Per-point Jacobian of a pointwise map ``f`` by ``vmap(jacrev)``: ``(n, m, d)``."""
    single = lambda p: f(p.unsqueeze(0)).squeeze(0)  # noqa: E731
    return vmap(jacrev(single))(x)


def func_hessian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Per-point Hessian of a pointwise scalar map ``f`` by ``vmap(hessian)``: ``(n, d, d)``."""
    single = lambda p: f(p.unsqueeze(0)).reshape(())  # noqa: E731
    return vmap(hessian(single))(x)


def func_laplacian(f: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Laplacian of a pointwise scalar map via :func:`func_hessian`: ``(n,)``."""
    return torch.diagonal(func_hessian(f, x), dim1=1, dim2=2).sum(-1)


def value_grad_laplacian(model: torch.nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(u (n, m), grad (n, d, m), laplacian (n, m))``; forward-mode ``model.taylor`` when available."""
    if hasattr(model, "taylor"):
        try:
            u, du, d2u = model.taylor(x)
            return u, du, d2u.sum(1)
        except InputError as err:
            if "taylor" not in str(err):
                raise
    x = x if x.requires_grad else x.detach().requires_grad_(True)
    u = model(x)
    du = jacobian(u, x).transpose(1, 2)
    lap = torch.stack([divergence(du[:, :, k], x) for k in range(u.shape[1])], dim=1)
    return u, du, lap
