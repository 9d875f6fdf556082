"""Fault suite: bad inputs fed through the workflow stop with an error naming file, field and value,
and leave no output behind (issue: reliability under bad input)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from tests.conftest import SHARED_DATA, snakemake

GNSS_TARGET = "results/pilm/norcal/velocities.nc"
GOOD_ROWS = [
    "-122.670170 42.180691 -1.420000 6.800000 -1.050000 0.180000 0.130000 0.680000 ASHL",
    "-121.049065 42.406845 -2.560000 4.180000 -0.520000 0.150000 0.150000 0.770000 BLY1",
    "-122.152556 37.919406 -14.690000 17.020000 0.300000 0.180000 0.140000 0.470000 BRIB",
]


def _with_data_dir(workflow_copy, files: dict[str, str]):
    """Point data_dir of the copy at a private folder holding ``files`` (relative path -> text)."""
    data = workflow_copy / "data"
    for rel, text in files.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(text)
    cfg_path = workflow_copy / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["data_dir"] = str(data)
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return data


def _error_line(log: str) -> str:
    """The final ``InputError: ...`` line of a rule log (the message the user reads)."""
    return [line for line in log.splitlines() if line.startswith("sciml.errors.InputError")][-1]


def _no_results(workflow_copy, target):
    out = workflow_copy / target
    assert not out.exists(), f"{target} written despite bad input"
    leftovers = [p for p in (workflow_copy / "results").rglob("*.nc*") if ".tmp" in p.name]
    assert not leftovers, leftovers


@pytest.mark.parametrize(
    ("bad_row", "field", "value"),
    [
        ("-122.0 38.0 abc 6.8 -1.0 0.18 0.13 0.68 BADV", "ve", "abc"),
        ("-122.0 38.0 1.0 nan -1.0 0.18 0.13 0.68 NANV", "vn", "nan"),
        ("-122.0 38.0 1.0 2.0 -1.0 -0.18 0.13 0.68 NEGS", "se", "-0.18"),
    ],
)
def test_malformed_gnss_file_names_file_line_field_and_writes_nothing(workflow_copy, bad_row, field, value):
    rel = "gnss/norcal_stationvels.txt"
    text = "# Format: lon lat VE VN VU SE SN SU name\n" + "\n".join(GOOD_ROWS + [bad_row]) + "\n"
    _with_data_dir(workflow_copy, {rel: text})
    run = snakemake(workflow_copy, "-c1", GNSS_TARGET)
    assert run.returncode != 0
    log = (workflow_copy / "results" / "logs" / "pilm_ingest_norcal.log").read_text()
    message = _error_line(log)
    assert "norcal_stationvels.txt" in message and ":5" in message  # file and line number (header is line 1)
    assert field.lower() in message.lower() and value in message
    _no_results(workflow_copy, GNSS_TARGET)


def test_missing_gnss_columns_are_reported(workflow_copy):
    rel = "gnss/norcal_stationvels.txt"
    _with_data_dir(workflow_copy, {rel: "# lon lat VE\n-122.0 38.0 1.0\n"})
    run = snakemake(workflow_copy, "-c1", GNSS_TARGET)
    assert run.returncode != 0
    log = (workflow_copy / "results" / "logs" / "pilm_ingest_norcal.log").read_text()
    message = _error_line(log)
    assert "norcal_stationvels.txt" in message
    _no_results(workflow_copy, GNSS_TARGET)


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("pilm", ["strain", "knot_spacing_km"], "twenty"),
        ("pilm", ["strain", "poisson"], 0.7),
        ("okada", ["synthetic", "fault", "width"], -5000.0),  # impossible fault geometry
        ("okada", ["synthetic", "fault", "dip"], 200.0),
        ("okada", ["synthetic", "fault", "depth"], -1000.0),  # reference point above the surface
    ],
)
def test_study_config_with_wrong_type_or_range_is_rejected(workflow_copy, section, key, value):
    cfg_path = workflow_copy / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    node = cfg.setdefault(section, {})
    for k in key[:-1]:
        node = node.setdefault(k, {})
    node[key[-1]] = value
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    run = snakemake(workflow_copy, "-n", "all")
    assert run.returncode != 0
    text = run.stdout + run.stderr
    assert f"key '{section}.{'.'.join(key)}'" in text and str(value) in text


def test_corrupted_upstream_netcdf_stops_downstream_rule(workflow_copy):
    """A truncated intermediate NetCDF gives an error naming it, and nothing downstream is written."""
    if (SHARED_DATA / "gnss" / "norcal_stationvels.txt").exists():
        shutil.copy(SHARED_DATA / "gnss" / "norcal_stationvels.txt", workflow_copy / "norcal.txt")
    assert snakemake(workflow_copy, "-c1", GNSS_TARGET).returncode == 0
    nc = workflow_copy / GNSS_TARGET
    data = nc.read_bytes()
    nc.write_bytes(data[: len(data) // 2])
    downstream = "results/pilm/norcal/strain_smoothness.nc"
    run = snakemake(workflow_copy, "-c1", downstream, "--rerun-triggers", "input")
    assert run.returncode != 0
    log = (workflow_copy / "results" / "logs" / "pilm_strain_norcal_smoothness.log").read_text()
    assert "velocities.nc" in log and "not a readable NetCDF" in log
    _no_results(workflow_copy, downstream)
