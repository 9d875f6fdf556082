"""1-D P-velocity-depth model from first-arrival picks with fixed hypocentres (PINN eikonal inversion).

In a flat-layered medium the 3-D traveltime from a source at depth ``z_s`` depends only on the
horizontal offset ``r`` and the depth ``z`` of the receiver: ``T(r, z; z_s)`` solves the 2-D eikonal
equation ``T_r^2 + T_z^2 = 1 / v(z)^2``. A network ``tau(r, z, z_s) > 0`` gives the factored
traveltime ``T = sqrt(r^2 + (z - z_s)^2) * tau`` and a second network the velocity
``v(z) = v_start(z) * (1 + a * tanh(N(z)))`` (starting model ``v0 + gradient * z``, ``N`` starts at 0).
The loss is the pick misfit (Huber, s, weighted by the pick weight) plus the eikonal residual
``v |grad T| - 1`` at random collocation points. Units: km, km/s, s.

Station corrections (``station_statics: true``; as in a minimum 1-D model, Kissling et al. 1994): every station
gets a static delay ``c_s`` (s, trained, damped by ``(c / static_prior_s)^2`` with weight
``train.weights.statics``), added to the predicted time of its picks. The published model is then compared
with its own statics, the mean training residual per station (same held-out picks), so neither side gets an
advantage; the raw, statics-free residuals are recorded too.

The recovered model is checked independently: its traveltimes by ray-parameter quadrature
(:mod:`sciml.forward.traveltime`) are compared with the picks, side by side with the published model.

Resolution and uncertainty (:func:`linearized_resolution`): around the recovered model, the quadrature ray
lengths per layer are the sensitivities ``G = dT / d(slowness)``; with data errors of the held-out RMS residual
and a Gaussian prior on the slowness (relative standard deviation ``prior_rel_std``, exponential correlation
over ``prior_correlation_km``), the linearised posterior covariance ``C = (G^T G / sigma^2 + C_m^-1)^-1`` gives
the velocity band ``v +- 2 v^2 sqrt(diag C)`` and the resolution ``R = I - C C_m^-1``; depths with
``diag R >= resolution_threshold`` (the data explain at least that fraction of the prior) count as resolved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import xarray as xr

from sciml.errors import bad_value
from sciml.forward.traveltime import lengths_table, resample, traveltime_table, velocity_at
from sciml.nn import Trainer, gradient
from sciml.picks.hypodd import pick_table, read_phase_file, read_stations, read_velocity_model
from sciml.pinn.common import (StudyResult, build_mlp, collocation_seed_step, dtype_of, predict, result,
                               step_generator, train_config, uniform)


class _Velocity1DModel(torch.nn.Module):
    def __init__(self, tnet: torch.nn.Module, vnet: torch.nn.Module, v0: float, grad: float, max_pert: float,
                 tau_scale: float, n_stations: int = 0):
        super().__init__()
        self.tnet, self.vnet = tnet, vnet
        self.v0, self.grad, self.max_pert, self.tau_scale = v0, grad, max_pert, tau_scale
        dtype = next(tnet.parameters()).dtype
        self.statics = torch.nn.Parameter(torch.zeros(n_stations, dtype=dtype))  # station delays (s)

    def velocity(self, z: torch.Tensor) -> torch.Tensor:
        return (self.v0 + self.grad * z) * (1.0 + self.max_pert * torch.tanh(self.vnet(z)))

    def forward(self, p: torch.Tensor) -> torch.Tensor:  # p = (r, z, z_s)
        dist = torch.sqrt(p[:, :1] ** 2 + (p[:, 1:2] - p[:, 2:3]) ** 2)
        return dist * self.tau_scale * torch.nn.functional.softplus(self.tnet(p))


def table_traveltimes(tops: np.ndarray, v: np.ndarray, offsets: np.ndarray, depths: np.ndarray,
                      d_offset: float = 0.5, d_depth: float = 0.1) -> np.ndarray:
    """Quadrature traveltimes (s) at many (offset, source depth) pairs via a bilinearly interpolated table."""
    from scipy.interpolate import RegularGridInterpolator

    og = np.arange(0.0, offsets.max() + 2 * d_offset, d_offset)
    dg = np.arange(max(0.0, depths.min() - d_depth), depths.max() + 2 * d_depth, d_depth)
    table = traveltime_table(tops, v, dg, og)
    return RegularGridInterpolator((dg, og), table)(np.column_stack([depths, offsets]))


def linearized_resolution(tops: np.ndarray, v: np.ndarray, offsets: np.ndarray, depths: np.ndarray, sigma: float, *,
                          prior_rel_std: float, prior_correlation_km: float, stations: np.ndarray | None = None,
                          static_std: float = 0.5, d_offset: float = 0.5,
                          d_depth: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Linearised resolution ``diag R`` and velocity standard deviation (km/s) of the layers ``(tops, v)`` from
    first arrivals at ``(offsets, depths)`` (km) with independent errors ``sigma`` (s); see the module docstring.
    ``stations`` (station index per pick) adds one static delay per station (prior std ``static_std``, s) to
    the unknowns, so the velocity resolution accounts for the trade-off with them."""
    from scipy.interpolate import RegularGridInterpolator

    og = np.arange(0.0, offsets.max() + 2 * d_offset, d_offset)
    dg = np.arange(max(0.0, depths.min() - d_depth), depths.max() + 2 * d_depth, d_depth)
    _, lengths = lengths_table(tops, v, dg, og)
    G = RegularGridInterpolator((dg, og), lengths)(np.column_stack([depths, offsets]))   # (n, layers) km
    mids = tops + 0.5 * np.diff(np.append(tops, 2 * tops[-1] - tops[-2]))
    sd = prior_rel_std / v                                                              # slowness std (s/km)
    Cm = sd[:, None] * sd[None, :] * np.exp(-np.abs(mids[:, None] - mids[None, :]) / prior_correlation_km)
    nv = len(v)
    if stations is not None:
        ns = int(stations.max()) + 1
        G = np.hstack([G, np.eye(ns)[stations]])
        Cm = np.block([[Cm, np.zeros((nv, ns))], [np.zeros((ns, nv)), static_std**2 * np.eye(ns)]])
    Cm_inv = np.linalg.inv(Cm)
    C = np.linalg.inv(G.T @ G / sigma**2 + Cm_inv)
    R = np.eye(len(Cm)) - C @ Cm_inv
    return np.diag(R)[:nv], v**2 * np.sqrt(np.diag(C)[:nv])


