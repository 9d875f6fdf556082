"""Positivity-constrained slip inversion with the smoothing weight marginalised (numerics only, float64 NumPy).

Model (Yabuki & Matsu'ura 1992 with a rake window): whitened data d = G a + e, e ~ N(0, sigma2 I) after
:func:`whiten` by the full data covariance C = C_d + C_p; prior p(a | w) ~ exp(-w |R a|^2 / (2 sigma2)) with R a
full-rank smoothing operator; slip coefficients a >= 0 along two rakes (:func:`rake_window`), so the slip rake
stays within the window and the +-100s-of-m oscillating null space of the unconstrained problem cannot appear.

* ABIC (:func:`abic_curve`). With B = R^T R and mu_i the generalised eigenvalues of (G^T G, B),
  ``-2 log p(d | w) = N log(2 pi s(w) / N) + N + sum_i log(1 + mu_i / w)`` (sigma2 profiled, s(w) the minimum of
  |G a - d|^2 + w |R a|^2). ``abic_unconstrained`` uses the Gaussian minimum (exact evidence). ``abic`` uses the
  minimum over a >= 0 (NNLS): exp(-s_+/2 sigma2) is the leading (Laplace-at-the-boundary) term of the
  truncated-Gaussian evidence p(d | w, a >= 0), exact when the unconstrained posterior mass lies inside the
  orthant; the prior's orthant mass does not depend on w (zero-mean Gaussian) and cancels in the choice of w.
  ABIC = -2 log p + 4 (w and sigma2 estimated). The weight posterior on the grid is p(log w | d) ~ exp(-ABIC / 2)
  with a flat prior on log10 w over the search range.
* Posterior (:func:`sample_posterior`): a mixture over the grid weights, each component the Gaussian posterior
  N(m_w, sigma2_w H_w^-1) truncated to a >= 0, drawn by exact Hamiltonian Monte Carlo for truncated Gaussians
  (Pakman & Paninski 2014: piecewise-analytic trajectories, reflections at the walls; no tuning), component
  sizes proportional to p(log w | d): so the uncertainties include the hyperparameter.
* Model-prediction covariance (:func:`prediction_covariance`, Duputel et al. 2014): C_p = sum_k sigma_k^2
  (K_k a)(K_k a)^T + diag((eps G a)^2) with K_k = dG / d theta_k the sensitivity of the Green's functions to an
  uncertain model parameter (interface depth, dip, Poisson ratio), evaluated at the current slip estimate, plus an
  uncorrelated relative error eps of the prediction (unmodelled layering and curvature).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
from scipy.optimize import minimize_scalar, nnls

LOG2PI = math.log(2.0 * math.pi)


def rake_window(rake_center: float, half_width: float) -> np.ndarray:
    """(2, 2) map from the two non-negative coefficients (along rake_center -+ half_width, deg) to (strike slip,
    dip slip); 0 < half_width < 90."""
    if not 0.0 < half_width < 90.0:
        raise ValueError(f"slip: rake half width must be in (0, 90) deg, got {half_width}")
    r = np.radians([rake_center - half_width, rake_center + half_width])
    return np.array([np.cos(r), np.sin(r)])


def coefficient_design(G: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Green's functions (n, 3, P, 2) (strike, dip slip) -> design matrix (3 n, 2 P) in window coefficients: rows
    station-major east/north/up, columns the P first-rake then the P second-rake coefficients."""
    n, _, p, _ = G.shape
    Gc = np.einsum("nkpm,mj->nkpj", G, T)
    return np.concatenate([Gc[..., 0].reshape(3 * n, p), Gc[..., 1].reshape(3 * n, p)], 1)


