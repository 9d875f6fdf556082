"""PILM study steps: 1-D physics-informed linear models, GNSS ingestion, strain rates (elastic vs smoothness
regularisation, weight and noise scale by ABIC), the GMT gpsgridder baseline, their comparison and figures.

Config: section ``pilm`` (``workflow/schemas/pilm.schema.yaml``). The science lives in :mod:`sciml.pilm`
(bases, linear model, 1-D examples) and :mod:`sciml.gnss` (readers, velocity-field fit, strain rates,
gpsgridder). The plain functions below (:func:`ingest_velocities`, :func:`fit_strain`,
:func:`gpsgridder_strain`, :func:`compare`) are what the steps call; tests call them directly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from sciml.config import merge
from sciml.errors import bad_value
from sciml.gnss.gpsgridder import gridded_strain, run_gpsgridder
from sciml.gnss.ingest import from_dataset, ingest, to_dataset
from sciml.gnss.strain import (
    _META,
    fit_velocity_field,
    output_grid,
    project,
    station_residuals,
    strain_at,
    strain_fields,
    strain_on_grid,
)
from sciml.gnss.synthetic import screw_dislocation, synthetic_stations
from sciml.geo import lonlat_to_enu
from sciml.gnss.strain2d import lonlat_grid, strain2d_dataset
from sciml.io.cf import local_grid_mapping
from sciml.io.netcdf import add_metrics, metrics_of, read_dataset
from sciml.studies.registry import Outputs, step

log = logging.getLogger(__name__)

FAULT_KEYS = ("slip_rate", "locking_depth", "strike")
VELOCITY_VARS = ("lon", "lat", "ve", "vn", "se", "sn", "rho")
# an upstream velocities.nc is converted to these units (or stops naming file and variable); all finite
VELOCITY_UNITS = {"lon": "degrees_east", "lat": "degrees_north", "ve": "mm yr-1", "vn": "mm yr-1", "se": "mm yr-1",
                  "sn": "mm yr-1", "rho": "1"}
# scalar results of a strain fit (fit summary -> metric): name -> (units, long name); a key with a noise-model
# suffix (e.g. log_evidence_gaussian beside a student_t fit) takes the long name of its stem
FIT_METRICS = {
    "weight": ("1", "regularisation weight w (type-II maximum of the evidence)"),
    "sigma2": ("1", "noise variance scale factor"),
    "log_evidence": ("1", "log marginal likelihood (natural log; proper null-space prior; data in mm/yr)"),
    "log_evidence_integrated": ("1", "log evidence integrated over the weight and noise scale (flat in log10)"),
    "log_evidence_unrefined": ("1", "log evidence of the pilot fit on the unrefined basis"),
    "log_evidence_tau_div10": ("1", "log evidence with the null-space prior scale tau / 10"),
    "log_evidence_tau_x10": ("1", "log evidence with the null-space prior scale tau * 10"),
    "cv_log_density": ("1", "k-fold cross-validated log predictive density, sum over stations"),
    "abic": ("1", "ABIC = -2 log evidence + 2 (number of hyperparameters)"),
    "misfit_chi2": ("1", "weighted misfit (chi-square) of the fit"),
    "chi2_per_datum": ("1", "weighted misfit per velocity component"),
    "roughness": ("1", "regularisation norm |R a|^2 of the fit"),
    "rank_prior": ("1", "rank of the regularisation operator (prior rank)"),
    "null_dim": ("1", "null-space dimension of the regulariser used"),
    "null_dim_known": ("1", "exact null-space dimension of the operator (polynomial solutions)"),
    "null_dim_gap": ("1", "null-space dimension from the largest spectral gap"),
    "spectral_gap_decades": ("1", "size of that gap (decades of eigenvalue)"),
    "null_scale": ("mm yr-1", "prior amplitude tau of each unit-rms null-space mode"),
    "n_coefficients": ("1", "number of B-spline coefficients"),
    "n_hyper_nodes": ("1", "hyperparameter nodes in the posterior mixture"),
    "log10_weight_std": ("1", "posterior std of log10 weight"),
    "log10_sigma2_std": ("1", "posterior std of log10 sigma2"),
    "n_downweighted": ("1", "stations with robust weight below strain.downweight_below"),
}


def _metric_meta(key: str) -> tuple[str, str]:
    """(units, long name) of a fit-summary key, noise-model suffixes included."""
    for noise in ("gaussian", "student_t"):
        if key.endswith(f"_{noise}") and key[: -len(noise) - 1] in FIT_METRICS:
            u, ln = FIT_METRICS[key[: -len(noise) - 1]]
            return u, f"{ln} ({noise} noise)"
    return FIT_METRICS.get(key, ("1", key.replace("_", " ")))


def strain_config(pilm_cfg: Mapping, dataset: str) -> dict:
    """Global ``pilm.strain`` settings with the dataset's ``strain`` overrides merged in (recursively)."""
    return merge(pilm_cfg["strain"], pilm_cfg["datasets"][dataset]["strain"])


