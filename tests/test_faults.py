"""Fault suite: nothing wrong is ever silently accepted (issue 20, the input contract).

Malformed or implausible inputs across every reader, the configuration and the command line stop with an error
naming the file (or config key), the line, the field and the value, and write nothing. Most cases call the
readers, :func:`sciml.config.load` and :func:`sciml.studies.run.run_step` directly (fast); a few run Snakemake
(parse-time checks by dry run; one failing and one passing job for the console and file contracts).
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import stat
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from sciml import config as C
from sciml.__main__ import main as cli
from sciml.errors import InputError
from sciml.io.netcdf import read_dataset, write_dataset
from sciml.studies import get_step
from sciml.studies.run import run_step
from tests.conftest import SHARED_DATA, snakemake

GOOD_ROWS = [
    "-122.670170 42.180691 -1.420000 6.800000 -1.050000 0.180000 0.130000 0.680000 ASHL",
    "-121.049065 42.406845 -2.560000 4.180000 -0.520000 0.150000 0.150000 0.770000 BLY1",
    "-122.152556 37.919406 -14.690000 17.020000 0.300000 0.180000 0.140000 0.470000 BRIB",
]
NORCAL_HEADER = "# Format: lon lat VE VN VU SE SN SU name\n"
PARKFIELD_HEADER = "id Site Lon_deg Lat_deg De_cm Dn_cm Dup_cm\n"
PARKFIELD_ROWS = ["1 CAND 239.566 35.939 2.1 -4.2 -0.1", "2 CARH 239.569 35.888 1.1 -1.2 -0.1",
                  "3 CRBT 239.249 35.791 -0.3 0.0 -0.1"]


# ------------------------------------------------------------------------------------------------- helpers
def _config(*overrides: str) -> dict:
    return C.load([C.DEFAULT_CONFIG], list(overrides))


def _config_error(*overrides: str) -> str:
    with pytest.raises(C.ConfigError) as exc:
        _config(*overrides)
    return str(exc.value)


def _names(msg: str, *parts) -> None:
    """The message names every part (file, line, field, value or key)."""
    for p in parts:
        assert str(p) in msg, f"{p!r} not in {msg!r}"


def _nothing_written(folder) -> None:
    left = [p for p in folder.rglob("*") if p.is_file()]
    assert not left, f"written despite bad input: {left}"


def _step_fails(name, cfg, inputs, tmp_path, *parts, wildcards=None) -> str:
    """Run step ``name`` into ``tmp_path/out``; it must raise InputError naming ``parts`` and write nothing."""
    step = get_step(name)
    out = tmp_path / "out"
    outputs = {p.name: str(out / f"{p.name}.nc") if not p.many else [] for p in step.outputs}
    with pytest.raises(InputError) as exc:
        run_step(name, cfg, seed=1, inputs=inputs, outputs=outputs, checkpoints=tmp_path / "ck")
    msg = str(exc.value)
    _names(msg, *parts)
    if out.exists():
        _nothing_written(out)
    return msg


def _ingest_cfg(path, fmt="norcal", **extra) -> dict:
    ds = C.defaults("pilm")["datasets"]["norcal"]
    src = {"path": str(path), "format": fmt, "columns": None, "units": "mm/yr", "plate_rotation": None}
    src.update({k: v for k, v in extra.items() if k in ("columns", "units", "plate_rotation")})
    return {**ds, "sources": [src], **{k: v for k, v in extra.items() if k in ("duplicates", "bad_rows")}}


def _gnss_fails(tmp_path, text, *parts, fmt="norcal", name="v.txt", **extra) -> str:
    p = tmp_path / name
    p.write_bytes(text) if isinstance(text, bytes) else p.write_text(text)
    return _step_fails("pilm.ingest", _ingest_cfg(p, fmt, **extra), {"sources": [str(p)]}, tmp_path, p.name, *parts)


# =========================================================================================== configuration
@pytest.mark.parametrize(("override", "key", "hint"), [
    ("devise=cpu", "(top level)", "device"),
    ("seeed=1", "(top level)", "seed"),
    ("okada.synthetic.stations.half_widht_m=3", "okada.synthetic.stations", "half_width_m"),
    ("okada.nuu=0.25", "okada", "nu"),
    ("pilm.strain.knot_spacing=20", "pilm.strain", "knot_spacing_km"),
    ("pilm.datasets.norcal.sorces=[]", "pilm.datasets.norcal", "sources"),
    ("pinn.fault.train.adam_step=10", "pinn.fault.train", "adam_steps"),
    ("operators.darcy.n_trian=10", "operators.darcy", "n_train"),
    ("bayes.tomography.hmc.chain=2", "bayes.tomography.hmc", "chains"),
    ("mogi.stations.nn=3", "mogi.stations", "n"),
    ("plausible.gnss_velocty=[0, 1]", "plausible", "gnss_velocity"),
])
def test_unknown_config_key_is_refused_with_a_suggestion(override, key, hint):
    msg = _config_error(override)
    _names(msg, f"key {key!r}", "unknown key", f"did you mean {hint!r}")


def test_every_section_of_every_schema_refuses_unknown_keys():
    """A bogus key injected at every mapping of the completed default config is refused, naming its place
    (free maps whose keys are names: loss-term weights are checked by the trainer against the loss terms)."""
    import copy

    cfg = _config()
    free = ("weights",)
    accepted = []

    def nodes(d, path):
        if isinstance(d, dict):
            yield path
            for k, v in d.items():
                yield from nodes(v, path + [k])

    for path in nodes(cfg, []):
        if path and path[-1] in free:
            continue
        c = copy.deepcopy(cfg)
        node = c
        for k in path:
            node = node[k]
        node["zq_bogus"] = 1
        try:
            C.complete(c)
            accepted.append(".".join(map(str, path)))
        except C.ConfigError as exc:
            assert "zq_bogus" in str(exc), str(exc)
    assert not accepted, accepted


@pytest.mark.parametrize(("override", "key", "value"), [
    ("seed=-1", "seed", "-1"),
    ("dtype=float16", "dtype", "float16"),
    ("device=gpu", "device", "gpu"),
    ("pilm.strain.poisson=0.7", "pilm.strain.poisson", "0.7"),
    ("pilm.strain.knot_spacing_km=twenty", "pilm.strain.knot_spacing_km", "twenty"),
    ("okada.synthetic.fault.dip=200", "okada.synthetic.fault.dip", "200"),
    ("okada.invert.hmc.chains=0", "okada.invert.hmc.chains", "0"),
    ("pinn.fault.train.adam_steps=1e9", "pinn.fault.train.adam_steps", "1e9"),  # YAML: a string, not a number
    ("bayes.darcy.grid.n=2", "bayes.darcy.grid.n", "2"),
    ("memory_budget_gb=-1", "memory_budget_gb", "-1"),
    ("synthetic_fallback=maybe", "synthetic_fallback", "maybe"),
    ("plausible.gnss_velocity=[1]", "plausible.gnss_velocity", "list"),
])
def test_config_value_of_wrong_type_or_range_names_key_and_value(override, key, value):
    _names(_config_error(override), f"key {key!r}", value)


@pytest.mark.parametrize(("overrides", "keys"), [
    (["okada.slip.synthetic.patches.n_strike=500", "okada.slip.synthetic.patches.n_dip=500"],
     ["okada.slip.synthetic.patches.n_strike", "okada_slip_synthetic"]),
    (["pilm.strain.grid.n=2000"], ["pilm.strain.grid.n", "pilm_strain_norcal"]),
    (["okada.invert.hmc.chains=256", "okada.invert.hmc.draws=1000000"], ["okada.invert.hmc.draws"]),
    (["okada.synthetic.map.n=2000"], ["okada.synthetic.map.n", "okada_synthetic"]),
    (["bayes.tomography.svgd.particles=1000000"], ["bayes.tomography.svgd.particles"]),
    (["operators.darcy.n_fine=1024"], ["operators.darcy.n_fine"]),
    (["pinn.fault.n_interior=100000000"], ["pinn.fault.n_interior"]),
    (["bayes.tomography.grid.n=100000"], ["bayes.tomography.grid.n"]),
])
def test_absurd_sizes_fail_before_work_naming_key_and_memory(overrides, keys):
    msg = _config_error(*overrides)
    _names(msg, *keys, "GiB", "per-rule memory budget")


@pytest.mark.parametrize(("override", "key"), [
    ("pinn.fault.train.adam_steps=1000000000", "pinn.fault.train.adam_steps"),
    ("bayes.darcy.pcn.draws=100000000", "bayes.darcy.pcn.draws"),
    ("operators.darcy.steps.fno=100000000", "operators.darcy.steps.fno"),
])
def test_absurd_iteration_counts_are_refused(override, key):
    _names(_config_error(override), f"key {key!r}", "iterations")


def test_memory_budget_is_stated_and_configurable():
    """The budget is memory_budget_gb (or half this machine's memory); a tiny one names the largest rule."""
    assert C.memory_budget(_config()) == C.machine_memory() // 2
    assert C.memory_budget(_config("memory_budget_gb=2")) == 2 << 30
    _names(_config_error("memory_budget_gb=0.001"), "memory_budget_gb", "MiB")


def test_device_cuda_without_cuda_fails_at_validation():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    _names(_config_error("device=cuda"), "key 'device'", "cuda", "CUDA is not available")
    C.complete({"device": "cuda"}, device_check=False)  # a cluster head node plans GPU jobs without a GPU


@pytest.mark.parametrize(("text", "parts"), [
    ("seed: [1\n", ["line 2", "not valid YAML"]),
    ("- a\n- b\n", ["top level must be a mapping"]),
])
def test_malformed_config_file_names_file_and_line(tmp_path, text, parts):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    with pytest.raises(C.ConfigError) as exc:
        C.load([p])
    _names(str(exc.value), "c.yaml", *parts)


def test_missing_config_file_and_bad_override_are_named(tmp_path):
    with pytest.raises(C.ConfigError, match="nope.yaml: config file not found"):
        C.load([tmp_path / "nope.yaml"])
    with pytest.raises(C.ConfigError, match="expected KEY=VALUE"):
        C.load([C.DEFAULT_CONFIG], ["seed"])


# ------------------------------------------------------------------------------------ real-data files
def _data_config(tmp_path, **over) -> dict:
    """Completed default config whose data_dir is a private folder holding the norcal file only."""
    data = tmp_path / "data"
    (data / "gnss").mkdir(parents=True, exist_ok=True)
    (data / "gnss" / "norcal_stationvels.txt").write_text(NORCAL_HEADER + "\n".join(GOOD_ROWS) + "\n")
    cfg = _config(f"data_dir={data}")
    for k, v in over.items():
        C.set_key(cfg, k.split("."), v)
    return cfg


@pytest.mark.parametrize(("key", "value"), [
    ("pilm.datasets.norcal.sources", [{"path": "gnss/norcal_stationvel.txt", "format": "norcal"}]),
    ("okada.parkfield.gps", "coseismic/parkfield.txt"),
    ("okada.slip.tohoku.gps", "coseismic/tohoku.txt"),
    ("pinn.calaveras.phase_file", "picks/calaveras/typo.pha"),
    ("operators.wave.marmousi.file", "marmousi/typo.bin"),
    ("operators.neuralop.files.train", "darcy_neuralop/typo.npz"),
    ("bayes.tomography.picks", "picks/mine.csv"),
    ("bayes.tomography.synthetic.model", "velocity_models/typo.tvel"),
])
def test_a_data_file_you_named_must_exist(tmp_path, key, value):
    """Any real-data key not at its default must name an existing file: the error names the key, the value
    and the resolved path, even with synthetic_fallback on (case 1 of the issue: no silent synthetic data)."""
    cfg = _data_config(tmp_path)
    C.set_key(cfg, key.split("."), value)
    with pytest.raises(C.ConfigError) as exc:
        C.check_data(cfg)
    path = value[0]["path"] if isinstance(value, list) else value
    _names(str(exc.value), "key ", path, "file not found", str(tmp_path / "data" / path))


def test_a_user_named_dataset_without_files_is_an_error(tmp_path):
    cfg = C.complete(_data_config(tmp_path, **{"pilm.datasets.mine": {
        "sources": [{"path": "gnss/mine.csv", "format": "csv"}]}}))
    with pytest.raises(C.ConfigError) as exc:
        C.check_data(cfg)
    _names(str(exc.value), "pilm.datasets.mine.sources[0].path", "gnss/mine.csv", "file not found")


def test_wrong_data_dir_is_an_error(tmp_path):
    cfg = _config(f"data_dir={tmp_path / 'nowhere'}")
    with pytest.raises(C.ConfigError) as exc:
        C.check_data(cfg)
    _names(str(exc.value), "key 'data_dir'", "nowhere", "folder not found")


def test_default_files_absent_fall_back_visibly_only_when_the_config_says_so(tmp_path):
    """A fresh clone (default data_dir absent): with synthetic_fallback the default inputs become synthetic
    (the key set to its no-file value, so the step's parameters record it) or their case is left out, each
    with a note; without it, the first missing file is an error."""
    cfg = C.complete({"synthetic_fallback": True, "data_dir": "../shared/data"})
    notes = C.check_data(cfg, base=tmp_path / "clone")
    assert cfg["pilm"]["datasets"]["norcal"]["sources"] == []
    assert cfg["operators"]["wave"]["marmousi"]["file"] is None
    assert any("pilm.datasets.norcal.sources" in n and "synthetic" in n for n in notes)
    assert any("okada.parkfield.gps" in n and "left out" in n for n in notes)
    with pytest.raises(C.ConfigError, match="key 'data_dir'"):
        C.check_data(C.complete({"data_dir": "../shared/data"}), base=tmp_path / "clone")


def test_pilm_ingest_synthetic_only_when_sources_empty_and_recorded(tmp_path):
    cfg = C.defaults("pilm")["datasets"]["norcal"]
    _step_fails("pilm.ingest", cfg, {"sources": []}, tmp_path, "sources", "gnss/norcal_stationvels.txt",
                "sources: []")
    out = tmp_path / "vel.nc"
    run_step("pilm.ingest", {**cfg, "sources": []}, seed=1, inputs={"sources": []}, outputs={"nc": str(out)})
    assert read_dataset(out).attrs["data_source"] == "synthetic"


def test_marmousi_configured_but_not_given_is_an_error(tmp_path):
    cfg = get_step("operators.wave_data").slice(_config())
    _step_fails("operators.wave_data", cfg, {"marmousi_vp": []}, tmp_path, "marmousi", "file", "file: null")


def test_every_schema_data_key_is_known_to_the_data_check():
    """Keys documented as files under/relative to data_dir are all in sciml.config.DATA_FILES."""
    from fnmatch import fnmatch

    found = []

    def walk(node, path):
        if isinstance(node, dict):
            d = str(node.get("description", ""))
            if "data_dir" in d and path and path[-1] not in ("data_dir",) and node.get("type") != "object":
                found.append(".".join(path))
            for k, v in node.get("properties", {}).items():
                walk(v, path + [k])

    for sec in C.sections():
        walk(C.schema(sec), [sec])
    missing = [k for k in found if not any(fnmatch(k, pat) or fnmatch(k, pat.removesuffix(".*")) for pat in C.DATA_FILES)]
    assert not missing, missing


# ============================================================================================ GNSS readers
@pytest.mark.parametrize(("bad_row", "field", "value"), [
    ("-122.0 38.0 abc 6.8 -1.0 0.18 0.13 0.68 BADV", "ve", "abc"),
    ("-122.0 38.0 1.0 nan -1.0 0.18 0.13 0.68 NANV", "vn", "nan"),
    ("-122.0 38.0 1.0 2.0 -1.0 -0.18 0.13 0.68 NEGS", "se", "-0.18"),
    ("-122.0 95.0 1.0 2.0 -1.0 0.18 0.13 0.68 LAT9", "lat", "95.0"),
    ("-522.0 38.0 1.0 2.0 -1.0 0.18 0.13 0.68 LONX", "lon", "-522.0"),
    ("-122.0 38.0 1e9 2.0 -1.0 0.18 0.13 0.68 HUGE", "ve", "1000000000.0"),
    ("-122.0 38.0 1.0 2.0 -1.0 0.18 0.0 0.68 ZERO", "sn", "0.0"),
    ("-122.0 38.0 1.0 2.0 -1.0 0.18", "columns", "6"),
])
def test_malformed_norcal_row_names_file_line_field_value(tmp_path, bad_row, field, value):
    _gnss_fails(tmp_path, NORCAL_HEADER + "\n".join(GOOD_ROWS + [bad_row]) + "\n", ":5", repr(field)[1:-1], value)


@pytest.mark.parametrize(("fmt", "row", "field", "value"), [
    ("unr", "-120.0 37.0 1.0 2.0 0.5 0.5 1.5 AAAA", "rho", "1.5"),
    ("unr", "-120.0 37.0 1.0 x 0.5 0.5 0 AAAA", "vn", "x"),
    ("cmm4", "AAAA -120.0 37.0 1.0 -0.5 2.0 0.5 0.1", "se", "-0.5"),
    ("cmm4", "AAAA -120.0 37.0 5000 0.5 2.0 0.5 0.1", "ve", "5000"),
    ("midas", "AAAA -120.0 37.0 1.0 2.0 0.5 inf 1 10", "sn", "inf"),
    ("midas", "AAAA -120.0 99.0 1.0 2.0 0.5 0.5 1 10", "lat", "99.0"),
])
def test_malformed_row_of_other_formats(tmp_path, fmt, row, field, value):
    _gnss_fails(tmp_path, row + "\n", ":1", field, value, fmt=fmt)


def test_pbo_file_without_header_line_is_named(tmp_path):
    _gnss_fails(tmp_path, "just text\n", "header", "not a PBO", fmt="pbo")


CSV_COLS = {"name": "site", "lon": "long", "lat": "lati", "ve": "E", "vn": "N", "se": "sE", "sn": "sN"}


@pytest.mark.parametrize(("text", "extra", "parts"), [
    # mm/yr data declared m/yr: x1000, implausible (issue case 2)
    ("site,long,lati,E,N,sE,sN\nAAAA,-120,37,12.5,3.1,0.5,0.5\n", {"units": "m/yr"},
     [":2", "'ve'", "12500.0", "implausible", "wrong units"]),
    ("site,long,lati,E,N,sE,sN\nAAAA,-120,37,x,3.1,0.5,0.5\n", {}, [":2", "'ve'", "column 'E'", "'x'"]),
    ("site,long,lati,E,N,sE\nAAAA,-120,37,1,3.1,0.5\n", {}, ["'sn'", "'sN'", "column not in header"]),
    ("site,long,lati,E,N,sE,sN\nAAAA,-120,137,1,3.1,0.5,0.5\n", {}, [":2", "'lat'", "137"]),
    ("site,long,lati,E,N,sE,sN\n", {}, ["rows", "no valid velocity rows"]),
])
def test_csv_reader_errors(tmp_path, text, extra, parts):
    _gnss_fails(tmp_path, text, *parts, fmt="csv", name="v.csv", columns=CSV_COLS, **extra)


def test_csv_without_column_mapping_uses_the_documented_field_names(tmp_path):
    """The columns of docs/own-data.md: name, lon, lat, ve, vn, se, sn[, rho] in mm/yr."""
    p = tmp_path / "mine.csv"
    p.write_text("name,lon,lat,ve,vn,se,sn\nAAAA,-120,37,1.5,2.5,0.5,0.6\nBBBB,-121,38,1,2,0.5,0.5\n")
    out = tmp_path / "vel.nc"
    run_step("pilm.ingest", _ingest_cfg(p, "csv"), seed=1, inputs={"sources": [str(p)]}, outputs={"nc": str(out)})
    ds = read_dataset(out)
    assert ds.sizes["station"] == 2 and ds.attrs["data_source"] == "files"
    assert float(ds["ve"][0]) == 1.5 and ds["ve"].attrs["units"] == "mm yr-1"


@pytest.mark.parametrize(("content", "parts"), [
    (gzip.compress(b"-120 37 1 2 0.5 0.5 0 AAAA\n"), ["gzip-compressed", "decompress"]),
    (b"\x00\x01\x02binary\xff\xfe", ["binary", "NUL byte"]),
    (b"\x89HDF\r\n\x1a\n rest", ["NetCDF-4/HDF5", "plain velocity file"]),
    (b"", ["rows", "no valid velocity rows"]),
])
def test_binary_gzip_or_empty_gnss_file_is_named(tmp_path, content, parts):
    _gnss_fails(tmp_path, content, *parts, fmt="unr")


def test_gzip_csv_is_named(tmp_path):
    _gnss_fails(tmp_path, gzip.compress(b"name,lon\n"), "gzip-compressed", fmt="csv", name="v.csv.gz")


def test_missing_velocity_file_is_named(tmp_path):
    p = tmp_path / "absent.txt"
    _step_fails("pilm.ingest", _ingest_cfg(p), {"sources": [str(p)]}, tmp_path, "absent.txt", "not found")


def test_conflicting_duplicate_station_is_an_error_and_identical_ones_are_counted(tmp_path):
    rows = GOOD_ROWS + [GOOD_ROWS[0].replace("-1.420000", "-3.000000")]
    _gnss_fails(tmp_path, NORCAL_HEADER + "\n".join(rows) + "\n", "ASHL", "conflicting", "duplicates")
    p = tmp_path / "same.txt"
    p.write_text(NORCAL_HEADER + "\n".join(GOOD_ROWS + [GOOD_ROWS[0]]) + "\n")
    out = tmp_path / "vel.nc"
    run_step("pilm.ingest", _ingest_cfg(p), seed=1, inputs={"sources": [str(p)]}, outputs={"nc": str(out)})
    ds = read_dataset(out)
    assert ds.attrs["count_rows"] == 4 and ds.attrs["count_identical_rows_merged"] == 1 and ds.sizes["station"] == 3


def test_dropped_rows_are_counted_in_attributes_and_log(tmp_path, caplog):
    p = tmp_path / "v.txt"
    p.write_text(NORCAL_HEADER + "\n".join(GOOD_ROWS + ["-122.0 38.0 abc 6.8 -1.0 0.18 0.13 0.68 BADV"]) + "\n")
    out = tmp_path / "vel.nc"
    with caplog.at_level(logging.WARNING):
        run_step("pilm.ingest", _ingest_cfg(p, bad_rows="drop"), seed=1, inputs={"sources": [str(p)]},
                 outputs={"nc": str(out)})
    assert read_dataset(out).attrs["count_bad_rows_dropped"] == 1 and "v.txt:5" in caplog.text


def test_region_without_stations_is_named(tmp_path):
    p = tmp_path / "v.txt"
    p.write_text(NORCAL_HEADER + "\n".join(GOOD_ROWS) + "\n")
    cfg = {**_ingest_cfg(p), "region": {"lon_min": 0.0, "lon_max": 1.0, "lat_min": 0.0, "lat_max": 1.0}}
    _step_fails("pilm.ingest", cfg, {"sources": [str(p)]}, tmp_path, "region", "no stations inside")


def test_one_unit_parser_for_readers_and_the_cf_writer():
    """sciml.units owns unit parsing (cf_units/UDUNITS); the CF checks of sciml.io.cf call it."""
    from sciml import units
    from sciml.io import cf

    assert cf.valid_units("mm yr-1") and not cf.valid_units("bananas") and units.valid("m/yr")
    assert units.convertible("km", "m") and not units.convertible("s", "m") and not units.convertible("x", "m")
    assert units.factor("m/yr", "mm yr-1", where="f", field="ve") == 1000.0
    assert units.factor("ms", "s", where="f", field="t") == 1e-3


def test_plausible_bounds_are_configurable(tmp_path):
    """Volcano or landslide sites faster than 1 m/yr pass with wider bounds (config key plausible)."""
    from sciml.gnss.readers import read_velocities
    from sciml.units import plausible_bounds

    p = tmp_path / "fast.txt"
    p.write_text("-120.0 37.0 1500.0 2.0 0.5 0.5 0 FAST\n")
    with pytest.raises(InputError, match="plausible.gnss_velocity"):
        read_velocities(p, "unr")
    with plausible_bounds({"gnss_velocity": [-5000, 5000]}):
        df, _ = read_velocities(p, "unr")
    assert float(df["ve"][0]) == 1500.0


# ====================================================================================== coseismic offsets
def _parkfield(tmp_path, rows, fault=True):
    gps = tmp_path / "gps.txt"
    gps.write_bytes(rows) if isinstance(rows, bytes) else gps.write_text(PARKFIELD_HEADER + "\n".join(rows) + "\n")
    f = tmp_path / "fault.txt"
    src = SHARED_DATA / "coseismic" / "parkfield_2004" / "fault_params_srcmod_custodio2005.txt"
    if fault is True and src.exists():
        shutil.copy(src, f)
    else:
        f.write_text(fault if isinstance(fault, str) else "hypo_lat 35.8\n")
    return gps, f


def _parkfield_fails(tmp_path, rows, *parts, fault=True):
    gps, f = _parkfield(tmp_path, rows, fault)
    cfg = get_step("okada.invert_parkfield").slice(_config())
    return _step_fails("okada.invert_parkfield", cfg, {"gps": str(gps), "fault": str(f)}, tmp_path, *parts)


@pytest.mark.parametrize(("row", "parts"), [
    ("4 LAT9 239.5 95.0 1.0 1.0 0.0", ["gps.txt:5", "'lat'", "95.0"]),  # issue case 7: Parkfield latitude 95
    ("4 BADN 239.5 35.9 abc 1.0 0.0", ["gps.txt", "line 5", "'east'", "abc"]),
    ("4 NANE 239.5 35.9 1.0 nan 0.0", ["gps.txt", "line 5", "'north'", "nan"]),
    ("4 HUGE 239.5 35.9 1.0 1.0 50000", ["gps.txt:5", "'up'", "implausible coseismic offset"]),
    ("4 SHRT 239.5 35.9", ["gps.txt", "line 5", "expected 7 columns"]),
    ("4 CAND 239.566 35.939 9.9 -4.2 -0.1", ["gps.txt:5", "'site'", "CAND", "first at", "gps.txt:2"]),
])
def test_parkfield_offsets_errors_name_line_field_value(tmp_path, row, parts):
    _parkfield_fails(tmp_path, PARKFIELD_ROWS + [row], *parts)


def test_duplicated_coseismic_site_is_not_inverted_twice(tmp_path):
    """Issue case 5: an identical repeated site is merged once (counted); a conflicting one is an error."""
    from sciml.okada.data import read_parkfield_gps

    gps, _ = _parkfield(tmp_path, PARKFIELD_ROWS + [PARKFIELD_ROWS[0].replace("1 CAND", "4 CAND")])
    ds = read_parkfield_gps(gps)
    assert ds.sizes["station"] == 3 and ds.attrs["count_identical_rows_merged"] == 1 and ds.attrs["count_rows"] == 4


def test_parkfield_fault_header_missing_fields_is_named(tmp_path):
    _parkfield_fails(tmp_path, PARKFIELD_ROWS, "fault.txt", "missing fields", "length_km", fault="hypo_lat 35.8\n")


def test_gzip_coseismic_file_is_named(tmp_path):
    _parkfield_fails(tmp_path, gzip.compress(b"1 CAND 239 35 1 1 1\n"), "gps.txt", "gzip-compressed")


@pytest.mark.parametrize(("row", "parts"), [
    ("5 32.6694 128.8431 95.2 138.0 0.18 0.03 0.00", ["t.txt:2", "'lat'", "95.2"]),
    ("5 32.6694 128.8431 36.2 138.0 x 0.03 0.00", ["t.txt", "line 2", "'east'", "x"]),
    ("6 32.0 128.8431 36.2 138.0 0.1 0.03 0.00", ["t.txt", "lat_ref", "not constant"]),
])
def test_geonet_offsets_errors(tmp_path, row, parts):
    from sciml.okada.data import read_geonet_ozawa

    p = tmp_path / "t.txt"
    p.write_text("5 32.6694 128.8431 36.2008 138.0592 0.183 0.0339 0.0026\n" + row + "\n")
    with pytest.raises(InputError) as exc:
        read_geonet_ozawa(p)
    _names(str(exc.value), *parts)


# ============================================================================================ hypoDD picks
PHASE_HEADER = "# 2004 1 1 0 0 0.0 37.3 -121.7 8.0 1.5 0.1 0.2 0.05 1\n"
STATIONS = "AAA 37.30 -121.60 100\nBBB 37.40 -121.70\n"


def _hypodd(tmp_path, phase: str | bytes, stations: str = STATIONS):
    pha, sel = tmp_path / "x.pha", tmp_path / "station.sel"
    pha.write_bytes(phase) if isinstance(phase, bytes) else pha.write_text(phase)
    sel.write_text(stations)
    return pha, sel


@pytest.mark.parametrize(("phase", "parts"), [
    (PHASE_HEADER + "AAA 1.5 1.0 X\n", ["line 2", "'phase'", "X"]),
    (PHASE_HEADER + "AAA abc 1.0 P\n", ["line 2", "'traveltime_s'", "abc"]),
    (PHASE_HEADER + "AAA -1.0 1.0 P\n", ["line 2", "'traveltime_s'", "-1.0", "negative"]),
    (PHASE_HEADER + "AAA 99999.0 1.0 P\n", ["line 2", "'traveltime_s'", "99999", "implausible traveltime"]),
    ("AAA 1.5 1.0 P\n", ["line 1", "'pick'", "before any '#' header"]),
    ("# 2004 1 1 0 0 0.0 37.3\n", ["line 1", "'event header'", "expected 14 values"]),
    ("# 2004 13 1 0 0 0.0 37.3 -121.7 8.0 1.5 0.1 0.2 0.05 1\n", ["line 1", "'origin time'"]),
    ("# 2004 1 1 0 0 0.0 37.3 -121.7 5000.0 1.5 0.1 0.2 0.05 1\n", ["x.pha:1", "'depth_km'", "5000", "implausible"]),
    (PHASE_HEADER + PHASE_HEADER, ["x.pha", "'event_id'", "1", "duplicated"]),
    (PHASE_HEADER + "AAA 1.5 1.0 P\nAAA 1.7 1.0 P\n", ["x.pha", "event 1 AAA P", "picked twice"]),
    (gzip.compress(PHASE_HEADER.encode()), ["x.pha", "gzip-compressed"]),
])
def test_hypodd_phase_file_errors(tmp_path, phase, parts):
    from sciml.picks.hypodd import pick_table, read_phase_file, read_stations

    pha, sel = _hypodd(tmp_path, phase)
    with pytest.raises(InputError) as exc:
        pick_table(read_phase_file(pha), read_stations(sel))
    _names(str(exc.value), "x.pha", *parts)


@pytest.mark.parametrize(("stations", "parts"), [
    ("AAA 95.0 -121.6\n", ["line 1", "lat/lon", "95.0"]),
    ("AAA 37.3\n", ["line 1", "'station'", "expected 'STA lat lon [elev]'"]),
    ("AAA 37.3 -121.6\nAAA 37.4 -121.7\n", ["'station'", "AAA", "listed twice"]),
    ("", ["'stations'", "no station lines"]),
])
def test_hypodd_station_file_errors(tmp_path, stations, parts):
    from sciml.picks.hypodd import read_stations

    _, sel = _hypodd(tmp_path, PHASE_HEADER, stations)
    with pytest.raises(InputError) as exc:
        read_stations(sel)
    _names(str(exc.value), "station.sel", *parts)


def test_picks_at_unknown_stations_are_counted_not_silently_dropped(tmp_path, caplog):
    """Issue case 5: hypoDD picks at stations missing from the station list are counted (attrs and log)."""
    from sciml.picks.hypodd import pick_table, read_phase_file, read_stations

    pha, sel = _hypodd(tmp_path, PHASE_HEADER + "AAA 1.5 1.0 P\nZZZ 2.0 1.0 P\nBBB 1.8 1.0 S\nAAA 1.5 1.0 P\n")
    with caplog.at_level(logging.INFO):
        t = pick_table(read_phase_file(pha), read_stations(sel), phase="P")
    assert t.attrs["counts"] == {"picks": 4, "other_phase_or_low_weight": 1, "duplicates_merged": 1,
                                 "unknown_station": 1, "beyond_max_offset": 0, "used": 1}
    assert "ZZZ" in caplog.text and "missing from the station list" in caplog.text


@pytest.mark.parametrize(("text", "parts"), [
    ("0 5.5\n2 abc\n", ["line 2", "'vp_km_s'", "abc"]),
    ("0 5.5\n2 500\n", ["line 2", "'vp_km_s'", "500", "implausible"]),
    ("0 5.5\n0 6.0\n", ["tops must increase"]),
])
def test_velocity_model_errors(tmp_path, text, parts):
    from sciml.picks.hypodd import read_velocity_model

    p = tmp_path / "model.txt"
    p.write_text(text)
    with pytest.raises(InputError) as exc:
        read_velocity_model(p)
    _names(str(exc.value), "model.txt", *parts)


# ====================================================================================== tomography picks
def _picks_nc(tmp_path, units="s", sigma_units="s", traveltime=(1.5, 3.0)):
    ds = xr.Dataset({"source_x": ("pick", [0.0, 0.0], {"units": "km", "long_name": "source"}),
                     "receiver_x": ("pick", [10.0, 20.0], {"units": "km", "long_name": "receiver"}),
                     "traveltime": ("pick", list(traveltime), {"units": units, "long_name": "traveltime"}),
                     "sigma": ("pick", [0.02, 0.02], {"units": sigma_units, "long_name": "sigma"})})
    p = tmp_path / "picks.nc"
    ds.to_netcdf(p)
    return p


def test_picks_netcdf_in_milliseconds_are_converted(tmp_path):
    """Issue case 2: traveltime in ms is converted to s (cf_units), not taken as seconds."""
    from sciml.bayes.tomography import read_picks

    picks = read_picks(_picks_nc(tmp_path, units="ms", traveltime=(1500.0, 3000.0)), 40.0)
    np.testing.assert_allclose(picks.traveltime, [1.5, 3.0])


@pytest.mark.parametrize(("units", "parts"), [("furlong", ["'traveltime units'", "furlong", "not convertible"]),
                                              ("m", ["'traveltime units'", "'m'", "not convertible to 's'"])])
def test_picks_netcdf_with_wrong_units_is_named(tmp_path, units, parts):
    cfg = get_step("bayes.tomography_picks").slice(_config())
    p = _picks_nc(tmp_path, units=units)
    _step_fails("bayes.tomography_picks", cfg, {"picks": [str(p)], "model": []}, tmp_path, "picks.nc", *parts)


@pytest.mark.parametrize(("text", "parts"), [
    ("source_x,receiver_x,traveltime,sigma\n0,10,x,0.02\n", ["row 1", "'traveltime'", "x"]),
    ("source_x,receiver_x,traveltime,sigma\n0,10,5000,0.02\n", ["row 1", "'traveltime'", "5000.0", "implausible"]),
    ("source_x,receiver_x,traveltime,sigma\n0,10,1.5,0\n", ["row 1", "'sigma'", "0.0", "> 0"]),
    ("source_x,receiver_x,traveltime,sigma\n0,99,1.5,0.02\n", ["row 1", "'receiver_x'", "99.0"]),
    ("source_x,receiver_x,traveltime\n0,10,1.5\n", ["missing column", "sigma"]),
    ("source_x,receiver_x,traveltime,sigma\n0,10,1.5,0.02\n0,10,1.7,0.02\n", ["row 2", "'receiver_x'", "10.0",
                                                                             "first at row 1"]),
])
def test_picks_csv_errors(tmp_path, text, parts):
    p = tmp_path / "picks.csv"
    p.write_text(text)
    cfg = get_step("bayes.tomography_picks").slice(_config())
    _step_fails("bayes.tomography_picks", cfg, {"picks": [str(p)], "model": []}, tmp_path, "picks.csv", *parts)


@pytest.mark.parametrize(("rows", "parts"), [
    ("0.0 5.8 3.46 2.72\n20.0 x 3.46 2.72\n", ["m.tvel: line 4", "'vp_km_s'", "'x'", "not a number"]),
    ("0.0 5800 3460 2720\n20.0 5800 3460 2720\n", ["m.tvel:3", "'vp_km_s'", "5800", "implausible seismic velocity"]),
    ("20.0 5.8 3.46\n0.0 6.5 3.85\n", ["m.tvel:4", "'depth_km'", "0.0", "non-decreasing"]),
    ("0.0 5.8\n", ["m.tvel: line 3", "'row'", "expected 'depth_km vp_km_s vs_km_s"]),
    ("", ["m.tvel", "'rows'", "no velocity rows"]),
])
def test_tvel_velocity_model_errors(tmp_path, rows, parts):
    """A .tvel model in m/s (x1000) or malformed names file, line, field and value."""
    from sciml.bayes.tomography import layered_model

    p = tmp_path / "m.tvel"
    p.write_text("model - P\nmodel - S\n" + rows)
    with pytest.raises(InputError) as exc:
        layered_model(p)
    _names(str(exc.value), *parts)


def test_marmousi_and_published_darcy_files_are_checked(tmp_path):
    """Operator-study inputs: a Marmousi file of the wrong size or not in m/s, a Darcy .npz that is not one
    or holds NaN pressure, each named."""
    from sciml.operators.data import load_neuralop_darcy, read_marmousi

    p = tmp_path / "vp.bin"
    np.zeros(100, "<f4").tofile(p)
    _names(str(pytest.raises(InputError, read_marmousi, p).value), "vp.bin", "'size'", "100", "383 x 141")
    np.full(383 * 141, 2.5, "<f4").tofile(p)  # km/s, not m/s
    _names(str(pytest.raises(InputError, read_marmousi, p).value), "vp.bin", "'vp range'", "2.5", "m/s")
    _names(str(pytest.raises(InputError, read_marmousi, tmp_path / "no.bin").value), "no.bin", "not found")
    z = tmp_path / "d.npz"
    z.write_text("not an npz")
    _names(str(pytest.raises(InputError, load_neuralop_darcy, z).value), "d.npz", "cannot be read")
    u = np.ones((2, 4, 4))
    u[1, 2, 3] = np.nan
    np.savez(tmp_path / "n.npz", x=np.ones((2, 4, 4), bool), y=u)
    _names(str(pytest.raises(InputError, load_neuralop_darcy, tmp_path / "n.npz").value), "n.npz", "sample 1",
           "'y'", "nan", "not finite")
    np.savez(tmp_path / "s.npz", x=np.ones((2, 4, 4), bool), y=np.ones((2, 4, 5)))
    _names(str(pytest.raises(InputError, load_neuralop_darcy, tmp_path / "s.npz").value), "s.npz",
           "expected equal (N, n, n)")


def test_identical_repeated_pick_rows_are_merged_and_counted(tmp_path):
    """The duplicate policy of every reader: an identical repeated row counts once (not double weight)."""
    from sciml.bayes.tomography import read_picks

    p = tmp_path / "picks.csv"
    p.write_text("source_x,receiver_x,traveltime,sigma\n0,10,1.5,0.02\n0,20,3.0,0.02\n0,10,1.5,0.02\n")
    picks = read_picks(p, 40.0)
    assert picks.receiver_x.tolist() == [10.0, 20.0]
    assert picks.counts == {"rows": 3, "identical_rows_merged": 1, "used": 2}


def test_absent_velocity_model_file_is_an_error_not_ak135(tmp_path):
    from sciml.bayes.tomography import layered_model

    with pytest.raises(InputError, match="nope.tvel: velocity model file not found"):
        layered_model(tmp_path / "nope.tvel")


# ================================================================================= upstream NetCDF reads
def _velocities(tmp_path, raw=False, **over) -> str:
    """A velocities.nc like pilm.ingest writes (``raw``: written by plain xarray, as a foreign tool would)."""
    st = ["A", "B", "C", "D"]
    data = {"lon": [-122.0, -121.0, -120.0, -121.5], "lat": [37.0, 38.0, 37.5, 36.5], "ve": [1.0, 2.0, 3.0, 1.0],
            "vn": [1.0, 1.0, 2.0, 0.0], "se": [0.5] * 4, "sn": [0.5] * 4, "rho": [0.0] * 4}
    units = {"lon": "degrees_east", "lat": "degrees_north", "rho": "1"}
    ds = xr.Dataset(coords={"station": ("station", st, {"units": "1", "long_name": "station code"})})
    for k, v in data.items():
        ds[k] = ("station", np.asarray(over.get(k, v), float), {"units": over.get(f"{k}_units", units.get(k, "mm yr-1")),
                                                                "long_name": k})
    if raw:
        ds.to_netcdf(tmp_path / "velocities.nc")
        return str(tmp_path / "velocities.nc")
    return str(write_dataset(ds, tmp_path / "velocities.nc", title="velocities"))


def test_upstream_velocity_in_m_per_yr_is_converted(tmp_path):
    """Issue case 2: an upstream ve labelled m yr-1 is converted to mm/yr, not taken as mm/yr."""
    from sciml.studies.pilm import VELOCITY_UNITS

    ds = read_dataset(_velocities(tmp_path, ve=[0.001, 0.002, 0.003, 0.001], ve_units="m yr-1"),
                      units=VELOCITY_UNITS)
    np.testing.assert_allclose(ds["ve"].values, [1.0, 2.0, 3.0, 1.0])
    assert ds["ve"].attrs["units"] == "mm yr-1"


@pytest.mark.parametrize(("over", "parts"), [
    ({"se": [0.5, np.nan, 0.5, 0.5]}, ["station B", "'se'", "nan", "not finite"]),  # issue case 7
    ({"ve_units": "s"}, ["'ve units'", "'s'", "not convertible"]),
    ({"vn_units": "bananas", "raw": True}, ["'vn units'", "not a known unit"]),
])
def test_bad_upstream_velocities_stop_the_strain_step(tmp_path, over, parts):
    cfg = get_step("pilm.strain").slice(_config(), {"dataset": "norcal", "reg": "elastic"})
    path = _velocities(tmp_path, **over)
    _step_fails("pilm.strain", cfg, {"velocities": path}, tmp_path, "velocities.nc", *parts)


def test_truncated_or_incomplete_upstream_file_is_named(tmp_path):
    cfg = get_step("pilm.strain").slice(_config(), {"dataset": "norcal", "reg": "elastic"})
    path = _velocities(tmp_path)
    data = Path(path).read_bytes()
    (tmp_path / "cut.nc").write_bytes(data[: len(data) // 2])
    _step_fails("pilm.strain", cfg, {"velocities": str(tmp_path / "cut.nc")}, tmp_path, "cut.nc",
                "not a readable NetCDF")
    ds = xr.Dataset({"lon": ("station", [1.0], {"units": "degrees_east", "long_name": "lon"})})
    write_dataset(ds, tmp_path / "part.nc", title="part")
    _step_fails("pilm.strain", cfg, {"velocities": str(tmp_path / "part.nc")}, tmp_path, "part.nc",
                "missing required variable", "'ve'")


def test_okada_observations_with_nan_sigma_are_named(tmp_path):
    obs = tmp_path / "obs.nc"
    cfg = get_step("okada.synthetic").slice(_config())
    cfg["stations"]["n"] = 3
    cfg["map"]["n"] = 5
    cfg["sensitivity"] = []
    run_step("okada.synthetic", cfg, seed=1, inputs={"stations": []}, outputs={"nc": str(obs)})
    ds = read_dataset(obs)
    ds["sigma"][1, 0] = np.nan
    ds.attrs.pop("sciml_provenance")
    write_dataset(ds, tmp_path / "nan.nc", title="nan sigma")
    inv = get_step("okada.invert").slice(_config())
    _step_fails("okada.invert", inv, {"data": str(tmp_path / "nan.nc")}, tmp_path / "b", "nan.nc", "'sigma'",
                "not finite")


# ===================================================================================== command line tools
def _cli(capsys, *argv) -> tuple[int, str]:
    rc = cli(list(argv))
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def _result_files(tmp_path):
    """A NetCDF result and a figure with provenance."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sciml.io.netcdf import build_provenance
    from sciml.plots import save_figure

    nc = _velocities(tmp_path)
    fig = plt.figure()
    png = tmp_path / "fig.png"
    save_figure(fig, png, provenance=build_provenance(rule="demo", inputs=[nc]))
    plt.close(fig)
    return nc, png


@pytest.mark.parametrize("command", ["lineage", "describe", "validate"])
def test_cli_on_missing_file_fails_naming_it(tmp_path, capsys, command):
    """Issue case 6: lineage (and describe, validate) of a missing file is an error, not '(raw input)'."""
    rc, text = _cli(capsys, command, str(tmp_path / "absent.nc"))
    assert rc == 2 and "absent.nc: file not found" in text and "raw input" not in text


@pytest.mark.parametrize("command", ["lineage", "describe"])
@pytest.mark.parametrize("kind", ["nc", "png"])
def test_cli_on_truncated_file_fails_naming_it(tmp_path, capsys, command, kind):
    nc, png = _result_files(tmp_path)
    src = nc if kind == "nc" else png
    data = Path(src).read_bytes()
    cut = tmp_path / f"cut.{kind}"
    cut.write_bytes(data[: len(data) // 2])
    rc, text = _cli(capsys, command, str(cut))
    assert rc == 2 and f"cut.{kind}: not a readable" in text and "raw input" not in text


def test_validate_handles_png_and_flags_a_truncated_one(tmp_path, capsys):
    nc, png = _result_files(tmp_path)
    rc, text = _cli(capsys, "validate", str(png), nc)
    assert rc == 0 and f"{png}: OK" in text, text
    cut = tmp_path / "cut.png"
    cut.write_bytes(Path(png).read_bytes()[:200])
    rc, text = _cli(capsys, "validate", str(cut))
    assert rc == 1 and "INVALID" in text and "not a readable PNG" in text


def test_lineage_flags_an_unreadable_upstream_result(tmp_path, capsys):
    nc, png = _result_files(tmp_path)
    data = Path(nc).read_bytes()
    Path(nc).write_bytes(data[: len(data) // 2])
    rc, text = _cli(capsys, "lineage", str(png))
    assert rc == 1 and "(unreadable: " in text and "not a readable NetCDF" in text and "CHECKSUM CHANGED" in text


def test_lineage_of_a_netcdf_without_provenance_is_an_error(tmp_path, capsys):
    xr.Dataset({"a": ("x", [1.0])}).to_netcdf(tmp_path / "plain.nc")
    rc, text = _cli(capsys, "lineage", str(tmp_path / "plain.nc"))
    assert rc == 2 and "no provenance record" in text


def test_describe_png_prints_size_and_provenance(tmp_path, capsys):
    _, png = _result_files(tmp_path)
    rc, text = _cli(capsys, "describe", str(png))
    assert rc == 0 and "PNG" in text and "rule           demo" in text


@pytest.mark.parametrize(("argv", "parts"), [
    (["run", "nope.step"], ["nope.step"]),
    (["run", "mogi.invert", "--set", "mogi.stations.nn=3"], ["mogi.stations", "did you mean 'n'"]),
    (["run", "mogi.invert", "--input", "bogus=x.nc"], ["unknown input", "bogus"]),
    (["run", "mogi.invert", "--input", "data"], ["--input 'data'", "NAME=PATH"]),
    (["config", "--section", "okada.nope"], ["okada.nope", "missing"]),
    (["config", "--config", "absent.yaml"], ["absent.yaml", "not found"]),
])
def test_cli_usage_errors_are_one_line(tmp_path, capsys, argv, parts):
    rc, text = _cli(capsys, *argv)
    assert rc == 2, text
    _names(text, *parts)
    assert "Traceback" not in text


def test_cli_run_with_bad_input_prints_the_message_first_and_writes_nothing(tmp_path, capsys):
    p = tmp_path / "bad.txt"
    p.write_text(NORCAL_HEADER + "-122.0 38.0 abc 6.8 -1.0 0.18 0.13 0.68 BADV\n")
    out = tmp_path / "o" / "vel.nc"
    over = f"pilm.datasets.norcal.sources=[{{path: {p}, format: norcal}}]"
    rc, text = _cli(capsys, "run", "pilm.ingest", "--wildcard", "dataset=norcal", "--set", over,
                    "--input", f"sources={p}", "--output", f"nc={out}", "--log", str(tmp_path / "run.log"))
    assert rc == 2 and "bad.txt:2: field 've' = 'abc'" in text and "Traceback" not in text
    assert "Traceback" in (tmp_path / "run.log").read_text()  # the details stay in the log file
    assert not out.exists()


# ============================================================================= writer: errors and file modes
def test_step_failure_is_one_console_line_with_the_traceback_in_the_log(tmp_path, capsys):
    p = tmp_path / "bad.txt"
    p.write_text(NORCAL_HEADER + "-122.0 38.0 abc 6.8 -1.0 0.18 0.13 0.68 BADV\n")
    log = tmp_path / "rule.log"
    with pytest.raises(InputError):
        run_step("pilm.ingest", _ingest_cfg(p), seed=1, inputs={"sources": [str(p)]},
                 outputs={"nc": str(tmp_path / "o.nc")}, log_path=log, rule="pilm_ingest")
    err = capsys.readouterr().err.strip().splitlines()
    failing = [ln for ln in err if "ERROR" in ln]
    assert len(failing) == 1 and "field 've' = 'abc'" in failing[0] and "Traceback" not in "\n".join(err)
    assert "Traceback" in log.read_text() and not (tmp_path / "o.nc").exists()


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_outputs_get_the_users_umask(tmp_path, mask, mode):
    """Issue case 9: results are created with the user's umask (0644 by default), not the temp file's 0600."""
    old = os.umask(mask)
    try:
        nc, png = _result_files(tmp_path)
        from sciml.io.atomic import write_text

        txt = write_text("x", tmp_path / "t.txt")
    finally:
        os.umask(old)
    for f in (nc, png, txt):
        assert stat.S_IMODE(os.stat(f).st_mode) == mode, (f, oct(os.stat(f).st_mode))


# =============================================================================================== progress
def test_progress_lines_carry_total_rate_and_eta(caplog):
    from sciml.progress import Progress, track

    log = logging.getLogger("sciml.test.progress")
    with caplog.at_level(logging.INFO, logger="sciml.test.progress"):
        assert sum(track(range(20), "demo", log=log)) == sum(range(20))
        with Progress(1000, "resumed", log=log, initial=900) as bar:
            bar.update(100, loss="1.0e-3")
    lines = [r.getMessage() for r in caplog.records]
    assert "demo: 2/20 (10%)" in lines[0] and "ETA" in lines[0] and "demo: 20/20 (100%)" in lines[-2]
    assert "resumed: 1000/1000 (100%)" in lines[-1] and "loss=1.0e-3" in lines[-1]


def test_trainer_log_lines_show_total_and_eta(caplog):
    import torch

    from sciml.nn import MLP
    from sciml.nn.trainer import TrainConfig, Trainer

    torch.manual_seed(0)
    m = MLP([1, 4, 1])
    x = torch.linspace(0, 1, 8, dtype=torch.float64)[:, None]

    def loss_fn(model, step):
        return {"fit": ((model(x) - x) ** 2).mean()}

    with caplog.at_level(logging.INFO):
        Trainer(m, loss_fn, TrainConfig(adam_steps=20, log_every=10, progress=True), device=torch.device("cpu")).fit()
    assert any("step 20/20" in r.getMessage() and "ETA" in r.getMessage() for r in caplog.records)


# =================================================================== through Snakemake (parse-time checks)
def _set_config(workflow_copy, **keys):
    cfg_path = workflow_copy / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    for k, v in keys.items():
        C.set_key(cfg, k.split("."), v)
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))


@pytest.mark.parametrize(("keys", "parts"), [
    ({"pilm.datasets.norcal.sources": [{"path": "gnss/norcal_stationvel.txt", "format": "norcal"}]},
     ["pilm.datasets.norcal.sources[0].path", "norcal_stationvel.txt", "file not found"]),
    ({"data_dir": "/nonexistent/data"}, ["key 'data_dir'", "/nonexistent/data", "folder not found"]),
    ({"pilm": None}, ["key 'pilm'", "None"]),
    ({"okada.synthetic.stations.gnss": "nowhere"}, ["'gnss'", "nowhere", "not a PILM dataset"]),
])
def test_workflow_stops_at_parse_time_naming_the_key(workflow_copy, keys, parts):
    _set_config(workflow_copy, **keys)
    run = snakemake(workflow_copy, "-n", "okada")
    assert run.returncode != 0
    _names(run.stdout + run.stderr, *parts)
    assert not (workflow_copy / "results").exists()


GNSS_TARGET = "results/pilm/norcal/velocities.nc"


def test_malformed_gnss_file_in_the_workflow_one_line_first_and_nothing_written(workflow_copy):
    """A job-time error reaches the console as one line before anything else about it (issue case 8); the
    traceback is in the rule's log file; no output, no temporary file."""
    data = workflow_copy / "data" / "gnss"
    data.mkdir(parents=True)
    (data / "norcal_stationvels.txt").write_text(
        NORCAL_HEADER + "\n".join(GOOD_ROWS + ["-122.0 38.0 abc 6.8 -1.0 0.18 0.13 0.68 BADV"]) + "\n")
    _set_config(workflow_copy, data_dir=str(workflow_copy / "data"))
    run = snakemake(workflow_copy, "-c1", "--profile", "workflow/profiles/default", GNSS_TARGET)
    assert run.returncode != 0
    text = (run.stdout + run.stderr).splitlines()
    first = next(i for i, ln in enumerate(text) if "field 've' = 'abc'" in ln)
    assert "norcal_stationvels.txt:5" in text[first]
    assert not any("Traceback" in ln for ln in text[:first])
    log = (workflow_copy / "results" / "logs" / "pilm_ingest_norcal.log").read_text()
    assert "Traceback" in log
    assert not (workflow_copy / GNSS_TARGET).exists()
    assert not [p for p in (workflow_copy / "results").rglob("*") if ".tmp" in p.name]


def test_fresh_clone_fallback_is_recorded_and_outputs_are_readable(workflow_copy):
    """Without the shared data (default data_dir absent, synthetic_fallback in config/config.yaml) the
    default dataset is synthetic, recorded as data_source in the output and in its parameters; the output
    is 0644 (umask 022)."""
    _set_config(workflow_copy, data_dir="../shared/data")  # absent beside the temporary copy
    old = os.umask(0o022)
    try:
        run = snakemake(workflow_copy, "-c1", GNSS_TARGET)
    finally:
        os.umask(old)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "pilm.datasets.norcal.sources: default file" in run.stderr
    out = workflow_copy / GNSS_TARGET
    ds = read_dataset(out)
    assert ds.attrs["data_source"] == "synthetic"
    from sciml.io.netcdf import read_provenance

    assert read_provenance(out)["params"]["cfg"]["sources"] == []
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644


def test_corrupted_upstream_netcdf_stops_downstream_rule(workflow_copy):
    """A truncated intermediate NetCDF gives an error naming it, and nothing downstream is written."""
    assert snakemake(workflow_copy, "-c1", GNSS_TARGET).returncode == 0
    nc = workflow_copy / GNSS_TARGET
    data = nc.read_bytes()
    nc.write_bytes(data[: len(data) // 2])
    downstream = "results/pilm/norcal/strain_smoothness.nc"
    run = snakemake(workflow_copy, "-c1", downstream, "--rerun-triggers", "input")
    assert run.returncode != 0
    log = (workflow_copy / "results" / "logs" / "pilm_strain_norcal_smoothness.log").read_text()
    assert "velocities.nc" in log and "not a readable NetCDF" in log
    assert not (workflow_copy / downstream).exists()
