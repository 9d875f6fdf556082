"""Figures of the OkadaTorch study (notebooks 1-7 of the OkadaTorch paper), in the style of :mod:`sciml.plots`."""

from __future__ import annotations

import numpy as np
import xarray as xr

from sciml.plots import colorbar, lonlat_axes, new_figure, signed_cmap

KM = 1e-3
_LABEL = {"east": "x_fault", "north": "y_fault"}


def _map(fig, ax, x, y, v, label, title, lonlat=False, percentile=100.0, lim=None):
    kw = signed_cmap(v, percentile=percentile) if lim is None else signed_cmap([-lim, lim])
    im = ax.pcolormesh(x, y, v, shading="auto", **kw)
    colorbar(fig, im, ax, label)
    ax.set_title(title, fontsize=8)
    if lonlat:
        lonlat_axes(ax)
    else:
        ax.set_aspect("equal")
        ax.set_xlabel("x (1)")
        ax.set_ylabel("y (1)")


def kernel_figure(ds: xr.Dataset):
    """Notebooks 1-2: u_x, u_y, u_z and d u_z / d x of each kernel case (rows)."""
    cases = list(ds["kernel_case"].values)
    fig, ax = new_figure(len(cases), 4, width=2.6, height=2.3)
    x, y = ds["kx"].values, ds["ky"].values
    for r, case in enumerate(cases):
        u = ds["kernel_u"].sel(kernel_case=case).values
        g = ds["kernel_grad"].sel(kernel_case=case).values
        depth = "z = 0" if case in ("spoint", "srectf") else f"z = {float(ds['kernel_z']):g}"
        for c, name in enumerate("xyz"):
            _map(fig, ax[r, c], x, y, u[c], f"u_{name} (1)", f"{case}: u_{name} ({depth})")
        _map(fig, ax[r, 3], x, y, g[2, 0], "d u_z / d x (1)", f"{case}: d u_z / d x")
    return fig


def wrapper_figure(ds: xr.Dataset):
    """Notebook 3: the wrapper's displacements and d u_up / d east, point source and rectangle (the notebook's
    colour limits: +-0.5 m, +-0.05 per km)."""
    fig, ax = new_figure(2, 4, width=2.8, height=2.6)
    lon, lat = ds["lon"].values, ds["lat"].values
    for r, src in enumerate(ds["source"].values):
        u = ds["u"].sel(source=src).values
        g = ds["grad"].sel(source=src).values
        for c, name in enumerate(("east", "north", "up")):
            _map(fig, ax[r, c], lon, lat, u[c], f"u_{name} (m)", f"{src}: u_{name}", lonlat=True, lim=0.5)
        _map(fig, ax[r, 3], lon, lat, g[2, 0], "d u_up / d east (1)", f"{src}: d u_up / d east", lonlat=True,
             lim=5e-5)
    fig.suptitle("OkadaTorch notebook 3: top-left corner 144.8678 E, 40.2224 N; tmerc at the box centre", fontsize=8)
    return fig


def derivative_figure(ds: xr.Dataset):
    """Notebooks 4-5: d u_z / d theta (top) and d^2 u_z / d theta^2 (bottom) for the nine parameters (colour
    limits at the 99th percentile of |value|: the near-fault extremes saturate)."""
    params = list(ds["param"].values)
    units = dict(zip(params, ds["param_units"].values))
    fig, ax = new_figure(2, len(params), width=2.3, height=2.2)
    lon, lat = ds["lon"].values, ds["lat"].values
    for c, p in enumerate(params):
        name = _LABEL.get(p, p)
        _map(fig, ax[0, c], lon, lat, ds["d_uz_d_param"].sel(param=p).values, f"m / {units[p]}",
             f"d u_z / d {name}", lonlat=True, percentile=99.0)
        _map(fig, ax[1, c], lon, lat, ds["d2_uz_d_param2"].sel(param=p).values, f"m / {units[p]}^2",
             f"d^2 u_z / d {name}^2", lonlat=True, percentile=99.0)
    fig.suptitle(f"autograd vs analytic station gradient: max diff {float(ds['metric_grad_autograd_max_abs_diff']):.1e}"
                 f" (max |grad| {float(ds['metric_grad_max_abs']):.1e}); second derivatives: "
                 f"{float(ds['metric_second_autograd_max_abs_diff']):.1e} m-1", fontsize=8)
    return fig


LENGTHS = ("east", "north", "depth", "length", "width")  # shown in km


def _scale(params):
    return np.array([KM if p in LENGTHS else 1.0 for p in params])


