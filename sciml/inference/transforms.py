"""Bijections from unconstrained coordinates to boxes, for samplers that move in R^p (Stan's and Pyro's
treatment of bounded parameters: a uniform prior on ``[lower, upper]`` becomes a density on ``z`` with the
log-Jacobian added, so nothing is clipped and nothing is ignored).

Per dimension: both bounds finite ``theta = lower + (upper - lower) sigmoid(z)``; lower only ``lower + exp(z)``;
upper only ``upper - exp(-z)``; none the identity.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from sciml.errors import InputError


class Box:
    """Elementwise bijection ``R^p -> prod_i (lower_i, upper_i)``; bounds may be +-inf (float64 tensors (p,))."""

    def __init__(self, lower, upper, *, dtype=torch.float64) -> None:
        lo = torch.as_tensor(lower, dtype=dtype).reshape(-1)
        hi = torch.as_tensor(upper, dtype=dtype).reshape(-1)
        if lo.shape != hi.shape:
            raise InputError(f"bounds: lower has {lo.numel()} entries, upper {hi.numel()}")
        bad = torch.nonzero(~(lo < hi)).flatten().tolist()
        if bad:
            raise InputError(f"bounds: need lower < upper, not so for entries {bad}: "
                             f"{[(float(lo[i]), float(hi[i])) for i in bad]}")
        self.lower, self.upper = lo, hi
        self.both = torch.isfinite(lo) & torch.isfinite(hi)
        self.lower_only = torch.isfinite(lo) & ~torch.isfinite(hi)
        self.upper_only = ~torch.isfinite(lo) & torch.isfinite(hi)
        self.width = torch.where(self.both, hi - lo, torch.ones_like(lo))
        self._lo = torch.where(torch.isfinite(lo), lo, torch.zeros_like(lo))
        self._hi = torch.where(torch.isfinite(hi), hi, torch.zeros_like(hi))

    @property
    def dim(self) -> int:
        return self.lower.numel()

    @property
    def is_identity(self) -> bool:
        return not bool((self.both | self.lower_only | self.upper_only).any())

    def _parts(self, z: torch.Tensor):
        """z restricted to each kind of dimension (0 elsewhere: unused branches stay finite, and so do their
        gradients under torch.where)."""
        zero = torch.zeros_like(z)
        return (torch.where(self.both, z, zero), torch.where(self.lower_only, z, zero),
                torch.where(self.upper_only, z, zero))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """theta (..., p) in the box from unconstrained z (..., p)."""
        zb, zl, zu = self._parts(z)
        return torch.where(self.both, self._lo + self.width * torch.sigmoid(zb),
                           torch.where(self.lower_only, self._lo + torch.exp(zl),
                                       torch.where(self.upper_only, self._hi - torch.exp(-zu), z)))

    def inverse(self, theta: torch.Tensor, *, margin: float = 1e-9) -> torch.Tensor:
        """z (..., p) of theta (..., p); points on or outside a bound are first moved ``margin`` (a fraction of
        the width, or of 1 for one-sided bounds) inside it."""
        u = ((theta - self._lo) / self.width).clamp(margin, 1 - margin)
        up = (theta - self._lo).clamp(min=margin)
        dn = (self._hi - theta).clamp(min=margin)
        return torch.where(self.both, torch.log(u) - torch.log1p(-u),
                           torch.where(self.lower_only, torch.log(up),
                                       torch.where(self.upper_only, -torch.log(dn), theta)))

    def derivative(self, z: torch.Tensor) -> torch.Tensor:
        """d theta_i / d z_i (..., p) (the diagonal Jacobian)."""
        zb, zl, zu = self._parts(z)
        sig = torch.sigmoid(zb)
        return torch.where(self.both, self.width * sig * (1 - sig),
                           torch.where(self.lower_only, torch.exp(zl),
                                       torch.where(self.upper_only, torch.exp(-zu), torch.ones_like(z))))

    def unconstrained_factor(self, theta: torch.Tensor, factor: torch.Tensor) -> torch.Tensor:
        """A covariance factor ``C`` (p, p) of theta at ``theta`` (p,) mapped to z: ``diag(1 / J) C`` (delta method)."""
        return factor / self.derivative(self.inverse(theta, margin=1e-6))[:, None]

    def log_abs_det_jacobian(self, z: torch.Tensor) -> torch.Tensor:
        """log |d theta / d z| summed over the last axis, (...,)."""
        zb, zl, zu = self._parts(z)
        term = torch.log(self.width) + F.logsigmoid(zb) + F.logsigmoid(-zb)
        term = torch.where(self.both, term, torch.where(self.lower_only, zl, -zu))
        return term.sum(-1)

    def log_uniform_density(self) -> float:
        """log of the uniform prior density on the finite part of the box, -sum log(upper - lower)."""
        return -float(torch.log(self.width[self.both]).sum()) if bool(self.both.any()) else 0.0

    def inside(self, theta: torch.Tensor) -> torch.Tensor:
        """(...,) bool: theta strictly inside every bound."""
        return ((theta > self.lower) & (theta < self.upper)).all(-1)


def as_box(bounds, p: int, *, dtype=torch.float64) -> Box | None:
    """A :class:`Box` from ``None``, a Box, or a pair ``(lower, upper)`` of length-p sequences (inf allowed)."""
    if bounds is None:
        return None
    box = bounds if isinstance(bounds, Box) else Box(bounds[0], bounds[1], dtype=dtype)
    if box.dim != p:
        raise InputError(f"bounds: {box.dim} entries for {p} parameters")
    return None if box.is_identity else box


__all__ = ["Box", "as_box"]
