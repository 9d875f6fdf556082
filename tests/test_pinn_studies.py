"""PINN studies at small size reach their stated thresholds against independent references
(fast marching, true model, published-model synthetics, analytic screw dislocation)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from sciml.config import defaults, merge
from sciml.io.netcdf import write_dataset
from sciml.pinn import eikonal, fault, velocity1d

CPU = torch.device("cpu")
CALAVERAS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "picks" / "calaveras"


def config(study: str, over: dict) -> dict:
    """The complete default section ``pinn.<study>`` with ``over`` merged in (float64, as the workflow)."""
    return {**merge(defaults("pinn")[study], over), "dtype": "float64"}


def _writable(ds, tmp_path):
    """Every variable carries units/long_name: the lineage writer accepts the dataset."""
    write_dataset(ds, tmp_path / "x.nc", title="test")


def test_eikonal_forward_vs_fast_marching(tmp_path):
    cfg = {"xlim": [0, 10], "zlim": [0, 5], "source": [3.0, 1.0],
           "model": {"kind": "gradient_anomaly", "v0": 2.0, "gradient": 0.4, "anomaly": -0.6, "center": [6.5, 2.5],
                     "width": 1.0},
           "network": {"hidden": [24, 24, 24]}, "n_collocation": 500, "output_spacing": 0.2,
           "train": {"adam_steps": 500, "lr": 5e-3, "lr_decay": 0.3, "lbfgs_steps": 30}}
    res = eikonal.run_forward(config("eikonal", cfg), device=CPU, seed=0)
    assert res.metrics["rel_l2"] < 0.03, res.metrics
    _writable(res.dataset, tmp_path)


def test_tomography_recovers_anomaly_to_stated_threshold(tmp_path):
    """Small size (9 sources x 36 receivers on both wells + surface; pre-training, joint Adam, L-BFGS) vs two
    independent references: the true model (anomaly correlation >= 0.85, velocity error <= 0.5 x the starting
    model's; default size reaches 0.987 and 0.145 x) and fast marching through the recovered model (misfit
    < 0.25 x the start's)."""
    cfg = {"xlim": [0, 4], "zlim": [0, 2],
           "model": {"kind": "gradient_anomaly", "v0": 2.0, "gradient": 0.5, "anomaly": 0.4, "center": [2.0, 1.0],
                     "width": 0.4},
           "start": {"v0": 2.0, "gradient": 0.5}, "n_sources": 9, "n_receivers": 36,
           "source_sides": ["left", "top", "right"], "receiver_sides": ["left", "top", "right"],
           "reference_spacing": 0.04, "network": {"hidden": [32, 32, 32]}, "n_collocation": 600, "output_spacing": 0.1,
           "pretrain_steps": 1000, "threshold_anomaly_correlation": 0.85, "threshold_velocity_rel_rms_ratio": 0.5,
           "train": {"adam_steps": 3000, "lr": 5e-3, "lr_decay": 0.5, "lbfgs_steps": 2000, "weights": {"data": 10.0}}}
    res = eikonal.run_tomography(config("tomography", cfg), device=CPU, seed=0)
    m = res.metrics
    assert m["anomaly_correlation"] >= m["threshold_anomaly_correlation"], m
    assert m["velocity_rel_rms_ratio"] <= m["threshold_velocity_rel_rms_ratio"], m
    assert m["misfit_rms_fmm"] < 0.25 * m["misfit_rms_start"], m
    # pre-training left the data untouched: the data term is logged but not yet fitted
    data = res.history.terms["data"]
    assert data[999] > 10 * data[-1], (data[999], data[-1])
    _writable(res.dataset, tmp_path)


@pytest.mark.skipif(not (CALAVERAS / "Calaveras.pha").exists(), reason="shared Calaveras picks absent")
def test_calaveras_synthetic_recovers_published_model(tmp_path):
    """Synthetic picks of the published model at the real Calaveras geometry: v(z) within 6 % over 2-8 km."""
    paths = {"phase": CALAVERAS / "Calaveras.pha", "stations": CALAVERAS / "station.sel",
             "model": CALAVERAS / "velocity_model_1d.txt"}
    cfg = {"max_offset_km": 40, "max_picks": 1500, "zmax_km": 16, "synthetic": True, "compare_depth_km": [2.0, 8.0],
           "start": {"v0": 4.0, "gradient": 0.15}, "network": {"hidden": [24, 24, 24]}, "n_collocation": 400,
           "batch_picks": 400, "train": {"adam_steps": 500, "lr": 5e-3, "lr_decay": 0.3}}
    res = velocity1d.run(config("calaveras", cfg), paths, device=CPU, seed=0)
    m = res.metrics
    assert m["velocity_rel_rms_diff_published"] < 0.06, m
    assert m["rms_residual_pinn_model"] < m["rms_residual_start"], m
    a = res.dataset.attrs  # every pick of the file accounted for (issue 20), subsampling included
    parts = ("other_phase_or_low_weight", "duplicates_merged", "unknown_station", "beyond_max_offset", "used")
    assert a["count_picks"] == sum(a[f"count_{k}"] for k in parts), a
    assert a["count_used"] - a["count_subsampled_away"] == m["n_picks"], a
    _writable(res.dataset, tmp_path)


def test_screw_dislocation_reference_is_exact_superposition():
    """Analytic arctan solution == superposition of segments; surface formula (s/pi) atan(D/x); jump = slip."""
    x = np.array([-30.0, -3.0, 0.5, 7.0, 25.0])
    np.testing.assert_allclose(fault.screw_dislocation(x, 0 * x, 2.0, 10.0), 2.0 / np.pi * np.arctan(10.0 / x))
    z = np.array([0.0, 3.0, 9.0, 15.0, 2.0])
    np.testing.assert_allclose(fault.displacement_profile(x, z, lambda q: np.full_like(q, 2.0), 10.0),
                               fault.screw_dislocation(x, z, 2.0, 10.0), atol=1e-12)
    eps = 1e-9
    jump = fault.screw_dislocation(np.array([eps]), np.array([4.0]), 2.0, 10.0) - \
        fault.screw_dislocation(np.array([-eps]), np.array([4.0]), 2.0, 10.0)
    assert abs(jump[0] - 2.0) < 1e-6


def test_fault_forward_vs_screw_dislocation(tmp_path):
    """Uniform slip: PINN with the explicit sign(x) discontinuity vs the arctan solution (small size: < 35 %)."""
    cfg = {"depth_km": 10.0, "slip_m": 1.0, "half_width_km": 30.0, "bottom_km": 30.0, "network": {"hidden": [32, 32, 32]},
           "n_interior": 300, "n_boundary": 80, "output_points": 41,
           "train": {"adam_steps": 600, "lr": 3e-3, "lr_decay": 0.3, "lbfgs_steps": 50, "weights": {"pde": 10.0}}}
    res = fault.run_forward(config("fault", cfg), device=CPU, seed=0)
    assert res.metrics["rel_l2"] < 0.35, res.metrics
    ds = res.dataset
    # the displacement jumps across the fault (x = 0) above the locking depth, as in the reference
    jump = ds.displacement_pinn.sel(x=0.5, method="nearest") - ds.displacement_pinn.sel(x=-0.5, method="nearest")
    assert float(jump.sel(z=2.0, method="nearest")) > 0.5
    _writable(ds, tmp_path)


def test_fault_slip_inversion_recovers_true_tapered_slip(tmp_path):
    """Slip s(z) from 30 noisy surface displacements vs the true tapered slip (synthetics by analytic
    screw-dislocation superposition). Small size: rel. L2 < 0.5 (unregularised default size gave 0.63), potency
    within 30 %, little slip below the true 10 km depth. Soft fault conditions (jump, traction, surface as loss
    terms); the default exact ones are checked in test_fault_hard_constraints_exact."""
    cfg = {"hard_constraints": False,
           "depth_km": 10.0, "slip_m": 1.0, "shape": "tapered", "max_depth_km": 20.0, "half_width_km": 30.0,
           "bottom_km": 30.0, "n_stations": 30, "station_extent_km": 30.0, "noise_m": 0.002,
           "network": {"hidden": [32, 32, 32]}, "slip_network": {"hidden": [16, 16]},
           "n_interior": 300, "n_boundary": 80, "output_points": 41,
           "train": {"adam_steps": 1500, "lr": 3e-3, "lr_decay": 0.3, "lbfgs_steps": 200,
                     "weights": {"pde": 10.0, "far": 1.0, "data": 100.0, "jump": 30.0, "traction": 10.0,
                                 "slip_smooth": 0.3, "slip_depth": 3.0}}}
    res = fault.run_slip_inversion(config("fault_inversion", cfg), device=CPU, seed=0)
    m = res.metrics
    assert m["slip_rel_l2"] < 0.5, m
    assert 0.7 < m["moment_ratio"] < 1.4, m
    ds = res.dataset
    # little slip leaks below the true 10 km depth
    deep = ds.slip_pinn.where(ds.depth > 12.0, drop=True)
    assert float(deep.max()) < 0.3, m
    _writable(ds, tmp_path)


@pytest.mark.parametrize("seed", [20261126, 1, 2])
def test_slip_inversion_loss_with_the_exact_forward_meets_the_goals(seed):
    """What the default slip-inversion loss allows, independent of the PINN's convergence: its data, roughness and
    depth terms (default weights) minimised exactly over 400 slip cells with the analytic screw-dislocation Green's
    functions, on the study's own synthetics, meet both goals of issue 17 (misfit ratio <= 1.2, slip rel. L2 <= 0.15;
    measured 0.88 / 0.96 / 0.99 and 0.114 / 0.131 / 0.125 for these seeds), where the PINN stops at 1.31 (default
    seed, CI): the PINN, not the loss, misses the misfit goal. The solve is checked to be the loss's minimum
    (random perturbations raise the loss) and the Green's functions to superpose to ``displacement_profile``."""
    cfg = config("fault_inversion", {})
    xs, w_obs, noise = fault.slip_inversion_data(cfg, seed)
    z, s = fault.exact_forward_inversion(xs, w_obs, cfg)
    F, D, w = cfg["max_depth_km"], cfg["depth_km"], cfg["train"]["weights"]
    G = fault.segment_green(xs, 0 * xs, np.linspace(0, F, len(z) + 1))
    np.testing.assert_allclose(G @ s, fault.displacement_profile(xs, 0 * xs, lambda q: np.interp(q, z, s), F,
                                                                 n_segments=len(z)), atol=1e-12)

    def loss(sl):
        rough = np.diff(sl) / ((z[1] - z[0]) / D)
        return (w["data"] * np.mean((G @ sl - w_obs) ** 2) + w["slip_smooth"] * np.mean(rough**2)
                + w["slip_depth"] * np.mean((z / F) ** 2 * sl**2))

    rng = np.random.default_rng(0)
    assert all(loss(s + 1e-3 * rng.standard_normal(len(s))) > loss(s) for _ in range(5))
    rms = lambda a: np.sqrt(np.mean(np.square(a)))  # noqa: E731
    ratio = rms(G @ s - w_obs) / rms(noise)
    zp = np.linspace(0, F, 101)
    true = fault.slip_profile(zp, cfg)
    slip_err = np.linalg.norm(np.interp(zp, z, s) - true) / np.linalg.norm(true)
    assert ratio <= cfg["threshold_misfit_ratio"] and slip_err <= cfg["threshold_slip_rel_l2"], (ratio, slip_err)


def test_fault_hard_constraints_exact():
    """hard_constraints (the inversion default): the field w = sign(x) [s exp(-|x|) / 2 + |x| N(|x|, z^2)] has the
    slip s(z) as its jump, continuous traction and a traction-free surface for any weights; the forward-mode
    derivatives (chain rule through |x| and z^2) equal autograd's; s vanishes below max_depth."""
    cfg = config("fault_inversion", {"network": {"hidden": [16, 16]}, "slip_network": {"hidden": [8]}})
    L, B, F = 3.0, 3.0, 2.0
    net = fault.build_mlp(cfg["network"], 2, 1, lower=[0, 0], upper=[L, B * B], dtype=torch.float64, seed=0)
    slip_net = fault.build_mlp(cfg["slip_network"], 1, 1, lower=[0], upper=[F * F], dtype=torch.float64, seed=1)
    m = fault._HardFaultModel(net, slip_net, F)
    xz = torch.tensor([[0.3, 0.5], [-0.7, 1.2], [1.5, 2.5], [-2.0, 0.0], [0.2, 1.9]], dtype=torch.float64,
                      requires_grad=True)
    w, dw, lap = m.taylor(xz)
    w_ad = m(xz)[:, 0]
    g = torch.autograd.grad(w_ad.sum(), xz, create_graph=True)[0]
    lap_ad = sum(torch.autograd.grad(g[:, i].sum(), xz, retain_graph=True)[0][:, i] for i in range(2))
    for a, b in ((w, w_ad), (dw, g), (lap, lap_ad)):
        assert torch.allclose(a, b, atol=1e-12), (a, b)
    z = torch.linspace(0.0, 2.8, 15, dtype=torch.float64)[:, None]
    xz0, one = torch.cat([torch.zeros_like(z), z], 1), torch.ones_like(z)
    (wp, dwp, _), (wm, dwm, _) = m.taylor(xz0, one), m.taylor(xz0, -one)
    s = m.slip(z)[:, 0]
    assert torch.allclose(wp - wm, s, atol=1e-14) and bool((s[z[:, 0] >= F] == 0).all()) and bool((s[:5] > 0).all())
    assert torch.allclose(dwp[:, 0], dwm[:, 0], atol=1e-14)                       # traction continuous
    surf = torch.tensor([[-2.5, 0.0], [-0.4, 0.0], [0.7, 0.0], [2.9, 0.0]], dtype=torch.float64)
    assert float(m.taylor(surf)[1][:, 1].abs().max()) < 1e-14                      # traction-free surface


def test_fault_step_through_the_writer(tmp_path):
    """Step pinn.fault outside Snakemake (sciml.studies.run.run_step) on a tiny config: the result NetCDF (metric_*
    variables, no metric/diag attributes, weights file named), the weights in the one format, the checkpoint
    written under the config hash and removed after success; then the figure step on that result."""
    import xarray as xr

    from sciml.io.netcdf import metrics_of, read_provenance, validate_file
    from sciml.io.weights import load_weights
    from sciml.studies import get_step
    from sciml.studies.pinn import checkpoint_path
    from sciml.studies.run import run_step

    full = merge(defaults(), {"pinn": {"fault": {"n_interior": 60, "n_boundary": 20, "output_points": 21,
                                                 "train": {"adam_steps": 30, "lbfgs_steps": 0,
                                                           "checkpoint_every": 10}}}})
    step = get_step("pinn.fault")
    cfg = step.slice(full)
    assert cfg["dtype"] == full["dtype"] and cfg["n_interior"] == 60 and cfg["train"]["lr"] == 3.0e-3
    outs = {"nc": str(tmp_path / "fault.nc"), "pt": str(tmp_path / "fault.pt")}
    ckpts = tmp_path / "ckpt"
    run_step("pinn.fault", cfg, seed=0, inputs={}, outputs=outs, checkpoints=ckpts)
    assert validate_file(outs["nc"]) == []
    ds = xr.open_dataset(outs["nc"])
    m = metrics_of(ds)
    assert {"rel_l2", "rel_l2_surface", "max_abs_error", "threshold_rel_l2"} <= set(m), m
    assert m["threshold_rel_l2"][0] == 0.01 and m["rel_l2"][1] == "1"
    assert not [k for k in ds.attrs if k.startswith(("metric_", "diag_"))], ds.attrs
    assert ds.attrs["weights_file"] == "fault.pt" and ds.attrs["title"].startswith("antiplane")
    assert int(ds.sizes["step"]) == 30 and ds.sizes["z"] == 21
    w = load_weights(outs["pt"])
    assert w["step"] == "pinn.fault" and w["meta"] == {"study": "fault"} and w["config"] == cfg
    assert any(k.endswith("weight") for k in w["state_dict"])
    assert read_provenance(outs["nc"])["attachments"][0]["path"] == outs["pt"]
    # the checkpoint name hashes the whole slice: a changed config never resumes it; success removes it
    other = {**cfg, "n_interior": 61}
    assert checkpoint_path(ckpts, "fault", cfg, 0) != checkpoint_path(ckpts, "fault", other, 0)
    assert checkpoint_path(ckpts, "fault", cfg, 0) != checkpoint_path(ckpts, "fault", cfg, 1)
    assert not list(ckpts.glob("*.ckpt"))
    fig = get_step("pinn.figure")
    assert fig.slice(full, {"pinn_study": "fault"}) == {"study": "fault"}
    run_step("pinn.figure", {"study": "fault"}, seed=0, inputs={"nc": outs["nc"]},
             outputs={"png": str(tmp_path / "fault.png")})
    assert (tmp_path / "fault.png").stat().st_size > 10_000


def test_default_sections_are_complete_and_validated():
    """The schema fills every key the studies read; a misspelt key is refused with a suggestion."""
    from sciml.config import ConfigError, validate

    d = defaults("pinn")
    assert d["studies"] == ["eikonal", "tomography", "calaveras", "fault", "fault_inversion"]
    assert d["tomography"]["train"]["weights"] == {"data": 10.0} and d["eikonal"]["train"]["patience"] is None
    assert d["calaveras"]["velocity_network"] == {"hidden": [16, 16], "activation": "tanh", "init": "xavier_normal",
                                                  "fourier_features": 0, "fourier_scale": 1.0}
    assert "shape" not in d["fault"] and d["fault_inversion"]["shape"] == "tapered"
    with pytest.raises(ConfigError, match="did you mean 'n_collocation'"):
        validate({"eikonal": {"n_colocation": 5}}, "pinn")
