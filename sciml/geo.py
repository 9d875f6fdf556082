"""Geographic helpers: longitude/latitude to a local east/north frame in metres and back.

The local frame is the tangent plane of the WGS84 ellipsoid at (lon0, lat0): east and north in metres,
exact at the origin and accurate to better than 1e-4 relative within a few hundred kilometres
(local radii of curvature). Longitudes may be given in [-180, 180) or [0, 360).
"""

from __future__ import annotations

import numpy as np

WGS84_A = 6378137.0  # semi-major axis, m
WGS84_F = 1.0 / 298.257223563
WGS84_E2 = WGS84_F * (2.0 - WGS84_F)


def wrap_longitude(lon: np.ndarray) -> np.ndarray:
    """Wrap longitudes (degrees) to [-180, 180)."""
    return (np.asarray(lon, dtype=float) + 180.0) % 360.0 - 180.0


def _radii(lat0: float) -> tuple[float, float]:
    """Meridional (M) and prime-vertical (N) radii of curvature (m) at latitude lat0 (degrees)."""
    s = np.sin(np.radians(lat0))
    w = np.sqrt(1.0 - WGS84_E2 * s * s)
    n = WGS84_A / w
    m = WGS84_A * (1.0 - WGS84_E2) / w**3
    return m, n


def lonlat_to_enu(lon, lat, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Project lon/lat (degrees) to local east, north (m) about (lon0, lat0) by an ECEF rotation.

    Uses the exact ECEF tangent-plane rotation on the ellipsoid at zero height, so distances near the
    origin are metric; far from the origin the plane departs from the surface (curvature drop).
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x, y, z = _ecef(lon, lat)
    x0, y0, z0 = _ecef(np.asarray(lon0, float), np.asarray(lat0, float))
    dx, dy, dz = x - x0, y - y0, z - z0
    sl, cl = np.sin(np.radians(lon0)), np.cos(np.radians(lon0))
    sp, cp = np.sin(np.radians(lat0)), np.cos(np.radians(lat0))
    east = -sl * dx + cl * dy
    north = -sp * cl * dx - sp * sl * dy + cp * dz
    return east, north


def enu_to_lonlat(east, north, lon0: float, lat0: float, iterations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`lonlat_to_enu` (degrees), by Newton iteration from the local-radii guess."""
    east = np.asarray(east, dtype=float)
    north = np.asarray(north, dtype=float)
    m, n = _radii(lat0)
    lat = lat0 + np.degrees(north / m)
    lon = lon0 + np.degrees(east / (n * np.cos(np.radians(lat0))))
    for _ in range(iterations):
        e1, n1 = lonlat_to_enu(lon, lat, lon0, lat0)
        mm, nn = _radii(lat)
        lat = lat + np.degrees((north - n1) / mm)
        lon = lon + np.degrees((east - e1) / (nn * np.cos(np.radians(lat))))
    return lon, lat


def _ecef(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sp, cp = np.sin(np.radians(lat)), np.cos(np.radians(lat))
    sl, cl = np.sin(np.radians(lon)), np.cos(np.radians(lon))
    n = WGS84_A / np.sqrt(1.0 - WGS84_E2 * sp * sp)
    return n * cp * cl, n * cp * sl, n * (1.0 - WGS84_E2) * sp
