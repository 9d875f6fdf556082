"""Strain-study steps end to end on the synthetic fallback (exact strain known), as the workflow runs them."""

from __future__ import annotations

import numpy as np
import pytest

from sciml.gnss.gpsgridder import gmt_available
from sciml.gnss.study import compare_step, gpsgridder_step, ingest_step, strain_config, strain_step

CFG = {"sources": [{"path": "gnss/absent.vel", "format": "pbo"}],
       "synthetic": {"n_stations": 80, "half_width_km": 120.0, "sigma": 0.5, "lon0": -122.0, "lat0": 39.0,
                     "slip_rate": 30.0, "locking_depth": 15.0, "strike": -40.0}}
STRAIN = {"knot_spacing_km": 20.0, "margin_km": 20.0, "collocation_per_interval": 2, "poisson": 0.25,
          "smoothness": "curvature", "log10_bounds": [-6, 8], "n_samples": 30, "grid": {"n": 16, "margin_km": 0.0},
          "mask_km": 40.0}


def test_synthetic_study_steps_recover_exact_strain_and_compare():
    vel = ingest_step(CFG, [], seed=1)
    assert vel.attrs["synthetic"] == 1 and vel.sizes["station"] == 80
    strains = {r: strain_step(vel, STRAIN, r, seed=1) for r in ("elastic", "smoothness")}
    for ds in strains.values():
        for v in list(ds.data_vars) + list(ds.coords):
            assert "units" in ds[v].attrs and "long_name" in ds[v].attrs, v
    gps = gpsgridder_step(vel, STRAIN, {"poisson": 0.5, "fudge_km": 8.0, "eigen_percent": 25.0}) \
        if gmt_available() else None
    cmp = compare_step(strains, gps, vel, mask_km=STRAIN["mask_km"])
    err = dict(zip(cmp["method"].values, cmp["rel_error_max_shear"].values))
    assert err["elastic"] < 0.5 and err["smoothness"] < 0.5, err
    assert cmp.attrs["preferred_by_evidence"] in ("elastic", "smoothness")
    assert np.all(cmp["chi2_per_datum"].values < 3.0)
    if gps is not None:
        assert err["gpsgridder"] < 0.6
        assert "max_shear_elastic_minus_gpsgridder" in cmp


def test_strain_config_merges_dataset_overrides():
    pilm = {"strain": STRAIN, "datasets": {"a": {"strain": {"grid": {"n": 99}}}, "b": {}}}
    assert strain_config(pilm, "a")["grid"] == {"n": 99, "margin_km": 0.0}
    assert strain_config(pilm, "b")["grid"]["n"] == 16


def test_real_sources_are_read_when_present():
    from conftest import shared_file

    p = shared_file("gnss/norcal_stationvels.txt")
    vel = ingest_step({"sources": [{"path": "x", "format": "norcal"}], "duplicates": "error",
                       "region": {"lon_min": -123.0, "lon_max": -121.0, "lat_min": 37.0, "lat_max": 39.0},
                       "synthetic": CFG["synthetic"]}, [str(p)], seed=0)
    assert vel.attrs["synthetic"] == 0 and 20 < vel.sizes["station"] < 284
    assert vel.attrs["count_outside_region"] == 284 - vel.sizes["station"]
