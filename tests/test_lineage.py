"""Unit tests of the lineage contract (sciml.io.netcdf): round trip, checksums, atomic writes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from sciml.errors import InputError
from sciml.io import netcdf as nc


def _dataset(values=None) -> xr.Dataset:
    x = np.linspace(0.0, 1.0, 5)
    v = np.sin(x) if values is None else values
    return xr.Dataset(
        {"u": ("x", v, {"units": "m", "long_name": "displacement"})},
        coords={"x": ("x", x, {"units": "km", "long_name": "distance"})},
    )


def test_round_trip_preserves_data_attributes_and_provenance(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("1 2 3\n")
    prov = nc.build_provenance(rule="demo", inputs=[raw], params={"cfg": {"n": 5}}, seed=7)
    out = nc.write_dataset(_dataset(), tmp_path / "a.nc", title="demo", provenance=prov)
    ds = nc.read_dataset(out, required=["u"])
    np.testing.assert_array_equal(ds.u.values, np.sin(np.linspace(0, 1, 5)))
    assert ds.u.attrs["units"] == "m" and ds.x.attrs["long_name"] == "distance"
    for key in nc.REQUIRED_GLOBAL_ATTRS:
        assert key in ds.attrs
    back = nc.read_provenance(out)
    assert back["rule"] == "demo" and back["seed"] == 7 and back["params"] == {"cfg": {"n": 5}}
    assert back["inputs"][0]["sha256"] == nc.sha256(raw)
    assert set(nc.PROVENANCE_KEYS) <= set(back)
    assert back["versions"]["numpy"] == np.__version__
    assert nc.validate_file(out) == []


def test_sha256_matches_hashlib_reference(tmp_path):
    import hashlib

    p = tmp_path / "f.bin"
    p.write_bytes(b"abc" * 1000)
    assert nc.sha256(p) == hashlib.sha256(b"abc" * 1000).hexdigest()


def test_lineage_tree_follows_inputs_and_flags_changed_checksum(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("data\n")
    a = nc.write_dataset(_dataset(), tmp_path / "a.nc", title="a",
                         provenance=nc.build_provenance(rule="ingest", inputs=[raw]))
    b = nc.write_dataset(_dataset(), tmp_path / "b.nc", title="b",
                         provenance=nc.build_provenance(rule="fit", inputs=[a]))
    tree = nc.lineage_tree(b)
    assert tree["rule"] == "fit"
    assert tree["inputs"][0]["rule"] == "ingest"
    assert tree["inputs"][0]["inputs"][0]["rule"] == "(raw input)"
    assert not nc.tree_has_problems(tree)
    raw.write_text("tampered\n")
    tree = nc.lineage_tree(b)
    assert tree["inputs"][0]["inputs"][0]["status"] == "changed"
    assert nc.tree_has_problems(tree)
    assert "CHECKSUM CHANGED" in nc.format_tree(tree)
    assert any("sha256 mismatch" in p for p in nc.validate_file(a))


def test_cli_lineage_and_describe(tmp_path):
    raw = tmp_path / "raw.txt"
    raw.write_text("x\n")
    a = nc.write_dataset(_dataset(), tmp_path / "a.nc", title="a",
                         provenance=nc.build_provenance(rule="ingest", inputs=[raw]))
    run = subprocess.run([sys.executable, "-m", "sciml", "lineage", str(a)], capture_output=True, text=True)
    assert run.returncode == 0 and "ingest" in run.stdout and "raw.txt" in run.stdout
    run = subprocess.run([sys.executable, "-m", "sciml", "describe", str(a)], capture_output=True, text=True)
    assert run.returncode == 0 and "displacement" in run.stdout and "[m]" in run.stdout
    raw.write_text("y\n")
    run = subprocess.run([sys.executable, "-m", "sciml", "lineage", str(a)], capture_output=True, text=True)
    assert run.returncode == 1 and "CHECKSUM CHANGED" in run.stdout


def test_atomic_write_leaves_nothing_on_exception(tmp_path, monkeypatch):
    target = tmp_path / "out.nc"
    nc.write_dataset(_dataset(), target, title="first")
    before = nc.sha256(target)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        nc.write_dataset(_dataset(np.zeros(5)), target, title="second")
    assert nc.sha256(target) == before  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc"]  # no temporary left


def test_missing_units_is_rejected_before_writing(tmp_path):
    ds = xr.Dataset({"u": ("x", np.zeros(3), {"long_name": "u"})})
    with pytest.raises(nc.LineageError, match="u: missing units"):
        nc.write_dataset(ds, tmp_path / "bad.nc", title="bad")
    assert not (tmp_path / "bad.nc").exists()


def test_corrupted_netcdf_gives_input_error_naming_file(tmp_path):
    good = nc.write_dataset(_dataset(), tmp_path / "good.nc", title="g")
    data = good.read_bytes()
    bad = tmp_path / "truncated.nc"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="truncated.nc"):
        nc.read_dataset(bad)
    with pytest.raises(InputError, match="missing required variable"):
        nc.read_dataset(good, required=["nope"])
    with pytest.raises(InputError, match="file not found"):
        nc.read_dataset(tmp_path / "absent.nc")


def test_writes_are_deterministic_apart_from_time(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    nc.write_dataset(_dataset(), tmp_path / "1.nc", title="t")
    nc.write_dataset(_dataset(), tmp_path / "2.nc", title="t")
    p1, p2 = nc.read_provenance(tmp_path / "1.nc"), nc.read_provenance(tmp_path / "2.nc")
    assert p1 == p2 and p1["created"] == "2023-11-14T22:13:20Z"
    d1, d2 = nc.read_dataset(tmp_path / "1.nc"), nc.read_dataset(tmp_path / "2.nc")
    assert d1.identical(d2)


def test_figure_provenance_in_png(tmp_path):
    from sciml.plots import new_figure, save_figure

    fig, ax = new_figure()
    ax[0, 0].plot([0, 1], [0, 1])
    prov = nc.build_provenance(rule="plot", params={"a": 1})
    out = save_figure(fig, tmp_path / "f.png", provenance=prov)
    assert nc.read_provenance(out)["rule"] == "plot"
    assert json.loads(json.dumps(nc.read_provenance(out)))["params"] == {"a": 1}


def test_lineage_resolves_relative_inputs_from_another_directory(tmp_path, monkeypatch):
    """Rules record paths relative to the workflow's directory; the tree is found from anywhere."""
    run_dir = tmp_path / "run"
    (run_dir / "results").mkdir(parents=True)
    monkeypatch.chdir(run_dir)
    a = nc.write_dataset(_dataset(), "results/a.nc", title="a", provenance=nc.build_provenance(rule="first"))
    nc.write_dataset(_dataset(), "results/b.nc", title="b",
                     provenance=nc.build_provenance(rule="second", inputs=[a]))
    monkeypatch.chdir(tmp_path)
    tree = nc.lineage_tree(run_dir / "results" / "b.nc")
    assert tree["inputs"][0]["rule"] == "first" and tree["inputs"][0]["status"] == "ok"
    assert nc.validate_file(run_dir / "results" / "b.nc") == []
