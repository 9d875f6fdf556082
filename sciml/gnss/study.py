"""Strain-rate study steps called by the workflow scripts (one function per rule; no Snakemake here).

Config (section ``pilm.gnss`` / ``pilm.strain`` / ``pilm.gpsgridder``; see workflow/schemas/pilm.schema.yaml).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from sciml.gnss.gpsgridder import gridded_strain, run_gpsgridder
from sciml.gnss.ingest import from_dataset, ingest, to_dataset
from sciml.gnss.strain import (_META, fit_velocity_field, output_grid, project, station_residuals, strain_fields,
                               strain_on_grid)
from sciml.gnss.synthetic import screw_dislocation, synthetic_stations

__all__ = ["ingest_step", "strain_step", "gpsgridder_step", "compare_step", "strain_config"]

log = logging.getLogger(__name__)

FAULT_KEYS = ("slip_rate", "locking_depth", "strike")


def _merge(base: Mapping, over: Mapping) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, Mapping) and isinstance(out.get(k), Mapping) else v
    return out


def strain_config(pilm_cfg: Mapping, dataset: str) -> dict:
    """Global ``pilm.strain`` settings with the dataset's ``strain`` overrides merged in (recursively)."""
    return _merge(pilm_cfg["strain"], pilm_cfg["datasets"][dataset].get("strain", {}))


def ingest_step(cfg: Mapping, paths: Sequence[str], seed: int) -> xr.Dataset:
    """Tidy velocity dataset from the configured sources, or the synthetic field when files are absent."""
    sources = list(cfg.get("sources", []))
    if paths and len(paths) == len(sources):
        df, counts = ingest(sources, duplicates=cfg.get("duplicates", "error"), bad_rows=cfg.get("bad_rows", "error"),
                            region=cfg.get("region"), paths=list(paths))
        ds = to_dataset(df, counts, frame=cfg.get("frame", ""))
        ds.attrs["synthetic"] = 0
        return ds
    syn = dict(cfg["synthetic"])
    if sources:
        log.warning("velocity files %s absent: using the synthetic screw-dislocation field", [s["path"] for s in sources])
    df = synthetic_stations(int(syn["n_stations"]), float(syn["half_width_km"]), sigma=float(syn["sigma"]),
                            lon0=float(syn["lon0"]), lat0=float(syn["lat0"]), seed=seed,
                            **{k: float(syn[k]) for k in FAULT_KEYS})
    ds = to_dataset(df, {"stations": len(df)}, frame="synthetic (fault-fixed)")
    ds.attrs.update({"synthetic": 1, "frame_lon0": float(syn["lon0"]), "frame_lat0": float(syn["lat0"]),
                     **{f"fault_{k}": float(syn[k]) for k in FAULT_KEYS}})
    return ds


def _grid(vel: xr.Dataset, df: pd.DataFrame, cfg: Mapping):
    g = cfg["grid"]
    return output_grid(df, float(g.get("margin_km", 0.0)), g.get("spacing_km"), g.get("n"),
                       vel.attrs.get("frame_lon0"), vel.attrs.get("frame_lat0"))


def strain_step(vel: xr.Dataset, cfg: Mapping, regularization: str, seed: int) -> xr.Dataset:
    """PILM fit with one regularisation (weight by ABIC), strain rates on the output grid, station residuals."""
    df = from_dataset(vel)
    lon0, lat0, extent, nx, ny = _grid(vel, df, cfg)
    fit = fit_velocity_field(df, regularization, knot_spacing_km=float(cfg["knot_spacing_km"]),
                             margin_km=float(cfg["margin_km"]),
                             collocation_per_interval=int(cfg["collocation_per_interval"]),
                             poisson=float(cfg["poisson"]), smoothness=cfg.get("smoothness", "curvature"),
                             log10_bounds=tuple(cfg["log10_bounds"]), lon0=lon0, lat0=lat0)
    log.info("%s: weight %.3g sigma2 %.3g log evidence %.2f", regularization, fit.posterior.weights[0],
             fit.posterior.sigma2, fit.posterior.log_evidence)
    ds = strain_on_grid(fit, nx, ny, n_samples=int(cfg["n_samples"]), seed=seed, extent=extent)
    ds = ds.merge(station_residuals(fit, df))
    ds.attrs.update({k: v for k, v in vel.attrs.items() if k.startswith(("fault_", "frame_", "synthetic"))})
    return ds


