"""Figures of the Bayesian PINN studies (prior draws, posteriors, accuracy versus cost).

They read the result datasets of the study steps (:mod:`sciml.studies.bayes`): metrics are the 0-d variables
``metric_<name>``; the comparison table has one row per method.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from sciml.plots import colorbar, new_figure, sequential_cmap, signed_cmap

LABELS = {"exact": "exact Gaussian", "pcn": "pCN MCMC (reference)", "fpi_bpinn_hmc": "FPI-BPINN (HMC)",
          "fpi_bpinn_svgd": "FPI-BPINN (SVGD)", "fparvi": "fParVI-PINN"}
COLORS = {"exact": "k", "pcn": "k", "fpi_bpinn_hmc": "tab:blue", "fpi_bpinn_svgd": "tab:orange",
          "fparvi": "tab:green"}


def _field_label(ds: xr.Dataset, var: str) -> str:
    return f"{ds[var].attrs.get('long_name', var)} ({ds[var].attrs.get('units', '1')})"


def prior_samples_figure(ds: xr.Dataset, n_show: int = 8):
    """GP prior draws next to tuned-network prior draws (1-D curves or 2-D maps), with the FPI distance."""
    g, f = ds["gp_prior_samples"], ds["network_prior_samples"]
    units = g.attrs.get("units", "1")
    title = (f"{ds.attrs['fpi_distance_metric']} = {float(ds['metric_fpi_distance']):.3g} {units} "
             f"(GP vs GP: {float(ds['metric_fpi_distance_floor_gp_vs_gp']):.3g})")
    if g.ndim == 2:
        dim = g.dims[1]
        x = ds[dim].values
        fig, axes = new_figure(1, 3, width=3.0, height=2.6)
        lim = np.nanmax(np.abs(np.concatenate([g.values, f.values]) - ds.attrs["prior_mean"]))
        for ax, arr, name in ((axes[0, 0], g, "GP prior"), (axes[0, 1], f, "RFF network prior (tuned)")):
            ax.plot(x, arr.values[:n_show].T, lw=0.8)
            ax.set_title(name)
            ax.set_xlabel(f"{dim} ({ds[dim].attrs.get('units', '1')})")
            ax.set_ylabel(f"{g.attrs.get('long_name', '').split(' of ')[-1]} ({units})")
            ax.set_ylim(ds.attrs["prior_mean"] - 1.1 * lim, ds.attrs["prior_mean"] + 1.1 * lim)
        ax = axes[0, 2]
        ax.plot(ds["fpi_loss"].values, lw=0.8)
        ax.set_xlabel("FPI step (1)")
        ax.set_ylabel(f"distance ({units})")
        ax.set_title("prior tuning")
        fig.suptitle(title)
        return fig
    k = min(3, g.shape[0])
    fig, axes = new_figure(2, k, width=2.4, height=2.2)
    kw = signed_cmap(np.concatenate([g.values[:k], f.values[:k]]) - ds.attrs["prior_mean"])
    for row, (arr, name) in enumerate(((g, "GP"), (f, "network"))):
        for j in range(k):
            ax = axes[row, j]
            im = ax.imshow(arr.values[j] - ds.attrs["prior_mean"], origin="lower", extent=(0, 1, 0, 1), **kw)
            ax.set_title(f"{name} draw {j + 1}")
            ax.set_xlabel("x (1)")
            ax.set_ylabel("y (1)")
    colorbar(fig, im, axes[:, -1].tolist(), f"draw - prior mean ({units})")
    fig.suptitle(title)
    return fig


def posterior_1d_figure(posteriors: Mapping[str, xr.Dataset], reference: str, name: str):
    """One panel per method: its mean and 95 % band over the reference's, with the truth."""
    methods = [m for m in posteriors if m != reference]
    ref = posteriors[reference]
    fig, axes = new_figure(1, max(1, len(methods)), width=3.0, height=2.6, sharey=True)
    x = ref["x"].values
    for ax, m in zip(axes[0], methods):
        ds = posteriors[m]
        ax.fill_between(x, ref[f"{name}_lower"], ref[f"{name}_upper"], color="0.8", label=f"{LABELS[reference]} 95%")
        ax.plot(x, ref[f"{name}_mean"], "k-", lw=1, label=f"{LABELS[reference]} mean")
        ax.plot(x, ds[f"{name}_mean"], "-", color=COLORS[m], lw=1, label="mean")
        ax.plot(x, ds[f"{name}_lower"], "--", color=COLORS[m], lw=0.8, label="95% band")
        ax.plot(x, ds[f"{name}_upper"], "--", color=COLORS[m], lw=0.8)
        if f"true_{name}" in ds:
            ax.plot(x, ds[f"true_{name}"], ":", color="tab:red", lw=1, label="truth")
        ax.set_title(f"{LABELS[m]}\nmean err {float(ds['metric_rel_err_mean']):.1%}, "
                     f"std err {float(ds['metric_rel_err_std']):.1%}")
        ax.set_xlabel(f"x ({ref['x'].attrs['units']})")
    axes[0, 0].set_ylabel(_field_label(ref, f"{name}_mean").replace("posterior mean of ", ""))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels))
    return fig


