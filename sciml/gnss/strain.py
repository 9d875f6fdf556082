"""Horizontal strain rates from GNSS velocities with a physics-informed linear model (PILM).

The east and north velocities ve(x, y), vn(x, y) (mm/yr; x east, y north in km on the local tangent plane)
are each expanded in cubic B-splines, uniform or refined locally where a pilot fit finds high strain
(hierarchical B-splines, :class:`sciml.pilm.bases.HierarchicalBSpline2D`). Data: station velocities with
their 2 x 2 E-N covariance (whitened per station). Regularisation (one weight):

* ``elastic``: plane-stress equilibrium without body force, lap(v) + (1+nu)/(1-nu) grad(div v) = 0;
* ``smoothness``: curvature norm |d2v/dx2|^2 + 2|d2v/dxdy|^2 + |d2v/dy2|^2 of each component (``curvature``,
  default; null space: linear fields) or the Laplacian (``laplacian``; weaker, harmonic null space),

as the area-weighted Gauss quadrature of the squared operator over the basis domain. The Bayesian machinery is
:mod:`sciml.pilm.evidence`: a proper Gaussian prior on the operator's null space (each null mode of unit rms
velocity over the domain has amplitude N(0, tau^2), tau in mm/yr: by default the rms station speed), its
dimension from the spectrum checked against the exact count of polynomial solutions
(:func:`polynomial_null_dim`), Gaussian or Student-t station noise (IRLS, Laplace evidence), hyperparameters
(weight, noise scale) by maximum evidence and integrated on a grid, k-fold cross-validated predictive
densities per station.

Strain rates are exact derivatives of the fitted field: exx = dve/dx, eyy = dvn/dy, exy = (dve/dy + dvn/dx)/2,
rotation = (dvn/dx - dve/dy)/2 (counter-clockwise positive), dilatation = exx + eyy, max shear =
sqrt(((exx-eyy)/2)^2 + exy^2), second invariant = sqrt(exx^2 + eyy^2 + 2 exy^2), principal rates e1 >= e2 =
(exx+eyy)/2 +- max shear, azimuth of e1 (degrees clockwise from north). Output unit: 1e-9 /yr (nanostrain
per year; mm/yr/km = 1000 of them). Standard deviations: the posterior mixture over the hyperparameter grid,
exact for linear quantities, posterior draws otherwise.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
import xarray as xr
from scipy.spatial import cKDTree

from sciml.errors import InputError, bad_value
from sciml.geo import enu_to_lonlat, lonlat_to_enu
from sciml.pilm.bases import HierarchicalBSpline2D
from sciml.pilm.evidence import Hyper, LinearEvidence, MixturePosterior, Spectrum, kfold_groups, prior_spectrum
from sciml.pilm.model import D, LinearModel, Operator

__all__ = ["VelocityFit", "fit_velocity_field", "output_grid", "station_residuals", "strain_fields", "strain_on_grid",
           "regularizer", "regularizer_ops", "polynomial_null_dim", "fit_diagnostics", "strain_at", "project", "grid_points", "station_distance",
           "NANOSTRAIN_PER_MM_YR_KM"]

log = logging.getLogger(__name__)

NANOSTRAIN_PER_MM_YR_KM = 1000.0  # (mm/yr)/km = 1e-6 /yr = 1000 nanostrain/yr
REGULARIZATIONS = ("elastic", "smoothness")
NOISE_MODELS = ("gaussian", "student_t")


@dataclass
class VelocityFit:
    """A fitted 2-D velocity field: model (fields 0 = ve, 1 = vn), posterior mixture, frame origin, domain (km),
    and the comparison results (``summary``: scalar metrics; per-station weights and CV log densities)."""

    model: LinearModel
    posterior: MixturePosterior
    lon0: float
    lat0: float
    domain: tuple[float, float, float, float]
    regularization: str
    n_stations: int
    chi2: float
    station_xy: np.ndarray  # (n, 2) km, the fitted stations
    spectrum: Spectrum | None = None
    summary: dict = field(default_factory=dict)
    station_weight: np.ndarray | None = None  # robust IRLS weight u (1 = full weight)
    station_cv: dict = field(default_factory=dict)  # noise model -> (n,) CV log density per station
    hyper: Hyper | None = None
    scan: dict | None = None  # {"log10_w_rel", "log_evidence"} along the weight scan (Gaussian noise)
    refined_cells: list = field(default_factory=list)  # refinement masks (level-0 cells, ...)
    basis: HierarchicalBSpline2D | None = None


def station_distance(points_km: np.ndarray, station_xy_km: np.ndarray) -> np.ndarray:
    """Distance (km) from each point to the nearest station (k-d tree)."""
    return cKDTree(station_xy_km).query(points_km)[0]


def project(df: pd.DataFrame, lon0: float | None = None, lat0: float | None = None) -> tuple[np.ndarray, float, float]:
    """Station positions (n, 2) in km on the tangent plane at (lon0, lat0) (default: centre of the stations)."""
    if lon0 is None:
        lon0 = 0.5 * (df["lon"].min() + df["lon"].max())
    if lat0 is None:
        lat0 = 0.5 * (df["lat"].min() + df["lat"].max())
    e, n = lonlat_to_enu(df["lon"].to_numpy(), df["lat"].to_numpy(), lon0, lat0)
    return np.column_stack([e, n]) / 1000.0, float(lon0), float(lat0)


def regularizer_ops(kind: str, poisson: float = 0.25, smoothness: str = "curvature") -> list[Operator]:
    """Rows of the regularisation operator on fields 0 = ve, 1 = vn (2 for elastic/laplacian, 6 curvature)."""
    if kind == "elastic":
        k = (1.0 + poisson) / (1.0 - poisson)
        return [(1 + k) * D((2, 0), 0) + D((0, 2), 0) + k * D((1, 1), 1),
                k * D((1, 1), 0) + D((2, 0), 1) + (1 + k) * D((0, 2), 1)]
    if kind == "smoothness" and smoothness == "laplacian":
        return [D((2, 0), f) + D((0, 2), f) for f in (0, 1)]
    if kind == "smoothness" and smoothness == "curvature":
        return [o for f in (0, 1) for o in (D((2, 0), f), np.sqrt(2.0) * D((1, 1), f), D((0, 2), f))]
    raise bad_value("pilm", "regularization", kind, f"(smoothness {smoothness!r}) expected elastic or smoothness "
                    "with laplacian|curvature")


def regularizer(model: LinearModel, kind: str, points: np.ndarray, poisson: float = 0.25,
                smoothness: str = "curvature", weights: np.ndarray | None = None) -> sp.csr_array:
    """Stacked regularisation operator at collocation points, rows scaled by sqrt(quadrature weight)."""
    sw = None if weights is None else sp.diags_array(np.sqrt(np.asarray(weights, dtype=float)))
    mats = [model.matrix(o, points) for o in regularizer_ops(kind, poisson, smoothness)]
    return sp.vstack([m if sw is None else sw @ m for m in mats], format="csr")


def polynomial_null_dim(ops: list[Operator], degree: int = 3, n_fields: int = 2) -> int:
    """Exact dimension of the polynomial null space of a constant-coefficient operator on fields whose
    components are polynomials of bidegree <= ``degree`` (all contained in a tensor B-spline space of that
    degree): 32 - rank of the operator on the monomials x^i y^j (rank of an integer-scaled matrix, by SVD)."""
    nm = (degree + 1) ** 2
    cols = []
    for f in range(n_fields):
        for i in range(degree + 1):
            for j in range(degree + 1):
                col = []
                for op in ops:
                    out = np.zeros(nm)
                    for c, fo, (p, q) in op.terms:
                        if fo != f or p > i or q > j:
                            continue
                        fac = math.perm(i, p) * math.perm(j, q)
                        out[(i - p) * (degree + 1) + (j - q)] += float(np.asarray(c)) * fac
                    col.append(out)
                cols.append(np.concatenate(col))
    M = np.column_stack(cols)
    sv = np.linalg.svd(M, compute_uv=False)
    return int(M.shape[1] - np.sum(sv > 1e-9 * max(sv[0], 1e-300)))


def grid_points(domain, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Regular node grid including the edges of ``domain`` (km): x (nx,), y (ny,)."""
    x0, x1, y0, y1 = domain
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


