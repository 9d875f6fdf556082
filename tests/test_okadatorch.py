"""The OkadaTorch study (its paper's notebooks 1-7 on sciml's kernels), validated against independent references:
the notebooks' own printed values, the geodesic meridian arc (pyproj.Geod, not the projection), the small-rectangle
limit of the point source, the notebooks' corner formulas, finite differences, and the notebook's published
Pyro NUTS posterior."""

from __future__ import annotations

import math

import numpy as np
import torch

from sciml.config import defaults
from sciml.io.netcdf import read_dataset, validate_file
from sciml.okada.kernels import dc3d, dc3d0
from sciml.okada.okadatorch import (
    NOTEBOOK7_NUTS_Q,
    notebook_observations,
    outline,
    parameter_maps,
    project,
    projected_grid,
    station_derivatives,
    wrapper_deformation,
)
from sciml.studies.run import run_step

F64 = torch.float64


def _truth():
    cfg = defaults("okadatorch")
    from sciml.studies.okadatorch import _truth as truth

    return truth(cfg)


def test_projection_equals_the_notebooks_printed_values_and_the_geodesic_meridian_arc():
    """Notebook 6/7 print x_fault, y_fault = -11.25235992480785, 24.70296061567198 km and the half-widths
    dX, dY = 267.0689477487547, 335.28939693235236 km; on the central meridian y equals the geodesic distance
    from lat0 (pyproj.Geod, an ellipsoidal geodesic, not the transverse Mercator code) and x = 0."""
    x, y = project(144.8678, 40.2224, 145.0, 40.0)
    assert abs(float(x) - (-11252.35992480785)) < 1e-3 and abs(float(y) - 24702.96061567198) < 1e-3
    lon, _lat, gx, gy = projected_grid(142, 148, 37, 43, 0.25)
    assert lon.shape == (25, 25)
    assert abs((gx.max() - gx.min()) / 2 - 267068.9477487547) < 1e-2
    assert abs((gy.max() - gy.min()) / 2 - 335289.39693235236) < 1e-2
    import pyproj

    xm, ym = project(145.0, 42.5, 145.0, 40.0)
    _, _, dist = pyproj.Geod(ellps="WGS84").inv(145.0, 40.0, 145.0, 42.5)
    assert abs(float(xm)) < 1e-6 and abs(float(ym) - dist) < 1e-3
    back = project(x, y, 145.0, 40.0, inverse=True)
    assert abs(back[0] - 144.8678) < 1e-10 and abs(back[1] - 40.2224) < 1e-10


def test_point_source_is_the_small_rectangle_limit():
    """DC3D0 with potency = slip x area equals DC3D of a 1e-3 x 1e-3 rectangle centred there (to its
    discretisation error, ~1e-6 relative at unit distance): the notebook-1 pair SPOINT / SRECTF."""
    alpha = 2.0 / 3.0
    g = torch.linspace(-1.0, 1.0, 9, dtype=F64)
    Y, X = torch.meshgrid(g, g, indexing="ij")
    Z = torch.full_like(X, -0.3)
    h = 1e-3
    p = dc3d0(alpha, X, Y, Z, 2.0, 45.0, 4.0 * h * h, 3.0 * h * h, 0.0, 0.0)
    r = dc3d(alpha, X, Y, Z, 2.0, 45.0, -h / 2, h / 2, -h / 2, h / 2, 4.0, 3.0, 0.0)
    scale = p.u.abs().max()
    assert float((p.u - r.u).abs().max() / scale) < 1e-5
    assert float((p.grad - r.grad).abs().max() / p.grad.abs().max()) < 1e-5


def test_origins_follow_the_notebooks_corner_formulas():
    """fault_origin = "center" at the centre computed by notebook 3's corner formulas gives the same field as
    "topleft" at the corner, and :func:`outline` equals the notebook's corners."""
    th = _truth()
    ss, cs = math.sin(math.radians(189.0)), math.cos(math.radians(189.0))
    cd = math.cos(math.radians(60.0))
    L, W = 218e3, 46e3
    centre = th.clone()
    centre[0] = th[0] + 0.5 * L * ss + 0.5 * W * cd * cs
    centre[1] = th[1] + 0.5 * L * cs - 0.5 * W * cd * ss
    centre[2] = th[2] + 0.5 * W * math.sin(math.radians(60.0))
    st = torch.tensor([[1e4, -3e4, 0.0], [-8e4, 9e4, 0.0], [2e5, 1e5, -2e3]], dtype=F64)
    a = wrapper_deformation(st, th).u
    b = wrapper_deformation(st, centre, origin="center").u
    assert float((a - b).abs().max()) < 1e-12 * float(a.abs().max()) + 1e-15
    f = dict(zip(("east", "north", "depth", "length", "width", "strike", "dip"), th[:7].tolist()))
    corners = outline(f)
    x0, y0 = float(th[0]), float(th[1])
    expect = [(x0, y0), (x0 + W * cd * cs, y0 - W * cd * ss), (x0 + L * ss + W * cd * cs, y0 + L * cs - W * cd * ss),
              (x0 + L * ss, y0 + L * cs)]
    assert np.allclose(corners, expect, atol=1e-6)


