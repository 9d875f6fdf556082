"""Geographic layer, Green's functions, derivatives, data readers and nonlinear inversion of sciml.okada."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from conftest import shared_file
from sciml.errors import InputError
from sciml.okada import greens_matrix, hessian, jacobian, patch_grid, point_source, rectangle
from sciml.okada.data import read_geonet_ozawa, read_parkfield_fault, read_parkfield_gps
from sciml.okada.inversion import FaultProblem, compare_to_laplace, laplace, levenberg_marquardt, sample_hmc

F64 = torch.float64


def _stations(n=5, half=20000.0):
    g = torch.linspace(-half, half, n, dtype=F64)
    e, nn = torch.meshgrid(g, g, indexing="xy")
    return torch.stack([e.flatten(), nn.flatten(), torch.zeros(n * n, dtype=F64)], -1)


def test_rake_and_dip_conventions_aki_richards():
    """Thrust (rake 90) uplifts the hanging wall (dip side); rake 0 is left-lateral."""
    st = torch.tensor([[6000.0, 0.0, 0.0], [-3000.0, 0.0, 0.0]], dtype=F64)
    d = rectangle(st, depth=1000.0, strike=0.0, dip=30.0, length=20000.0, width=10000.0, slip=1.0, rake=90.0)
    assert d.u[0, 2] > 0.05 and d.u[0, 0] < 0  # east side (dip direction) up and moving up-dip (west)
    d = rectangle(torch.tensor([[-3000.0, 0.0, 0.0], [3000.0, 0.0, 0.0]], dtype=F64), depth=0.0, strike=0.0,
                  dip=89.0, length=20000.0, width=10000.0, slip=1.0, rake=0.0)
    assert d.u[0, 1] < 0 < d.u[1, 1]  # west block south, east block north: left-lateral


def test_reference_points_and_rotation_are_consistent():
    """The same fault described by its top centre, top left corner or centroid gives identical fields; a
    rotation of strike by 90 deg rotates the field."""
    st = _stations(4)
    strike, dip, L, W = 40.0, 35.0, 12000.0, 6000.0
    s = np.array([math.sin(math.radians(strike)), math.cos(math.radians(strike))])
    ddir = np.array([math.cos(math.radians(strike)), -math.sin(math.radians(strike))])
    kw = dict(strike=strike, dip=dip, length=L, width=W, slip=1.3, rake=60.0, opening=0.2)
    top = rectangle(st, east=100.0, north=200.0, depth=1500.0, reference="top_center", **kw)
    tl = np.array([100.0, 200.0]) - 0.5 * L * s
    left = rectangle(st, east=tl[0], north=tl[1], depth=1500.0, reference="top_left", **kw)
    c = np.array([100.0, 200.0]) + 0.5 * W * math.cos(math.radians(dip)) * ddir
    cen = rectangle(st, east=c[0], north=c[1], depth=1500.0 + 0.5 * W * math.sin(math.radians(dip)),
                    reference="centroid", **kw)
    for other in (left, cen):
        torch.testing.assert_close(other.u, top.u, rtol=1e-10, atol=1e-15)
        torch.testing.assert_close(other.grad, top.grad, rtol=1e-9, atol=1e-18)


def test_patch_superposition_equals_whole_rectangle():
    """Green's functions of a patch grid times uniform slip equal the whole fault's displacement."""
    st = _stations(6, 30000.0)
    f = dict(east=1000.0, north=-500.0, depth=2000.0, strike=30.0, dip=40.0, length=20000.0, width=8000.0)
    grid = patch_grid(**f, n_strike=5, n_dip=4)
    G = greens_matrix(st, grid, chunk=7)
    assert G.shape == (36, 3, 20, 2)
    u = G[..., 0].sum(-1) * 0.8 + G[..., 1].sum(-1) * 1.7
    ref = rectangle(st, **f, strike_slip=0.8, dip_slip=1.7).u
    torch.testing.assert_close(u, ref, rtol=1e-11, atol=1e-16)
    cen = grid.centroids()  # centroids lie on the fault plane: depth below the top grows with down-dip distance
    torch.testing.assert_close(-cen[:, 2] - 2000.0, grid.down * math.sin(math.radians(40.0)), rtol=1e-12, atol=1e-9)


def test_jacobian_station_block_is_analytic_gradient_and_params_match_finite_differences():
    st = torch.tensor([[3000.0, 2000.0, 0.0], [-4000.0, 1000.0, -500.0]], dtype=F64)
    p = dict(east=100.0, north=200.0, depth=1500.0, strike=20.0, dip=60.0, length=8000.0, width=4000.0, slip=1.5,
             rake=70.0)
    wrt = ["depth", "dip", "slip", "strike"]
    jac = jacobian(st, p, wrt, stations_wrt=True)
    assert jac.shape == (2, 3, 7)
    torch.testing.assert_close(jac[..., 4:], rectangle(st, **p).grad, rtol=1e-10, atol=1e-16)
    for i, k in enumerate(wrt):
        h = {"depth": 0.1, "dip": 1e-4, "slip": 1e-5, "strike": 1e-4}[k]
        pp, pm = dict(p), dict(p)
        pp[k] += h
        pm[k] -= h
        fd = (rectangle(st, **pp).u - rectangle(st, **pm).u) / (2 * h)
        torch.testing.assert_close(jac[..., i], fd, rtol=1e-6, atol=1e-12)
    hes = hessian(st, p, ["dip", "slip"], stations_wrt=True)
    assert hes.shape == (2, 3, 5, 5)
    torch.testing.assert_close(hes, hes.transpose(-1, -2), rtol=1e-10, atol=1e-18)
    # mixed block d2u / (d slip d station) equals grad / slip (u is linear in slip)
    torch.testing.assert_close(hes[..., 1, 2:], rectangle(st, **p).grad / 1.5, rtol=1e-9, atol=1e-16)


def test_point_source_layer_mogi():
    """Point source at 3 km depth, inflation potency of dV = 1e6 m^3: u_up = (1 - nu) dV d / (pi R^3)."""
    from sciml.okada import inflation_potency

    st = _stations(5, 10000.0)
    d = point_source(st, east=500.0, north=-200.0, depth=3000.0, potency_inflation=inflation_potency(1e6, 0.3), nu=0.3)
    r3 = ((st[:, 0] - 500.0) ** 2 + (st[:, 1] + 200.0) ** 2 + 3000.0**2) ** 1.5
    torch.testing.assert_close(d.u[:, 2], 0.7 * 1e6 * 3000.0 / (math.pi * r3), rtol=1e-12, atol=0)


def test_parkfield_and_geonet_readers():
    gps = read_parkfield_gps(shared_file("coseismic/parkfield_2004/houlie2014_gps_coseismic.txt"))
    assert gps.sizes["station"] == 14 and float(gps["east"].sel(station=0)) == pytest.approx(0.021)
    assert float(gps["lon"].min()) < -120 and np.all(np.isnan(gps["sigma_east"]))
    fault = read_parkfield_fault(shared_file("coseismic/parkfield_2004/fault_params_srcmod_custodio2005.txt"))
    assert fault["strike_deg"] == 140.0 and fault["length_km"] == 40.0
    g = read_geonet_ozawa(shared_file("coseismic/tohoku_2011/ozawa2011_geonet_coseismic_tableS1.txt"))
    assert g.sizes["station"] == 377  # data rows in the table (blank CRLF lines skipped)
    assert g.attrs["reference_lon"] == pytest.approx(128.8431) and float(g["east"].max()) > 5.0


def test_reader_errors_name_file_line_and_field(tmp_path):
    bad = tmp_path / "gps.txt"
    bad.write_text("id Site Lon_deg Lat_deg De_cm Dn_cm Dup_cm\n1 AAAA 239.5 35.9 x 1.0 0.0\n")
    with pytest.raises(InputError, match=r"gps.txt: line 2: field 'east' = 'x'"):
        read_parkfield_gps(bad)
    with pytest.raises(InputError, match="file not found"):
        read_parkfield_gps(tmp_path / "missing.txt")


def test_inversion_recovers_truth_within_uncertainty_and_hmc_matches_laplace():
    """Synthetic data (noise 2/5 mm): LM estimates lie within 3 Laplace standard deviations of the truth, the
    noise-free data give the truth to 1e-6 relative, and HMC moments agree with the Laplace posterior."""
    st = _stations(6, 25000.0)
    truth = dict(east=1500.0, north=-800.0, depth=2500.0, dip=55.0, rake=100.0, slip=1.2)
    fixed = dict(strike=30.0, length=15000.0, width=8000.0)
    names = tuple(truth)
    u = rectangle(st, **truth, **fixed).u
    sig = torch.tensor([0.002, 0.002, 0.005], dtype=F64).expand_as(u).clone()
    gen = torch.Generator().manual_seed(3)
    obs = u + sig * torch.randn(u.shape, generator=gen, dtype=F64)
    t0 = torch.tensor([0.0, 0.0, 4000.0, 45.0, 80.0, 0.8], dtype=F64)
    t_true = torch.tensor([truth[k] for k in names], dtype=F64)
    exact = levenberg_marquardt(FaultProblem(st, u, sig, names, fixed), t0, max_iter=60, tol=1e-14)
    assert float(((exact.theta - t_true) / t_true).abs().max()) < 1e-6
    prob = FaultProblem(st, obs, sig, names, fixed)
    lm = levenberg_marquardt(prob, t0, max_iter=60)
    lap = laplace(prob, lm.theta)
    z = (lm.theta - t_true) / lap.std
    assert float(z.abs().max()) < 3.0
    res = sample_hmc(prob, lap, chains=2, warmup=30, draws=60, leapfrog=4, generator=torch.Generator().manual_seed(4))
    cmp = compare_to_laplace(res.draws, lap)
    assert res.accept_rate > 0.5
    assert np.all(np.abs(cmp["mean_offset_sd"]) < 0.6)
    assert np.all((cmp["std_ratio"] > 0.6) & (cmp["std_ratio"] < 1.5))


def test_synthetic_from_gnss_station_file(tmp_path):
    """okada.synthetic with GNSS sites read from an ingested NetCDF (lon, lat on dim station)."""
    import xarray as xr

    from sciml.config import defaults
    from sciml.okada.data import read_station_lonlat
    from sciml.studies.okada import synthetic_dataset

    lon = np.array([-122.0, -121.9, -122.1, -122.05, -121.5])
    lat = np.array([38.0, 38.1, 37.9, 38.05, 39.5])
    xr.Dataset({"lon": ("station", lon, {"units": "degrees_east"}),  # the reader requires declared units
                "lat": ("station", lat, {"units": "degrees_north"})}).to_netcdf(tmp_path / "g.nc", engine="netcdf4")
    ll = read_station_lonlat(tmp_path / "g.nc")
    cfg = defaults("okada")["synthetic"]
    cfg.update(fault={**cfg["fault"], **dict(east=0.0, north=0.0, depth=1000.0, strike=0.0, dip=80.0, length=10000.0,
                                             width=5000.0, rake=0.0, slip=1.0)},
               stations=dict(n=2, half_width_m=50000.0, gnss="g", lon0=-122.0, lat0=38.0),
               noise_m=dict(horizontal=0.001, vertical=0.002), map=dict(n=3, half_width_m=20000.0), sensitivity=[],
               nu=0.25)
    ds = synthetic_dataset(cfg, seed=1, gnss_lonlat=ll)
    assert ds.sizes["station"] == 4  # the site 170 km away is outside half_width_m
    assert abs(float(ds["station_east"][0])) < 1e-6 and float(ds["obs"].std()) > 0
    cfg["stations"]["half_width_m"] = 1000.0
    with pytest.raises(InputError, match="half_width_m.*fewer than 3 GNSS sites"):
        synthetic_dataset(cfg, seed=1, gnss_lonlat=ll)
