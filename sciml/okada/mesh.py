"""Triangulated fault surfaces: the reader of a plate-interface mesh (nodes lon/lat/z, 1-based faces), a conformal
map frame with each station's local east/north/up, and the coarse re-meshing into patches that follow the
interface.

* :func:`read_trimesh` reads the Slab 2.0 style mesh of ``shared/data/slabs/<region>/`` (``index lon lat z`` with
  z in m, negative below sea level; ``index n1 n2 n3``) and checks it: errors name file, line, field and value.
* :class:`MapFrame` is a transverse Mercator projection (pyproj, WGS84, scale 1 on the central meridian) that
  carries stations and mesh into one flat half-space frame (x grid east, y grid north, z up, m).
  :meth:`MapFrame.to_local_enu` turns model vectors from grid axes into each station's local east/north/up by
  the meridian convergence (the angle between grid north and true north, about (lon - lon0) sin(lat): 1.4 deg on
  the Tohoku coast for a frame at 143.85 E). The remaining flat-earth error is the scale of the projection,
  k - 1 = x^2 / (2 R^2) (0.31 % at 500 km from the central meridian), plus the sphericity the half-space ignores.
* :func:`interface_patches` bins the triangles into cells of an (along strike, down dip from the trench) grid;
  each patch is the union of its triangles (exact curved geometry, few unknowns), with a finite-difference
  Laplacian over the patch neighbours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sciml.errors import InputError, bad_value
from sciml.io.text import finite_float


@dataclass(frozen=True)
class TriMesh:
    """A triangulated surface: node ``lon``, ``lat`` (deg), ``depth`` (m, positive down), ``faces`` (T, 3) 0-based
    node indices; ``source`` names the files."""

    lon: np.ndarray
    lat: np.ndarray
    depth: np.ndarray
    faces: np.ndarray
    source: str

    @property
    def n_nodes(self) -> int:
        return self.lon.size

    @property
    def n_faces(self) -> int:
        return self.faces.shape[0]


def _table(path: Path, ncols: int, names: tuple[str, ...]) -> np.ndarray:
    if not path.exists():
        raise InputError(f"{path}: file not found")
    rows = []
    for i, line in enumerate(path.read_text().splitlines(), 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        parts = s.split()
        if len(parts) != ncols:
            raise InputError(f"{path}: line {i}: expected {ncols} columns ({' '.join(names)}), got {len(parts)}: {s!r}")
        rows.append([float(i)] + [finite_float(path, i, name, text) for name, text in zip(names, parts)])
    if not rows:
        raise InputError(f"{path}: no data rows")
    return np.asarray(rows)


def read_trimesh(nodes_path, faces_path) -> TriMesh:
    """Read ``index lon lat z`` nodes (z in m, negative below sea level) and ``index n1 n2 n3`` faces (1-based).

    Checks: node indices 1..N in order, lon/lat in range, z <= 0; face indices integer and within 1..N, three
    distinct nodes, non-zero area. Errors name the file, line, field and value."""
    npath, fpath = Path(nodes_path), Path(faces_path)
    nodes = _table(npath, 4, ("index", "lon", "lat", "z"))
    for k, (line, idx) in enumerate(nodes[:, :2]):
        if idx != k + 1:
            raise bad_value(f"{npath}: line {int(line)}", "index", idx, f"expected {k + 1} (indices 1..N in order)")
    lon, lat, z = nodes[:, 2], nodes[:, 3], nodes[:, 4]
    for name, v, ok in (("lon", lon, (lon >= -180) & (lon <= 360)), ("lat", lat, np.abs(lat) <= 90),
                        ("z", z, z <= 1e-6)):
        if not ok.all():
            k = int(np.argmin(ok))
            why = "depth must be <= 0 m (negative below sea level)" if name == "z" else "out of range"
            raise bad_value(f"{npath}: line {int(nodes[k, 0])}", name, float(v[k]), why)
    faces = _table(fpath, 4, ("index", "n1", "n2", "n3"))
    tri = faces[:, 2:]
    n = lon.size
    for k in range(tri.shape[0]):
        line = int(faces[k, 0])
        for j, name in enumerate(("n1", "n2", "n3")):
            v = tri[k, j]
            if v != round(v) or not 1 <= v <= n:
                raise bad_value(f"{fpath}: line {line}", name, v, f"not a node index in 1..{n} of {npath.name}")
        if len(set(tri[k])) < 3:
            raise bad_value(f"{fpath}: line {line}", "n1 n2 n3", tri[k].astype(int).tolist(),
                            "a triangle needs three distinct nodes")
    mesh = TriMesh(lon=((lon + 180.0) % 360.0) - 180.0, lat=lat, depth=-z, faces=tri.astype(np.int64) - 1,
                   source=f"{npath} + {fpath}")
    return mesh


class MapFrame:
    """Transverse Mercator frame about (lon0, lat0) (pyproj, WGS84, k0 = 1): x grid east, y grid north (m)."""

    def __init__(self, lon0: float, lat0: float):
        from pyproj import Proj

        self.lon0, self.lat0 = float(lon0), float(lat0)
        self._proj = Proj(proj="tmerc", lon_0=self.lon0, lat_0=self.lat0, k=1.0, ellps="WGS84")

    def xy(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """Grid east and north (m) of lon/lat (deg)."""
        x, y = self._proj(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def lonlat(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`xy` (deg)."""
        lon, lat = self._proj(np.asarray(x, float), np.asarray(y, float), inverse=True)
        return np.asarray(lon, float), np.asarray(lat, float)

    def true_north_angle(self, lon, lat) -> np.ndarray:
        """Angle (rad) of true north measured clockwise from grid north (minus pyproj's meridian convergence)."""
        f = self._proj.get_factors(np.asarray(lon, float), np.asarray(lat, float))
        return -np.radians(np.asarray(f.meridian_convergence, float))

    def scale(self, lon, lat) -> np.ndarray:
        """Point scale factor k of the projection (1 on the central meridian)."""
        return np.asarray(self._proj.get_factors(np.asarray(lon, float), np.asarray(lat, float)).meridional_scale)

    def to_local_enu(self, lon, lat, u: np.ndarray) -> np.ndarray:
        """Vectors ``u`` (n, 3, ...) on grid east/north/up axes at stations lon/lat -> local east/north/up."""
        g = self.true_north_angle(lon, lat)
        shape = (-1,) + (1,) * (u.ndim - 2)
        c, s = np.cos(g).reshape(shape), np.sin(g).reshape(shape)
        ue, un = u[:, 0], u[:, 1]
        return np.stack([c * ue - s * un, s * ue + c * un, u[:, 2]], 1)


