"""Provenance a reviewer can check with the community's own tools (issue 19):

* every result NetCDF of a small workflow target passes the IOOS compliance checker's CF-1.10 suite with no
  high-priority failure, and so do datasets built to exercise the writer's CF fixes (flags, auxiliary lon/lat,
  depth, 64-bit integers, mixed-unit vectors, a projected grid);
* the Workflow Run RO-Crate of that run loads with ``rocrate``, its actions read with ``runcrate``, it passes
  the RO-Crate validator (``roc-validator``) at REQUIRED level for the Provenance Run Crate 0.5 profile, every
  file's sha256 matches, and every action's inputs trace back to raw data.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import xarray as xr

from tests.conftest import copy_workflow, snakemake

pytest.importorskip("compliance_checker")
TARGETS = ["results/mogi/figures/fit.png", "results/pilm/figures/examples_convergence.png",
           "results/okada/figures/synthetic_maps.png"]


def cf_high_priority(files: list[Path]) -> dict[str, list[str]]:
    """High-priority messages of ``compliance-checker -t cf:1.10`` per file (the IOOS checker's CLI)."""
    out = files[0].parent / "cf_report.json"
    subprocess.run([str(Path(sys.executable).parent / "compliance-checker"), "-t", "cf:1.10", "-f", "json_new",
                    "-o", str(out), *map(str, files)], capture_output=True, text=True, cwd=files[0].parent)
    report = json.loads(out.read_text())
    found = {}
    for f in files:
        entry = report.get(str(f)) or report.get(f.name)
        assert entry is not None, f"no checker report for {f}"
        suite = entry["cf:1.10"]
        found[str(f)] = [f"{c['name']}: {m}" for c in suite["high_priorities"] for m in c["msgs"]]
    return found


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """A workflow copy that ran three small targets (Mogi, PILM 1-D examples, Okada synthetic maps)."""
    work = copy_workflow(tmp_path_factory.mktemp("provenance"))
    run = snakemake(work, "-c2", *TARGETS)
    assert run.returncode == 0, run.stderr[-3000:]
    return work


@pytest.mark.workflow
def test_results_of_a_small_target_pass_the_cf_checker(small_run):
    files = sorted((small_run / "results").rglob("*.nc"))
    assert len(files) >= 4
    failures = {f: m for f, m in cf_high_priority(files).items() if m}
    assert not failures, failures
    ds = xr.open_dataset(files[0])
    assert ds.attrs["Conventions"] == "CF-1.10, ACDD-1.3"
    for key in ("summary", "keywords", "references", "project"):
        assert ds.attrs.get(key), key


def test_writer_makes_awkward_datasets_cf_clean(tmp_path):
    """Flags given as a string, 2-D lon/lat, a depth axis, int64, a mixed-unit parameter vector and a projected
    grid: the writer fixes what it can and the checker finds no high-priority problem."""
    from sciml.io.cf import local_grid_mapping
    from sciml.io.netcdf import write_dataset

    x, y = np.linspace(-50, 50, 6), np.linspace(-40, 40, 5)
    lon, lat = np.meshgrid(-122 + x / 80, 38 + y / 111)
    ds = xr.Dataset(coords={"x": ("x", x, {"units": "km", "long_name": "east"}),
                            "y": ("y", y, {"units": "km", "long_name": "north"}),
                            "depth": ("depth", [0.0, 5.0, 10.0], {"units": "km", "long_name": "depth below surface"}),
                            "step": ("step", np.arange(4, dtype=np.int64), {"units": "1", "long_name": "step"}),
                            "param": ("param", ["depth", "dip"], {"long_name": "parameter"})})
    ds["lon"] = (("y", "x"), lon, {"units": "degrees_east", "long_name": "longitude"})
    ds["lat"] = (("y", "x"), lat, {"units": "degrees_north", "long_name": "latitude"})
    ds["strain"] = (("y", "x"), np.ones((5, 6)), {"units": "1e-9 yr-1", "long_name": "strain rate"})
    # vertices of a triangulated fault: prefixed lon/lat names on non-grid dims (the Tohoku slab outputs)
    ds["tri_lon"] = (("tri", "vertex"), np.full((2, 3), 142.0), {"units": "degrees_east", "long_name": "vertex lon"})
    ds["tri_lat"] = (("tri", "vertex"), np.full((2, 3), 38.0), {"units": "degrees_north", "long_name": "vertex lat"})
    ds["tri_slip"] = ("tri", [1.0, 2.0], {"units": "m", "long_name": "slip"})
    ds["v"] = ("depth", [1.0, 2.0, 3.0], {"units": "km s-1", "long_name": "velocity"})
    ds["phase"] = ("step", np.array([0, 0, 1, 1], dtype=np.int8),
                   {"units": "1", "long_name": "phase", "flag_values": "0 1", "flag_meanings": "adam lbfgs"})
    ds["param_units"] = ("param", ["m", "degree"], {"long_name": "unit of each parameter"})
    ds["estimate"] = ("param", [3000.0, 45.0], {"units_metadata": "see param_units", "long_name": "estimate"})
    ds = local_grid_mapping(ds, -122.0, 38.0)
    out = write_dataset(ds, tmp_path / "awkward.nc", title="CF test")
    back = xr.open_dataset(out)
    assert back["step"].dtype == np.int32 and list(back["phase"].attrs["flag_values"]) == [0, 1]
    assert "lon" in back.coords and back["depth"].attrs["standard_name"] == "depth"
    assert "tri_lon" in back.coords and back["tri_lat"].attrs["standard_name"] == "latitude"
    assert cf_high_priority([out]) == {str(out): []}


def test_writer_refuses_units_udunits_cannot_parse(tmp_path):
    from sciml.io.netcdf import LineageError, write_dataset

    ds = xr.Dataset({"a": ("i", [1.0], {"units": "m per parameter unit", "long_name": "a"})})
    with pytest.raises(LineageError, match="UDUNITS"):
        write_dataset(ds, tmp_path / "bad.nc", title="bad")
    assert not (tmp_path / "bad.nc").exists()


# ------------------------------------------------------------------------------------------------ RO-Crate
def _serve_ro_crate_context():
    """Offline CI: serve the RO-Crate 1.1 JSON-LD context to the validator. It is built from the 1.3 context
    that the rocrate package ships, with the four IRIs that changed between 1.1 and 1.3 (ComputationalWorkflow,
    FormalParameter, input, output; see the Workflow Run Crate changelog) mapped back to their 1.1 values."""
    import requests
    import rocrate
    from rocrate_validator.utils.http import HttpRequester

    ctx = json.loads((Path(rocrate.__file__).parent / "data" / "ro-crate.jsonld").read_text())["@context"]
    ctx = {**ctx, "ComputationalWorkflow": "https://bioschemas.org/ComputationalWorkflow",
           "FormalParameter": "https://bioschemas.org/FormalParameter",
           "input": "https://bioschemas.org/ComputationalWorkflow#input",
           "output": "https://bioschemas.org/ComputationalWorkflow#output"}
    served = {"https://w3id.org/ro/crate/1.1/context": json.dumps({"@context": ctx}).encode()}

    def get(self, url, **kw):
        if url in served:
            r = requests.Response()
            r.status_code, r._content, r.url = 200, served[url], url
            r.headers["Content-Type"] = "application/ld+json"
            return r
        return HttpRequester.__getattr__(self, "get")(url, **kw)

    return mock.patch.object(HttpRequester, "get", get, create=True)


@pytest.mark.workflow
def test_run_crate_validates_with_community_libraries(small_run, tmp_path):
    from rocrate.rocrate import ROCrate
    from rocrate_validator import services
    from runcrate.report import dump_crate_actions

    from sciml.io.crate import check_crate

    out = small_run / "results" / "crate"
    run = subprocess.run([sys.executable, "-m", "sciml", "crate", *TARGETS, "--out", str(out), "--check"],
                         cwd=small_run, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    crate = ROCrate(out)
    assert "ComputationalWorkflow" in crate.mainEntity.type
    actions = [e for e in crate.contextual_entities if "CreateAction" in e.type]
    assert len(actions) >= 6  # the workflow run and one per rule execution
    report = io.StringIO()
    dump_crate_actions(crate, f=report)
    assert "mogi.invert" in report.getvalue() and "inputs:" in report.getvalue()
    # every result file of the run is a data entity whose checksum matches
    ids = {e.id: e for e in crate.data_entities}
    for f in (small_run / "results").rglob("*.nc"):
        rel = str(f.relative_to(small_run))
        if "crate" not in rel:
            assert rel in ids, rel
    assert check_crate(out) == []
    with _serve_ro_crate_context():
        result = services.validate({"rocrate_uri": str(out), "profile_identifier": "provenance-run-crate-0.5",
                                    "requirement_severity": "REQUIRED", "offline": True})
    assert result.passed(), [(i.check.name, i.message) for i in result.get_issues()]
    # a changed result breaks the checksum check
    victim = out / "results" / "mogi" / "estimate.nc"
    data = victim.read_bytes()
    victim.unlink()
    victim.write_bytes(data[:-10] + b"0123456789")
    assert any("sha256 mismatch" in p for p in check_crate(out))
    shutil.rmtree(out)
