"""Eikonal PINNs: forward traveltimes (vs fast marching) and traveltime tomography from several sources.

Units: km, km/s, s. Coordinates ``(x, z)`` with ``z`` depth (positive down). Traveltimes use the
factored form ``T = |x - x_s| * tau`` (``tau`` > 0, s/km); the eikonal residual is the
dimensionless ``v(x) |grad T| - 1``.

Velocity models (config ``model``): ``v = v0 + gradient * z + anomaly * exp(-|x - center|^2 / (2 width^2))``
(``kind: gradient_anomaly``) or smoothed layers ``v = v0 + gradient * z + sum_k jumps_k * (1 + tanh((z - depths_k)
/ smoothing)) / 2`` (``kind: layered``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr

from sciml.errors import bad_value
from sciml.forward.eikonal import Grid2D, factored_fast_marching, fast_marching, sample
from sciml.nn import FactoredEikonal, ResidualSampler, Trainer, gradient
from sciml.pinn.common import (StudyResult, build_mlp, collocation_seed_step, dtype_of, predict, rel_l2, result,
                               step_generator, train_config, uniform)

MODEL_KINDS = ("gradient_anomaly", "layered")


def velocity(x: Any, z: Any, model: dict[str, Any]) -> Any:
    """Velocity (km/s) at ``(x, z)`` for numpy arrays or torch tensors (same formula, see module doc).

    ``model``: a complete model section: ``kind``, ``v0``, ``gradient`` and, for ``gradient_anomaly``,
    ``anomaly``, ``center``, ``width``; for ``layered``, ``depths``, ``jumps``, ``smoothing``."""
    lib = torch if isinstance(x, torch.Tensor) else np
    kind = model["kind"]
    v = model["v0"] + model["gradient"] * z
    if kind == "gradient_anomaly":
        cx, cz = model["center"]
        w = float(model["width"])
        v = v + model["anomaly"] * lib.exp(-((x - cx) ** 2 + (z - cz) ** 2) / (2 * w * w))
    elif kind == "layered":
        d = float(model["smoothing"])
        for zk, dv in zip(model["depths"], model["jumps"]):
            v = v + dv * 0.5 * (1.0 + lib.tanh((z - zk) / d))
    else:
        raise bad_value("config pinn", "model.kind", kind, f"expected one of {MODEL_KINDS}")
    return v


def _check_box(cfg: dict[str, Any], source: str) -> tuple[list[float], list[float]]:
    xl, zl = [float(v) for v in cfg["xlim"]], [float(v) for v in cfg["zlim"]]
    if xl[1] <= xl[0] or zl[1] <= zl[0]:
        raise bad_value(f"config {source}", "xlim/zlim", (xl, zl), "need increasing pairs")
    return xl, zl


def _eikonal_residual(T_fn, v_fn, pts: torch.Tensor, n_space: int = 2) -> torch.Tensor:
    """``v |grad_x T| - 1`` at ``pts`` (first ``n_space`` columns are the spatial coordinates)."""
    pts = pts.detach().requires_grad_(True)
    T = T_fn(pts)
    g = gradient(T, pts)[:, :n_space]
    return v_fn(pts[:, :n_space])[:, 0] * torch.linalg.vector_norm(g, dim=1) - 1.0


def forward_problem(cfg: dict[str, Any], *, device: torch.device, seed: int, progress: bool = False
                    ) -> dict[str, Any]:
    """The forward study's training problem: ``model``, ``loss_fn``, ``config`` (TrainConfig), ``samplers``,
    ``validate`` (mean squared residual at fixed points), ``velocity`` (torch, of ``(n, 2)`` points)."""
    xl, zl = _check_box(cfg, "pinn.eikonal")
    dtype = dtype_of(cfg)
    model_cfg, src = cfg["model"], [float(s) for s in cfg["source"]]
    v_mean = float(np.mean(velocity(np.array([xl[0], xl[1]]), np.array([zl[0], zl[1]]), model_cfg)))
    net = build_mlp(cfg["network"], 2, 1, lower=[xl[0], zl[0]], upper=[xl[1], zl[1]], dtype=dtype, seed=seed,
                    source="pinn.eikonal.network")
    model = FactoredEikonal(net, src, tau_scale=1.0 / (v_mean * np.log(2.0))).to(device)
    n = int(cfg["n_collocation"])
    vfn = lambda p: velocity(p[:, :1], p[:, 1:2], model_cfg)  # noqa: E731
    val_pts = uniform(2000, [xl[0], zl[0]], [xl[1], zl[1]], step_generator(seed, -1, device), dtype=dtype,
                      device=device)

    tcfg = train_config(cfg, progress, "pinn.eikonal")
    sampler = ResidualSampler([xl[0], zl[0]], [xl[1], zl[1]], n, lambda m, p: _eikonal_residual(m, vfn, p), tcfg,
                              seed=seed, dtype=dtype, device=device)

    def loss_fn(m, step):
        return {"eikonal": (_eikonal_residual(m, vfn, sampler.points(step)) ** 2).mean()}

    def validate(m):
        return float((_eikonal_residual(m, vfn, val_pts) ** 2).mean().detach())

    return {"model": model, "loss_fn": loss_fn, "config": tcfg, "samplers": [sampler], "validate": validate,
            "velocity": vfn, "val_pts": val_pts}


def reference_traveltime(cfg: dict[str, Any], spacing: float | None = None) -> tuple[Grid2D, np.ndarray]:
    """Output grid and the second-order factored fast-marching traveltime on it (grid ``reference_spacing``)."""
    xl, zl = _check_box(cfg, "pinn.eikonal")
    out = Grid2D.from_extent(xl, zl, float(cfg["output_spacing"]))
    h = float(cfg["reference_spacing"]) if spacing is None else float(spacing)
    ft = factored_fast_marching(lambda x, z: velocity(x, z, cfg["model"]), xl, zl, h, [float(s) for s in cfg["source"]])
    return out, ft(*out.mesh())


def run_forward(cfg: dict[str, Any], *, device: torch.device, seed: int, checkpoint=None,
                progress: bool = False) -> StudyResult:
    """Train ``T(x, z)`` for one source against the eikonal equation; compare with the second-order factored
    fast-marching reference (:func:`~sciml.forward.eikonal.factored_fast_marching`, grid ``reference_spacing``;
    its own error is estimated against the same solver at twice the spacing and recorded as a metric)."""
    xl, zl = _check_box(cfg, "pinn.eikonal")
    dtype, model_cfg, src = dtype_of(cfg), cfg["model"], [float(s) for s in cfg["source"]]
    prob = forward_problem(cfg, device=device, seed=seed, progress=progress)
    model, vfn, val_pts = prob["model"], prob["velocity"], prob["val_pts"]
    history = Trainer(model, prob["loss_fn"], prob["config"], device=device, checkpoint=checkpoint,
                      validate=prob["validate"], samplers=prob["samplers"]).fit()
    # reference: second-order factored fast marching, sampled on the output grid; its error estimated by the
    # difference to the same solver at twice the spacing (second order: the error at h is ~1/3 of that)
    h_ref = float(cfg["reference_spacing"])
    vgrid = lambda x, z: velocity(x, z, model_cfg)  # noqa: E731
    out, t_ref = reference_traveltime(cfg)
    t_coarse = reference_traveltime(cfg, 2 * h_ref)[1]
    X, Z = out.mesh()
    fmm_grid = Grid2D.from_extent(xl, zl, h_ref)     # first-order scikit-fmm on the same grid, for comparison
    t_fmm = sample(fast_marching(1.0 / vgrid(*fmm_grid.mesh()), fmm_grid, src), fmm_grid, X, Z)
    t_pinn = predict(model, np.column_stack([X.ravel(), Z.ravel()]), dtype=dtype, device=device).reshape(X.shape)
    err = t_pinn - t_ref
    res = _eikonal_residual(model, vfn, val_pts).detach()
    metrics = {
        "rel_l2": (rel_l2(t_pinn, t_ref), "1", "relative L2 error of PINN traveltime vs factored fast marching"),
        "rel_mae": (float(np.abs(err).mean() / np.abs(t_ref).mean()), "1",
                    "relative mean absolute error of PINN traveltime vs factored fast marching"),
        "max_abs_error": (float(np.abs(err).max()), "s", "maximum absolute traveltime error vs factored fast marching"),
        "reference_rel_l2_estimate": (rel_l2(t_coarse, t_ref) / 3.0, "1",
                                      "estimated relative L2 error of the reference (Richardson, 2nd order)"),
        "fmm_rel_l2": (rel_l2(t_fmm, t_ref), "1", "relative L2 difference of scikit-fmm (same grid) to the reference"),
        "rms_residual": (float(res.pow(2).mean().sqrt()), "1", "RMS eikonal residual v|grad T|-1 (validation)"),
        "threshold_rel_l2": (float(cfg["threshold_rel_l2"]), "1", "stated relative L2 error threshold"),
    }
    coords = {"x": ("x", out.x, {"units": "km", "long_name": "horizontal distance"}),
              "z": ("z", out.z, {"units": "km", "long_name": "depth", "positive": "down"})}
    ds = xr.Dataset({
        "traveltime_pinn": (("z", "x"), t_pinn, {"units": "s", "long_name": "PINN first-arrival traveltime"}),
        "traveltime_reference": (("z", "x"), t_ref, {"units": "s",
                                                    "long_name": "factored fast-marching traveltime (2nd order)"}),
        "traveltime_error": (("z", "x"), err, {"units": "s", "long_name": "PINN minus reference traveltime"}),
        "velocity": (("z", "x"), velocity(X, Z, model_cfg), {"units": "km s-1", "long_name": "P velocity"}),
    }, coords=coords, attrs={"source_x_km": src[0], "source_z_km": src[1]})
    return result(ds, metrics, history, model.state_dict())


# -- tomography ------------------------------------------------------------------------------------------

SIDES = ("left", "right", "top", "bottom")


def acquisition_geometry(xl: Sequence[float], zl: Sequence[float], n_sources: int, n_receivers: int,
                         source_sides: Sequence[str] = ("left", "top"),
                         receiver_sides: Sequence[str] = ("right", "top")) -> tuple[np.ndarray, np.ndarray]:
    """Sources and receivers spread evenly over chosen sides of the box (``left``/``right``: wells at the box
    edges, ``top``: the surface, ``bottom``: a deep horizontal well).

    Each side gets an equal share of the points (the first sides one more when it does not divide), placed
    at the centres of equal segments along the side, 2 % of the box inside it. Returns
    ``(sources (ns, 2), receivers (nr, 2))`` as ``(x, z)`` in km.
    """
    ex, ez = 0.02 * (xl[1] - xl[0]), 0.02 * (zl[1] - zl[0])
    edge = {"left": xl[0] + ex, "right": xl[1] - ex, "top": zl[0] + ez, "bottom": zl[1] - ez}

    def spread(n: int, sides: Sequence[str], what: str) -> np.ndarray:
        bad = [s for s in sides if s not in SIDES]
        if bad or not sides:
            raise bad_value("config pinn.tomography", what, list(sides), f"expected sides among {SIDES}")
        pts = []
        for k, side in enumerate(sides):
            m = n // len(sides) + (k < n % len(sides))
            u = (np.arange(m) + 0.5) / max(m, 1)
            if side in ("left", "right"):
                pts += [(edge[side], zl[0] + ez + t * (zl[1] - zl[0] - 2 * ez)) for t in u]
            else:
                pts += [(xl[0] + ex + t * (xl[1] - xl[0] - 2 * ex), edge[side]) for t in u]
        return np.array(pts, float).reshape(-1, 2)

    return spread(n_sources, source_sides, "source_sides"), spread(n_receivers, receiver_sides, "receiver_sides")


class _TomoModel(torch.nn.Module):
    """Traveltime network ``T(x, z; x_s, z_s) = |x - x_s| tau`` and velocity ``v = v_start(z) (1 + a tanh(N))``."""

    def __init__(self, tnet: torch.nn.Module, vnet: torch.nn.Module, start: dict[str, float], max_pert: float,
                 tau_scale: float):
        super().__init__()
        self.tnet, self.vnet, self.start, self.max_pert, self.tau_scale = tnet, vnet, start, max_pert, tau_scale

    def start_velocity(self, xz: torch.Tensor) -> torch.Tensor:
        """Starting model ``v0 + gradient * z`` (km/s), shape ``(n, 1)``."""
        return self.start["v0"] + self.start["gradient"] * xz[:, 1:2]

    def velocity(self, xz: torch.Tensor) -> torch.Tensor:
        """Recovered model ``v_start (1 + a tanh(N))`` (km/s), shape ``(n, 1)``."""
        return self.start_velocity(xz) * (1.0 + self.max_pert * torch.tanh(self.vnet(xz)))

    def forward(self, p: torch.Tensor) -> torch.Tensor:  # p = (x, z, xs, zs)
        r = torch.linalg.vector_norm(p[:, :2] - p[:, 2:], dim=1, keepdim=True)
        return r * self.tau_scale * torch.nn.functional.softplus(self.tnet(p))


def run_tomography(cfg: dict[str, Any], *, device: torch.device, seed: int, checkpoint=None,
                   progress: bool = False) -> StudyResult:
    """Recover ``v(x, z)`` (km/s) from first-arrival times (s) of several sources (data by fast marching).

    One :class:`~sciml.nn.Trainer` run in two stages (so one checkpoint resumes either): for the first
    ``pretrain_steps`` Adam steps the traveltime network is fitted to the starting model (eikonal residual
    with ``v = v_start``; the velocity network gets no gradient, the data misfit is only logged), then both
    networks are trained on eikonal residual + data misfit, ending with the L-BFGS phase. References: the
    true model, and fast marching through the recovered model.
    """
    xl, zl = _check_box(cfg, "pinn.tomography")
    dtype = dtype_of(cfg)
    true_cfg, start = cfg["model"], dict(cfg["start"])
    src, rec = acquisition_geometry(xl, zl, int(cfg["n_sources"]), int(cfg["n_receivers"]), cfg["source_sides"],
                                    cfg["receiver_sides"])
    h_ref = float(cfg["reference_spacing"])

    def times(vfun) -> np.ndarray:
        """(source, receiver) first arrivals through ``vfun(X, Z)`` by second-order factored fast marching."""
        return np.stack([factored_fast_marching(vfun, xl, zl, h_ref, s)(rec[:, 0], rec[:, 1]) for s in src])

    rng = np.random.default_rng(seed)
    t_obs = times(lambda x, z: velocity(x, z, true_cfg))
    t_obs = t_obs + float(cfg["noise_s"]) * rng.standard_normal(t_obs.shape)
    lo4, hi4 = [xl[0], zl[0], xl[0], zl[0]], [xl[1], zl[1], xl[1], zl[1]]
    tnet = build_mlp(cfg["network"], 4, 1, lower=lo4, upper=hi4, dtype=dtype, seed=seed,
                     source="pinn.tomography.network")
    vnet = build_mlp(cfg["velocity_network"], 2, 1, lower=lo4[:2], upper=hi4[:2],
                     dtype=dtype, seed=seed + 1, init="zeros_last", source="pinn.tomography.velocity_network")
    vmean = start["v0"] + start["gradient"] * 0.5 * (zl[0] + zl[1])
    model = _TomoModel(tnet, vnet, start, float(cfg["max_perturbation"]), 1.0 / (vmean * np.log(2))).to(device)
    S = torch.as_tensor(src, dtype=dtype, device=device)
    data_pts = torch.as_tensor(np.column_stack([np.tile(rec, (len(src), 1)), np.repeat(src, len(rec), axis=0)]),
                               dtype=dtype, device=device)
    t_obs_t = torch.as_tensor(t_obs.ravel(), dtype=dtype, device=device)
    t_scale = float(np.sqrt(np.mean(t_obs**2)))
    n = int(cfg["n_collocation"])
    tcfg = train_config(cfg, progress, "pinn.tomography")
    pre = int(cfg["pretrain_steps"])
    if not 0 <= pre <= tcfg.adam_steps:
        raise bad_value("config pinn.tomography", "pretrain_steps", pre,
                        f"expected 0 .. train.adam_steps ({tcfg.adam_steps})")

    def colloc(step: int) -> torch.Tensor:
        g = step_generator(seed, collocation_seed_step(step, tcfg), device)
        xz = uniform(n, lo4[:2], hi4[:2], g, dtype=dtype, device=device)
        k = torch.randint(len(src), (n,), generator=g, device=device)
        return torch.cat([xz, S[k]], dim=1)

    def loss_fn(m: _TomoModel, step: int) -> dict[str, torch.Tensor]:
        pts = colloc(step)
        joint = step >= pre  # pre-training: T fitted to the starting model; data misfit only logged
        res = _eikonal_residual(m, m.velocity if joint else m.start_velocity, pts)
        misfit = ((m(data_pts)[:, 0] - t_obs_t) ** 2).mean() / t_scale**2
        return {"eikonal": (res**2).mean(), "data": misfit if joint else misfit.detach()}

    history = Trainer(model, loss_fn, tcfg, device=device,
                      checkpoint=checkpoint).fit()
    out = Grid2D.from_extent(xl, zl, float(cfg["output_spacing"]))
    X, Z = out.mesh()
    v_true = velocity(X, Z, true_cfg)
    v_start = start["v0"] + start["gradient"] * Z
    v_pinn = predict(model.velocity, np.column_stack([X.ravel(), Z.ravel()]), dtype=dtype, device=device
                     ).reshape(X.shape)
    t_pred = predict(model, data_pts.cpu().numpy(), dtype=dtype, device=device)[:, 0].reshape(t_obs.shape)
    # independent check: traveltimes through the recovered model by factored fast marching
    t_fmm = times(lambda x, z: predict(model.velocity, np.column_stack([x.ravel(), z.ravel()]), dtype=dtype,
                                       device=device).reshape(x.shape))
    t_fmm_start = times(lambda x, z: start["v0"] + start["gradient"] * z)
    rms = lambda a: float(np.sqrt(np.mean(np.square(a))))  # noqa: E731
    err, err_start = rms((v_pinn - v_true) / v_true), rms((v_start - v_true) / v_true)
    metrics = {
        "velocity_rel_rms_error": (err, "1", "relative RMS error of recovered velocity"),
        "velocity_rel_rms_error_start": (err_start, "1", "relative RMS error of the starting model"),
        "velocity_rel_rms_ratio": (err / err_start, "1", "velocity error of the recovered over the starting model"),
        "anomaly_correlation": (float(np.corrcoef((v_pinn - v_start).ravel(), (v_true - v_start).ravel())[0, 1]), "1",
                                "correlation of recovered and true velocity anomalies"),
        "misfit_rms_network": (rms(t_pred - t_obs), "s", "RMS traveltime misfit of the traveltime network"),
        "misfit_rms_fmm": (rms(t_fmm - t_obs), "s", "RMS misfit of fast-marching times through the recovered model"),
        "misfit_rms_start": (rms(t_fmm_start - t_obs), "s", "RMS misfit of the starting model (fast marching)"),
        "threshold_anomaly_correlation": (float(cfg["threshold_anomaly_correlation"]), "1",
                                          "stated minimum anomaly correlation"),
        "threshold_velocity_rel_rms_ratio": (float(cfg["threshold_velocity_rel_rms_ratio"]), "1",
                                             "stated maximum velocity error ratio (recovered / start)"),
    }
    coords = {"x": ("x", out.x, {"units": "km", "long_name": "horizontal distance"}),
              "z": ("z", out.z, {"units": "km", "long_name": "depth", "positive": "down"}),
              "source": ("source", np.arange(len(src)), {"units": "1", "long_name": "source index"}),
              "receiver": ("receiver", np.arange(len(rec)), {"units": "1", "long_name": "receiver index"})}
    ds = xr.Dataset({
        "velocity_pinn": (("z", "x"), v_pinn, {"units": "km s-1", "long_name": "recovered P velocity (PINN)"}),
        "velocity_true": (("z", "x"), v_true, {"units": "km s-1", "long_name": "true P velocity"}),
        "velocity_start": (("z", "x"), v_start, {"units": "km s-1", "long_name": "starting P velocity"}),
        "velocity_error": (("z", "x"), v_pinn - v_true, {"units": "km s-1", "long_name": "recovered minus true velocity"}),
        "source_x": (("source",), src[:, 0], {"units": "km", "long_name": "source x"}),
        "source_z": (("source",), src[:, 1], {"units": "km", "long_name": "source depth"}),
        "receiver_x": (("receiver",), rec[:, 0], {"units": "km", "long_name": "receiver x"}),
        "receiver_z": (("receiver",), rec[:, 1], {"units": "km", "long_name": "receiver depth"}),
        "traveltime_observed": (("source", "receiver"), t_obs, {"units": "s", "long_name": "observed traveltime"}),
        "traveltime_pinn": (("source", "receiver"), t_pred, {"units": "s", "long_name": "PINN traveltime"}),
    }, coords=coords)
    return result(ds, metrics, history, model.state_dict())
