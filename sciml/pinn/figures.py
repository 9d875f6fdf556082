"""Figures of the PINN studies: prediction, reference and error panels with units on every axis."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from sciml.errors import bad_value
from sciml.plots import colorbar, new_figure, sequential_cmap, signed_cmap


def _field(fig, ax, ds: xr.Dataset, name: str, label: str, title: str, signed: bool = False, norm_from=None) -> Any:
    da = ds[name]
    kw = signed_cmap(da.values) if signed else sequential_cmap(norm_from if norm_from is not None else da.values)
    m = ax.pcolormesh(ds.x.values, ds.z.values, da.values, shading="nearest", **kw)
    ax.set_xlabel("x (km)")
    ax.set_ylabel("depth (km)")
    if not ax.yaxis_inverted():
        ax.invert_yaxis()
    ax.set_title(title)
    colorbar(fig, m, ax, label)
    return m


def _metric(ds: xr.Dataset, name: str) -> float:
    return float(ds[f"metric_{name}"].values)


def eikonal_figure(ds: xr.Dataset):
    fig, axes = new_figure(1, 3, width=3.4, height=2.4)
    both = np.concatenate([ds.traveltime_pinn.values.ravel(), ds.traveltime_reference.values.ravel()])
    for ax, name, title in ((axes[0, 0], "traveltime_pinn", "PINN"), (axes[0, 1], "traveltime_reference",
                                                                      "factored FMM (2nd order)")):
        _field(fig, ax, ds, name, "traveltime (s)", title, norm_from=both)
        ax.contour(ds.x.values, ds.z.values, ds[name].values, levels=10, colors="w", linewidths=0.5)
        ax.plot(ds.attrs["source_x_km"], ds.attrs["source_z_km"], "r*", ms=8)
    _field(fig, axes[0, 2], ds, "traveltime_error", "PINN - reference (s)",
           f"error (rel. L2 {_metric(ds, 'rel_l2'):.2e})", signed=True)
    return fig


def tomography_figure(ds: xr.Dataset):
    fig, axes = new_figure(1, 3, width=3.4, height=2.2)
    both = np.concatenate([ds.velocity_pinn.values.ravel(), ds.velocity_true.values.ravel()])
    _field(fig, axes[0, 0], ds, "velocity_pinn", "v (km/s)", "PINN velocity", norm_from=both)
    _field(fig, axes[0, 1], ds, "velocity_true", "v (km/s)", "true velocity", norm_from=both)
    _field(fig, axes[0, 2], ds, "velocity_error", "PINN - true (km/s)",
           f"error (rel. RMS {_metric(ds, 'velocity_rel_rms_error'):.3f}, start "
           f"{_metric(ds, 'velocity_rel_rms_error_start'):.3f})", signed=True)
    for ax in axes[0]:
        ax.plot(ds.source_x, ds.source_z, "r*", ms=6, label="sources")
        ax.plot(ds.receiver_x, ds.receiver_z, "kv", ms=3, label="receivers")
    axes[0, 0].legend(loc="lower left", fontsize=6)
    return fig


def calaveras_figure(ds: xr.Dataset):
    fig, axes = new_figure(1, 3, width=3.0, height=3.0)
    ax = axes[0, 0]
    if "vp_std" in ds:
        lo, hi = ds.vp_pinn - 2 * ds.vp_std, ds.vp_pinn + 2 * ds.vp_std
        ax.fill_betweenx(ds.depth, lo, hi, color="C0", alpha=0.2, lw=0, label="PINN +- 2 sigma (linearised)")
        res = ds.resolved.values.astype(bool)
        if res.any():
            ax.axhspan(float(ds.depth[res].min()), float(ds.depth[res].max()), color="C2", alpha=0.08,
                       label="resolved (diag R >= threshold)")
    for name, style, lab in (("vp_pinn", "C0-", "PINN"), ("vp_published", "k-", "published 1-D"),
                             ("vp_start", "C7--", "start")):
        ax.plot(ds[name], ds.depth, style, label=lab, drawstyle="steps-post" if name == "vp_published" else "default")
    ax.invert_yaxis()
    ax.set_xlabel("P velocity (km/s)")
    ax.set_ylabel("depth (km)")
    ax.legend(fontsize=7)
    ax.set_title("velocity-depth")
    held = ds.held_out.values.astype(bool)
    ax = axes[0, 1]
    off = ds.offset.values[held]
    for name, c, lab in (("traveltime_pinn_model", "C0", "PINN v(z)"), ("traveltime_published", "k", "published")):
        r = (ds.traveltime_observed - ds[name]).values[held]
        ax.plot(off, r, ".", color=c, ms=2, alpha=0.5, label=f"{lab}: RMS {np.sqrt(np.mean(r**2)):.2f} s")
    ax.axhline(0, color="0.5", lw=0.5)
    ax.set_xlabel("offset (km)")
    ax.set_ylabel("observed - predicted (s)")
    ax.set_ylim(-2.5, 2.5)
    ax.legend(fontsize=6, markerscale=4)
    ax.set_title("held-out residuals")
    ax = axes[0, 2]
    ax.semilogy(ds.step, ds.train_loss, label="total")
    for v in ds.data_vars:
        if str(v).startswith("train_loss_"):
            ax.semilogy(ds.step, ds[v], lw=0.8, label=str(v).removeprefix("train_loss_"))
    ax.set_xlabel("step (1)")
    ax.set_ylabel("loss (1)")
    ax.legend(fontsize=7)
    ax.set_title("training")
    return fig


def fault_figure(ds: xr.Dataset):
    fig, axes = new_figure(1, 4, width=3.0, height=2.6)
    both = np.concatenate([ds.displacement_pinn.values.ravel(), ds.displacement_reference.values.ravel()])
    kw = signed_cmap(both)
    for ax, name, title in ((axes[0, 0], "displacement_pinn", "PINN"),
                            (axes[0, 1], "displacement_reference", "analytic (arctan)")):
        m = ax.pcolormesh(ds.x, ds.z, ds[name], shading="nearest", **kw)
        ax.invert_yaxis()
        ax.set_xlabel("x (km)")
        ax.set_ylabel("depth (km)")
        ax.set_title(title)
        colorbar(fig, m, ax, "displacement (m)")
    _field(fig, axes[0, 2], ds, "displacement_error", "PINN - reference (m)", "error", signed=True)
    ax = axes[0, 3]
    if "slip_pinn" in ds:
        ax.plot(ds.slip_true, ds.depth, "k-", label="true")
        ax.plot(ds.slip_pinn, ds.depth, "C0-", label="PINN")
        if "slip_exact_forward" in ds:   # the same loss minimised with the analytic forward
            ax.plot(ds.slip_exact_forward, ds.depth, "C1--", label="same loss, exact forward")
        ax.invert_yaxis()
        ax.set_xlabel("slip (m)")
        ax.set_ylabel("depth (km)")
        ax.set_title(f"slip (rel. L2 {_metric(ds, 'slip_rel_l2'):.2f})")
    else:
        ax.plot(ds.x, ds.displacement_reference.isel(z=0), "k-", label="analytic")
        ax.plot(ds.x, ds.displacement_pinn.isel(z=0), "C0--", label="PINN")
        ax.set_xlabel("x (km)")
        ax.set_ylabel("surface displacement (m)")
        ax.set_title(f"surface (rel. L2 {_metric(ds, 'rel_l2_surface'):.2e})")
    ax.legend(fontsize=7)
    return fig


FIGURES = {"eikonal": eikonal_figure, "tomography": tomography_figure, "calaveras": calaveras_figure,
           "fault": fault_figure, "fault_inversion": fault_figure}


def study_figure(study: str, ds: xr.Dataset):
    """The figure of one PINN study from its NetCDF result."""
    if study not in FIGURES:
        raise bad_value("pinn figure", "study", study, f"expected one of {sorted(FIGURES)}")
    return FIGURES[study](ds)