def test_notebook_derivatives_equal_finite_differences():
    """Notebooks 4-5: autograd station gradients equal the analytic gradient (1e-12 relative); the parameter
    maps d u_z / d theta and d^2 u_z / d theta^2 equal central finite differences (steps 1e-4 of each scale)."""
    th = _truth()
    st = torch.tensor([[2e4, 5e4, 0.0], [-6e4, -2e4, 0.0], [1.2e5, 8e4, 0.0]], dtype=F64)
    g, ad, dg, d2 = station_derivatives(st, th)
    assert float((g - ad).abs().max()) < 1e-12 * float(g.abs().max())
    assert float((dg - d2).abs().max()) < 1e-10 * float(dg.abs().max())
    jac, hd = parameter_maps(st, th)
    scale = torch.tensor([1e3, 1e3, 1e2, 1e4, 1e4, 1.0, 1.0, 1.0, 0.1], dtype=F64)
    for k in range(9):
        e = torch.zeros(9, dtype=F64)
        e[k] = 1e-3 * float(scale[k])
        up = wrapper_deformation(st, th + e, derivatives=False).u[:, 2]
        dn = wrapper_deformation(st, th - e, derivatives=False).u[:, 2]
        mid = wrapper_deformation(st, th, derivatives=False).u[:, 2]
        fd1 = (up - dn) / (2 * e[k])
        fd2 = (up - 2 * mid + dn) / e[k] ** 2
        assert torch.allclose(jac[k], fd1, rtol=1e-5, atol=1e-9 * float(jac[k].abs().max()) + 1e-14), k
        fd2_rounding = 4 * torch.finfo(F64).eps * float(mid.abs().max()) / float(e[k]) ** 2  # FD's own rounding
        assert torch.allclose(hd[k], fd2, rtol=1e-3, atol=1e-4 * float(hd[k].abs().max()) + fd2_rounding), k


def test_notebook_data_are_the_notebooks_draw():
    """The noise equals 0.05 numpy default_rng(123).standard_normal((25, 25, 3)) in the notebooks' order."""
    _, _, x, y = projected_grid(142, 148, 37, 43, 0.25, lon0=145.0, lat0=40.0)
    st, clean, obs = notebook_observations((x, y), _truth(), sigma=0.05, seed=123)
    err = 0.05 * np.random.default_rng(123).standard_normal((25, 25, 3))
    assert np.allclose((obs - clean).numpy(), err.reshape(-1, 3), atol=1e-15)
    assert st.shape == (625, 3) and float(clean.abs().max()) > 1.0


def test_steps_reproduce_the_notebooks_and_nuts_posterior(tmp_path):
    """The study's steps on a small config (coarse maps; HMC 4 chains x 100 warm-up + 100 draws): outputs pass the
    CF contract; notebook 4-5's checks hold; notebook 7's posterior from a cold start agrees with the Laplace
    approximation at the LM estimate (means within 0.5 sd, sd ratios 0.75-1.33), R-hat < 1.05, no divergence."""
    cfg = defaults("okadatorch")
    cfg["maps"].update(kernel_n=11, spacing_deg=1.0)
    cfg["bayes"].update(warmup=100, draws=100)
    p = {k: str(tmp_path / f"{k}.nc") for k in ("maps", "data", "opt", "bayes")}
    seed = 5

    def sl(*keys):
        return {k: cfg[k] for k in keys}

    run_step("okadatorch.maps", sl("nu", "region", "fault", "maps"), seed=seed, inputs={}, outputs={"nc": p["maps"]})
    run_step("okadatorch.data", sl("nu", "region", "fault", "data"), seed=seed, inputs={}, outputs={"nc": p["data"]})
    run_step("okadatorch.bayes", sl("nu", "bayes"), seed=seed, inputs={"data": p["data"]}, outputs={"nc": p["bayes"]})
    for f in (p["maps"], p["bayes"]):
        assert validate_file(f) == []
    m = read_dataset(p["maps"])
    assert float(m["metric_grad_autograd_max_abs_diff"]) < 1e-12 * float(m["metric_grad_max_abs"])
    assert int(m["metric_nonfinite_derivatives"]) == 0
    b = read_dataset(p["bayes"])
    assert float(b["metric_hmc_rhat_max"]) < 1.05 and int(b["metric_hmc_divergences"]) == 0
    # independent reference: the Laplace approximation at the LM estimate (deterministic, exact Hessian in theta);
    # the posterior is near-Gaussian (thresholds set near the default run's 0.1 sd and 0.93-1.07, small run)
    assert float(b["metric_laplace_mean_offset_max_sd"]) < 0.5
    assert 0.75 < float(b["metric_laplace_std_ratio_min"]) and float(b["metric_laplace_std_ratio_max"]) < 1.33
    assert float(b["metric_truth_max_abs_error_sd"]) < 4.0
    # notebook 7's published NUTS summary (2 decimals of q) is recorded, not asserted: it lies up to 0.036 of the
    # prior width off (5-10 posterior sd along the x / length / width / depth trade-off; docs/okada.md)
    assert np.allclose(b["notebook_q_mean"].values, NOTEBOOK7_NUTS_Q["mean"])
    png = tmp_path / "post.png"
    run_step("okadatorch.figure_posterior", {}, seed=seed, inputs={"nc": p["bayes"]}, outputs={"png": str(png)})
    assert png.stat().st_size > 10_000
