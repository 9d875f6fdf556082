"""Bayesian comparison of linear models with different regularisation operators.

Model (whitened data; rows grouped by station, ``groups``)::

    d = G a + e,     e_g ~ N(0, sigma2 / u_g I)       u_g = 1 (Gaussian) or u_g ~ Gamma(nu/2, nu/2) (Student-t)
    p(a) = N(0, Lambda^-1),   Lambda = (w / sigma2) R^T R + N S N^T / tau^2

* **Proper null-space prior.** N (M x K) is an orthonormal basis of the null space of R^T R, S = N^T M_O N the
  Gram matrix of the null-space fields in a stated physical inner product (mean square velocity over the
  domain), tau the prior amplitude (physical units) of each null mode of unit rms. The prior is proper, so
  the evidence is a density of the data in their units and log Bayes factors between operators with
  different null spaces do not depend on the unit of d (a flat prior on null spaces of dimension K1 != K2
  shifts them by (K1 - K2) ln c under d -> c d).
* **Rank from the spectrum.** :func:`prior_spectrum` finds K from the largest gap of the Rayleigh-Ritz-refined
  smallest eigenvalues of R^T R (accurate to ~1e-30 of the largest, where dense eigh stops at ~1e-16) and
  checks it against a known null-space dimension (e.g. polynomial solutions of the operator).
* **Evidence.** With F = G^T U G + w R^T R (sparse LU) and H~ = sigma2 H = F + (sigma2 / tau^2) N S N^T
  (determinant lemma / Woodbury on the K-dimensional null part)::

      log p(d) = [data term] - 1/2 log|E| + 1/2 log|Lambda| - 1/2 log|H| - 1/2 (w a'Ba / sigma2 + a'N S N'a / tau^2)

  with the Gaussian data term -n/2 log(2 pi sigma2) - |G a - d|^2 / (2 sigma2) (exact), or for Student-t the
  sum of station t log densities at the MAP (iteratively reweighted least squares, IRLS) with the IRLS
  weights in H (a Laplace approximation; exact in the Gaussian limit nu -> inf). ``log|E|``: the whitening
  Jacobian (log determinant of the formal data covariance, in the data's units).
* **Hyperparameters.** (log10 w, log10 sigma2) by maximum evidence (type II), or integrated on a grid under a
  flat prior in both logs (w relative to w_ref = tr(G^T G) / tr(R^T R), so the bounds are unit free).
  :class:`MixturePosterior` turns the grid into a posterior mixture (means, variances, draws) from one
  generalised eigendecomposition G^T U G V = lambda (G^T U G + c R^T R) V.
* **Cross-validation.** :meth:`LinearEvidence.cv` gives exact k-fold predictive log densities per station at
  fixed hyperparameters (the held-out rows removed from the posterior by a rank update, no refits).

All float64; G and R sparse.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spl
from scipy.optimize import minimize_scalar
from scipy.special import gammaln, logsumexp, roots_genlaguerre

__all__ = ["Spectrum", "prior_spectrum", "sparse_logdet", "LinearEvidence", "MixturePosterior", "Hyper",
           "kfold_groups"]

log = logging.getLogger(__name__)
_LOG2PI = math.log(2.0 * math.pi)
_NULL_CEILING = 1e-14  # relative eigenvalue below which a direction can be null (float64 eigh floor ~1e-16)


# ------------------------------------------------------------------------------------------- spectrum
@dataclass
class Spectrum:
    """Smallest eigenvalues of R^T R and its null space.

    eigenvalues: the smallest eigenvalues relative to the largest (``lam_max``), ascending, Rayleigh-Ritz
    refined with R itself; null_dim: K used (from the largest gap, checked against ``known_null_dim``);
    gap_decades: log10 of the ratio across that gap; null_basis (M, K) orthonormal; log_pdet: sum of the
    logs of the M - K nonzero eigenvalues of R^T R."""

    eigenvalues: np.ndarray
    lam_max: float
    null_dim: int
    gap_null_dim: int
    known_null_dim: int | None
    gap_decades: float
    null_basis: np.ndarray
    log_pdet: float

    @property
    def rank(self) -> int:
        return self.null_basis.shape[0] - self.null_dim


def sparse_logdet(F) -> tuple[spl.SuperLU, float]:
    """Sparse LU (symmetric ordering, no pivoting) of a symmetric positive definite F and log det F."""
    F = sp.csc_array(F)
    lu = spl.splu(F, permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0, options={"SymmetricMode": True})
    diag = lu.U.diagonal()
    if np.any(diag <= 0) or not np.array_equal(lu.perm_r, lu.perm_c):
        raise np.linalg.LinAlgError("sparse_logdet: matrix is not numerically positive definite")
    return lu, float(np.sum(np.log(diag)))


def _smallest_eigvecs(B: sp.csc_array, k: int, lam_max: float) -> np.ndarray:
    m = B.shape[0]
    if m <= 800:
        return np.linalg.eigh(B.toarray())[1][:, :k]
    # shift-invert Lanczos about a small negative shift (B + delta I is positive definite)
    _, W = spl.eigsh(B, k=k, sigma=-1e-7 * lam_max, which="LM", tol=1e-12, v0=_start_vector(m))
    return W


def _start_vector(m: int) -> np.ndarray:
    """Fixed Lanczos start vector: ARPACK's default is random, which makes results differ run to run (~1e-9)."""
    return np.random.default_rng(0).standard_normal(m)


