"""Figures of the Okada study (maps, sensitivities, posterior corner plots, slip models) and of the Mogi
example study. Each function takes the study's result dataset and returns a matplotlib figure; scalar results
are read from the ``metric_<name>`` variables (:func:`sciml.io.netcdf.metric`)."""

from __future__ import annotations

import math

import numpy as np
import xarray as xr
from matplotlib.colors import Normalize

from sciml.plots import colorbar, lonlat_axes, new_figure, quiver_with_key, sequential_cmap, signed_cmap

KM = 1e-3


def _fault_trace(ax, fault: dict, scale: float = KM) -> None:
    """Surface projection of a rectangle given by top-centre east/north, strike, dip, length, width (m)."""
    phi, dip = math.radians(fault["strike"]), math.radians(fault["dip"])
    s = np.array([math.sin(phi), math.cos(phi)])
    dd = np.array([math.cos(phi), -math.sin(phi)]) * fault["width"] * math.cos(dip)
    c = np.array([fault["east"], fault["north"]])
    a, b = c - 0.5 * fault["length"] * s, c + 0.5 * fault["length"] * s
    poly = np.array([a, b, b + dd, a + dd, a]) * scale
    ax.plot(poly[:, 0], poly[:, 1], "k-", lw=0.8)
    ax.plot(poly[:2, 0], poly[:2, 1], "k-", lw=2.0)  # top edge


def _fault_dict(ds: xr.Dataset, var: str) -> dict:
    dim = ds[var].dims[0]
    return {str(k): float(v) for k, v in zip(ds[dim].values, ds[var].values)}


def synthetic_maps(ds: xr.Dataset):
    """Displacement (vectors + vertical) and surface strain maps of the synthetic fault."""
    x, y = ds["x"].values * KM, ds["y"].values * KM
    fault = _fault_dict(ds, "fault_true")
    fig, ax = new_figure(1, 3, width=3.4, height=3.0)
    up = ds["map_u"].sel(component="up").values * 1e3
    im = ax[0, 0].pcolormesh(x, y, up, shading="auto", **signed_cmap(up))
    colorbar(fig, im, ax[0, 0], "u_up (mm)")
    st = np.stack([ds[f"station_{c}"].values for c in ("east", "north")], -1) * KM
    obs = ds["obs"].values
    quiver_with_key(ax[0, 0], st[:, 0], st[:, 1], obs[:, 0], obs[:, 1], key_value=0.1, key_label="0.1 m",
                    scale=2.0, width=0.004)
    ax[0, 0].set_title("displacement (obs. vectors)")
    for a, var, title in ((ax[0, 1], "map_dilatation", "areal strain"), (ax[0, 2], "map_max_shear", "max shear strain")):
        v = ds[var].values * 1e6
        kw = signed_cmap(v, percentile=99) if var == "map_dilatation" else sequential_cmap(np.clip(v, 0, np.percentile(v, 99)))
        im = a.pcolormesh(x, y, v, shading="auto", **kw)
        colorbar(fig, im, a, f"{title} (microstrain)")
        a.set_title(title)
    for a in ax[0]:
        _fault_trace(a, fault)
        a.set_xlabel("east (km)")
        a.set_ylabel("north (km)")
        a.set_aspect("equal")
    return fig


def sensitivity_maps(ds: xr.Dataset):
    """d u_up / d parameter maps (autograd), one panel per parameter."""
    params = list(ds["sens_param"].values)
    units = {"depth": "mm/km", "dip": "mm/deg", "strike": "mm/deg", "slip": "mm/m", "east": "mm/km",
             "north": "mm/km", "length": "mm/km", "width": "mm/km", "rake": "mm/deg"}
    per = {"depth": 1e3, "east": 1e3, "north": 1e3, "length": 1e3, "width": 1e3}
    fig, ax = new_figure(1, len(params), width=3.0, height=2.8)
    x, y = ds["x"].values * KM, ds["y"].values * KM
    fault = _fault_dict(ds, "fault_true")
    for a, p in zip(ax[0], params):
        v = ds["map_sensitivity"].sel(sens_param=p, component="up").values * 1e3 * per.get(str(p), 1.0)
        im = a.pcolormesh(x, y, v, shading="auto", **signed_cmap(v))
        colorbar(fig, im, a, f"du_up/d{p} ({units.get(str(p), 'mm/unit')})")
        _fault_trace(a, fault)
        a.set_title(f"sensitivity to {p}")
        a.set_xlabel("east (km)")
        a.set_ylabel("north (km)")
        a.set_aspect("equal")
    return fig


