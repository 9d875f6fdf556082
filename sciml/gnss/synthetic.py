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
    lon, lat = enu_to_lonlat(xy[:, 0] * 1000.0, xy[:, 1] * 1000.0, lon0, lat0)
    return pd.DataFrame({"name": [f"S{i:03d}" for i in range(n_stations)], "lon": lon, "lat": lat,
                         "ve": f["ve"] + sigma * rng.normal(size=n_stations),
                         "vn": f["vn"] + sigma * rng.normal(size=n_stations),
                         "se": np.full(n_stations, sigma), "sn": np.full(n_stations, sigma),
                         "rho": np.zeros(n_stations)})