def load_picks(cfg: dict[str, Any], paths: dict[str, str | Path]) -> pd.DataFrame:
    """P picks with geometry from the hypoDD files, limited by ``max_offset_km`` and ``min_weight``."""
    cat = read_phase_file(paths["phase"])
    st = read_stations(paths["stations"])
    picks = pick_table(cat, st, phase="P", min_weight=float(cfg["min_weight"]),
                       max_offset_km=float(cfg["max_offset_km"]))
    if picks.empty:
        raise bad_value(str(paths["phase"]), "picks", 0, f"no P picks within max_offset_km = {cfg['max_offset_km']} "
                        f"with weight > min_weight = {cfg['min_weight']}")
    return picks


def run(cfg: dict[str, Any], paths: dict[str, str | Path], *, device: torch.device, seed: int, checkpoint=None,
        progress: bool = False) -> StudyResult:
    """Invert the Calaveras P picks (or, with ``synthetic: true``, synthetic picks of the published model)."""
    dtype = dtype_of(cfg)
    rng = np.random.default_rng(seed)
    picks = load_picks(cfg, paths)
    counts = dict(picks.attrs.get("counts", {}))  # every pick of the file accounted for (sciml.picks.hypodd)
    max_picks = int(cfg["max_picks"])
    counts["subsampled_away"] = max(0, len(picks) - max_picks)
    if len(picks) > max_picks:
        picks = picks.iloc[np.sort(rng.choice(len(picks), max_picks, replace=False))].reset_index(drop=True)
    tops_pub, v_pub = read_velocity_model(paths["model"])
    r, zs, zr = picks.offset_km.to_numpy(), picks.depth_km.to_numpy(), -picks.elev_km.to_numpy()
    t_obs = picks.traveltime_s.to_numpy(dtype=float, copy=True)
    t_pub = table_traveltimes(tops_pub, v_pub, r, zs)
    if cfg["synthetic"]:
        t_obs = t_pub + float(cfg["noise_s"]) * rng.standard_normal(len(t_pub))
    held = rng.random(len(picks)) < float(cfg["holdout_fraction"])
    zmax = float(cfg["zmax_km"])
    rmax = float(r.max())
    zs_lim = (float(zs.min()) - 0.5, float(zs.max()) + 0.5)
    lo, hi = [0.0, min(0.0, float(zr.min())), zs_lim[0]], [rmax, zmax, zs_lim[1]]
    tnet = build_mlp(cfg["network"], 3, 1, lower=lo, upper=hi, dtype=dtype, seed=seed, source="pinn.calaveras.network")
    vnet = build_mlp(cfg["velocity_network"], 1, 1, lower=[lo[1]], upper=[zmax],
                     dtype=dtype, seed=seed + 1, init="zeros_last", source="pinn.calaveras.velocity_network")
    st = cfg["start"]
    v0, g = float(st["v0"]), float(st["gradient"])
    codes, station_names = pd.factorize(picks.station)
    use_statics = bool(cfg["station_statics"])
    model = _Velocity1DModel(tnet, vnet, v0, g, float(cfg["max_perturbation"]),
                             1.0 / ((v0 + g * zmax / 2) * np.log(2.0)),
                             n_stations=len(station_names) if use_statics else 0).to(device)
    tkw = {"dtype": dtype, "device": device}
    train = ~held
    pts = torch.as_tensor(np.column_stack([r, zr, zs]), **tkw)
    tt = torch.as_tensor(t_obs, **tkw)
    w = torch.as_tensor(np.clip(picks.weight.to_numpy(), 0, None), **tkw)
    tr_idx = torch.as_tensor(np.flatnonzero(train), device=device)
    sidx = torch.as_tensor(codes, device=device)
    static_prior = float(cfg["static_prior_s"])
    delta = float(cfg["huber_delta_s"])
    n = int(cfg["n_collocation"])
    batch = int(cfg["batch_picks"])

    tcfg = train_config(cfg, progress, "pinn.calaveras")

    def loss_fn(m, step):
        gen = step_generator(seed, collocation_seed_step(step, tcfg), device)
        c = uniform(n, lo, hi, gen, **tkw).requires_grad_(True)
        grad_t = gradient(m(c), c)[:, :2]
        res = m.velocity(c[:, 1:2])[:, 0] * torch.linalg.vector_norm(grad_t, dim=1) - 1.0
        k = tr_idx[torch.randint(len(tr_idx), (min(batch, len(tr_idx)),), generator=gen, device=device)]
        pred = m(pts[k])[:, 0] + (m.statics[sidx[k]] if use_statics else 0.0)
        hub = torch.nn.functional.huber_loss(pred, tt[k], reduction="none", delta=delta)
        terms = {"eikonal": (res**2).mean(), "data": (w[k] * hub).sum() / w[k].sum()}
        if use_statics:
            terms["statics"] = (m.statics / static_prior).pow(2).mean()
        return terms

    history = Trainer(model, loss_fn, tcfg, device=device,
                      checkpoint=checkpoint).fit()
    statics = (model.statics.detach().cpu().double().numpy()[codes] if use_statics else np.zeros(len(picks)))
    zprof = np.linspace(0.0, zmax, int(cfg["profile_points"]))
    v_pinn = predict(model.velocity, zprof[:, None], **tkw)[:, 0]
    t_pinn = predict(model, pts.cpu().numpy(), **tkw)[:, 0] + statics
    ltops, lv = resample(lambda zz: np.interp(zz, zprof, v_pinn), 0.0, zmax, float(cfg["quadrature_layer_km"]))
    t_quad = table_traveltimes(ltops, lv, r, zs) + statics
    # the published model's own statics: mean training residual per station (0 where a station has none)
    pub_statics = np.zeros(len(picks))
    if use_statics:
        res_tr = pd.Series((t_obs - t_pub)[train]).groupby(codes[train]).mean()
        pub_statics = res_tr.reindex(codes).fillna(0.0).to_numpy()
    t_start = table_traveltimes(*resample(lambda zz: v0 + g * zz, 0.0, zmax, 0.25), r, zs)
    rms = lambda a: float(np.sqrt(np.mean(np.square(a))))  # noqa: E731
    zc = cfg["compare_depth_km"]
    sel = (zprof >= zc[0]) & (zprof <= zc[1])
    v_pub_prof = velocity_at(tops_pub, v_pub, zprof)
    # linearised resolution and uncertainty around the recovered model (training picks, held-out error level)
    rtops, rv = resample(lambda zz: np.interp(zz, zprof, v_pinn), 0.0, zmax, float(cfg["resolution_layer_km"]))
    sigma_d = rms((t_obs - t_quad)[held])
    res_diag, v_std = linearized_resolution(rtops, rv, r[train], zs[train], sigma_d,
                                            prior_rel_std=float(cfg["prior_rel_std"]),
                                            prior_correlation_km=float(cfg["prior_correlation_km"]),
                                            stations=codes[train] if use_statics else None, static_std=static_prior)
    rmid = rtops + 0.5 * float(cfg["resolution_layer_km"])
    res_prof, std_prof = np.interp(zprof, rmid, res_diag), np.interp(zprof, rmid, v_std)
    resolved = res_prof >= float(cfg["resolution_threshold"])
    rel_diff = (v_pinn - v_pub_prof) / v_pub_prof
    z_res = zprof[resolved] if resolved.any() else np.array([np.nan])
    metrics = {
        "rms_residual_pinn_field": (rms((t_obs - t_pinn)[held]), "s", "held-out RMS residual, PINN traveltime field"),
        "rms_residual_pinn_model": (rms((t_obs - t_quad)[held]), "s",
                                    "held-out RMS residual, recovered v(z) by quadrature"),
        "rms_residual_published": (rms((t_obs - t_pub - pub_statics)[held]), "s",
                                   "held-out RMS residual, published 1-D model (with its own station statics "
                                   "when station_statics)"),
        "rms_residual_published_raw": (rms((t_obs - t_pub)[held]), "s",
                                       "held-out RMS residual, published 1-D model without statics"),
        "rms_residual_pinn_model_raw": (rms((t_obs - t_quad + statics)[held]), "s",
                                        "held-out RMS residual, recovered v(z) by quadrature, without statics"),
        "rms_residual_start": (rms((t_obs - t_start)[held]), "s", "held-out RMS residual, starting model"),
        "velocity_rms_diff_published": (rms((v_pinn - v_pub_prof)[sel]), "km s-1",
                                        f"RMS difference to the published model, {zc[0]}-{zc[1]} km depth"),
        "velocity_rel_rms_diff_published": (rms(((v_pinn - v_pub_prof) / v_pub_prof)[sel]), "1",
                                            f"relative RMS difference to the published model, {zc[0]}-{zc[1]} km"),
        "velocity_rel_rms_diff_published_resolved": (rms(rel_diff[resolved]) if resolved.any() else np.nan, "1",
                                                     "relative RMS difference to the published model where resolved"),
        "velocity_rel_max_diff_published_resolved": (float(np.abs(rel_diff[resolved]).max()) if resolved.any()
                                                     else np.nan, "1",
                                                     "largest relative difference to the published model where resolved"),
        "resolved_top_km": (float(z_res.min()), "km", "shallowest resolved depth (diag R >= resolution_threshold)"),
        "resolved_bottom_km": (float(z_res.max()), "km", "deepest resolved depth (diag R >= resolution_threshold)"),
        "velocity_std_max_resolved": (float(std_prof[resolved].max()) if resolved.any() else np.nan, "km s-1",
                                      "largest linearised 1-sigma velocity uncertainty where resolved"),
        "data_sigma": (sigma_d, "s", "data error of the resolution analysis (held-out RMS residual)"),
        "threshold_velocity_rel_diff_resolved": (float(cfg["threshold_velocity_rel_diff_resolved"]), "1",
                                                 "stated bound on the relative RMS difference where resolved"),
        "n_picks": (float(len(picks)), "1", "number of P picks used (training + held out)"),
    }
    ds = xr.Dataset({
        "vp_pinn": (("depth",), v_pinn, {"units": "km s-1", "long_name": "P velocity recovered by the PINN"}),
        "vp_published": (("depth",), v_pub_prof, {"units": "km s-1", "long_name": "published 1-D P velocity"}),
        "vp_start": (("depth",), v0 + g * zprof, {"units": "km s-1", "long_name": "starting P velocity"}),
        "vp_std": (("depth",), std_prof, {"units": "km s-1",
                                          "long_name": "linearised 1-sigma uncertainty of the recovered P velocity"}),
        "resolution": (("depth",), res_prof, {"units": "1", "long_name": "diagonal of the linearised resolution matrix"}),
        "resolved": (("depth",), resolved.astype(np.int8), {"units": "1", "long_name": "1 = resolved depth"}),
        "offset": (("pick",), r, {"units": "km", "long_name": "epicentral (horizontal) offset"}),
        "source_depth": (("pick",), zs, {"units": "km", "long_name": "catalog hypocentre depth"}),
        "traveltime_observed": (("pick",), t_obs, {"units": "s", "long_name": "observed P traveltime"}),
        "traveltime_pinn": (("pick",), t_pinn, {"units": "s", "long_name": "PINN traveltime field at the pick"}),
        "traveltime_pinn_model": (("pick",), t_quad, {"units": "s", "long_name": "quadrature traveltime, PINN v(z)"}),
        "traveltime_published": (("pick",), t_pub, {"units": "s", "long_name": "quadrature traveltime, published model"}),
        "held_out": (("pick",), held.astype(np.int8), {"units": "1", "long_name": "1 = held out of training"}),
    }, coords={"depth": ("depth", zprof, {"units": "km", "long_name": "depth", "positive": "down"}),
               "pick": ("pick", np.arange(len(picks)), {"units": "1", "long_name": "pick index"})},
        attrs={"synthetic": int(bool(cfg["synthetic"])), **{f"count_{k}": int(v) for k, v in counts.items()}})
    return result(ds, metrics, history, model.state_dict())