# ----------------------------------------------------------------------------------------------- functions
def ingest_velocities(cfg: Mapping, paths: Sequence[str], seed: int) -> xr.Dataset:
    """Tidy velocity dataset from the configured sources (one path each), or the synthetic field when the
    config says so explicitly (``sources: []``; the workflow sets it for an absent default file under
    ``synthetic_fallback``). Recorded as ``data_source`` = ``files`` | ``synthetic``."""
    sources = list(cfg["sources"])
    if len(paths) != len(sources):
        raise bad_value("config pilm.datasets.<dataset>", "sources", [s["path"] for s in sources],
                        f"{len(sources)} velocity file(s) configured but {len(paths)} given ({list(paths)}); give "
                        "one path per source (--input sources=PATH) or set sources: [] for the synthetic field")
    if sources:
        df, counts = ingest(sources, duplicates=cfg["duplicates"], bad_rows=cfg["bad_rows"], region=cfg["region"],
                            paths=list(paths))
        ds = to_dataset(df, counts, frame=cfg["frame"])
        ds.attrs.update(synthetic=0, data_source="files")
        return ds
    syn = dict(cfg["synthetic"])
    log.warning("no velocity files configured (sources: []): the synthetic screw-dislocation field "
                "(data_source = synthetic)")
    df = synthetic_stations(int(syn["n_stations"]), float(syn["half_width_km"]), sigma=float(syn["sigma"]),
                            lon0=float(syn["lon0"]), lat0=float(syn["lat0"]), seed=seed,
                            **{k: float(syn[k]) for k in FAULT_KEYS})
    ds = to_dataset(df, {"stations": len(df)}, frame="synthetic (fault-fixed)")
    ds.attrs.update({"synthetic": 1, "data_source": "synthetic", "frame_lon0": float(syn["lon0"]),
                     "frame_lat0": float(syn["lat0"]),
                     **{f"fault_{k}": float(syn[k]) for k in FAULT_KEYS}})
    return ds


def _grid(vel: xr.Dataset, df: pd.DataFrame, cfg: Mapping):
    g = cfg["grid"]
    return output_grid(df, float(g["margin_km"]), g["spacing_km"], g["n"], vel.attrs.get("frame_lon0"),
                       vel.attrs.get("frame_lat0"))


def fit_strain(vel: xr.Dataset, cfg: Mapping, regularization: str, seed: int) -> xr.Dataset:
    """PILM fit with one regularisation (weight by ABIC), strain rates on the output grid, station residuals."""
    return fit_strain_outputs(vel, cfg, regularization, seed)[0]


def strain2d_grid(fit, df: pd.DataFrame, n: int, n_samples: int, seed: int) -> xr.Dataset:
    """The fit on a regular lon/lat grid over the station box (``n`` nodes along the longer side) in
    Strain_2D's output format (:mod:`sciml.gnss.strain2d`), so PILM grids sit beside Strain_2D's methods."""
    lon, lat = lonlat_grid(df["lon"].to_numpy(), df["lat"].to_numpy(), n)
    LON, LAT = np.meshgrid(lon, lat)
    e, nn = lonlat_to_enu(LON.ravel(), LAT.ravel(), fit.lon0, fit.lat0)
    mean, std = strain_at(fit, np.column_stack([e, nn]) / 1000.0, n_samples=n_samples, seed=seed)
    return strain2d_dataset(lon, lat, mean, std, method=f"pilm_{fit.regularization}")