def prior_spectrum(R, *, known_null_dim: int | None = None, n_eig: int | None = None,
                   min_gap_decades: float = 6.0, name: str = "regulariser") -> Spectrum:
    """Null space and rank of R^T R from its spectrum (see the module doc).

    The gap count must be >= ``known_null_dim`` (exact null directions cannot be missed); a larger count means
    spurious null modes of the discrete operator (e.g. collocation too coarse for the basis) and is used with a
    warning. With no gap of at least ``min_gap_decades`` the known dimension is used (warning)."""
    R = sp.csr_array(R, dtype=np.float64)
    m = R.shape[1]
    B = sp.csc_array(R.T @ R)
    lam_max = float(spl.eigsh(B, k=1, which="LA", return_eigenvectors=False, tol=1e-10,
                              v0=_start_vector(m))[0]) if m > 800 \
        else float(np.linalg.eigvalsh(B.toarray())[-1])
    k = min(n_eig or max(48, 2 * (known_null_dim or 0) + 24), m - 2)
    W, _ = np.linalg.qr(_smallest_eigvecs(B, k, lam_max))
    _, s, vt = np.linalg.svd(np.asarray(R @ W), full_matrices=False)  # Rayleigh-Ritz with R itself
    order = np.argsort(s)
    eig = (s[order] ** 2) / lam_max
    vecs = W @ vt[order].T
    logs = np.log10(np.maximum(eig, 1e-300))
    jumps = np.diff(logs[: k - 4])
    g = int(np.argmax(jumps))
    gap_null, gap_dec = (g + 1, float(jumps[g])) if eig[0] < _NULL_CEILING else (0, 0.0)
    null = gap_null
    if known_null_dim is not None:
        if gap_null < known_null_dim and gap_dec >= min_gap_decades:
            raise ValueError(f"{name}: spectrum gap gives {gap_null} null directions but the operator has at least "
                             f"{known_null_dim} (numerical failure)")
        if gap_dec < min_gap_decades:
            log.warning("%s: no clear spectral gap (largest %.1f decades at %d): using the known null dimension %d",
                        name, gap_dec, gap_null, known_null_dim)
            null = known_null_dim
        elif gap_null > known_null_dim:
            log.warning("%s: %d null directions from the spectral gap, %d known: the discrete operator has spurious "
                        "null modes (refine the collocation)", name, gap_null, known_null_dim)
    N = vecs[:, :null]
    log_pdet = _log_pdet(B, N)
    log.info("%s: null dimension %d (gap %d, %.1f decades; known %s), smallest nonzero eigenvalue %.2e of max",
             name, null, gap_null, gap_dec, known_null_dim, eig[null] if null < len(eig) else float("nan"))
    return Spectrum(eig, lam_max, null, gap_null, known_null_dim, gap_dec, N, log_pdet)