def corner(ds: xr.Dataset, *, reference: str, reference_label: str):
    """Pairwise HMC samples with Laplace 2-sigma ellipses and the reference (truth or published) values."""
    names = [str(n) for n in ds["param"].values]
    units = dict(zip(names, ds["param_units"].values))
    scale = {n: (KM if units[n] == "m" and n not in ("slip", "opening") else 1.0) for n in names}
    ulab = {n: ("km" if scale[n] == KM else units[n]) for n in names}
    s = ds["samples"].values.reshape(-1, len(names))
    mean, cov = ds["estimate"].values, ds["covariance"].values
    ref = {str(k): float(v) for k, v in zip(ds["all_param"].values, ds[reference].values)}
    p = len(names)
    fig, ax = new_figure(p, p, width=1.35, height=1.35)
    t = np.linspace(0, 2 * np.pi, 100)
    for i in range(p):
        for j in range(p):
            a = ax[i, j]
            if j > i:
                a.axis("off")
                continue
            si, sj = scale[names[i]], scale[names[j]]
            if i == j:
                a.hist(s[:, i] * si, bins=25, density=True, color="0.6")
                g = np.linspace(*a.get_xlim(), 100)
                sd = math.sqrt(cov[i, i]) * si
                a.plot(g, np.exp(-0.5 * ((g - mean[i] * si) / sd) ** 2) / (sd * math.sqrt(2 * math.pi)), "C0-", lw=1)
                a.axvline(ref[names[i]] * si, color="C3", lw=1)
                a.set_yticks([])
            else:
                a.plot(s[:, j] * sj, s[:, i] * si, ".", ms=1, color="0.5", alpha=0.5)
                c2 = cov[np.ix_([j, i], [j, i])]
                w, v = np.linalg.eigh(c2)
                ell = (v @ (2 * np.sqrt(np.maximum(w, 0))[:, None] * np.stack([np.cos(t), np.sin(t)])))
                a.plot((mean[j] + ell[0]) * sj, (mean[i] + ell[1]) * si, "C0-", lw=1)
                a.plot(ref[names[j]] * sj, ref[names[i]] * si, "C3+", ms=8)
            if i == p - 1:
                a.set_xlabel(f"{names[j]} ({ulab[names[j]]})")
            else:
                a.set_xticklabels([])
            if j == 0 and i > 0:
                a.set_ylabel(f"{names[i]} ({ulab[names[i]]})")
            elif j > 0:
                a.set_yticklabels([])
            a.tick_params(labelsize=6)
    fig.suptitle(f"HMC samples (grey), Laplace 2-sigma (blue), {reference_label} (red)")
    return fig


def posterior_figure(ds: xr.Dataset):
    """:func:`corner` against the truth (synthetic case) or the published model (Parkfield)."""
    if "fault_true" in ds:
        return corner(ds, reference="fault_true", reference_label="truth")
    return corner(ds, reference="fault_published", reference_label="published (Custodio et al. 2005)")


