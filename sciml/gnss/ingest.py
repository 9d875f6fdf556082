"""Combine GNSS velocity files into one tidy station dataset; plate-rotation removal; region selection.

Plate rotation: v = Omega x r on a sphere of radius 6371 km, with Omega the Cartesian rotation vector
(wx, wy, wz) in milliarcseconds per year (the form of the ITRF2014 plate motion model, Altamimi et al.
2017) or an Euler pole (lat, lon in degrees, rate in degrees per Myr). Velocities in mm/yr.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from sciml.errors import InputError, bad_value
from sciml.gnss.readers import read_velocities, resolve_duplicates, validate

__all__ = ["euler_velocity", "pole_to_omega", "ingest", "to_dataset", "select_region"]

log = logging.getLogger(__name__)

EARTH_RADIUS_MM = 6371.0e6
MAS_TO_RAD = np.pi / (180.0 * 3600.0 * 1000.0)


def pole_to_omega(lat: float, lon: float, rate_deg_per_myr: float) -> np.ndarray:
    """Euler pole (deg, deg, deg/Myr) -> Cartesian rotation vector (mas/yr)."""
    rate_mas = rate_deg_per_myr * 3600.0 * 1000.0 / 1e6
    la, lo = np.radians(lat), np.radians(lon)
    return rate_mas * np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def euler_velocity(lon, lat, omega_mas_per_yr) -> tuple[np.ndarray, np.ndarray]:
    """East and north velocity (mm/yr) of a rigid rotation Omega (mas/yr, ECEF) at lon/lat (deg)."""
    w = np.asarray(omega_mas_per_yr, dtype=float) * MAS_TO_RAD
    lo, la = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    r = EARTH_RADIUS_MM * np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    v = np.cross(w[:, None] * np.ones_like(r), r, axis=0)
    ve = -np.sin(lo) * v[0] + np.cos(lo) * v[1]
    vn = -np.sin(la) * np.cos(lo) * v[0] - np.sin(la) * np.sin(lo) * v[1] + np.cos(la) * v[2]
    return ve, vn


def _omega_from_config(cfg: Mapping, source: str) -> np.ndarray:
    if "omega_mas_per_yr" in cfg:
        w = np.asarray(cfg["omega_mas_per_yr"], dtype=float)
        if w.shape != (3,):
            raise bad_value(source, "plate_rotation.omega_mas_per_yr", cfg["omega_mas_per_yr"], "expected [wx, wy, wz]")
        return w
    try:
        return pole_to_omega(float(cfg["pole_lat"]), float(cfg["pole_lon"]), float(cfg["rate_deg_per_myr"]))
    except KeyError as exc:
        raise InputError(f"{source}: field 'plate_rotation.{exc.args[0]}' = missing: give omega_mas_per_yr or "
                         "pole_lat, pole_lon, rate_deg_per_myr") from None


def select_region(df: pd.DataFrame, region: Mapping | None) -> pd.DataFrame:
    """Stations with lon_min <= lon <= lon_max and lat_min <= lat <= lat_max (degrees; None = all)."""
    if not region:
        return df
    m = ((df["lon"] >= region["lon_min"]) & (df["lon"] <= region["lon_max"])
         & (df["lat"] >= region["lat_min"]) & (df["lat"] <= region["lat_max"]))
    return df[m].reset_index(drop=True)


def ingest(sources: Sequence[Mapping], *, duplicates: str = "error", bad_rows: str = "error",
           region: Mapping | None = None, paths: Sequence[str] | None = None) -> tuple[pd.DataFrame, dict]:
    """Read every source ({path, format, columns, units, plate_rotation}: a ``pilm.datasets.<name>.sources``
    entry of the completed config; columns/plate_rotation may be None), remove plate rotations,
    concatenate, resolve duplicate names and select a region. Returns (table, counts)."""
    frames, counts = [], {"rows": 0, "bad_rows_dropped": 0}
    for k, src in enumerate(sources):
        path = Path(paths[k] if paths is not None else src["path"])
        df, c = read_velocities(path, src["format"], bad_rows=bad_rows, columns=src["columns"], units=src["units"])
        for key in counts:
            counts[key] += c[key]
        rot = src["plate_rotation"]
        if rot:
            ve, vn = euler_velocity(df["lon"], df["lat"], _omega_from_config(rot, str(path)))
            df["ve"] -= ve
            df["vn"] -= vn
            log.info("%s: removed plate rotation %s (mean |v| %.2f mm/yr)", path, dict(rot),
                     float(np.mean(np.hypot(ve, vn))))
        df["source"] = path.name
        frames.append(df)
    if not frames:
        raise bad_value("gnss", "sources", [], "no velocity files configured")
    df = pd.concat(frames, ignore_index=True)
    df, dup = resolve_duplicates(df, duplicates, source="+".join(str(s["path"]) for s in sources))
    counts.update(dup)
    n_before = len(df)
    df = select_region(df, region)
    counts["outside_region"] = n_before - len(df)
    counts["stations"] = len(df)
    if df.empty:
        raise bad_value("gnss", "region", dict(region or {}), "no stations inside")
    validate(df, "gnss ingest")
    log.info("gnss ingest counts: %s", counts)
    return df, counts


def to_dataset(df: pd.DataFrame, counts: Mapping | None = None, frame: str = "") -> xr.Dataset:
    """Tidy dataset on dimension ``station`` with CF units (deg, mm/yr, 1)."""
    spec = {"lon": ("degrees_east", "station longitude"), "lat": ("degrees_north", "station latitude"),
            "ve": ("mm yr-1", "east velocity"), "vn": ("mm yr-1", "north velocity"),
            "se": ("mm yr-1", "standard deviation of east velocity"),
            "sn": ("mm yr-1", "standard deviation of north velocity"),
            "rho": ("1", "correlation of east and north velocity")}
    ds = xr.Dataset(
        {k: ("station", df[k].to_numpy(dtype=float), {"units": u, "long_name": ln}) for k, (u, ln) in spec.items()},
        coords={"station": ("station", df["name"].astype(str).to_numpy(), {"long_name": "station code", "units": "1"})},
    )
    if "source" in df:
        ds["source_file"] = ("station", df["source"].astype(str).to_numpy(), {"long_name": "input file", "units": "1"})
    for k, v in (counts or {}).items():
        ds.attrs[f"count_{k}"] = int(v)
    ds.attrs["reference_frame"] = frame
    return ds


def from_dataset(ds: xr.Dataset) -> pd.DataFrame:
    """Inverse of :func:`to_dataset` (name, lon, lat, ve, vn, se, sn, rho)."""
    df = pd.DataFrame({k: ds[k].to_numpy() for k in ("lon", "lat", "ve", "vn", "se", "sn", "rho")})
    df.insert(0, "name", ds["station"].to_numpy().astype(str))
    return df