def _log_pdet(B: sp.csc_array, N: np.ndarray) -> float:
    """Sum of log nonzero eigenvalues of B with null basis N: det(B + g P^T P) = g^K det(P N)^2 pdet(B) for P
    the K coordinate rows picked by a pivoted QR of N^T (sparse, keeps the LU sparse)."""
    k = N.shape[1]
    if k == 0:
        return sparse_logdet(B)[1]
    _, _, piv = sla.qr(N.T, mode="economic", pivoting=True)
    idx = piv[:k]
    gam = float(np.mean(B.diagonal()))
    pin = sp.csc_array((np.full(k, gam), (idx, idx)), shape=B.shape)
    _, ld = sparse_logdet(B + pin)
    _, ldn = np.linalg.slogdet(N[idx, :])
    return ld - k * math.log(gam) - 2.0 * ldn


# ---------------------------------------------------------------------------------------------- noise
def _t_logpdf(r2: np.ndarray, n: np.ndarray, s2: float, nu: float) -> np.ndarray:
    """log density of an n-variate Student-t (scale^2 s2, nu dof) at squared radius r2."""
    return (gammaln(0.5 * (nu + n)) - gammaln(0.5 * nu) - 0.5 * n * np.log(nu * math.pi * s2)
            - 0.5 * (nu + n) * np.log1p(r2 / (nu * s2)))


def _t_weight(r2: np.ndarray, n: np.ndarray, s2: float, nu: float) -> np.ndarray:
    """IRLS / EM weight E[u | r] = (nu + n) / (nu + r2 / s2)."""
    return (nu + n) / (nu + r2 / s2)


def kfold_groups(n_groups: int, k: int, seed: int) -> np.ndarray:
    """Fold index (0..k-1) of each group: a seeded random partition into k near-equal folds."""
    if not 2 <= k <= n_groups:
        raise ValueError(f"kfold_groups: need 2 <= k <= {n_groups} folds, got {k}")
    perm = np.random.default_rng(seed).permutation(n_groups)
    fold = np.empty(n_groups, dtype=int)
    fold[perm] = np.arange(n_groups) % k
    return fold


# --------------------------------------------------------------------------------------------- engine
@dataclass
class _System:
    """Factorisation at (w, u): F = G^T U G + w B, its log det, F^-1 N, N^T F^-1 N, F^-1 G^T U d."""

    w: float
    lu: spl.SuperLU
    logdet_f: float
    fn: np.ndarray
    nfn: np.ndarray
    af: np.ndarray


@dataclass
class _State:
    """Posterior mode at (w, sigma2, u) and the pieces of the evidence."""

    w: float
    s2: float
    coef: np.ndarray
    res: np.ndarray  # G a - d (whitened)
    r2: np.ndarray  # per group |res_g|^2
    rough: float  # a' B a
    null_quad: float  # a' N S N' a
    logdet_h: float  # log det of the posterior precision H (not sigma2 H)
    log_evidence: float