def parkfield_fit(ds: xr.Dataset):
    """Observed vs MAP and published-model horizontal displacements at the Parkfield sites."""
    fig, ax = new_figure(1, 1, width=5.0, height=4.5)
    a = ax[0, 0]
    e, n = ds["station_east"].values * KM, ds["station_north"].values * KM
    for var, color, label in (("obs", "k", "observed"), ("model", "C0", "MAP model"),
                              ("model_published", "C3", "published model")):
        v = ds[var].values
        q = a.quiver(e, n, v[:, 0], v[:, 1], color=color, angles="xy", scale=0.4, width=0.005, label=label)
    a.quiverkey(q, 0.8, 0.06, 0.03, "0.03 m", labelpos="E", coordinates="axes")
    _fault_trace(a, {k: float(v) for k, v in zip(ds["param"].values, ds["estimate"].values)} | _fixed(ds))
    for i, s in enumerate(ds["site"].values):
        a.annotate(str(s), (e[i], n[i]), fontsize=6)
    a.legend(loc="lower left")
    a.set_xlabel("east of hypocentre (km)")
    a.set_ylabel("north of hypocentre (km)")
    a.set_aspect("equal")
    a.set_title("2004 Parkfield: horizontal coseismic offsets")
    return fig


def _fixed(ds: xr.Dataset) -> dict:
    free = {str(k) for k in ds["param"].values}
    return {str(k): float(v) for k, v in zip(ds["all_param"].values, ds["fault_published"].values) if str(k) not in free}


def _patch_image(ds: xr.Dataset, var: str) -> tuple[np.ndarray, list[float]]:
    ns, nd = int(ds.attrs["n_strike"]), int(ds.attrs["n_dip"])
    img = ds[var].values.reshape(nd, ns)
    al, dn = ds["patch_along"].values * KM, ds["patch_down"].values * KM
    dl, dw = ds.attrs["patch_length_m"] * KM, ds.attrs["patch_width_m"] * KM
    return img, [al.min() - dl / 2, al.max() + dl / 2, dn.max() + dw / 2, dn.min() - dw / 2]


def slip_synthetic_figure(ds: xr.Dataset):
    """True vs recovered slip magnitude and the posterior std on the fault plane."""
    fig, ax = new_figure(1, 3, width=3.4, height=2.4)
    true = np.hypot(ds["true_strike_slip"], ds["true_dip_slip"]).values
    tmp = ds.assign(true_slip=(("patch",), true))
    vmax = float(max(true.max(), ds["slip"].max()))
    for a, var, title in ((ax[0, 0], "true_slip", "true slip"), (ax[0, 1], "slip", "recovered slip (ABIC)")):
        img, ext = _patch_image(tmp, var)
        im = a.imshow(img, extent=ext, aspect="auto", cmap="viridis", vmin=0, vmax=vmax)
        colorbar(fig, im, a, "slip (m)")
        a.set_title(title)
    std = np.hypot(ds["strike_slip_std"], ds["dip_slip_std"]).values
    img, ext = _patch_image(ds.assign(slip_sd=(("patch",), std)), "slip_sd")
    im = ax[0, 2].imshow(img, extent=ext, aspect="auto", **sequential_cmap(img, cmap="magma"))
    colorbar(fig, im, ax[0, 2], "posterior std (m)")
    ax[0, 2].set_title(f"uncertainty; rel. L2 error {float(ds['metric_relative_l2_error']):.2f}")
    if "metric_prior_fraction_within_2sd" in ds:
        fig.suptitle("within 1 / 2 sd: smooth truth "
                     f"{float(ds['metric_fraction_within_1sd']):.2f} / {float(ds['metric_fraction_within_2sd']):.2f}; "
                     f"{ds.sizes['prior_draw']} truths drawn from the prior "
                     f"{float(ds['metric_prior_fraction_within_1sd']):.2f} / "
                     f"{float(ds['metric_prior_fraction_within_2sd']):.2f} (calibrated: 0.68 / 0.95)", fontsize=8)
    for a in ax[0]:
        a.set_xlabel("along strike (km)")
        a.set_ylabel("down dip (km)")
    return fig


