"""OkadaTorch study: the seven notebooks of the OkadaTorch paper (Someya, Yamada & Okazaki 2025) on sciml's
kernels, so that a reader of that paper can regenerate its figures here (target ``okadatorch``).

Steps (rules in ``workflow/rules/okadatorch.smk``; science in :mod:`sciml.okada.okadatorch`):

* ``okadatorch.maps``: notebooks 1-5: surface maps of the point and rectangular sources of Okada (1985) and of
  DC3D0/DC3D (Okada 1992) at depth, the wrapper's displacement and gradient maps over 142-148 E, 37-43 N, the
  autograd checks of the station gradients and second derivatives, and the maps of d u_z / d theta and
  d^2 u_z / d theta^2 for the nine fault parameters;
* ``okadatorch.data``: notebooks 6-7's observations (25 x 25 grid, 5 cm noise drawn as the notebooks do);
* ``okadatorch.optimize``: notebook 6 (Adam + Laplace) done as Levenberg-Marquardt + Laplace from the
  notebook's start, against the notebook's published table;
* ``okadatorch.bayes``: notebook 7's posterior (uniform box prior) from a cold start: LM -> Newton -> Laplace ->
  batched HMC, against the notebook's published Pyro NUTS summary;
* ``okadatorch.figure_maps``, ``okadatorch.figure_optimize``, ``okadatorch.figure_posterior``: the figures.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping

import numpy as np
import torch
import xarray as xr

from sciml.inference.diagnostics import sampler_metrics
from sciml.inference.transforms import Box
from sciml.io.netcdf import add_metrics, read_dataset
from sciml.okada.fault import alpha_from
from sciml.okada.figures_okadatorch import (
    derivative_figure,
    kernel_figure,
    optimize_figure,
    posterior_figure,
    wrapper_figure,
)
from sciml.okada.inversion import laplace, levenberg_marquardt
from sciml.okada.kernels import dc3d, dc3d0
from sciml.okada.okadatorch import (
    NOTEBOOK6_ADAM,
    NOTEBOOK7_NUTS_Q,
    WRAPPER_PARAMS,
    BoxPosterior,
    cold_start_posterior,
    notebook_observations,
    parameter_maps,
    project,
    projected_grid,
    station_derivatives,
    wrapper_deformation,
)
from sciml.studies.registry import Outputs, step

log = logging.getLogger(__name__)
F64 = torch.float64
COMPONENTS = ["east", "north", "up"]
UNITS = {"east": "m", "north": "m", "depth": "m", "length": "m", "width": "m", "strike": "degree",
         "dip": "degree", "rake": "degree", "slip": "m"}


def _slice(*keys: str):
    """Section function: the listed keys of the ``okadatorch`` section (a change elsewhere reruns nothing)."""

    def section(config, wildcards):
        return {k: config["okadatorch"][k] for k in keys}

    section.__name__ = "okadatorch." + "+".join(keys)
    return section


def _no_config(config, wildcards):
    return {}


def _da(values, dims, units: str, long_name: str) -> xr.DataArray:
    return xr.DataArray(np.asarray(values), dims=dims, attrs={"units": units, "long_name": long_name})


def _frame(cfg: Mapping) -> tuple[float, float]:
    r = cfg["region"]
    return 0.5 * (r["lon_min"] + r["lon_max"]), 0.5 * (r["lat_min"] + r["lat_max"])


def _truth(cfg: Mapping) -> torch.Tensor:
    """The true fault as a :data:`WRAPPER_PARAMS` vector (m, degrees), its top-left corner projected."""
    f = cfg["fault"]
    x0, y0 = project(f["lon"], f["lat"], *_frame(cfg))
    return torch.tensor([float(x0), float(y0)] + [float(f[k]) for k in WRAPPER_PARAMS[2:]], dtype=F64)


def _grid(cfg: Mapping, spacing: float):
    r = cfg["region"]
    lon0, lat0 = _frame(cfg)
    return projected_grid(r["lon_min"], r["lon_max"], r["lat_min"], r["lat_max"], spacing, lon0=lon0, lat0=lat0)


def _param_coord(ds: xr.Dataset) -> None:
    ds.coords["param"] = ("param", list(WRAPPER_PARAMS))
    ds["param"].attrs.update(long_name="fault parameter (OkadaWrapper order; east/north = x_fault/y_fault)",
                             units="1")
    ds["param_units"] = _da([UNITS[k] for k in WRAPPER_PARAMS], "param", "1", "units of each fault parameter")


# ------------------------------------------------------------------------------------------- notebooks 1-5
def maps_dataset(cfg: Mapping) -> xr.Dataset:
    """Notebooks 1-5 (see the module docstring). ``cfg``: nu, region, fault, maps."""
    nu, m = float(cfg["nu"]), cfg["maps"]
    alpha = float(alpha_from(nu))
    k = int(m["kernel_n"])
    g = torch.linspace(-1.0, 1.0, k, dtype=F64)
    Y, X = torch.meshgrid(g, g, indexing="ij")
    d1, d2 = 4.0, 3.0  # the notebooks' dislocations / potencies
    # notebook 1 (Okada 1985 at the surface: SPOINT, SRECTF with the origin at the bottom-left corner of the
    # fault, width up dip) and notebook 2 (DC3D0 / DC3D at depth); the 1985 surface formulas are the 1992 ones
    # at z = 0 (Okada 1992, section 4)
    z0, zk = torch.zeros_like(X), torch.full_like(X, float(m["kernel_z"]))
    cases = {
        "spoint": dc3d0(alpha, X, Y, z0, 1.0, 45.0, d1, d2, 0.0, 0.0),
        "srectf": dc3d(alpha, X, Y, z0, 1.0, 45.0, 0.0, 0.5, 0.0, 0.2, d1, d2, 0.0),
        "dc3d0": dc3d0(alpha, X, Y, zk, 2.0, 45.0, d1, d2, 0.0, 0.0),
        "dc3d": dc3d(alpha, X, Y, zk, 2.0, 45.0, -0.2, 0.2, -0.1, 0.1, d1, d2, 0.0),
    }
    ds = xr.Dataset()
    ds.coords["kernel_case"] = ("kernel_case", list(cases))
    ds["kernel_case"].attrs.update(long_name="notebook 1 (spoint, srectf at z = 0) and 2 (dc3d0, dc3d at depth)",
                                   units="1")
    ds.coords["kx"] = ("kx", g.numpy(), {"units": "1", "long_name": "x (Okada frame, notebook units)"})
    ds.coords["ky"] = ("ky", g.numpy(), {"units": "1", "long_name": "y (Okada frame, notebook units)"})
    ds.coords["component"] = ("component", ["x", "y", "z"], {"units": "1", "long_name": "displacement component"})
    ds.coords["derivative"] = ("derivative", ["x", "y", "z"], {"units": "1", "long_name": "d / d coordinate"})
    ds["kernel_u"] = _da(torch.stack([c.u for c in cases.values()]).permute(0, 3, 1, 2),
                         ("kernel_case", "component", "ky", "kx"), "1", "displacement (Okada frame, per unit dislocation units)")
    ds["kernel_grad"] = _da(torch.stack([c.grad for c in cases.values()]).permute(0, 3, 4, 1, 2),
                            ("kernel_case", "component", "derivative", "ky", "kx"), "1", "displacement gradient")
    ds["kernel_z"] = _da(float(m["kernel_z"]), (), "1", "observation depth of the dc3d0 / dc3d maps (notebook 2)")
    # notebook 3: the wrapper on the lon/lat grid, point source (slip = potency) and rectangle
    lon, lat, x, y = _grid(cfg, float(m["spacing_deg"]))
    st = torch.tensor(np.stack([x.ravel(), y.ravel(), np.zeros(x.size)], -1), dtype=F64)
    theta = _truth(cfg)
    point = theta.clone()
    point[8] = float(m["point_potency_m3"])
    srcs = {"point": wrapper_deformation(st, point, point=True, nu=nu),
            "rectangle": wrapper_deformation(st, theta, nu=nu)}
    shp = (len(srcs), *lon.shape)
    ds.coords["source"] = ("source", list(srcs), {"units": "1", "long_name": "notebook 3's sources"})
    ds.coords["lon"] = ("lon", lon[0], {"units": "degrees_east", "long_name": "longitude"})
    ds.coords["lat"] = ("lat", lat[:, 0], {"units": "degrees_north", "long_name": "latitude"})
    ds.coords["enu"] = ("enu", COMPONENTS, {"units": "1", "long_name": "grid east / north / up (projection)"})
    ds.coords["enu_derivative"] = ("enu_derivative", COMPONENTS, {"units": "1", "long_name": "d / d east, north, up"})
    ds["u"] = _da(torch.stack([s.u for s in srcs.values()]).reshape(*shp, 3).permute(0, 3, 1, 2),
                  ("source", "enu", "lat", "lon"), "m", "displacement (projection grid axes)")
    ds["grad"] = _da(torch.stack([s.grad for s in srcs.values()]).reshape(*shp, 3, 3).permute(0, 3, 4, 1, 2),
                     ("source", "enu", "enu_derivative", "lat", "lon"), "1", "displacement gradient d u_i / d x_j")
    # notebooks 4-5: autograd vs analytic station derivatives; parameter gradients and Hessian diagonals of u_z
    ga, gad, dg, d2 = station_derivatives(st, theta, nu=nu)
    jac, hdiag = parameter_maps(st, theta, nu=nu)
    _param_coord(ds)
    ds["d_uz_d_param"] = _da(jac.reshape(9, *lon.shape), ("param", "lat", "lon"), "see param_units",
                             "d u_up / d parameter (forward-mode autograd; m per parameter unit)")
    ds["d2_uz_d_param2"] = _da(hdiag.reshape(9, *lon.shape), ("param", "lat", "lon"), "see param_units",
                               "d^2 u_up / d parameter^2 (nested forward mode; m per parameter unit squared)")
    ds["d2u_dx2"] = _da(d2.reshape(*lon.shape, 3, 3).permute(2, 3, 0, 1), ("enu", "enu_derivative", "lat", "lon"),
                        "m-1", "d^2 u_i / d x_j^2 (autograd twice of u)")
    for name in ("u", "grad", "d_uz_d_param", "d2_uz_d_param2", "d2u_dx2"):
        if ds[name].attrs["units"].startswith("see "):
            ds[name].attrs["units_metadata"] = ds[name].attrs.pop("units")
    scale1, scale2 = float(ga.abs().max()), float(dg.abs().max())
    add_metrics(ds, {
        "grad_autograd_max_abs_diff": (float((ga - gad).abs().max()), "1",
                                       "max |autograd d u / d x - analytic gradient| (notebook 4's check)"),
        "grad_max_abs": (scale1, "1", "max |analytic gradient| on the grid (scale of the check)"),
        "second_autograd_max_abs_diff": (float((dg - d2).abs().max()), "m-1",
                                         "max |autograd^2 of u - autograd of the analytic gradient| (notebook 5)"),
        "second_max_abs": (scale2, "m-1", "max |d^2 u / d x^2| on the grid (scale of the check)"),
        "nonfinite_derivatives": (int((~torch.isfinite(jac)).sum() + (~torch.isfinite(hdiag)).sum()), "1",
                                  "non-finite parameter derivatives on the grid (0 expected)"),
    })
    ds.attrs.update(title="OkadaTorch notebooks 1-5: kernel and wrapper maps, derivatives", poisson_ratio=nu,
                    projection=f"+proj=tmerc +lon_0={_frame(cfg)[0]} +lat_0={_frame(cfg)[1]} +ellps=WGS84")
    return ds


@step("okadatorch.maps", section=_slice("nu", "region", "fault", "maps"),
      outputs={"nc": "netcdf: kernel maps (notebooks 1-2), wrapper maps (3), station and parameter derivatives (4-5)"})
def maps(cfg, inputs, *, seed, device, checkpoints):
    """OkadaTorch notebooks 1-5 on sciml's kernels, with notebook 4-5's autograd checks as metrics."""
    return Outputs(nc=maps_dataset(cfg))


# --------------------------------------------------------------------------------------------- notebooks 6-7
def data_dataset(cfg: Mapping) -> xr.Dataset:
    """Notebooks 6-7's observations. ``cfg``: nu, region, fault, data."""
    d = cfg["data"]
    lon, lat, x, y = _grid(cfg, float(d["spacing_deg"]))
    truth = _truth(cfg)
    st, clean, obs = notebook_observations((x, y), truth, sigma=float(d["sigma_m"]), seed=int(d["noise_seed"]),
                                           nu=float(cfg["nu"]))
    ds = xr.Dataset()
    ds.coords["station"] = ("station", np.arange(st.shape[0]), {"units": "1", "long_name": "station index"})
    ds.coords["component"] = ("component", COMPONENTS, {"units": "1", "long_name": "grid east / north / up"})
    ds["lon"] = _da(lon.ravel(), "station", "degrees_east", "station longitude")
    ds["lat"] = _da(lat.ravel(), "station", "degrees_north", "station latitude")
    ds["station_east"] = _da(st[:, 0], "station", "m", "station x (transverse Mercator, grid east)")
    ds["station_north"] = _da(st[:, 1], "station", "m", "station y (transverse Mercator, grid north)")
    ds["obs"] = _da(obs, ("station", "component"), "m", "observed displacement (truth + noise)")
    ds["clean"] = _da(clean, ("station", "component"), "m", "noise-free displacement of the true fault")
    _param_coord(ds)
    ds["truth"] = _da(truth, "param", "see param_units", "true fault parameters (top-left corner)")
    ds["truth"].attrs["units_metadata"] = ds["truth"].attrs.pop("units")
    ds.attrs.update(title="OkadaTorch notebooks 6-7: synthetic observations", sigma_m=float(d["sigma_m"]),
                    noise_seed=int(d["noise_seed"]), grid_shape=list(lon.shape), poisson_ratio=float(cfg["nu"]))
    return ds