@dataclass(frozen=True)
class Hyper:
    """Hyperparameter grid: log10 w (relative to w_ref) x log10 sigma2 nodes, log evidence, posterior weights."""

    log10_w: np.ndarray  # (nw,) relative to w_ref
    log10_s2: np.ndarray  # (ns,)
    log_evidence: np.ndarray  # (nw, ns)
    weights: np.ndarray  # (nw, ns), sum 1
    log_evidence_integrated: float  # log of the integral under a flat prior over the bounds
    mode: tuple[float, float]
    std: tuple[float, float]  # posterior std of log10 w_rel, log10 sigma2 (from the grid)

    def nodes(self, min_weight: float = 1e-3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(log10 w_rel, log10 sigma2, weight) of the nodes carrying all but ``min_weight`` of the mass."""
        lw, ls = np.meshgrid(self.log10_w, self.log10_s2, indexing="ij")
        wt = self.weights.ravel()
        order = np.argsort(wt)[::-1]
        keep = order[: int(np.searchsorted(np.cumsum(wt[order]), 1.0 - min_weight)) + 1]
        return lw.ravel()[keep], ls.ravel()[keep], wt[keep] / wt[keep].sum()


class LinearEvidence:
    """Evidence, fits and cross-validation of d = G a + e with the proper null-space prior (module doc).

    G (n, M), R (K_R, M) sparse; d (n,) whitened data; ``groups`` (n,) station index of each row;
    ``group_log_det_e`` (n_groups,) the log determinant of each group's formal covariance (data units: the
    whitening Jacobian, so that evidence and CV are densities of the data as given); ``spectrum`` from
    :func:`prior_spectrum`; ``null_gram`` S (K, K); ``null_scale`` tau; ``nu`` None for Gaussian noise or the
    Student-t degrees of freedom."""

    def __init__(self, G, d, R, spectrum: Spectrum, *, null_gram: np.ndarray, null_scale: float,
                 groups: np.ndarray, group_log_det_e: np.ndarray | None = None, nu: float | None = None):
        self.G = sp.csr_array(G, dtype=np.float64)
        self.d = np.asarray(d, dtype=np.float64)
        self.B = sp.csc_array(sp.csr_array(R, dtype=np.float64).T @ sp.csr_array(R, dtype=np.float64))
        self.spec = spectrum
        self.N = spectrum.null_basis
        self.S = np.atleast_2d(np.asarray(null_gram, dtype=np.float64))
        if not null_scale > 0:
            raise ValueError(f"LinearEvidence: null_scale must be > 0, got {null_scale}")
        self.tau2 = float(null_scale) ** 2
        self.groups = np.asarray(groups, dtype=int)
        self.n_groups = int(self.groups.max()) + 1
        self.gsize = np.bincount(self.groups, minlength=self.n_groups).astype(float)
        self.group_log_det_e = (np.zeros(self.n_groups) if group_log_det_e is None
                                else np.asarray(group_log_det_e, dtype=np.float64).reshape(self.n_groups))
        self.log_det_e = float(np.sum(self.group_log_det_e))
        self.nu = None if nu is None else float(nu)
        self.n, self.m = self.G.shape
        self.k = self.N.shape[1]
        self.p = self.m - self.k
        self.logdet_s = float(np.linalg.slogdet(self.S)[1]) if self.k else 0.0
        gtg = float(self.G.multiply(self.G).sum())
        self.w_ref = gtg / max(float(self.B.diagonal().sum()), 1e-300)
        self._cache: _System | None = None
        self._cache_key: tuple | None = None

    # ---------------------------------------------------------------- linear algebra at (w, u)
    def _system(self, w: float, u: np.ndarray) -> _System:
        key = (float(w), hash(u.tobytes()))
        if self._cache_key == key:
            return self._cache
        ur = u[self.groups]
        F = sp.csc_array(self.G.T @ (self.G.multiply(ur[:, None])) + w * self.B)
        try:
            lu, ld = sparse_logdet(F)
        except (np.linalg.LinAlgError, RuntimeError) as exc:
            raise ValueError("LinearEvidence: G^T U G + w R^T R is singular: the data do not constrain the null "
                             "space of the regulariser") from exc
        fn = lu.solve(self.N) if self.k else np.zeros((self.m, 0))
        af = lu.solve(np.asarray(self.G.T @ (ur * self.d)))
        self._cache = _System(float(w), lu, ld, fn, self.N.T @ fn, af)
        self._cache_key = key
        return self._cache

    def _state(self, sysm: _System, s2: float, u: np.ndarray, robust: bool) -> _State:
        w, rho = sysm.w, s2 / self.tau2
        a = sysm.af
        logdet_ht = sysm.logdet_f
        if self.k:
            mk = np.linalg.inv(self.S) / rho + sysm.nfn
            cm = sla.cho_factor(mk)
            a = a - sysm.fn @ sla.cho_solve(cm, self.N.T @ sysm.af)
            logdet_ht += self.k * math.log(rho) + self.logdet_s + 2.0 * float(np.sum(np.log(np.diag(cm[0]))))
        res = np.asarray(self.G @ a) - self.d
        r2 = np.bincount(self.groups, res * res, minlength=self.n_groups)
        rough = float(a @ (self.B @ a))
        nz = self.N.T @ a
        null_quad = float(nz @ self.S @ nz) if self.k else 0.0
        logdet_h = logdet_ht - self.m * math.log(s2)
        logdet_lam = (self.p * math.log(w / s2) + self.spec.log_pdet + self.logdet_s
                      - self.k * math.log(self.tau2))
        if robust:
            data = float(np.sum(_t_logpdf(r2, self.gsize, s2, self.nu)))
        else:
            data = -0.5 * self.n * (_LOG2PI + math.log(s2)) + 0.5 * float(np.sum(np.log(u[self.groups]))) \
                - 0.5 * float(np.sum(u * r2)) / s2
        ev = (data - 0.5 * self.log_det_e + 0.5 * logdet_lam - 0.5 * logdet_h
              - 0.5 * (w * rough / s2 + null_quad / self.tau2))
        return _State(w, s2, a, res, r2, rough, null_quad, logdet_h, float(ev))

    def _best_s2(self, sysm: _System, u: np.ndarray, robust: bool, s2_bounds) -> _State:
        lo, hi = s2_bounds
        f = lambda t: -self._state(sysm, 10.0**t, u, robust).log_evidence
        grid = np.linspace(lo, hi, 13)
        vals = [f(t) for t in grid]
        i = int(np.argmin(vals))
        step = grid[1] - grid[0]
        opt = minimize_scalar(f, bounds=(max(lo, grid[i] - step), min(hi, grid[i] + step)), method="bounded",
                              options={"xatol": 1e-5})
        return self._state(sysm, 10.0 ** float(opt.x), u, robust)

    # ---------------------------------------------------------------------------- public API
    @property
    def robust(self) -> bool:
        return self.nu is not None

    def ones(self) -> np.ndarray:
        return np.ones(self.n_groups)

    def evaluate(self, log10_w_rel: float, log10_s2: float, u: np.ndarray | None = None) -> _State:
        """Posterior mode and log evidence at fixed hyperparameters and station weights (u None = 1)."""
        u = self.ones() if u is None else u
        return self._state(self._system(self.w_ref * 10.0**log10_w_rel, u), 10.0**log10_s2, u, self.robust)

    def profile(self, log10_w_rel: float, u: np.ndarray | None = None, *, s2_bounds=(-3.0, 3.0),
                s2_fixed: float | None = None, irls: bool | None = None, max_iter: int = 50,
                tol: float = 1e-4) -> tuple[_State, np.ndarray]:
        """Best sigma2 (or ``s2_fixed``) at weight w; for Student-t noise the station weights u are iterated to
        their IRLS fixed point jointly with sigma2 (one sparse LU per iteration). Returns (state, u)."""
        irls = self.robust if irls is None else irls
        u = self.ones() if u is None else np.asarray(u, dtype=float).copy()
        w = self.w_ref * 10.0**log10_w_rel
        for it in range(max_iter if irls else 1):
            sysm = self._system(w, u)
            st = (self._state(sysm, s2_fixed, u, self.robust) if s2_fixed is not None
                  else self._best_s2(sysm, u, self.robust, s2_bounds))
            if not irls:
                return st, u
            new = _t_weight(st.r2, self.gsize, st.s2, self.nu)
            change = float(np.max(np.abs(np.log(new / u))))
            u = new
            if change < tol:
                break
        else:
            log.warning("IRLS did not converge in %d iterations (last change %.2e)", max_iter, change)
        return self._state(self._system(w, u), st.s2, u, self.robust), u

    def fit(self, log10_bounds=(-6.0, 6.0), *, s2_bounds=(-3.0, 3.0), s2_fixed: float | None = None,
            n_scan: int = 15, start: tuple[float, np.ndarray] | None = None
            ) -> tuple[_State, np.ndarray, dict]:
        """Type-II maximum of the evidence over log10 w_rel in ``log10_bounds`` (and sigma2 unless fixed).

        A scan of ``n_scan`` weights (Gaussian: all; Student-t: started from ``start`` = (log10 w_rel, u), e.g.
        the Gaussian optimum, with u held at that start) then bounded Brent refinement. Returns (state at the
        optimum, station weights u, scan {"log10_w_rel", "log_evidence"})."""
        lo, hi = map(float, log10_bounds)
        grid = np.linspace(lo, hi, n_scan)
        u0 = self.ones() if start is None else start[1]
        scan = np.array([self.profile(g, u0, s2_bounds=s2_bounds, s2_fixed=s2_fixed, irls=False)[0].log_evidence
                         for g in grid])
        i = int(np.nanargmax(scan))
        step = grid[1] - grid[0]
        a, b = max(lo, grid[i] - step), min(hi, grid[i] + step)
        if start is not None and self.robust:
            a, b = max(lo, start[0] - 2 * step), min(hi, start[0] + 2 * step)
        memo: dict[float, tuple[_State, np.ndarray]] = {}
        warm = [u0]

        def neg(t):
            st, u = self.profile(float(t), warm[0], s2_bounds=s2_bounds, s2_fixed=s2_fixed)
            warm[0] = u
            memo[float(t)] = (st, u)
            return -st.log_evidence

        opt = minimize_scalar(neg, bounds=(a, b), method="bounded", options={"xatol": 2e-3})
        best = max(memo.values(), key=lambda v: v[0].log_evidence)
        t_best = math.log10(best[0].w / self.w_ref)
        if min(abs(t_best - lo), abs(t_best - hi)) < 1e-2:
            log.warning("evidence maximum at the search bound: log10 w/w_ref = %.3f within %s", t_best, log10_bounds)
        del opt
        return best[0], best[1], {"log10_w_rel": grid, "log_evidence": scan}

    def hyper_grid(self, mode: _State, u: np.ndarray, *, log10_bounds, s2_bounds=(-3.0, 3.0), n: int = 9,
                   width: float = 4.0, s2_fixed: float | None = None) -> Hyper:
        """Posterior of (log10 w_rel, log10 sigma2) on an n x n grid of +-``width`` standard deviations about the
        mode (u held fixed), flat prior over the bounds; the integrated evidence sums the grid (rectangle rule)."""
        t0 = math.log10(mode.w / self.w_ref)
        s0 = math.log10(mode.s2)

        def lp(t, s):
            return self.evaluate(t, s, u).log_evidence

        h = 0.02
        f0 = mode.log_evidence
        dtt = (lp(t0 + h, s0) - 2 * f0 + lp(t0 - h, s0)) / h**2
        if s2_fixed is None:  # marginal standard deviations from the full 2 x 2 Hessian
            dss = (lp(t0, s0 + h) - 2 * f0 + lp(t0, s0 - h)) / h**2
            dts = (lp(t0 + h, s0 + h) - lp(t0 + h, s0 - h) - lp(t0 - h, s0 + h) + lp(t0 - h, s0 - h)) / (4 * h * h)
            hess = -np.array([[dtt, dts], [dts, dss]])
            if np.all(np.linalg.eigvalsh(hess) > 1e-8):
                sd_t, sd_s = np.sqrt(np.diag(np.linalg.inv(hess)))
            else:
                sd_t, sd_s = 1.0 / math.sqrt(max(-dtt, 1e-6)), 1.0 / math.sqrt(max(-dss, 1e-6))
            ts = _window(s0, width * sd_s, s2_bounds, n)
        else:
            sd_t = 1.0 / math.sqrt(max(-dtt, 1e-6))
            ts = np.array([s0])
        tw = _window(t0, width * sd_t, log10_bounds, n)
        ev = np.array([[lp(t, s) for s in ts] for t in tw])
        wts = np.exp(ev - ev.max())
        cell = (tw[1] - tw[0]) * ((ts[1] - ts[0]) if ts.size > 1 else 1.0)
        area = (log10_bounds[1] - log10_bounds[0]) * ((s2_bounds[1] - s2_bounds[0]) if ts.size > 1 else 1.0)
        integ = float(ev.max() + math.log(wts.sum() * cell / area))
        wts /= wts.sum()
        lw, ls = np.meshgrid(tw, ts, indexing="ij")
        mt, ms = float(np.sum(wts * lw)), float(np.sum(wts * ls))
        std = (float(np.sqrt(np.sum(wts * (lw - mt) ** 2))), float(np.sqrt(np.sum(wts * (ls - ms) ** 2))))
        inner = [tw[0] > log10_bounds[0], tw[-1] < log10_bounds[1]]
        edge = wts[0, :].sum() * inner[0] + wts[-1, :].sum() * inner[1]
        if ts.size > 1:
            edge += wts[:, 0].sum() * (ts[0] > s2_bounds[0]) + wts[:, -1].sum() * (ts[-1] < s2_bounds[1])
        if edge > 1e-3:
            log.warning("hyperparameter grid: %.2g of the posterior mass on its edge", edge)
        return Hyper(tw, ts, ev, wts, integ, (t0, s0), std)

    def with_null_scale(self, factor: float, state: _State, u: np.ndarray, s2_bounds=(-3.0, 3.0)) -> float:
        """Log evidence with the null-space prior scale tau times ``factor`` (weight and station weights held,
        sigma2 re-maximised): the sensitivity of the comparison to the stated scale."""
        old = self.tau2
        self.tau2 = old * float(factor) ** 2
        try:
            return self._best_s2(self._system(state.w, u), u, self.robust, s2_bounds).log_evidence
        finally:
            self.tau2 = old

    def cv(self, state: _State, u: np.ndarray, folds: np.ndarray, *, n_quad: int = 48) -> np.ndarray:
        """Exact k-fold cross-validated log predictive density of each group at fixed hyperparameters (data
        units: the whitening Jacobian of the group's formal covariance is included). ``folds``: fold of each
        group. The held-out rows are removed from the posterior by a rank update (Woodbury), and each held-out
        group is predicted with the noise model of the fit (Gaussian, or Student-t by Gauss-Laguerre
        quadrature over its scale)."""
        sysm = self._system(state.w, u)
        s2 = state.s2
        rho = s2 / self.tau2
        su = np.sqrt(u[self.groups])
        gt = sp.csr_array(self.G.multiply(su[:, None]))
        mk = None
        if self.k:
            mk = sla.cho_factor(np.linalg.inv(self.S) / rho + sysm.nfn)
        rt = su * (-state.res)  # weighted residual d~ - G~ a
        out = np.empty(self.n_groups)
        if self.robust:
            x, wq = roots_genlaguerre(n_quad, 0.5 * self.nu - 1.0)
            lam = 2.0 * x / self.nu  # Gamma(nu/2, rate nu/2) nodes
            logwq = np.log(wq) - gammaln(0.5 * self.nu)
        rows_of = [np.flatnonzero(self.groups == g) for g in range(self.n_groups)]
        for f in np.unique(folds):
            gs = np.flatnonzero(folds == f)
            rows = np.concatenate([rows_of[g] for g in gs])
            gi = gt[rows].toarray()  # (r, M)
            x_ = sysm.lu.solve(gi.T)  # F^-1 G~_I^T
            if self.k:
                x_ = x_ - sysm.fn @ sla.cho_solve(mk, self.N.T @ x_)
            P = s2 * (gi @ x_)  # G~ H^-1 G~^T with H^-1 = sigma2 H~^-1
            P = 0.5 * (P + P.T)
            cav = s2 * np.eye(len(rows)) - P
            ci = np.linalg.inv(cav)
            e = s2 * (ci @ rt[rows])  # cavity predictive residual (weighted)
            sig = s2 * s2 * ci  # cavity predictive covariance (weighted), noise included
            pos = 0
            for g in gs:
                nr = len(rows_of[g])
                sl = slice(pos, pos + nr)
                pos += nr
                ug = u[g]
                eg = e[sl] / math.sqrt(ug)  # back to whitened units
                cg = (sig[sl, sl] - s2 * np.eye(nr)) / ug  # noise-free predictive covariance (whitened)
                if self.robust:
                    vals = [_gauss_logpdf(eg, cg + (s2 / lv) * np.eye(nr)) for lv in lam]
                    out[g] = float(logsumexp(np.asarray(vals) + logwq))
                else:
                    out[g] = _gauss_logpdf(eg, cg + s2 * np.eye(nr))
        return out - 0.5 * self.group_log_det_e


def _window(centre: float, half: float, bounds, n: int) -> np.ndarray:
    """n uniform nodes over [centre - half, centre + half] cut to the bounds."""
    return np.linspace(max(bounds[0], centre - half), min(bounds[1], centre + half), n)


def _gauss_logpdf(x: np.ndarray, C: np.ndarray) -> float:
    c = sla.cho_factor(C)
    z = sla.cho_solve(c, x)
    return float(-0.5 * (x.size * _LOG2PI + 2.0 * np.sum(np.log(np.diag(c[0]))) + x @ z))


# -------------------------------------------------------------------------------------------- mixture
class MixturePosterior:
    """Posterior mixture over hyperparameter nodes from one generalised eigendecomposition.

    For nodes (w_g, sigma2_g) with weights pi_g and fixed station weights u: A = G^T U G, B = R^T R,
    A V = lambda (A + c B) V (V^T (A + c B) V = I), so sigma2 H_g = V^-T (D_g + rho_g Y S Y^T) V^-1 with
    D_g = diag(lambda + w_g (1 - lambda) / c), Y = V^T N, rho_g = sigma2_g / tau^2 (Woodbury on the K null
    modes). Same interface as :class:`sciml.linear_inverse.LinearGaussianResult` for predictions and draws."""

    def __init__(self, ev: LinearEvidence, u: np.ndarray, w: Sequence[float], s2: Sequence[float],
                 weights: Sequence[float]):
        ur = u[ev.groups]
        A = (ev.G.T @ ev.G.multiply(ur[:, None])).toarray()
        B = ev.B.toarray()
        c = float(np.trace(A) / max(np.trace(B), 1e-300)) or 1.0
        b = np.asarray(ev.G.T @ (ur * ev.d))
        lam, V = sla.eigh(A, A + c * B, overwrite_a=True, overwrite_b=True, check_finite=False)
        del A, B
        self.lam = np.clip(lam, 0.0, 1.0)
        self.V = V
        self.c = c
        self.Y = V.T @ ev.N if ev.k else np.zeros((ev.m, 0))
        self.vb = V.T @ b
        self.S = ev.S
        self.Sinv = np.linalg.inv(ev.S) if ev.k else ev.S
        self.tau2 = ev.tau2
        self.w = np.asarray(w, dtype=float)
        self.s2 = np.asarray(s2, dtype=float)
        self.pi = np.asarray(weights, dtype=float) / np.sum(weights)
        self.dg = [self.lam + (wg / c) * (1.0 - self.lam) for wg in self.w]
        self.mk = []
        self.z = []
        for dg, s2g in zip(self.dg, self.s2):
            if ev.k:
                yd = self.Y / dg[:, None]
                m = sla.cho_factor(self.Sinv * (self.tau2 / s2g) + self.Y.T @ yd)
                z = self.vb / dg - yd @ sla.cho_solve(m, yd.T @ self.vb)
            else:
                m, z = None, self.vb / dg
            self.mk.append(m)
            self.z.append(z)
        self.coef_nodes = np.stack([V @ z for z in self.z], axis=1)  # (M, G)
        self.coef = self.coef_nodes @ self.pi

    @property
    def sigma2(self) -> float:
        return float(self.pi @ self.s2)

    def predict(self, A, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
        """Mixture mean and standard deviation of A @ a (A sparse or dense (n, M))."""
        n = A.shape[0]
        mean = np.empty(n)
        std = np.empty(n)
        ng, k = len(self.w), self.Y.shape[1]
        inv_dg = np.stack([1.0 / dg for dg in self.dg], axis=1)  # (M, G)
        zs = np.stack(self.z, axis=1)  # (M, G)
        yall = np.concatenate([self.Y * inv_dg[:, g:g + 1] for g in range(ng)], axis=1) if k else None
        minv = [sla.cho_solve(m, np.eye(k)) for m in self.mk] if k else []
        for i in range(0, n, chunk):
            W = np.asarray(A[i:i + chunk] @ self.V)  # (r, M)
            mu = W @ zs  # (r, G)
            var = (W * W) @ inv_dg  # (r, G)
            if k:
                wy = (W @ yall).reshape(W.shape[0], ng, k).transpose(1, 0, 2)  # (G, r, K)
                var -= np.sum((wy @ np.stack(minv)) * wy, axis=2).T
            var *= self.s2[None, :]
            m = mu @ self.pi
            mean[i:i + chunk] = m
            std[i:i + chunk] = np.sqrt(np.clip((var + mu * mu) @ self.pi - m * m, 0.0, None))
        return mean, std

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n draws (n, M): a node by its weight, then a ~ N(a_g, sigma2_g V K_g^-1 V^T)."""
        which = rng.choice(len(self.pi), size=n, p=self.pi)
        eps = rng.standard_normal((self.V.shape[0], n))
        xi = np.empty_like(eps)
        for g in np.unique(which):
            cols = which == g
            dg = self.dg[g]
            e = eps[:, cols]
            if self.Y.shape[1]:
                # K_g = D^1/2 (I + F F^T) D^1/2, F = sqrt(rho) D^-1/2 Y S^1/2: (I + F F^T)^-1/2 by a thin SVD of F
                F = math.sqrt(self.s2[g] / self.tau2) * (self.Y / np.sqrt(dg)[:, None]) @ sla.sqrtm(self.S).real
                q, sv, _ = np.linalg.svd(F, full_matrices=False)
                e = e + q @ (((1.0 + sv**2) ** -0.5 - 1.0)[:, None] * (q.T @ e))
            xi[:, cols] = math.sqrt(self.s2[g]) * e / np.sqrt(dg)[:, None]
        return (self.coef_nodes[:, which] + self.V @ xi).T