def _patch_map(fig, ax, ds: xr.Dataset, values: np.ndarray, label: str, **kw):
    """Patch values drawn on their triangles in lon/lat (slab patches or split plane rectangles)."""
    from matplotlib.collections import PolyCollection

    verts = np.stack([ds["tri_lon"].values, ds["tri_lat"].values], -1)
    pc = PolyCollection(verts, array=np.asarray(values)[ds["tri_patch"].values.astype(int)], edgecolors="face",
                        linewidths=0.2, **kw)
    ax.add_collection(pc)
    ax.set_xlim(verts[..., 0].min() - 0.7, verts[..., 0].max() + 0.3)
    ax.set_ylim(verts[..., 1].min() - 0.2, verts[..., 1].max() + 0.2)
    colorbar(fig, pc, ax, label)
    lonlat_axes(ax)
    return pc


def slip_tohoku_figure(ds: xr.Dataset):
    """Tohoku slip: MAP slip, posterior std (weight marginalised), data fit, residuals, the ABIC curves with the
    chosen weight, and the posterior of the peak slip against published onshore-GNSS inversions."""
    fig, ax = new_figure(2, 3, width=3.7, height=3.4)
    lon, lat = ds["lon"].values, ds["lat"].values
    near = (lon > 138.5) & (lat > 34.5) & (lat < 42.0)
    slip = ds["slip"].values
    a = ax[0, 0]
    _patch_map(fig, a, ds, slip, "slip (m)", cmap="viridis", norm=Normalize(0, max(float(slip.max()), 1e-9)))
    a.plot(lon[near], lat[near], "k.", ms=1.2)
    a.set_xlim(139.0, a.get_xlim()[1])
    lonlat_axes(a)
    a.plot(float(ds["metric_peak_lon"]), float(ds["metric_peak_lat"]), "r*", ms=8)
    a.set_title(f"MAP slip ({ds.attrs['geometry']}): peak {float(ds['metric_peak_slip']):.1f} m, "
                f"Mw {float(ds['metric_mw']):.2f}", fontsize=8)
    a = ax[0, 1]
    std = ds["slip_std"].values
    _patch_map(fig, a, ds, std, "posterior std of slip (m)", **sequential_cmap(std, cmap="magma"))
    a.set_title("uncertainty (positivity, log w marginalised)", fontsize=8)
    obs, mod = ds["obs"].values.reshape(-1, 3), ds["model"].values.reshape(-1, 3)
    a = ax[0, 2]
    a.quiver(lon[near], lat[near], obs[near, 0], obs[near, 1], color="k", angles="xy", scale=20, width=0.003,
             label="GEONET (rel. Fukue)")
    q = a.quiver(lon[near], lat[near], mod[near, 0], mod[near, 1], color="C3", angles="xy", scale=20, width=0.003,
                 label="MAP model")
    a.quiverkey(q, 0.15, 0.95, 2.0, "2 m", labelpos="E", coordinates="axes")
    a.legend(loc="lower right", fontsize=6)
    a.set_title(f"horizontal fit, rms {100 * float(ds['metric_rms_residual']):.1f} cm (all components)", fontsize=8)
    lonlat_axes(a)
    a = ax[1, 0]
    res = obs - mod
    im = a.scatter(lon[near], lat[near], c=100 * res[near, 2], s=6, **signed_cmap(100 * res[near, 2]))
    colorbar(fig, im, a, "vertical residual (cm)")
    q = a.quiver(lon[near], lat[near], res[near, 0], res[near, 1], angles="xy", scale=1.0, width=0.003)
    a.quiverkey(q, 0.15, 0.95, 0.1, "10 cm", labelpos="E", coordinates="axes")
    a.set_title("residuals: horizontal (arrows), vertical (colour)", fontsize=8)
    lonlat_axes(a)
    a = ax[1, 1]
    t = ds["log10_w"].values
    other = "plane" if ds.attrs["geometry"] == "slab" else "slab"
    ref = float(ds["abic"].min())
    a.plot(t, ds["abic"].values - ref, "C0-", lw=1.2, label=f"{ds.attrs['geometry']}, positivity (NNLS)")
    a.plot(t, ds["abic_other"].values - ref, "C1-", lw=1.2, label=f"{other}, positivity")
    a.plot(t, ds["abic_unconstrained"].values - float(ds["abic_unconstrained"].min()), "C0--", lw=1.0,
           label=f"{ds.attrs['geometry']}, unconstrained (own minimum)")
    best = float(ds["metric_log10_weight"])
    a.axvline(best, color="k", lw=0.8)
    interior = bool(int(ds["metric_weight_interior"]))
    a.set_title(("ABIC minimum inside the range" if interior else "weight set by the search BOUND, not by ABIC")
                + f": log10 w = {best:.2f}", fontsize=8)
    a.set_yscale("symlog", linthresh=10.0)
    a.set_ylim(bottom=-1.0)
    a.set_xlabel("log10 smoothing weight w (1)")
    a.set_ylabel("ABIC - min ABIC (1)")
    a.legend(fontsize=6, loc="upper left")
    if "peak_slip_curve" in ds:
        b = a.twinx()
        b.plot(t, ds["peak_slip_curve"].values, "k:", lw=1.0)
        b.set_ylabel("MAP peak slip at w (m, dotted)")
    a = ax[1, 2]
    peak = ds["sample_slip"].values.max(1)
    a.hist(peak, bins=30, color="C0", alpha=0.8, label="posterior of the peak slip")
    a.axvspan(*ds.attrs["published_peak_slip_m"], color="0.8", alpha=0.6, label="published onshore-GNSS peaks")
    a.axvline(float(ds["metric_peak_slip"]), color="k", lw=0.8, label="MAP peak")
    a.set_xlabel("peak slip (m)")
    a.set_ylabel("posterior draws (1)")
    a.set_title(f"Mw {float(ds['metric_mw_p05']):.2f}-{float(ds['metric_mw_p95']):.2f} (90 %), "
                f"mu = {ds.attrs['mu_pa'] / 1e9:.0f} GPa", fontsize=8)
    a.legend(fontsize=6)
    return fig