def fit_strain_outputs(vel: xr.Dataset, cfg: Mapping, regularization: str, seed: int,
                       strain2d_n: int | None = None) -> tuple[xr.Dataset, xr.Dataset | None]:
    """:func:`fit_strain`, and with ``strain2d_n`` also the Strain_2D-format lon/lat grid (else None)."""
    df = from_dataset(vel)
    lon0, lat0, extent, nx, ny = _grid(vel, df, cfg)
    fit = fit_velocity_field(df, regularization, knot_spacing_km=float(cfg["knot_spacing_km"]),
                             margin_km=float(cfg["margin_km"]),
                             collocation_per_interval=int(cfg["collocation_per_interval"]),
                             poisson=float(cfg["poisson"]), smoothness=cfg["smoothness"],
                             log10_bounds=tuple(cfg["log10_bounds"]), lon0=lon0, lat0=lat0,
                             noise=cfg["noise"], nu=float(cfg["nu"]), null_scale_mm_yr=cfg["null_scale_mm_yr"],
                             refine_levels=int(cfg["refine_levels"]), refine_quantile=float(cfg["refine_quantile"]),
                             hyper_nodes=int(cfg["hyper_nodes"]), cv_folds=int(cfg["cv_folds"]),
                             downweight_below=float(cfg["downweight_below"]), seed=seed)
    ds = strain_on_grid(fit, nx, ny, n_samples=int(cfg["n_samples"]), seed=seed, extent=extent)
    ds = local_grid_mapping(ds.merge(station_residuals(fit, df)), fit.lon0, fit.lat0)
    add_metrics(ds, {k: (float(ds.attrs.pop(k)), *_metric_meta(k)) for k in fit.summary})
    ds.attrs.update(noise=cfg["noise"], downweight_below=float(cfg["downweight_below"]))
    grid2d = strain2d_grid(fit, df, int(strain2d_n), int(cfg["n_samples"]), seed) if strain2d_n else None
    ds.attrs.update({k: v for k, v in vel.attrs.items()
                     if k.startswith(("fault_", "frame_", "synthetic", "data_source"))})
    return ds, grid2d


def _baseline_strain(vel: xr.Dataset, cfg: Mapping, name: str, predict) -> xr.Dataset:
    """A baseline's velocities on the PILM output grid and at the stations (``predict(xy_km, df, nodes_km)`` ->
    (n, 2) mm/yr), finite-difference strain rates and station residuals."""
    df = from_dataset(vel)
    lon0, lat0, extent, nx, ny = _grid(vel, df, cfg)
    xy, _, _ = project(df, lon0, lat0)
    gx, gy = np.linspace(extent[0], extent[1], nx), np.linspace(extent[2], extent[3], ny)
    X, Y = np.meshgrid(gx, gy)
    v = predict(xy, df, np.vstack([np.column_stack([X.ravel(), Y.ravel()]), xy]))
    ng = nx * ny
    ve, vn = v[:ng, 0].reshape(ny, nx), v[:ng, 1].reshape(ny, nx)
    st = gridded_strain(gx, gy, ve, vn)
    ds = xr.Dataset(coords={"x": ("x", gx, {"units": "km", "long_name": "east distance from origin"}),
                            "y": ("y", gy, {"units": "km", "long_name": "north distance from origin"}),
                            "station": ("station", df["name"].to_numpy().astype(str),
                                        {"units": "1", "long_name": "station code"})})
    ds["ve"] = (("y", "x"), ve, {"units": "mm yr-1", "long_name": f"east velocity ({name})"})
    ds["vn"] = (("y", "x"), vn, {"units": "mm yr-1", "long_name": f"north velocity ({name})"})
    for k, (u, ln) in _META.items():
        ds[k] = (("y", "x"), st[k], {"units": u, "long_name": f"{ln} ({name}, finite differences)"})
    for k, i in (("ve", 0), ("vn", 1)):
        comp = "east" if k == "ve" else "north"
        ds[f"station_{k}_res"] = ("station", df[k].to_numpy() - v[ng:, i],
                                  {"units": "mm yr-1", "long_name": f"residual {comp} velocity ({name})"})
    ds.attrs.update({"lon0": lon0, "lat0": lat0})
    return local_grid_mapping(ds, lon0, lat0)


