"""Strain rates from GNSS velocities: synthetic screw dislocation (exact strain, Savage & Burford 1973),
uniform strain (exact), tensor algebra vs numpy.linalg.eigh, and the GMT gpsgridder baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sciml.geo import enu_to_lonlat
from sciml.gnss.gpsgridder import gmt_available, gridded_strain, run_gpsgridder
from sciml.gnss.strain import fit_velocity_field, project, strain_fields, strain_on_grid
from sciml.gnss.synthetic import screw_dislocation, synthetic_stations

EXTENT = (-110.0, 110.0, -110.0, 110.0)


@pytest.fixture(scope="module")
def stations():
    return synthetic_stations(120, 140.0, sigma=0.5, seed=3, lon0=-121.0, lat0=37.0)


def _exact(ds):
    X, Y = np.meshgrid(ds.x.values, ds.y.values)
    g = screw_dislocation(X, Y)
    return strain_fields({k: 1000.0 * v for k, v in g.items() if k.startswith("d")}), g


@pytest.mark.parametrize("reg", ["elastic", "smoothness"])
def test_screw_dislocation_strain_recovered_within_uncertainty(stations, reg):
    """Exact strain of v = (V/pi) arctan(p/D): >= 85% / 95% of grid values within 2 / 3 posterior sigma, max shear < 35%."""
    fit = fit_velocity_field(stations, reg, knot_spacing_km=15.0, lon0=-121.0, lat0=37.0)
    ds = strain_on_grid(fit, 23, 23, extent=EXTENT, n_samples=100, seed=1)
    ex, g = _exact(ds)
    for k in ("exx", "eyy", "exy", "rotation", "max_shear"):
        z = (ds[k].values - ex[k]) / ds[f"{k}_std"].values
        assert np.mean(np.abs(z) < 2.0) >= 0.85, (reg, k, np.mean(np.abs(z) < 2.0))
        assert np.mean(np.abs(z) < 3.0) >= 0.95, (reg, k, np.mean(np.abs(z) < 3.0))
    rel = np.linalg.norm(ds["max_shear"].values - ex["max_shear"]) / np.linalg.norm(ex["max_shear"])
    assert rel < 0.35, rel
    assert np.sqrt(np.mean((ds["ve"].values - g["ve"]) ** 2)) < 1.0  # mm/yr, noise 0.5
    assert 0.3 < fit.posterior.sigma2 < 3.0  # noise scale recovered
    assert ds.attrs["abic"] == pytest.approx(-2 * ds.attrs["log_evidence"] + 4.0)


def test_uniform_strain_is_exact_for_both_regularisations():
    """v = L x (uniform strain, in the null space of both operators): strain recovered to 1e-6 relative."""
    rng = np.random.default_rng(0)
    xy = rng.uniform(-80, 80, size=(40, 2))
    Lg = np.array([[0.03, -0.01], [0.02, -0.015]])  # (mm/yr)/km
    v = xy @ Lg.T
    lon, lat = enu_to_lonlat(xy[:, 0] * 1e3, xy[:, 1] * 1e3, -100.0, 40.0)
    df = pd.DataFrame({"name": [f"U{i}" for i in range(40)], "lon": lon, "lat": lat, "ve": v[:, 0],
                       "vn": v[:, 1], "se": 0.1, "sn": 0.1, "rho": 0.0})
    for reg in ("elastic", "smoothness"):
        fit = fit_velocity_field(df, reg, knot_spacing_km=40.0, lon0=-100.0, lat0=40.0, sigma2=1.0)
        ds = strain_on_grid(fit, 5, 5, extent=(-50, 50, -50, 50), n_samples=10)
        np.testing.assert_allclose(ds["exx"].values, 30.0, atol=0.05)
        np.testing.assert_allclose(ds["exy"].values, 500.0 * (-0.01 + 0.02), atol=0.05)
        np.testing.assert_allclose(ds["rotation"].values, 500.0 * (0.02 + 0.01), atol=0.05)


def test_strain_invariants_match_eigendecomposition():
    """e1, e2, azimuth of e1 and max shear against numpy.linalg.eigh of the symmetric tensor."""
    rng = np.random.default_rng(1)
    gr = {k: rng.normal(size=50) for k in ("dve_dx", "dve_dy", "dvn_dx", "dvn_dy")}
    s = strain_fields(gr)
    for i in range(50):
        E = np.array([[s["exx"][i], s["exy"][i]], [s["exy"][i], s["eyy"][i]]])
        w, V = np.linalg.eigh(E)
        assert s["e1"][i] == pytest.approx(w[1]) and s["e2"][i] == pytest.approx(w[0])
        assert s["max_shear"][i] == pytest.approx(0.5 * (w[1] - w[0]))
        az = np.degrees(np.arctan2(V[0, 1], V[1, 1])) % 180.0  # east, north components -> azimuth
        d = abs(az - s["azimuth_e1"][i]) % 180.0
        assert min(d, 180.0 - d) < 1e-6
        assert s["second_invariant"][i] == pytest.approx(np.sqrt(np.sum(E * E)))


@pytest.mark.skipif(not gmt_available(), reason="gmt (gpsgridder) not installed")
def test_gpsgridder_baseline_agrees_with_pilm(stations):
    """GMT gpsgridder and PILM velocities agree with the exact field and with each other within 1 mm/yr rms."""
    fit = fit_velocity_field(stations, "elastic", knot_spacing_km=25.0, lon0=-121.0, lat0=37.0)
    ds = strain_on_grid(fit, 23, 23, extent=EXTENT, n_samples=10)
    X, Y = np.meshgrid(ds.x.values, ds.y.values)
    xy, _, _ = project(stations, -121.0, 37.0)
    v = run_gpsgridder(xy, stations, np.column_stack([X.ravel(), Y.ravel()]), poisson=0.5, fudge_km=8.0)
    ve = v[:, 0].reshape(X.shape)
    g = screw_dislocation(X, Y)
    assert np.sqrt(np.mean((ve - g["ve"]) ** 2)) < 1.0
    assert np.sqrt(np.mean((ve - ds["ve"].values) ** 2)) < 1.0
    st = gridded_strain(ds.x.values, ds.y.values, ve, v[:, 1].reshape(X.shape))
    ex, _ = _exact(ds)
    assert np.linalg.norm(st["max_shear"] - ex["max_shear"]) / np.linalg.norm(ex["max_shear"]) < 0.5
