"""Green's functions for distributed slip on a planar fault discretised into rectangular patches."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from sciml.errors import InputError
from sciml.okada.fault import _extent, rectangle_unit


@dataclass(frozen=True)
class PatchGrid:
    """A planar fault cut into ``n_strike`` x ``n_dip`` equal rectangles (flattened strike-fastest).

    Per-patch tensors (P,): ``east``, ``north``, ``depth`` of each patch's top centre (m); ``strike``, ``dip`` (deg),
    ``length``, ``width`` (m); ``along`` (m along strike from the fault's top centre) and ``down`` (m down dip from
    the fault's top edge) of each patch centre; ``i_strike``/``i_dip`` integer indices.
    """

    east: torch.Tensor
    north: torch.Tensor
    depth: torch.Tensor
    strike: torch.Tensor
    dip: torch.Tensor
    length: torch.Tensor
    width: torch.Tensor
    along: torch.Tensor
    down: torch.Tensor
    i_strike: torch.Tensor
    i_dip: torch.Tensor
    n_strike: int
    n_dip: int

    @property
    def n(self) -> int:
        return self.n_strike * self.n_dip

    def centroids(self) -> torch.Tensor:
        """(P, 3) patch centroids in east/north/up (m)."""
        phi, delta = torch.deg2rad(self.strike), torch.deg2rad(self.dip)
        h = 0.5 * self.width * torch.cos(delta)  # horizontal offset down dip
        e = self.east + h * torch.cos(phi)  # down-dip direction = strike + 90 deg
        n = self.north - h * torch.sin(phi)
        return torch.stack([e, n, -(self.depth + 0.5 * self.width * torch.sin(delta))], -1)

    def laplacian(self) -> torch.Tensor:
        """(P, P) finite-difference Laplacian on the patch grid (zero-slip ghost patches at all edges)."""
        p = self.n
        lap = torch.zeros(p, p, dtype=self.east.dtype)
        ds = float(self.length[0])
        dd = float(self.width[0])
        for k in range(p):
            i, j = int(self.i_strike[k]), int(self.i_dip[k])
            lap[k, k] = -2.0 / ds**2 - 2.0 / dd**2
            for di, dj, h in ((1, 0, ds), (-1, 0, ds), (0, 1, dd), (0, -1, dd)):
                ii, jj = i + di, j + dj
                if 0 <= ii < self.n_strike and 0 <= jj < self.n_dip:
                    lap[k, jj * self.n_strike + ii] = 1.0 / h**2
        return lap


def patch_grid(*, east=0.0, north=0.0, depth, strike, dip, length, width, n_strike: int, n_dip: int,
               reference: str = "top_center", dtype=torch.float64, device=None) -> PatchGrid:
    """Discretise a planar fault (same conventions as :func:`sciml.okada.fault.rectangle`) into patches."""
    if n_strike < 1 or n_dip < 1:
        raise InputError(f"okada: patch grid needs n_strike, n_dip >= 1, got {n_strike}, {n_dip}")
    f = dict(dtype=dtype, device=device)
    t = lambda v: torch.as_tensor(v, **f)  # noqa: E731
    east, north, depth, strike, dip, length, width = map(t, (east, north, depth, strike, dip, length, width))
    al1, _, aw1, aw2 = _extent(reference, length, width)
    # top-left corner of the fault in (along-strike from reference, up-dip from reference)
    dl, dw = length / n_strike, width / n_dip
    i_s = torch.arange(n_strike, device=device).repeat(n_dip)
    i_d = torch.arange(n_dip, device=device).repeat_interleave(n_strike)
    along_ref = al1 + (i_s.to(dtype) + 0.5) * dl  # patch centre, along strike from the reference point
    updip_top = aw2 - i_d.to(dtype) * dw  # patch top edge, up-dip coordinate from the reference point
    phi, delta = strike * math.pi / 180, dip * math.pi / 180
    sphi, cphi, sd, cd = torch.sin(phi), torch.cos(phi), torch.sin(delta), torch.cos(delta)
    # map position of a point (xi, eta) of the plane: x = xi, y = eta cos(dip); depth = depth_ref - eta sin(dip)
    x, y = along_ref, updip_top * cd
    pe = east + x * sphi - y * cphi
    pn = north + x * cphi + y * sphi
    pdepth = depth - updip_top * sd
    n = n_strike * n_dip
    ones = torch.ones(n, **f)
    top_ref = al1 + length / 2  # along-strike position of the fault's top centre relative to the reference
    return PatchGrid(east=pe, north=pn, depth=pdepth, strike=strike * ones, dip=dip * ones, length=dl * ones,
                     width=dw * ones, along=along_ref - top_ref, down=(aw2 - updip_top) + 0.5 * dw,
                     i_strike=i_s, i_dip=i_d, n_strike=n_strike, n_dip=n_dip)


def greens_matrix(stations: torch.Tensor, patches: PatchGrid, *, nu=0.25, lam=None, mu=None,
                  chunk: int | None = None) -> torch.Tensor:
    """Displacement Green's functions (n, 3, P, 2): ENU displacement (m) per 1 m of strike slip ([..., 0]) and
    dip slip ([..., 1]) on each patch. Stations (n, 2|3); both modes come from one kernel evaluation
    (:func:`rectangle_unit`), in station chunks (default: ~16384 station-patch pairs per call) to bound memory."""
    chunk = chunk or max(1, 16384 // patches.n)
    out = []
    pp = {k: getattr(patches, k)[None, :] for k in ("east", "north", "depth", "strike", "dip", "length", "width")}
    for i in range(0, stations.shape[0], chunk):
        st = stations[i:i + chunk][:, None, :]  # (c, 1, 3)
        u = rectangle_unit(st, nu=nu, lam=lam, mu=mu, modes=(0, 1), **pp)  # (c, P, 2 modes, 3)
        out.append(u.permute(0, 3, 1, 2))
    return torch.cat(out, 0)


def design_matrix(G: np.ndarray) -> np.ndarray:
    """Green's functions (n, 3, P, 2) of :func:`greens_matrix` as one (3 n, 2 P) matrix: rows station-major
    (east, north, up), columns the P strike-slip then the P dip-slip unknowns (m of displacement per m of slip)."""
    p = G.shape[2]
    return np.concatenate([G[..., 0].reshape(-1, p), G[..., 1].reshape(-1, p)], 1)


def laplacian_blocks(grid: PatchGrid) -> np.ndarray:
    """(2 P, 2 P) block-diagonal Laplacian for (strike slip, dip slip), scaled by the patch area
    (dimensionless): the smoothing operator of the slip inversions (columns as :func:`design_matrix`)."""
    lap = grid.laplacian().numpy() * float(grid.length[0] * grid.width[0])
    z = np.zeros_like(lap)
    return np.block([[lap, z], [z, lap]])
