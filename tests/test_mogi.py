"""Mogi study (the worked example of docs/adding-a-study.md): forward model vs the closed-form Mogi (1958)
solution, recovery of a noise-free truth, calibration of the Laplace covariance, and the steps run outside
Snakemake through the command line."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import torch

from sciml.config import defaults
from sciml.io.netcdf import read_dataset, read_provenance, validate_file
from sciml.studies import mogi

F64 = torch.float64


def _stations(n=9, half=12000.0):
    return mogi._grid(n, half)


def test_forward_equals_closed_form_mogi_solution():
    """Independent reference: u = (1 - nu) dV / pi * (x - x0, y - y0, d) / R^3 (Mogi 1958) at the surface."""
    nu, theta = 0.27, torch.tensor([700.0, -300.0, 3500.0, 4.0e6], dtype=F64)
    st = _stations()
    u = mogi.displacement(theta, st, nu)
    dx, dy, d = st[:, 0] - theta[0], st[:, 1] - theta[1], theta[2]
    c = (1 - nu) * theta[3] / math.pi / (dx**2 + dy**2 + d**2) ** 1.5
    torch.testing.assert_close(u, torch.stack([c * dx, c * dy, c * d], -1), rtol=1e-12, atol=1e-18)


def test_noise_free_inversion_recovers_the_truth():
    cfg = defaults("mogi")
    truth = torch.tensor([cfg["source"][k] for k in mogi.PARAMS], dtype=F64)
    st = _stations()
    obs = mogi.displacement(truth, st, cfg["nu"])
    sig = torch.full_like(obs, 1e-3)
    start = torch.tensor([cfg["start"][k] for k in mogi.PARAMS], dtype=F64)
    est, cov, iters = mogi.gauss_newton(obs, sig, st, start, cfg["nu"], max_iter=50, tol=1e-9)
    torch.testing.assert_close(est, truth, rtol=1e-7, atol=1e-4)
    assert iters < 50 and torch.all(cov.diag() > 0)


def test_laplace_covariance_is_calibrated_over_noise_draws():
    """Over 30 noise realisations, (estimate - truth) / std behaves as N(0, 1): 2-sigma coverage >= 0.88 of
    120 parameter components (0.95 expected; the binomial 1st percentile is about 0.90) and |mean z| small."""
    cfg = defaults("mogi")
    truth = torch.tensor([cfg["source"][k] for k in mogi.PARAMS], dtype=F64)
    st = _stations(9, 15000.0)
    clean = mogi.displacement(truth, st, cfg["nu"])
    sig = torch.full_like(clean, 3e-3)
    gen = torch.Generator().manual_seed(7)
    z = []
    for _ in range(30):
        obs = clean + sig * torch.randn(clean.shape, generator=gen, dtype=F64)
        est, cov, _ = mogi.gauss_newton(obs, sig, st, truth * 0.95, cfg["nu"], max_iter=50, tol=1e-4)
        z.append(((est - truth) / cov.diag().sqrt()).numpy())
    z = np.array(z)
    assert np.mean(np.abs(z) <= 2) >= 0.88
    assert np.all(np.abs(z.mean(0)) < 0.7)  # mean of 30 N(0, 1) draws: sd 0.18


def test_steps_run_outside_snakemake_with_provenance(tmp_path):
    """`python -m sciml run` chains mogi.synthetic -> mogi.invert with overrides; outputs carry the record."""
    data, est = tmp_path / "data.nc", tmp_path / "estimate.nc"
    base = [sys.executable, "-m", "sciml", "run"]
    r1 = subprocess.run(base + ["mogi.synthetic", "--set", "mogi.stations.n=8", "--output", f"nc={data}"],
                        capture_output=True, text=True)
    assert r1.returncode == 0, r1.stderr
    r2 = subprocess.run(base + ["mogi.invert", "--set", "mogi.stations.n=8", "--input", f"data={data}",
                                "--output", f"nc={est}"], capture_output=True, text=True)
    assert r2.returncode == 0, r2.stderr
    assert validate_file(est) == []
    prov = read_provenance(est)
    assert prov["step"] == "mogi.invert" and prov["params"]["cfg"]["stations"]["n"] == 8
    assert prov["inputs"][0]["path"] == str(data) and prov["code"]["files"] > 5
    ds = read_dataset(est)
    assert ds.sizes["station"] == 64 and float(ds["metric_max_abs_z"]) < 4
