"""Bayesian linear-Gaussian inversion with ABIC / evidence-based choice of regularisation weights.

Model (Yabuki & Matsu'ura 1992; Fukuda & Johnson 2008)::

    d = G a + e,            e ~ N(0, sigma2 * diag(data_sigma**2))
    p(a) ~ exp(-sum_k w_k |R_k a - f_k|^2 / (2 sigma2)),     w_k = alpha_k**2 > 0

The prior may be improper (rank P of Q = sum_k w_k R_k^T R_k below the number of unknowns M); it is
normalised on the range of Q, which keeps the rank P and the log pseudo-determinant log|Lambda_P(Q)| in
the evidence, so that different regularisation operators can be compared fairly. With
s(a) = |E^-1/2 (G a - d)|^2 + sum_k w_k |R_k a - f_k|^2, H = G^T E^-1 G + Q and r0 = min_a of the prior
part alone (0 when the targets f_k are attainable), the log marginal likelihood is

    log p(d) = -(N + P - M)/2 log(2 pi sigma2) - 1/2 log|E| + 1/2 log|Lambda_P(Q)| - 1/2 log|H|
               - (s(a*) - r0) / (2 sigma2),

maximised over sigma2 by sigma2 = (s(a*) - r0) / (N + P - M) unless sigma2 is given.
ABIC = -2 log p(d | weights, sigma2) + 2 (number of estimated hyperparameters).

Numerics: :func:`fit` takes the posterior mean and covariance from a Householder QR of the stacked, whitened
system [E^-1/2 G; sqrt(w_k) R_k] (never an explicit inverse); H = R^T R gives log|H| from diag(R). A
regulariser with more rows than unknowns is first compressed to the square factor of its R^T R (same
quadratic form). :func:`fit_abic` with one regulariser uses one generalised symmetric eigendecomposition
A V = C V Lambda (A = G^T E^-1 G, C = A + c R^T R, V^T C V = I), after which each trial weight costs O(NM) and
the final posterior is H^-1 = V D^-1 V^T; with several regularisers each trial uses the stacked QR.
Everything is float64 NumPy; sparse inputs are accepted and densified.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.optimize import minimize, minimize_scalar

__all__ = ["LinearGaussianResult", "fit", "fit_abic", "abic_profile", "log_marginal_likelihood"]

log = logging.getLogger(__name__)

_LOG2PI = float(np.log(2.0 * np.pi))


@dataclass
class LinearGaussianResult:
    """Posterior of a linear-Gaussian inversion at one set of hyperparameters.

    coef: posterior mean (M,); cov: posterior covariance sigma2 * H^-1 (M, M); weights: w_k = alpha_k^2 (K,);
    sigma2: noise scale factor (variance multiplier of data_sigma**2); misfit: |E^-1/2 (G a - d)|^2;
    roughness: sum_k |R_k a - f_k|^2 (unweighted; per term in ``roughness_terms``); abic: see module doc;
    log_evidence: log p(d | weights, sigma2) (natural log); rank_prior: P = rank(sum_k R_k^T R_k).
    cov_factor: S with cov = sigma2 * S S^T (fast predictive variances for sparse maps, see :meth:`predict`).
    """

    coef: np.ndarray
    cov: np.ndarray
    weights: np.ndarray
    sigma2: float
    misfit: float
    roughness: float
    abic: float
    log_evidence: float
    rank_prior: int
    n_data: int = 0
    n_params: int = 0
    log_det_h: float = float("nan")
    log_pdet_prior: float = float("nan")
    roughness_terms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    cov_factor: np.ndarray | None = None
    search: dict | None = None  # fit_abic: {"log10_weight": grid, "abic": values} along its first scan

    @property
    def std(self) -> np.ndarray:
        """Posterior standard deviation of each coefficient."""
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))

    def predict(self, A, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of A @ a for a linear map A (n, M) (dense or sparse, row chunks)."""
        mean = np.asarray(A @ self.coef).reshape(-1)
        var = np.empty(mean.shape[0])
        S = self.cov_factor
        for i in range(0, mean.shape[0], chunk):
            blk = A[i:i + chunk]
            if S is not None:
                z = np.asarray(blk @ S)  # sparse @ dense is cheap: few nonzeros per row
                var[i:i + chunk] = self.sigma2 * np.einsum("ij,ij->i", z, z)
            else:
                blk = _dense(blk, "A")
                var[i:i + chunk] = np.einsum("ij,jk,ik->i", blk, self.cov, blk)
        return mean, np.sqrt(np.clip(var, 0.0, None))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n posterior draws of the coefficients, shape (n, M)."""
        z = rng.standard_normal((self.coef.size, n))
        if self.cov_factor is not None:
            dev = np.sqrt(self.sigma2) * (self.cov_factor @ z)
        else:
            dev = np.linalg.cholesky(self.cov) @ z
        return (self.coef[:, None] + dev).T


def _dense(A, name: str) -> np.ndarray:
    if sp.issparse(A):
        A = A.toarray()
    A = np.asarray(A)
    if np.iscomplexobj(A) or not np.issubdtype(A.dtype, np.number):
        raise ValueError(f"linear_inverse: {name} must be a real array, got dtype {A.dtype}")
    A = A.astype(np.float64, copy=False)
    if not np.all(np.isfinite(A)):
        raise ValueError(f"linear_inverse: {name} contains NaN or infinite values")
    return A


@dataclass
class _Problem:
    """Whitened inputs: Gw = E^-1/2 G, dw = E^-1/2 d, regularisers R_k and targets f_k (dense float64)."""

    Gw: np.ndarray
    dw: np.ndarray
    Rs: list[np.ndarray]
    fs: list[np.ndarray]
    log_det_e: float
    rank: int
    r_tol: float
    ev_single: np.ndarray | None = None  # eigenvalues of R^T R (descending) when there is one regulariser
    r_const: np.ndarray | None = None  # |R_k a - f_k|^2 minus its compressed form (constant in a)

    @property
    def n(self) -> int:
        return self.Gw.shape[0]

    @property
    def m(self) -> int:
        return self.Gw.shape[1]


def _prepare(G, d, regularizers, data_sigma, targets, rank_rtol: float) -> _Problem:
    G = _dense(G, "G")
    if G.ndim != 2:
        raise ValueError(f"linear_inverse: G must be 2-D, got shape {G.shape}")
    n, m = G.shape
    d = _dense(d, "d").reshape(-1)
    if d.shape[0] != n:
        raise ValueError(f"linear_inverse: d has {d.shape[0]} values but G has {n} rows")
    if data_sigma is None:
        s = np.ones(n)
    else:
        s = _dense(data_sigma, "data_sigma")
        s = np.broadcast_to(s.reshape(-1) if s.ndim else s, (n,)).copy()
        if np.any(s <= 0):
            raise ValueError("linear_inverse: data_sigma must be strictly positive")
    if targets is not None and len(targets) != len(regularizers):
        raise ValueError(f"linear_inverse: {len(targets)} targets for {len(regularizers)} regularizers")
    Rs, fs, consts, eigs = [], [], [], []
    for k, R in enumerate(regularizers):
        shape = R.shape
        if len(shape) != 2 or shape[1] != m:
            raise ValueError(f"linear_inverse: regularizers[{k}] has shape {shape}, expected (*, {m})")
        f = None if targets is None or targets[k] is None else _dense(targets[k], f"targets[{k}]").reshape(-1)
        if f is not None and f.shape[0] != shape[0]:
            raise ValueError(f"linear_inverse: targets[{k}] has {f.shape[0]} values, R has {shape[0]} rows")
        if shape[0] > m:  # tall: replace by an M x M factor with the same R^T R (and R^T f)
            Rr, fr, c, ev = _compress(R, f, f"regularizers[{k}]")
            Rs.append(Rr)
            fs.append(fr)
            consts.append(c)
            eigs.append(ev)
        else:
            Rs.append(_dense(R, f"regularizers[{k}]"))
            fs.append(np.zeros(shape[0]) if f is None else f)
            consts.append(0.0)
            eigs.append(None)
    ev1 = eigs[0] if len(Rs) == 1 else None
    rank, tol, ev1 = _prior_rank(Rs, m, rank_rtol, ev1)
    return _Problem(G / s[:, None], d / s, Rs, fs, float(2.0 * np.sum(np.log(s))), rank, tol, ev1,
                    np.array(consts))


def _compress(R, f: np.ndarray | None, name: str) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """Square factor Rr (M, M) with Rr^T Rr = R^T R from the eigendecomposition of R^T R (sparse product when R
    is sparse), the matching target fr (Rr^T fr = R^T f) and the constant |f|^2 - |fr|^2 (= |R a - f|^2 -
    |Rr a - fr|^2 for every a). Returns (Rr, fr, const, eigenvalues descending)."""
    if sp.issparse(R):
        R = sp.csr_array(R).astype(np.float64)
        if not np.all(np.isfinite(R.data)):
            raise ValueError(f"linear_inverse: {name} contains NaN or infinite values")
        B = (R.T @ R).toarray()
    else:
        R = _dense(R, name)
        B = R.T @ R
    lam, V = np.linalg.eigh(B)
    lam, V = np.clip(lam[::-1], 0.0, None), V[:, ::-1]
    Rr = np.sqrt(lam)[:, None] * V.T
    if f is None or not np.any(f):
        return Rr, np.zeros(Rr.shape[0]), 0.0, lam
    g = V.T @ (R.T @ f)
    pos = lam > 1e-14 * max(lam[0], 1e-300)
    fr = np.zeros_like(g)
    fr[pos] = g[pos] / np.sqrt(lam[pos])
    return Rr, fr, float(f @ f - fr @ fr), lam


def _prior_rank(Rs: list[np.ndarray], m: int, rtol: float,
                ev: np.ndarray | None = None) -> tuple[int, float, np.ndarray | None]:
    """Rank of sum_k R_k^T R_k / |R_k|_F^2 (independent of the positive weights) by eigenvalues > rtol*max;
    also the descending eigenvalues of R^T R when there is a single regulariser (reused for log|Lambda_P|)."""
    if not Rs:
        return 0, 0.0, None
    if len(Rs) == 1:
        if ev is None:
            ev = np.linalg.eigvalsh(Rs[0].T @ Rs[0])[::-1]
        return int(np.sum(ev > rtol * max(float(ev[0]), 0.0))), rtol, ev
    Q = np.zeros((m, m))
    for R in Rs:
        nrm = np.sum(R * R)
        if nrm > 0:
            Q += (R.T @ R) / nrm
    ev = np.linalg.eigvalsh(Q)
    tol = rtol * max(float(ev[-1]), 0.0)
    return int(np.sum(ev > tol)), rtol, None


def _log_pdet(Q: np.ndarray, rank: int) -> float:
    """log of the product of the ``rank`` largest eigenvalues of the symmetric PSD matrix Q."""
    if rank == 0:
        return 0.0
    ev = np.linalg.eigvalsh(Q)[::-1][:rank]
    if ev[-1] <= 0:
        raise ValueError("linear_inverse: prior precision has non-positive eigenvalues within its rank")
    return float(np.sum(np.log(ev)))


def _prior_offset(p: _Problem, w: np.ndarray) -> float:
    """r0 = min_a sum_k w_k |R_k a - f_k|^2 (0 if all targets are zero)."""
    if not p.Rs or all(not np.any(f) for f in p.fs):
        return 0.0
    A = np.vstack([np.sqrt(wk) * R for wk, R in zip(w, p.Rs)])
    b = np.concatenate([np.sqrt(wk) * f for wk, f in zip(w, p.fs)])
    x, *_ = sla.lstsq(A, b, lapack_driver="gelsd", check_finite=False)
    r = A @ x - b
    return float(r @ r)


def _neg2_log_ml(s_net: float, log_det_h: float, log_pdet: float, n: int, m: int, rank: int,
                 log_det_e: float, sigma2: float | None) -> tuple[float, float]:
    """(-2 log p(d | w, sigma2), sigma2) with sigma2 profiled when None."""
    dof = n + rank - m
    if sigma2 is None:
        if dof <= 0:
            raise ValueError(f"linear_inverse: N + P - M = {dof} <= 0; cannot estimate sigma2 (give sigma2)")
        sigma2 = max(s_net, 1e-300) / dof
        quad = float(dof)
    else:
        quad = s_net / sigma2
    val = dof * (_LOG2PI + np.log(sigma2)) + log_det_e - log_pdet + log_det_h + quad
    return float(val), float(sigma2)


def _result(p: _Problem, w: np.ndarray, sigma2: float | None, with_cov: bool = True) -> LinearGaussianResult:
    """Posterior at fixed weights by QR of the stacked whitened system."""
    w = np.asarray(w, dtype=np.float64)
    A = np.vstack([p.Gw] + [np.sqrt(wk) * R for wk, R in zip(w, p.Rs)])
    b = np.concatenate([p.dw] + [np.sqrt(wk) * f for wk, f in zip(w, p.fs)])
    if A.shape[0] < p.m:
        raise ValueError(f"linear_inverse: {A.shape[0]} equations for {p.m} unknowns; posterior is improper")
    order = np.argsort(-np.max(np.abs(A), axis=1), kind="stable")  # rows by decreasing size (Powell-Reid)
    Ab = np.asfortranarray(np.column_stack([A, b])[order])
    # Householder QR of [A | b] without forming Q: R is the leading block, Q^T b its last column
    lwork = int(sla.lapack.dgeqrf(Ab, lwork=-1)[2][0])  # workspace query: enables the blocked algorithm
    qr, _tau, _work, info = sla.lapack.dgeqrf(Ab, lwork=max(lwork, 1), overwrite_a=True)
    if info != 0:
        raise ValueError(f"linear_inverse: QR factorisation failed (LAPACK info {info})")
    Rf = np.triu(qr[: p.m, : p.m])
    qtb = qr[: p.m, p.m].copy()
    del qr, Ab, A
    diag = np.abs(np.diag(Rf))
    if diag.min() <= 1e-13 * diag.max():
        raise ValueError("linear_inverse: posterior precision H is singular; add data or regularisation")
    coef = sla.solve_triangular(Rf, qtb, lower=False, check_finite=False)
    res = p.Gw @ coef - p.dw
    misfit = float(res @ res)
    terms = np.array([float(np.sum((R @ coef - f) ** 2)) for R, f in zip(p.Rs, p.fs)]) + p.r_const
    s_total = misfit + float(np.sum(w * (terms - p.r_const)))
    r0 = _prior_offset(p, w)
    log_det_h = float(2.0 * np.sum(np.log(diag)))
    if p.ev_single is not None:
        log_pdet = p.rank * float(np.log(w[0])) + float(np.sum(np.log(p.ev_single[: p.rank])))
    else:
        Q = sum((wk * (R.T @ R) for wk, R in zip(w, p.Rs)), np.zeros((p.m, p.m)))
        log_pdet = _log_pdet(Q, p.rank)
    est = sigma2 is None
    neg2, sigma2 = _neg2_log_ml(s_total - r0, log_det_h, log_pdet, p.n, p.m, p.rank, p.log_det_e, sigma2)
    S = sla.solve_triangular(Rf, np.eye(p.m), lower=False, check_finite=False) if with_cov else None
    return LinearGaussianResult(
        coef=coef, cov=sigma2 * (S @ S.T) if with_cov else np.empty((0, 0)), weights=w.copy(), sigma2=sigma2,
        misfit=misfit, roughness=float(terms.sum()), abic=neg2 + 2.0 * (len(w) + int(est)),
        log_evidence=-0.5 * neg2, rank_prior=p.rank, n_data=p.n, n_params=p.m, log_det_h=log_det_h,
        log_pdet_prior=log_pdet, roughness_terms=terms, cov_factor=S)


def fit(G, d, regularizers: Sequence = (), weights: Sequence[float] = (), *, data_sigma=None,
        targets: Sequence | None = None, sigma2: float | None = None,
        rank_rtol: float = 1e-10) -> LinearGaussianResult:
    """Posterior mean, covariance and evidence for fixed regularisation weights w_k = alpha_k^2.

    G (N, M) and regularizers R_k (K_k, M) may be dense or scipy.sparse; data_sigma: per-datum standard
    deviations (scalar or (N,); default 1); targets f_k default 0; sigma2 None = maximum-likelihood value.
    rank_rtol: eigenvalues of the normalised sum_k R_k^T R_k below rank_rtol * largest count as zero.
    """
    weights = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    if len(weights) != len(regularizers):
        raise ValueError(f"linear_inverse: {len(weights)} weights for {len(regularizers)} regularizers")
    if np.any(weights <= 0) or not np.all(np.isfinite(weights)):
        raise ValueError(f"linear_inverse: weights must be finite and > 0, got {weights}")
    p = _prepare(G, d, regularizers, data_sigma, targets, rank_rtol)
    return _result(p, weights, sigma2)


class _SingleAbic:
    """O(M) evaluation of -2 log p(d | w) for one regulariser via A v = lam C v, C = A + c B."""

    def __init__(self, p: _Problem):
        A = p.Gw.T @ p.Gw
        R, f = p.Rs[0], p.fs[0]
        B = R.T @ R
        self.c = float(np.trace(A) / max(np.trace(B), 1e-300)) or 1.0
        C = A + self.c * B
        try:
            lc = sla.cholesky(C, lower=False, check_finite=False)
        except np.linalg.LinAlgError as exc:
            raise ValueError("linear_inverse: G^T G + R^T R is singular; the posterior is improper") from exc
        self.log_det_c = float(2.0 * np.sum(np.log(np.diag(lc))))
        lam, V = sla.eigh(A, C, check_finite=False)
        self.lam = np.clip(lam, 0.0, 1.0)
        self.vb = V.T @ (p.Gw.T @ p.dw)
        self.vf = V.T @ (R.T @ f)
        self.V = V
        self.p = p
        self.log_pdet_b = float(np.sum(np.log(p.ev_single[: p.rank])))
        self.rf = _prior_offset(p, np.ones(1))  # r0 scales linearly with w

    def __call__(self, log10w: float, sigma2: float | None) -> float:
        w = 10.0 ** log10w
        dg = self.lam + (w / self.c) * (1.0 - self.lam)
        a = self.V @ ((self.vb + w * self.vf) / dg)
        rd = self.p.Gw @ a - self.p.dw
        rr = self.p.Rs[0] @ a - self.p.fs[0]
        s_net = float(rd @ rd) + w * (float(rr @ rr) - self.rf)  # explicit residuals: no cancellation
        if not s_net > 0 or np.any(dg <= 0):
            return np.inf
        log_det_h = self.log_det_c + float(np.sum(np.log(dg)))
        log_pdet = self.p.rank * np.log(w) + self.log_pdet_b
        return _neg2_log_ml(s_net, log_det_h, log_pdet, self.p.n, self.p.m, self.p.rank,
                            self.p.log_det_e, sigma2)[0]


    def result(self, log10w: float, sigma2: float | None) -> LinearGaussianResult:
        """Posterior at weight 10**log10w from the same decomposition: H^-1 = V D^-1 V^T (no new factorisation)."""
        p = self.p
        w = 10.0 ** log10w
        dg = self.lam + (w / self.c) * (1.0 - self.lam)
        if np.any(dg <= 0):
            raise ValueError("linear_inverse: posterior precision H is singular; add data or regularisation")
        a = self.V @ ((self.vb + w * self.vf) / dg)
        rd = p.Gw @ a - p.dw
        rr = p.Rs[0] @ a - p.fs[0]
        misfit, term = float(rd @ rd), float(rr @ rr)
        log_det_h = self.log_det_c + float(np.sum(np.log(dg)))
        log_pdet = p.rank * np.log(w) + self.log_pdet_b
        est = sigma2 is None
        neg2, sigma2 = _neg2_log_ml(misfit + w * (term - self.rf), log_det_h, log_pdet, p.n, p.m, p.rank,
                                    p.log_det_e, sigma2)
        S = self.V / np.sqrt(dg)[None, :]
        terms = np.array([term + float(p.r_const[0])])
        return LinearGaussianResult(
            coef=a, cov=sigma2 * (S @ S.T), weights=np.array([w]), sigma2=sigma2, misfit=misfit,
            roughness=float(terms.sum()), abic=neg2 + 2.0 * (1 + int(est)), log_evidence=-0.5 * neg2,
            rank_prior=p.rank, n_data=p.n, n_params=p.m, log_det_h=log_det_h, log_pdet_prior=float(log_pdet),
            roughness_terms=terms, cov_factor=S)


class _MultiAbic:
    """-2 log p(d | w) for several regularisers by QR of the stacked system per evaluation."""

    def __init__(self, p: _Problem):
        self.p = p

    def __call__(self, log10w: np.ndarray, sigma2: float | None) -> float:
        try:
            return -2.0 * _result(self.p, 10.0 ** np.asarray(log10w, dtype=float), sigma2,
                                  with_cov=False).log_evidence
        except (ValueError, np.linalg.LinAlgError):
            return np.inf


def fit_abic(G, d, regularizers: Sequence, *, data_sigma=None, targets: Sequence | None = None,
             log10_bounds: tuple[float, float] = (-8, 8), sigma2: float | None = None,
             rank_rtol: float = 1e-10, n_grid: int = 33) -> LinearGaussianResult:
    """Choose the weights w_k by minimising ABIC (maximising the marginal likelihood), then :func:`fit`.

    One regulariser: ABIC on ``n_grid`` log-spaced weights in 10**log10_bounds, then bounded Brent
    refinement around the best grid point. Several: a coarse grid on the diagonal, then Nelder-Mead in
    log10 weights (clipped to the bounds). A minimum on a bound is logged as a warning.
    """
    if len(regularizers) == 0:
        raise ValueError("linear_inverse: fit_abic needs at least one regularizer")
    p = _prepare(G, d, regularizers, data_sigma, targets, rank_rtol)
    lo, hi = map(float, log10_bounds)
    if not lo < hi:
        raise ValueError(f"linear_inverse: log10_bounds must be increasing, got {log10_bounds}")
    grid = np.linspace(lo, hi, n_grid)
    step = grid[1] - grid[0]
    if len(p.Rs) == 1:
        obj = _SingleAbic(p)
        vals = np.array([obj(g, sigma2) for g in grid])
        i = int(np.nanargmin(vals))
        a, b = max(lo, grid[i] - step), min(hi, grid[i] + step)
        opt = minimize_scalar(lambda t: obj(t, sigma2), bounds=(a, b), method="bounded",
                              options={"xatol": 1e-4})
        best = np.array([opt.x if opt.fun <= vals[i] else grid[i]])
        final = obj.result(float(best[0]), sigma2)
    else:
        obj = _MultiAbic(p)
        vals = np.array([obj(np.full(len(p.Rs), g), sigma2) for g in grid])
        x0 = np.full(len(p.Rs), grid[int(np.nanargmin(vals))])

        def f(t):
            return obj(np.clip(t, lo, hi), sigma2)

        opt = minimize(f, x0, method="Nelder-Mead",
                       options={"xatol": 1e-3, "fatol": 1e-6, "maxiter": 400 * len(p.Rs),
                                "initial_simplex": np.vstack([x0] + [x0 + np.eye(len(x0))[j] * step
                                                                     for j in range(len(x0))])})
        best = np.clip(opt.x, lo, hi)
        final = None
    if np.any(np.isclose(best, lo, atol=1e-3)) or np.any(np.isclose(best, hi, atol=1e-3)):
        log.warning("ABIC minimum at the search bound: log10 weights %s within %s", best, log10_bounds)
    res = final if final is not None else _result(p, 10.0 ** best, sigma2)
    res.search = {"log10_weight": grid, "abic": vals + 2.0 * (len(p.Rs) + int(sigma2 is None))}
    return res


def log_marginal_likelihood(G, d, regularizers: Sequence, weights: Sequence[float], *, data_sigma=None,
                            targets: Sequence | None = None, sigma2: float | None = None,
                            rank_rtol: float = 1e-10) -> float:
    """log p(d | weights, sigma2) (sigma2 profiled when None); same as ``fit(...).log_evidence``."""
    return fit(G, d, regularizers, weights, data_sigma=data_sigma, targets=targets, sigma2=sigma2,
               rank_rtol=rank_rtol).log_evidence


def abic_profile(G, d, regularizer, log10_weights: Sequence[float], *, data_sigma=None, target=None,
                 sigma2: float | None = None, rank_rtol: float = 1e-10) -> np.ndarray:
    """ABIC (same definition as :func:`fit_abic`) at each log10 weight of a single regulariser (O(NM) each)."""
    p = _prepare(G, d, [regularizer], data_sigma, None if target is None else [target], rank_rtol)
    obj = _SingleAbic(p)
    return np.array([obj(float(t), sigma2) for t in log10_weights]) + 2.0 * (1 + int(sigma2 is None))