def slip_resolution_figure(ds: xr.Dataset):
    """Checkerboard and spike tests: true and recovered slip on the Tohoku patches."""
    fig, ax = new_figure(2, 2, width=3.6, height=3.4)
    for row, name in enumerate(("checker", "spike")):
        true, rec = ds[f"{name}_true"].values, ds[f"{name}_recovered"].values
        norm = Normalize(0, max(float(true.max()), float(rec.max()), 1e-9))
        _patch_map(fig, ax[row, 0], ds, true, "true slip (m)", cmap="viridis", norm=norm)
        _patch_map(fig, ax[row, 1], ds, rec, "recovered slip (m)", cmap="viridis", norm=norm)
        ax[row, 0].set_title(f"{name} test: truth", fontsize=8)
        ax[row, 1].set_title(f"recovered: r = {float(ds[f'metric_{name}_correlation']):.2f}, moment ratio "
                             f"{float(ds[f'metric_{name}_moment_ratio']):.2f}, log10 w "
                             f"{float(ds[f'metric_{name}_log10_weight']):.2f}", fontsize=8)
    return fig


def slip_sensitivity_figure(ds: xr.Dataset):
    """Tohoku sensitivity variants: MAP peak slip against the published range (Mw and the weight in the labels),
    and ABIC relative to the default where the data are the same."""
    fig, ax = new_figure(1, 2, width=4.6, height=0.45 * ds.sizes["variant"] + 1.4)
    names = [str(v) for v in ds["variant"].values]
    y = np.arange(len(names))[::-1]
    labels = [f"{n}: {d}" for n, d in zip(names, ds["description"].values)]
    a = ax[0, 0]
    lo, hi = ds.attrs["published_peak_slip_m"]
    a.axvspan(lo, hi, color="0.85", label=f"published onshore-GNSS peaks ({lo:.0f}-{hi:.0f} m)")
    peak = ds["peak_slip"].values
    colors = ["C2" if w else "C0" for w in ds["within_published"].values]
    a.barh(y, peak, color=colors, height=0.6)
    for yi, p, mw, w, inside in zip(y, peak, ds["mw"].values, ds["log10_weight"].values,
                                    ds["weight_interior"].values):
        a.text(p, yi, f" {p:.1f} m, Mw {mw:.2f}, log10 w {w:.2f}{'' if inside else ' (BOUND)'}", va="center",
               fontsize=6)
    a.set_yticks(y, labels, fontsize=7)
    a.set_xscale("log")
    a.set_xlim(0.5 * min(peak.min(), lo), 8.0 * peak.max())
    ticks = [t for t in (5, 10, 20, 30, 50, 100, 200, 500, 1000) if a.get_xlim()[0] <= t <= a.get_xlim()[1]]
    a.set_xticks(ticks, [str(t) for t in ticks])
    a.minorticks_off()
    a.set_xlabel("MAP peak slip (m)")
    a.legend(fontsize=6, loc="lower right")
    a.set_title("peak slip by modelling choice (green: inside the published range)", fontsize=8)
    b = ax[0, 1]
    dab = ds["delta_abic"].values
    ok = np.isfinite(dab)
    b.barh(y[ok], dab[ok], color="C1", height=0.6)
    for yi, v, o in zip(y, dab, ok):
        b.text(v if o else 0.0, yi, f" {v:+.0f}" if o else " other data (not comparable)", va="center", fontsize=6)
    b.axvline(0.0, color="k", lw=0.8)
    b.set_xscale("symlog", linthresh=10.0)
    b.set_yticks(y, [""] * len(y))
    b.set_xlabel("ABIC(variant) - ABIC(default) (1; > 0: default preferred)")
    b.set_title(f"lowest ABIC (same data): {ds.attrs['abic_best_variant']}", fontsize=8)
    return fig


