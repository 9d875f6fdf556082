"""Horizontal strain rates from GNSS velocities with a physics-informed linear model (PILM).

The east and north velocities ve(x, y), vn(x, y) (mm/yr; x east, y north in km on the local tangent plane)
are each expanded in tensor-product cubic B-splines. Data: station velocities with their 2 x 2 E-N
covariance (whitened per station). Regularisation (one weight, chosen by ABIC):

* ``elastic``: plane-stress equilibrium without body force, lap(v) + (1+nu)/(1-nu) grad(div v) = 0;
* ``smoothness``: curvature norm |d2v/dx2|^2 + 2|d2v/dxdy|^2 + |d2v/dy2|^2 of each component (``curvature``,
  default; null space: linear fields) or the Laplacian (``laplacian``; weaker, harmonic null space),

imposed at collocation points covering the basis domain. Strain rates are exact derivatives of the fitted
field: exx = dve/dx, eyy = dvn/dy, exy = (dve/dy + dvn/dx)/2, rotation = (dvn/dx - dve/dy)/2 (counter-
clockwise positive), dilatation = exx + eyy, max shear = sqrt(((exx-eyy)/2)^2 + exy^2), second invariant
= sqrt(exx^2 + eyy^2 + 2 exy^2), principal rates e1 >= e2 = (exx+eyy)/2 +- max shear, azimuth of e1
(degrees clockwise from north). Output unit: 1e-9 /yr (nanostrain per year; mm/yr/km = 1000 of them).
Standard deviations: exact posterior propagation for the linear quantities, posterior samples for the
others.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import xarray as xr
from scipy.spatial import cKDTree

from sciml.errors import InputError, bad_value
from sciml.geo import enu_to_lonlat, lonlat_to_enu
from sciml.linear_inverse import LinearGaussianResult, fit_abic
from sciml.pilm.bases import BSpline1D, TensorBasis2D
from sciml.pilm.model import D, LinearModel, Operator

__all__ = ["VelocityFit", "fit_velocity_field", "output_grid", "station_residuals", "strain_fields", "strain_on_grid", "regularizer", "project",
           "grid_points", "station_distance", "NANOSTRAIN_PER_MM_YR_KM"]

log = logging.getLogger(__name__)

NANOSTRAIN_PER_MM_YR_KM = 1000.0  # (mm/yr)/km = 1e-6 /yr = 1000 nanostrain/yr
REGULARIZATIONS = ("elastic", "smoothness")


@dataclass
class VelocityFit:
    """A fitted 2-D velocity field: model (fields 0 = ve, 1 = vn), posterior, frame origin, domain (km)."""

    model: LinearModel
    posterior: LinearGaussianResult
    lon0: float
    lat0: float
    domain: tuple[float, float, float, float]
    regularization: str
    n_stations: int
    chi2: float
    station_xy: np.ndarray  # (n, 2) km, the fitted stations


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


def _velocity_model(domain, n_intervals: tuple[int, int]) -> LinearModel:
    x0, x1, y0, y1 = domain
    b = TensorBasis2D(BSpline1D(x0, x1, n_intervals[0], 3), BSpline1D(y0, y1, n_intervals[1], 3))
    return LinearModel([b, b])


def regularizer(model: LinearModel, kind: str, points: np.ndarray, poisson: float = 0.25,
                smoothness: str = "curvature") -> sp.csr_array:
    """Stacked regularisation operator at collocation points (rows per point: 2 for elastic/laplacian, 6 curvature)."""
    if kind == "elastic":
        k = (1.0 + poisson) / (1.0 - poisson)
        ops = [(1 + k) * D((2, 0), 0) + D((0, 2), 0) + k * D((1, 1), 1),
               k * D((1, 1), 0) + D((2, 0), 1) + (1 + k) * D((0, 2), 1)]
    elif kind == "smoothness" and smoothness == "laplacian":
        ops = [D((2, 0), f) + D((0, 2), f) for f in (0, 1)]
    elif kind == "smoothness" and smoothness == "curvature":
        ops = [o for f in (0, 1) for o in (D((2, 0), f), np.sqrt(2.0) * D((1, 1), f), D((0, 2), f))]
    else:
        raise bad_value("pilm", "regularization", kind, f"(smoothness {smoothness!r}) expected elastic or smoothness "
                        "with laplacian|curvature")
    return sp.vstack([model.matrix(o, points) for o in ops], format="csr")


def grid_points(domain, nx: int, ny: int) -> tuple[np.ndarray, np.ndarray]:
    """Regular node grid including the edges of ``domain`` (km): x (nx,), y (ny,)."""
    x0, x1, y0, y1 = domain
    return np.linspace(x0, x1, nx), np.linspace(y0, y1, ny)


def _whiten(model: LinearModel, xy: np.ndarray, df: pd.DataFrame) -> tuple[sp.csr_array, np.ndarray]:
    """Per-station whitened design and data: L^-1 [ve; vn] with C = L L^T the E-N covariance."""
    Ge, Gn = model.matrix(D((0, 0), 0), xy), model.matrix(D((0, 0), 1), xy)
    se, sn = df["se"].to_numpy(), df["sn"].to_numpy()
    rho = np.clip(df["rho"].to_numpy(), -0.999, 0.999)
    c = np.sqrt(1.0 - rho**2)
    a11, a21, a22 = 1.0 / se, -rho / (se * c), 1.0 / (sn * c)
    G = sp.vstack([sp.diags_array(a11) @ Ge, sp.diags_array(a21) @ Ge + sp.diags_array(a22) @ Gn], format="csr")
    ve, vn = df["ve"].to_numpy(), df["vn"].to_numpy()
    return G, np.concatenate([a11 * ve, a21 * ve + a22 * vn])


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


def fit_velocity_field(df: pd.DataFrame, regularization: str, *, knot_spacing_km: float = 25.0,
                       margin_km: float = 20.0, collocation_per_interval: int = 2, poisson: float = 0.25,
                       smoothness: str = "curvature", log10_bounds=(-6, 8), sigma2: float | None = None,
                       lon0: float | None = None, lat0: float | None = None) -> VelocityFit:
    """Fit ve, vn with the chosen regularisation; the weight (and noise scale unless given) by ABIC."""
    if len(df) < 3:
        raise bad_value("pilm", "stations", len(df), "need at least 3 stations")
    xy, lon0, lat0 = project(df, lon0, lat0)
    lo, hi = xy.min(axis=0) - margin_km, xy.max(axis=0) + margin_km
    n_int = tuple(int(max(2, np.ceil((hi[i] - lo[i]) / knot_spacing_km))) for i in range(2))
    domain = (float(lo[0]), float(lo[0] + n_int[0] * knot_spacing_km),
              float(lo[1]), float(lo[1] + n_int[1] * knot_spacing_km))
    model = _velocity_model(domain, n_int)
    G, d = _whiten(model, xy, df)
    cx, cy = grid_points(domain, collocation_per_interval * n_int[0] + 1, collocation_per_interval * n_int[1] + 1)
    cpts = np.column_stack([a.ravel() for a in np.meshgrid(cx, cy)])
    R = regularizer(model, regularization, cpts, poisson, smoothness)
    # unit mean squared row norm: weights comparable between operators (the evidence is scale invariant)
    R = R / np.sqrt((R.multiply(R)).sum() / R.shape[0])
    log.info("pilm %s: %d stations, %d coefficients, %d collocation rows", regularization, len(df),
             model.n_coef, R.shape[0])
    post = fit_abic(G, d, [R], log10_bounds=log10_bounds, sigma2=sigma2)
    return VelocityFit(model, post, lon0, lat0, domain, regularization, len(df), post.misfit, xy)


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


def strain_on_grid(fit: VelocityFit, nx: int, ny: int, *, n_samples: int = 200, seed: int = 0,
                   extent: tuple[float, float, float, float] | None = None) -> xr.Dataset:
    """Velocities and strain rates (mean, std) on an nx x ny grid over ``extent`` (km; default the domain)."""
    gx, gy = grid_points(extent or fit.domain, nx, ny)
    X, Y = np.meshgrid(gx, gy)
    pts = np.column_stack([X.ravel(), Y.ravel()])
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
    vel = {k: post.predict(mats[k]) for k in ("ve", "vn")}
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
                     "weight": float(post.weights[0]), "sigma2": post.sigma2, "log_evidence": post.log_evidence,
                     "abic": post.abic, "misfit_chi2": post.misfit, "roughness": post.roughness,
                     "rank_prior": post.rank_prior, "n_stations": fit.n_stations, "n_coefficients": post.n_params,
                     "n_samples": n_samples, "strain_units": "1e-9 yr-1"})
    if post.search is not None:
        ds = ds.assign_coords(log10_weight=("log10_weight", post.search["log10_weight"],
                                            {"units": "1", "long_name": "log10 of the regularisation weight"}))
        ds["abic_profile"] = ("log10_weight", post.search["abic"],
                              {"units": "1", "long_name": "ABIC along the weight search grid"})
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
    return ds
