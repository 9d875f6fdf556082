"""Readers of coseismic GNSS offsets (shared data, see each folder's SOURCE.txt) into xarray Datasets.

Every GNSS reader returns dims ``station``: ``site`` (str), ``lon``, ``lat`` (degrees east [-180, 180), north),
``east``, ``north``, ``up`` (m), ``sigma_east``, ``sigma_north``, ``sigma_up`` (m; NaN when unpublished),
and attrs naming the source file; :func:`published_parkfield_fault` converts the SRCMOD header of
:func:`read_parkfield_fault` to the parameters of :func:`sciml.okada.rectangle`. Bad files raise :class:`sciml.errors.InputError` naming file, line, field.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from sciml.errors import InputError, bad_value
from sciml.geo import wrap_longitude
from sciml.io.text import finite_float, text_lines
from sciml.units import check_plausible

log = logging.getLogger(__name__)

_VARS = {
    "lon": ("degrees_east", "station longitude"),
    "lat": ("degrees_north", "station latitude"),
    "east": ("m", "coseismic displacement, east"),
    "north": ("m", "coseismic displacement, north"),
    "up": ("m", "coseismic displacement, up"),
    "sigma_east": ("m", "standard deviation of east displacement"),
    "sigma_north": ("m", "standard deviation of north displacement"),
    "sigma_up": ("m", "standard deviation of up displacement"),
}


def _rows(path: Path, ncols: int) -> list[tuple[int, list[str]]]:
    out = []
    for i, line in enumerate(text_lines(path, "coseismic offsets"), 1):  # missing/binary/gzip: named error
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        if len(parts) < ncols:
            raise InputError(f"{path}: line {i}: expected {ncols} columns, got {len(parts)}: {s!r}")
        out.append((i, parts))
    return out


def _checked(sites, cols: dict[str, np.ndarray], path: Path, lines, duplicates: str):
    """Rows checked (latitude, plausible offsets, each named by its line) and duplicated sites resolved by the
    GNSS readers' policy: identical rows collapse to the first (counted); conflicting ones raise (``error``),
    keep the first (``first``) or are removed (``drop``). Returns (sites, cols, counts)."""
    where = [f"{path}:{i}" for i in lines]
    for i, lat in enumerate(cols["lat"]):
        if not -90.0 <= lat <= 90.0:
            raise bad_value(where[i], "lat", float(lat), "outside [-90, 90] degrees")
    for k in ("east", "north", "up"):
        if k in cols:
            check_plausible(cols[k], "coseismic_offset", where=str(path), field=k, labels=where)
        if f"sigma_{k}" in cols:
            check_plausible(cols[f"sigma_{k}"], "coseismic_sigma", where=str(path), field=f"sigma_{k}", labels=where)
    if duplicates not in ("error", "first", "drop"):
        raise bad_value(str(path), "duplicates", duplicates, "expected error|first|drop")
    names = [str(s) for s in sites]
    keys = [k for k in cols if k in _VARS]
    keep, counts = [], {"rows": len(names), "identical_rows_merged": 0, "conflicting_rows_removed": 0}
    first: dict[str, int] = {}
    for i, n in enumerate(names):
        if n not in first:
            first[n] = i
            keep.append(i)
            continue
        j = first[n]
        if all(np.isclose(cols[k][i], cols[k][j], rtol=0, atol=1e-9, equal_nan=True) for k in keys):
            counts["identical_rows_merged"] += 1
        elif duplicates == "error":
            raise bad_value(f"{where[i]}", "site", n, f"listed again with different values (first at {where[j]}); "
                            "a site must appear once (duplicates: first | drop)")
        else:
            counts["conflicting_rows_removed"] += 1
            if duplicates == "drop" and j in keep:
                keep.remove(j)
                counts["conflicting_rows_removed"] += 1
    if counts["identical_rows_merged"] or counts["conflicting_rows_removed"]:
        log.warning("%s: duplicated sites: %s (policy %r)", path, counts, duplicates)
    idx = np.array(keep, dtype=int)
    return [names[i] for i in idx], {k: np.asarray(v)[idx] for k, v in cols.items()}, counts


def _dataset(sites, cols: dict[str, np.ndarray], path: Path, *, lines=None, duplicates: str = "error",
             **attrs) -> xr.Dataset:
    sites, cols, counts = _checked(sites, cols, path, lines if lines is not None else range(1, len(sites) + 1),
                                   duplicates)
    ds = xr.Dataset(coords={"station": np.arange(len(sites))})
    ds["site"] = ("station", np.asarray(sites, dtype=str))
    ds["site"].attrs.update(long_name="site code", units="1")
    for k, (units, name) in _VARS.items():
        ds[k] = ("station", np.asarray(cols.get(k, np.full(len(sites), np.nan)), float))
        ds[k].attrs.update(units=units, long_name=name)
    ds["station"].attrs.update(long_name="station index", units="1")
    ds.attrs.update(source_file=str(path), **{f"count_{k}": int(v) for k, v in counts.items()}, **attrs)
    return ds


def read_parkfield_gps(path) -> xr.Dataset:
    """Houlie et al. (2014) 2004 Parkfield offsets: ``id Site Lon(0..360) Lat De_cm Dn_cm Dup_cm`` (no sigmas)."""
    path = Path(path)
    rows = [(i, p) for i, p in _rows(path, 7) if p[0].lower() != "id"]
    if not rows:
        raise InputError(f"{path}: no data rows")
    names = ("lon", "lat", "east", "north", "up")
    vals = {k: np.array([finite_float(path, i, k, p[2 + j]) for i, p in rows]) for j, k in enumerate(names)}
    for k in ("east", "north", "up"):
        vals[k] = vals[k] / 100.0  # cm -> m
    vals["lon"] = wrap_longitude(vals["lon"])
    return _dataset([p[1] for _, p in rows], vals, path, lines=[i for i, _ in rows],
                    event="2004 Parkfield Mw 6.0",
                    citation="Houlie, Dreger & Kim (2014), Sci. Rep. 4, 3646", reference_frame="absolute offsets")


def read_parkfield_fault(path) -> dict[str, float]:
    """SRCMOD single-plane header values (``key value`` lines) of Custodio et al. (2005)."""
    path = Path(path)
    out: dict[str, float] = {}
    for i, p in _rows(path, 2):
        out[p[0]] = finite_float(path, i, p[0], p[1])
    need = ("hypo_lat", "hypo_lon", "length_km", "width_km", "strike_deg", "dip_deg", "rake_deg", "top_depth_km",
            "hypX_along_strike_km", "M0_Nm")
    missing = [k for k in need if k not in out]
    if missing:
        raise InputError(f"{path}: missing fields {missing}")
    return out


def read_geonet_ozawa(path) -> xr.Dataset:
    """Ozawa et al. (2011) Table S1: ``ID lat_ref lon_ref lat lon EW NS UD`` (m) relative to a reference site."""
    path = Path(path)
    rows = _rows(path, 8)
    if not rows:
        raise InputError(f"{path}: no data rows")
    cols = {k: np.array([finite_float(path, i, k, p[j]) for i, p in rows])
            for j, k in ((1, "lat_ref"), (2, "lon_ref"), (3, "lat"), (4, "lon"), (5, "east"), (6, "north"), (7, "up"))}
    if np.ptp(cols["lat_ref"]) > 0 or np.ptp(cols["lon_ref"]) > 0:
        raise InputError(f"{path}: fields 'lat_ref'/'lon_ref' are not constant (one reference site expected)")
    cols["lon"] = wrap_longitude(cols["lon"])
    ref_lon, ref_lat = float(wrap_longitude(cols["lon_ref"][0])), float(cols["lat_ref"][0])
    return _dataset([p[0] for _, p in rows], cols, path, lines=[i for i, _ in rows],
                    event="2011 Tohoku-oki Mw 9.0",
                    citation="Ozawa et al. (2011), Nature 475, 373-376, Table S1 (GSI GEONET)",
                    reference_frame="relative to reference site", reference_lon=ref_lon, reference_lat=ref_lat)


def read_station_lonlat(path) -> tuple[np.ndarray, np.ndarray]:
    """Station lon/lat from an ingested GNSS NetCDF (variables ``lon``, ``lat`` on dim ``station``)."""
    from sciml.io.netcdf import read_dataset

    ds = read_dataset(path, required=("lon", "lat"), units={"lon": "degrees_east", "lat": "degrees_north"},
                      finite=("lon", "lat"))
    return wrap_longitude(ds["lon"].values), ds["lat"].values.astype(float)


def published_parkfield_fault(p: Mapping[str, float], mu: float) -> dict[str, float]:
    """SRCMOD header (:func:`read_parkfield_fault`) -> parameters of :func:`sciml.okada.rectangle`:
    top-centre east/north (m, about the hypocentre), depth of the top (m), strike/dip/rake (deg), length and
    width (m), and the mean slip M0 / (mu L W) (m) for the shear modulus ``mu`` (Pa)."""
    strike, dip = float(p["strike_deg"]), float(p["dip_deg"])
    L, W = 1e3 * float(p["length_km"]), 1e3 * float(p["width_km"])
    top = 1e3 * float(p["top_depth_km"])
    # the hypocentre depth is optional in the header: without it the hypocentre lies on the top edge
    hyp_depth = 1e3 * float(p["hypo_depth_km"] if "hypo_depth_km" in p else p["top_depth_km"])
    down = (hyp_depth - top) / math.sin(math.radians(dip))  # hypocentre distance down dip from the top edge
    s = np.array([math.sin(math.radians(strike)), math.cos(math.radians(strike))])  # strike unit (e, n)
    ddir = np.array([math.cos(math.radians(strike)), -math.sin(math.radians(strike))])  # down-dip horizontal
    top_left = -1e3 * float(p["hypX_along_strike_km"]) * s - down * math.cos(math.radians(dip)) * ddir
    top_center = top_left + 0.5 * L * s
    slip = float(p["M0_Nm"]) / (mu * L * W)
    return dict(east=float(top_center[0]), north=float(top_center[1]), depth=top, strike=strike, dip=dip, length=L,
                width=W, rake=float(p["rake_deg"]), slip=slip, opening=0.0)
