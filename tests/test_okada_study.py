"""Okada study steps (sciml.studies.okada) run outside Snakemake through the one writer, the slip-inversion
operators, the published Parkfield model conversion, and the rule wiring of the GNSS-site option."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conftest import shared_file, snakemake
from sciml.config import defaults
from sciml.io.netcdf import metrics_of, read_dataset, read_provenance, validate_file
from sciml.okada import greens_matrix, patch_grid
from sciml.okada.data import published_parkfield_fault
from sciml.okada.greens import design_matrix, laplacian_blocks
from sciml.studies import get_step
from sciml.studies.run import run_step

F64 = torch.float64


def _slice(step: str, **overrides) -> dict:
    """The step's config slice of the default configuration, with nested overrides merged in."""
    from sciml.config import merge

    return get_step(step).slice(merge(defaults(), overrides))


def test_synthetic_invert_and_figure_steps_run_outside_snakemake(tmp_path):
    """okada.synthetic -> okada.invert -> okada.figure_posterior through run_step on a small configuration:
    every output is written with its provenance record, scalar results are metric_ variables, and the
    estimate lies within 4 Laplace standard deviations of the truth."""
    syn_cfg = _slice("okada.synthetic", okada={"synthetic": {"stations": {"n": 6}, "map": {"n": 5},
                                                             "sensitivity": ["depth"]}})
    syn = tmp_path / "synthetic.nc"
    run_step("okada.synthetic", syn_cfg, seed=3, inputs={}, outputs={"nc": syn})
    assert validate_file(syn) == []
    ds = read_dataset(syn)
    assert ds.sizes["station"] == 36 and ds["map_sensitivity"].shape == (1, 3, 5, 5)
    assert read_provenance(syn)["step"] == "okada.synthetic"

    inv_cfg = _slice("okada.invert", okada={"invert": {"hmc": {"chains": 2, "warmup": 20, "draws": 20}}})
    assert inv_cfg["nu"] == 0.25 and inv_cfg["fixed"] == {} and "device" not in inv_cfg
    inv = tmp_path / "invert.nc"
    run_step("okada.invert", inv_cfg, seed=3, inputs={"data": syn}, outputs={"nc": inv})
    assert validate_file(inv) == []
    out = read_dataset(inv)
    m = metrics_of(out)
    assert {"lm_iterations", "lm_converged", "lm_cost", "noise_scale", "hmc_accept_rate", "hmc_divergences",
            "hmc_step_size"} <= set(m)
    assert not any(k.startswith(("metric_", "diag_")) for k in out.attrs)
    assert m["lm_converged"][0] == 1 and m["noise_scale"][0] == 1.0 and m["hmc_accept_rate"][0] > 0.3
    assert out["samples"].shape == (2, 20, 9)
    truth = out["fault_true"].sel(all_param=list(out["param"].values)).values
    z = (out["estimate"].values - truth) / out["laplace_std"].values
    assert np.all(np.abs(z) < 4.0)
    prov = read_provenance(inv)
    assert prov["step"] == "okada.invert" and prov["inputs"][0]["path"] == str(syn)
    assert "device" not in prov["params"]  # the Okada steps never use the torch device

    png = tmp_path / "posterior.png"
    run_step("okada.figure_posterior", {}, seed=3, inputs={"nc": inv}, outputs={"png": png})
    assert png.stat().st_size > 10_000


def test_slip_step_recovers_the_gaussian_patch(tmp_path):
    """okada.slip at the default configuration (synthetic Gaussian slip, ABIC smoothing) through run_step:
    relative L2 error below 0.15 and at least 90 % of patch components within 2 posterior sd (defaults give
    0.08 and 100 %, docs/okada.md); the ABIC weight is interior to its search range."""
    cfg = _slice("okada.slip")
    out = tmp_path / "slip.nc"
    run_step("okada.slip", cfg, seed=20261126, inputs={}, outputs={"nc": out})
    ds = read_dataset(out)
    m = metrics_of(ds)
    assert m["relative_l2_error"][0] < 0.15 and m["fraction_within_2sd"][0] >= 0.9
    assert m["smoothing_weight"][1] == "m-2" and m["roughness"][1] == "m2"
    lo, hi = cfg["log10_bounds"]
    assert lo + 0.1 < math.log10(m["smoothing_weight"][0]) < hi - 0.1
    assert 0.7 < m["sigma2"][0] < 1.4  # the assumed noise is the true noise
    png = tmp_path / "slip.png"
    run_step("okada.figure_slip", {}, seed=0, inputs={"nc": out}, outputs={"png": png})
    assert png.stat().st_size > 10_000


