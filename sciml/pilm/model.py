"""Physics-informed linear model: u_f(x) = sum_j a_fj phi_fj(x) for fields f, closed-form Bayesian fit.

Declare terms, each a linear operator applied to the fields at some points with a right-hand side:

* ``sigma`` given: a data-like term with known standard deviations (observations, a PDE or boundary
  condition trusted to a stated tolerance, i.e. an uncertain boundary condition);
* ``exact=True``: a hard linear constraint (exact boundary condition), eliminated by a null-space
  parametrisation a = a_p + N z;
* otherwise: a regulariser (PDE residual, smoothness prior on an unknown source) whose weight
  w = alpha^2 is either given or chosen by ABIC (:func:`sciml.linear_inverse.fit_abic`).

Unknown sources or coefficients are further fields (their own basis; a constant is ``Constant1D``).
Operators are built from :func:`D` (derivative of a field, optionally times a coefficient array) with +, -
and scalar multiplication, e.g. ``-D(2, field=0) - D(0, field=1)`` for -u'' - q.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from sciml.linear_inverse import LinearGaussianResult, fit, fit_abic
from sciml.pilm.bases import Basis

__all__ = ["Operator", "D", "LinearModel", "PILMResult", "Constant1D"]


class Constant1D(Basis):
    """A single constant function (for an unknown scalar parameter); derivatives vanish."""

    ndim = 1
    size = 1

    def design(self, points, deriv=0) -> sp.csr_array:
        n = np.asarray(points).shape[0]
        d = deriv if np.isscalar(deriv) else sum(deriv)
        return sp.csr_array(np.full((n, 1), 1.0 if d == 0 else 0.0))


@dataclass(frozen=True)
class Operator:
    """Linear combination sum_t coef_t * d^deriv_t u_{field_t} (coef scalar or one value per point)."""

    terms: tuple = ()

    def __add__(self, other: "Operator") -> "Operator":
        return Operator(self.terms + other.terms)

    def __neg__(self) -> "Operator":
        return Operator(tuple((-c, f, d) for c, f, d in self.terms))

    def __sub__(self, other: "Operator") -> "Operator":
        return self + (-other)

    def __mul__(self, c) -> "Operator":
        return Operator(tuple((c * c0, f, d) for c0, f, d in self.terms))

    __rmul__ = __mul__


def D(deriv=0, field: int = 0, coef=1.0) -> Operator:
    """Operator ``coef * d^deriv u_field`` (deriv int in 1-D, pair (i, j) in 2-D)."""
    return Operator(((coef, int(field), deriv),))


@dataclass
class _Term:
    name: str
    A: sp.csr_array
    rhs: np.ndarray
    kind: str  # "data" | "exact" | "reg"
    sigma: np.ndarray | None = None
    weight: float | None = None


@dataclass
class PILMResult:
    """Fit of a :class:`LinearModel`: ``inner`` is the posterior of the reduced coefficients z with
    a = offset + basis_map @ z (basis_map None: a = z). ``weights`` maps regulariser names to w = alpha^2."""

    inner: LinearGaussianResult
    offset: np.ndarray
    basis_map: np.ndarray | None
    weights: dict = field(default_factory=dict)

    @property
    def coef(self) -> np.ndarray:
        z = self.inner.coef
        return self.offset + (z if self.basis_map is None else self.basis_map @ z)

    @property
    def cov(self) -> np.ndarray:
        c = self.inner.cov
        return c if self.basis_map is None else self.basis_map @ c @ self.basis_map.T

    @property
    def log_evidence(self) -> float:
        return self.inner.log_evidence

    @property
    def abic(self) -> float:
        return self.inner.abic

    def predict(self, A) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of A @ a (A from :meth:`LinearModel.matrix`)."""
        A = sp.csr_array(A)
        Ar = A if self.basis_map is None else A @ self.basis_map
        mean, std = self.inner.predict(Ar)
        return mean + A @ self.offset, std