@step("okadatorch.data", section=_slice("nu", "region", "fault", "data"),
      outputs={"nc": "netcdf: station grid, observations, truth (notebooks 6-7)"})
def data(cfg, inputs, *, seed, device, checkpoints):
    """Notebooks 6-7's 25 x 25 station grid and noisy displacements (the notebooks' own noise draw, seed 123)."""
    return Outputs(nc=data_dataset(cfg))


def _read_data(path: str):
    ds = read_dataset(path, required=("obs", "station_east", "station_north", "truth"),
                      units={"obs": "m", "station_east": "m"}, finite=("obs",))
    st = torch.tensor(np.stack([ds["station_east"].values, ds["station_north"].values,
                                np.zeros(ds.sizes["station"])], -1), dtype=F64)
    return ds, st, torch.tensor(ds["obs"].values, dtype=F64), torch.tensor(ds["truth"].values, dtype=F64)


def prior_box(cfg: Mapping, stations: torch.Tensor, truth: torch.Tensor) -> Box:
    """Notebook 7's uniform prior: x, y = truth +- ``xy_fraction`` of the grid's half-width, the rest fixed
    intervals (config ``bayes.prior``, m and degrees)."""
    p = cfg["prior"]
    half = 0.5 * (stations[:, :2].max(0).values - stations[:, :2].min(0).values)
    frac = float(p["xy_fraction"])
    lo = [float(truth[0] - frac * half[0]), float(truth[1] - frac * half[1])]
    hi = [float(truth[0] + frac * half[0]), float(truth[1] + frac * half[1])]
    for k in WRAPPER_PARAMS[2:]:
        lo.append(float(p[k][0]))
        hi.append(float(p[k][1]))
    return Box(lo, hi)


