"""The Okada study steps (called by scripts/okada_*.py): synthetic observations, nonlinear inversion
(LM + Laplace + HMC), distributed-slip inversion (ABIC), each returning an xarray Dataset."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

import numpy as np
import torch
import xarray as xr

from sciml.errors import InputError
from sciml.geo import lonlat_to_enu
from sciml.linear_inverse import fit_abic
from sciml.okada.derivatives import jacobian
from sciml.okada.fault import RECT_PARAMS, rectangle
from sciml.okada.greens import greens_matrix, patch_grid
from sciml.okada.inversion import (PARAM_UNITS, FaultProblem, compare_to_laplace, laplace, levenberg_marquardt,
                                   reduced_chi2_scale, sample_hmc, start_from)

log = logging.getLogger(__name__)
F64 = torch.float64
COMPONENTS = ["east", "north", "up"]


def _attrs(da: xr.DataArray, units: str, long_name: str) -> xr.DataArray:
    da.attrs.update(units=units, long_name=long_name)
    return da


def _fault_kw(cfg: Mapping) -> dict:
    kw = {k: float(cfg[k]) for k in RECT_PARAMS if k in cfg}
    return kw


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


# --------------------------------------------------------------------------------------------------- synthetic
def synthetic(cfg: Mapping, *, nu: float, seed: int, gnss_lonlat: tuple[np.ndarray, np.ndarray] | None = None
              ) -> xr.Dataset:
    """Noisy displacements of the configured fault at a station grid (or GNSS sites), plus surface maps of
    displacement, strain and parameter sensitivities (autograd)."""
    fault = _fault_kw(cfg["fault"])
    ref = cfg["fault"].get("reference", "top_center")
    scfg = cfg["stations"]
    if gnss_lonlat is not None:
        lon, lat = gnss_lonlat
        lon0, lat0 = float(scfg["lon0"]), float(scfg["lat0"])
        e, n = lonlat_to_enu(lon, lat, lon0, lat0)
        keep = np.hypot(e, n) <= float(scfg["half_width_m"])
        if keep.sum() < 3:
            raise InputError(f"okada.synthetic.stations: fewer than 3 GNSS sites within half_width_m of ({lon0}, {lat0})")
        st = torch.tensor(np.stack([e[keep], n[keep], np.zeros(keep.sum())], -1), dtype=F64)
    else:
        st = _grid(int(scfg["n"]), float(scfg["half_width_m"]))
    gen = torch.Generator().manual_seed(int(seed))
    truth = rectangle(st, **fault, reference=ref, nu=nu, derivatives=False).u
    sigma = _noise(cfg["noise_m"], st.shape[0])
    obs = truth + sigma * torch.randn(truth.shape, generator=gen, dtype=F64)

    ds = xr.Dataset(coords={"station": np.arange(st.shape[0]), "component": COMPONENTS})
    ds["station"].attrs.update(long_name="station index", units="1")
    ds["component"].attrs.update(long_name="displacement component (local east/north/up)", units="1")
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
    full = {**{"opening": 0.0}, **fault}
    _param_coords(ds, names)
    ds["fault_true"] = _attrs(xr.DataArray([full.get(k, 0.0) for k in names], dims="param"), "see param_units",
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
    sens = [k for k in cfg.get("sensitivity", []) if k in fault]
    if sens:
        jac = jacobian(grid, fault, sens, reference=ref, nu=nu).numpy()  # (m*m, 3, p)
        ds.coords["sens_param"] = ("sens_param", sens)
        ds["sens_param"].attrs.update(long_name="parameter of the sensitivity maps", units="1")
        ds["map_sensitivity"] = _attrs(
            xr.DataArray(np.moveaxis(jac.reshape(m, m, 3, len(sens)), (2, 3), (1, 0)),
                         dims=("sens_param", "component", "y", "x")),
            "m per parameter unit", "d displacement / d fault parameter (autograd)")
    ds.attrs.update(fault_reference=ref, poisson_ratio=nu, case="synthetic")
    return ds


# ---------------------------------------------------------------------------------------------- observations
def parkfield_observations(gps: xr.Dataset, published: Mapping[str, float], cfg: Mapping) -> xr.Dataset:
    """Parkfield GPS offsets in a local frame about the published hypocentre, with assumed sigmas and the
    published single-plane model (Custodio et al. 2005) converted to this module's conventions."""
    lon0, lat0 = float(published["hypo_lon"]), float(published["hypo_lat"])
    e, n = lonlat_to_enu(gps["lon"].values, gps["lat"].values, lon0, lat0)
    st = np.stack([e, n, np.zeros_like(e)], -1)
    obs = np.stack([gps["east"].values, gps["north"].values, gps["up"].values], -1)
    sig = _noise(cfg["sigma_m"], len(e)).numpy()
    ds = xr.Dataset(coords={"station": np.arange(len(e)), "component": COMPONENTS})
    ds["station"].attrs.update(long_name="station index", units="1")
    ds["component"].attrs.update(long_name="displacement component (local east/north/up)", units="1")
    _station_vars(ds, st)
    ds["site"] = _attrs(xr.DataArray(gps["site"].values, dims="station"), "1", "site code")
    ds["lon"] = _attrs(xr.DataArray(gps["lon"].values, dims="station"), "degrees_east", "station longitude")
    ds["lat"] = _attrs(xr.DataArray(gps["lat"].values, dims="station"), "degrees_north", "station latitude")
    ds["obs"] = _attrs(xr.DataArray(obs, dims=("station", "component")), "m", "observed coseismic displacement")
    ds["sigma"] = _attrs(xr.DataArray(sig, dims=("station", "component")), "m",
                         "assumed standard deviation (unpublished; rescaled by the reduced chi-square)")
    pub = published_parkfield_fault(published, float(cfg.get("mu_pa", 3.0e10)))
    names = list(RECT_PARAMS)
    _param_coords(ds, names)
    ds["fault_published"] = _attrs(xr.DataArray([pub[k] for k in names], dims="param"), "see param_units",
                                   "published single-plane model (Custodio et al. 2005, SRCMOD header)")
    ds.attrs.update(fault_reference="top_center", lon0=lon0, lat0=lat0, case="parkfield",
                    source_file=gps.attrs.get("source_file", ""), citation=gps.attrs.get("citation", ""))
    return ds