def gpsgridder_strain(vel: xr.Dataset, cfg: Mapping, gcfg: Mapping) -> xr.Dataset:
    """GMT gpsgridder velocities and finite-difference strain rates on the same grid as PILM."""
    ds = _baseline_strain(vel, cfg, "gpsgridder", lambda xy, df, nodes: run_gpsgridder(
        xy, df, nodes, poisson=float(gcfg["poisson"]), fudge_km=float(gcfg["fudge_km"]),
        eigen_percent=float(gcfg["eigen_percent"])))
    ds.attrs.update({"poisson": float(gcfg["poisson"]), "fudge_km": float(gcfg["fudge_km"]),
                     "eigen_percent": float(gcfg["eigen_percent"])})
    return ds


def verde_strain(vel: xr.Dataset, cfg: Mapping, vcfg: Mapping, seed: int) -> xr.Dataset:
    """Verde ``VectorSpline2D`` (the same Sandwell & Wessel Green's functions as gpsgridder, ridge damping chosen
    by k-fold CV) on the PILM grid: velocities, finite-difference strain rates, residuals."""
    from sciml.gnss.verde_spline import run_verde

    info = {}

    def predict(xy, df, nodes):
        v, best, _ = run_verde(xy, df, nodes, poisson=float(vcfg["poisson"]), mindist_km=float(vcfg["mindist_km"]),
                               dampings=[float(x) for x in vcfg["dampings"]], folds=int(vcfg["folds"]), seed=seed)
        info["damping"] = best
        return v

    ds = _baseline_strain(vel, cfg, "verde", predict)
    ds.attrs.update({"poisson": float(vcfg["poisson"]), "mindist_km": float(vcfg["mindist_km"]),
                     "damping": float(info["damping"])})
    return ds


def _roughness(ds: xr.Dataset, inside: np.ndarray) -> float:
    """Mean squared second invariant of the strain rate ((1e-9/yr)^2) over grid nodes near stations."""
    return float(np.nanmean(ds["second_invariant"].values[inside] ** 2))


def _fit_metric(ds: xr.Dataset, name: str) -> float:
    return float(metrics_of(ds).get(name, (np.nan,))[0])