def optimize_dataset(obs_ds: xr.Dataset, st, obs, truth, cfg: Mapping) -> xr.Dataset:
    """Notebook 6 by LM + Laplace. ``cfg``: nu, optimize."""
    o = cfg["optimize"]
    sigma = float(obs_ds.attrs["sigma_m"])
    post = BoxPosterior(st, obs, sigma, Box([-math.inf] * 9, [math.inf] * 9), nu=float(cfg["nu"]))
    problem = post.fault_problem()
    start = torch.tensor([float(o["start"][k]) for k in WRAPPER_PARAMS], dtype=F64)
    lo = torch.tensor([float(o["bounds"].get(k, [-math.inf, math.inf])[0]) for k in WRAPPER_PARAMS], dtype=F64)
    hi = torch.tensor([float(o["bounds"].get(k, [-math.inf, math.inf])[1]) for k in WRAPPER_PARAMS], dtype=F64)
    t0 = time.perf_counter()
    lm = levenberg_marquardt(problem, start, max_iter=int(o["max_iter"]), tol=float(o["tol"]), lower=lo, upper=hi)
    lap = laplace(problem, lm.theta)
    seconds = time.perf_counter() - t0
    ds = xr.Dataset()
    _param_coord(ds)
    for name, val, long in (("start", start, "notebook 6's starting point"), ("estimate", lm.theta, "LM estimate"),
                            ("laplace_std", lap.std, "Laplace posterior std (sigma included)"),
                            ("truth", truth, "true fault parameters")):
        ds[name] = _da(val, "param", "see param_units", long)
        ds[name].attrs["units_metadata"] = ds[name].attrs.pop("units")
    nb = np.array(NOTEBOOK6_ADAM["estimate"]) * np.array([1e3] * 5 + [1] * 4)
    nb_std = np.array(NOTEBOOK6_ADAM["std"]) * np.array([1e3] * 5 + [1] * 4)
    ds["notebook_estimate"] = _da(nb, "param", "see param_units", "notebook 6's Adam estimate (published)")
    ds["notebook_std"] = _da(nb_std, "param", "see param_units",
                             "notebook 6's Laplace std (published; its loss omits 1/sigma^2, so it is 1/sigma wider)")
    for name in ("notebook_estimate", "notebook_std"):
        ds[name].attrs["units_metadata"] = ds[name].attrs.pop("units")
    ds["covariance"] = _da(lap.cov, ("param", "param2"), "1",
                           "Laplace covariance (units: product of the two parameters' units)")
    ds["covariance"].attrs["units_metadata"] = "see param_units"
    del ds["covariance"].attrs["units"]
    ds["cost_history"] = _da(np.asarray(lm.history) * sigma ** 2, "lm_iteration", "m2",
                             "0.5 sum of squared residuals after each LM iteration (the notebook's loss)")
    pred = wrapper_deformation(st, lm.theta, derivatives=False, nu=float(cfg["nu"])).u
    ds["model"] = _da(pred, ("station", "component"), "m", "displacement of the LM estimate")
    ds["obs"] = obs_ds["obs"]
    ds["lon"], ds["lat"] = obs_ds["lon"], obs_ds["lat"]
    loss = 0.5 * float(((pred - obs) ** 2).sum())
    loss_truth = 0.5 * float(((wrapper_deformation(st, truth, derivatives=False, nu=float(cfg["nu"])).u - obs) ** 2
                              ).sum())
    z = ((lm.theta - truth) / lap.std).abs()
    add_metrics(ds, {
        "lm_iterations": (lm.iterations, "1", "Levenberg-Marquardt iterations (notebook 6: 2000 Adam steps)"),
        "lm_converged": (int(lm.converged), "1", "1 if LM met its tolerance"),
        "loss": (loss, "m2", "0.5 sum of squared residuals at the estimate (notebook 6's loss)"),
        "notebook_loss": (NOTEBOOK6_ADAM["loss"], "m2", "notebook 6's loss after 2000 Adam iterations (published)"),
        "loss_at_truth": (loss_truth, "m2", "the same loss at the true parameters (above it: a local minimum)"),
        "chi2_per_datum": (2 * loss / sigma ** 2 / obs.numel(), "1", "chi-square per datum at the estimate"),
        "max_abs_error_sd": (float(z.max()), "1", "max |estimate - truth| / Laplace std over the parameters"),
        "notebook_std_ratio_median": (float(np.median(nb_std / lap.std.numpy())), "1",
                                      "median of notebook 6's std / ours (expected 1/sigma = 20: missing 1/sigma^2)"),
        "seconds": (seconds, "s", "wall time of LM + Laplace"),
    })
    ds.attrs.update(title="OkadaTorch notebook 6: LM + Laplace from the notebook's start", sigma_m=sigma)
    return ds