def coefficients_to_slip(a: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Window coefficients (..., 2 P) -> (strike slip, dip slip), each (..., P)."""
    p = a.shape[-1] // 2
    a1, a2 = a[..., :p], a[..., p:]
    return T[0, 0] * a1 + T[0, 1] * a2, T[1, 0] * a1 + T[1, 1] * a2


def smoothing_operator(lap: np.ndarray, T: np.ndarray) -> np.ndarray:
    """(2 P, 2 P) operator R with |R a|^2 = |L ss|^2 + |L ds|^2 (the Laplacian of the slip components)."""
    return np.block([[lap * T[0, 0], lap * T[0, 1]], [lap * T[1, 0], lap * T[1, 1]]])


def whiten(C: np.ndarray) -> tuple[np.ndarray, float]:
    """(W, log|C|) with W = chol(C)^-1, so W C W^T = I (C symmetric positive definite, (N, N) or (N,) diagonal)."""
    C = np.asarray(C, float)
    if C.ndim == 1:
        return np.diag(1.0 / np.sqrt(C)), float(np.sum(np.log(C)))
    L = sla.cholesky(C, lower=True)
    W = sla.solve_triangular(L, np.eye(C.shape[0]), lower=True)
    return W, float(2.0 * np.sum(np.log(np.diag(L))))


@dataclass
class SlipProblem:
    """Whitened slip problem: ``G`` (N, M), ``d`` (N,), smoothing ``R`` (M, M, full rank), ``log_det_c`` of the data
    covariance (so that evidences of different covariances compare)."""

    G: np.ndarray
    d: np.ndarray
    R: np.ndarray
    log_det_c: float = 0.0
    _eig: tuple | None = field(default=None, repr=False)

    @property
    def n(self) -> int:
        return self.G.shape[0]

    @property
    def m(self) -> int:
        return self.G.shape[1]

    def eig(self) -> tuple[np.ndarray, np.ndarray]:
        """Generalised eigenpairs (mu, V) of G^T G V = B V diag(mu), V^T B V = I (B = R^T R)."""
        if self._eig is None:
            A, B = self.G.T @ self.G, self.R.T @ self.R
            mu, V = sla.eigh(A, B)
            self._eig = (np.clip(mu, 0.0, None), V)
        return self._eig

    def gaussian(self, w: float) -> tuple[np.ndarray, np.ndarray]:
        """Unconstrained posterior mean and H^-1 (to be scaled by sigma2) at weight w."""
        mu, V = self.eig()
        Vs = V / (mu + w)
        mean = Vs @ (V.T @ (self.G.T @ self.d))
        return mean, Vs @ V.T

    def nnls(self, w: float) -> np.ndarray:
        """argmin over a >= 0 of |G a - d|^2 + w |R a|^2 (Lawson-Hanson, scipy)."""
        A = np.vstack([self.G, math.sqrt(w) * self.R])
        b = np.concatenate([self.d, np.zeros(self.R.shape[0])])
        a, _ = nnls(A, b, maxiter=50 * self.m)
        return a

    def objective(self, a: np.ndarray, w: float) -> float:
        r = self.G @ a - self.d
        q = self.R @ a
        return float(r @ r + w * (q @ q))

    def neg2_log_evidence(self, s: float, w: float) -> float:
        """-2 log p(d | w, sigma2 = s / N) for the minimum s of the objective (see module doc)."""
        mu, _ = self.eig()
        return float(self.n * (LOG2PI + math.log(s / self.n)) + self.n + self.log_det_c
                     + np.sum(np.log1p(mu / w)))


@dataclass
class AbicCurve:
    """ABIC along log10 w: constrained (``abic``) and Gaussian (``abic_unconstrained``), the optimum of the
    constrained one refined by Brent, whether it is interior, and the weight posterior on the grid."""

    log10_w: np.ndarray
    abic: np.ndarray
    abic_unconstrained: np.ndarray
    best_log10_w: float
    best_abic: float
    best_log10_w_unconstrained: float
    interior: bool
    posterior: np.ndarray  # p(log10 w | d) on the grid (sums to 1)


def abic_curve(prob: SlipProblem, log10_bounds: tuple[float, float], n_grid: int) -> AbicCurve:
    """ABIC (constrained and unconstrained) on ``n_grid`` log10 weights within the bounds, Brent refinement of the
    constrained minimum; ``interior`` is False when that minimum is within one grid step of a bound."""
    lo, hi = map(float, log10_bounds)
    grid = np.linspace(lo, hi, n_grid)

    def abic_c(t: float) -> float:
        w = 10.0 ** t
        return prob.neg2_log_evidence(prob.objective(prob.nnls(w), w), w) + 4.0

    def abic_u(t: float) -> float:
        w = 10.0 ** t
        return prob.neg2_log_evidence(prob.objective(prob.gaussian(w)[0], w), w) + 4.0

    vc = np.array([abic_c(t) for t in grid])
    vu = np.array([abic_u(t) for t in grid])
    i = int(np.argmin(vc))
    step = grid[1] - grid[0]
    best, fbest = float(grid[i]), float(vc[i])
    if 0 < i < n_grid - 1:
        opt = minimize_scalar(abic_c, bounds=(grid[i] - step, grid[i] + step), method="bounded",
                              options={"xatol": 1e-3})
        if opt.fun < fbest:
            best, fbest = float(opt.x), float(opt.fun)
    post = np.exp(-0.5 * (vc - vc.min()))
    return AbicCurve(log10_w=grid, abic=vc, abic_unconstrained=vu, best_log10_w=best, best_abic=fbest,
                     best_log10_w_unconstrained=float(grid[int(np.argmin(vu))]), interior=0 < i < n_grid - 1,
                     posterior=post / post.sum())


# --------------------------------------------------------------------------------- truncated-Gaussian sampling
def sample_truncated_gaussian(mean: np.ndarray, cov: np.ndarray, n: int, rng: np.random.Generator, *,
                              start: np.ndarray | None = None, chains: int = 32, burn: int = 5,
                              t_max: float = math.pi / 2, max_bounces: int = 1_000_000) -> tuple[np.ndarray, float]:
    """n draws of N(mean, cov) truncated to x >= 0 by exact HMC (Pakman & Paninski 2014); returns (draws (n, M),
    mean wall bounces per trajectory). ``chains`` run side by side (vectorised), each from ``start`` (feasible;
    default max(mean, 0)), discarding ``burn`` trajectories, then keeping ceil(n / chains) each.

    With x = mean + L z (L L^T = cov) the dynamics z(t) = z cos t + v sin t are exact; each trajectory of length
    ``t_max`` reflects the velocity at every wall x_i = 0 it meets. Tracked directly in x: the offset y = L z and
    the velocity image u = L v rotate together, and a reflection at wall j subtracts 2 (u_j / cov_jj) cov[j] from
    u, so a bounce costs O(M) (no matrix product)."""
    m = mean.size
    cov = 0.5 * (cov + cov.T)
    L = np.linalg.cholesky(cov + 1e-13 * np.trace(cov) / m * np.eye(m))
    x0 = np.maximum(mean, 0.0) if start is None else np.asarray(start, float)
    k = max(1, min(chains, n))
    per = -(-n // k)
    y = np.tile(np.maximum(x0, 1e-6 * np.sqrt(np.diag(cov))) - mean, (k, 1))  # strictly inside
    g = mean[None, :]
    cdiag = np.diag(cov)
    rows = np.arange(k)
    two_pi = 2.0 * np.pi
    out = np.empty((per, k, m))
    bounces = 0
    for it in range(burn + per):
        u = rng.standard_normal((k, m)) @ L.T
        t_left = np.full(k, t_max)
        last = np.full(k, -1)
        active = np.ones(k, bool)
        for _ in range(max_bounces):
            # wall i: x_i(t) = y_i cos t + u_i sin t + g_i = r_i cos(t - phi_i) + g_i; only walls with r > |g| are met
            r = np.hypot(y, u)
            reach = r > np.abs(g)
            ci, wi = np.nonzero(reach)
            th_all = np.full((k, m), np.inf)
            rr = r[ci, wi]
            ang = np.arccos(np.clip(-g[0, wi] / rr, -1.0, 1.0))
            phi = np.arctan2(u[ci, wi], y[ci, wi])
            t1 = np.mod(phi - ang, two_pi)
            t2 = np.mod(phi + ang, two_pi)
            t1[t1 < 1e-10] = np.inf
            t2[t2 < 1e-10] = np.inf
            th_all[ci, wi] = np.minimum(t1, t2)
            back = (last >= 0) & (th_all[rows, np.maximum(last, 0)] < 1e-8)
            th_all[rows[back], last[back]] = np.inf  # the wall just left behind
            j = np.argmin(th_all, 1)
            th = th_all[rows, j]
            done = th >= t_left
            tau = np.where(active, np.where(done, t_left, th), 0.0)
            c, s = np.cos(tau)[:, None], np.sin(tau)[:, None]
            y, u = y * c + u * s, u * c - y * s
            hit = active & ~done
            jh = j[hit]
            u[hit] -= (2.0 * u[hit, jh] / cdiag[jh])[:, None] * cov[jh]
            t_left = t_left - tau
            last[hit] = jh
            bounces += int(hit.sum())
            active &= ~done
            if not active.any():
                break
        else:
            raise RuntimeError(f"truncated-Gaussian HMC: more than {max_bounces} wall bounces in one trajectory")
        if it >= burn:
            out[it - burn] = mean + y
    draws = out.reshape(-1, m)[:n]
    return np.maximum(draws, 0.0), bounces / (k * (burn + per))  # clip round-off (~1e-12 sd) below the walls


@dataclass
class SlipPosterior:
    """Posterior summary: ``map`` (NNLS at the ABIC optimum), ``samples`` (S, M) of the weight mixture,
    ``sample_log10_w`` (S,) the weight of each draw, ``sigma2`` at the optimum."""

    map: np.ndarray
    samples: np.ndarray
    sample_log10_w: np.ndarray
    sigma2: float


def sample_posterior(prob: SlipProblem, curve: AbicCurve, n: int, rng: np.random.Generator, *,
                     min_mass: float = 1e-3, chains: int = 32, burn: int = 5) -> SlipPosterior:
    """Draws of the positivity-constrained posterior with log w marginalised over the grid of ``curve``: for each
    grid weight with p(log w | d) >= min_mass (renormalised), round(n p) draws of the truncated Gaussian at that
    weight (sigma2 profiled there from the constrained minimum). The MAP is the NNLS solution at the optimum."""
    keep = curve.posterior >= min_mass
    p = curve.posterior * keep
    p = p / p.sum()
    counts = np.floor(n * p).astype(int)
    counts[np.argmax(p)] += n - counts.sum()
    samples, lw = [], []
    for t, k in zip(curve.log10_w, counts):
        if k == 0:
            continue
        w = 10.0 ** t
        a_plus = prob.nnls(w)
        s2 = prob.objective(a_plus, w) / prob.n
        mean, hinv = prob.gaussian(w)
        draws, _ = sample_truncated_gaussian(mean, s2 * hinv, int(k), rng, start=a_plus, chains=chains, burn=burn)
        samples.append(draws)
        lw.append(np.full(int(k), t))
    w_best = 10.0 ** curve.best_log10_w
    a_map = prob.nnls(w_best)
    return SlipPosterior(map=a_map, samples=np.concatenate(samples), sample_log10_w=np.concatenate(lw),
                         sigma2=prob.objective(a_map, w_best) / prob.n)


# ----------------------------------------------------------------------------------- model-prediction covariance
def prediction_covariance(design: np.ndarray, sensitivities: list[tuple[np.ndarray, float]], a: np.ndarray, *,
                          relative: float = 0.0) -> np.ndarray:
    """Duputel et al. (2014) C_p (N, N) at slip coefficients a: sum_k sigma_k^2 (K_k a)(K_k a)^T for each
    (K_k = d design / d theta_k (N, M), sigma_k), plus diag((relative * design a)^2)."""
    pred = design @ a
    Cp = np.diag((relative * pred) ** 2)
    for K, s in sensitivities:
        k = K @ a
        Cp += (s * s) * np.outer(k, k)
    return Cp


@dataclass
class PositiveSlipInversion:
    """Result of :func:`invert_positive`: the final whitened problem, its ABIC curve, the posterior (None when no
    draws were asked for), the data covariance C = C_d + C_p (N, N) and the MAP prediction (N,)."""

    prob: SlipProblem
    curve: AbicCurve
    post: SlipPosterior | None
    cov: np.ndarray
    map: np.ndarray


def invert_positive(design: np.ndarray, d: np.ndarray, data_var: np.ndarray, R: np.ndarray, *,
                    sensitivities: list[tuple[np.ndarray, float]] = (), relative: float = 0.0,
                    cp_iterations: int = 2, log10_bounds: tuple[float, float] = (-6.0, 6.0), n_grid: int = 25,
                    n_samples: int = 0, rng: np.random.Generator | None = None, chains: int = 32, burn: int = 5,
                    min_mass: float = 1e-3) -> PositiveSlipInversion:
    """Rake-window slip a >= 0 from raw data d (N,) with variances ``data_var`` (N,): ABIC choice of the smoothing
    weight with NNLS (:func:`abic_curve`), then ``cp_iterations`` updates of the model-prediction covariance at
    the current MAP (:func:`prediction_covariance`; Duputel et al. 2014 iterate the same way), and the
    weight-marginalised truncated-Gaussian posterior (``n_samples`` draws, :func:`sample_posterior`)."""
    C = np.diag(np.asarray(data_var, float))
    a = None
    iterations = cp_iterations if (len(sensitivities) or relative > 0) else 0
    for it in range(iterations + 1):
        if it > 0:
            C = np.diag(np.asarray(data_var, float)) + prediction_covariance(design, list(sensitivities), a,
                                                                             relative=relative)
        W, log_det = whiten(C)
        prob = SlipProblem(W @ design, W @ d, R, log_det)
        curve = abic_curve(prob, log10_bounds, n_grid)
        a = prob.nnls(10.0 ** curve.best_log10_w)
    post = None
    if n_samples > 0:
        post = sample_posterior(prob, curve, n_samples, rng if rng is not None else np.random.default_rng(0),
                                min_mass=min_mass, chains=chains, burn=burn)
    return PositiveSlipInversion(prob=prob, curve=curve, post=post, cov=C, map=a)


def gaussian_coverage(G: np.ndarray, sigma: np.ndarray, R: np.ndarray, log10_w: float, n_draws: int,
                      rng: np.random.Generator, *, log10_bounds: tuple[float, float]) -> np.ndarray:
    """Calibration of the Gaussian (unconstrained) slip posterior on truths drawn from its own prior.

    Truths s ~ N(0, (w R^T R)^-1) at w = 10**log10_w (R square, full rank), data G s + sigma e, the weight
    re-chosen by ABIC for every draw (:func:`sciml.linear_inverse.fit_abic`, sigma2 profiled). Returns (n_draws, 2):
    the fraction of components within 1 and 2 posterior sd of the truth (0.683 and 0.954 when calibrated)."""
    from sciml.linear_inverse import fit_abic

    out = np.empty((n_draws, 2))
    Rw = math.sqrt(10.0 ** log10_w) * R
    for i in range(n_draws):
        s = np.linalg.solve(Rw, rng.standard_normal(R.shape[0]))
        d = G @ s + sigma * rng.standard_normal(G.shape[0])
        res = fit_abic(G, d, [R], data_sigma=sigma, log10_bounds=log10_bounds)
        z = np.abs(res.coef - s) / res.std
        out[i] = (z <= 1.0).mean(), (z <= 2.0).mean()
    return out