def gpsgridder_step(vel: xr.Dataset, cfg: Mapping, gcfg: Mapping) -> xr.Dataset:
    """GMT gpsgridder velocities and finite-difference strain rates on the same grid as PILM."""
    df = from_dataset(vel)
    lon0, lat0, extent, nx, ny = _grid(vel, df, cfg)
    xy, _, _ = project(df, lon0, lat0)
    gx, gy = np.linspace(extent[0], extent[1], nx), np.linspace(extent[2], extent[3], ny)
    X, Y = np.meshgrid(gx, gy)
    nodes = np.vstack([np.column_stack([X.ravel(), Y.ravel()]), xy])
    v = run_gpsgridder(xy, df, nodes, poisson=float(gcfg["poisson"]), fudge_km=float(gcfg["fudge_km"]),
                       eigen_percent=float(gcfg["eigen_percent"]))
    ng = nx * ny
    ve, vn = v[:ng, 0].reshape(ny, nx), v[:ng, 1].reshape(ny, nx)
    st = gridded_strain(gx, gy, ve, vn)
    ds = xr.Dataset(coords={"x": ("x", gx, {"units": "km", "long_name": "east distance from origin"}),
                            "y": ("y", gy, {"units": "km", "long_name": "north distance from origin"}),
                            "station": ("station", df["name"].to_numpy().astype(str),
                                        {"units": "1", "long_name": "station code"})})
    ds["ve"] = (("y", "x"), ve, {"units": "mm yr-1", "long_name": "east velocity (gpsgridder)"})
    ds["vn"] = (("y", "x"), vn, {"units": "mm yr-1", "long_name": "north velocity (gpsgridder)"})
    for k, (u, ln) in _META.items():
        ds[k] = (("y", "x"), st[k], {"units": u, "long_name": f"{ln} (gpsgridder, finite differences)"})
    for k, i in (("ve", 0), ("vn", 1)):
        comp = "east" if k == "ve" else "north"
        ds[f"station_{k}_res"] = ("station", df[k].to_numpy() - v[ng:, i],
                                  {"units": "mm yr-1", "long_name": f"residual {comp} velocity (gpsgridder)"})
    ds.attrs.update({"lon0": lon0, "lat0": lat0, "poisson": float(gcfg["poisson"]),
                     "fudge_km": float(gcfg["fudge_km"]), "eigen_percent": float(gcfg["eigen_percent"])})
    return ds


def _roughness(ds: xr.Dataset, inside: np.ndarray) -> float:
    """Mean squared second invariant of the strain rate ((1e-9/yr)^2) over grid nodes near stations."""
    return float(np.nanmean(ds["second_invariant"].values[inside] ** 2))


def compare_step(strains: Mapping[str, xr.Dataset], gps: xr.Dataset | None, vel: xr.Dataset,
                 mask_km: float = np.inf) -> xr.Dataset:
    """Table of evidence, ABIC, misfit and roughness per method; difference maps to gpsgridder; errors vs
    the exact strain for the synthetic field."""
    df = from_dataset(vel)
    sig = np.concatenate([df["se"].to_numpy(), df["sn"].to_numpy()])
    methods = list(strains) + (["gpsgridder"] if gps is not None else [])
    rows: dict[str, list[float]] = {k: [] for k in ("log_evidence", "abic", "weight", "sigma2", "chi2_per_datum",
                                                     "rms_residual", "roughness", "rel_error_max_shear")}
    first = next(iter(strains.values()))
    inside = first["station_distance"].values <= mask_km
    exact = None
    if vel.attrs.get("synthetic", 0):
        X, Y = np.meshgrid(first.x.values, first.y.values)
        g = screw_dislocation(X, Y, **{k: float(vel.attrs[f"fault_{k}"]) for k in FAULT_KEYS})
        exact = strain_fields({k: 1000.0 * v for k, v in g.items() if k.startswith("d")})
    for m in methods:
        ds = strains.get(m, gps)
        res = np.concatenate([ds["station_ve_res"].values, ds["station_vn_res"].values])
        rows["log_evidence"].append(float(ds.attrs.get("log_evidence", np.nan)))
        rows["abic"].append(float(ds.attrs.get("abic", np.nan)))
        rows["weight"].append(float(ds.attrs.get("weight", np.nan)))
        rows["sigma2"].append(float(ds.attrs.get("sigma2", np.nan)))
        rows["chi2_per_datum"].append(float(np.mean((res / sig) ** 2)))
        rows["rms_residual"].append(float(np.sqrt(np.mean(res**2))))
        rows["roughness"].append(_roughness(ds, inside))
        rows["rel_error_max_shear"].append(
            float(np.linalg.norm((ds["max_shear"].values - exact["max_shear"])[inside])
                  / np.linalg.norm(exact["max_shear"][inside])) if exact is not None else np.nan)
    meta = {"log_evidence": ("1", "log marginal likelihood (natural log)"), "abic": ("1", "ABIC"),
            "weight": ("1", "regularisation weight alpha^2 chosen by ABIC"),
            "sigma2": ("1", "noise variance scale factor"),
            "chi2_per_datum": ("1", "mean squared normalised velocity residual"),
            "rms_residual": ("mm yr-1", "rms velocity residual at the stations"),
            "roughness": ("1e-18 yr-2", "mean squared second invariant of strain rate within mask_km of stations"),
            "rel_error_max_shear": ("1", "relative L2 error of max shear vs the exact field within mask_km "
                                         "(synthetic only)")}
    out = xr.Dataset(coords={"method": ("method", np.array(methods), {"units": "1", "long_name": "method"}),
                             "x": first["x"], "y": first["y"]})
    for k, v in rows.items():
        out[k] = ("method", np.array(v), {"units": meta[k][0], "long_name": meta[k][1]})
    ev = {m: strains[m].attrs["log_evidence"] for m in strains}
    best = max(ev, key=ev.get)
    out.attrs["preferred_by_evidence"] = best
    out.attrs["mask_km"] = float(mask_km)
    if len(ev) == 2:
        a, b = list(ev)
        out.attrs["log_bayes_factor"] = float(ev[a] - ev[b])
        out.attrs["log_bayes_factor_pair"] = f"{a} - {b}"
    if gps is not None:
        for m in strains:
            for k in ("dilatation", "max_shear", "second_invariant", "rotation"):
                u = _META[k][0]
                out[f"{k}_{m}_minus_gpsgridder"] = (("y", "x"), strains[m][k].values - gps[k].values,
                                                    {"units": u, "long_name": f"{k}: PILM {m} minus gpsgridder"})
    log.info("comparison: %s; preferred by evidence: %s", {m: rows["log_evidence"][i] for i, m in enumerate(methods)},
             best)
    return out