class LinearModel:
    """Fields, each expanded in its own basis; terms are added with :meth:`add_term` (see module doc)."""

    def __init__(self, bases: Basis | Sequence[Basis]):
        self.bases = [bases] if isinstance(bases, Basis) else list(bases)
        sizes = [b.size for b in self.bases]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)])
        self.n_coef = int(self.offsets[-1])
        self.terms: list[_Term] = []

    def matrix(self, op: Operator, points) -> sp.csr_array:
        """Sparse (n_points, n_coef) matrix of the operator at the points."""
        pts = np.asarray(points, dtype=np.float64)
        n = pts.shape[0]
        out = sp.csr_array((n, self.n_coef))
        for coef, f, deriv in op.terms:
            if not 0 <= f < len(self.bases):
                raise ValueError(f"LinearModel: operator refers to field {f}, model has {len(self.bases)}")
            block = self.bases[f].design(pts, deriv)
            c = np.broadcast_to(np.asarray(coef, dtype=np.float64), (n,))
            block = sp.diags_array(c) @ block
            pad = sp.hstack([sp.csr_array((n, self.offsets[f])), block,
                             sp.csr_array((n, self.n_coef - self.offsets[f + 1]))], format="csr")
            out = out + pad
        return sp.csr_array(out)

    def add_term(self, name: str, points, op: Operator, rhs=0.0, *, sigma=None, exact: bool = False,
                 weight: float | None = None) -> None:
        """Add ``op(u)(points) = rhs`` as data (sigma), exact constraint, or regulariser (weight or ABIC)."""
        if any(t.name == name for t in self.terms):
            raise ValueError(f"LinearModel: duplicate term name {name!r}")
        A = self.matrix(op, points)
        rhs = np.broadcast_to(np.asarray(rhs, dtype=np.float64), (A.shape[0],)).copy()
        if sigma is not None and exact:
            raise ValueError(f"LinearModel term {name!r}: give sigma or exact, not both")
        if sigma is not None:
            s = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (A.shape[0],)).copy()
            self.terms.append(_Term(name, A, rhs, "data", sigma=s))
        elif exact:
            self.terms.append(_Term(name, A, rhs, "exact"))
        else:
            self.terms.append(_Term(name, A, rhs, "reg", weight=weight))

    def add_data(self, name: str, points, values, sigma, op: Operator | None = None) -> None:
        """Observations of ``op`` (default: field 0) with standard deviations ``sigma``."""
        self.add_term(name, points, op if op is not None else D(0 if self.bases[0].ndim == 1 else (0, 0)),
                      values, sigma=sigma)

    def fit(self, *, sigma2: float | None = None, log10_bounds=(-8, 8)) -> PILMResult:
        """Closed-form posterior. Regulariser weights: all given, or all chosen by ABIC."""
        data = [t for t in self.terms if t.kind == "data"]
        regs = [t for t in self.terms if t.kind == "reg"]
        exact = [t for t in self.terms if t.kind == "exact"]
        if not data:
            raise ValueError("LinearModel: at least one term needs a sigma (data or a trusted PDE)")
        G = sp.vstack([t.A for t in data], format="csr").toarray()
        d = np.concatenate([t.rhs for t in data])
        s = np.concatenate([t.sigma for t in data])
        Rs = [t.A.toarray() for t in regs]
        fs = [t.rhs for t in regs]
        offset = np.zeros(self.n_coef)
        nmap = None
        if exact:
            C = sp.vstack([t.A for t in exact], format="csr").toarray()
            g = np.concatenate([t.rhs for t in exact])
            offset, *_ = sla.lstsq(C, g, check_finite=False)
            if not np.allclose(C @ offset, g, atol=1e-9 * (1 + np.abs(g).max())):
                raise ValueError("LinearModel: exact constraints are inconsistent")
            nmap = sla.null_space(C)
            d = d - G @ offset
            fs = [f - R @ offset for f, R in zip(fs, Rs)]
            G = G @ nmap
            Rs = [R @ nmap for R in Rs]
        given = [t.weight for t in regs]
        if regs and any(w is None for w in given):
            if not all(w is None for w in given):
                raise ValueError("LinearModel: give all regulariser weights or none (ABIC chooses all)")
            inner = fit_abic(G, d, Rs, data_sigma=s, targets=fs, sigma2=sigma2, log10_bounds=log10_bounds)
        else:
            inner = fit(G, d, Rs, given, data_sigma=s, targets=fs, sigma2=sigma2)
        return PILMResult(inner, offset, nmap, {t.name: float(w) for t, w in zip(regs, inner.weights)})

    def predict(self, result: PILMResult, op: Operator, points) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of op(u) at points."""
        return result.predict(self.matrix(op, points))
