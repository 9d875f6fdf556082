"""Local projection (sciml.geo) against pyproj-free references: ellipsoid radii and round trips."""

import numpy as np

from sciml.geo import enu_to_lonlat, lonlat_to_enu, wrap_longitude


def test_small_offsets_match_local_radii_of_curvature():
    # 0.01 degree of latitude/longitude at 38N: WGS84 meridional radius 6359.8 km, prime vertical 6386.0 km
    e, n = lonlat_to_enu(np.array([-122.0, -121.99]), np.array([38.01, 38.0]), -122.0, 38.0)
    m_radius = 6378137.0 * (1 - 0.00669438) / (1 - 0.00669438 * np.sin(np.radians(38)) ** 2) ** 1.5
    n_radius = 6378137.0 / np.sqrt(1 - 0.00669438 * np.sin(np.radians(38)) ** 2)
    np.testing.assert_allclose(n[0], m_radius * np.radians(0.01), rtol=1e-4)
    np.testing.assert_allclose(e[1], n_radius * np.cos(np.radians(38)) * np.radians(0.01), rtol=1e-4)


def test_round_trip_and_longitude_wrapping():
    rng = np.random.default_rng(0)
    lon = -120 + rng.uniform(-2, 2, 50)
    lat = 36 + rng.uniform(-2, 2, 50)
    e, n = lonlat_to_enu(lon + 360.0, lat, -120.0, 36.0)  # 0-360 input longitudes
    lon2, lat2 = enu_to_lonlat(e, n, -120.0, 36.0)
    np.testing.assert_allclose(wrap_longitude(lon2), lon, atol=1e-9)
    np.testing.assert_allclose(lat2, lat, atol=1e-9)
