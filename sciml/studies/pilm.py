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
from sciml.gnss.gpsgridder import gridded_strain, run_gpsgridder
from sciml.gnss.ingest import from_dataset, ingest, to_dataset
from sciml.gnss.strain import (_META, fit_velocity_field, output_grid, project, station_residuals, strain_fields,
                               strain_on_grid)
from sciml.gnss.synthetic import screw_dislocation, synthetic_stations
from sciml.io.netcdf import add_metrics, metrics_of, read_dataset
from sciml.studies.registry import Outputs, step

log = logging.getLogger(__name__)

FAULT_KEYS = ("slip_rate", "locking_depth", "strike")
VELOCITY_VARS = ("lon", "lat", "ve", "vn", "se", "sn", "rho")
# scalar results of a strain fit: attribute of strain_on_grid -> (metric name, units, long name)
FIT_METRICS = {
    "weight": ("weight", "1", "regularisation weight alpha^2 chosen by ABIC"),
    "sigma2": ("sigma2", "1", "noise variance scale factor"),
    "log_evidence": ("log_evidence", "1", "log marginal likelihood (natural log)"),
    "abic": ("abic", "1", "ABIC at the chosen weight"),
    "misfit_chi2": ("misfit_chi2", "1", "weighted misfit (chi-square) of the fit"),
    "roughness": ("roughness", "1", "regularisation norm |R a|^2 of the fit"),
    "rank_prior": ("rank_prior", "1", "rank of the regularisation operator (prior rank)"),
}


def strain_config(pilm_cfg: Mapping, dataset: str) -> dict:
    """Global ``pilm.strain`` settings with the dataset's ``strain`` overrides merged in (recursively)."""
    return merge(pilm_cfg["strain"], pilm_cfg["datasets"][dataset]["strain"])


# ----------------------------------------------------------------------------------------------- functions
def ingest_velocities(cfg: Mapping, paths: Sequence[str], seed: int) -> xr.Dataset:
    """Tidy velocity dataset from the configured sources, or the synthetic field when files are absent."""
    sources = list(cfg["sources"])
    if paths and len(paths) == len(sources):
        df, counts = ingest(sources, duplicates=cfg["duplicates"], bad_rows=cfg["bad_rows"], region=cfg["region"],
                            paths=list(paths))
        ds = to_dataset(df, counts, frame=cfg["frame"])
        ds.attrs["synthetic"] = 0
        return ds
    syn = dict(cfg["synthetic"])
    if sources:
        log.warning("velocity files %s absent: using the synthetic screw-dislocation field",
                    [s["path"] for s in sources])
    df = synthetic_stations(int(syn["n_stations"]), float(syn["half_width_km"]), sigma=float(syn["sigma"]),
                            lon0=float(syn["lon0"]), lat0=float(syn["lat0"]), seed=seed,
                            **{k: float(syn[k]) for k in FAULT_KEYS})
    ds = to_dataset(df, {"stations": len(df)}, frame="synthetic (fault-fixed)")
    ds.attrs.update({"synthetic": 1, "frame_lon0": float(syn["lon0"]), "frame_lat0": float(syn["lat0"]),
                     **{f"fault_{k}": float(syn[k]) for k in FAULT_KEYS}})
    return ds


def _grid(vel: xr.Dataset, df: pd.DataFrame, cfg: Mapping):
    g = cfg["grid"]
    return output_grid(df, float(g["margin_km"]), g["spacing_km"], g["n"], vel.attrs.get("frame_lon0"),
                       vel.attrs.get("frame_lat0"))


def fit_strain(vel: xr.Dataset, cfg: Mapping, regularization: str, seed: int) -> xr.Dataset:
    """PILM fit with one regularisation (weight by ABIC), strain rates on the output grid, station residuals."""
    df = from_dataset(vel)
    lon0, lat0, extent, nx, ny = _grid(vel, df, cfg)
    fit = fit_velocity_field(df, regularization, knot_spacing_km=float(cfg["knot_spacing_km"]),
                             margin_km=float(cfg["margin_km"]),
                             collocation_per_interval=int(cfg["collocation_per_interval"]),
                             poisson=float(cfg["poisson"]), smoothness=cfg["smoothness"],
                             log10_bounds=tuple(cfg["log10_bounds"]), lon0=lon0, lat0=lat0)
    log.info("%s: weight %.3g sigma2 %.3g log evidence %.2f", regularization, fit.posterior.weights[0],
             fit.posterior.sigma2, fit.posterior.log_evidence)
    ds = strain_on_grid(fit, nx, ny, n_samples=int(cfg["n_samples"]), seed=seed, extent=extent)
    ds = ds.merge(station_residuals(fit, df))
    add_metrics(ds, {name: (float(ds.attrs.pop(attr)), u, ln) for attr, (name, u, ln) in FIT_METRICS.items()})
    ds.attrs.update({k: v for k, v in vel.attrs.items() if k.startswith(("fault_", "frame_", "synthetic"))})
    return ds