def compare(strains: Mapping[str, xr.Dataset], gps: xr.Dataset | None, vel: xr.Dataset,
            mask_km: float = np.inf, verde: xr.Dataset | None = None) -> xr.Dataset:
    """Table of evidence, ABIC, misfit and roughness per method; difference maps to gpsgridder; errors vs
    the exact strain for the synthetic field."""
    df = from_dataset(vel)
    sig = np.concatenate([df["se"].to_numpy(), df["sn"].to_numpy()])
    baselines = {k: v for k, v in (("gpsgridder", gps), ("verde", verde)) if v is not None}
    methods = list(strains) + list(baselines)
    fitted = ("log_evidence", "log_evidence_integrated", "cv_log_density", "abic", "weight", "sigma2")
    rows: dict[str, list[float]] = {k: [] for k in (*fitted, "chi2_per_datum", "rms_residual", "roughness",
                                                     "rel_error_max_shear")}
    first = next(iter(strains.values()))
    inside = first["station_distance"].values <= mask_km
    exact = None
    if vel.attrs.get("synthetic", 0):
        X, Y = np.meshgrid(first.x.values, first.y.values)
        g = screw_dislocation(X, Y, **{k: float(vel.attrs[f"fault_{k}"]) for k in FAULT_KEYS})
        exact = strain_fields({k: 1000.0 * v for k, v in g.items() if k.startswith("d")})
    for m in methods:
        ds = strains[m] if m in strains else baselines[m]
        res = np.concatenate([ds["station_ve_res"].values, ds["station_vn_res"].values])
        for k in fitted:
            rows[k].append(_fit_metric(ds, k))
        rows["chi2_per_datum"].append(float(np.mean((res / sig) ** 2)))
        rows["rms_residual"].append(float(np.sqrt(np.mean(res**2))))
        rows["roughness"].append(_roughness(ds, inside))
        rows["rel_error_max_shear"].append(
            float(np.linalg.norm((ds["max_shear"].values - exact["max_shear"])[inside])
                  / np.linalg.norm(exact["max_shear"][inside])) if exact is not None else np.nan)
    meta = {k: FIT_METRICS[k] for k in fitted}
    meta.update({
            "chi2_per_datum": ("1", "mean squared normalised velocity residual"),
            "rms_residual": ("mm yr-1", "rms velocity residual at the stations"),
            "roughness": ("1e-18 yr-2", "mean squared second invariant of strain rate within mask_km of stations"),
            "rel_error_max_shear": ("1", "relative L2 error of max shear vs the exact field within mask_km "
                                         "(synthetic only)")})
    out = xr.Dataset(coords={"method": ("method", np.array(methods), {"units": "1", "long_name": "method"}),
                             "x": first["x"], "y": first["y"]})
    for k, v in rows.items():
        out[k] = ("method", np.array(v), {"units": meta[k][0], "long_name": meta[k][1]})
    ev = {m: _fit_metric(strains[m], "log_evidence") for m in strains}
    best = max(ev, key=ev.get)
    out.attrs["preferred_by_evidence"] = best
    out.attrs["mask_km"] = float(mask_km)
    if len(ev) == 2:
        a, b = list(ev)
        cv = {m: _fit_metric(strains[m], "cv_log_density") for m in strains}
        evi = {m: _fit_metric(strains[m], "log_evidence_integrated") for m in strains}
        add_metrics(out, {
            "log_bayes_factor": (float(ev[a] - ev[b]), "1", f"log Bayes factor {a} - {b} (type-II evidence)"),
            "log_bayes_factor_integrated": (float(evi[a] - evi[b]), "1",
                                            f"log Bayes factor {a} - {b}, hyperparameters integrated"),
            "cv_log_density_difference": (float(cv[a] - cv[b]), "1",
                                          f"k-fold CV log predictive density {a} - {b} (summed over stations)")})
        out.attrs["preferred_by_cv"] = a if cv[a] > cv[b] else b
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


# --------------------------------------------------------------------------------------------------- steps
EXAMPLE_METRICS = {"forward_rate": ("1", "observed convergence order of the cubic B-spline forward problem"),
                   "q_rel_error": ("1", "relative L2 error of the recovered source (inverse problem)"),
                   "uncertain_std_max_error": ("1", "max error of the posterior std vs the exact one "
                                                    "(uncertain boundary values)")}


@step("pilm.examples", section="pilm.examples",
      outputs={"nc": "netcdf: 1-D problems vs exact solutions (convergence, uncertain BCs, inverse source)"})
def examples(cfg, inputs, *, seed, device, checkpoints):
    """1-D PILM problems (forward, uncertain BCs, inverse source, periodic) vs exact solutions."""
    from sciml.pilm.examples import examples_dataset

    ds = examples_dataset(cfg["n_intervals"], cfg["n_modes"], cfg["inverse"], seed=seed)
    add_metrics(ds, {k: (float(ds.attrs.pop(k)), u, ln) for k, (u, ln) in EXAMPLE_METRICS.items()})
    log.info("forward rate %.2f, inverse source rel. error %.4f", float(ds["metric_forward_rate"]),
             float(ds["metric_q_rel_error"]))
    ds.attrs["title"] = "PILM 1-D examples: convergence to exact solutions"
    return Outputs(nc=ds)


def _no_config(config, wildcards):
    """Figure steps read no configuration."""
    return {}


@step("pilm.examples_figure", section=_no_config, inputs={"nc": "netcdf: pilm.examples output"},
      outputs={"png": "png: convergence, uncertain-BC posterior and inverse-source recovery"})