def mesh_xyz(mesh: TriMesh, frame: MapFrame) -> np.ndarray:
    """(N, 3) node positions in the frame (x, y, z up; m)."""
    x, y = frame.xy(mesh.lon, mesh.lat)
    return np.stack([x, y, -mesh.depth], -1)


def oriented_triangles(mesh: TriMesh, frame: MapFrame) -> np.ndarray:
    """(T, 3, 3) triangle vertices in the frame, each ordered so that its normal points up (hanging-wall side):
    then cutde's (strike, dip) slip components are Okada's (left-lateral, reverse) with strike = z x normal."""
    tri = mesh_xyz(mesh, frame)[mesh.faces]
    nz = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])[:, 2]
    flip = nz < 0
    tri[flip] = tri[flip][:, [0, 2, 1]]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if np.any(area <= 0):
        k = int(np.argmin(area))
        raise bad_value(mesh.source, f"face {k + 1}", mesh.faces[k].tolist(), "degenerate (zero-area) triangle")
    return tri


@dataclass(frozen=True)
class InterfacePatches:
    """Patches on a triangulated interface: patch ``k`` is the union of the triangles with ``patch_of == k``.

    ``tris`` (T, 3, 3) frame vertices (m, upward normals); per patch (P,): ``along`` (m along strike from the
    frame origin), ``down`` (m horizontal distance down dip from the trench), integer ``i_along``/``i_down``,
    ``area`` (m^2), ``centroid`` (P, 3) area-weighted centroid (m), ``depth`` (m), ``dip`` (deg, area-weighted
    mean), ``lon``/``lat`` of the centroid; ``strike`` (deg) of the binning frame, ``cell`` (along, down) size (m).
    """

    tris: np.ndarray
    patch_of: np.ndarray
    along: np.ndarray
    down: np.ndarray
    i_along: np.ndarray
    i_down: np.ndarray
    area: np.ndarray
    centroid: np.ndarray
    depth: np.ndarray
    dip: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    strike: float
    cell: tuple[float, float]

    @property
    def n(self) -> int:
        return self.area.size

    def laplacian(self, *, trench: str = "free") -> np.ndarray:
        """(P, P) smoothing Laplacian of the patches (:func:`grid_laplacian`)."""
        return grid_laplacian(self.i_along, self.i_down, self.centroid, self.cell, trench=trench)