def gpsgridder_strain(vel: xr.Dataset, cfg: Mapping, gcfg: Mapping) -> xr.Dataset:
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


def _fit_metric(ds: xr.Dataset, name: str) -> float:
    return float(metrics_of(ds).get(name, (np.nan,))[0])


def compare(strains: Mapping[str, xr.Dataset], gps: xr.Dataset | None, vel: xr.Dataset,
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
        for k in ("log_evidence", "abic", "weight", "sigma2"):
            rows[k].append(_fit_metric(ds, k))
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
    ev = {m: _fit_metric(strains[m], "log_evidence") for m in strains}
    best = max(ev, key=ev.get)
    out.attrs["preferred_by_evidence"] = best
    out.attrs["mask_km"] = float(mask_km)
    if len(ev) == 2:
        a, b = list(ev)
        add_metrics(out, {"log_bayes_factor": (float(ev[a] - ev[b]), "1", f"log Bayes factor {a} - {b}")})
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
      outputs={"nc": "netcdf: velocity field, strain rates with posterior std, station residuals"})
def strain(cfg, inputs, *, seed, device, checkpoints):
    """PILM velocity field and strain rates with one regularisation; weight and noise scale by ABIC."""
    vel = read_dataset(inputs["velocities"], required=VELOCITY_VARS)
    reg = cfg["regularization"]
    ds = fit_strain(vel, cfg, reg, seed)
    ds.attrs["title"] = f"PILM strain rates ({reg} regularisation)"
    return Outputs(nc=ds)


def gpsgridder_section(config: Mapping, wildcards: Mapping) -> dict:
    """The output grid of the dataset (from its strain settings) and the gpsgridder options."""
    return {"grid": strain_config(config["pilm"], wildcards["dataset"])["grid"],
            "gpsgridder": dict(config["pilm"]["gpsgridder"])}


@step("pilm.gpsgridder", section=gpsgridder_section,
      inputs={"velocities": "netcdf: pilm.ingest output"},
      outputs={"nc": "netcdf: gpsgridder velocities and finite-difference strain rates on the PILM grid"})
def gpsgridder(cfg, inputs, *, seed, device, checkpoints):
    """GMT gpsgridder velocities and strain rates on the PILM output grid."""
    vel = read_dataset(inputs["velocities"], required=("lon", "lat", "ve", "vn", "se", "sn"))
    ds = gpsgridder_strain(vel, cfg, cfg["gpsgridder"])
    ds.attrs["title"] = "GMT gpsgridder velocities and strain rates"
    return Outputs(nc=ds)


def compare_section(config: Mapping, wildcards: Mapping) -> dict:
    """The regularisations (order of the strain inputs) and the mask distance of the dataset."""
    return {"regularizations": list(config["pilm"]["regularizations"]),
            "mask_km": strain_config(config["pilm"], wildcards["dataset"])["mask_km"]}


@step("pilm.compare", section=compare_section,
      inputs={"velocities": "netcdf: pilm.ingest output",
              "strains": "netcdf[]: pilm.strain outputs, one per regularisation (config order)",
              "gpsgridder": "netcdf[]: pilm.gpsgridder output, or none without GMT"},
      outputs={"nc": "netcdf: evidence, ABIC, misfit, roughness per method; difference maps to gpsgridder"})
def compare_step(cfg, inputs, *, seed, device, checkpoints):
    """Evidence, ABIC, misfit and roughness of each regularisation and of gpsgridder; difference maps."""
    strains = {r: read_dataset(p) for r, p in zip(cfg["regularizations"], inputs["strains"])}
    gps = read_dataset(inputs["gpsgridder"][0]) if inputs["gpsgridder"] else None
    ds = compare(strains, gps, read_dataset(inputs["velocities"]), cfg["mask_km"])
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