def published_parkfield_fault(p: Mapping[str, float], mu: float = 3.0e10) -> dict[str, float]:
    """SRCMOD header -> top-centre east/north (m, about the hypocentre), depth of the top (m), geometry, and the
    mean slip M0 / (mu L W)."""
    strike, dip = float(p["strike_deg"]), float(p["dip_deg"])
    L, W = 1e3 * float(p["length_km"]), 1e3 * float(p["width_km"])
    top = 1e3 * float(p["top_depth_km"])
    hyp_depth = 1e3 * float(p.get("hypo_depth_km", p["top_depth_km"]))
    down = (hyp_depth - top) / math.sin(math.radians(dip))  # hypocentre distance down dip from the top edge
    s = np.array([math.sin(math.radians(strike)), math.cos(math.radians(strike))])  # strike unit (e, n)
    ddir = np.array([math.cos(math.radians(strike)), -math.sin(math.radians(strike))])  # down-dip horizontal
    top_left = -1e3 * float(p["hypX_along_strike_km"]) * s - down * math.cos(math.radians(dip)) * ddir
    top_center = top_left + 0.5 * L * s
    slip = float(p["M0_Nm"]) / (mu * L * W)
    return dict(east=float(top_center[0]), north=float(top_center[1]), depth=top, strike=strike, dip=dip, length=L,
                width=W, rake=float(p["rake_deg"]), slip=slip, opening=0.0)


