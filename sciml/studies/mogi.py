"""Mogi study: a volcanic inflation source recovered from noisy surface displacements.

The worked example of ``docs/adding-a-study.md``: three steps on the contract of
:mod:`sciml.studies.registry`, all science from the library. ``mogi.synthetic`` draws noisy east/north/up
displacements on a station grid from a point inflation source (:func:`sciml.okada.point_source`, Okada 1992
DC3D0, with the Mogi potency of :func:`sciml.okada.inflation_potency`); ``mogi.invert`` estimates the source's
east, north, depth and volume change by Gauss-Newton with autograd Jacobians and gives the Laplace
(linearised) covariance; ``mogi.figure`` maps the data, the fit and the residuals. The forward model equals the
closed-form Mogi (1958) solution ``u = (1 - nu) dV / pi * (x - x0, y - y0, d) / R^3`` (tested to 1e-12).
"""

from __future__ import annotations

import logging

import numpy as np
import torch
import xarray as xr

from sciml.errors import bad_value
from sciml.io.netcdf import add_metrics, read_dataset
from sciml.okada import inflation_potency, point_source
from sciml.studies.registry import Outputs, step

log = logging.getLogger(__name__)
F64 = torch.float64
PARAMS = ("east", "north", "depth", "volume_change")
UNITS = {"east": "m", "north": "m", "depth": "m", "volume_change": "m3"}
COMPONENTS = ("east", "north", "up")


def displacement(theta: torch.Tensor, stations: torch.Tensor, nu: float) -> torch.Tensor:
    """Surface displacement (n, 3) (m) of a Mogi source ``theta = (east, north, depth, dV)`` (m, m, m, m^3)."""
    return point_source(stations, east=theta[0], north=theta[1], depth=theta[2],
                        potency_inflation=inflation_potency(theta[3], nu), nu=nu).u