def slip_figure(ds: xr.Dataset):
    """The slip figure of the dataset's case: :func:`slip_synthetic_figure` or :func:`slip_tohoku_figure`."""
    return slip_synthetic_figure(ds) if ds.attrs["case"] == "synthetic" else slip_tohoku_figure(ds)


def mogi_fit_figure(ds: xr.Dataset):
    """Vertical displacement observed / modelled / residual with horizontal vectors (Mogi inversion)."""
    e, n = ds["station_east"].values / 1e3, ds["station_north"].values / 1e3
    m = int(round(np.sqrt(e.size)))
    fig, ax = new_figure(1, 3, width=3.0, height=2.8)
    panels = (("obs", "observed"), ("model", "modelled"), ("residual", "residual"))
    lim = signed_cmap(ds["obs"].values[:, 2])
    key = float(np.abs(ds["obs"].values[:, :2]).max())
    for a, (var, label) in zip(ax[0], panels):
        u = ds[var].values
        im = a.pcolormesh(e.reshape(m, m), n.reshape(m, m), u[:, 2].reshape(m, m), shading="nearest", **lim)
        quiver_with_key(a, e, n, u[:, 0], u[:, 1], key_value=key, key_label=f"{100 * key:.1f} cm")
        a.set_title(label, loc="left")
        a.set_xlabel("east (km)")
        a.set_aspect("equal")
    ax[0, 0].set_ylabel("north (km)")
    colorbar(fig, im, ax[0, 2], "vertical displacement (m)")
    est, std, true = ds["estimate"].values, ds["std"].values, ds["source_true"].values
    fig.suptitle("colour: vertical, arrows: horizontal displacement\n"
                 f"Mogi source: depth {est[2] / 1e3:.2f} +- {std[2] / 1e3:.2f} km (true {true[2] / 1e3:.2f}), "
                 f"dV {est[3] / 1e6:.3f} +- {std[3] / 1e6:.3f} 1e6 m3 (true {true[3] / 1e6:.3f}); "
                 f"chi2/N {float(ds['metric_chi2_per_datum']):.2f}", fontsize=9)
    return fig
