"""Figures of the strain-rate study and of the 1-D PILM examples (matplotlib via sciml.plots)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from sciml.plots import colorbar, new_figure, quiver_with_key, sequential_cmap, signed_cmap

__all__ = ["velocity_figure", "strain_figure", "evidence_figure", "gpsgridder_figure", "examples_figure"]


def _mask(ds: xr.Dataset, mask_km: float) -> np.ndarray:
    """True at grid nodes farther than mask_km from every station."""
    return ds["station_distance"].values > mask_km


def _map(fig, ax, ds, field, values, label, signed, mask):
    v = np.where(mask, np.nan, values)
    if signed:
        kw = signed_cmap(v, percentile=98)
    else:  # saturate the top 2% (edges far from data) so the interior stays readable
        kw = sequential_cmap(np.minimum(v, np.nanpercentile(v, 98)) if np.isfinite(v).any() else v)
    pm = ax.pcolormesh(ds["lon"].values, ds["lat"].values, v, shading="auto", **kw)
    colorbar(fig, pm, ax, label)
    ax.plot(ds["station_lon"].values, ds["station_lat"].values, "k.", ms=1.2)
    ax.set_title(field)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")


def velocity_figure(vel: xr.Dataset, strain: xr.Dataset, title: str):
    """Observed station velocities and the PILM fit at the stations (mm/yr)."""
    fig, axes = new_figure(1, 2, width=4.2, height=4.0)
    lon, lat = vel["lon"].values, vel["lat"].values
    key = float(np.round(np.percentile(np.hypot(vel["ve"], vel["vn"]), 90), -1) or 10.0)
    ax = axes[0, 0]
    span = max(np.ptp(lon), np.ptp(lat))
    kw = {"scale_units": "xy", "scale": key / (0.08 * span)}  # key arrow = 8% of the map
    quiver_with_key(ax, lon, lat, vel["ve"].values, vel["vn"].values, key_value=key, key_label=f"{key:g} mm/yr",
                    color="k", width=0.003, **kw)
    ax.quiver(lon, lat, strain["station_ve_fit"].values, strain["station_vn_fit"].values, color="tab:red",
              width=0.002, alpha=0.8, angles="xy", **kw)
    ax.set_title("observed (black), PILM (red)", loc="left")
    fig.suptitle(f"{title}: station velocities")
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    ax = axes[0, 1]
    res = np.hypot(strain["station_ve_res"].values, strain["station_vn_res"].values)
    sc = ax.scatter(lon, lat, c=res, s=8, **sequential_cmap(res))
    colorbar(fig, sc, ax, "|residual| (mm/yr)")
    title_res = f"residuals ({strain.attrs['regularization']})"
    if "station_weight" in strain and strain.attrs.get("noise") == "student_t":
        w = strain["station_weight"].values
        cut = float(strain.attrs.get("downweight_below", 0.5))
        low = w < cut
        ax.scatter(lon[low], lat[low], s=40, facecolors="none", edgecolors="tab:red", linewidths=0.8)
        for i in np.flatnonzero(low)[np.argsort(w[low])][:10]:
            ax.annotate(str(strain["station"].values[i]), (lon[i], lat[i]), fontsize=5, color="tab:red")
        title_res += f"\n{int(low.sum())} down-weighted (weight < {cut:g}, red)"
    ax.set_title(title_res)
    ax.set_xlabel("longitude (deg)")
    ax.set_ylabel("latitude (deg)")
    return fig


def strain_figure(ds: xr.Dataset, title: str, mask_km: float):
    """Dilatation, max shear with principal axes, second invariant, rotation, and their uncertainties."""
    mask = _mask(ds, mask_km)
    fig, axes = new_figure(2, 3, width=3.6, height=3.3)
    u = "(1e-9/yr)"
    _map(fig, axes[0, 0], ds, "dilatation", ds["dilatation"].values, f"dilatation {u}", True, mask)
    _map(fig, axes[0, 1], ds, "max shear + principal axes", ds["max_shear"].values, f"max shear {u}", False, mask)
    _map(fig, axes[0, 2], ds, "second invariant", np.log10(np.maximum(ds["second_invariant"].values, 1e-3)),
         "log10 second invariant (1e-9/yr)", False, mask)
    _map(fig, axes[1, 0], ds, "rotation", ds["rotation"].values, "rotation (1e-9 rad/yr)", True, mask)
    _map(fig, axes[1, 1], ds, "std of max shear", ds["max_shear_std"].values, f"std max shear {u}", False, mask)
    _map(fig, axes[1, 2], ds, "std of dilatation", ds["dilatation_std"].values, f"std dilatation {u}", False, mask)
    # principal axes on a thinned grid: e1 (extension, red) and e2 (compression, blue)
    step = max(1, ds.sizes["x"] // 14)
    sl = (slice(None, None, step), slice(None, None, step))
    lon, lat = ds["lon"].values[sl], ds["lat"].values[sl]
    az = np.radians(ds["azimuth_e1"].values[sl])
    e1, e2 = ds["e1"].values[sl], ds["e2"].values[sl]
    keep = ~mask[sl]
    scale = np.nanpercentile(np.abs(np.r_[e1[keep], e2[keep]]), 90) if keep.any() else 1.0
    coslat = np.cos(np.radians(np.nanmean(lat)))
    ln = 0.6 * step * float(np.nanmedian(np.diff(ds["lat"].values[:, 0]))) / max(scale, 1e-12)
    ax = axes[0, 1]
    for ev, ang, col in ((e1, az, "tab:red"), (e2, az + np.pi / 2, "tab:blue")):
        a = np.minimum(np.abs(ev), 2.0 * scale)  # cap the longest bars
        dx = 0.5 * ln * a * np.sin(ang) / coslat
        dy = 0.5 * ln * a * np.cos(ang)
        segs = np.stack([np.column_stack([lon[keep] - dx[keep], lat[keep] - dy[keep]]),
                         np.column_stack([lon[keep] + dx[keep], lat[keep] + dy[keep]])], axis=1)
        from matplotlib.collections import LineCollection

        ax.add_collection(LineCollection(segs, colors=col, linewidths=1.0))
    ax.set_title("max shear; axes: e1 red, e2 blue")
    fig.suptitle(f"{title}: PILM strain rates, {ds.attrs['regularization']} regularisation "
                 f"(log evidence {float(ds['metric_log_evidence']):.1f}); masked > {mask_km:g} km from stations")
    return fig


def evidence_figure(strains: Mapping[str, xr.Dataset], compare: xr.Dataset, title: str):
    """Evidence versus regularisation weight for each operator (optimum marked), the smallest eigenvalues of
    each regulariser (the gap that sets the prior rank) and the comparison table (evidence and k-fold CV)."""
    fig, axes = new_figure(1, 3, width=3.6, height=3.2)
    ax = axes[0, 0]
    for m, ds in strains.items():
        if "abic_profile" in ds:
            ax.plot(ds["log10_weight"].values, ds["abic_profile"].values, label=m)
            ax.plot(np.log10(float(ds["metric_weight"])), float(ds["metric_abic"]), "o", color=ax.lines[-1].get_color())
    ax.set_xlabel("log10 regularisation weight w (1)")
    ax.set_ylabel("ABIC = -2 log evidence + 4 (1)")
    finite = np.concatenate([ds["abic_profile"].values for ds in strains.values() if "abic_profile" in ds] or [[]])
    finite = finite[np.isfinite(finite)]
    if finite.size:
        lo = finite.min()
        ax.set_ylim(lo - 0.05 * (np.percentile(finite, 60) - lo) - 5, np.percentile(finite, 60))
    ax.legend()
    ax.set_title(f"{title}: evidence scan (Gaussian noise)\ndot: optimum of the fit's noise model", fontsize=7)
    ax = axes[0, 1]
    for m, ds in strains.items():
        if "prior_eigenvalue" in ds:
            ev = ds["prior_eigenvalue"].values
            ax.semilogy(np.arange(ev.size), np.maximum(ev, 1e-32), ".-", label=m)
            k = int(float(ds["metric_null_dim"]))
            ax.axvline(k - 0.5, color=ax.lines[-1].get_color(), ls=":", lw=0.8)
    ax.set_xlabel("eigenvalue index (1)")
    ax.set_ylabel("eigenvalue of R'R / largest (1)")
    ax.set_title("prior spectrum\ndotted: null dimension used", fontsize=7)
    ax.legend()
    ax = axes[0, 2]
    ax.axis("off")
    lines = ["method        logEv  logEv_int     CV   chi2/N"]
    for i, m in enumerate(compare["method"].values):
        lines.append(f"{m:<12}{compare['log_evidence'].values[i]:8.1f} {compare['log_evidence_integrated'].values[i]:8.1f} "
                     f"{compare['cv_log_density'].values[i]:8.1f} {compare['chi2_per_datum'].values[i]:7.2f}")
    lines.append(f"preferred by evidence: {compare.attrs['preferred_by_evidence']}")
    if "metric_log_bayes_factor" in compare:
        lines.append(f"log Bayes factor ({compare.attrs['log_bayes_factor_pair']}): "
                     f"{float(compare['metric_log_bayes_factor']):.1f}")
        lines.append(f"CV log density difference: {float(compare['metric_cv_log_density_difference']):.1f}")
        lines.append(f"preferred by CV: {compare.attrs['preferred_by_cv']}")
    if np.isfinite(compare["rel_error_max_shear"].values).any():
        lines.append("rel. error of max shear vs exact: " + ", ".join(
            f"{m} {e:.2f}" for m, e in zip(compare["method"].values, compare["rel_error_max_shear"].values)))
    ax.text(0.0, 1.0, "\n".join(lines), family="monospace", fontsize=6, va="top", transform=ax.transAxes)
    ax.set_title("evidence and cross-validation", fontsize=7)
    return fig


def gpsgridder_figure(strains: Mapping[str, xr.Dataset], gps: xr.Dataset, compare: xr.Dataset, title: str,
                      mask_km: float):
    """Max shear and dilatation: preferred PILM, gpsgridder, and their difference."""
    best = compare.attrs["preferred_by_evidence"]
    ds = strains[best]
    mask = _mask(ds, mask_km)
    fig, axes = new_figure(2, 3, width=3.6, height=3.3)
    u = "(1e-9/yr)"
    for r, k in enumerate(("max_shear", "dilatation")):
        signed = k == "dilatation"
        _map(fig, axes[r, 0], ds, f"PILM {best}: {k}", ds[k].values, f"{k} {u}", signed, mask)
        _map(fig, axes[r, 1], ds, f"gpsgridder: {k}", gps[k].values, f"{k} {u}", signed, mask)
        _map(fig, axes[r, 2], ds, "PILM - gpsgridder", ds[k].values - gps[k].values, f"difference {u}", True, mask)
    fig.suptitle(f"{title}: PILM ({best}) vs GMT gpsgridder (nu={gps.attrs['poisson']:g}, "
                 f"fudge {gps.attrs['fudge_km']:g} km, {gps.attrs['eigen_percent']:g}% eigenvalues)")
    return fig


def examples_figure(ex: xr.Dataset):
    """1-D PILM convergence (B-splines, Fourier), uncertain-BC posterior and inverse-source recovery."""
    fig, axes = new_figure(1, 4, width=3.0, height=2.8)
    ax = axes[0, 0]
    ax.loglog(ex["h"].values, ex["forward_error"].values, "o-", label="exact BCs")
    ax.loglog(ex["h"].values, ex["uncertain_error"].values, "s--", label="uncertain BCs (mean)")
    h = ex["h"].values
    ax.loglog(h, ex["forward_error"].values[0] * (h / h[0]) ** 4, "k:", label="h^4")
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("knot spacing h (1)")
    ax.set_ylabel("max |u - u_exact| (1)")
    ax.set_title("cubic B-splines: -u'' = f")
    ax.legend()
    ax = axes[0, 1]
    ax.semilogy(ex["n_modes"].values, ex["periodic_error"].values, "o-")
    ax.set_xlabel("Fourier modes (1)")
    ax.set_ylabel("max error (1)")
    ax.set_title("Fourier: u'' - u = f (periodic)")
    ax = axes[0, 2]
    x = ex["x"].values
    ax.fill_between(x, ex["ubc_mean"] - 2 * ex["ubc_std"], ex["ubc_mean"] + 2 * ex["ubc_std"], alpha=0.3,
                    label="posterior +-2 std")
    ax.plot(x, ex["ubc_exact_mean"], "k--", label="exact mean")
    ax.plot(x, ex["ubc_exact_mean"] + 2 * ex["ubc_exact_std"], "k:", lw=0.8, label="exact +-2 std")
    ax.plot(x, ex["ubc_exact_mean"] - 2 * ex["ubc_exact_std"], "k:", lw=0.8)
    ax.set_xlabel("x (1)")
    ax.set_ylabel("u (1)")
    ax.set_title("uncertain boundary values")
    ax.legend(fontsize=6)
    ax = axes[0, 3]
    ax.fill_between(x, ex["q"] - 2 * ex["q_std"], ex["q"] + 2 * ex["q_std"], alpha=0.3, label="posterior +-2 std")
    ax.plot(x, ex["q"], label="PILM q")
    ax.plot(x, ex["q_exact"], "k--", label="exact q")
    ax.set_xlabel("x (1)")
    ax.set_ylabel("source q (1)")
    ax.set_title(f"inverse source (rel. err {float(ex['metric_q_rel_error']):.3f})")
    ax.legend(fontsize=6)
    return fig