# --------------------------------------------------------------------------------------------------- inversion
def invert(obs: xr.Dataset, cfg: Mapping, *, nu: float, seed: int) -> xr.Dataset:
    """LM + Laplace + HMC for the free parameters of cfg; returns estimates, covariance and samples."""
    names = tuple(cfg["free"])
    ref_key = "fault_true" if "fault_true" in obs else "fault_published"
    ref_vals = {str(k): float(v) for k, v in zip(obs["param"].values, obs[ref_key].values)}
    fixed_src = dict(ref_vals)
    fixed_src.update({k: float(v) for k, v in cfg.get("fixed", {}).items()})
    fixed = {k: fixed_src[k] for k in RECT_PARAMS if k not in names}
    st = torch.tensor(np.stack([obs[f"station_{c}"].values for c in COMPONENTS], -1), dtype=F64)
    problem = FaultProblem(st, torch.tensor(obs["obs"].values, dtype=F64), torch.tensor(obs["sigma"].values, dtype=F64),
                           names, fixed, prior={k: (float(v[0]), float(v[1])) for k, v in cfg.get("prior", {}).items()},
                           options=dict(reference=obs.attrs.get("fault_reference", "top_center"), nu=nu))
    start = {**ref_vals, **{k: float(v) for k, v in cfg["start"].items()}}
    theta0 = start_from(start, names)
    lo = torch.tensor([float(cfg.get("bounds", {}).get(k, [-math.inf, math.inf])[0]) for k in names], dtype=F64)
    hi = torch.tensor([float(cfg.get("bounds", {}).get(k, [-math.inf, math.inf])[1]) for k in names], dtype=F64)
    lm = levenberg_marquardt(problem, theta0, max_iter=int(cfg["lm"]["max_iter"]), tol=float(cfg["lm"]["tol"]),
                             lower=lo, upper=hi)
    scale = reduced_chi2_scale(problem, lm.theta) if cfg.get("rescale_noise", False) else 1.0
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
    ds.attrs.update(lm_iterations=lm.iterations, lm_converged=int(lm.converged), lm_cost=lm.cost,
                    noise_scale=scale, n_data=problem.n_data, hmc_accept_rate=res.accept_rate,
                    hmc_divergences=res.divergences, hmc_step_size=res.step_size, reference_values=ref_key)
    return ds


# ------------------------------------------------------------------------------------------------- slip models
def _laplacian_blocks(grid) -> np.ndarray:
    """Block-diagonal Laplacian for (strike slip, dip slip), scaled by the patch area (dimensionless)."""
    lap = grid.laplacian().numpy() * float(grid.length[0] * grid.width[0])
    z = np.zeros_like(lap)
    return np.block([[lap, z], [z, lap]])


def _slip_dataset(grid, res, G, d, sigma, st, extra: Mapping[str, np.ndarray]) -> xr.Dataset:
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
    ds.attrs.update(n_strike=grid.n_strike, n_dip=grid.n_dip, patch_length_m=float(grid.length[0]),
                    patch_width_m=float(grid.width[0]), abic=res.abic, log_evidence=res.log_evidence,
                    smoothing_weight=float(res.weights[0]), sigma2=res.sigma2, misfit=res.misfit,
                    roughness=res.roughness)
    return ds


def slip_synthetic(cfg: Mapping, *, nu: float, seed: int) -> xr.Dataset:
    """Distributed slip from noisy synthetic data: Gaussian slip patch, Laplacian smoothing chosen by ABIC."""
    f = cfg["fault"]
    grid = patch_grid(**_fault_kw(f), n_strike=int(cfg["patches"]["n_strike"]), n_dip=int(cfg["patches"]["n_dip"]))
    t = cfg["truth"]
    r2 = ((grid.along - float(t["center_along_m"])) ** 2 + (grid.down - float(t["center_down_m"])) ** 2).numpy()
    mag = float(t["peak_m"]) * np.exp(-0.5 * r2 / float(t["radius_m"]) ** 2)
    rake = math.radians(float(t["rake"]))
    true = np.concatenate([mag * math.cos(rake), mag * math.sin(rake)])
    st = _grid(int(cfg["stations"]["n"]), float(cfg["stations"]["half_width_m"]))
    G = greens_matrix(st, grid, nu=nu).numpy()  # (n, 3, P, 2)
    Gm = np.concatenate([G[..., 0].reshape(-1, grid.n), G[..., 1].reshape(-1, grid.n)], 1)
    sig = _noise(cfg["noise_m"], st.shape[0]).numpy().reshape(-1)
    rng = np.random.default_rng(int(seed))
    d = Gm @ true + sig * rng.standard_normal(sig.shape)
    res = fit_abic(Gm, d, [_laplacian_blocks(grid)], data_sigma=sig,
                   log10_bounds=tuple(cfg.get("log10_bounds", (-8.0, 8.0))))
    p = grid.n
    within = np.abs(res.coef - true) <= 2 * res.std
    extra = {
        "true_strike_slip": _attrs(xr.DataArray(true[:p], dims="patch"), "m", "true strike-slip"),
        "true_dip_slip": _attrs(xr.DataArray(true[p:], dims="patch"), "m", "true dip-slip"),
    }
    ds = _slip_dataset(grid, res, Gm, d, sig, st.numpy(), extra)
    rel = float(np.linalg.norm(res.coef - true) / np.linalg.norm(true))
    ds.attrs.update(case="synthetic", relative_l2_error=rel, fraction_within_2sd=float(within.mean()))
    log.info("synthetic slip: relative L2 error %.3f, %.0f%% of patch components within 2 sd", rel,
             100 * within.mean())
    return ds