def examples_figure(cfg, inputs, *, seed, device, checkpoints):
    """Convergence of the 1-D problems, uncertain-BC posterior and inverse-source recovery."""
    from sciml.gnss.figures import examples_figure as fig

    return Outputs(png=fig(read_dataset(inputs["nc"])))


@step("pilm.ingest", section="pilm.datasets.{dataset}",
      inputs={"sources": "file[]: the dataset's velocity files (all present), or none for the synthetic field"},
      outputs={"nc": "netcdf: tidy station table (lon, lat, ve, vn, se, sn, rho)"})
def ingest_step(cfg, inputs, *, seed, device, checkpoints):
    """Read the dataset's GNSS velocity files into one tidy NetCDF (or the synthetic field)."""
    ds = ingest_velocities(cfg, list(inputs["sources"]), seed)
    log.info("%d stations; counts %s", ds.sizes["station"],
             {k: v for k, v in ds.attrs.items() if k.startswith("count_")})
    ds.attrs["title"] = "GNSS horizontal velocities (tidy station table)"
    return Outputs(nc=ds)


def strain_section(config: Mapping, wildcards: Mapping) -> dict:
    """``pilm.strain`` merged with the dataset's overrides, plus the regularisation of the job."""
    return {**strain_config(config["pilm"], wildcards["dataset"]), "regularization": wildcards["reg"]}


@step("pilm.strain", section=strain_section,
      inputs={"velocities": "netcdf: pilm.ingest output"},
      outputs={"nc": "netcdf: velocity field, strain rates with posterior std, station residuals",
               "strain2d": "netcdf: the same fit on a lon/lat grid in Strain_2D's format (Ve, Vn, exx, ..., sigmas)"})
def strain(cfg, inputs, *, seed, device, checkpoints):
    """PILM velocity field and strain rates with one regularisation; weight and noise scale by ABIC."""
    vel = read_dataset(inputs["velocities"], required=VELOCITY_VARS, units=VELOCITY_UNITS, finite=VELOCITY_VARS)
    reg = cfg["regularization"]
    ds, grid2d = fit_strain_outputs(vel, cfg, reg, seed, strain2d_n=int(cfg["grid"]["n"]))
    ds.attrs["title"] = f"PILM strain rates ({reg} regularisation)"
    grid2d.attrs["title"] = f"PILM strain rates ({reg} regularisation), Strain_2D grid format"
    return Outputs(nc=ds, strain2d=grid2d)


def gpsgridder_section(config: Mapping, wildcards: Mapping) -> dict:
    """The output grid of the dataset (from its strain settings) and the gpsgridder options."""
    return {"grid": strain_config(config["pilm"], wildcards["dataset"])["grid"],
            "gpsgridder": dict(config["pilm"]["gpsgridder"])}


@step("pilm.gpsgridder", section=gpsgridder_section,
      inputs={"velocities": "netcdf: pilm.ingest output"},
      outputs={"nc": "netcdf: gpsgridder velocities and finite-difference strain rates on the PILM grid"})
def gpsgridder(cfg, inputs, *, seed, device, checkpoints):
    """GMT gpsgridder velocities and strain rates on the PILM output grid."""
    vel = read_dataset(inputs["velocities"], required=VELOCITY_VARS[:-1], units=VELOCITY_UNITS,
                       finite=VELOCITY_VARS[:-1])
    ds = gpsgridder_strain(vel, cfg, cfg["gpsgridder"])
    ds.attrs["title"] = "GMT gpsgridder velocities and strain rates"
    return Outputs(nc=ds)


def verde_section(config: Mapping, wildcards: Mapping) -> dict:
    """The output grid of the dataset (from its strain settings) and the Verde options."""
    return {"grid": strain_config(config["pilm"], wildcards["dataset"])["grid"],
            "verde": dict(config["pilm"]["verde"])}


@step("pilm.verde", section=verde_section,
      inputs={"velocities": "netcdf: pilm.ingest output"},
      outputs={"nc": "netcdf: Verde VectorSpline2D velocities and finite-difference strain rates on the PILM grid"})
