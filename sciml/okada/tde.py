"""Triangular-dislocation Green's functions in an elastic half-space (Nikkhoo & Walter 2015, through cutde's CPU
backend), summed over the triangles of each patch of :class:`sciml.okada.mesh.InterfacePatches`.

Conventions: frame x east, y north, z up (m); triangles with upward normals (:func:`sciml.okada.mesh.oriented_triangles`),
so the two slip modes are Okada's strike slip (left-lateral positive, strike = z x normal, the fault dipping to
its right) and dip slip (reverse positive). Validated against :func:`sciml.okada.rectangle` on rectangles split
into two triangles (``tests/test_okada_slip.py``).
"""

from __future__ import annotations

import numpy as np


def tde_matrix(stations: np.ndarray, tris: np.ndarray, *, nu: float = 0.25, chunk: int = 2_000_000) -> np.ndarray:
    """Displacement (n, 3, T, 2) at stations (n, 3) (m, z <= 0) per metre of strike slip ([..., 0]) and dip slip
    ([..., 1]) on each triangle (T, 3, 3). Station chunks bound memory to ``chunk`` station-triangle pairs."""
    from cutde.halfspace import disp_matrix

    st = np.ascontiguousarray(stations, dtype=np.float64)
    tr = np.ascontiguousarray(tris, dtype=np.float64)
    step = max(1, chunk // max(tr.shape[0], 1))
    out = [disp_matrix(st[i:i + step], tr, nu)[..., :2] for i in range(0, st.shape[0], step)]
    return np.concatenate(out, 0)


def patch_matrix(stations: np.ndarray, tris: np.ndarray, patch_of: np.ndarray, n_patches: int, *,
                 nu: float = 0.25) -> np.ndarray:
    """Green's functions (n, 3, P, 2) of patches made of triangles (``patch_of``: patch of each triangle):
    uniform strike or dip slip over each patch's triangles."""
    g = tde_matrix(stations, tris, nu=nu)
    out = np.zeros(g.shape[:2] + (n_patches, 2))
    np.add.at(out, (slice(None), slice(None), patch_of), g)  # scatter-add over the triangle axis
    return out
