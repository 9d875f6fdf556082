"""Readers for hypoDD / ph2dt phase files and station lists (Waldhauser 2001, USGS OFR 01-113).

Phase file (``*.pha``)::

    # yr mo dy hr mn sec lat lon depth mag eh ez rms id      (event header; depth km, eh/ez/rms km, s)
    STA  traveltime_s  weight  P|S                           (one line per pick, time since origin)

Station list (``station.sel``): ``STA lat lon [elev]`` (degrees, elevation in metres).
Every parse error raises :class:`sciml.errors.InputError` naming the file, line, field and value.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sciml.errors import InputError, bad_value
from sciml.io.text import text_lines
from sciml.units import check_plausible

log = logging.getLogger(__name__)

EVENT_FIELDS = ("year", "month", "day", "hour", "minute", "second", "lat", "lon", "depth_km", "mag",
                "eh_km", "ez_km", "rms_s", "event_id")
PICK_FIELDS = ("station", "traveltime_s", "weight", "phase")


@dataclass
class PhaseCatalog:
    """Events (one row per event) and picks (one row per pick, ``event_id`` links them)."""

    events: pd.DataFrame
    picks: pd.DataFrame
    path: Path

    def p_picks(self, min_weight: float = 0.0) -> pd.DataFrame:
        """P picks with ``weight > min_weight`` joined with their event hypocentres."""
        p = self.picks[(self.picks.phase == "P") & (self.picks.weight > min_weight)]
        return p.merge(self.events[["event_id", "lat", "lon", "depth_km"]], on="event_id", how="left")


def _num(tok: str, path: Path, lineno: int, field: str, kind: type = float) -> float | int:
    try:
        value = kind(tok)
    except ValueError:
        raise bad_value(f"{path}: line {lineno}", field, tok, "not a number") from None
    if kind is float and not np.isfinite(value):
        raise bad_value(f"{path}: line {lineno}", field, tok, "not finite")
    return value


def read_phase_file(path: str | Path) -> PhaseCatalog:
    """Parse a hypoDD phase file into a :class:`PhaseCatalog`."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: field 'path': phase file not found")
    events: list[dict] = []
    picks: list[dict] = []
    current: int | None = None
    # the text is read whole: binary or gzip files stop with a named error (sciml.io.text)
    for lineno, line in enumerate(text_lines(path, "hypoDD phase"), 1):
        tok = line.split()
        if not tok:
            continue
        if tok[0] == "#":
            if len(tok) != 15:
                raise bad_value(f"{path}: line {lineno}", "event header", line.strip(),
                                f"expected 14 values after '#' ({' '.join(EVENT_FIELDS)}), got {len(tok) - 1}")
            vals = {}
            for f, t in zip(EVENT_FIELDS, tok[1:]):
                kind = int if f in ("year", "month", "day", "hour", "minute", "event_id") else float
                vals[f] = _num(t, path, lineno, f, kind)
            if not (-90 <= vals["lat"] <= 90 and -360 <= vals["lon"] <= 360):
                raise bad_value(f"{path}: line {lineno}", "lat/lon", (vals["lat"], vals["lon"]),
                                "outside the globe")
            try:
                origin = dt.datetime(vals["year"], vals["month"], vals["day"], vals["hour"], vals["minute"]) + \
                    dt.timedelta(seconds=vals["second"])
            except ValueError as err:
                raise bad_value(f"{path}: line {lineno}", "origin time", " ".join(tok[1:7]), str(err)) from None
            check_plausible(vals["depth_km"], "depth", where=f"{path}:{lineno}", field="depth_km")
            current = vals["event_id"]
            events.append({"event_id": current, "origin_time": origin, **{k: vals[k] for k in (
                "lat", "lon", "depth_km", "mag", "eh_km", "ez_km", "rms_s")}})
            continue
        if current is None:
            raise bad_value(f"{path}: line {lineno}", "pick", line.strip(), "pick before any '#' header")
        if len(tok) != 4:
            raise bad_value(f"{path}: line {lineno}", "pick", line.strip(), f"expected '{' '.join(PICK_FIELDS)}'")
        phase = tok[3].upper()
        if phase not in ("P", "S"):
            raise bad_value(f"{path}: line {lineno}", "phase", tok[3], "expected P or S")
        t = _num(tok[1], path, lineno, "traveltime_s")
        if t < 0:
            raise bad_value(f"{path}: line {lineno}", "traveltime_s", t, "negative")
        check_plausible(t, "traveltime", where=f"{path}: line {lineno}", field="traveltime_s")
        picks.append({"event_id": current, "station": tok[0], "traveltime_s": t,
                      "weight": _num(tok[2], path, lineno, "weight"), "phase": phase})
    if not events:
        raise InputError(f"{path}: field 'events': no '#' event header found (not a hypoDD phase file?)")
    ev = pd.DataFrame(events)
    dup = ev.event_id[ev.event_id.duplicated()]
    if len(dup):
        raise bad_value(str(path), "event_id", int(dup.iloc[0]), "duplicated")
    return PhaseCatalog(ev, pd.DataFrame(picks, columns=["event_id", *PICK_FIELDS]), path)


def _records(path: Path, what: str):
    """``(line number, line, tokens)`` of the non-blank lines of a text file, ``#`` comments removed."""
    if not path.is_file():
        raise InputError(f"{path}: field 'path': {what} file not found")
    for lineno, line in enumerate(text_lines(path, what), 1):
        tok = line.split("#")[0].split()
        if tok:
            yield lineno, line, tok


