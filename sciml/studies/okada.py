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
* ``okada.figures_synthetic``, ``okada.figure_posterior``, ``okada.figure_slip``,
  ``okada.figure_parkfield_fit``: the figures (:mod:`sciml.okada.figures`).

Every compute step reads its config section plus the top-level Poisson ratio ``okada.nu``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np
import torch
import xarray as xr

from sciml.config import lookup
from sciml.errors import bad_value
from sciml.geo import lonlat_to_enu
from sciml.io.netcdf import add_metrics, read_dataset
from sciml.linear_inverse import fit_abic
from sciml.okada.data import (published_parkfield_fault, read_geonet_ozawa, read_parkfield_fault, read_parkfield_gps,
                              read_station_lonlat)
from sciml.okada.derivatives import jacobian
from sciml.okada.fault import PARAM_UNITS, RECT_PARAMS, rectangle
from sciml.okada.greens import design_matrix, greens_matrix, laplacian_blocks, patch_grid
from sciml.okada.inversion import (FaultProblem, compare_to_laplace, laplace, levenberg_marquardt,
                                   reduced_chi2_scale, sample_hmc, start_from)
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
        ds["map_sensitivity"] = _attrs(
            xr.DataArray(np.moveaxis(jac.reshape(m, m, 3, len(sens)), (2, 3), (1, 0)),
                         dims=("sens_param", "component", "y", "x")),
            "m per parameter unit", "d displacement / d fault parameter (autograd)")
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
    res = sample_hmc(problem, lap, chains=int(h["chains"]), warmup=int(h["warmup"]), draws=int(h["draws"]),
                     leapfrog=int(h["leapfrog"]), target_accept=float(h["target_accept"]), generator=gen)
    cmp = compare_to_laplace(res.draws, lap)
    log.info("HMC accept %.2f, divergences %d; |mean offset|/sd max %.3f; std ratio %s", res.accept_rate,
             res.divergences, float(np.abs(cmp["mean_offset_sd"]).max()), np.round(cmp["std_ratio"], 3))

    keep = [v for v in ("station_east", "station_north", "station_up", "obs", "sigma", "truth", "site", "lon", "lat")
            if v in obs]
    ds = obs[keep].copy()
    ds = ds.drop_vars([c for c in ds.coords if c not in ("station", "component")])
    ds.coords["all_param"] = ("all_param", list(RECT_PARAMS))
    ds["all_param"].attrs.update(long_name="fault parameter (all)", units="1")
    ds[ref_key] = _attrs(xr.DataArray([ref_vals[k] for k in RECT_PARAMS], dims="all_param"), "see param_units",
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
    ds["covariance"] = _attrs(xr.DataArray(lap.cov.numpy(), dims=("param", "param2")), "see param_units (product)",
                              "Laplace posterior covariance (inverse Hessian)")
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
        "hmc_accept_rate": (res.accept_rate, "1", "mean HMC acceptance probability after warm-up"),
        "hmc_divergences": (res.divergences, "1", "divergent HMC trajectories after warm-up"),
        "hmc_step_size": (res.step_size, "1", "adapted HMC leapfrog step size (Laplace-covariance metric)"),
    })
    ds.attrs.update(n_data=problem.n_data, reference_values=ref_key)
    return ds


@step("okada.invert", section=_with_nu("okada.invert"),
      inputs={"data": "netcdf: synthetic observations (okada.synthetic)"},
      outputs={"nc": "netcdf: MAP estimate, Laplace covariance, HMC samples, HMC vs Laplace"})
def invert(cfg, inputs, *, seed, device, checkpoints):
    """Fault parameters of the synthetic case by Levenberg-Marquardt, Laplace posterior and an HMC check."""
    obs = read_dataset(inputs["data"], required=("obs", "sigma", "fault_true"))
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
    add_metrics(ds, {
        "relative_l2_error": (rel, "1", "|s - s_true| / |s_true| over all patch slip components"),
        "fraction_within_2sd": (float(within.mean()), "1",
                                "fraction of patch slip components within 2 posterior std of the truth"),
    })
    ds.attrs.update(case="synthetic", title="Okada distributed-slip inversion (synthetic)")
    log.info("synthetic slip: relative L2 error %.3f, %.0f%% of patch components within 2 sd", rel,
             100 * within.mean())
    return ds