def grid_laplacian(i_along: np.ndarray, i_down: np.ndarray, centroid: np.ndarray, cell: tuple[float, float], *,
                   trench: str = "free") -> np.ndarray:
    """(P, P) finite-difference Laplacian over patches on an (along, down-dip) index grid, times the nominal cell
    area (dimensionless).

    Neighbours are the patches one cell along or down dip (1 / d^2 with d their centroid distance); a missing
    neighbour is a zero-slip ghost cell (1 / h^2 on the diagonal, h the cell size), except up dip of the top row
    (i_down = 0) when ``trench="free"`` (no term: slip may reach the trench). Full rank when any ghost is zero."""
    if trench not in ("free", "zero"):
        raise bad_value("grid_laplacian", "trench", trench, "expected 'free' or 'zero'")
    index = {(int(a), int(d)): k for k, (a, d) in enumerate(zip(i_along, i_down))}
    n = len(index)
    lap = np.zeros((n, n))
    for k, (a, d) in enumerate(zip(i_along, i_down)):
        for axis, (da, dd) in ((0, (1, 0)), (0, (-1, 0)), (1, (0, 1)), (1, (0, -1))):
            j = index.get((int(a) + da, int(d) + dd))
            if j is not None:
                w = 1.0 / float(np.sum((centroid[j] - centroid[k]) ** 2))
                lap[k, j] += w
                lap[k, k] -= w
            elif not (axis == 1 and dd == -1 and d == 0 and trench == "free"):
                lap[k, k] -= 1.0 / cell[axis] ** 2
    return lap * (cell[0] * cell[1])


def _tri_geometry(tris: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cross = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    area = 0.5 * np.linalg.norm(cross, axis=1)
    dip = np.degrees(np.arccos(np.clip(cross[:, 2] / (2 * area), -1.0, 1.0)))
    return area, tris.mean(1), dip


def interface_patches(mesh: TriMesh, frame: MapFrame, *, strike: float, cell_along_m: float, cell_down_m: float,
                      min_fill: float = 0.3) -> InterfacePatches:
    """Coarse re-meshing: bin triangles (by centroid) into cells ``cell_along_m`` along ``strike`` (deg) by
    ``cell_down_m`` of horizontal distance down dip from the trench (the mesh's z = 0 nodes, interpolated along
    strike). Cells with less than ``min_fill`` of the nominal cell area give their triangles to the nearest kept
    cell, so the whole surface stays modelled."""
    if cell_along_m <= 0 or cell_down_m <= 0:
        raise bad_value("interface_patches", "cell size", (cell_along_m, cell_down_m), "must be > 0 m")
    tris = oriented_triangles(mesh, frame)
    xyz = mesh_xyz(mesh, frame)
    phi = math.radians(strike)
    s_hat, d_hat = np.array([math.sin(phi), math.cos(phi)]), np.array([math.cos(phi), -math.sin(phi)])
    trench = mesh.depth < 1.0
    if trench.sum() < 2:
        raise bad_value(mesh.source, "z", float(-mesh.depth.min()), "no trench nodes (z = 0) to measure down dip from")
    ta, tc = xyz[trench, :2] @ s_hat, xyz[trench, :2] @ d_hat
    order = np.argsort(ta)
    area, cen, dip = _tri_geometry(tris)
    along, across = cen[:, :2] @ s_hat, cen[:, :2] @ d_hat
    down = across - np.interp(along, ta[order], tc[order])
    ia = np.floor((along - along.min()) / cell_along_m).astype(int)
    idn = np.clip(np.floor(down / cell_down_m).astype(int), 0, None)
    key = ia * 100000 + idn
    cells, inv = np.unique(key, return_inverse=True)
    cell_area = np.bincount(inv, weights=area)
    keep = cell_area >= min_fill * cell_along_m * cell_down_m
    if not keep.any():
        raise bad_value("interface_patches", "cell size", (cell_along_m, cell_down_m), "no cell reaches min_fill")
    cen_cell = np.stack([np.bincount(inv, weights=area * cen[:, i]) / cell_area for i in range(3)], -1)
    kept = np.flatnonzero(keep)
    new_index = -np.ones(cells.size, int)
    new_index[kept] = np.arange(kept.size)
    patch_of = new_index[inv]
    lost = patch_of < 0
    if lost.any():  # nearest kept cell centroid
        d2 = ((cen[lost, None, :] - cen_cell[None, kept, :]) ** 2).sum(-1)
        patch_of[lost] = np.argmin(d2, 1)
    p = kept.size
    a = np.bincount(patch_of, weights=area, minlength=p)
    c = np.stack([np.bincount(patch_of, weights=area * cen[:, i], minlength=p) / a for i in range(3)], -1)
    dp = np.bincount(patch_of, weights=area * dip, minlength=p) / a
    lon, lat = frame.lonlat(c[:, 0], c[:, 1])
    al = c[:, :2] @ s_hat
    dn = c[:, :2] @ d_hat - np.interp(al, ta[order], tc[order])
    return InterfacePatches(tris=tris, patch_of=patch_of, along=al, down=dn, i_along=cells[kept] // 100000,
                            i_down=cells[kept] % 100000, area=a, centroid=c, depth=-c[:, 2], dip=dp, lon=lon, lat=lat,
                            strike=float(strike), cell=(float(cell_along_m), float(cell_down_m)))