def read_stations(path: str | Path) -> pd.DataFrame:
    """Parse a station list ``STA lat lon [elev_m]`` into a DataFrame (``elev_m`` = 0 when absent)."""
    path = Path(path)
    rows = []
    for lineno, line, tok in _records(path, "station"):
        if len(tok) not in (3, 4):
            raise bad_value(f"{path}: line {lineno}", "station", line.strip(), "expected 'STA lat lon [elev]'")
        lat = _num(tok[1], path, lineno, "lat")
        lon = _num(tok[2], path, lineno, "lon")
        if not (-90 <= lat <= 90 and -360 <= lon <= 360):
            raise bad_value(f"{path}: line {lineno}", "lat/lon", (lat, lon), "outside the globe")
        elev = _num(tok[3], path, lineno, "elev") if len(tok) == 4 else 0.0
        rows.append({"station": tok[0], "lat": lat, "lon": lon, "elev_m": elev})
    st = pd.DataFrame(rows, columns=["station", "lat", "lon", "elev_m"])
    if st.empty:
        raise InputError(f"{path}: field 'stations': no station lines")
    dup = st.station[st.station.duplicated()]
    if len(dup):
        raise bad_value(str(path), "station", str(dup.iloc[0]), "listed twice")
    return st


def read_velocity_model(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a 1-D model ``top_depth_km vp_km_s`` per line ('#' comments) -> ``(tops, vp)``."""
    path = Path(path)
    rows = []
    for lineno, line, tok in _records(path, "velocity model"):
        if len(tok) < 2:
            raise bad_value(f"{path}: line {lineno}", "layer", line.strip(), "expected 'top_km vp_km_s'")
        rows.append((_num(tok[0], path, lineno, "top_depth_km"), _num(tok[1], path, lineno, "vp_km_s")))
        check_plausible(rows[-1][1], "seismic_velocity", where=f"{path}: line {lineno}", field="vp_km_s")
    if not rows:
        raise InputError(f"{path}: field 'layers': none found")
    tops, vp = (np.array(c) for c in zip(*rows))
    if np.any(np.diff(tops) <= 0) or np.any(vp <= 0):
        raise bad_value(str(path), "top_depth_km/vp_km_s", (tops.tolist(), vp.tolist()),
                        "tops must increase and velocities be > 0")
    return tops, vp


def pick_table(catalog: PhaseCatalog, stations: pd.DataFrame, *, phase: str = "P", min_weight: float = 0.0,
               max_offset_km: float | None = None) -> pd.DataFrame:
    """Picks of one phase with source-receiver geometry: horizontal offset (km), source depth (km), station
    elevation (km), traveltime (s), weight. Every pick is accounted for in ``table.attrs["counts"]`` (and the
    log): other phase or weight <= ``min_weight``, at a station missing from ``stations`` (dropped: the
    geometry is unknown), duplicated (the same event, station and phase: identical ones merged, conflicting
    ones an error), beyond ``max_offset_km``, used."""
    from sciml.geo import lonlat_to_enu

    all_picks = catalog.picks
    p = all_picks[(all_picks.phase == phase.upper()) & (all_picks.weight > min_weight)]
    counts = {"picks": len(all_picks), "other_phase_or_low_weight": len(all_picks) - len(p)}
    dup = p.duplicated(["event_id", "station", "phase"], keep="first")
    if dup.any():
        conflict = p[dup].merge(p[~dup], on=["event_id", "station", "phase"], suffixes=("", "_first"))
        conflict = conflict[conflict.traveltime_s != conflict.traveltime_s_first]
        if len(conflict):
            c = conflict.iloc[0]
            raise bad_value(str(catalog.path), "pick", f"event {int(c.event_id)} {c.station} {c.phase}",
                            f"picked twice with different traveltimes ({c.traveltime_s_first} and {c.traveltime_s} s)")
        p = p[~dup]
    counts["duplicates_merged"] = int(dup.sum())
    known = p.station.isin(stations.station)
    counts["unknown_station"] = int((~known).sum())
    if counts["unknown_station"]:
        missing = sorted(set(p.station[~known]))
        log.warning("%s: %d %s pick(s) at %d station(s) missing from the station list dropped: %s%s",
                    catalog.path, counts["unknown_station"], phase.upper(), len(missing), ", ".join(missing[:10]),
                    " ..." if len(missing) > 10 else "")
    p = p[known]
    p = p.merge(catalog.events[["event_id", "lat", "lon", "depth_km"]], on="event_id")
    p = p.merge(stations.rename(columns={"lat": "st_lat", "lon": "st_lon"}), on="station", how="inner")
    lat0, lon0 = float(catalog.events.lat.mean()), float(catalog.events.lon.mean())
    ex, ey = lonlat_to_enu(p.lon.to_numpy(), p.lat.to_numpy(), lon0, lat0)
    sx, sy = lonlat_to_enu(p.st_lon.to_numpy(), p.st_lat.to_numpy(), lon0, lat0)
    p = p.assign(offset_km=np.hypot(np.asarray(ex) - sx, np.asarray(ey) - sy) / 1000.0, elev_km=p.elev_m / 1000.0)
    n = len(p)
    if max_offset_km is not None:
        p = p[p.offset_km <= max_offset_km]
    counts.update(beyond_max_offset=n - len(p), used=len(p))
    log.info("%s: picks %s", catalog.path, counts)
    p = p.reset_index(drop=True)
    p.attrs["counts"] = counts
    return p