@step("okadatorch.optimize", section=_slice("nu", "optimize"),
      inputs={"data": "netcdf: observations (okadatorch.data)"},
      outputs={"nc": "netcdf: LM estimate, Laplace covariance, fit, notebook 6's published results"})
def optimize(cfg, inputs, *, seed, device, checkpoints):
    """Notebook 6 (gradient-based estimation + Laplace approximation) by Levenberg-Marquardt and the exact
    Hessian, from the notebook's own starting point."""
    obs_ds, st, obs, truth = _read_data(inputs["data"])
    return Outputs(nc=optimize_dataset(obs_ds, st, obs, truth, cfg))


def bayes_dataset(obs_ds: xr.Dataset, st, obs, truth, cfg: Mapping, *, seed: int) -> xr.Dataset:
    """Notebook 7's posterior from a cold start. ``cfg``: nu, bayes."""
    b = cfg["bayes"]
    sigma = float(obs_ds.attrs["sigma_m"])
    box = prior_box(b, st, truth)
    post = BoxPosterior(st, obs, sigma, box, nu=float(cfg["nu"]))
    cs = cold_start_posterior(post, chains=int(b["chains"]), warmup=int(b["warmup"]), draws=int(b["draws"]),
                              leapfrog=int(b["leapfrog"]), target_accept=float(b["target_accept"]),
                              metric=b["metric"], seed=seed)
    draws = np.asarray(cs.hmc.draws)
    width = (box.upper - box.lower).numpy()
    q = (draws - box.lower.numpy()) / width
    qm, qs = q.reshape(-1, 9).mean(0), q.reshape(-1, 9).std(0)
    # independent check: the Laplace approximation in theta at the LM estimate (exact Hessian of the misfit)
    lap = laplace(post.fault_problem(), cs.lm.theta)
    flat = draws.reshape(-1, 9)
    off = np.abs(flat.mean(0) - cs.lm.theta.numpy()) / flat.std(0)
    sd_ratio = flat.std(0) / lap.std.numpy()
    ds_lap = lap.std.numpy()
    ds = xr.Dataset()
    _param_coord(ds)
    ds.coords["chain"] = ("chain", np.arange(draws.shape[0]), {"units": "1", "long_name": "HMC chain"})
    ds.coords["draw"] = ("draw", np.arange(draws.shape[1]), {"units": "1", "long_name": "draw after warm-up"})
    ds["samples"] = _da(draws, ("chain", "draw", "param"), "1", "posterior draws")
    ds["samples"].attrs["units_metadata"] = "see param_units"
    del ds["samples"].attrs["units"]
    for name, val, long in (("prior_lower", box.lower, "p1: lower bound of the uniform prior"),
                            ("prior_upper", box.upper, "p2: upper bound of the uniform prior"),
                            ("truth", truth, "true fault parameters"),
                            ("lm_estimate", cs.lm.theta, "LM estimate from the prior's centre")):
        ds[name] = _da(val, "param", "1", long)
        ds[name].attrs["units_metadata"] = "see param_units"
        del ds[name].attrs["units"]
    ds["laplace_std"] = _da(ds_lap, "param", "1", "Laplace std at the LM estimate (theta, exact Hessian)")
    ds["laplace_std"].attrs["units_metadata"] = "see param_units"
    del ds["laplace_std"].attrs["units"]
    ds["q_mean"] = _da(qm, "param", "1", "posterior mean of q = (p - p1) / (p2 - p1)")
    ds["q_std"] = _da(qs, "param", "1", "posterior std of q")
    ds["notebook_q_mean"] = _da(NOTEBOOK7_NUTS_Q["mean"], "param", "1",
                                "notebook 7's Pyro NUTS posterior mean of q (published, 2 decimals)")
    ds["notebook_q_std"] = _da(NOTEBOOK7_NUTS_Q["std"], "param", "1",
                               "notebook 7's Pyro NUTS posterior std of q (published, 2 decimals)")
    diff = np.abs(qm - np.asarray(NOTEBOOK7_NUTS_Q["mean"]))
    s = cs.seconds
    ess = sampler_metrics(cs.hmc, seconds=s["total"])
    add_metrics(ds, {
        **ess,
        "seconds_total": (s["total"], "s", "wall time of the whole cold-start path (LM, Newton, Laplace, HMC)"),
        "seconds_lm": (s["lm"], "s", "wall time of Levenberg-Marquardt from the prior's centre"),
        "seconds_laplace": (s["laplace"], "s", "wall time of Newton + Laplace in unconstrained coordinates"),
        "seconds_hmc": (s["hmc"], "s", "wall time of HMC (warm-up + draws)"),
        "ess_min_per_s": (float(ess["hmc_ess_min"][0]) / s["total"], "s-1",
                          "minimum bulk ESS over parameters per second of the whole path"),
        "notebook_q_mean_max_abs_diff": (float(diff.max()), "1",
                                         "max |q mean - notebook 7's NUTS q mean| (published values rounded to 0.005)"),
        "laplace_mean_offset_max_sd": (float(off.max()), "1",
                                       "max |posterior mean - LM estimate| / posterior std (Laplace check)"),
        "laplace_std_ratio_min": (float(sd_ratio.min()), "1", "min over parameters of HMC std / Laplace std"),
        "laplace_std_ratio_max": (float(sd_ratio.max()), "1", "max over parameters of HMC std / Laplace std"),
        "truth_max_abs_error_sd": (float(np.max(np.abs(draws.reshape(-1, 9).mean(0) - truth.numpy())
                                                / draws.reshape(-1, 9).std(0))), "1",
                                   "max |posterior mean - truth| / posterior std"),
    })
    ds.attrs.update(title="OkadaTorch notebook 7: posterior from a cold start (LM -> Laplace -> HMC)",
                    sigma_m=sigma, newton_steps=cs.newton_steps, lm_iterations=cs.lm.iterations)
    return ds


