"""Interchange with Strain_2D (Materna et al., github.com/kmaterna/Strain_2D), the community comparison of
strain-rate methods.

* Velocity table (Strain_2D ``velocity_io.write_stationvels``): ``#`` comment lines, the last one the format
  ``# Format: lon(deg) lat(deg) VE(mm) VN(mm) VU(mm) SE(mm) SN(mm) SU(mm) name(optional)`` (as the shared
  NorCal file from Strain_2D), one station per row (mm/yr).
  :func:`velocity_table` writes it (vertical columns 0: horizontal data only); the ``norcal`` reader format
  (:func:`sciml.gnss.readers.read_velocities`) reads it.
* Strain grid (Strain_2D ``output_manager.outputs_2d``): NetCDF on a regular lon/lat grid, coordinates ``x``
  (longitude) and ``y`` (latitude), variables Ve, Vn, Se, Sn (mm/yr), exx, eyy, exy, rotation, I2,
  dilatation, max_shear, azimuth, dil_sigma, max_shear_sigma, in Strain_2D's conventions: strain rates in
  nanostrain/yr (1e-9/yr), I2 = exx eyy - exy^2 ((1e-9/yr)^2), max_shear = sqrt(((exx - eyy)/2)^2 + exy^2),
  rotation = (dVe/dy - dVn/dx)/2 (clockwise positive, 1e-9 rad/yr, as ``strain_on_regular_grid``), azimuth
  of the most compressional axis (degrees clockwise from north, [0, 180)). :func:`strain2d_dataset` builds it
  (plus exx_sigma, eyy_sigma, exy_sigma, rotation_sigma, which Strain_2D's readers ignore);
  :func:`read_strain2d` reads any method's file into sciml's names (ve, vn, exx, ..., rotation
  counter-clockwise positive).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from sciml.errors import InputError

__all__ = ["velocity_table", "strain2d_dataset", "read_strain2d", "STRAIN2D_VARIABLES", "lonlat_grid"]

STRAIN2D_VARIABLES = ("Ve", "Vn", "Se", "Sn", "exx", "eyy", "exy", "azimuth", "rotation", "I2", "dilatation",
                      "dil_sigma", "max_shear", "max_shear_sigma")
_UNITS = {"Ve": "mm yr-1", "Vn": "mm yr-1", "Se": "mm yr-1", "Sn": "mm yr-1", "azimuth": "degree",
          "rotation": "1e-9 rad yr-1", "rotation_sigma": "1e-9 rad yr-1", "I2": "1e-18 yr-2"}
_LONG = {"Ve": "east velocity", "Vn": "north velocity", "Se": "std of east velocity", "Sn": "std of north velocity",
         "exx": "east-east strain rate (nanostrain/yr)", "eyy": "north-north strain rate (nanostrain/yr)",
         "exy": "east-north tensor shear strain rate (nanostrain/yr)",
         "azimuth": "azimuth of the most compressional principal axis, clockwise from north",
         "rotation": "rotation rate (dVe/dy - dVn/dx)/2, clockwise positive (Strain_2D convention)",
         "I2": "second invariant exx*eyy - exy^2 (Strain_2D convention)",
         "dilatation": "dilatation rate exx + eyy (nanostrain/yr)",
         "max_shear": "maximum shear strain rate (nanostrain/yr)", "dil_sigma": "std of dilatation rate",
         "max_shear_sigma": "std of maximum shear strain rate", "exx_sigma": "std of exx", "eyy_sigma": "std of eyy",
         "exy_sigma": "std of exy", "rotation_sigma": "std of rotation rate"}


def velocity_table(df: pd.DataFrame, header: str = "sciml velocities") -> str:
    """Strain_2D station-velocity text (module doc) from a tidy table (name, lon, lat, ve, vn, se, sn)."""
    lines = [f"# {header}", "# Format: lon(deg) lat(deg) VE(mm) VN(mm) VU(mm) SE(mm) SN(mm) SU(mm) name(optional)"]
    for r in df.itertuples(index=False):
        lines.append(f"{r.lon:f} {r.lat:f} {r.ve:f} {r.vn:f} 0.000000 {r.se:f} {r.sn:f} 0.000000 {r.name}")
    return "\n".join(lines) + "\n"


def lonlat_grid(lon: np.ndarray, lat: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Regular lon/lat axes over the box of the given points: ``n`` nodes along the side longer in km."""
    lo0, lo1, la0, la1 = float(np.min(lon)), float(np.max(lon)), float(np.min(lat)), float(np.max(lat))
    kx = (lo1 - lo0) * np.cos(np.radians(0.5 * (la0 + la1)))
    step = max(kx, la1 - la0) / (n - 1)
    nx = int(np.floor(kx / step + 1e-9)) + 1
    ny = int(np.floor((la1 - la0) / step + 1e-9)) + 1
    return np.linspace(lo0, lo1, max(nx, 2)), np.linspace(la0, la1, max(ny, 2))