def slip_tohoku(gps: xr.Dataset, cfg: Mapping, *, nu: float) -> xr.Dataset:
    """Distributed slip of the 2011 Tohoku earthquake on a planar megathrust from GEONET offsets relative to a
    reference site: Green's functions are differenced with the reference site's (d = (G - G_ref) s + e)."""
    f = cfg["fault"]
    lon0, lat0 = float(f["lon"]), float(f["lat"])
    e, n = lonlat_to_enu(gps["lon"].values, gps["lat"].values, lon0, lat0)
    st = torch.tensor(np.stack([e, n, np.zeros_like(e)], -1), dtype=F64)
    re, rn = lonlat_to_enu(np.array([gps.attrs["reference_lon"]]), np.array([gps.attrs["reference_lat"]]), lon0, lat0)
    ref = torch.tensor([[re[0], rn[0], 0.0]], dtype=F64)
    kw = {k: float(f[k]) for k in ("depth", "strike", "dip", "length", "width")}
    grid = patch_grid(east=0.0, north=0.0, **kw, n_strike=int(cfg["patches"]["n_strike"]),
                      n_dip=int(cfg["patches"]["n_dip"]))
    G = greens_matrix(torch.cat([st, ref]), grid, nu=nu).numpy()
    G = G[:-1] - G[-1:]  # relative to the reference site
    Gm = np.concatenate([G[..., 0].reshape(-1, grid.n), G[..., 1].reshape(-1, grid.n)], 1)
    d = np.stack([gps["east"].values, gps["north"].values, gps["up"].values], -1).reshape(-1)
    sig = _noise(cfg["sigma_m"], st.shape[0]).numpy().reshape(-1)
    bounds = tuple(cfg.get("log10_bounds", (-8.0, 8.0)))
    res = fit_abic(Gm, d, [_laplacian_blocks(grid)], data_sigma=sig, log10_bounds=bounds)
    extra = {
        "lon": _attrs(xr.DataArray(gps["lon"].values, dims="station"), "degrees_east", "station longitude"),
        "lat": _attrs(xr.DataArray(gps["lat"].values, dims="station"), "degrees_north", "station latitude"),
    }
    ds = _slip_dataset(grid, res, Gm, d, sig, st.numpy(), extra)
    p = grid.n
    mu = float(cfg.get("mu_pa", 4.0e10))
    m0 = mu * float(grid.length[0] * grid.width[0]) * float(np.hypot(res.coef[:p], res.coef[p:]).sum())
    ds.attrs.update(case="tohoku", lon0=lon0, lat0=lat0, reference_lon=float(gps.attrs["reference_lon"]),
                    reference_lat=float(gps.attrs["reference_lat"]), moment_nm=m0,
                    mw=(2.0 / 3.0) * (math.log10(m0) - 9.1), source_file=gps.attrs.get("source_file", ""),
                    citation=gps.attrs.get("citation", ""), fault_strike=kw["strike"], fault_dip=kw["dip"],
                    log10_bounds=list(bounds),
                    weight_at_lower_bound=int(abs(math.log10(float(res.weights[0])) - bounds[0]) < 1e-3))
    rms = float(np.sqrt(np.mean((Gm @ res.coef - d) ** 2)))
    log.info("Tohoku slip: max %.1f m, Mw %.2f, rms residual %.3f m", float(ds["slip"].max()), ds.attrs["mw"], rms)
    return ds
