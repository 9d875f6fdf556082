"""Synthetic interseismic velocity field with an exact strain rate: screw dislocation below a locked fault.

Fault-parallel velocity v = (V / pi) arctan(p / D) (Savage & Burford 1973), p the signed distance from a
vertical strike-slip fault of azimuth ``strike`` (degrees clockwise from north) through the origin,
D the locking depth (km), V the slip rate (mm/yr, positive right-lateral). The velocity gradient is
dv_i/dx_j = s_i n_j (V/pi) D / (D^2 + p^2) with s the strike and n the right-hand normal unit vectors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sciml.geo import enu_to_lonlat

__all__ = ["screw_dislocation", "synthetic_stations"]


def _frame(strike_deg: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.radians(strike_deg)
    s = np.array([np.sin(t), np.cos(t)])  # along strike (east, north)
    n = np.array([np.cos(t), -np.sin(t)])  # to the right of the strike direction
    return s, n


def screw_dislocation(x_km, y_km, *, slip_rate: float = 30.0, locking_depth: float = 15.0,
                      strike: float = -40.0) -> dict[str, np.ndarray]:
    """Velocities (mm/yr) and exact velocity gradients ((mm/yr)/km) at points x, y (km)."""
    x, y = np.asarray(x_km, float), np.asarray(y_km, float)
    s, n = _frame(strike)
    p = x * n[0] + y * n[1]
    # right-lateral: the side at positive p moves opposite to the strike direction
    v = -(slip_rate / np.pi) * np.arctan(p / locking_depth)
    g = -(slip_rate / np.pi) * locking_depth / (locking_depth**2 + p**2)
    return {"ve": v * s[0], "vn": v * s[1], "dve_dx": g * s[0] * n[0], "dve_dy": g * s[0] * n[1],
            "dvn_dx": g * s[1] * n[0], "dvn_dy": g * s[1] * n[1]}


def synthetic_stations(n_stations: int = 150, half_width_km: float = 150.0, *, sigma: float = 0.5,
                       lon0: float = -121.0, lat0: float = 37.0, seed: int = 0, **fault) -> pd.DataFrame:
    """Random stations in a square (km) around (lon0, lat0), noisy screw-dislocation velocities (mm/yr)."""
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-half_width_km, half_width_km, size=(n_stations, 2))
    f = screw_dislocation(xy[:, 0], xy[:, 1], **fault)
    return _station_table("S", xy, f, sigma, rng, lon0, lat0)


# ------------------------------------------------------------------ locked faults from the Okada model
#: default two-fault interseismic scene: a locked vertical strike-slip fault through the box and a
#: locked dipping thrust of finite length (steady slip below each locking depth); lengths km, rates mm/yr
LOCKED_FAULTS = (
    {"kind": "strike-slip", "east": 0.0, "north": 0.0, "strike": -40.0, "dip": 90.0, "locking_depth": 15.0,
     "length": 2000.0, "width": 2000.0, "rate": 30.0, "rake": 180.0},
    {"kind": "thrust", "east": 60.0, "north": -70.0, "strike": 70.0, "dip": 20.0, "locking_depth": 20.0,
     "length": 200.0, "width": 300.0, "rate": 20.0, "rake": 90.0},
)


def locked_faults(x_km, y_km, faults=LOCKED_FAULTS, *, nu: float = 0.25) -> dict[str, np.ndarray]:
    """Interseismic surface velocities (mm/yr) and exact velocity gradients ((mm/yr)/km) of faults locked
    above ``locking_depth`` (km) and slipping steadily at ``rate`` (mm/yr, ``rake`` in degrees, Aki-Richards)
    below it, down dip over ``width`` km, each along ``length`` km centred on (east, north) (km) — the deep
    slip of :func:`sciml.okada.rectangle` (Okada 1992 half-space, Poisson ratio ``nu``). Continuous at the
    surface (no slip reaches it); the screw dislocation of :func:`screw_dislocation` is the limit of one
    infinitely long, infinitely deep vertical strike-slip fault."""
    import torch

    from sciml.okada import rectangle

    x, y = np.asarray(x_km, float), np.asarray(y_km, float)
    st = torch.as_tensor(np.stack([x.ravel(), y.ravel()], -1) * 1000.0, dtype=torch.float64)
    out = {k: np.zeros(x.size) for k in ("ve", "vn", "dve_dx", "dve_dy", "dvn_dx", "dvn_dy")}
    for f in faults:
        t = np.radians(f["strike"])
        dip = np.radians(f["dip"])
        # top centre of the deep rectangle: the locking depth, shifted down dip from the surface trace at (east, north)
        off = f["locking_depth"] / np.tan(dip) if f["dip"] < 90.0 else 0.0
        e0 = f["east"] + off * np.cos(t)  # down dip = to the right of strike
        n0 = f["north"] - off * np.sin(t)
        d = rectangle(st, east=e0 * 1000.0, north=n0 * 1000.0, depth=f["locking_depth"] * 1000.0,
                      strike=f["strike"], dip=f["dip"], length=f["length"] * 1000.0, width=f["width"] * 1000.0,
                      slip=f["rate"] / 1000.0, rake=f["rake"], nu=nu)
        u, g = d.u.numpy(), d.grad.numpy()
        out["ve"] += 1000.0 * u[:, 0]
        out["vn"] += 1000.0 * u[:, 1]
        for k, (i, j) in {"dve_dx": (0, 0), "dve_dy": (0, 1), "dvn_dx": (1, 0), "dvn_dy": (1, 1)}.items():
            out[k] += 1.0e6 * g[:, i, j]  # (m/yr)/m -> (mm/yr)/km
    return {k: v.reshape(x.shape) for k, v in out.items()}


def irregular_stations(n_stations: int, half_width_km: float, *, cluster_fraction: float = 0.5,
                       n_clusters: int = 8, cluster_km: float = 20.0, seed: int = 0) -> np.ndarray:
    """(n, 2) station positions (km) in the square [-h, h]^2: a uniform share plus Gaussian clusters (an
    irregular network with dense and sparse parts)."""
    rng = np.random.default_rng(seed)
    n_cl = int(round(cluster_fraction * n_stations))
    centres = rng.uniform(-0.8 * half_width_km, 0.8 * half_width_km, size=(n_clusters, 2))
    pts = [rng.uniform(-half_width_km, half_width_km, size=(n_stations - n_cl, 2))]
    while sum(len(p) for p in pts) < n_stations:
        c = centres[rng.integers(n_clusters)]
        p = c + cluster_km * rng.normal(size=2)
        if np.all(np.abs(p) <= half_width_km):
            pts.append(p[None, :])
    return np.vstack(pts)[:n_stations]


def locked_fault_stations(n_stations: int = 300, half_width_km: float = 150.0, *, sigma: float = 0.5,
                          lon0: float = -121.0, lat0: float = 37.0, seed: int = 0,
                          faults=LOCKED_FAULTS) -> pd.DataFrame:
    """Irregular stations with noisy :func:`locked_faults` velocities (mm/yr), as :func:`synthetic_stations`."""
    xy = irregular_stations(n_stations, half_width_km, seed=seed)
    f = locked_faults(xy[:, 0], xy[:, 1], faults)
    rng = np.random.default_rng(seed + 1)
    return _station_table("K", xy, f, sigma, rng, lon0, lat0)


def _station_table(prefix: str, xy: np.ndarray, f: dict, sigma: float, rng: np.random.Generator,
                   lon0: float, lat0: float) -> pd.DataFrame:
    """Station table (the GNSS readers' columns) of velocities ``f`` (mm/yr) at ``xy`` (km) plus N(0, sigma)."""
    n = len(xy)
    lon, lat = enu_to_lonlat(xy[:, 0] * 1000.0, xy[:, 1] * 1000.0, lon0, lat0)
    return pd.DataFrame({"name": [f"{prefix}{i:03d}" for i in range(n)], "lon": lon, "lat": lat,
                         "ve": f["ve"] + sigma * rng.normal(size=n), "vn": f["vn"] + sigma * rng.normal(size=n),
                         "se": np.full(n, sigma), "sn": np.full(n, sigma), "rho": np.zeros(n)})
