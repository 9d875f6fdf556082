"""Readers for GNSS horizontal-velocity tables into one tidy station table (pandas) and NetCDF dataset.

Formats (``fmt``):

* ``pbo``: PBO/GAGE "PBO Velocity file 1.1.0" (header, ``*`` column line, 30 columns, lon 0-360,
  m/yr, Rne correlation; a station may repeat on several rows, one per reference epoch);
* ``norcal``: whitespace ``lon lat VE VN VU SE SN SU [name]`` (mm/yr, ``#`` comments);
* ``unr``: Nevada Geodetic Laboratory ``lon lat VE VN SE SN corr name`` (mm/yr);
* ``cmm4``: SCEC CMM4 ``site lon lat Ve sigVe Vn sigVn corr ...`` (mm/yr);
* ``midas``: MIDAS velocities, either the 9-column box subsets ``site lon lat Ve Vn sigVe sigVn 1 span``
  (mm/yr) or the 27-column NGL files described in midas.readme.txt (m/yr; lat, lon in columns 25-26);
* ``csv``: comma-separated with a header; ``columns`` maps our fields to the file's column names and
  ``units`` is ``mm/yr`` or ``m/yr``.

Output columns: name, lon (deg, [-180, 180)), lat (deg), ve, vn, se, sn (mm/yr), rho (E-N correlation, 1).
Every malformed value raises :class:`sciml.errors.InputError` naming file, line and field, or with
``bad_rows="drop"`` is dropped, counted and logged. Duplicate station names are resolved by
:func:`resolve_duplicates` according to a policy; nothing is dropped silently.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from sciml.errors import InputError, bad_value
from sciml.geo import wrap_longitude
from sciml.io.text import read_text, text_lines
from sciml.units import check_plausible, factor

__all__ = ["FORMATS", "FIELDS", "read_velocities", "resolve_duplicates", "validate"]

log = logging.getLogger(__name__)

FIELDS = ("name", "lon", "lat", "ve", "vn", "se", "sn", "rho")
NUMERIC = FIELDS[1:]

# column index of each field, unit scale to mm/yr, minimum column count
_LAYOUTS: dict[str, dict] = {
    "pbo": {"cols": {"name": 0, "lat": 7, "lon": 8, "vn": 19, "ve": 20, "sn": 22, "se": 23, "rho": 25},
            "scale": 1000.0, "ncol": 30},
    "norcal": {"cols": {"lon": 0, "lat": 1, "ve": 2, "vn": 3, "se": 5, "sn": 6, "name": 8},
               "scale": 1.0, "ncol": 8},
    "unr": {"cols": {"lon": 0, "lat": 1, "ve": 2, "vn": 3, "se": 4, "sn": 5, "rho": 6, "name": 7},
            "scale": 1.0, "ncol": 8},
    "cmm4": {"cols": {"name": 0, "lon": 1, "lat": 2, "ve": 3, "se": 4, "vn": 5, "sn": 6, "rho": 7},
             "scale": 1.0, "ncol": 8},
    "midas": {"cols": {"name": 0, "lon": 1, "lat": 2, "ve": 3, "vn": 4, "se": 5, "sn": 6},
              "scale": 1.0, "ncol": 7},
    "midas_ngl": {"cols": {"name": 0, "ve": 8, "vn": 9, "se": 11, "sn": 12, "lat": 24, "lon": 25},
                  "scale": 1000.0, "ncol": 27},
}
FORMATS = ("pbo", "norcal", "unr", "cmm4", "midas", "csv")


def _data_lines(path: Path, fmt: str) -> list[tuple[int, list[str]]]:
    """(line number, tokens) of the data rows; PBO rows start after the ``*`` column-header line."""
    lines = text_lines(path, "velocity")  # missing, binary or gzip files stop naming the file
    start = 0
    if fmt == "pbo":
        star = [i for i, ln in enumerate(lines) if ln.startswith("*")]
        if not star:
            raise InputError(f"{path}: field 'header' = missing: no '*' column-header line (not a PBO .vel file)")
        start = star[0] + 1
    out = []
    for i in range(start, len(lines)):
        s = lines[i].strip()
        if s and not s.startswith("#"):
            out.append((i + 1, s.split()))
    return out


def _parse_table(path: Path, fmt: str, bad_rows: str) -> tuple[pd.DataFrame, int]:
    rows = _data_lines(path, fmt)
    if fmt == "midas" and rows and len(rows[0][1]) >= 27:
        fmt = "midas_ngl"
    lay = _LAYOUTS[fmt]
    cols, scale = lay["cols"], lay["scale"]

    def make(lineno: int, tok: list[str]):
        def build() -> dict:
            if len(tok) < lay["ncol"]:
                raise bad_value(f"{path}:{lineno}", "columns", len(tok), f"expected at least {lay['ncol']} "
                                f"whitespace-separated columns for format {fmt!r}")
            name = tok[cols["name"]] if "name" in cols and cols["name"] < len(tok) else f"L{lineno:06d}"
            return _record(f"{path}:{lineno}", name, {f: tok[i] for f, i in cols.items() if f != "name"}, scale)
        return build

    return _collect((make(lineno, tok) for lineno, tok in rows), bad_rows)


def _record(where: str, name: str, tokens: Mapping[str, object], scale: float,
            labels: Mapping[str, str] | None = None) -> dict:
    """One validated record from raw tokens; velocities and sigmas times ``scale`` (to mm/yr); rho 0 if absent."""
    rec: dict = {"name": name}
    for f in NUMERIC:
        if f not in tokens:
            rec[f] = 0.0
            continue
        t = tokens[f]
        try:
            v = float(t)
        except (TypeError, ValueError):
            raise InputError(f"{where}: field {f!r}{(labels or {}).get(f, '')} = {t!r}: not a number") from None
        rec[f] = v * scale if f in ("ve", "vn", "se", "sn") else v
    _check_record(rec, where)
    return rec


def _collect(builders, bad_rows: str) -> tuple[pd.DataFrame, int]:
    """Run record builders; InputError raises (bad_rows='error') or drops the row with a logged warning."""
    recs, dropped = [], 0
    for build in builders:
        try:
            recs.append(build())
        except InputError as exc:
            if bad_rows == "error":
                raise
            dropped += 1
            log.warning("dropped bad row: %s", exc)
    return pd.DataFrame(recs, columns=list(FIELDS)), dropped


def _check_record(rec: Mapping, where: str) -> None:
    """Raise InputError for non-finite values, latitude/longitude out of range, sigmas <= 0, |rho| > 1."""
    for f in NUMERIC:
        if not np.isfinite(rec[f]):
            raise bad_value(where, f, rec[f], "not finite")
    if not -90.0 <= rec["lat"] <= 90.0:
        raise bad_value(where, "lat", rec["lat"], "outside [-90, 90] degrees")
    if not -180.0 <= rec["lon"] <= 360.0:
        raise bad_value(where, "lon", rec["lon"], "outside [-180, 360] degrees")
    for f in ("se", "sn"):
        if not rec[f] > 0:
            raise bad_value(where, f, rec[f], "standard deviation must be > 0")
    if not -1.0 <= rec["rho"] <= 1.0:
        raise bad_value(where, "rho", rec["rho"], "correlation outside [-1, 1]")
    for f in ("ve", "vn"):  # mm/yr; a mislabelled unit (m/yr on mm/yr data) lands far outside
        check_plausible(rec[f], "gnss_velocity", where=where, field=f)
    for f in ("se", "sn"):
        check_plausible(rec[f], "gnss_velocity_sigma", where=where, field=f)


def _parse_csv(path: Path, columns: Mapping[str, str] | None, units: str, bad_rows: str) -> tuple[pd.DataFrame, int]:
    try:
        raw = pd.read_csv(io.StringIO(read_text(path, "CSV velocity")), comment="#", skipinitialspace=True,
                          dtype=str)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: cannot parse CSV ({exc})") from exc
    # no mapping: the columns are named as our fields (rho optional, 0 when absent)
    columns = dict(columns or {f: f for f in FIELDS if f != "rho" or "rho" in raw.columns})
    for f in FIELDS:
        if f == "rho" and f not in columns:
            continue
        if f not in columns:
            raise InputError(f"{path}: field {f!r} = missing: no column mapping given in config 'columns'")
        if columns[f] not in raw.columns:
            raise bad_value(str(path), f, columns[f], f"column not in header {list(raw.columns)}")
    scale = factor(units, "mm yr-1", where=f"{path} (config 'units')", field="ve/vn/se/sn")  # cf_units
    labels = {f: f" (column {c!r})" for f, c in columns.items()}

    def make(i: int, row):
        def build() -> dict:
            toks = {f: row[columns[f]] for f in NUMERIC if f in columns}
            return _record(f"{path}:{int(i) + 2}", str(row[columns["name"]]).strip(), toks, scale, labels)
        return build  # line = index + 2: the header is line 1

    return _collect((make(i, row) for i, row in raw.iterrows()), bad_rows)


def read_velocities(path, fmt: str, *, bad_rows: str = "error", columns: Mapping[str, str] | None = None,
                    units: str = "mm/yr") -> tuple[pd.DataFrame, dict]:
    """Read one velocity file; returns (table, counts) with counts {'rows', 'bad_rows_dropped'}."""
    path = Path(path)
    if fmt not in FORMATS:
        raise bad_value(str(path), "format", fmt, f"expected one of {FORMATS}")
    if bad_rows not in ("error", "drop"):
        raise bad_value(str(path), "bad_rows", bad_rows, "expected 'error' or 'drop'")
    if fmt == "csv":
        df, dropped = _parse_csv(path, columns, units, bad_rows)
    else:
        df, dropped = _parse_table(path, fmt, bad_rows)
    if df.empty:
        raise bad_value(str(path), "rows", 0, "no valid velocity rows")
    df["lon"] = wrap_longitude(df["lon"].to_numpy())
    if dropped:
        log.warning("%s: dropped %d bad rows (bad_rows='drop')", path, dropped)
    return df, {"rows": len(df) + dropped, "bad_rows_dropped": dropped}


def resolve_duplicates(df: pd.DataFrame, policy: str = "error", *, source: str = "velocities",
                       tol_mm_yr: float = 0.01, tol_deg: float = 1e-3) -> tuple[pd.DataFrame, dict]:
    """Collapse rows sharing a station name.

    Rows that agree (velocities and sigmas spread <= 2 ``tol_mm_yr``, positions <= 2 ``tol_deg``) are
    identical duplicates and always collapse to the first (counted). Conflicting duplicates follow
    ``policy``: ``error`` (raise naming the station), ``first`` (keep the first row), ``mean``
    (inverse-variance weighted mean velocity, sigma of the mean), ``drop`` (remove the station).
    Returns (table, counts) with counts identical_rows_merged, conflicting_stations, conflicting_rows_removed.
    """
    if policy not in ("error", "first", "mean", "drop"):
        raise bad_value(source, "duplicates", policy, "expected error|first|mean|drop")
    counts = {"identical_rows_merged": 0, "conflicting_stations": 0, "conflicting_rows_removed": 0}
    grp = df.groupby("name", sort=False)
    size = grp["ve"].transform("size").to_numpy()
    vcols = ["ve", "vn", "se", "sn"]
    spread_v = (grp[vcols].transform("max") - grp[vcols].transform("min")).max(axis=1)
    spread_p = (grp[["lon", "lat"]].transform("max") - grp[["lon", "lat"]].transform("min")).max(axis=1)
    agree = (spread_v.to_numpy() <= 2 * tol_mm_yr) & (spread_p.to_numpy() <= 2 * tol_deg)
    first = ~df.duplicated("name", keep="first").to_numpy()
    simple = agree | (size == 1)  # singletons and identical duplicates: keep the first row
    counts["identical_rows_merged"] = int(np.sum(simple & ~first))
    keep = [df[simple & first]]
    for name, g in df[~simple].groupby("name", sort=False):
        counts["conflicting_stations"] += 1
        if policy == "error":
            raise bad_value(source, "name", name, f"{len(g)} rows with conflicting velocities (ve {g['ve'].tolist()}, "
                            f"vn {g['vn'].tolist()} mm/yr); set duplicates to first|mean|drop")
        if policy == "first":
            counts["conflicting_rows_removed"] += len(g) - 1
            keep.append(g.iloc[:1])
        elif policy == "drop":
            counts["conflicting_rows_removed"] += len(g)
        else:  # mean
            row = g.iloc[0].copy()
            for c, s in (("ve", "se"), ("vn", "sn")):
                w = 1.0 / g[s].to_numpy() ** 2
                row[c] = float(np.sum(w * g[c].to_numpy()) / w.sum())
                row[s] = float(1.0 / np.sqrt(w.sum()))
            row["lon"], row["lat"] = float(g["lon"].mean()), float(g["lat"].mean())
            counts["conflicting_rows_removed"] += len(g) - 1
            keep.append(pd.DataFrame([row], columns=df.columns, index=[g.index[0]]))
    out = pd.concat(keep).sort_index(kind="stable").reset_index(drop=True)
    if counts["identical_rows_merged"] or counts["conflicting_stations"]:
        log.info("%s: duplicates %s (policy %r)", source, counts, policy)
    return out, counts


def validate(df: pd.DataFrame, source: str) -> None:
    """Re-check a combined table (finite values, ranges) before it is written."""
    for i, row in enumerate(df.itertuples(index=False)):
        _check_record(row._asdict(), f"{source}: station {row.name!r} (row {i})")