def verde_step(cfg, inputs, *, seed, device, checkpoints):
    """Verde VectorSpline2D velocities and strain rates on the PILM output grid (second baseline)."""
    vel = read_dataset(inputs["velocities"], required=VELOCITY_VARS[:-1], units=VELOCITY_UNITS,
                       finite=VELOCITY_VARS[:-1])
    ds = verde_strain(vel, cfg, cfg["verde"], seed)
    ds.attrs["title"] = "Verde VectorSpline2D velocities and strain rates"
    return Outputs(nc=ds)


def compare_section(config: Mapping, wildcards: Mapping) -> dict:
    """The regularisations (order of the strain inputs) and the mask distance of the dataset."""
    return {"regularizations": list(config["pilm"]["regularizations"]),
            "mask_km": strain_config(config["pilm"], wildcards["dataset"])["mask_km"]}


@step("pilm.compare", section=compare_section,
      inputs={"velocities": "netcdf: pilm.ingest output",
              "strains": "netcdf[]: pilm.strain outputs, one per regularisation (config order)",
              "gpsgridder": "netcdf[]: pilm.gpsgridder output, or none without GMT",
              "verde": "netcdf[]: pilm.verde output, or none without verde"},
      outputs={"nc": "netcdf: evidence, ABIC, misfit, roughness per method; difference maps to gpsgridder"})
def compare_step(cfg, inputs, *, seed, device, checkpoints):
    """Evidence, ABIC, misfit and roughness of each regularisation and of gpsgridder; difference maps."""
    strains = {r: read_dataset(p) for r, p in zip(cfg["regularizations"], inputs["strains"])}
    gps = read_dataset(inputs["gpsgridder"][0]) if inputs["gpsgridder"] else None
    vd = read_dataset(inputs["verde"][0]) if inputs.get("verde") else None
    ds = compare(strains, gps, read_dataset(inputs["velocities"], units=VELOCITY_UNITS), cfg["mask_km"], verde=vd)
    ds.attrs["title"] = "PILM regularisations and gpsgridder compared"
    return Outputs(nc=ds)


def figures_section(config: Mapping, wildcards: Mapping) -> dict:
    """Regularisations, the dataset's title and the figure mask distance."""
    pilm = config["pilm"]
    return {"regularizations": list(pilm["regularizations"]),
            "title": pilm["datasets"][wildcards["dataset"]]["title"] or wildcards["dataset"],
            "mask_km": strain_config(pilm, wildcards["dataset"])["mask_km"]}


@step("pilm.figures", section=figures_section,
      inputs={"velocities": "netcdf: pilm.ingest output", "strains": "netcdf[]: pilm.strain outputs",
              "gpsgridder": "netcdf[]: pilm.gpsgridder output (or none)", "compare": "netcdf: pilm.compare output"},
      outputs={"velocities": "png: velocity vectors and residuals", "evidence": "png: ABIC curves and evidence",
               "strains": "png[]: strain-rate maps, one per regularisation",
               "gpsgridder": "png[]: PILM minus gpsgridder (or none)"})
def figures(cfg, inputs, *, seed, device, checkpoints):
    """Velocity vectors, strain-rate maps with principal axes, evidence comparison, gpsgridder differences."""
    from sciml.gnss import figures as F

    strains = {r: read_dataset(f) for r, f in zip(cfg["regularizations"], inputs["strains"])}
    cmp = read_dataset(inputs["compare"])
    best = cmp.attrs["preferred_by_evidence"]
    title, mask = cfg["title"], cfg["mask_km"]
    out = Outputs(velocities=F.velocity_figure(read_dataset(inputs["velocities"]), strains[best], title),
                  evidence=F.evidence_figure(strains, cmp, title),
                  strains=[F.strain_figure(strains[r], title, mask) for r in cfg["regularizations"]],
                  gpsgridder=[])
    if inputs["gpsgridder"]:
        gps = read_dataset(inputs["gpsgridder"][0])
        out["gpsgridder"] = [F.gpsgridder_figure(strains, gps, cmp, title, mask)]
    return out