def test_laplacian_blocks_and_design_matrix():
    """Independent references: the 5-point Laplacian of a quadratic along-strike field is 2 (times the patch
    area) at interior patches; the design matrix reproduces the Green's-function sum of a slip model."""
    grid = patch_grid(depth=1000.0, strike=10.0, dip=40.0, length=8000.0, width=5000.0, n_strike=6, n_dip=4)
    L = laplacian_blocks(grid)
    p = grid.n
    assert L.shape == (2 * p, 2 * p) and np.all(L[:p, p:] == 0) and np.all(L[p:, :p] == 0)
    x = grid.along.numpy()
    area = float(grid.length[0] * grid.width[0])
    lx = L[:p, :p] @ x**2
    inner = (grid.i_strike > 0) & (grid.i_strike < 5) & (grid.i_dip > 0) & (grid.i_dip < 3)
    np.testing.assert_allclose(lx[inner.numpy()], 2.0 * area, rtol=1e-10)
    st = torch.tensor([[1000.0, 2000.0, 0.0], [-3000.0, 500.0, 0.0]], dtype=F64)
    G = greens_matrix(st, grid).numpy()
    s = np.random.default_rng(0).standard_normal((p, 2))
    expect = np.einsum("nkpm,pm->nk", G, s).reshape(-1)
    np.testing.assert_allclose(design_matrix(G) @ np.concatenate([s[:, 0], s[:, 1]]), expect, rtol=1e-12)


def test_published_parkfield_fault_conversion():
    """The hypocentre (on the top edge when its depth is not given) lies hypX km along strike from the top-left
    corner; the mean slip is M0 / (mu L W)."""
    hdr = dict(hypo_lat=35.8, hypo_lon=-120.4, length_km=40.0, width_km=15.0, strike_deg=140.0, dip_deg=89.0,
               rake_deg=170.0, top_depth_km=0.5, hypX_along_strike_km=10.0, M0_Nm=1.2e18)
    f = published_parkfield_fault(hdr, 3.0e10)
    s = np.array([math.sin(math.radians(140.0)), math.cos(math.radians(140.0))])
    top_left = np.array([f["east"], f["north"]]) - 0.5 * f["length"] * s
    np.testing.assert_allclose(top_left, -10e3 * s, atol=1e-9)
    assert f["slip"] == pytest.approx(1.2e18 / (3e10 * 40e3 * 15e3)) and f["depth"] == 500.0


def test_parkfield_step_on_the_published_offsets(tmp_path):
    """okada.invert_parkfield on the shared Houlie et al. (2014) offsets: the MAP fits better than the
    published single plane (rms 5.5 vs 16.6 mm at the default configuration, docs/okada.md)."""
    gps = shared_file("coseismic/parkfield_2004/houlie2014_gps_coseismic.txt")
    fault = shared_file("coseismic/parkfield_2004/fault_params_srcmod_custodio2005.txt")
    cfg = _slice("okada.invert_parkfield", okada={"parkfield": {"invert": {"hmc": {"chains": 2, "warmup": 20,
                                                                                      "draws": 10}}}})
    out = tmp_path / "parkfield.nc"
    run_step("okada.invert_parkfield", cfg, seed=1, inputs={"gps": gps, "fault": fault}, outputs={"nc": out})
    ds = read_dataset(out)
    rms = lambda v: float(np.sqrt(((ds[v] - ds["obs"]) ** 2).mean()))  # noqa: E731
    assert rms("model") < 0.5 * rms("model_published")
    assert metrics_of(ds)["noise_scale"][0] > 1.0  # rescale_noise: the assumed sigmas are too small


def test_gnss_option_reads_the_pilm_sites(workflow_copy):
    """okada.synthetic.stations.gnss = <PILM dataset> makes okada_synthetic read results/pilm/<name>/velocities.nc
    (the output of the PILM rule pilm_ingest); an unknown name stops the workflow at parse time."""
    extra = workflow_copy / "gnss.yaml"
    extra.write_text("okada:\n  synthetic:\n    stations: {gnss: norcal, lon0: -122.0, lat0: 38.0}\n")
    run = snakemake(workflow_copy, "-n", "results/okada/synthetic.nc", "--configfile", "config/config.yaml", str(extra))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "results/pilm/norcal/velocities.nc" in run.stdout  # produced by the PILM ingest rule
    extra.write_text("okada:\n  synthetic:\n    stations: {gnss: nowhere}\n")
    run = snakemake(workflow_copy, "-n", "results/okada/synthetic.nc", "--configfile", "config/config.yaml", str(extra))
    assert run.returncode != 0 and "not a PILM dataset" in run.stdout + run.stderr
