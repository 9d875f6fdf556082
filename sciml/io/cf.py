"""CF conventions enforced by the writer (part of the lineage contract of :mod:`sciml.io.netcdf`).

:func:`normalise` fixes what can be fixed from the data themselves, :func:`problems` names what cannot; the
IOOS compliance checker (``compliance-checker -t cf:1.10``) is the external judge, run in the tests.

* ``lon``/``lat`` (and ``longitude``/``latitude``, also as a suffix: ``patch_lon``) variables in ``degrees_east``/``degrees_north`` get their
  ``standard_name`` and become (auxiliary) coordinates, so every variable over their dimensions names them in
  its ``coordinates`` attribute; ``depth`` in a length unit gets ``standard_name = depth``, ``positive = down``.
* Flag variables (``flag_meanings``) get ``flag_values`` as an array of the variable's own type, one value per
  meaning.
* 64-bit integers that fit are stored as 32-bit (readers without NetCDF-4 types).
* ``units`` must parse by UDUNITS (``cf_units``, through :func:`sciml.units.parse`). A vector whose elements have different units (e.g. fault
  parameters in m and degrees) carries no ``units`` but ``units_metadata = "see <variable>"`` naming a text
  variable with the unit of each element along the same dimension.
* Projected grids: :func:`local_grid_mapping` describes sciml's local tangent-plane frame
  (:mod:`sciml.geo`, the ellipsoidal orthographic projection about ``lon0, lat0``) for ``x``/``y`` axes.
"""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from sciml import units as units_lib

GEO = {"lon": ("longitude", "degrees_east"), "longitude": ("longitude", "degrees_east"),
       "lat": ("latitude", "degrees_north"), "latitude": ("latitude", "degrees_north")}
GRID_MAPPING = "crs"
_SEE = re.compile(r"^see (?P<var>[A-Za-z_][A-Za-z0-9_]*)$")


def valid_units(units: str) -> bool:
    """True if UDUNITS parses ``units`` (the parser of :mod:`sciml.units`)."""
    return units_lib.valid(units)


def _is_length(units: str) -> bool:
    return units_lib.convertible(units, "m")


def local_grid_mapping(ds: xr.Dataset, lon0: float, lat0: float, *, x: str = "x", y: str = "y") -> xr.Dataset:
    """Declare ``x``/``y`` (east/north in a length unit) as projection coordinates of sciml's local frame about
    (lon0, lat0): the WGS84 ellipsoidal orthographic projection (tangent plane, :func:`sciml.geo.lonlat_to_enu`)
    in a ``crs`` grid-mapping variable referenced by every variable on the grid. Returns a new dataset."""
    from sciml.geo import WGS84_A, WGS84_F

    out = ds.copy()
    out[GRID_MAPPING] = xr.DataArray(np.int32(0), attrs={
        "grid_mapping_name": "orthographic", "longitude_of_projection_origin": float(lon0),
        "latitude_of_projection_origin": float(lat0), "false_easting": 0.0, "false_northing": 0.0,
        "semi_major_axis": WGS84_A, "inverse_flattening": 1.0 / WGS84_F,
        "long_name": "local tangent-plane frame (sciml.geo.lonlat_to_enu)"})
    out[x].attrs["standard_name"] = "projection_x_coordinate"
    out[y].attrs["standard_name"] = "projection_y_coordinate"
    for name, var in out.data_vars.items():
        if name != GRID_MAPPING and x in var.dims and y in var.dims:
            var.attrs["grid_mapping"] = GRID_MAPPING
    return out


def normalise(ds: xr.Dataset) -> xr.Dataset:
    """A copy of ``ds`` with the fixes listed in the module docstring applied."""
    out = ds.copy()
    geo = []
    for name in list(out.variables):
        var = out[name]
        key = str(name).lower()
        if var.ndim and not key.startswith("metric_") and key.rsplit("_", 1)[-1] in GEO:
            key = key.rsplit("_", 1)[-1]  # e.g. tri_lon, patch_lat (not a 0-d metric such as metric_peak_lat)
        if key in GEO and var.attrs.get("units") == GEO[key][1]:
            var.attrs.setdefault("standard_name", GEO[key][0])
            if name in out.data_vars:
                geo.append(name)
        elif key == "depth" and _is_length(var.attrs.get("units", "")):
            var.attrs.setdefault("standard_name", "depth")
            var.attrs.setdefault("positive", "down")
    if geo:
        out = out.set_coords(geo)
    for name in list(out.variables):
        var = out[name]
        if "flag_meanings" in var.attrs and isinstance(var.attrs.get("flag_values"), str):
            var.attrs["flag_values"] = np.array(var.attrs["flag_values"].split(), dtype=var.dtype)
        if var.dtype == np.int64 and var.size and np.abs(var.values).max() < 2**31:
            out[name] = var.astype(np.int32)
            out[name].attrs = var.attrs
            out[name].encoding = {k: v for k, v in var.encoding.items() if k != "dtype"}
    return out


def problems(ds: xr.Dataset) -> list[str]:
    """CF problems the writer cannot fix: unparseable units, malformed flags, dangling unit references."""
    found = []
    for name, var in ds.variables.items():
        units = var.attrs.get("units")
        if units is not None and not valid_units(str(units)):
            found.append(f"{name}: units {units!r} not recognised by UDUNITS (mixed units along a dimension: "
                         "omit units and set units_metadata = 'see <text variable>')")
        meta = var.attrs.get("units_metadata")
        if meta is not None:
            m = _SEE.match(str(meta))
            if not m or m["var"] not in ds.variables or not set(ds[m["var"]].dims) <= set(var.dims):
                found.append(f"{name}: units_metadata {meta!r} must name a text variable on one of its dimensions")
        if "flag_meanings" in var.attrs:
            n = len(str(var.attrs["flag_meanings"]).split())
            vals = np.atleast_1d(var.attrs.get("flag_values", []))
            if len(vals) != n:
                found.append(f"{name}: {len(vals)} flag_values for {n} flag_meanings")
    return found
