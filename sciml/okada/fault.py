"""Geographic layer over :mod:`sciml.okada.kernels`: faults and stations in local east/north/up metres.

Conventions
-----------
* Stations: tensor (..., 3) of east, north, up (m), up <= 0 (the free surface is up = 0); a (..., 2) tensor
  means stations at the surface. :func:`stations_from_lonlat` projects lon/lat with :func:`sciml.geo.lonlat_to_enu`.
* Rectangular fault (Aki & Richards): strike clockwise from north (deg), dip (deg) to the right of strike,
  rake (deg) in the fault plane from strike, positive dip-slip = hanging wall up (reverse). ``depth`` (m, > 0)
  is the depth of the reference point ``reference`` in {"top_center", "top_left", "centroid"};
  ``east``/``north`` (m) its map position; ``length`` along strike, ``width`` down dip (m).
  Slip by ``slip`` + ``rake`` or by ``strike_slip`` + ``dip_slip`` (m), plus ``opening`` (m).
* Point source: potencies (m^3) for strike-slip, dip-slip, tensile and inflation (Okada 1992 POT1..POT4), or
  a moment via :func:`potency_from_moment`; a Mogi volume change via :func:`inflation_potency`.
* Elastic constants by Poisson ratio ``nu`` (default 0.25) or ``lam`` and ``mu``.

Outputs are :class:`Deformation` objects in ENU: displacement ``u`` (..., 3) (m), gradient ``grad`` (..., 3, 3)
with ``grad[..., i, j] = du_i/dx_j`` (x = east, north, up), and derived strain, rotation and tilt.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from sciml.errors import InputError, bad_value
from sciml.okada.kernels import _is_zero_number, as_tensors, dc3d, dc3d0, dc3d_unit

REFERENCES = ("top_center", "top_left", "centroid")
RECT_PARAMS = ("east", "north", "depth", "strike", "dip", "length", "width", "rake", "slip", "opening")
PARAM_UNITS = {"east": "m", "north": "m", "depth": "m", "strike": "degree", "dip": "degree", "length": "m",
               "width": "m", "rake": "degree", "slip": "m", "opening": "m"}  # units of each RECT_PARAMS entry


class Deformation(NamedTuple):
    """Displacement (..., 3) and displacement gradient (..., 3, 3) in east/north/up; iret as the original."""

    u: torch.Tensor
    grad: torch.Tensor | None
    iret: torch.Tensor

    @property
    def strain(self) -> torch.Tensor:
        """Infinitesimal strain tensor (..., 3, 3), (grad + grad^T) / 2 (dimensionless)."""
        return 0.5 * (self.grad + self.grad.transpose(-1, -2))

    @property
    def rotation(self) -> torch.Tensor:
        """Rotation tensor (..., 3, 3), (grad - grad^T) / 2 (rad)."""
        return 0.5 * (self.grad - self.grad.transpose(-1, -2))

    @property
    def rotation_vertical(self) -> torch.Tensor:
        """Rotation about the vertical axis (rad, counter-clockwise positive), (du_n/dx_e - du_e/dx_n) / 2."""
        return 0.5 * (self.grad[..., 1, 0] - self.grad[..., 0, 1])

    @property
    def tilt(self) -> torch.Tensor:
        """Ground tilt (..., 2) (rad): slope of the vertical displacement, (du_up/dx_east, du_up/dx_north)."""
        return self.grad[..., 2, :2]

    @property
    def dilatation(self) -> torch.Tensor:
        """Trace of the strain tensor (dimensionless)."""
        return self.grad.diagonal(dim1=-2, dim2=-1).sum(-1)


def alpha_from(nu: float | torch.Tensor | None = 0.25, lam=None, mu=None):
    """Okada's medium constant alpha = (lam + mu) / (lam + 2 mu) from Poisson's ratio or Lame constants."""
    if lam is not None or mu is not None:
        if lam is None or mu is None:
            raise InputError("okada: give both lam and mu, or nu")
        return (lam + mu) / (lam + 2.0 * mu)
    if nu is None:
        raise InputError("okada: give nu or lam and mu")
    if not torch.is_tensor(nu) and not (-1.0 < float(nu) < 0.5):
        raise bad_value("okada", "nu", nu, "Poisson ratio must lie in (-1, 0.5)")
    return 1.0 / (2.0 * (1.0 - nu))


def potency_from_moment(moment, mu):
    """Potency (m^3) = seismic moment (N m) / shear modulus (Pa)."""
    return moment / mu


def inflation_potency(volume_change, nu=0.25):
    """DC3D0 inflation potency POT4 for a Mogi source of volume change dV (m^3): dV (lam + 2 mu) / mu."""
    return volume_change * 2.0 * (1.0 - nu) / (1.0 - 2.0 * nu)


def _split_stations(stations: torch.Tensor):
    if stations.shape[-1] == 2:
        return stations[..., 0], stations[..., 1], torch.zeros_like(stations[..., 0])
    if stations.shape[-1] == 3:
        return stations[..., 0], stations[..., 1], stations[..., 2]
    raise InputError(f"okada: stations must have a last dimension of 2 or 3 (east, north[, up]), got {tuple(stations.shape)}")


def _to_fault_frame(e, n, strike):
    """Map-frame offsets (east, north) -> Okada (x along strike, y = up x strike)."""
    phi = strike * (math.pi / 180.0)
    sp, cp = torch.sin(phi), torch.cos(phi)
    return e * sp + n * cp, -e * cp + n * sp, sp, cp


def _to_enu(res, sp, cp) -> Deformation:
    """Rotate an OkadaResult from the fault frame to east/north/up."""
    zero, one = torch.zeros_like(sp), torch.ones_like(sp)
    rot = torch.stack([torch.stack([sp, -cp, zero], -1), torch.stack([cp, sp, zero], -1),
                       torch.stack([zero, zero, one], -1)], -2)  # (..., 3, 3): u_enu = rot @ u_okada
    u = (rot @ res.u[..., None])[..., 0]
    grad = None if res.grad is None else rot @ res.grad @ rot.transpose(-1, -2)
    return Deformation(u, grad, res.iret)


def _extent(reference: str, length, width):
    if reference == "top_center":
        return -length / 2, length / 2, -width, torch.zeros_like(width)
    if reference == "top_left":
        return torch.zeros_like(length), length, -width, torch.zeros_like(width)
    if reference == "centroid":
        return -length / 2, length / 2, -width / 2, width / 2
    raise bad_value("okada", "reference", reference, f"expected one of {REFERENCES}")


def slip_components(slip=None, rake=None, strike_slip=None, dip_slip=None):
    """(strike_slip, dip_slip) from slip and rake (deg) or given directly."""
    if strike_slip is not None or dip_slip is not None:
        if slip is not None or rake is not None:
            raise InputError("okada: give slip and rake, or strike_slip and dip_slip, not both")
        return (0.0 if strike_slip is None else strike_slip), (0.0 if dip_slip is None else dip_slip)
    slip = 0.0 if slip is None else slip
    rake = 0.0 if rake is None else rake
    if not torch.is_tensor(rake):
        if torch.is_tensor(slip):
            rake = torch.as_tensor(rake, dtype=slip.dtype, device=slip.device)
        else:
            return slip * math.cos(math.radians(rake)), slip * math.sin(math.radians(rake))
    r = rake * (math.pi / 180.0)
    return slip * torch.cos(r), slip * torch.sin(r)

def rectangle(stations: torch.Tensor, *, east=0.0, north=0.0, depth, strike, dip, length, width,
              slip=None, rake=None, strike_slip=None, dip_slip=None, opening=0.0,
              reference: str = "top_center", nu=0.25, lam=None, mu=None, derivatives: bool = True) -> Deformation:
    """Deformation at ``stations`` (..., 2|3) due to rectangular fault(s); all parameters broadcast.

    ``derivatives=False``: displacement only (``grad`` None), about 2x cheaper."""
    se, sn, su = _split_stations(stations)
    ss, ds = slip_components(slip, rake, strike_slip, dip_slip)
    alpha = alpha_from(nu, lam, mu)
    # dislocations given as the plain number 0 stay plain numbers: dc3d then skips their mode
    plain0 = [_is_zero_number(v) for v in (ss, ds, opening)]
    (se, sn, su, east, north, depth, strike, dip, length, width, ss, ds, opening, alpha) = as_tensors(
        se, sn, su, east, north, depth, strike, dip, length, width, ss, ds, opening, alpha)
    ss, ds, opening = (0.0 if z else v for z, v in zip(plain0, (ss, ds, opening)))
    x, y, sp, cp = _to_fault_frame(se - east, sn - north, strike)
    al1, al2, aw1, aw2 = _extent(reference, length, width)
    res = dc3d(alpha, x, y, su, depth, dip, al1, al2, aw1, aw2, ss, ds, opening, derivatives=derivatives)
    return _to_enu(res, sp, cp)


def rectangle_unit(stations: torch.Tensor, *, east=0.0, north=0.0, depth, strike, dip, length, width,
                   reference: str = "top_center", nu=0.25, lam=None, mu=None,
                   modes: tuple[int, ...] = (0, 1, 2)) -> torch.Tensor:
    """Displacement (..., M, 3) in east/north/up per 1 m of each of ``modes`` (0 strike slip, 1 dip slip,
    2 opening; axis -2), as :func:`rectangle` (Aki-Richards signs) but all modes in one kernel evaluation (Green's
    functions)."""
    se, sn, su = _split_stations(stations)
    alpha = alpha_from(nu, lam, mu)
    (se, sn, su, east, north, depth, strike, dip, length, width, alpha) = as_tensors(
        se, sn, su, east, north, depth, strike, dip, length, width, alpha)
    x, y, sp, cp = _to_fault_frame(se - east, sn - north, strike)
    al1, al2, aw1, aw2 = _extent(reference, length, width)
    u = dc3d_unit(alpha, x, y, su, depth, dip, al1, al2, aw1, aw2, modes=modes).u  # (..., M, 3), Okada frame
    ux, uy, uz = u.unbind(-1)
    sp, cp = sp[..., None], cp[..., None]
    return torch.stack([sp * ux - cp * uy, cp * ux + sp * uy, uz], dim=-1)


def point_source(stations: torch.Tensor, *, east=0.0, north=0.0, depth, strike=0.0, dip=90.0,
                 potency_strike=0.0, potency_dip=0.0, potency_tensile=0.0, potency_inflation=0.0,
                 nu=0.25, lam=None, mu=None) -> Deformation:
    """Deformation at ``stations`` due to point source(s) (Okada 1992 DC3D0) at (east, north, depth)."""
    se, sn, su = _split_stations(stations)
    alpha = alpha_from(nu, lam, mu)
    (se, sn, su, east, north, depth, strike, dip, p1, p2, p3, p4, alpha) = as_tensors(
        se, sn, su, east, north, depth, strike, dip, potency_strike, potency_dip, potency_tensile,
        potency_inflation, alpha)
    x, y, sp, cp = _to_fault_frame(se - east, sn - north, strike)
    return _to_enu(dc3d0(alpha, x, y, su, depth, dip, p1, p2, p3, p4), sp, cp)


def stations_from_lonlat(lon, lat, lon0: float, lat0: float, *, dtype=torch.float64, device=None) -> torch.Tensor:
    """Surface stations (n, 3) in local east/north/up metres about (lon0, lat0)."""
    from sciml.geo import lonlat_to_enu

    e, n = lonlat_to_enu(np.asarray(lon, float), np.asarray(lat, float), lon0, lat0)
    out = np.stack([e, n, np.zeros_like(e)], axis=-1)
    return torch.as_tensor(out, dtype=dtype, device=device)