def optimize_figure(ds: xr.Dataset):
    """Notebook 6: observed and fitted u_z, loss history, and the estimates +- 1 sd against the notebook's."""
    fig, ax = new_figure(1, 4, width=3.0, height=2.8)
    lon, lat = ds["lon"].values, ds["lat"].values
    for a, v, t in ((ax[0, 0], ds["obs"].values[:, 2], "u_z observed"), (ax[0, 1], ds["model"].values[:, 2],
                                                                         "u_z of the LM estimate")):
        im = a.scatter(lon, lat, c=v, s=8, **signed_cmap(ds["obs"].values[:, 2]))
        colorbar(fig, im, a, "u_z (m)")
        a.set_title(t, fontsize=8)
        lonlat_axes(a)
    a = ax[0, 2]
    a.semilogy(ds["cost_history"].values, "C0.-", label="LM (sciml)")
    a.axhline(float(ds["metric_notebook_loss"]), color="C1", label="notebook 6: Adam after 2000 steps")
    a.set_xlabel("LM iteration (1)")
    a.set_ylabel("0.5 sum of squared residuals (m2)")
    a.legend(fontsize=6)
    a.set_title(f"LM: {int(ds['metric_lm_iterations'])} iterations, loss {float(ds['metric_loss']):.3f} m2", fontsize=8)
    a = ax[0, 3]
    params = list(ds["param"].values)
    truth = ds["truth"].values
    y = np.arange(len(params))
    est, sd = ds["estimate"].values, ds["laplace_std"].values
    nb, nsd = ds["notebook_estimate"].values, ds["notebook_std"].values
    a.errorbar((est - truth) / sd, y + 0.15, xerr=np.ones_like(sd), fmt="o", ms=3, color="C0",
               label="LM + Laplace (sciml)")
    a.errorbar((nb - truth) / sd, y - 0.15, xerr=nsd / sd, fmt="s", ms=3, color="C1",
               label="notebook 6 (Adam, its std)")
    a.set_xscale("symlog", linthresh=1.0)
    a.axvline(0, color="k", lw=0.8)
    a.set_yticks(y, [_LABEL.get(p, p) for p in params])
    a.set_xlabel("(estimate - truth) / our Laplace sd (1); bars: each one's sd")
    a.legend(fontsize=6)
    a.set_title(f"median notebook sd / ours: {float(ds['metric_notebook_std_ratio_median']):.1f}", fontsize=8)
    return fig


def posterior_figure(ds: xr.Dataset):
    """Notebook 7: marginal posteriors of the nine parameters (HMC), truth and the notebook's NUTS mean +- sd."""
    params = list(ds["param"].values)
    units = ds["param_units"].values
    sc = _scale(params)
    fig, ax = new_figure(2, 5, width=2.6, height=2.3)
    s = ds["samples"].values.reshape(-1, len(params))
    lo, hi = ds["prior_lower"].values, ds["prior_upper"].values
    for i, p in enumerate(params):
        a = ax.flat[i]
        a.hist(s[:, i] * sc[i], bins=40, color="C0", alpha=0.8, density=True, label="HMC (sciml)")
        a.axvline(ds["truth"].values[i] * sc[i], color="C3", ls="--", label="truth")
        m = lo[i] + (hi[i] - lo[i]) * ds["notebook_q_mean"].values[i]
        sd = (hi[i] - lo[i]) * max(float(ds["notebook_q_std"].values[i]), 0.005)
        a.axvspan((m - sd) * sc[i], (m + sd) * sc[i], color="C1", alpha=0.3, label="notebook 7 NUTS mean +- sd")
        unit = "km" if p in LENGTHS else units[i]
        a.set_xlabel(f"{_LABEL.get(p, p)} ({unit})")
        a.set_ylabel("density (1 / unit)")
    ax.flat[0].legend(fontsize=5)
    a = ax.flat[-1]
    a.axis("off")
    a.text(0, 0.95, "\n".join([
        f"chains {int(ds['metric_hmc_chains'])} x {int(ds['metric_hmc_draws_per_chain'])} draws",
        f"ESS min {float(ds['metric_hmc_ess_min']):.0f}, R-hat max {float(ds['metric_hmc_rhat_max']):.3f}",
        f"divergences {int(ds['metric_hmc_divergences'])}",
        f"whole path {float(ds['metric_seconds_total']):.1f} s",
        f"ESS min / s {float(ds['metric_ess_min_per_s']):.1f}",
        f"max |q mean - NUTS| {float(ds['metric_notebook_q_mean_max_abs_diff']):.3f}",
        "(NUTS published to 2 decimals)"]), va="top", fontsize=7, transform=a.transAxes)
    return fig