@step("okadatorch.bayes", section=_slice("nu", "bayes"),
      inputs={"data": "netcdf: observations (okadatorch.data)"},
      outputs={"nc": "netcdf: posterior draws, diagnostics, notebook 7's published NUTS summary"})
def bayes(cfg, inputs, *, seed, device, checkpoints):
    """Notebook 7's Bayesian demo (uniform box prior) from the prior's centre: LM -> Laplace -> batched HMC."""
    obs_ds, st, obs, truth = _read_data(inputs["data"])
    return Outputs(nc=bayes_dataset(obs_ds, st, obs, truth, cfg, seed=seed))


# -------------------------------------------------------------------------------------------------- figures
@step("okadatorch.figure_maps", section=_no_config,
      inputs={"nc": "netcdf: maps (okadatorch.maps)"},
      outputs={"kernels": "png: notebooks 1-2's kernel maps", "wrapper": "png: notebook 3's wrapper maps",
               "derivatives": "png: notebooks 4-5's parameter-derivative maps"})
def figure_maps(cfg, inputs, *, seed, device, checkpoints):
    """Notebooks 1-5's figures."""
    ds = read_dataset(inputs["nc"], required=("kernel_u", "u", "d_uz_d_param"))
    return Outputs(kernels=kernel_figure(ds), wrapper=wrapper_figure(ds), derivatives=derivative_figure(ds))


@step("okadatorch.figure_optimize", section=_no_config,
      inputs={"nc": "netcdf: LM + Laplace (okadatorch.optimize)"},
      outputs={"png": "png: observations, fit, estimates vs the notebook's Adam"})
def figure_optimize(cfg, inputs, *, seed, device, checkpoints):
    """Notebook 6's figure."""
    return Outputs(png=optimize_figure(read_dataset(inputs["nc"], required=("estimate", "laplace_std"))))


@step("okadatorch.figure_posterior", section=_no_config,
      inputs={"nc": "netcdf: posterior (okadatorch.bayes)"},
      outputs={"png": "png: posterior marginals vs truth and notebook 7's NUTS"})
def figure_posterior(cfg, inputs, *, seed, device, checkpoints):
    """Notebook 7's figure."""
    return Outputs(png=posterior_figure(read_dataset(inputs["nc"], required=("samples", "q_mean"))))