def gauss_newton(obs: torch.Tensor, sigma: torch.Tensor, stations: torch.Tensor, theta0: torch.Tensor, nu: float,
                 *, max_iter: int, tol: float) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Weighted least squares by Gauss-Newton with step halving: estimate, Laplace covariance, iterations.

    Stops when the Gauss-Newton step is below ``tol`` posterior standard deviations in every parameter."""

    def residual(th):
        return ((displacement(th, stations, nu) - obs) / sigma).reshape(-1)

    theta = theta0.clone()
    cost = float(residual(theta).square().sum())
    it = 0
    for it in range(1, max_iter + 1):
        J = torch.autograd.functional.jacobian(residual, theta, vectorize=True)
        r = residual(theta)
        step_ = torch.linalg.lstsq(J, -r[:, None]).solution[:, 0]
        size = float((step_.abs() / torch.linalg.inv(J.T @ J).diag().sqrt()).max())  # in posterior sds
        for _ in range(30):
            trial = theta + step_
            new = float(residual(trial).square().sum())
            if new <= cost:
                break
            step_ = step_ / 2
        theta, cost = trial, new
        if size < tol:
            break
    J = torch.autograd.functional.jacobian(residual, theta, vectorize=True)
    return theta, torch.linalg.inv(J.T @ J), it


def _grid(n: int, half: float) -> torch.Tensor:
    g = torch.linspace(-half, half, n, dtype=F64)
    e, nn = torch.meshgrid(g, g, indexing="xy")
    return torch.stack([e.flatten(), nn.flatten(), torch.zeros(n * n, dtype=F64)], -1)


def _var(values, dims, units, long_name):
    return xr.DataArray(values, dims=dims, attrs={"units": units, "long_name": long_name})


@step("mogi.synthetic", section="mogi",
      outputs={"nc": "netcdf: noisy surface displacements of the true source at a station grid"})
def synthetic(cfg, inputs, *, seed, device, checkpoints):
    """Noisy east/north/up displacements of a Mogi source at an n x n station grid."""
    src = cfg["source"]
    theta = torch.tensor([float(src[k]) for k in PARAMS], dtype=F64)
    st = _grid(int(cfg["stations"]["n"]), float(cfg["stations"]["half_width_m"]))
    truth = displacement(theta, st, float(cfg["nu"]))
    sig = torch.tensor([cfg["noise_m"]["horizontal"]] * 2 + [cfg["noise_m"]["vertical"]], dtype=F64).expand_as(truth)
    gen = torch.Generator().manual_seed(int(seed))
    obs = truth + sig * torch.randn(truth.shape, generator=gen, dtype=F64)
    ds = xr.Dataset(coords={"station": ("station", np.arange(st.shape[0], dtype=np.int32),
                                        {"units": "1", "long_name": "station index"}),
                            "component": ("component", list(COMPONENTS), {"long_name": "displacement component"}),
                            "param": ("param", list(PARAMS), {"long_name": "source parameter"})})
    ds["station_east"] = _var(st[:, 0].numpy(), "station", "m", "station east coordinate")
    ds["station_north"] = _var(st[:, 1].numpy(), "station", "m", "station north coordinate")
    ds["obs"] = _var(obs.numpy(), ("station", "component"), "m", "observed displacement")
    ds["sigma"] = _var(sig.numpy(), ("station", "component"), "m", "standard deviation of the noise")
    ds["truth"] = _var(truth.numpy(), ("station", "component"), "m", "noise-free displacement")
    ds["source_true"] = _var(theta.numpy(), "param", "1", "true source (east m, north m, depth m, dV m3)")
    ds.attrs.update(title="Mogi source: synthetic surface displacements", poisson_ratio=float(cfg["nu"]))
    return Outputs(nc=ds)


@step("mogi.invert", section="mogi",
      inputs={"data": "netcdf: observations (mogi.synthetic)"},
      outputs={"nc": "netcdf: estimate, Laplace covariance, fit and residuals"})
def invert(cfg, inputs, *, seed, device, checkpoints):
    """Source position, depth and volume change by Gauss-Newton; Laplace covariance; errors vs the truth."""
    data = read_dataset(inputs["data"], required=("obs", "sigma", "station_east", "station_north", "source_true"))
    st = torch.tensor(np.stack([data["station_east"].values, data["station_north"].values,
                                np.zeros(data.sizes["station"])], -1), dtype=F64)
    obs, sig = torch.tensor(data["obs"].values, dtype=F64), torch.tensor(data["sigma"].values, dtype=F64)
    theta0 = torch.tensor([float(cfg["start"][k]) for k in PARAMS], dtype=F64)
    if float(theta0[2]) <= 0:
        raise bad_value("config mogi.start", "depth", float(theta0[2]), "must be > 0 m (below the surface)")
    gn = cfg["gauss_newton"]
    est, cov, iters = gauss_newton(obs, sig, st, theta0, float(cfg["nu"]), max_iter=int(gn["max_iter"]),
                                   tol=float(gn["tol"]))
    with torch.no_grad():
        model = displacement(est, st, float(cfg["nu"]))
    std = cov.diag().sqrt()
    true = torch.tensor(data["source_true"].values, dtype=F64)
    z = ((est - true) / std).numpy()
    chi2 = float((((model - obs) / sig) ** 2).sum())
    ds = data[["station_east", "station_north", "obs", "sigma", "source_true"]].copy()
    ds = ds.assign_coords(param2=("param2", list(PARAMS), {"long_name": "source parameter (second axis)"}))
    ds["estimate"] = _var(est.numpy(), "param", "1", "estimated source (east m, north m, depth m, dV m3)")
    ds["std"] = _var(std.numpy(), "param", "1", "Laplace posterior standard deviation (units of estimate)")
    ds["covariance"] = _var(cov.numpy(), ("param", "param2"), "1", "Laplace posterior covariance")
    ds["model"] = _var(model.numpy(), ("station", "component"), "m", "displacement of the estimate")
    ds["residual"] = _var((obs - model).numpy(), ("station", "component"), "m", "observed minus modelled")
    add_metrics(ds, {
        "chi2_per_datum": (chi2 / obs.numel(), "1", "chi-square per datum of the fit"),
        "max_abs_z": (float(np.abs(z).max()), "1", "largest |estimate - truth| / posterior std over parameters"),
        "depth_rel_error": (float(abs(est[2] - true[2]) / true[2]), "1", "relative error of the depth"),
        "volume_rel_error": (float(abs(est[3] - true[3]) / abs(true[3])), "1", "relative error of dV"),
        "iterations": (iters, "1", "Gauss-Newton iterations"),
    })
    log.info("Mogi estimate %s, std %s, chi2/N %.3f", est.numpy().round(1), std.numpy().round(1), chi2 / obs.numel())
    ds.attrs.update(title="Mogi source: Gauss-Newton estimate and Laplace covariance",
                    poisson_ratio=float(cfg["nu"]))
    return Outputs(nc=ds)


def _no_config(config, wildcards):
    """The figure step reads no configuration."""
    return {}


@step("mogi.figure", section=_no_config,
      inputs={"nc": "netcdf: estimate (mogi.invert)"},
      outputs={"png": "png: vertical displacement observed, modelled, residual; horizontal vectors"})
def figure(cfg, inputs, *, seed, device, checkpoints):
    """Observed and modelled displacements and residuals of the Mogi inversion."""
    from sciml.okada.figures import mogi_fit_figure

    return Outputs(png=mogi_fit_figure(read_dataset(inputs["nc"])))