def strain2d_dataset(lon: np.ndarray, lat: np.ndarray, mean: dict, std: dict, *, method: str) -> xr.Dataset:
    """Strain_2D grid (module doc) from sciml means/stds (dicts of ve, vn, exx, eyy, exy, rotation, ...) on the
    (len(lat), len(lon)) grid of the 1-D axes ``lon``, ``lat``."""
    shape = (len(lat), len(lon))
    g = {k: np.asarray(v, dtype=float).reshape(shape) for k, v in mean.items()}
    s = {k: np.asarray(v, dtype=float).reshape(shape) for k, v in std.items()}
    shortening = np.mod(np.asarray(g["azimuth_e1"]) + 90.0, 180.0)
    data = {"Ve": g["ve"], "Vn": g["vn"], "Se": s["ve"], "Sn": s["vn"], "exx": g["exx"], "eyy": g["eyy"],
            "exy": g["exy"], "azimuth": shortening, "rotation": -g["rotation"],
            "I2": g["exx"] * g["eyy"] - g["exy"] ** 2, "dilatation": g["dilatation"], "dil_sigma": s["dilatation"],
            "max_shear": g["max_shear"], "max_shear_sigma": s["max_shear"], "exx_sigma": s["exx"],
            "eyy_sigma": s["eyy"], "exy_sigma": s["exy"], "rotation_sigma": s["rotation"]}
    ds = xr.Dataset(coords={"x": ("x", np.asarray(lon, float), {"units": "degrees_east", "long_name": "longitude"}),
                            "y": ("y", np.asarray(lat, float), {"units": "degrees_north", "long_name": "latitude"})})
    for k, v in data.items():
        ds[k] = (("y", "x"), v, {"units": _UNITS.get(k, "1e-9 yr-1"), "long_name": _LONG[k]})
    ds.attrs.update({"strain_method": method, "strain2d_format": "Strain_2D outputs_2d grid (kmaterna/Strain_2D)",
                     "strain_units": "nanostrain/yr (1e-9 yr-1)"})
    return ds


def read_strain2d(path) -> xr.Dataset:
    """A Strain_2D strain grid (any method) in sciml's names and signs: lon, lat axes; ve, vn (mm/yr); exx,
    eyy, exy, dilatation, max_shear, rotation (counter-clockwise positive), I2, azimuth of the shortening
    axis; ve_std, vn_std, dilatation_std, max_shear_std where present."""
    try:
        raw = xr.load_dataset(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read Strain_2D NetCDF ({exc})") from exc
    need = ("Ve", "Vn", "exx", "eyy", "exy", "rotation", "dilatation", "max_shear")
    missing = [k for k in need if k not in raw]
    if missing or "x" not in raw.coords or "y" not in raw.coords:
        raise InputError(f"{path}: field {missing or 'x/y'!r} = missing: not a Strain_2D strain grid "
                         f"(variables {sorted(raw.data_vars)})")
    names = {"Ve": "ve", "Vn": "vn", "Se": "ve_std", "Sn": "vn_std", "exx": "exx", "eyy": "eyy", "exy": "exy",
             "dilatation": "dilatation", "max_shear": "max_shear", "I2": "I2", "azimuth": "azimuth_shortening",
             "dil_sigma": "dilatation_std", "max_shear_sigma": "max_shear_std"}
    out = xr.Dataset(coords={"lon": ("lon", raw["x"].values, {"units": "degrees_east", "long_name": "longitude"}),
                             "lat": ("lat", raw["y"].values, {"units": "degrees_north", "long_name": "latitude"})})
    for k, v in names.items():
        if k in raw:
            out[v] = (("lat", "lon"), raw[k].values, {"units": _UNITS.get(k, "1e-9 yr-1"), "long_name": _LONG[k]})
    out["rotation"] = (("lat", "lon"), -raw["rotation"].values,
                       {"units": "1e-9 rad yr-1", "long_name": "rotation rate, counter-clockwise positive"})
    return out