def _whiten(model: LinearModel, xy: np.ndarray, df: pd.DataFrame) -> tuple[sp.csr_array, np.ndarray, np.ndarray]:
    """Per-station whitened design and data: L^-1 [ve; vn] with C = L L^T the E-N covariance; and the log
    determinant of each station's C ((mm/yr)^4), the whitening Jacobian."""
    Ge, Gn = model.matrix(D((0, 0), 0), xy), model.matrix(D((0, 0), 1), xy)
    se, sn = df["se"].to_numpy(), df["sn"].to_numpy()
    rho = np.clip(df["rho"].to_numpy(), -0.999, 0.999)
    c = np.sqrt(1.0 - rho**2)
    a11, a21, a22 = 1.0 / se, -rho / (se * c), 1.0 / (sn * c)
    G = sp.vstack([sp.diags_array(a11) @ Ge, sp.diags_array(a21) @ Ge + sp.diags_array(a22) @ Gn], format="csr")
    ve, vn = df["ve"].to_numpy(), df["vn"].to_numpy()
    logdet = 2.0 * np.log(se) + 2.0 * np.log(sn) + np.log(1.0 - rho**2)
    return G, np.concatenate([a11 * ve, a21 * ve + a22 * vn]), logdet


def _gauss_cells(basis: HierarchicalBSpline2D, per_axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre points (n, 2) and weights (area, km^2) with ``per_axis`` points per axis in every leaf
    cell of the basis: a quadrature of the whole domain."""
    t, wt = np.polynomial.legendre.leggauss(per_axis)
    t, wt = 0.5 * (t + 1.0), 0.5 * wt
    pts, wts = [], []
    for hx, hy, corners in basis.leaf_cells():
        ox, oy = np.meshgrid(t * hx, t * hy, indexing="ij")
        wxy = np.outer(wt, wt).ravel() * hx * hy
        pts.append((corners[:, None, :] + np.stack([ox.ravel(), oy.ravel()], -1)[None]).reshape(-1, 2))
        wts.append(np.tile(wxy, len(corners)))
    return np.vstack(pts), np.concatenate(wts)


def _null_gram(model: LinearModel, basis: HierarchicalBSpline2D, N: np.ndarray) -> np.ndarray:
    """S = N^T M N with M the mean-square-velocity inner product over the domain, (1/|O|) int ve^2 + vn^2."""
    if N.shape[1] == 0:
        return np.zeros((0, 0))
    q, wq = _gauss_cells(basis, 4)
    area = float(wq.sum())
    out = np.zeros((N.shape[1], N.shape[1]))
    for f in (0, 1):
        V = np.asarray(model.matrix(D((0, 0), f), q) @ N)
        out += (V * wq[:, None]).T @ V / area
    return 0.5 * (out + out.T)


def output_grid(df: pd.DataFrame, margin_km: float = 0.0, spacing_km: float | None = None,
                n: int | None = None, lon0: float | None = None,
                lat0: float | None = None) -> tuple[float, float, tuple[float, float, float, float], int, int]:
    """(lon0, lat0, extent (km), nx, ny) of the common output grid: station box plus margin, given spacing
    or ``n`` nodes along the longer side. Shared by PILM and the gpsgridder baseline."""
    xy, lon0, lat0 = project(df, lon0, lat0)
    lo, hi = xy.min(axis=0) - margin_km, xy.max(axis=0) + margin_km
    if spacing_km is None:
        if not n or n < 2:
            raise InputError(f"pilm: field 'grid' = spacing {spacing_km!r}, n {n!r}: give spacing_km or n >= 2")
        spacing_km = float(max(hi - lo)) / (n - 1)
    nx, ny = (int(np.floor((hi[i] - lo[i]) / spacing_km + 1e-9)) + 1 for i in range(2))
    extent = (float(lo[0]), float(lo[0] + (nx - 1) * spacing_km), float(lo[1]), float(lo[1] + (ny - 1) * spacing_km))
    return lon0, lat0, extent, nx, ny


@dataclass
class _Problem:
    model: LinearModel
    basis: HierarchicalBSpline2D
    G: sp.csr_array
    d: np.ndarray
    groups: np.ndarray
    logdet: np.ndarray
    R: sp.csr_array
    spectrum: Spectrum
    gram: np.ndarray


def _problem(df, xy, domain, n_int, refined, regularization, poisson, smoothness, cpi) -> _Problem:
    basis = HierarchicalBSpline2D(*domain, n_int, refined)
    model = LinearModel([basis, basis])
    G, d, logdet = _whiten(model, xy, df)
    n = len(df)
    groups = np.concatenate([np.arange(n), np.arange(n)])
    cp, cw = _gauss_cells(basis, cpi)
    R = regularizer(model, regularization, cp, poisson, smoothness, weights=cw)
    R = R / np.sqrt((R.multiply(R)).sum() / R.shape[0])  # unit mean squared row: w of order one
    ops = regularizer_ops(regularization, poisson, smoothness)
    spec = prior_spectrum(R, known_null_dim=polynomial_null_dim(ops), name=f"pilm {regularization} operator")
    log.info("pilm %s: %d stations, %d coefficients (%s per level), %d regularisation rows, null dimension %d",
             regularization, n, model.n_coef, [a.size for _, a in basis.levels], R.shape[0], spec.null_dim)
    return _Problem(model, basis, G, d, groups, logdet, R, spec, _null_gram(model, basis, spec.null_basis))


def _strain_invariant(model: LinearModel, coef: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """Second invariant (1e-9/yr) of the strain of the field ``coef`` at points (km)."""
    g = {k: NANOSTRAIN_PER_MM_YR_KM * (model.matrix(D(dv, f), pts) @ coef)
         for k, dv, f in (("dve_dx", (1, 0), 0), ("dve_dy", (0, 1), 0), ("dvn_dx", (1, 0), 1), ("dvn_dy", (0, 1), 1))}
    return strain_fields(g)["second_invariant"]


def _refinement(prob: _Problem, coef: np.ndarray, xy: np.ndarray, levels: int, quantile: float,
                knot_km: float) -> list[np.ndarray]:
    """Cells to refine: level-0 cells within one knot spacing of a station whose pilot second invariant is in
    the top (1 - quantile); region of level l (1..levels) = those cells dilated by (levels - l + 1) cells."""
    x0, x1, y0, y1 = prob.basis.domain
    nx, ny = prob.basis.n_intervals
    hx, hy = (x1 - x0) / nx, (y1 - y0) / ny
    cx, cy = np.meshgrid(x0 + hx * (np.arange(nx) + 0.5), y0 + hy * (np.arange(ny) + 0.5), indexing="ij")
    centres = np.column_stack([cx.ravel(), cy.ravel()])
    near = station_distance(centres, xy) <= knot_km
    inv = _strain_invariant(prob.model, coef, centres)
    thr = np.quantile(inv[near], quantile)
    marked = (near & (inv >= thr)).reshape(nx, ny)
    masks = []
    from scipy.ndimage import binary_dilation

    for level in range(1, levels + 1):
        reg = binary_dilation(marked, iterations=levels - level + 1)
        for _ in range(level - 1):  # express on level-(level-1) cells
            reg = np.repeat(np.repeat(reg, 2, axis=0), 2, axis=1)
        masks.append(reg)
    return masks


def fit_velocity_field(df: pd.DataFrame, regularization: str, *, knot_spacing_km: float = 25.0,
                       margin_km: float = 20.0, collocation_per_interval: int = 4, poisson: float = 0.25,
                       smoothness: str = "curvature", log10_bounds=(-6.0, 6.0), sigma2: float | None = None,
                       lon0: float | None = None, lat0: float | None = None, noise: str = "gaussian",
                       nu: float = 4.0, null_scale_mm_yr: float | None = None, refine_levels: int = 0,
                       refine_quantile: float = 0.8, hyper_nodes: int = 7, cv_folds: int = 10,
                       downweight_below: float = 0.5, seed: int = 0) -> VelocityFit:
    """Fit ve, vn with the chosen regularisation (module doc).

    collocation_per_interval: Gauss-Legendre points per cell and axis for the regulariser (4: the quadrature
    of the squared operator is exact for cubic splines; fewer can create spurious null modes);
    log10_bounds: search range of log10 (w / w_ref), w_ref = tr(G^T G) / tr(R^T R) (unit free); sigma2: fixed
    noise variance factor (None: by evidence); noise: gaussian | student_t (nu dof per station);
    null_scale_mm_yr: tau (None: rms station speed); refine_levels > 0: a pilot fit marks the cells whose strain
    is in the top (1 - refine_quantile) and the basis is refined there by that many dyadic levels;
    hyper_nodes: grid nodes per hyperparameter axis (1 = no integration); cv_folds: k of the k-fold CV (0 = none);
    downweight_below: stations with a robust weight below this are listed as down-weighted."""
    if len(df) < 3:
        raise bad_value("pilm", "stations", len(df), "need at least 3 stations")
    if noise not in NOISE_MODELS:
        raise bad_value("pilm", "noise", noise, f"expected one of {NOISE_MODELS}")
    xy, lon0, lat0 = project(df, lon0, lat0)
    lo, hi = xy.min(axis=0) - margin_km, xy.max(axis=0) + margin_km
    n_int = tuple(int(max(2, np.ceil((hi[i] - lo[i]) / knot_spacing_km))) for i in range(2))
    domain = (float(lo[0]), float(lo[0] + n_int[0] * knot_spacing_km),
              float(lo[1]), float(lo[1] + n_int[1] * knot_spacing_km))
    tau = float(null_scale_mm_yr) if null_scale_mm_yr is not None else         float(np.sqrt(np.mean(df["ve"].to_numpy() ** 2 + df["vn"].to_numpy() ** 2)))
    s2_fixed = None if sigma2 is None else float(sigma2)
    s2_bounds = (-3.0, 3.0)
    bounds = tuple(map(float, log10_bounds))

    def gaussian_fit(prob):
        ev = LinearEvidence(prob.G, prob.d, prob.R, prob.spectrum, null_gram=prob.gram, null_scale=tau,
                            groups=prob.groups, group_log_det_e=prob.logdet)
        st, u, scan = ev.fit(bounds, s2_bounds=s2_bounds, s2_fixed=s2_fixed)
        return ev, st, u, scan

    prob = _problem(df, xy, domain, n_int, [], regularization, poisson, smoothness, collocation_per_interval)
    ev_g, st_g, u_g, scan = gaussian_fit(prob)
    refined: list[np.ndarray] = []
    summary: dict = {}
    if refine_levels > 0:
        summary["log_evidence_unrefined"] = st_g.log_evidence
        refined = _refinement(prob, st_g.coef, xy, int(refine_levels), float(refine_quantile), knot_spacing_km)
        prob = _problem(df, xy, domain, n_int, refined, regularization, poisson, smoothness, collocation_per_interval)
        ev_g, st_g, u_g, scan = gaussian_fit(prob)
    fits = {"gaussian": (ev_g, st_g, u_g)}
    if noise == "student_t":
        ev_t = LinearEvidence(prob.G, prob.d, prob.R, prob.spectrum, null_gram=prob.gram, null_scale=tau,
                              groups=prob.groups, group_log_det_e=prob.logdet, nu=nu)
        t_g = math.log10(st_g.w / ev_g.w_ref)
        st_t, u_t, _ = ev_t.fit(bounds, s2_bounds=s2_bounds, s2_fixed=s2_fixed, start=(t_g, ev_t.ones()))
        fits["student_t"] = (ev_t, st_t, u_t)
    folds = kfold_groups(len(df), int(cv_folds), seed) if cv_folds else None
    station_cv, hypers = {}, {}
    for name, (ev, st, u) in fits.items():
        hy = ev.hyper_grid(st, u, log10_bounds=bounds, s2_bounds=s2_bounds, n=max(1, int(hyper_nodes)),
                           s2_fixed=s2_fixed) if hyper_nodes > 1 else None
        hypers[name] = hy
        sfx = "" if name == noise else f"_{name}"
        summary[f"log_evidence{sfx}"] = st.log_evidence
        summary[f"log_evidence_integrated{sfx}"] = hy.log_evidence_integrated if hy else st.log_evidence
        summary[f"weight{sfx}"] = st.w
        summary[f"sigma2{sfx}"] = st.s2
        if folds is not None:
            station_cv[name] = ev.cv(st, u, folds)
            summary[f"cv_log_density{sfx}"] = float(np.sum(station_cv[name]))
    ev, st, u = fits[noise]
    hy = hypers[noise]
    for fac, key in ((0.1, "tau_div10"), (10.0, "tau_x10")):
        summary[f"log_evidence_{key}"] = ev.with_null_scale(fac, st, u, s2_bounds)
    if hy is not None:
        tw, ts, pw = hy.nodes(0.01)
    else:
        tw, ts, pw = np.array([math.log10(st.w / ev.w_ref)]), np.array([math.log10(st.s2)]), np.array([1.0])
    post = MixturePosterior(ev, u, ev.w_ref * 10.0**tw, 10.0**ts, pw)
    chi2 = float(np.sum(st.res**2))
    summary.update({
        "abic": -2.0 * st.log_evidence + 2.0 * (1 + int(s2_fixed is None)),
        "misfit_chi2": chi2, "chi2_per_datum": chi2 / prob.G.shape[0], "roughness": st.rough,
        "rank_prior": prob.spectrum.rank, "null_dim": prob.spectrum.null_dim,
        "null_dim_known": prob.spectrum.known_null_dim if prob.spectrum.known_null_dim is not None else -1,
        "null_dim_gap": prob.spectrum.gap_null_dim, "spectral_gap_decades": prob.spectrum.gap_decades,
        "null_scale": tau, "n_coefficients": prob.model.n_coef, "n_hyper_nodes": len(pw),
        "log10_weight_std": hy.std[0] if hy else 0.0, "log10_sigma2_std": hy.std[1] if hy else 0.0,
        "n_downweighted": int(np.sum(u < downweight_below)),
    })
    log.info("pilm %s (%s noise): log evidence %.2f (integrated %.2f), CV %.2f, w %.3g, sigma2 %.3g, %d down-weighted",
             regularization, noise, summary["log_evidence"], summary["log_evidence_integrated"],
             summary.get("cv_log_density", float("nan")), st.w, st.s2, summary["n_downweighted"])
    return VelocityFit(prob.model, post, lon0, lat0, domain, regularization, len(df), chi2, xy, prob.spectrum,
                       summary, u, station_cv, hy, {"log10_w_rel": scan["log10_w_rel"],
                                                    "log_evidence": scan["log_evidence"], "w_ref": ev_g.w_ref},
                       refined, prob.basis)


def strain_fields(grad: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """All strain-rate quantities from velocity gradients dve_dx, dve_dy, dvn_dx, dvn_dy (same unit)."""
    exx, eyy = grad["dve_dx"], grad["dvn_dy"]
    exy = 0.5 * (grad["dve_dy"] + grad["dvn_dx"])
    rot = 0.5 * (grad["dvn_dx"] - grad["dve_dy"])
    shear = np.sqrt((0.5 * (exx - eyy)) ** 2 + exy**2)
    mean = 0.5 * (exx + eyy)
    theta = 0.5 * np.arctan2(2.0 * exy, exx - eyy)  # e1 axis, counter-clockwise from east
    return {"exx": exx, "eyy": eyy, "exy": exy, "rotation": rot, "dilatation": exx + eyy, "max_shear": shear,
            "second_invariant": np.sqrt(exx**2 + eyy**2 + 2.0 * exy**2), "e1": mean + shear, "e2": mean - shear,
            "azimuth_e1": np.mod(90.0 - np.degrees(theta), 180.0)}


_META = {
    "exx": ("1e-9 yr-1", "east-east strain rate"), "eyy": ("1e-9 yr-1", "north-north strain rate"),
    "exy": ("1e-9 yr-1", "east-north (tensor) shear strain rate"),
    "rotation": ("1e-9 rad yr-1", "rotation rate, counter-clockwise positive"),
    "dilatation": ("1e-9 yr-1", "areal dilatation rate exx + eyy"),
    "max_shear": ("1e-9 yr-1", "maximum shear strain rate"),
    "second_invariant": ("1e-9 yr-1", "second invariant sqrt(exx^2 + eyy^2 + 2 exy^2)"),
    "e1": ("1e-9 yr-1", "most extensional principal strain rate"),
    "e2": ("1e-9 yr-1", "most compressional principal strain rate"),
    "azimuth_e1": ("degree", "azimuth of the e1 axis, clockwise from north"),
}
LINEAR = ("exx", "eyy", "exy", "rotation", "dilatation")


def strain_at(fit: VelocityFit, pts: np.ndarray, *, n_samples: int = 200, seed: int = 0
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Posterior means and standard deviations of ve, vn (mm/yr) and every strain quantity (1e-9/yr) at
    points (n, 2) in km: linear quantities exactly from the posterior mixture, nonlinear ones from
    ``n_samples`` draws (seeded)."""
    m, post = fit.model, fit.posterior
    ops: dict[str, Operator] = {"ve": D((0, 0), 0), "vn": D((0, 0), 1), "dve_dx": D((1, 0), 0),
                                "dve_dy": D((0, 1), 0), "dvn_dx": D((1, 0), 1), "dvn_dy": D((0, 1), 1)}
    mats = {k: m.matrix(o, pts) for k, o in ops.items()}
    s = NANOSTRAIN_PER_MM_YR_KM
    lin = {"exx": mats["dve_dx"], "eyy": mats["dvn_dy"], "exy": 0.5 * (mats["dve_dy"] + mats["dvn_dx"]),
           "rotation": 0.5 * (mats["dvn_dx"] - mats["dve_dy"]), "dilatation": mats["dve_dx"] + mats["dvn_dy"]}
    mean = strain_fields({k: s * (mats[k] @ post.coef) for k in ("dve_dx", "dve_dy", "dvn_dx", "dvn_dy")})
    std = {k: s * post.predict(A)[1] for k, A in lin.items()}
    rng = np.random.default_rng(seed)
    draws = post.sample(n_samples, rng).T  # (M, n)
    sg = strain_fields({k: s * (mats[k] @ draws) for k in ("dve_dx", "dve_dy", "dvn_dx", "dvn_dy")})
    for k in ("max_shear", "second_invariant", "e1", "e2"):
        std[k] = sg[k].std(axis=1, ddof=1)
    dth = np.angle(np.exp(2j * np.radians(sg["azimuth_e1"] - mean["azimuth_e1"][:, None])))  # wrapped 2*dtheta
    std["azimuth_e1"] = np.degrees(0.5 * np.sqrt(np.mean(dth**2, axis=1)))
    for k in ("ve", "vn"):
        mean[k], std[k] = post.predict(mats[k])
    return mean, std


def strain_on_grid(fit: VelocityFit, nx: int, ny: int, *, n_samples: int = 200, seed: int = 0,
                   extent: tuple[float, float, float, float] | None = None) -> xr.Dataset:
    """Velocities and strain rates (mean, std) on an nx x ny grid over ``extent`` (km; default the domain)."""
    gx, gy = grid_points(extent or fit.domain, nx, ny)
    X, Y = np.meshgrid(gx, gy)
    pts = np.column_stack([X.ravel(), Y.ravel()])
    mean, std = strain_at(fit, pts, n_samples=n_samples, seed=seed)
    vel = {k: (mean[k], std[k]) for k in ("ve", "vn")}
    dist = station_distance(pts, fit.station_xy)
    lon, lat = enu_to_lonlat(X * 1000.0, Y * 1000.0, fit.lon0, fit.lat0)
    shape = (ny, nx)
    ds = xr.Dataset(coords={"x": ("x", gx, {"units": "km", "long_name": "east distance from origin"}),
                            "y": ("y", gy, {"units": "km", "long_name": "north distance from origin"})})
    ds["lon"] = (("y", "x"), lon, {"units": "degrees_east", "long_name": "longitude"})
    ds["lat"] = (("y", "x"), lat, {"units": "degrees_north", "long_name": "latitude"})
    ds["station_distance"] = (("y", "x"), dist.reshape(shape),
                              {"units": "km", "long_name": "distance to the nearest station"})
    for k in ("ve", "vn"):
        name = {"ve": "east", "vn": "north"}[k]
        ds[k] = (("y", "x"), vel[k][0].reshape(shape), {"units": "mm yr-1", "long_name": f"{name} velocity"})
        ds[f"{k}_std"] = (("y", "x"), vel[k][1].reshape(shape),
                          {"units": "mm yr-1", "long_name": f"posterior std of {name} velocity"})
    for k, (u, ln) in _META.items():
        ds[k] = (("y", "x"), mean[k].reshape(shape), {"units": u, "long_name": ln})
        ds[f"{k}_std"] = (("y", "x"), std[k].reshape(shape), {"units": u, "long_name": f"posterior std of {ln}"})
    ds.attrs.update({"regularization": fit.regularization, "lon0": fit.lon0, "lat0": fit.lat0,
                     "n_stations": fit.n_stations, "n_samples": n_samples, "strain_units": "1e-9 yr-1",
                     **{k: float(v) for k, v in fit.summary.items()}})
    return ds.merge(fit_diagnostics(fit))


def fit_diagnostics(fit: VelocityFit) -> xr.Dataset:
    """The evidence scan over the weight, the hyperparameter posterior grid, the smallest eigenvalues of the
    regulariser (so the gap that sets the prior rank can be seen) and the refined cells."""
    ds = xr.Dataset()
    if fit.scan is not None:
        ds = ds.assign_coords(log10_weight=("log10_weight", fit.scan["log10_w_rel"] + math.log10(fit.scan["w_ref"]),
                                            {"units": "1", "long_name": "log10 of the regularisation weight"}))
        ds["abic_profile"] = ("log10_weight", -2.0 * fit.scan["log_evidence"] + 4.0,
                              {"units": "1", "long_name": "ABIC (-2 log evidence + 4, sigma2 maximised, Gaussian "
                                                          "noise) along the weight scan"})
    if fit.spectrum is not None:
        ev = fit.spectrum.eigenvalues
        ds = ds.assign_coords(eigen_index=("eigen_index", np.arange(ev.size),
                                           {"units": "1", "long_name": "index of the smallest eigenvalues"}))
        ds["prior_eigenvalue"] = ("eigen_index", ev, {"units": "1", "long_name": "smallest eigenvalues of R^T R "
                                                      "relative to the largest (Rayleigh-Ritz refined)"})
    if fit.hyper is not None:
        h = fit.hyper
        w_ref = fit.scan["w_ref"] if fit.scan is not None else 1.0
        ds = ds.assign_coords(
            hyper_log10_weight=("hyper_log10_weight", h.log10_w + math.log10(w_ref),
                                {"units": "1", "long_name": "log10 regularisation weight (hyperparameter grid)"}),
            hyper_log10_sigma2=("hyper_log10_sigma2", h.log10_s2,
                                {"units": "1", "long_name": "log10 noise variance factor (hyperparameter grid)"}))
        dims = ("hyper_log10_weight", "hyper_log10_sigma2")
        ds["hyper_log_evidence"] = (dims, h.log_evidence, {"units": "1", "long_name": "log evidence on the grid"})
        ds["hyper_weight"] = (dims, h.weights, {"units": "1", "long_name": "posterior probability of each node"})
    if fit.refined_cells:
        ds["refined_fraction"] = ("refine_level", np.array([float(np.mean(m)) for m in fit.refined_cells]),
                                  {"units": "1", "long_name": "fraction of the cells of each level refined"})
        ds = ds.assign_coords(refine_level=("refine_level", np.arange(1, len(fit.refined_cells) + 1),
                                            {"units": "1", "long_name": "refinement level"}))
    return ds


def station_residuals(fit: VelocityFit, df: pd.DataFrame) -> xr.Dataset:
    """Observed, fitted and residual velocities at the stations (mm/yr)."""
    xy, _, _ = project(df, fit.lon0, fit.lat0)
    out = {}
    for k, f in (("ve", 0), ("vn", 1)):
        mu, sd = fit.posterior.predict(fit.model.matrix(D((0, 0), f), xy))
        out[f"{k}_fit"] = mu
        out[f"{k}_fit_std"] = sd
        out[f"{k}_res"] = df[k].to_numpy() - mu
    ds = xr.Dataset(coords={"station": ("station", df["name"].astype(str).to_numpy(),
                                        {"long_name": "station code", "units": "1"})})
    for k in ("lon", "lat"):
        ds[f"station_{k}"] = ("station", df[k].to_numpy(), {"units": f"degrees_{'east' if k == 'lon' else 'north'}",
                                                            "long_name": f"station {k}"})
    for k, v in out.items():
        comp = "east" if k.startswith("ve") else "north"
        kind = {"fit": "fitted", "fit_std": "posterior std of fitted", "res": "residual (observed - fitted)"}[k[3:]]
        ds[f"station_{k}"] = ("station", v, {"units": "mm yr-1", "long_name": f"{kind} {comp} velocity"})
    if fit.station_weight is not None:
        ds["station_weight"] = ("station", fit.station_weight,
                                {"units": "1", "long_name": "robust station weight u (IRLS; 1 = full weight, "
                                                            "noise variance sigma2 / u)"})
    for name, v in fit.station_cv.items():
        ds[f"station_cv_{name}"] = ("station", v, {"units": "1", "long_name": f"k-fold cross-validated log "
                                                   f"predictive density of the station's velocity ({name} noise; "
                                                   "density in (mm/yr)^-2)"})
    return ds
