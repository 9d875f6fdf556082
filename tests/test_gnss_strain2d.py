"""Interchange with Strain_2D (kmaterna/Strain_2D): its station-velocity table read back by sciml's reader,
and its strain-grid NetCDF (variables, units nanostrain/yr, sign conventions) written and read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sciml.gnss.readers import read_velocities
from sciml.gnss.strain import strain_fields
from sciml.gnss.strain2d import STRAIN2D_VARIABLES, read_strain2d, strain2d_dataset, velocity_table


def test_velocity_table_round_trip(tmp_path):
    """Strain_2D's ``lon lat VE VN VU SE SN SU name`` table is the NorCal format: written and read back."""
    df = pd.DataFrame({"name": ["AAAA", "BBBB"], "lon": [-122.5, -121.25], "lat": [38.0, 39.5],
                       "ve": [-1.5, 2.25], "vn": [6.8, 4.0], "se": [0.2, 0.3], "sn": [0.1, 0.4], "rho": [0.0, 0.0]})
    p = tmp_path / "vels.txt"
    p.write_text(velocity_table(df))
    back, counts = read_velocities(p, "norcal")
    assert counts["rows"] == 2
    for k in ("lon", "lat", "ve", "vn", "se", "sn"):
        np.testing.assert_allclose(back[k].to_numpy(), df[k].to_numpy(), atol=1e-6)


def test_strain_grid_variables_units_and_signs(tmp_path):
    """Strain_2D conventions against the tensor algebra: I2 = exx eyy - exy^2, rotation clockwise positive,
    azimuth of the shortening axis = azimuth of e1 + 90 (mod 180); read back in sciml's signs."""
    rng = np.random.default_rng(0)
    lon, lat = np.linspace(-123, -121, 4), np.linspace(37, 38, 3)
    gr = {k: rng.normal(size=12) for k in ("dve_dx", "dve_dy", "dvn_dx", "dvn_dy")}
    mean = {**strain_fields(gr), "ve": rng.normal(size=12), "vn": rng.normal(size=12)}
    std = {k: np.abs(rng.normal(size=12)) for k in ("ve", "vn", "exx", "eyy", "exy", "rotation", "dilatation",
                                                     "max_shear")}
    ds = strain2d_dataset(lon, lat, mean, std, method="pilm")
    assert set(STRAIN2D_VARIABLES) <= set(ds.data_vars) and ds["exx"].attrs["units"] == "1e-9 yr-1"
    np.testing.assert_allclose(ds["I2"].values.ravel(), mean["exx"] * mean["eyy"] - mean["exy"] ** 2)
    np.testing.assert_allclose(ds["rotation"].values.ravel(), 0.5 * (gr["dve_dy"] - gr["dvn_dx"]))
    d = np.abs(ds["azimuth"].values.ravel() - (mean["azimuth_e1"] + 90.0) % 180.0)
    assert np.all(np.minimum(d, 180.0 - d) < 1e-9)
    p = tmp_path / "pilm_strain.nc"
    ds.to_netcdf(p)
    back = read_strain2d(p)
    np.testing.assert_allclose(back["rotation"].values.ravel(), mean["rotation"])
    np.testing.assert_allclose(back["max_shear_std"].values.ravel(), std["max_shear"])
    with pytest.raises(Exception, match="not a Strain_2D strain grid"):
        ds.drop_vars("exx").to_netcdf(tmp_path / "bad.nc")
        read_strain2d(tmp_path / "bad.nc")
