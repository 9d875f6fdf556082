"""GNSS velocity readers: every shared format, malformed files (errors name line and field), duplicates,
and plate-rotation removal checked against the independent PBO NAM08 solution."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from sciml.errors import InputError
from sciml.gnss.ingest import euler_velocity, ingest, pole_to_omega, to_dataset
from sciml.gnss.readers import read_velocities, resolve_duplicates
from conftest import shared_file

# a `pilm.datasets.<name>.sources` entry as the completed config gives it (schema defaults)
SOURCE = {"columns": None, "units": "mm/yr", "plate_rotation": None}
NA_ITRF2014 = [0.024, -0.694, -0.063]  # North America in ITRF2014 (Altamimi et al. 2017), mas/yr


# n_bad: rows outside the plausible bounds (|v| > 1000 mm/yr): Greenland ice-sheet sites (SMM1-3, SUMM, GLS*)
# moving 1.7-7.6 m/yr and UNR's 9999.999 "no estimate" markers; dropped and counted with bad_rows="drop"
@pytest.mark.parametrize("rel,fmt,n_min,n_bad", [
    ("gnss/pbo_nam08_feb2018.vel", "pbo", 5000, 7), ("gnss/norcal_stationvels.txt", "norcal", 284, 0),
    ("gnss/unr_velo.txt", "unr", 7000, 13), ("gnss/socal_cmm4.vel", "cmm4", 1187, 0),
    ("gnss/midas_igs14_california.vel", "midas", 1750, 0), ("gnss/midas_igs14_japan_geonet.vel", "midas", 1232, 0)])
def test_shared_formats_parse(rel, fmt, n_min, n_bad):
    df, counts = read_velocities(shared_file(rel), fmt, bad_rows="drop")
    assert counts["rows"] >= n_min and counts["bad_rows_dropped"] == n_bad
    assert df["lon"].between(-180, 180).all() and df["lat"].between(-90, 90).all()
    assert (df["se"] > 0).all() and df["rho"].abs().le(1).all()
    assert 0.1 < np.median(np.abs(df[["ve", "vn"]].to_numpy())) < 60  # mm/yr, so m/yr files were scaled


def test_pbo_first_row_values_and_identical_duplicates_counted():
    """1LSU row: lon 268.8197 -> -91.1803, dE -0.00033 m/yr -> -0.33 mm/yr; 4 identical rows collapse."""
    df, counts = ingest([{**SOURCE, "path": shared_file("gnss/pbo_nam08_feb2018.vel"), "format": "pbo"}],
                        bad_rows="drop")  # the 7 Greenland ice-sheet rows (4 sites) are implausible as crust
    row = df[df["name"] == "1LSU"].iloc[0]
    assert row["lon"] == pytest.approx(268.8197383524 - 360.0)
    assert (row["ve"], row["vn"], row["se"], row["sn"]) == pytest.approx((-0.33, 0.67, 0.43, 0.17))
    assert counts["identical_rows_merged"] == counts["rows"] - counts["bad_rows_dropped"] - counts["stations"] > 2000
    assert counts["stations"] == 2241 - 4 and counts["bad_rows_dropped"] == 7


def test_midas_plate_rotation_matches_pbo_nam08():
    """IGS14 MIDAS minus the ITRF2014 North-America rotation agrees with PBO NAM08 (median < 0.5 mm/yr)."""
    pbo, _ = ingest([{**SOURCE, "path": shared_file("gnss/pbo_nam08_feb2018.vel"), "format": "pbo"}], bad_rows="drop")
    mid, _ = ingest([{**SOURCE, "path": shared_file("gnss/midas_igs14_california.vel"), "format": "midas",
                      "plate_rotation": {"omega_mas_per_yr": NA_ITRF2014}}])
    m = pbo.merge(mid, on="name", suffixes=("_p", "_m"))
    assert len(m) > 500
    assert abs(np.median(m.ve_p - m.ve_m)) < 0.5 and abs(np.median(m.vn_p - m.vn_m)) < 0.5
    raw, _ = read_velocities(shared_file("gnss/midas_igs14_california.vel"), "midas")
    assert np.median(np.abs(raw["ve"].to_numpy() - m.ve_p.median())) > 10  # the rotation mattered


def test_euler_pole_forms_agree_and_pole_has_zero_velocity():
    w = pole_to_omega(-4.0, -88.0, 0.19)
    ve, vn = euler_velocity(np.array([-88.0, -120.0]), np.array([-4.0, 37.0]), w)
    assert abs(ve[0]) < 1e-9 and abs(vn[0]) < 1e-9
    # 0.19 deg/Myr at ~ 41 deg from the pole: |v| = omega R sin(angle) ~ 14 mm/yr
    assert 5 < np.hypot(ve[1], vn[1]) < 25


@pytest.mark.parametrize("text,pattern", [
    ("-120.0 37.0 1.0 2.0 0.5 0.5 0 AAAA\n-121.0 38.0 abc 2.0 0.5 0.5 0 BBBB\n", r"bad.txt:2: field 've' = 'abc'"),
    ("-120.0 37.0 1.0 2.0 0.5\n", r"bad.txt:1: field 'columns' = 5"),
    ("-120.0 37.0 1.0 2.0 -0.5 0.5 0 AAAA\n", r"bad.txt:1: field 'se' = -0.5"),
    ("-120.0 95.0 1.0 2.0 0.5 0.5 0 AAAA\n", r"bad.txt:1: field 'lat' = 95.0"),
    ("-120.0 37.0 nan 2.0 0.5 0.5 0 AAAA\n", r"bad.txt:1: field 've' = nan"),
    ("-120.0 37.0 1.0 2.0 0.5 0.5 1.5 AAAA\n", r"bad.txt:1: field 'rho' = 1.5"),
])
def test_malformed_file_error_names_line_and_field(tmp_path, text, pattern):
    p = tmp_path / "bad.txt"
    p.write_text(text)
    with pytest.raises(InputError, match=pattern):
        read_velocities(p, "unr")


def test_bad_rows_dropped_are_counted_and_logged(tmp_path, caplog):
    p = tmp_path / "v.txt"
    p.write_text("-120.0 37.0 1.0 2.0 0.5 0.5 0 AAAA\n-121.0 38.0 abc 2.0 0.5 0.5 0 BBBB\n")
    with caplog.at_level(logging.WARNING):
        df, counts = read_velocities(p, "unr", bad_rows="drop")
    assert len(df) == 1 and counts["bad_rows_dropped"] == 1
    assert "v.txt:2" in caplog.text


def test_csv_reader_maps_columns_and_reports_missing(tmp_path):
    p = tmp_path / "v.csv"
    p.write_text("site,long,lati,E,N,sE,sN\nAAAA,-120,37,0.001,0.002,0.0005,0.0005\n")
    cols = {"name": "site", "lon": "long", "lat": "lati", "ve": "E", "vn": "N", "se": "sE", "sn": "sN"}
    df, _ = read_velocities(p, "csv", columns=cols, units="m/yr")
    assert df.iloc[0][["ve", "vn", "se"]].tolist() == pytest.approx([1.0, 2.0, 0.5])
    with pytest.raises(InputError, match=r"field 'lat' = 'latitude': column not in header"):
        read_velocities(p, "csv", columns={**cols, "lat": "latitude"})
    p.write_text("site,long,lati,E,N,sE,sN\nAAAA,-120,37,x,0.002,0.0005,0.0005\n")
    with pytest.raises(InputError, match=r"v.csv:2: field 've' \(column 'E'\) = 'x'"):
        read_velocities(p, "csv", columns=cols)


def test_duplicate_policies(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("-120 37 1.0 2.0 0.5 0.5 0 AAAA\n-120 37 3.0 2.0 0.5 0.5 0 AAAA\n-121 38 1 1 1 1 0 BBBB\n"
                 "-121 38 1 1 1 1 0 BBBB\n")
    df, _ = read_velocities(p, "unr")
    with pytest.raises(InputError, match="'AAAA': 2 rows with conflicting"):
        resolve_duplicates(df, "error")
    out, c = resolve_duplicates(df, "mean")
    assert out.set_index("name").loc["AAAA", "ve"] == pytest.approx(2.0)
    assert out.set_index("name").loc["AAAA", "se"] == pytest.approx(0.5 / np.sqrt(2))
    assert c == {"identical_rows_merged": 1, "conflicting_stations": 1, "conflicting_rows_removed": 1}
    out, c = resolve_duplicates(df, "drop")
    assert list(out["name"]) == ["BBBB"] and c["conflicting_rows_removed"] == 2
    out, _ = resolve_duplicates(df, "first")
    assert out.set_index("name").loc["AAAA", "ve"] == 1.0


def test_dataset_has_units_and_counts(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text("-120 37 1.0 2.0 0.5 0.5 0.1 AAAA\n")
    df, counts = ingest([{**SOURCE, "path": p, "format": "unr"}])
    ds = to_dataset(df, counts, frame="NA")
    for v in list(ds.data_vars) + list(ds.coords):
        assert "units" in ds[v].attrs and "long_name" in ds[v].attrs
    assert ds.attrs["count_stations"] == 1 and float(ds["rho"][0]) == 0.1