def slip_tohoku_dataset(gps: xr.Dataset, cfg: Mapping) -> xr.Dataset:
    """Distributed slip of the 2011 Tohoku earthquake on a planar megathrust from GEONET offsets relative to a
    reference site: Green's functions are differenced with the reference site's (d = (G - G_ref) s + e).
    ``cfg``: section ``okada.slip.tohoku`` + ``nu``."""
    f = cfg["fault"]
    lon0, lat0 = float(f["lon"]), float(f["lat"])
    e, n = lonlat_to_enu(gps["lon"].values, gps["lat"].values, lon0, lat0)
    st = torch.tensor(np.stack([e, n, np.zeros_like(e)], -1), dtype=F64)
    re, rn = lonlat_to_enu(np.array([gps.attrs["reference_lon"]]), np.array([gps.attrs["reference_lat"]]), lon0, lat0)
    ref = torch.tensor([[re[0], rn[0], 0.0]], dtype=F64)
    kw = {k: float(f[k]) for k in ("depth", "strike", "dip", "length", "width")}
    grid = patch_grid(east=0.0, north=0.0, **kw, n_strike=int(cfg["patches"]["n_strike"]),
                      n_dip=int(cfg["patches"]["n_dip"]))
    G = greens_matrix(torch.cat([st, ref]), grid, nu=float(cfg["nu"])).numpy()
    Gm = design_matrix(G[:-1] - G[-1:])  # relative to the reference site
    d = np.stack([gps["east"].values, gps["north"].values, gps["up"].values], -1).reshape(-1)
    sig = _noise(cfg["sigma_m"], st.shape[0]).numpy().reshape(-1)
    bounds = tuple(cfg["log10_bounds"])
    res = fit_abic(Gm, d, [laplacian_blocks(grid)], data_sigma=sig, log10_bounds=bounds)
    extra = {
        "lon": _attrs(xr.DataArray(gps["lon"].values, dims="station"), "degrees_east", "station longitude"),
        "lat": _attrs(xr.DataArray(gps["lat"].values, dims="station"), "degrees_north", "station latitude"),
    }
    ds = _slip_dataset(grid, res, Gm, d, sig, st.numpy(), extra)
    p = grid.n
    mu = float(cfg["mu_pa"])
    m0 = mu * float(grid.length[0] * grid.width[0]) * float(np.hypot(res.coef[:p], res.coef[p:]).sum())
    mw = (2.0 / 3.0) * (math.log10(m0) - 9.1)
    add_metrics(ds, {
        "moment_nm": (m0, "N m", "seismic moment mu A sum |s| of the posterior mean slip"),
        "mw": (mw, "1", "moment magnitude (2/3)(log10 M0 - 9.1)"),
        "weight_at_lower_bound": (int(abs(math.log10(float(res.weights[0])) - bounds[0]) < 1e-3), "1",
                                  "1 if the ABIC smoothing weight sits at the lower end of log10_bounds, else 0"),
    })
    ds.attrs.update(case="tohoku", lon0=lon0, lat0=lat0, reference_lon=float(gps.attrs["reference_lon"]),
                    reference_lat=float(gps.attrs["reference_lat"]), source_file=gps.attrs["source_file"],
                    citation=gps.attrs["citation"], fault_strike=kw["strike"], fault_dip=kw["dip"],
                    log10_bounds=list(bounds), title="Okada distributed-slip inversion (tohoku)")
    rms = float(np.sqrt(np.mean((Gm @ res.coef - d) ** 2)))
    log.info("Tohoku slip: max %.1f m, Mw %.2f, rms residual %.3f m", float(ds["slip"].max()), mw, rms)
    return ds


@step("okada.slip", section=_with_nu("okada.slip.synthetic"),
      outputs={"nc": "netcdf: slip, posterior std, ABIC weight and evidence, errors against the true slip"})
def slip(cfg, inputs, *, seed, device, checkpoints):
    """Distributed slip from noisy synthetic data, Laplacian smoothing chosen by ABIC."""
    return Outputs(nc=slip_synthetic_dataset(cfg, seed=seed))


@step("okada.slip_tohoku", section=_with_nu("okada.slip.tohoku"),
      inputs={"gps": "file: GEONET coseismic offsets, Ozawa et al. (2011) Table S1 (okada.slip.tohoku.gps)"},
      outputs={"nc": "netcdf: Tohoku 2011 slip, posterior std, ABIC weight, evidence, moment and Mw"})
def slip_tohoku(cfg, inputs, *, seed, device, checkpoints):
    """Distributed slip of the 2011 Tohoku earthquake from GEONET offsets, smoothing chosen by ABIC."""
    return Outputs(nc=slip_tohoku_dataset(read_geonet_ozawa(inputs["gps"]), cfg))


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


@step("okada.figure_parkfield_fit", section=_no_config,
      inputs={"nc": "netcdf: Parkfield inversion (okada.invert_parkfield)"},
      outputs={"png": "png: observed vs MAP and published-model horizontal offsets"})
def figure_parkfield_fit(cfg, inputs, *, seed, device, checkpoints):
    """Observed vs MAP and published-model horizontal offsets at the Parkfield GPS sites."""
    from sciml.okada.figures import parkfield_fit

    return Outputs(png=parkfield_fit(read_dataset(inputs["nc"])))
