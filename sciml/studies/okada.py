"""Okada study: a differentiable Okada (1992) half-space model, fault-parameter and distributed-slip inversions.

Steps (one per rule of ``workflow/rules/okada.smk``; science in :mod:`sciml.okada` and
:mod:`sciml.linear_inverse`):

* ``okada.synthetic``: noisy displacements of one rectangular fault at a station grid (or at the GNSS sites of
  a PILM dataset), surface maps of displacement and strain, and parameter-sensitivity maps (autograd);
* ``okada.invert`` / ``okada.invert_parkfield``: fault parameters by Levenberg-Marquardt with autograd
  Jacobians, the Laplace posterior from the exact Hessian, and HMC checked against it, on the synthetic
  observations or on the 2004 Parkfield GPS offsets (Houlie et al. 2014) against the published single-plane
  model (Custodio et al. 2005);
* ``okada.slip`` / ``okada.slip_tohoku``: distributed slip on a planar fault cut into patches, Laplacian
  smoothing with its weight chosen by ABIC, on synthetic data or on the 2011 Tohoku GEONET offsets (Ozawa et
  al. 2011, relative to a reference site);
* ``okada.slip_sensitivity``: the Tohoku MAP re-run with parts of its configuration changed (which modelling
  choice sets the peak slip);
* ``okada.figures_synthetic``, ``okada.figure_posterior``, ``okada.figure_slip``, ``okada.figure_slip_sensitivity``,
  ``okada.figure_parkfield_fit``: the figures (:mod:`sciml.okada.figures`).

Every compute step reads its config section plus the top-level Poisson ratio ``okada.nu``.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Mapping

import numpy as np
import torch
import xarray as xr

from sciml.config import lookup
from sciml.errors import bad_value
from sciml.geo import lonlat_to_enu
from sciml.inference.diagnostics import sampler_metrics
from sciml.io.netcdf import add_metrics, read_dataset
from sciml.linear_inverse import fit_abic
from sciml.okada.data import (published_parkfield_fault, read_geonet_ozawa, read_parkfield_fault, read_parkfield_gps,
                              read_station_lonlat)
from sciml.okada.derivatives import jacobian
from sciml.okada.fault import PARAM_UNITS, RECT_PARAMS, rectangle
from sciml.okada.greens import design_matrix, greens_matrix, laplacian_blocks, patch_grid
from sciml.okada.inversion import (FaultProblem, compare_to_laplace, laplace, levenberg_marquardt,
                                   reduced_chi2_scale, sample_hmc, start_from)
from sciml.okada.mesh import MapFrame, grid_laplacian, interface_patches, read_trimesh
from sciml.okada.slip import (SlipProblem, abic_curve, coefficient_design, coefficients_to_slip, gaussian_coverage,
                              invert_positive, rake_window, smoothing_operator)
from sciml.okada.tde import patch_matrix
from sciml.studies.registry import Outputs, step

log = logging.getLogger(__name__)
F64 = torch.float64
COMPONENTS = ["east", "north", "up"]
GEOMETRY = ("east", "north", "depth", "strike", "dip", "length", "width")  # keys of a patch-grid fault


# ----------------------------------------------------------------------------------------------- config slices
def _with_nu(key: str):
    """Section function: the config at dotted ``key`` plus the half-space Poisson ratio ``okada.nu``."""

    def section(config, wildcards):
        return {**lookup(config, key), "nu": config["okada"]["nu"]}

    section.__name__ = f"{key} + okada.nu"
    return section


def _no_config(config, wildcards):
    """Figure steps read no configuration."""
    return {}


# ----------------------------------------------------------------------------------------------------- helpers
def _attrs(da: xr.DataArray, units: str, long_name: str) -> xr.DataArray:
    """Set units and long_name; ``units = "see <variable>"`` marks a vector of mixed units (CF: no ``units``,
    ``units_metadata`` naming the text variable with each element's unit, :mod:`sciml.io.cf`)."""
    if units.startswith("see "):
        da.attrs.update(units_metadata=units, long_name=long_name)
    else:
        da.attrs.update(units=units, long_name=long_name)
    return da


def _grid(n: int, half: float) -> torch.Tensor:
    g = torch.linspace(-half, half, n, dtype=F64)
    e, nn = torch.meshgrid(g, g, indexing="xy")
    return torch.stack([e.flatten(), nn.flatten(), torch.zeros(n * n, dtype=F64)], -1)


def _noise(cfg: Mapping, n: int) -> torch.Tensor:
    h, v = float(cfg["horizontal"]), float(cfg["vertical"])
    return torch.tensor([h, h, v], dtype=F64).expand(n, 3).clone()


def _station_vars(ds: xr.Dataset, st: np.ndarray) -> None:
    for i, (k, name) in enumerate((("station_east", "east"), ("station_north", "north"), ("station_up", "up"))):
        ds[k] = _attrs(xr.DataArray(st[:, i], dims="station"), "m", f"station position, {name} (local frame)")


def _param_coords(ds: xr.Dataset, names) -> None:
    ds.coords["param"] = ("param", list(names))
    ds["param"].attrs.update(long_name="fault parameter", units="1")
    ds["param_units"] = _attrs(xr.DataArray([PARAM_UNITS[k] for k in names], dims="param"), "1",
                               "units of each fault parameter")


def _station_axes(ds: xr.Dataset) -> None:
    ds["station"].attrs.update(long_name="station index", units="1")
    ds["component"].attrs.update(long_name="displacement component (local east/north/up)", units="1")


# --------------------------------------------------------------------------------------------------- synthetic
def synthetic_dataset(cfg: Mapping, *, seed: int, gnss_lonlat: tuple[np.ndarray, np.ndarray] | None = None
                      ) -> xr.Dataset:
    """Noisy displacements of the configured fault at a station grid (or GNSS sites), plus surface maps of
    displacement, strain and parameter sensitivities (autograd). ``cfg``: section ``okada.synthetic`` + ``nu``."""
    nu = float(cfg["nu"])
    fault = {k: float(cfg["fault"][k]) for k in RECT_PARAMS}
    ref = cfg["fault"]["reference"]
    scfg = cfg["stations"]
    if gnss_lonlat is not None:
        lon, lat = gnss_lonlat
        if scfg["lon0"] is None or scfg["lat0"] is None:
            raise bad_value("config okada.synthetic.stations", "lon0/lat0", (scfg["lon0"], scfg["lat0"]),
                            "the fault-frame origin (degrees) is needed when GNSS sites are used")
        lon0, lat0 = float(scfg["lon0"]), float(scfg["lat0"])
        e, n = lonlat_to_enu(lon, lat, lon0, lat0)
        keep = np.hypot(e, n) <= float(scfg["half_width_m"])
        if keep.sum() < 3:
            raise bad_value("config okada.synthetic.stations", "half_width_m", float(scfg["half_width_m"]),
                            f"fewer than 3 GNSS sites lie within it of ({lon0}, {lat0})")
        st = torch.tensor(np.stack([e[keep], n[keep], np.zeros(keep.sum())], -1), dtype=F64)
    else:
        st = _grid(int(scfg["n"]), float(scfg["half_width_m"]))
    gen = torch.Generator().manual_seed(int(seed))
    truth = rectangle(st, **fault, reference=ref, nu=nu, derivatives=False).u
    sigma = _noise(cfg["noise_m"], st.shape[0])
    obs = truth + sigma * torch.randn(truth.shape, generator=gen, dtype=F64)

    ds = xr.Dataset(coords={"station": np.arange(st.shape[0]), "component": COMPONENTS})
    _station_axes(ds)
    _station_vars(ds, st.numpy())
    if gnss_lonlat is not None:
        ds["lon"] = _attrs(xr.DataArray(gnss_lonlat[0][keep], dims="station"), "degrees_east", "station longitude")
        ds["lat"] = _attrs(xr.DataArray(gnss_lonlat[1][keep], dims="station"), "degrees_north", "station latitude")
    ds["obs"] = _attrs(xr.DataArray(obs.numpy(), dims=("station", "component")), "m", "observed displacement")
    ds["sigma"] = _attrs(xr.DataArray(sigma.numpy(), dims=("station", "component")), "m",
                         "standard deviation of displacement noise")
    ds["truth"] = _attrs(xr.DataArray(truth.numpy(), dims=("station", "component")), "m",
                         "noise-free displacement of the true fault")
    names = list(RECT_PARAMS)
    _param_coords(ds, names)
    ds["fault_true"] = _attrs(xr.DataArray([fault[k] for k in names], dims="param"), "see param_units",
                              "true fault parameters")

    # maps on a surface grid
    m = int(cfg["map"]["n"])
    half = float(cfg["map"]["half_width_m"])
    grid = _grid(m, half)
    d = rectangle(grid, **fault, reference=ref, nu=nu)
    axis = np.linspace(-half, half, m)
    ds.coords["x"] = ("x", axis)
    ds.coords["y"] = ("y", axis)
    ds["x"].attrs.update(units="m", long_name="map east coordinate")
    ds["y"].attrs.update(units="m", long_name="map north coordinate")
    u = d.u.numpy().reshape(m, m, 3)
    ds["map_u"] = _attrs(xr.DataArray(np.moveaxis(u, -1, 0), dims=("component", "y", "x")), "m",
                         "surface displacement")
    e2 = d.strain[..., :2, :2].numpy().reshape(m, m, 2, 2)
    dil = e2[..., 0, 0] + e2[..., 1, 1]
    shear = np.sqrt(0.25 * (e2[..., 0, 0] - e2[..., 1, 1]) ** 2 + e2[..., 0, 1] ** 2)
    ds["map_dilatation"] = _attrs(xr.DataArray(dil, dims=("y", "x")), "1", "surface areal strain e_ee + e_nn")
    ds["map_max_shear"] = _attrs(xr.DataArray(shear, dims=("y", "x")), "1", "surface maximum horizontal shear strain")
    sens = list(cfg["sensitivity"])
    if sens:
        jac = jacobian(grid, fault, sens, reference=ref, nu=nu).numpy()  # (m*m, 3, p)
        ds.coords["sens_param"] = ("sens_param", sens)
        ds["sens_param"].attrs.update(long_name="parameter of the sensitivity maps", units="1")
        ds["sens_units"] = _attrs(xr.DataArray([f"m {PARAM_UNITS[k]}-1" for k in sens], dims="sens_param"), "1",
                                  "units of each sensitivity map (m per unit of its parameter)")
        ds["map_sensitivity"] = _attrs(
            xr.DataArray(np.moveaxis(jac.reshape(m, m, 3, len(sens)), (2, 3), (1, 0)),
                         dims=("sens_param", "component", "y", "x")),
            "see sens_units", "d displacement / d fault parameter (autograd)")
    ds.attrs.update(fault_reference=ref, poisson_ratio=nu, case="synthetic",
                    title="Okada synthetic coseismic displacements")
    return ds


@step("okada.synthetic", section=_with_nu("okada.synthetic"),
      inputs={"stations": "netcdf[]: optional GNSS sites (lon, lat on dim station): "
                          "results/pilm/<okada.synthetic.stations.gnss>/velocities.nc"},
      outputs={"nc": "netcdf: noisy displacements, surface maps and sensitivities"})
def synthetic(cfg, inputs, *, seed, device, checkpoints):
    """Noisy displacements of the configured fault at a station grid (or GNSS sites), maps, sensitivities."""
    gnss = read_station_lonlat(inputs["stations"][0]) if inputs["stations"] else None
    return Outputs(nc=synthetic_dataset(cfg, seed=seed, gnss_lonlat=gnss))


# ---------------------------------------------------------------------------------------------- observations
def parkfield_observations(gps: xr.Dataset, published: Mapping[str, float], cfg: Mapping) -> xr.Dataset:
    """Parkfield GPS offsets in a local frame about the published hypocentre, with assumed sigmas and the
    published single-plane model (Custodio et al. 2005) converted to this module's conventions.
    ``cfg``: section ``okada.parkfield``."""
    lon0, lat0 = float(published["hypo_lon"]), float(published["hypo_lat"])
    e, n = lonlat_to_enu(gps["lon"].values, gps["lat"].values, lon0, lat0)
    st = np.stack([e, n, np.zeros_like(e)], -1)
    obs = np.stack([gps["east"].values, gps["north"].values, gps["up"].values], -1)
    sig = _noise(cfg["sigma_m"], len(e)).numpy()
    ds = xr.Dataset(coords={"station": np.arange(len(e)), "component": COMPONENTS})
    _station_axes(ds)
    _station_vars(ds, st)
    ds["site"] = _attrs(xr.DataArray(gps["site"].values, dims="station"), "1", "site code")
    ds["lon"] = _attrs(xr.DataArray(gps["lon"].values, dims="station"), "degrees_east", "station longitude")
    ds["lat"] = _attrs(xr.DataArray(gps["lat"].values, dims="station"), "degrees_north", "station latitude")
    ds["obs"] = _attrs(xr.DataArray(obs, dims=("station", "component")), "m", "observed coseismic displacement")
    ds["sigma"] = _attrs(xr.DataArray(sig, dims=("station", "component")), "m",
                         "assumed standard deviation (unpublished; rescaled by the reduced chi-square)")
    pub = published_parkfield_fault(published, float(cfg["mu_pa"]))
    names = list(RECT_PARAMS)
    _param_coords(ds, names)
    ds["fault_published"] = _attrs(xr.DataArray([pub[k] for k in names], dims="param"), "see param_units",
                                   "published single-plane model (Custodio et al. 2005, SRCMOD header)")
    ds.attrs.update(fault_reference="top_center", lon0=lon0, lat0=lat0, case="parkfield",
                    source_file=gps.attrs["source_file"], citation=gps.attrs["citation"])
    return ds


# --------------------------------------------------------------------------------------------------- inversion
def invert_fault(obs: xr.Dataset, cfg: Mapping, *, nu: float, seed: int) -> xr.Dataset:
    """LM + Laplace + HMC for the free parameters of ``cfg`` (an ``invert`` section); returns estimates,
    covariance and samples. Parameters not free take the reference values of ``obs`` (``fault_true`` or
    ``fault_published``) unless ``cfg["fixed"]`` names them; unbounded where ``cfg["bounds"]`` has no entry."""
    names = tuple(cfg["free"])
    ref_key = "fault_true" if "fault_true" in obs else "fault_published"
    ref_vals = {str(k): float(v) for k, v in zip(obs["param"].values, obs[ref_key].values)}
    fixed_src = dict(ref_vals)
    fixed_src.update({k: float(v) for k, v in cfg["fixed"].items()})
    fixed = {k: fixed_src[k] for k in RECT_PARAMS if k not in names}
    st = torch.tensor(np.stack([obs[f"station_{c}"].values for c in COMPONENTS], -1), dtype=F64)
    problem = FaultProblem(st, torch.tensor(obs["obs"].values, dtype=F64), torch.tensor(obs["sigma"].values, dtype=F64),
                           names, fixed, prior={k: (float(v[0]), float(v[1])) for k, v in cfg["prior"].items()},
                           options=dict(reference=obs.attrs["fault_reference"], nu=nu))
    start = {**ref_vals, **{k: float(v) for k, v in cfg["start"].items()}}
    theta0 = start_from(start, names)
    bounds = {k: cfg["bounds"][k] if k in cfg["bounds"] else (-math.inf, math.inf) for k in names}
    lo = torch.tensor([float(bounds[k][0]) for k in names], dtype=F64)
    hi = torch.tensor([float(bounds[k][1]) for k in names], dtype=F64)
    lm = levenberg_marquardt(problem, theta0, max_iter=int(cfg["lm"]["max_iter"]), tol=float(cfg["lm"]["tol"]),
                             lower=lo, upper=hi)
    scale = reduced_chi2_scale(problem, lm.theta) if cfg["rescale_noise"] else 1.0
    lap = laplace(problem, lm.theta, noise_scale=scale)
    h = cfg["hmc"]
    gen = torch.Generator().manual_seed(int(seed))
    t_hmc = time.perf_counter()
    res = sample_hmc(problem, lap, chains=int(h["chains"]), warmup=int(h["warmup"]), draws=int(h["draws"]),
                     leapfrog=int(h["leapfrog"]), target_accept=float(h["target_accept"]),
                     adapt_metric=bool(h["adapt_metric"]), metric=h["metric"], bounds=(lo, hi), generator=gen)
    t_hmc = time.perf_counter() - t_hmc
    cmp = compare_to_laplace(res.draws, lap)
    log.info("HMC accept %.2f, divergences %d; |mean offset|/sd max %.3f; std ratio %s", res.accept_rate,
             res.divergences, float(np.abs(cmp["mean_offset_sd"]).max()), np.round(cmp["std_ratio"], 3))

    keep = [v for v in ("station_east", "station_north", "station_up", "obs", "sigma", "truth", "site", "lon", "lat")
            if v in obs]
    ds = obs[keep].copy()
    ds = ds.drop_vars([c for c in ds.coords if c not in ("station", "component")])
    ds.coords["all_param"] = ("all_param", list(RECT_PARAMS))
    ds["all_param"].attrs.update(long_name="fault parameter (all)", units="1")
    ds[ref_key] = _attrs(xr.DataArray([ref_vals[k] for k in RECT_PARAMS], dims="all_param"), "see all_param_units",
                         obs[ref_key].attrs["long_name"])
    ds["all_param_units"] = _attrs(xr.DataArray([PARAM_UNITS[k] for k in RECT_PARAMS], dims="all_param"), "1",
                                   "units of each fault parameter")
    _param_coords(ds, names)
    ds.coords["param2"] = ("param2", list(names))
    ds["param2"].attrs.update(long_name="fault parameter (second axis)", units="1")
    ds["start"] = _attrs(xr.DataArray(theta0.numpy(), dims="param"), "see param_units", "LM starting values")
    ds["estimate"] = _attrs(xr.DataArray(lm.theta.numpy(), dims="param"), "see param_units",
                            "maximum a posteriori estimate (Levenberg-Marquardt)")
    ds["laplace_std"] = _attrs(xr.DataArray(lap.std.numpy(), dims="param"), "see param_units",
                               "Laplace posterior standard deviation")
    ds["covariance"] = _attrs(xr.DataArray(lap.cov.numpy(), dims=("param", "param2")), "see param_units",
                              "Laplace posterior covariance (inverse Hessian; units: product of the two "
                              "parameters' units)")
    ds.coords["chain"] = ("chain", np.arange(res.draws.shape[0]))
    ds.coords["draw"] = ("draw", np.arange(res.draws.shape[1]))
    ds["chain"].attrs.update(long_name="HMC chain", units="1")
    ds["draw"].attrs.update(long_name="HMC draw", units="1")
    ds["samples"] = _attrs(xr.DataArray(res.draws, dims=("chain", "draw", "param")), "see param_units",
                           "HMC posterior samples")
    flat = res.draws.reshape(-1, len(names))
    ds["hmc_mean"] = _attrs(xr.DataArray(flat.mean(0), dims="param"), "see param_units", "HMC posterior mean")
    ds["hmc_std"] = _attrs(xr.DataArray(flat.std(0, ddof=1), dims="param"), "see param_units", "HMC posterior std")
    ds["hmc_mean_offset"] = _attrs(xr.DataArray(cmp["mean_offset_sd"], dims="param"), "1",
                                   "(HMC mean - Laplace mean) / Laplace std")
    ds["hmc_std_ratio"] = _attrs(xr.DataArray(cmp["std_ratio"], dims="param"), "1", "HMC std / Laplace std")
    with torch.no_grad():
        pred = problem.predict(lm.theta).numpy()
    ds["model"] = _attrs(xr.DataArray(pred, dims=("station", "component")), "m", "displacement of the MAP model")
    if ref_key == "fault_published":
        pub = start_from(ref_vals, names)
        with torch.no_grad():
            ds["model_published"] = _attrs(xr.DataArray(problem.predict(pub).numpy(), dims=("station", "component")),
                                           "m", "displacement of the published model")
    lm_hist = np.asarray(lm.history)
    ds.coords["lm_iter"] = ("lm_iter", np.arange(len(lm_hist)))
    ds["lm_iter"].attrs.update(long_name="LM iteration", units="1")
    ds["lm_cost"] = _attrs(xr.DataArray(lm_hist, dims="lm_iter"), "1", "0.5 chi-square per accepted LM step")
    add_metrics(ds, {
        "lm_iterations": (lm.iterations, "1", "Levenberg-Marquardt iterations"),
        "lm_converged": (int(lm.converged), "1", "1 if Levenberg-Marquardt met its tolerance, else 0"),
        "lm_cost": (lm.cost, "1", "0.5 chi-square of the MAP estimate (final Levenberg-Marquardt cost)"),
        "noise_scale": (scale, "1", "factor applied to the data sigmas (sqrt of the reduced chi-square, or 1)"),
        **sampler_metrics(res, seconds=t_hmc),  # hmc_: acceptance, step size, divergences, ESS, R-hat
    })
    ds.attrs.update(n_data=problem.n_data, reference_values=ref_key)
    return ds


@step("okada.invert", section=_with_nu("okada.invert"),
      inputs={"data": "netcdf: synthetic observations (okada.synthetic)"},
      outputs={"nc": "netcdf: MAP estimate, Laplace covariance, HMC samples, HMC vs Laplace"})
def invert(cfg, inputs, *, seed, device, checkpoints):
    """Fault parameters of the synthetic case by Levenberg-Marquardt, Laplace posterior and an HMC check."""
    obs = read_dataset(inputs["data"], required=("obs", "sigma", "fault_true"), units={"obs": "m", "sigma": "m"},
                       finite=("obs", "sigma"))
    ds = invert_fault(obs, cfg, nu=float(cfg["nu"]), seed=seed)
    ds.attrs["title"] = "Okada fault-parameter inversion (synthetic)"
    return Outputs(nc=ds)


@step("okada.invert_parkfield", section=_with_nu("okada.parkfield"),
      inputs={"gps": "file: Parkfield 2004 GPS offsets, Houlie et al. (2014) table (okada.parkfield.gps)",
              "fault": "file: published single-plane SRCMOD header, Custodio et al. (2005) (okada.parkfield.fault)"},
      outputs={"nc": "netcdf: MAP estimate, Laplace covariance, HMC samples, fit of MAP and published models"})
def invert_parkfield(cfg, inputs, *, seed, device, checkpoints):
    """Fault parameters of the 2004 Parkfield earthquake from GPS offsets (LM, Laplace, HMC)."""
    obs = parkfield_observations(read_parkfield_gps(inputs["gps"]), read_parkfield_fault(inputs["fault"]), cfg)
    ds = invert_fault(obs, cfg["invert"], nu=float(cfg["nu"]), seed=seed)
    ds.attrs["title"] = "Okada fault-parameter inversion (parkfield)"
    return Outputs(nc=ds)


# ------------------------------------------------------------------------------------------------- slip models
def _slip_dataset(grid, res, G, d, sigma, st, extra: Mapping[str, xr.DataArray]) -> xr.Dataset:
    p = grid.n
    coef, std = res.coef, res.std
    cen = grid.centroids().numpy()
    ds = xr.Dataset(coords={"patch": np.arange(p), "obs_index": np.arange(len(d))})
    ds["patch"].attrs.update(long_name="patch index (strike fastest)", units="1")
    ds["obs_index"].attrs.update(long_name="observation index (station-major, east/north/up)", units="1")
    for i, c in enumerate(("east", "north", "up")):
        ds[f"patch_{c}"] = _attrs(xr.DataArray(cen[:, i], dims="patch"), "m", f"patch centroid, {c}")
    ds["patch_along"] = _attrs(xr.DataArray(grid.along.numpy(), dims="patch"), "m",
                               "patch centre along strike from the fault's top centre")
    ds["patch_down"] = _attrs(xr.DataArray(grid.down.numpy(), dims="patch"), "m", "patch centre down dip from the top")
    ds["strike_slip"] = _attrs(xr.DataArray(coef[:p], dims="patch"), "m", "strike-slip (left-lateral positive)")
    ds["dip_slip"] = _attrs(xr.DataArray(coef[p:], dims="patch"), "m", "dip-slip (reverse positive)")
    ds["strike_slip_std"] = _attrs(xr.DataArray(std[:p], dims="patch"), "m", "posterior std of strike-slip")
    ds["dip_slip_std"] = _attrs(xr.DataArray(std[p:], dims="patch"), "m", "posterior std of dip-slip")
    ds["slip"] = _attrs(xr.DataArray(np.hypot(coef[:p], coef[p:]), dims="patch"), "m", "slip magnitude")
    ds["obs"] = _attrs(xr.DataArray(d, dims="obs_index"), "m", "observed displacement")
    ds["obs_sigma"] = _attrs(xr.DataArray(sigma, dims="obs_index"), "m", "assumed data standard deviation")
    ds["model"] = _attrs(xr.DataArray(G @ coef, dims="obs_index"), "m", "displacement of the posterior mean slip")
    ds.coords["station"] = ("station", np.arange(st.shape[0]))
    ds["station"].attrs.update(long_name="station index", units="1")
    _station_vars(ds, st)
    for k, v in extra.items():
        ds[k] = v
    add_metrics(ds, {
        "abic": (res.abic, "1", "Akaike's Bayesian information criterion at the chosen smoothing weight"),
        "log_evidence": (res.log_evidence, "1", "natural log of the marginal likelihood p(d | weight, sigma2)"),
        "smoothing_weight": (float(res.weights[0]), "m-2", "Laplacian smoothing weight alpha^2 chosen by ABIC"),
        "sigma2": (res.sigma2, "1", "noise-variance factor multiplying the assumed data variances"),
        "misfit": (res.misfit, "1", "weighted squared residual |(G s - d) / sigma|^2"),
        "roughness": (res.roughness, "m2", "squared Laplacian roughness |L s|^2 of the posterior mean slip"),
    })
    ds.attrs.update(n_strike=grid.n_strike, n_dip=grid.n_dip, patch_length_m=float(grid.length[0]),
                    patch_width_m=float(grid.width[0]))
    return ds


def slip_synthetic_dataset(cfg: Mapping, *, seed: int) -> xr.Dataset:
    """Distributed slip from noisy synthetic data: Gaussian slip patch, Laplacian smoothing chosen by ABIC.
    ``cfg``: section ``okada.slip.synthetic`` + ``nu``."""
    f = cfg["fault"]
    grid = patch_grid(**{k: float(f[k]) for k in GEOMETRY}, n_strike=int(cfg["patches"]["n_strike"]),
                      n_dip=int(cfg["patches"]["n_dip"]))
    t = cfg["truth"]
    r2 = ((grid.along - float(t["center_along_m"])) ** 2 + (grid.down - float(t["center_down_m"])) ** 2).numpy()
    mag = float(t["peak_m"]) * np.exp(-0.5 * r2 / float(t["radius_m"]) ** 2)
    rake = math.radians(float(t["rake"]))
    true = np.concatenate([mag * math.cos(rake), mag * math.sin(rake)])
    st = _grid(int(cfg["stations"]["n"]), float(cfg["stations"]["half_width_m"]))
    Gm = design_matrix(greens_matrix(st, grid, nu=float(cfg["nu"])).numpy())
    sig = _noise(cfg["noise_m"], st.shape[0]).numpy().reshape(-1)
    rng = np.random.default_rng(int(seed))
    d = Gm @ true + sig * rng.standard_normal(sig.shape)
    res = fit_abic(Gm, d, [laplacian_blocks(grid)], data_sigma=sig, log10_bounds=tuple(cfg["log10_bounds"]))
    p = grid.n
    within = np.abs(res.coef - true) <= 2 * res.std
    extra = {
        "true_strike_slip": _attrs(xr.DataArray(true[:p], dims="patch"), "m", "true strike-slip"),
        "true_dip_slip": _attrs(xr.DataArray(true[p:], dims="patch"), "m", "true dip-slip"),
    }
    ds = _slip_dataset(grid, res, Gm, d, sig, st.numpy(), extra)
    rel = float(np.linalg.norm(res.coef - true) / np.linalg.norm(true))
    within1 = np.abs(res.coef - true) <= res.std
    cov = gaussian_coverage(Gm, sig, laplacian_blocks(grid), math.log10(float(res.weights[0])),
                            int(cfg["coverage"]["prior_draws"]), rng, log10_bounds=tuple(cfg["log10_bounds"]))
    ds.coords["prior_draw"] = ("prior_draw", np.arange(cov.shape[0]))
    ds["prior_draw"].attrs.update(long_name="truth drawn from the prior at the ABIC weight", units="1")
    ds["prior_within_1sd"] = _attrs(xr.DataArray(cov[:, 0], dims="prior_draw"), "1",
                                    "fraction of components within 1 posterior sd (truth drawn from the prior)")
    ds["prior_within_2sd"] = _attrs(xr.DataArray(cov[:, 1], dims="prior_draw"), "1",
                                    "fraction of components within 2 posterior sd (truth drawn from the prior)")
    add_metrics(ds, {
        "relative_l2_error": (rel, "1", "|s - s_true| / |s_true| over all patch slip components"),
        "fraction_within_1sd": (float(within1.mean()), "1",
                                "fraction of patch slip components within 1 posterior std of the smooth truth"),
        "fraction_within_2sd": (float(within.mean()), "1",
                                "fraction of patch slip components within 2 posterior std of the smooth truth"),
        "prior_fraction_within_1sd": (float(cov[:, 0].mean()), "1",
                                      "same, pooled over truths drawn from the prior (calibrated: 0.683)"),
        "prior_fraction_within_2sd": (float(cov[:, 1].mean()), "1",
                                      "same, pooled over truths drawn from the prior (calibrated: 0.954)"),
    })
    ds.attrs.update(case="synthetic", title="Okada distributed-slip inversion (synthetic)")
    log.info("synthetic slip: relative L2 error %.3f; within 1/2 sd: smooth truth %.2f/%.2f, prior draws %.2f/%.2f",
             rel, within1.mean(), within.mean(), cov[:, 0].mean(), cov[:, 1].mean())
    return ds


def _moment_mw(slip: np.ndarray, area: np.ndarray, mu: float) -> tuple[np.ndarray, np.ndarray]:
    """Seismic moment mu sum(area |s|) (N m) and Mw = (2/3)(log10 M0 - 9.1) of slip magnitudes (..., P)."""
    m0 = mu * np.sum(slip * area, axis=-1)
    return m0, (2.0 / 3.0) * (np.log10(m0) - 9.1)


class _Geometry:
    """One fault parameterisation of the Tohoku case: its design builder (raw Green's functions in local ENU minus
    the reference site, in rake-window coefficients), smoothing Laplacian, patch table and plotting triangles."""

    def __init__(self, kind, build, lap, table, tri_lon, tri_lat, tri_patch, area, perturb):
        self.kind, self.build, self.lap, self.table = kind, build, lap, table
        self.tri_lon, self.tri_lat, self.tri_patch, self.area, self.perturb = tri_lon, tri_lat, tri_patch, area, perturb


def _enu_design(G: np.ndarray, frame, lon: np.ndarray, lat: np.ndarray, T: np.ndarray, rotate: bool = True
                ) -> np.ndarray:
    """Green's functions (n+1, 3, P, 2) on grid axes (last row: the reference site) -> design (3 n, 2 P) in each
    station's local ENU (meridian convergence), differenced with the reference site."""
    if rotate:
        G = frame.to_local_enu(lon, lat, G)
    return coefficient_design(G[:-1] - G[-1:], T)


def _slab_geometry(mesh, frame, st, lon, lat, cfg, nu, T) -> _Geometry:
    s = cfg["slab"]
    P = interface_patches(mesh, frame, strike=float(s["strike"]), cell_along_m=float(s["cell_along_m"]),
                          cell_down_m=float(s["cell_down_m"]), min_fill=float(s["min_fill"]))

    base = {}

    def build(tris=None, nu=nu, rotate=True):
        if tris is None and nu == float(cfg["nu"]):  # the unperturbed Green's functions are computed once
            if "G" not in base:
                base["G"] = patch_matrix(st, P.tris, P.patch_of, P.n, nu=nu)
            g = base["G"]
        else:
            g = patch_matrix(st, P.tris if tris is None else tris, P.patch_of, P.n, nu=nu)
        return _enu_design(g, frame, lon, lat, T, rotate)

    def perturb(kind, h):
        tris = P.tris.copy()
        if kind == "depth":  # the whole interface h metres deeper
            tris[..., 2] -= h
        else:  # depths scaled by 1 + h (dip steepened about the trench)
            tris[..., 2] *= 1.0 + h
        return build(tris=tris)

    tl, tt = frame.lonlat(P.tris[..., 0], P.tris[..., 1])
    table = dict(lon=P.lon, lat=P.lat, depth=P.depth, along=P.along, down=P.down, dip=P.dip, i_along=P.i_along,
                 i_down=P.i_down)
    return _Geometry("slab", build, P.laplacian(trench=cfg["trench_edge"]), table, tl, tt, P.patch_of, P.area,
                     perturb)


def _plane_geometry(frame, st, lon, lat, cfg, nu, T) -> _Geometry:
    f = cfg["fault"]
    e0, n0 = frame.xy(float(f["lon"]), float(f["lat"]))
    kw = {k: float(f[k]) for k in ("depth", "strike", "dip", "length", "width")}
    ns, nd = int(cfg["patches"]["n_strike"]), int(cfg["patches"]["n_dip"])
    sta = torch.tensor(st, dtype=F64)

    def grid_of(depth=kw["depth"], dip=kw["dip"]):
        return patch_grid(east=float(e0), north=float(n0), **{**kw, "depth": depth, "dip": dip}, n_strike=ns, n_dip=nd)

    def build(grid=None, nu=nu, rotate=True):
        return _enu_design(greens_matrix(sta, grid or grid_of(), nu=nu).numpy(), frame, lon, lat, T, rotate)

    def perturb(kind, h):
        return build(grid_of(depth=kw["depth"] + h) if kind == "depth" else grid_of(dip=kw["dip"] * (1.0 + h)))

    grid = grid_of()
    cen = grid.centroids().numpy()
    # corners of each patch -> two plotting triangles
    phi, dl = math.radians(kw["strike"]), math.radians(kw["dip"])
    s_hat = np.array([math.sin(phi), math.cos(phi)])
    d_hat = np.array([math.cos(phi), -math.sin(phi)]) * math.cos(dl)
    top = np.stack([grid.east.numpy(), grid.north.numpy()], -1)
    L, W = grid.length.numpy()[:, None], grid.width.numpy()[:, None]
    a, b = top - 0.5 * L * s_hat, top + 0.5 * L * s_hat
    c, d = b + W * d_hat, a + W * d_hat
    tri = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    tl, tt = frame.lonlat(tri[..., 0], tri[..., 1])
    plon, plat = frame.lonlat(cen[:, 0], cen[:, 1])
    i_s, i_d = grid.i_strike.numpy(), grid.i_dip.numpy()
    lap = grid_laplacian(i_s, i_d, cen, (float(grid.length[0]), float(grid.width[0])), trench=cfg["trench_edge"])
    table = dict(lon=plon, lat=plat, depth=-cen[:, 2], along=grid.along.numpy(), down=grid.down.numpy(),
                 dip=np.full(grid.n, kw["dip"]), i_along=i_s, i_down=i_d)
    area = (grid.length * grid.width).numpy()
    return _Geometry("plane", build, lap, table, tl, tt, np.concatenate([np.arange(grid.n)] * 2), area, perturb)


def _sensitivities(geom: _Geometry, A: np.ndarray, cfg: Mapping, nu: float) -> list[tuple[np.ndarray, float]]:
    """One-sided finite-difference sensitivities dA / d theta of the uncertain model parameters with sigma > 0."""
    pe = cfg["prediction_error"]
    out = []
    if pe["depth_sigma_m"] > 0:
        h = 1000.0
        out.append(((geom.perturb("depth", h) - A) / h, float(pe["depth_sigma_m"])))
    if pe["dip_scale_sigma"] > 0:
        h = 0.05
        out.append(((geom.perturb("dip", h) - A) / h, float(pe["dip_scale_sigma"])))
    if pe["nu_sigma"] > 0:
        h = 0.02
        out.append(((geom.build(nu=nu + h) - A) / h, float(pe["nu_sigma"])))
    return out


def _curve_attrs(curve, bounds) -> str:
    """How the smoothing weight was decided, for attributes and captions."""
    if curve.interior:
        return (f"ABIC minimum inside the search range (log10 w = {curve.best_log10_w:.2f} within "
                f"[{bounds[0]}, {bounds[1]}])")
    return (f"search bound: ABIC decreases to the bound log10 w = {curve.best_log10_w:.2f} of "
            f"[{bounds[0]}, {bounds[1]}]; the weight is set by the bound, not chosen by ABIC")


def _published_source() -> str:
    """The citations of ``okada.slip.tohoku.published_peak_slip_m`` (its schema description: one place)."""
    from sciml.config import schema

    tk = schema("okada")["properties"]["slip"]["properties"]["tohoku"]["properties"]
    return " ".join(tk["published_peak_slip_m"]["description"].split())


def _tohoku_data(gps: xr.Dataset, cfg: Mapping) -> dict:
    """Sites kept (``exclude_south_of_lat``) with the reference site appended, model-frame coordinates, the data
    vector (station-major e/n/u), its sigmas and the rake-window matrix of one Tohoku configuration."""
    frame = MapFrame(float(cfg["frame"]["lon0"]), float(cfg["frame"]["lat0"]))
    keep = np.ones(gps.sizes["station"], bool)
    if cfg["exclude_south_of_lat"] is not None:
        keep = gps["lat"].values >= float(cfg["exclude_south_of_lat"])
    g = gps.isel(station=np.flatnonzero(keep))
    lon = np.append(g["lon"].values, gps.attrs["reference_lon"])
    lat = np.append(g["lat"].values, gps.attrs["reference_lat"])
    x, y = frame.xy(lon, lat)
    return dict(frame=frame, g=g, lon=lon, lat=lat, x=x, y=y, st=np.stack([x, y, np.zeros_like(x)], -1),
                T=rake_window(float(cfg["rake"]["center"]), float(cfg["rake"]["half_width"])),
                d=np.stack([g["east"].values, g["north"].values, g["up"].values], -1).reshape(-1),
                sig=_noise(cfg["sigma_m"], g.sizes["station"]).numpy().reshape(-1))


def _tohoku_geometry(kind: str, mesh, data: Mapping, cfg: Mapping) -> _Geometry:
    args = (data["frame"], data["st"], data["lon"], data["lat"], cfg, float(cfg["nu"]), data["T"])
    return _slab_geometry(mesh, *args) if kind == "slab" else _plane_geometry(*args)


def _tohoku_fit(geom: _Geometry, data: Mapping, cfg: Mapping, *, n_samples: int, rng: np.random.Generator):
    """(design, :class:`~sciml.okada.slip.PositiveSlipInversion`) of one geometry: positivity, C_p iterations,
    ABIC weight, ``n_samples`` posterior draws (0: MAP and ABIC curve only)."""
    pe, pc = cfg["prediction_error"], cfg["posterior"]
    A = geom.build()
    sens = _sensitivities(geom, A, cfg, float(cfg["nu"])) if int(pe["iterations"]) > 0 else []
    fit = invert_positive(
        A, data["d"], data["sig"] ** 2, smoothing_operator(geom.lap, data["T"]), sensitivities=sens,
        relative=float(pe["relative"]), cp_iterations=int(pe["iterations"]),
        log10_bounds=tuple(float(b) for b in cfg["log10_bounds"]), n_grid=int(cfg["n_grid"]), n_samples=n_samples,
        rng=rng, chains=int(pc["chains"]), burn=int(pc["burn"]), min_mass=float(pc["min_mass"]))
    log.info("Tohoku %s: log10 w %.2f (%s), ABIC %.1f", geom.kind, fit.curve.best_log10_w,
             "interior" if fit.curve.interior else "at a bound", fit.curve.best_abic)
    return A, fit


def slip_tohoku_dataset(gps: xr.Dataset, mesh, cfg: Mapping, *, seed: int) -> xr.Dataset:
    """Distributed slip of the 2011 Tohoku earthquake from the Ozawa et al. (2011) GEONET offsets (relative to a
    reference site) on the Slab 2.0 interface (triangular dislocations, patches of ``slab.cell_*``) or on a plane
    (``geometry``), slip within a rake window (a >= 0), model-prediction covariance, ABIC-chosen and marginalised
    smoothing weight, truncated-Gaussian posterior; the other geometry is fitted for the ABIC comparison.
    ``cfg``: section ``okada.slip.tohoku`` + ``nu``."""
    mu = float(cfg["mu_pa"])
    data = _tohoku_data(gps, cfg)
    frame, g, lon, lat, x, y, T, d, sig = (data[k] for k in ("frame", "g", "lon", "lat", "x", "y", "T", "d", "sig"))
    bounds = tuple(float(b) for b in cfg["log10_bounds"])
    rng = np.random.default_rng(int(seed))
    geoms, fits, designs = {}, {}, {}
    for kind in (cfg["geometry"], "plane" if cfg["geometry"] == "slab" else "slab"):
        geoms[kind] = _tohoku_geometry(kind, mesh, data, cfg)
        designs[kind], fits[kind] = _tohoku_fit(geoms[kind], data, cfg, rng=rng, n_samples=int(
            cfg["posterior"]["samples"]) if kind == cfg["geometry"] else 0)
    kind = cfg["geometry"]
    geom, fit, A = geoms[kind], fits[kind], designs[kind]
    alt = "plane" if kind == "slab" else "slab"
    post, curve = fit.post, fit.curve
    p = geom.area.size
    ss, ds = coefficients_to_slip(fit.map, T)
    slip = np.hypot(ss, ds)
    s_ss, s_ds = coefficients_to_slip(post.samples, T)
    s_slip = np.hypot(s_ss, s_ds)
    m0, mw = _moment_mw(slip, geom.area, mu)
    s_m0, s_mw = _moment_mw(s_slip, geom.area, mu)
    s_peak = s_slip.max(1)
    k = int(np.argmax(slip))
    tab = geom.table
    south = tab["lat"] < float(cfg["aftershock_lat"])
    m0_s, mw_s = _moment_mw(slip * south, geom.area, mu)
    pred = A @ fit.map
    # geometry diagnostics: the same slip without the rotation into local ENU, and the projection's scale error
    pred_norot = geom.build(rotate=False) @ fit.map
    dist = np.hypot(x[:-1] - 0.0, y[:-1] - 0.0)
    near = np.repeat(dist <= 300e3, 3)
    rot = (pred - pred_norot).reshape(-1, 3)
    kscale = frame.scale(lon[:-1], lat[:-1]) - 1.0

    ds_ = xr.Dataset(coords={"patch": np.arange(p), "obs_index": np.arange(d.size), "station": np.arange(g.sizes["station"]),
                             "tri": np.arange(geom.tri_patch.size), "vertex": np.arange(3),
                             "log10_w": curve.log10_w, "sample": np.arange(post.samples.shape[0])})
    for c, (ln, u) in {"patch": ("patch index", "1"), "obs_index": ("observation index (station-major, e/n/u)", "1"),
                       "station": ("station index", "1"), "tri": ("plotting triangle index", "1"),
                       "vertex": ("triangle vertex", "1"), "log10_w": ("log10 of the smoothing weight", "1"),
                       "sample": ("posterior draw", "1")}.items():
        ds_[c].attrs.update(long_name=ln, units=u)
    for name, (units, ln) in {"lon": ("degrees_east", "patch centroid longitude"),
                              "lat": ("degrees_north", "patch centroid latitude"),
                              "depth": ("m", "patch centroid depth"), "along": ("m", "patch centroid along strike"),
                              "down": ("m", "patch centroid down dip from the top edge / trench (horizontal)"),
                              "dip": ("degree", "patch dip"), "i_along": ("1", "patch column (along strike)"),
                              "i_down": ("1", "patch row (down dip)")}.items():
        ds_[f"patch_{name}"] = _attrs(xr.DataArray(np.asarray(tab[name]), dims="patch"), units, ln)
    ds_["patch_area"] = _attrs(xr.DataArray(geom.area, dims="patch"), "m2", "patch area")
    ds_["tri_lon"] = _attrs(xr.DataArray(geom.tri_lon, dims=("tri", "vertex")), "degrees_east", "triangle vertex lon")
    ds_["tri_lat"] = _attrs(xr.DataArray(geom.tri_lat, dims=("tri", "vertex")), "degrees_north", "triangle vertex lat")
    ds_["tri_patch"] = _attrs(xr.DataArray(geom.tri_patch, dims="tri"), "1", "patch of each triangle")
    for name, v, ln in (("strike_slip", ss, "strike-slip of the MAP (left-lateral positive)"),
                        ("dip_slip", ds, "dip-slip of the MAP (reverse positive)"),
                        ("slip", slip, "slip magnitude of the MAP (NNLS at the ABIC weight)"),
                        ("slip_mean", s_slip.mean(0), "posterior mean slip magnitude (weight marginalised)"),
                        ("slip_std", s_slip.std(0, ddof=1), "posterior std of slip magnitude (weight marginalised)"),
                        ("slip_p05", np.percentile(s_slip, 5, 0), "posterior 5 % quantile of slip magnitude"),
                        ("slip_p95", np.percentile(s_slip, 95, 0), "posterior 95 % quantile of slip magnitude"),
                        ("strike_slip_std", s_ss.std(0, ddof=1), "posterior std of strike-slip"),
                        ("dip_slip_std", s_ds.std(0, ddof=1), "posterior std of dip-slip")):
        ds_[name] = _attrs(xr.DataArray(v, dims="patch"), "m", ln)
    ds_["rake"] = _attrs(xr.DataArray(np.degrees(np.arctan2(ds, ss)), dims="patch"), "degree", "rake of the MAP slip")
    ds_["sample_slip"] = _attrs(xr.DataArray(s_slip, dims=("sample", "patch")), "m", "posterior draws of slip")
    ds_["sample_log10_w"] = _attrs(xr.DataArray(post.sample_log10_w, dims="sample"), "1", "log10 w of each draw")
    ds_["sample_mw"] = _attrs(xr.DataArray(s_mw, dims="sample"), "1", "Mw of each posterior draw")
    ds_["obs"] = _attrs(xr.DataArray(d, dims="obs_index"), "m", "observed displacement (relative to the reference)")
    ds_["obs_sigma"] = _attrs(xr.DataArray(sig, dims="obs_index"), "m", "assumed data standard deviation (C_d)")
    ds_["total_sigma"] = _attrs(xr.DataArray(np.sqrt(post.sigma2 * np.diag(fit.cov)), dims="obs_index"), "m",
                                "sqrt(sigma2 diag(C_d + C_p)): total data + prediction standard deviation")
    ds_["model"] = _attrs(xr.DataArray(pred, dims="obs_index"), "m", "displacement of the MAP slip")
    ds_["lon"] = _attrs(xr.DataArray(g["lon"].values, dims="station"), "degrees_east", "station longitude")
    ds_["lat"] = _attrs(xr.DataArray(g["lat"].values, dims="station"), "degrees_north", "station latitude")
    ds_["site"] = _attrs(xr.DataArray(g["site"].values, dims="station"), "1", "site ID (Ozawa et al. 2011)")
    ds_["abic"] = _attrs(xr.DataArray(curve.abic, dims="log10_w"), "1", "ABIC with positivity (NNLS), this geometry")
    ds_["abic_unconstrained"] = _attrs(xr.DataArray(curve.abic_unconstrained, dims="log10_w"), "1",
                                       "ABIC of the unconstrained Gaussian model, this geometry")
    ds_["abic_other"] = _attrs(xr.DataArray(fits[alt].curve.abic, dims="log10_w"), "1",
                               f"ABIC with positivity of the {alt} geometry")
    ds_["peak_slip_curve"] = _attrs(xr.DataArray(
        [np.hypot(*coefficients_to_slip(fit.prob.nnls(10.0 ** t), T)).max() for t in curve.log10_w], dims="log10_w"),
        "m", "peak slip of the NNLS solution at each grid weight (how the weight controls the peak)")
    ds_["weight_posterior"] = _attrs(xr.DataArray(curve.posterior, dims="log10_w"), "1",
                                     "p(log10 w | d) on the grid (flat prior on log10 w)")
    m = fit.prob.m
    ds_.coords["coef"] = ("coef", np.arange(m))
    ds_["coef"].attrs.update(long_name="rake-window coefficient (first rake for all patches, then second)", units="1")
    ds_["whitened_design"] = _attrs(xr.DataArray(fit.prob.G, dims=("obs_index", "coef")), "1",
                                    "design matrix whitened by chol(C_d + C_p) (per m of coefficient)")
    ds_["smoothing_operator"] = _attrs(xr.DataArray(fit.prob.R, dims=("coef_row", "coef")), "1",
                                       "smoothing operator R (|R a|^2 = |L ss|^2 + |L ds|^2)")
    lon_pk, lat_pk = float(tab["lon"][k]), float(tab["lat"][k])
    choice = _curve_attrs(curve, bounds)
    add_metrics(ds_, {
        "peak_slip": (float(slip[k]), "m", "peak slip of the MAP"),
        "peak_lon": (lon_pk, "degrees_east", "longitude of the MAP peak-slip patch"),
        "peak_lat": (lat_pk, "degrees_north", "latitude of the MAP peak-slip patch"),
        "peak_depth": (float(tab["depth"][k]), "m", "depth of the MAP peak-slip patch centroid"),
        "peak_slip_p05": (float(np.percentile(s_peak, 5)), "m", "posterior 5 % quantile of the peak slip"),
        "peak_slip_p95": (float(np.percentile(s_peak, 95)), "m", "posterior 95 % quantile of the peak slip"),
        "moment_nm": (float(m0), "N m", "seismic moment mu sum(A |s|) of the MAP"),
        "mw": (float(mw), "1", "moment magnitude (2/3)(log10 M0 - 9.1) of the MAP"),
        "mw_p05": (float(np.percentile(s_mw, 5)), "1", "posterior 5 % quantile of Mw"),
        "mw_p95": (float(np.percentile(s_mw, 95)), "1", "posterior 95 % quantile of Mw"),
        "mw_south": (float(mw_s), "1", "Mw of the MAP slip south of aftershock_lat (Ibaraki-oki)"),
        "abic": (curve.best_abic, "1", "ABIC with positivity at the chosen weight"),
        "abic_other": (fits[alt].curve.best_abic, "1", f"ABIC with positivity of the {alt} geometry at its optimum"),
        "delta_abic_plane_minus_slab": (fits["plane"].curve.best_abic - fits["slab"].curve.best_abic, "1",
                                        "ABIC(plane) - ABIC(slab): > 0 favours the slab interface"),
        "log10_weight": (curve.best_log10_w, "1", "log10 of the smoothing weight at the ABIC minimum"),
        "log10_weight_unconstrained": (curve.best_log10_w_unconstrained, "1",
                                       "log10 w minimising the unconstrained ABIC (grid)"),
        "weight_interior": (int(curve.interior), "1", "1 if the ABIC minimum is inside the search range, else 0"),
        "other_weight_interior": (int(fits[alt].curve.interior), "1",
                                  f"1 if the {alt} geometry's ABIC minimum is inside the range"),
        "sigma2": (post.sigma2, "1", "variance factor of C_d + C_p at the optimum (profiled)"),
        "rms_residual": (float(np.sqrt(np.mean((pred - d) ** 2))), "m", "rms of MAP residuals (all components)"),
        "chi2_per_datum": (float(fit.prob.objective(fit.map, 0.0) / d.size), "1",
                           "|C^-1/2 (G a - d)|^2 / N of the MAP, C = C_d + C_p"),
        "n_patches": (p, "1", "fault patches"), "n_data": (d.size, "1", "data (3 per station)"),
        "enu_rotation_max": (float(np.abs(rot).max()), "m",
                             "max change of a MAP prediction from rotating into local ENU (meridian convergence)"),
        "enu_rotation_rms_300km": (float(np.sqrt(np.mean(rot.reshape(-1)[near] ** 2))), "m",
                                   "rms of that change within 300 km of the frame origin"),
        "max_convergence_deg": (float(np.degrees(np.abs(frame.true_north_angle(lon[:-1], lat[:-1])).max())),
                                "degree", "largest meridian convergence at a station"),
        "projection_scale_error_500km": (float(np.abs(kscale[dist <= 500e3]).max()), "1",
                                         "largest |k - 1| of the map projection within 500 km of the origin"),
    })
    ds_.attrs.update(case="tohoku", geometry=kind, weight_choice=choice, weight_decided_by_bound=int(not curve.interior),
                     log10_bounds=list(bounds), rake_window=[float(cfg["rake"]["center"]), float(cfg["rake"]["half_width"])],
                     rake_matrix=T.reshape(-1).tolist(), frame_lon0=frame.lon0, frame_lat0=frame.lat0,
                     reference_lon=float(gps.attrs["reference_lon"]), reference_lat=float(gps.attrs["reference_lat"]),
                     source_file=gps.attrs["source_file"], citation=gps.attrs["citation"], mesh_source=mesh.source,
                     excluded_south_of_lat=-999.0 if cfg["exclude_south_of_lat"] is None else float(cfg["exclude_south_of_lat"]),
                     aftershock_lat=float(cfg["aftershock_lat"]), mu_pa=mu,
                     published_peak_slip_m=[float(b) for b in cfg["published_peak_slip_m"]],
                     published_peak_slip_source=_published_source(),
                     title=f"Okada distributed-slip inversion (tohoku, {kind} geometry)")
    log.info("Tohoku %s: peak %.1f m at %.2fE %.2fN, Mw %.3f [%.3f, %.3f], rms %.3f m; %s", kind, slip[k], lon_pk,
             lat_pk, mw, np.percentile(s_mw, 5), np.percentile(s_mw, 95), np.sqrt(np.mean((pred - d) ** 2)), choice)
    return ds_


def tohoku_variants(cfg: Mapping) -> dict[str, tuple[str, dict]]:
    """Variant name -> (description, completed ``okada.slip.tohoku`` section + ``nu``) of a sensitivity slice
    (``tohoku``, ``variants``, ``nu``): ``default`` is the section itself, each variant the section with its
    overrides merged in. Every merged section is checked against the schema first (an unknown or invalid key
    names ``okada.slip.sensitivity.variants.<name>.overrides``)."""
    from sciml.config import tohoku_variant

    base = {k: v for k, v in cfg["tohoku"].items() if k != "nu"}
    out = {"default": ("okada.slip.tohoku as configured", {**base, "nu": cfg["nu"]})}
    for name, v in cfg["variants"].items():
        if name in out:
            raise bad_value(f"config okada.slip.sensitivity.variants.{name}", "name", name,
                            "reserved for okada.slip.tohoku itself; choose another name")
        out[name] = (str(v["description"]), {**tohoku_variant(base, name, v["overrides"]), "nu": cfg["nu"]})
    return out


def slip_sensitivity_dataset(gps: xr.Dataset, mesh, cfg: Mapping,
                             variants: Mapping[str, tuple[str, dict]] | None = None) -> xr.Dataset:
    """The Tohoku MAP inversion (positivity, C_p, ABIC weight; no posterior draws) of every variant of
    :func:`tohoku_variants`: peak slip and its place, Mw, ABIC and its weight, fit. ``delta_abic`` is against
    ``default`` and only where the variant has the same data (same sites); ABIC values of different C_p are
    empirical-Bayes comparisons (C_p is evaluated at each model's own MAP), indicative rather than strict
    evidence ratios. ``cfg``: ``tohoku`` (okada.slip.tohoku), ``variants`` (okada.slip.sensitivity), ``nu``;
    ``variants``: :func:`tohoku_variants` of ``cfg`` when the caller has it already."""
    variants = tohoku_variants(cfg) if variants is None else variants  # all checked before any work
    rows = {}
    for name, (_, sec) in variants.items():
        data = _tohoku_data(gps, sec)
        geom = _tohoku_geometry(sec["geometry"], mesh, data, sec)
        A, fit = _tohoku_fit(geom, data, sec, n_samples=0, rng=np.random.default_rng(0))
        slip = np.hypot(*coefficients_to_slip(fit.map, data["T"]))
        k = int(np.argmax(slip))
        pred = A @ fit.map
        rows[name] = dict(
            peak_slip=float(slip[k]), peak_lon=float(geom.table["lon"][k]), peak_lat=float(geom.table["lat"][k]),
            peak_depth=float(geom.table["depth"][k]), mw=float(_moment_mw(slip, geom.area, float(sec["mu_pa"]))[1]),
            abic=fit.curve.best_abic, log10_weight=fit.curve.best_log10_w, weight_interior=int(fit.curve.interior),
            rms_residual=float(np.sqrt(np.mean((pred - data["d"]) ** 2))), n_data=int(data["d"].size),
            sites=",".join(map(str, data["g"]["site"].values)))
        log.info("sensitivity %s: peak %.1f m, Mw %.2f, ABIC %.1f, log10 w %.2f", name, slip[k], rows[name]["mw"],
                 fit.curve.best_abic, fit.curve.best_log10_w)
    names = list(rows)
    col = lambda key: np.array([rows[n][key] for n in names])  # noqa: E731
    same = np.array([rows[n]["sites"] == rows["default"]["sites"] for n in names])
    lo, hi = (float(b) for b in cfg["tohoku"]["published_peak_slip_m"])
    ds = xr.Dataset(coords={"variant": names})
    ds["variant"].attrs.update(long_name="sensitivity variant (okada.slip.sensitivity.variants)", units="1")
    ds["description"] = _attrs(xr.DataArray([variants[n][0] for n in names], dims="variant"), "1",
                               "what the variant changes")
    ds["overrides"] = _attrs(xr.DataArray([json.dumps(cfg["variants"].get(n, {}).get("overrides", {}),
                                                      sort_keys=True) for n in names], dims="variant"), "1",
                             "okada.slip.tohoku keys changed (JSON)")
    for key, units, ln in (("peak_slip", "m", "peak slip of the MAP"),
                           ("peak_lon", "degrees_east", "longitude of the MAP peak-slip patch"),
                           ("peak_lat", "degrees_north", "latitude of the MAP peak-slip patch"),
                           ("peak_depth", "m", "depth of the MAP peak-slip patch centroid"),
                           ("mw", "1", "moment magnitude of the MAP"),
                           ("abic", "1", "ABIC with positivity at the chosen weight"),
                           ("log10_weight", "1", "log10 of the smoothing weight at the ABIC minimum"),
                           ("weight_interior", "1", "1 if the ABIC minimum is inside the search range, else 0"),
                           ("rms_residual", "m", "rms of MAP residuals (all components)"),
                           ("n_data", "1", "data (3 per site kept)")):
        ds[key] = _attrs(xr.DataArray(col(key), dims="variant"), units, ln)
    ds["same_data"] = _attrs(xr.DataArray(same.astype(int), dims="variant"), "1",
                             "1 if the variant fits the same sites as default (ABIC comparable)")
    ds["delta_abic"] = _attrs(xr.DataArray(np.where(same, col("abic") - rows["default"]["abic"], np.nan),
                                           dims="variant"), "1",
                              "ABIC(variant) - ABIC(default), same data only (> 0: default preferred)")
    ds["within_published"] = _attrs(xr.DataArray(((col("peak_slip") >= lo) & (col("peak_slip") <= hi)).astype(int),
                                                 dims="variant"), "1",
                                    "1 if the MAP peak slip lies in published_peak_slip_m")
    comparable = [n for n, s_ in zip(names, same) if s_]
    best = comparable[int(np.argmin([rows[n]["abic"] for n in comparable]))]
    add_metrics(ds, {
        "default_peak_slip": (rows["default"]["peak_slip"], "m", "MAP peak slip of okada.slip.tohoku"),
        "peak_slip_min": (float(col("peak_slip").min()), "m", "smallest MAP peak slip over the variants"),
        "peak_slip_max": (float(col("peak_slip").max()), "m", "largest MAP peak slip over the variants"),
        "n_within_published": (int(ds["within_published"].sum()), "1", "variants whose peak is in the published range"),
        "default_is_abic_best": (int(best == "default"), "1",
                                 "1 if default has the lowest ABIC among the variants with the same data"),
    })
    ds.attrs.update(case="tohoku_sensitivity", abic_best_variant=best, published_peak_slip_m=[lo, hi],
                    published_peak_slip_source=_published_source(), source_file=gps.attrs["source_file"],
                    citation=gps.attrs["citation"], mesh_source=mesh.source,
                    title="Okada Tohoku slip: sensitivity of the MAP to the modelling choices")
    return ds


def slip_resolution_dataset(tk: xr.Dataset, cfg: Mapping, *, seed: int) -> xr.Dataset:
    """Checkerboard and spike resolution tests on the patches, whitened design and smoothing of a Tohoku slip
    result: synthetic data (noise of its sigma2 unless ``noise`` is false), weight re-chosen by ABIC with
    positivity, NNLS recovery. ``cfg``: section ``okada.slip.resolution``."""
    G, R = tk["whitened_design"].values, tk["smoothing_operator"].values
    T = np.asarray(tk.attrs["rake_matrix"], float).reshape(2, 2)
    rc = math.radians(float(tk.attrs["rake_window"][0]))
    per_m = np.linalg.solve(T, [math.cos(rc), math.sin(rc)])  # coefficients of 1 m of slip at the centre rake
    ia, idn = tk["patch_i_along"].values.astype(int), tk["patch_i_down"].values.astype(int)
    size = int(cfg["checker_size"])
    checker = float(cfg["checker_slip_m"]) * (((ia // size) + (idn // size)) % 2 == 0)
    spikes = np.zeros(ia.size)
    lon, lat = tk["patch_lon"].values, tk["patch_lat"].values
    for lo, la in cfg["spikes"]:
        spikes[int(np.argmin((lon - lo) ** 2 + ((lat - la) / math.cos(math.radians(la))) ** 2))] = float(
            cfg["spike_slip_m"])
    sigma = math.sqrt(float(tk["metric_sigma2"])) if cfg["noise"] else 0.0
    rng = np.random.default_rng(int(seed))
    bounds = tuple(float(b) for b in tk.attrs["log10_bounds"])
    out = xr.Dataset(coords={"patch": tk["patch"].values, "tri": tk["tri"].values, "vertex": tk["vertex"].values,
                             "log10_w": tk["log10_w"].values})
    for c in ("patch", "tri", "vertex", "log10_w"):
        out[c].attrs.update(tk[c].attrs)
    for v in ("tri_lon", "tri_lat", "tri_patch", "patch_lon", "patch_lat", "patch_depth", "patch_area"):
        out[v] = tk[v].variable  # without its coordinates (tri_lon/tri_lat are auxiliary coordinates)
    metrics = {}
    for name, truth in (("checker", checker), ("spike", spikes)):
        a_true = np.concatenate([truth * per_m[0], truth * per_m[1]])
        d = G @ a_true + sigma * rng.standard_normal(G.shape[0])
        prob = SlipProblem(G, d, R)
        curve = abic_curve(prob, bounds, tk.sizes["log10_w"])
        ss, ds_ = coefficients_to_slip(prob.nnls(10.0 ** curve.best_log10_w), T)
        rec = np.hypot(ss, ds_)
        out[f"{name}_true"] = _attrs(xr.DataArray(truth, dims="patch"), "m", f"{name} test: true slip")
        out[f"{name}_recovered"] = _attrs(xr.DataArray(rec, dims="patch"), "m", f"{name} test: recovered slip")
        out[f"{name}_abic"] = _attrs(xr.DataArray(curve.abic, dims="log10_w"), "1", f"{name} test: ABIC")
        area = tk["patch_area"].values
        metrics.update({
            f"{name}_correlation": (float(np.corrcoef(truth, rec)[0, 1]), "1", f"{name}: correlation true/recovered"),
            f"{name}_moment_ratio": (float((rec * area).sum() / (truth * area).sum()), "1",
                                     f"{name}: recovered / true moment"),
            f"{name}_log10_weight": (curve.best_log10_w, "1", f"{name}: log10 w at the ABIC minimum"),
            f"{name}_weight_interior": (int(curve.interior), "1", f"{name}: 1 if that minimum is inside the range"),
        })
    add_metrics(out, metrics)
    out.attrs.update(case="tohoku_resolution", geometry=tk.attrs["geometry"], noise_sigma2=sigma**2,
                     title="Okada slip resolution tests (checkerboard, spikes) on the Tohoku model")
    log.info("resolution: checkerboard r = %.2f, spikes r = %.2f", metrics["checker_correlation"][0],
             metrics["spike_correlation"][0])
    return out


@step("okada.slip", section=_with_nu("okada.slip.synthetic"),
      outputs={"nc": "netcdf: slip, posterior std, ABIC weight and evidence, errors against the true slip"})
def slip(cfg, inputs, *, seed, device, checkpoints):
    """Distributed slip from noisy synthetic data, Laplacian smoothing chosen by ABIC."""
    return Outputs(nc=slip_synthetic_dataset(cfg, seed=seed))


_TOHOKU_INPUTS = {
    "gps": "file: GEONET coseismic offsets, Ozawa et al. (2011) Table S1 (okada.slip.tohoku.gps)",
    "mesh_nodes": "file: plate-interface mesh nodes, index lon lat z (okada.slip.tohoku.mesh.nodes)",
    "mesh_faces": "file: plate-interface mesh triangles, index n1 n2 n3 (okada.slip.tohoku.mesh.faces)"}


@step("okada.slip_tohoku", section=_with_nu("okada.slip.tohoku"),
      inputs=_TOHOKU_INPUTS,
      outputs={"nc": "netcdf: Tohoku 2011 slip (MAP, weight-marginalised posterior), ABIC curves of slab and plane, "
                     "data fit, moment and Mw, whitened design for the resolution test"})
def slip_tohoku(cfg, inputs, *, seed, device, checkpoints):
    """Distributed slip of the 2011 Tohoku earthquake on the Slab 2.0 interface (or a plane), positivity in a rake
    window, model-prediction covariance, ABIC-marginalised smoothing."""
    mesh = read_trimesh(inputs["mesh_nodes"], inputs["mesh_faces"])
    return Outputs(nc=slip_tohoku_dataset(read_geonet_ozawa(inputs["gps"]), mesh, cfg, seed=seed))


def _sensitivity_section(config, wildcards):
    ok = config["okada"]
    return {"tohoku": lookup(config, "okada.slip.tohoku"), "variants": lookup(config, "okada.slip.sensitivity.variants"),
            "nu": ok["nu"]}


_sensitivity_section.__name__ = "okada.slip.tohoku + okada.slip.sensitivity + okada.nu"


@step("okada.slip_sensitivity", section=_sensitivity_section,
      inputs=_TOHOKU_INPUTS,
      outputs={"nc": "netcdf: per variant of the Tohoku model: MAP peak slip, place, Mw, ABIC and weight, fit"})
def slip_sensitivity(cfg, inputs, *, seed, device, checkpoints):
    """Which modelling choice sets the Tohoku peak slip: the MAP inversion re-run per configured variant."""
    variants = tohoku_variants(cfg)  # config errors before reading any file
    log.info("sensitivity variants: %s", ", ".join(variants))
    mesh = read_trimesh(inputs["mesh_nodes"], inputs["mesh_faces"])
    return Outputs(nc=slip_sensitivity_dataset(read_geonet_ozawa(inputs["gps"]), mesh, cfg, variants))


@step("okada.slip_resolution", section="okada.slip.resolution",
      inputs={"nc": "netcdf: Tohoku slip inversion (okada.slip_tohoku)"},
      outputs={"nc": "netcdf: checkerboard and spike tests: true and recovered slip, ABIC curves"})
def slip_resolution(cfg, inputs, *, seed, device, checkpoints):
    """Checkerboard and spike resolution tests with the Tohoku model's stations, covariance and smoothing."""
    tk = read_dataset(inputs["nc"], required=("whitened_design", "smoothing_operator", "patch_i_along"))
    return Outputs(nc=slip_resolution_dataset(tk, cfg, seed=seed))


# ----------------------------------------------------------------------------------------------------- figures
@step("okada.figures_synthetic", section=_no_config,
      inputs={"nc": "netcdf: synthetic observations and maps (okada.synthetic)"},
      outputs={"maps": "png: displacement and surface-strain maps", "sens": "png: parameter-sensitivity maps"})
def figures_synthetic(cfg, inputs, *, seed, device, checkpoints):
    """Displacement/strain maps and parameter-sensitivity maps of the synthetic fault."""
    from sciml.okada import figures

    ds = read_dataset(inputs["nc"])
    return Outputs(maps=figures.synthetic_maps(ds), sens=figures.sensitivity_maps(ds))


@step("okada.figure_posterior", section=_no_config,
      inputs={"nc": "netcdf: fault-parameter inversion (okada.invert or okada.invert_parkfield)"},
      outputs={"png": "png: corner plot of HMC samples, Laplace 2-sigma ellipses and the reference model"})
def figure_posterior(cfg, inputs, *, seed, device, checkpoints):
    """Corner plot of the HMC samples against the Laplace posterior and the truth (or published model)."""
    from sciml.okada.figures import posterior_figure

    return Outputs(png=posterior_figure(read_dataset(inputs["nc"])))


@step("okada.figure_slip", section=_no_config,
      inputs={"nc": "netcdf: slip inversion (okada.slip or okada.slip_tohoku)"},
      outputs={"png": "png: slip model against the truth (synthetic) or with its data fit (Tohoku)"})
def figure_slip(cfg, inputs, *, seed, device, checkpoints):
    """Slip model against the truth (synthetic) or the Tohoku slip map (headline)."""
    from sciml.okada.figures import slip_figure

    return Outputs(png=slip_figure(read_dataset(inputs["nc"])))


@step("okada.figure_slip_sensitivity", section=_no_config,
      inputs={"nc": "netcdf: Tohoku sensitivity variants (okada.slip_sensitivity)"},
      outputs={"png": "png: MAP peak slip per variant against the published range, ABIC against the default"})
def figure_slip_sensitivity(cfg, inputs, *, seed, device, checkpoints):
    """Peak slip and ABIC of each Tohoku sensitivity variant."""
    from sciml.okada.figures import slip_sensitivity_figure

    return Outputs(png=slip_sensitivity_figure(read_dataset(inputs["nc"], required=("peak_slip", "delta_abic"))))


@step("okada.figure_slip_resolution", section=_no_config,
      inputs={"nc": "netcdf: resolution tests (okada.slip_resolution)"},
      outputs={"png": "png: checkerboard and spike tests, true and recovered slip maps"})
def figure_slip_resolution(cfg, inputs, *, seed, device, checkpoints):
    """True and recovered slip of the checkerboard and spike tests on the Tohoku patches."""
    from sciml.okada.figures import slip_resolution_figure

    return Outputs(png=slip_resolution_figure(read_dataset(inputs["nc"])))


@step("okada.figure_parkfield_fit", section=_no_config,
      inputs={"nc": "netcdf: Parkfield inversion (okada.invert_parkfield)"},
      outputs={"png": "png: observed vs MAP and published-model horizontal offsets"})
def figure_parkfield_fit(cfg, inputs, *, seed, device, checkpoints):
    """Observed vs MAP and published-model horizontal offsets at the Parkfield GPS sites."""
    from sciml.okada.figures import parkfield_fit

    return Outputs(png=parkfield_fit(read_dataset(inputs["nc"])))