def posterior_2d_figure(posteriors: Mapping[str, xr.Dataset], name: str):
    """Rows: methods (the reference first); columns: truth, posterior mean, posterior std, error of the mean
    (2-D fields), and the marginal at the cell of smallest reference std (most informed by the data) against the reference's (histograms)."""
    methods = list(posteriors)
    fig, axes = new_figure(len(methods), 5, width=2.3, height=2.1)
    first = posteriors[methods[0]]
    units = first[f"{name}_mean"].attrs["units"]
    truth = first[f"true_{name}"].values if f"true_{name}" in first else None
    means = [posteriors[m][f"{name}_mean"].values for m in methods]
    stds = [posteriors[m][f"{name}_std"].values for m in methods]
    kw_m = sequential_cmap(np.concatenate([np.ravel(v) for v in means + ([truth] if truth is not None else [])]))
    kw_s = sequential_cmap(np.concatenate([np.ravel(v) for v in stds]), cmap="magma")
    kw_e = signed_cmap(np.concatenate([np.ravel(v - truth) for v in means]) if truth is not None else [1.0])
    ext = (0, 1, 0, 1)
    cell = int(np.argmin(stds[0]))  # flat index of the cell of smallest reference std (most informed by data)
    ny, nx = stds[0].shape
    yc, xc = (cell // nx + 0.5) / ny, (cell % nx + 0.5) / nx
    for i, m in enumerate(methods):
        ax = axes[i]
        if truth is not None:
            im0 = ax[0].imshow(truth, origin="lower", extent=ext, **kw_m)
            im3 = ax[3].imshow(means[i] - truth, origin="lower", extent=ext, **kw_e)
        im1 = ax[1].imshow(means[i], origin="lower", extent=ext, **kw_m)
        im2 = ax[2].imshow(stds[i], origin="lower", extent=ext, **kw_s)
        ax[0].set_ylabel(f"{LABELS[m]}\ny (1)")
        ref_draws = posteriors[methods[0]][f"{name}_samples"].values.reshape(-1, stds[0].size)[:, cell]
        draws = posteriors[m][f"{name}_samples"].values.reshape(-1, stds[0].size)[:, cell]
        bins = np.linspace(*np.percentile(np.concatenate([ref_draws, draws]), [0.5, 99.5]), 31)
        ax[4].hist(ref_draws, bins=bins, density=True, color="0.7", label=LABELS.get(methods[0], methods[0]))
        ax[4].hist(draws, bins=bins, density=True, histtype="step", color=COLORS.get(m, "k"), label=LABELS[m])
        ax[4].set_xlabel(f"at ({xc:.2f}, {yc:.2f}) ({units})")
        ax[4].set_ylabel("density")
        for j, t in enumerate(("truth", "posterior mean", "posterior std", "mean - truth",
                               "marginal")):
            if i == 0:
                ax[j].set_title(t)
            if j < 4:
                ax[j].set_xlabel("x (1)")
    colorbar(fig, im1, axes[:, 1].tolist(), f"{name} ({units})")
    colorbar(fig, im2, axes[:, 2].tolist(), f"std ({units})")
    if truth is not None:
        colorbar(fig, im3, axes[:, 3].tolist(), f"error ({units})")
    return fig


def comparison_figure(table: xr.Dataset, targets: Mapping[str, float], title: str):
    """Accuracy versus cost: relative mean/std errors against wall time, and coverage, per method."""
    methods: Sequence[str] = [str(m) for m in table["method"].values]
    wall = table["wall_time"].values
    fig, axes = new_figure(1, 3, width=3.0, height=2.7)
    for metric, ax, lab in (("rel_err_mean", axes[0, 0], "relative error of the mean (1)"),
                            ("rel_err_std", axes[0, 1], "relative error of the std (1)")):
        for i, m in enumerate(methods):
            ax.scatter(wall[i], table[metric].values[i], color=COLORS.get(m, "k"), label=LABELS.get(m, m), zorder=3)
        ax.axhline(targets[metric], color="tab:red", ls="--", lw=0.8, label="target")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("compute time of the step (s)")
        ax.set_ylabel(lab)
    axes[0, 0].legend(loc="best", fontsize=6)
    ax = axes[0, 2]
    ax.bar(range(len(methods)), table["coverage"].values, color=[COLORS.get(m, "k") for m in methods])
    ax.axhline(targets["coverage"], color="tab:red", ls="--", lw=0.8)
    ax.set_xticks(range(len(methods)), [LABELS.get(m, m).replace(" (", "\n(") for m in methods], fontsize=6)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("95% band coverage of the truth (1)")
    fig.suptitle(title)
    return fig
