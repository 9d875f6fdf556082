"""Okada (1992) DC3D (finite rectangle) and DC3D0 (point source) in PyTorch.

Frame and units are those of the original routines: x along strike, y horizontal perpendicular, z up,
medium z <= 0; ``depth`` > 0 is the depth of the reference point; dip in degrees; the rectangle spans
``xi`` in [al1, al2] along strike and ``eta`` in [aw1, aw2] up-dip; ``alpha = (lam + mu) / (lam + 2 mu)``.
Lengths may be in any unit (consistent); displacements are in the unit of the dislocation (DC3D) or
potency / length**2 (DC3D0).

Differences from the Fortran original (values are identical wherever IRET = 0, up to rounding):

* Every argument broadcasts against every other, so one call evaluates many stations against many sources.
* All three (four) dislocation modes are always evaluated: no branching on a component being zero, so the
  derivative with respect to a zero component is the true one.
* No Python branching on tensor values; singular and special cases use ``torch.where`` with *safe*
  operands in the unused branch, so gradients are finite (``vmap``/``jacrev``/``torch.compile`` work).
* The original snaps quantities below 1e-6 to zero. Here the snapped value is 0 but the derivative passes
  through (``v - v.detach()``), so e.g. the gradient at a station on the strike line of a vertical fault
  is the true one. The ``atan(a / b)`` terms use the identity ``atan(a/b) = sgn(a) sgn(b) pi/2 - atan(b/a)``
  where ``|a| > |b|``, which is smooth through ``b = 0`` (where the original returns 0, as here).
* Corners on the negative extension of a fault edge (``R + xi -> 0``) use the exact reflection
  ``X11(xi) = 2/rho^2 - X11(-xi)`` (likewise X32, X53, log and the eta terms) for the whole corner pair;
  the dropped parts cancel between the pair, so values are finite and their derivatives are correct.
* For ``cos(dip) = 0`` the original's limit formulas give the value; the first-order Taylor term in
  ``cos(dip)`` of the rectangle's B-part is added with zero value so that the derivative with respect to dip
  at dip = 90 exactly is the true one (see :func:`_ub`).

IRET: 0 normal, 1 singular (station on a fault edge, or at the point source), 2 station above the surface
(z > 0). Where IRET != 0 all outputs are 0 and their gradients are 0.

Performance: corner quantities are laid out (2, 2, ...) so that each operation serves the four corners and each
corner sum reads contiguous slices; the 3 (4) modes are corner-summed before they are weighted by the dislocation
(on 4x smaller tensors; :func:`dc3d_unit` returns them unweighted, i.e. all Green's functions in one pass);
reciprocal powers of R are formed once. Exact shortcuts: stations at the free surface (``z`` the number 0, or in plain
eager CPU calls a zero tensor without autograd) use one corner set, part A only for d/dz and the displacement group
of part C (:func:`_surface_modes`); the cos(dip) = 0 branch is left out when ``dip`` is a number or array without a
vertical dip, or (plain eager CPU) no source is vertical. :func:`dc3d` traces as one graph, so
``torch.compile(..., fullgraph=True)`` fuses it into one C++ kernel (``benchmarks/okada_bench.py``). On a loaded
CPU, one intra-op thread is much faster than several in eager mode.

Native kernel: calls that need no autograd graph (no argument requiring grad under grad mode, CPU float64, not
traced) run the same formulas in C (``_dc3d.c``, one pass per station, threads from ``torch.get_num_threads()``;
:mod:`sciml.okada.native`), 2-6x faster than this path; ``SCIML_OKADA_NATIVE=0`` switches it off.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch

from sciml.errors import InputError, bad_value
import sciml.okada._pairs as _pairs
import sciml.okada.native as native

EPS = 1e-6
C0 = 0.3  # |cos(dip)| below which part B uses the near-vertical forms (docs/okada.md: chosen from measured error)
PI2 = 2.0 * math.pi
# corner signs: rows K (eta corner 1, 2), columns J (xi corner 1, 2); J + K != 3 -> +1
_SIGNS = ((1.0, -1.0), (-1.0, 1.0))


class OkadaResult(NamedTuple):
    """Outputs of :func:`dc3d` / :func:`dc3d0`.

    u:    (..., 3) displacement (ux, uy, uz) in the Okada frame.
    grad: (..., 3, 3) displacement gradient, ``grad[..., i, j] = dU_i / dx_j`` (None if not requested).
    iret: (...) int64, 0 normal, 1 singular, 2 station above the surface.
    """

    u: torch.Tensor
    grad: torch.Tensor | None
    iret: torch.Tensor


# ----------------------------------------------------------------------------------------------- helpers
class _lazy:  # noqa: N801 - used as a decorator
    """``functools.cached_property`` without its lock (Python 3.11 takes one, which ``torch.compile`` cannot trace):
    computed on first access, then stored in the instance ``__dict__``, which takes precedence."""

    def __init__(self, fn):
        self.fn, self.name = fn, fn.__name__

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        value = self.fn(obj)
        obj.__dict__[self.name] = value
        return value


def as_tensors(*args, names: tuple[str, ...] | None = None) -> list[torch.Tensor]:
    """Convert numbers/tensors to one floating dtype and device, broadcast together.

    Tensors fix the dtype and device (float64 and CPU when all arguments are numbers). Two floating
    tensors of different dtype, or tensors on different devices, are an error (no silent downcast).
    """
    tens = [(i, a) for i, a in enumerate(args) if isinstance(a, torch.Tensor)]
    floats = {a.dtype for _, a in tens if a.is_floating_point()}
    if len(floats) > 1:
        detail = ", ".join(f"{names[i] if names else i}={a.dtype}" for i, a in tens)
        raise InputError(f"okada: arguments have mixed dtypes ({detail}); convert them to one dtype")
    if any(a.is_complex() for _, a in tens):
        raise InputError("okada: complex arguments are not supported")
    dtype = floats.pop() if floats else torch.float64
    devices = {a.device for _, a in tens}
    if len(devices) > 1:
        raise InputError(f"okada: arguments are on different devices: {sorted(map(str, devices))}")
    device = devices.pop() if devices else torch.device("cpu")
    out = [torch.as_tensor(a, dtype=dtype, device=device) for a in args]
    return list(torch.broadcast_tensors(*out))


def _snap(v: torch.Tensor) -> torch.Tensor:
    """Value 0 where |v| < EPS (as the original), derivative passed through unchanged."""
    return torch.where(v.abs() < EPS, v - v.detach(), v)


def _atan_ratio(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """atan(a / b), 0 where b == 0 (as the original), smooth in b through 0 when a != 0, NaN-free grads."""
    big = a.abs() > b.abs()
    both0 = (a == 0) & (b == 0)
    # one atan of the ratio with |.| <= 1: b / a where |a| > |b|, else a / b (denominator 1 where both are 0)
    num = torch.where(big, b, a)
    den = torch.where(big, a, torch.where(both0, torch.ones_like(b), b))
    at = torch.atan(num / den)
    out = torch.where(big, torch.sign(a) * torch.sign(b) * (math.pi / 2) - at, at)
    return torch.where(both0, torch.zeros_like(out), out)


def _r_plus(r: torch.Tensor, s: torch.Tensor, rho2: torch.Tensor) -> torch.Tensor:
    """R + s without cancellation: rho^2 / (R - s) for s < 0 (rho^2 = R^2 - s^2)."""
    neg = s < 0
    den = torch.where(neg, r - s, torch.ones_like(r))
    return torch.where(neg, rho2 / den, r + s)


def _alpha_constants(alpha: torch.Tensor):
    alp1 = (1.0 - alpha) / 2.0
    alp2 = alpha / 2.0
    alp3 = (1.0 - alpha) / alpha
    alp4 = 1.0 - alpha
    alp5 = alpha
    return alp1, alp2, alp3, alp4, alp5


def _dip_trig(dip: torch.Tensor):
    """sin/cos of dip (degrees); cos snapped to 0 (and sin to +-1) below EPS, derivative passed through."""
    rad = dip * (math.pi / 180.0)
    sd, cd = torch.sin(rad), torch.cos(rad)
    vert = cd.abs() < EPS
    cd = torch.where(vert, cd - cd.detach(), cd)
    sd = torch.where(vert, torch.sign(sd.detach()) + (sd - sd.detach()), sd)
    return sd, cd, vert


# ---------------------------------------------------------------------------------------- rectangle (DC3D)
def _tt(xi, et, q, r):
    """Okada's ``atan(xi eta / (q R))`` at the four corners, up to terms that cancel within a corner pair.

    Single terms wind around the lines ``xi = q = 0`` and ``eta = q = 0`` through the corners (not smooth there,
    although the corner sum is). With both ``eta`` of one sign it is ``atan(sgn(eta) xi / q)`` (the same for the
    eta pair) plus ``-atan(sgn(eta) xi q / (|eta| (|eta| + R) + q^2))``, which is smooth at ``xi = q = 0``: the latter
    is used; likewise with xi and eta swapped when both ``xi`` have one sign and that line is nearer. Otherwise (the
    station's projection inside the rectangle) the plain form, smooth through ``q = 0`` as :func:`_atan_ratio`."""
    axi, aet = xi.abs(), et.abs()
    same_e = et[:1] * et[1:] > 0  # (1, 1, ...)
    same_x = xi[:, :1] * xi[:, 1:] > 0
    mode_b = same_e & (~same_x | (aet.amin(0, keepdim=True) >= axi.amin(1, keepdim=True)))
    mode_a = same_x & ~mode_b
    a, b = xi * et, q * r
    big = a.abs() > b.abs()
    both0 = (a == 0) & (b == 0)
    one = torch.ones_like(r)
    q2 = q * q
    num = torch.where(mode_b, torch.sign(et) * xi * q, torch.where(mode_a, torch.sign(xi) * et * q,
                                                                     torch.where(big, b, a)))
    den = torch.where(mode_b, aet * (aet + r) + q2, torch.where(mode_a, axi * (axi + r) + q2,
                                                                 torch.where(big, a, torch.where(both0, one, b))))
    at = torch.atan(num / den)
    plain = torch.where(big, torch.sign(a) * torch.sign(b) * (math.pi / 2) - at, at)
    return torch.where(mode_a | mode_b, -at, plain)


def _atan_rem(t: torch.Tensor) -> torch.Tensor:
    """(atan(t) - t) / t^3 without cancellation (series for |t| < 0.1)."""
    small = t.abs() < 0.1
    ts = torch.where(small, torch.ones_like(t), t)
    direct = (torch.atan(ts) - ts) / (ts * ts * ts)
    t2 = torch.where(small, t * t, torch.zeros_like(t))
    ser = torch.zeros_like(t)
    for k in range(9, -1, -1):
        ser = ser * t2 + (-1.0) ** (k + 1) / (2 * k + 3)
    return torch.where(small, ser, direct)


def _log1p_rem(u: torch.Tensor) -> torch.Tensor:
    """(log1p(u) - u) / u^2 without cancellation (series for |u| < 0.1)."""
    small = u.abs() < 0.1
    us = torch.where(small, torch.ones_like(u), u)
    direct = (torch.log1p(us) - us) / (us * us)
    uu = torch.where(small, u, torch.zeros_like(u))
    ser = torch.zeros_like(u)
    for k in range(16, -1, -1):
        ser = ser * uu + (-1.0) ** (k + 1) / (k + 2)
    return torch.where(small, ser, direct)


def _log_terms(r, ir, v, rho2, reflect):
    """log(R + v), 1/(R (R + v)) and (2R + v)/(R^3 (R + v)^2) of Okada's DCCON2 (v = xi or eta), reflected
    as -f(-v) where ``reflect`` (the divergent parts dropped by the reflection cancel within the corner pair)."""
    one = torch.ones_like(r)
    sgn = torch.where(reflect, -one, one)
    s = torch.where(reflect, -v, v)
    rp = _r_plus(r, s, rho2)
    b11 = ir / rp
    sb11 = sgn * b11
    return sgn, s, b11, sgn * torch.log(rp), sb11, sb11 * (r + rp) * b11 * ir


class _Corner:
    """Quantities of DCCON2 at the four corners (shape (2, 2, ...): K = eta corner, J = xi corner, leading)."""

    def __init__(self, xi, et, q, sd, cd, regx, rege):
        self.xi, self.et, self.q = xi, et, q
        xi2, et2, q2 = xi * xi, et * et, q * q
        r2 = xi2 + et2 + q2
        r = torch.sqrt(r2)
        r3 = r * r2
        self.xi2, self.et2, self.q2 = xi2, et2, q2
        self.r, self.r2, self.r3, self.r5 = r, r2, r3, r3 * r2
        ir = 1.0 / r  # reciprocals once: multiplications are much cheaper than divisions
        ir2 = ir * ir
        self.ir, self.ir2, self.ir3 = ir, ir2, ir * ir2
        self.ir5 = self.ir3 * ir2
        self.y = et * cd + q * sd
        self.d = et * sd - q * cd
        self.tt = _tt(xi, et, q, r)
        # xi terms, reflected (xi -> -xi, sign -1) for a corner pair with xi1 < 0; eta terms likewise
        sgn, s, b11, self.alx, self.x11, self.x32 = _log_terms(r, ir, xi, et2 + q2, regx)
        sge, t, c11, self.ale, self.y11, self.y32 = _log_terms(r, ir, et, xi2 + q2, rege)
        self.sd, self.cd, self._s, self._t = sd, cd, s, t
        self._b11, self._c11, self._sgn, self._sge = b11, c11, sgn, sge

    # derivative-only quantities, evaluated on first use
    @_lazy
    def x53(self):
        r, r2, s = self.r, self.r2, self._s
        return self._sgn * (8.0 * r2 + 9.0 * r * s + 3.0 * s * s) * self._b11**3 * self.ir2

    @_lazy
    def y53(self):
        r, r2, t = self.r, self.r2, self._t
        return self._sge * (8.0 * r2 + 9.0 * r * t + 3.0 * t * t) * self._c11**3 * self.ir2

    @_lazy
    def ey(self):
        return self.sd * self.ir - self.y * self.q * self.ir3

    @_lazy
    def ez(self):
        return self.cd * self.ir + self.d * self.q * self.ir3

    @_lazy
    def fy(self):
        return self.d * self.ir3 + self.xi2 * self.y32 * self.sd

    @_lazy
    def fz(self):
        return self.y * self.ir3 + self.xi2 * self.y32 * self.cd

    @_lazy
    def gy(self):
        return 2.0 * self.x11 * self.sd - self.y * self.q * self.x32

    @_lazy
    def gz(self):
        return 2.0 * self.x11 * self.cd + self.d * self.q * self.x32

    @_lazy
    def hy(self):
        return self.d * self.q * self.x32 + self.xi * self.q * self.y32 * self.sd

    @_lazy
    def hz(self):
        return self.y * self.q * self.x32 + self.xi * self.q * self.y32 * self.cd


def _stack_modes(modes) -> torch.Tensor:
    """Per-mode component lists -> one tensor (M * n, ...), mode-major (combined with the dislocation later, after
    the corner sum, on 4x smaller tensors). Leading axis: each component is one contiguous block."""
    return torch.stack(torch.broadcast_tensors(*(v for m in modes for v in m)), dim=0)


def _ua(c: _Corner, sd, cd, alp1, alp2, full=True, modes=(0, 1, 2)):
    """Part A (Okada 1992, Table 6): infinite-medium terms."""
    ir, ir3 = c.ir, c.ir3
    xi, et, q, r, r3 = c.xi, c.et, c.q, c.r, c.r3
    xi2, q2 = c.xi2, c.q2
    xy, qx, qy = xi * c.y11, q * c.x11, q * c.y11
    y, d, tt = c.y, c.d, c.tt

    def s1():
        return [
            tt / 2.0 + alp2 * xi * qy,
            alp2 * q * ir,
            alp1 * c.ale - alp2 * q * qy,
        ] + ([
            -alp1 * qy - alp2 * xi2 * q * c.y32,
            -alp2 * xi * q * ir3,
            alp1 * xy + alp2 * xi * q2 * c.y32,
            alp1 * xy * sd + alp2 * xi * c.fy + d / 2.0 * c.x11,
            alp2 * c.ey,
            alp1 * (cd * ir + qy * sd) - alp2 * q * c.fy,
            alp1 * xy * cd + alp2 * xi * c.fz + y / 2.0 * c.x11,
            alp2 * c.ez,
            -alp1 * (sd * ir - qy * cd) - alp2 * q * c.fz,
        ] if full else [])

    def s2():
        return [
            alp2 * q * ir,
            tt / 2.0 + alp2 * et * qx,
            alp1 * c.alx - alp2 * q * qx,
        ] + ([
            -alp2 * xi * q * ir3,
            -qy / 2.0 - alp2 * et * q * ir3,
            alp1 * ir + alp2 * q2 * ir3,
            alp2 * c.ey,
            alp1 * d * c.x11 + xy / 2.0 * sd + alp2 * et * c.gy,
            alp1 * y * c.x11 - alp2 * q * c.gy,
            alp2 * c.ez,
            alp1 * y * c.x11 + xy / 2.0 * cd + alp2 * et * c.gz,
            -alp1 * d * c.x11 - alp2 * q * c.gz,
        ] if full else [])

    def s3():
        return [
            -alp1 * c.ale - alp2 * q * qy,
            -alp1 * c.alx - alp2 * q * qx,
            tt / 2.0 - alp2 * (et * qx + xi * qy),
        ] + ([
            -alp1 * xy + alp2 * xi * q2 * c.y32,
            -alp1 * ir + alp2 * q2 * ir3,
            -alp1 * qy - alp2 * q * q2 * c.y32,
            -alp1 * (cd * ir + qy * sd) - alp2 * q * c.fy,
            -alp1 * y * c.x11 - alp2 * q * c.gy,
            alp1 * (d * c.x11 + xy * sd) + alp2 * q * c.hy,
            alp1 * (sd * ir - qy * cd) - alp2 * q * c.fz,
            alp1 * d * c.x11 - alp2 * q * c.gz,
            alp1 * (y * c.x11 + xy * cd) + alp2 * q * c.hz,
        ] if full else [])

    return [f() for k, f in enumerate((s1, s2, s3)) if k in modes]  # only the requested modes


def _plain_eager_cpu(t: torch.Tensor) -> bool:
    """True when ``t``'s values may steer Python control flow: plain eager mode on CPU (not under ``torch.func``
    transforms or ``torch.compile``, no accelerator, so no device sync either)."""
    return not (t.device.type != "cpu" or torch.compiler.is_compiling()
                or torch._C._functorch.is_functorch_wrapped_tensor(t))


def _native_eligible(args) -> bool:
    """Whether a call with these arguments may run in the native kernel (:mod:`sciml.okada.native`): every tensor
    plain eager CPU (:func:`_plain_eager_cpu`) float64, no autograd graph needed, and not under ``torch.compile``."""
    if not native.available() or torch.compiler.is_compiling():
        return False
    tensors = [a for a in args if isinstance(a, torch.Tensor)]
    if not all(_plain_eager_cpu(t) and t.dtype == torch.float64 for t in tensors):
        return False
    return not (torch.is_grad_enabled() and any(t.requires_grad for t in tensors))


def _maybe_any(mask: torch.Tensor) -> bool:
    """``mask.any()`` as a Python bool in plain eager CPU mode (:func:`_plain_eager_cpu`), else True (evaluate every
    branch). Used only to skip work whose result would be discarded."""
    return bool(mask.any()) if _plain_eager_cpu(mask) else True


def _pair_quantities(c: _Corner, sd, cd):
    """Quantities of one pair of eta corners (e1 = eta corner 1, e2 = eta corner 2) at each xi corner, shape
    (1, 2, ...), for the pair forms of I4 (:mod:`sciml.okada.derive`)."""
    xi, et, q, r = c.xi, c.et, c.q, c.r
    e1, e2 = et[:1], et[1:]
    r1, r2 = r[:1], r[1:]
    same = e1 * e2 > 0
    one = torch.ones_like(r1)
    x2 = c.xi2 + c.q2
    xb = torch.sqrt(torch.where(same, one, x2))  # X, used by the pairs of opposite sign only (X > 0 there)
    qc = q * cd
    w = c.xi2 + c.q2 * sd * sd  # X^2 - (q cd)^2: X -+ q cd without cancellation
    xp = torch.where(qc < 0, w / torch.where(qc < 0, xb - qc, one), xb + qc)
    xm = torch.where(qc > 0, w / torch.where(qc > 0, xb + qc, one), xb - qc)
    h = e1 * (r2 + xb) - e2 * (r1 + xb)
    pd = (r1 + xb) * (r2 + xb) * xm + e1 * e2 * xp + xb * sd * (e1 * (r2 + xb) + e2 * (r1 + xb))
    pd = torch.where(same, one, pd)
    aa = torch.where(same, r1 * e2 + r2 * e1, one)
    cc = r1 * r2 + e1 * e2
    cc = torch.where(same, cc, one)
    f = 1.0 - qc * (e1 + e2) / aa + sd * (e1 + e2) / (r1 + r2)
    g = (2.0 * (cc - (r1 + r2) * qc + sd * aa - qc * sd * (e1 + e2)) + cd * cd * (2.0 * c.q2 + c.xi2)
         - cd * cd * (2.0 * e1 * e2 + c.xi2 * (e1 * e1 + e2 * e2 + x2) / cc))
    g = torch.where(same, g, one)
    return dict(xi=xi, q=q, e1=e1, e2=e2, r1=r1, r2=r2, same=same, xb=xb, h=h, pd=pd, f=f, g=g)


def _ub_integrals(c: _Corner, sd, cd, regime):
    """The I, J, K terms of part B. ``regime``: "g" general formulas (cos(dip) >= C0), "v" near-vertical forms
    (cos(dip) < C0, exact and free of 1/cos(dip): :mod:`sciml.okada.derive`), None both, selected per element.
    I4 is formed per pair of eta corners and put on corner 1 (0 on corner 2): the sum over the corners is that of
    the original, and it is smooth where single terms are not (X = 0)."""
    xi, et, q, r, y, d = c.xi, c.et, c.q, c.r, c.y, c.d
    xi2, q2 = c.xi2, c.q2
    rd = r + d
    ird = 1.0 / rd
    lrd = torch.log(rd)
    d11 = ird * c.ir
    aj2 = xi * y * ird * d11
    aj5 = -(d + y * y * ird) * d11
    one = torch.ones_like(r)
    near = cd < C0
    pq = _pair_quantities(c, sd, cd)
    xi1, e1, e2, same = pq["xi"], pq["e1"], pq["e2"], pq["same"]
    zero_row = torch.zeros_like(rd[:1])
    out_g = out_v = None
    if regime != "v":
        cds = cd if regime == "g" else torch.where(near, torch.ones_like(cd), cd)
        cdcd = cds * cds
        num = torch.where(same, cds * xi1 * (e1 - e2) * pq["f"], xi1 * cds * pq["h"])
        den = torch.where(same, pq["g"], pq["pd"])
        dt = 2.0 * torch.atan2(num, den)  # T(e1) - T(e2), T = 2 atan(N / D)
        ai4_g = (xi * ird * sd * cds + torch.cat([dt + zero_row, zero_row.expand_as(dt)], 0)) / cdcd
        ai3_g = (y * cds * ird - c.ale + sd * lrd) / cdcd
        ak1_g = xi * (d11 - c.y11 * sd) / cds
        ak3_g = (q * c.y11 - y * d11) / cds
        aj3_g = (ak1_g - aj2 * sd) / cds
        aj6_g = (ak3_g - aj5 * sd) / cds
        out_g = [ai3_g, ai4_g, ak1_g, ak3_g, aj3_g, aj6_g]
    if regime != "g":
        sel = near if regime is None else torch.ones_like(near)
        rpe = torch.where(sel, _r_plus(r, et, xi2 + q2), one)  # R + eta
        rds = torch.where(sel, rd, one)
        w1 = 1.0 + sd
        rho2 = et * et + q2
        den = r * rpe * rds
        m3 = r * (q * cd / w1 - et) - rho2
        ak1_v = xi * (cd * (r / w1 + et) + sd * q) / den
        ak3_v = m3 / den
        aj3_v = xi * ((r / w1 + et) * rds + sd * m3) / (den * rds)
        aj6_v = (q * (r * (rds + r * cd * cd) / w1 - xi2) - r * cd * ((rho2 + et * d) / w1 + r * et)) / (den * rds)
        w0 = et * cd / w1 + q
        u = torch.where(sel, -cd * w0 / rpe, torch.zeros_like(rpe))
        ai3_v = (et * (rpe - sd * rds / w1) + q * sd * w0) / (rds * rpe) + sd * (w0 / rpe) ** 2 * _log1p_rem(u) \
            - c.ale / w1
        # I4 per pair of eta corners (one formula per sign case), put on corner 1
        r1, r2 = pq["r1"], pq["r2"]
        rd1, rd2 = rds[:1], rds[1:]
        args = (xi1, q, e1, e2, cd, sd)
        mb, lb = _pairs.band(*args, pq["xb"], r1, r2)
        ms, ls, gd0 = _pairs.same(*args, r1, r2)
        gd0 = torch.where(same, gd0, torch.ones_like(gd0))
        b_band = xi1 * (mb - cd * lb / w1) / (pq["pd"] * rd1 * rd2)
        b_same = xi1 * (e1 - e2) * (ms - cd * ls / w1) / (gd0 * rd1 * rd2)
        wv = torch.where(same, xi1 * (e1 - e2) * pq["f"] / pq["g"], xi1 * pq["h"] / pq["pd"])
        t = cd * wv
        p = torch.where(same, b_same, b_band) + 2.0 * t * wv * wv * _atan_rem(t)
        ai4_v = torch.cat([p + zero_row, zero_row.expand_as(p)], 0)
        out_v = [ai3_v, ai4_v, ak1_v, ak3_v, aj3_v, aj6_v]
    if out_v is None:
        return ird, lrd, d11, aj2, aj5, out_g
    if out_g is None:
        return ird, lrd, d11, aj2, aj5, out_v
    return ird, lrd, d11, aj2, aj5, [torch.where(near, v, g) for v, g in zip(out_v, out_g)]


def _ub(c: _Corner, sd, cd, regime, alp3, full=True, modes=(0, 1, 2)):
    """Part B (Okada 1992, Table 6): surface-deformation related terms."""
    ir, ir3 = c.ir, c.ir3
    xi, et, q, r, r3 = c.xi, c.et, c.q, c.r, c.r3
    xi2, q2 = c.xi2, c.q2
    y, d, tt = c.y, c.d, c.tt
    ird, lrd, d11, aj2, aj5, (ai3, ai4, ak1, ak3, aj3, aj6) = _ub_integrals(c, sd, cd, regime)
    xy = xi * c.y11
    ai1 = -xi * ird * cd - ai4 * sd
    ai2 = lrd + ai3 * sd
    ak2 = ir + ak3 * sd
    ak4 = xy * cd - ak1 * sd
    aj1 = aj5 * cd - aj6 * sd
    aj4 = -xy - aj2 * cd + aj3 * sd
    qx, qy = q * c.x11, q * c.y11
    sdcd, sdsd = sd * cd, sd * sd

    def s1():
        return [
            -xi * qy - tt - alp3 * ai1 * sd,
            -q * ir + alp3 * y * ird * sd,
            q * qy - alp3 * ai2 * sd,
        ] + ([
            xi2 * q * c.y32 - alp3 * aj1 * sd,
            xi * q * ir3 - alp3 * aj2 * sd,
            -xi * q2 * c.y32 - alp3 * aj3 * sd,
            -xi * c.fy - d * c.x11 + alp3 * (xy + aj4) * sd,
            -c.ey + alp3 * (ir + aj5) * sd,
            q * c.fy - alp3 * (qy - aj6) * sd,
            -xi * c.fz - y * c.x11 + alp3 * ak1 * sd,
            -c.ez + alp3 * y * d11 * sd,
            q * c.fz + alp3 * ak2 * sd,
        ] if full else [])

    def s2():
        return [
            -q * ir + alp3 * ai3 * sdcd,
            -et * qx - tt - alp3 * xi * ird * sdcd,
            q * qx + alp3 * ai4 * sdcd,
        ] + ([
            xi * q * ir3 + alp3 * aj4 * sdcd,
            et * q * ir3 + qy + alp3 * aj5 * sdcd,
            -q2 * ir3 + alp3 * aj6 * sdcd,
            -c.ey + alp3 * aj1 * sdcd,
            -et * c.gy - xy * sd + alp3 * aj2 * sdcd,
            q * c.gy + alp3 * aj3 * sdcd,
            -c.ez - alp3 * ak3 * sdcd,
            -et * c.gz - xy * cd - alp3 * xi * d11 * sdcd,
            q * c.gz - alp3 * ak4 * sdcd,
        ] if full else [])

    def s3():
        return [
            q * qy - alp3 * ai3 * sdsd,
            q * qx + alp3 * xi * ird * sdsd,
            et * qx + xi * qy - tt - alp3 * ai4 * sdsd,
        ] + ([
            -xi * q2 * c.y32 - alp3 * aj4 * sdsd,
            -q2 * ir3 - alp3 * aj5 * sdsd,
            q * q2 * c.y32 - alp3 * aj6 * sdsd,
            q * c.fy - alp3 * aj1 * sdsd,
            q * c.gy - alp3 * aj2 * sdsd,
            -q * c.hy - alp3 * aj3 * sdsd,
            q * c.fz + alp3 * ak3 * sdsd,
            q * c.gz + alp3 * xi * d11 * sdsd,
            -q * c.hz + alp3 * ak4 * sdsd,
        ] if full else [])

    return [f() for k, f in enumerate((s1, s2, s3)) if k in modes]  # only the requested modes


def _uc(c: _Corner, z, sd, cd, alp4, alp5, full=True, modes=(0, 1, 2)):
    """Part C (Okada 1992, Table 6): depth-dependent terms."""
    ir, ir2, ir3, ir5 = c.ir, c.ir2, c.ir3, c.ir5
    xi, et, q, r, r2, r3, r5 = c.xi, c.et, c.q, c.r, c.r2, c.r3, c.r5
    xi2, q2 = c.xi2, c.q2
    y, d = c.y, c.d
    cc = d + z
    x11, x32, x53, y11, y32, y53 = c.x11, c.x32, c.x53, c.y11, c.y32, c.y53
    h = q * cd - z
    z32 = sd * ir3 - h * y32
    z53 = 3.0 * sd * ir5 - h * y53
    y0 = y11 - xi2 * y32
    z0 = z32 - xi2 * z53
    ppy = cd * ir3 + q * y32 * sd
    ppz = sd * ir3 - q * y32 * cd
    qq = z * y32 + z32 + z0
    qqy = 3.0 * cc * d * ir5 - qq * sd
    qqz = 3.0 * cc * y * ir5 - qq * cd + q * y32
    xy, qy = xi * y11, q * y11
    qr = 3.0 * q * ir5
    cdr = (cc + d) * ir3
    yy0 = y * ir3 - y0 * cd
    sdsd, sdcd, cdcd = sd * sd, sd * cd, cd * cd

    def s1():
        return [
            alp4 * xy * cd - alp5 * xi * q * z32,
            alp4 * (cd * ir + 2.0 * qy * sd) - alp5 * cc * q * ir3,
            alp4 * qy * cd - alp5 * (cc * et * ir3 - z * y11 + xi2 * z32),
        ] + ([
            alp4 * y0 * cd - alp5 * q * z0,
            -alp4 * xi * (cd * ir3 + 2.0 * q * y32 * sd) + alp5 * cc * xi * qr,
            -alp4 * xi * q * y32 * cd + alp5 * xi * (3.0 * cc * et * ir5 - qq),
            -alp4 * xi * ppy * cd - alp5 * xi * qqy,
            alp4 * 2.0 * (d * ir3 - y0 * sd) * sd - y * ir3 * cd - alp5 * (cdr * sd - et * ir3 - cc * y * qr),
            -alp4 * q * ir3 + yy0 * sd + alp5 * (cdr * cd + cc * d * qr - (y0 * cd + q * z0) * sd),
            alp4 * xi * ppz * cd - alp5 * xi * qqz,
            alp4 * 2.0 * (y * ir3 - y0 * cd) * sd + d * ir3 * cd - alp5 * (cdr * cd + cc * d * qr),
            yy0 * cd - alp5 * (cdr * sd - cc * y * qr - y0 * sdsd + q * z0 * cd),
        ] if full else [])

    def s2():
        return [
            alp4 * cd * ir - qy * sd - alp5 * cc * q * ir3,
            alp4 * y * x11 - alp5 * cc * et * q * x32,
            -d * x11 - xy * sd - alp5 * cc * (x11 - q2 * x32),
        ] + ([
            -alp4 * xi * ir3 * cd + alp5 * cc * xi * qr + xi * q * y32 * sd,
            -alp4 * y * ir3 + alp5 * cc * et * qr,
            d * ir3 - y0 * sd + alp5 * cc * ir3 * (1.0 - 3.0 * q2 * ir2),
            -alp4 * et * ir3 + y0 * sdsd - alp5 * (cdr * sd - cc * y * qr),
            alp4 * (x11 - y * y * x32) - alp5 * cc * ((d + 2.0 * q * cd) * x32 - y * et * q * x53),
            xi * ppy * sd + y * d * x32 + alp5 * cc * ((y + 2.0 * q * sd) * x32 - y * q2 * x53),
            -q * ir3 + y0 * sdcd - alp5 * (cdr * cd + cc * d * qr),
            alp4 * y * d * x32 - alp5 * cc * ((y - 2.0 * q * sd) * x32 + d * et * q * x53),
            -xi * ppz * sd + x11 - d * d * x32 - alp5 * cc * ((d - 2.0 * q * cd) * x32 - d * q2 * x53),
        ] if full else [])

    def s3():
        return [
            -alp4 * (sd * ir + qy * cd) - alp5 * (z * y11 - q2 * z32),
            alp4 * 2.0 * xy * sd + d * x11 - alp5 * cc * (x11 - q2 * x32),
            alp4 * (y * x11 + xy * cd) + alp5 * q * (cc * et * x32 + xi * z32),
        ] + ([
            alp4 * xi * ir3 * sd + xi * q * y32 * cd + alp5 * xi * (3.0 * cc * et * ir5 - 2.0 * z32 - z0),
            alp4 * 2.0 * y0 * sd - d * ir3 + alp5 * cc * ir3 * (1.0 - 3.0 * q2 * ir2),
            -alp4 * yy0 - alp5 * (cc * et * qr - q * z0),
            alp4 * (q * ir3 + y0 * sdcd) + alp5 * (z * ir3 * cd + cc * d * qr - q * z0 * sd),
            -alp4 * 2.0 * xi * ppy * sd - y * d * x32 + alp5 * cc * ((y + 2.0 * q * sd) * x32 - y * q2 * x53),
            -alp4 * (xi * ppy * cd - x11 + y * y * x32)
            + alp5 * (cc * ((d + 2.0 * q * cd) * x32 - y * et * q * x53) + xi * qqy),
            -et * ir3 + y0 * cdcd - alp5 * (z * ir3 * sd - cc * y * qr - y0 * sdsd + q * z0 * cd),
            alp4 * 2.0 * xi * ppz * sd - x11 + d * d * x32 - alp5 * cc * ((d - 2.0 * q * cd) * x32 - d * q2 * x53),
            alp4 * (xi * ppz * cd + y * d * x32)
            + alp5 * (cc * ((y - 2.0 * q * sd) * x32 + d * et * q * x53) + xi * qqz),
        ] if full else [])

    return [f() for k, f in enumerate((s1, s2, s3)) if k in modes]  # only the requested modes


def _corner_sum(modes) -> torch.Tensor:
    """Signed sum over the (K, J) corner axes (leading) of every component of the M mode lists -> (M, n, ...).
    Each (2, 2, ...) component is summed on its own (contiguous slices; stacking the full corner tensors first
    costs more): by slicing without autograd, by a signed reduction (cheaper backward) with it."""
    shape = torch.broadcast_shapes(*(v.shape for m in modes for v in m))
    v0 = modes[0][0]
    sgn = torch.tensor([[1.0, -1.0], [-1.0, 1.0]], dtype=v0.dtype, device=v0.device)
    sgn = sgn.view(2, 2, *(1,) * (len(shape) - 2))
    out = []
    for m in modes:
        for v in m:
            v = v.expand(shape)
            if v.requires_grad:  # a signed reduction has the cheaper backward (no zero-filled select gradients)
                out.append((v * sgn).sum((0, 1)))
            else:
                d = v[0] - v[1]  # v[0, j] - v[1, j]
                out.append(d[0] - d[1])
    return torch.stack(out, dim=0).unflatten(0, (len(modes), -1))


def _edge_singular(xi1, xi2, et1, et2, q):
    xx, ee = xi1 * xi2, et1 * et2
    return (q == 0) & (((xx <= 0) & (ee == 0)) | ((ee <= 0) & (xx == 0)))


def _geometry(y, z_sign, z, depth, sd, cd, aw1, aw2, snap=False):
    """eta1, eta2, q of the real (z_sign 1) or image (-1) source; ``snap``: values below EPS set to 0 (as the
    original, used only for the IRET decision)."""
    d = depth + z_sign * z
    p = y * cd + d * sd
    f = _snap if snap else (lambda v: v)
    return f(p - aw1), f(p - aw2), f(y * sd - d * cd)


def _pack(g: torch.Tensor, weights: torch.Tensor, iret, bad) -> OkadaResult:
    """Per-mode responses ``g`` (M, 3 | 12, ...) (UX..UZZ of the original) weighted by ``weights`` (..., M) and
    summed -> OkadaResult, zeros where ``bad``."""
    out = (weights.movedim(-1, 0)[:, None] * g).sum(0).movedim(0, -1)
    return _result(torch.where(bad[..., None], torch.zeros_like(out), out), iret)


def _result(out: torch.Tensor, iret: torch.Tensor) -> OkadaResult:
    """(..., 3 | 12) outputs UX..UZZ of the original -> OkadaResult (``grad[..., i, j] = dU_i / dx_j``)."""
    grad = out[..., 3:].unflatten(-1, (3, 3)).transpose(-1, -2) if out.shape[-1] == 12 else None
    return OkadaResult(out[..., :3], grad, iret)


def dc3d(alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3, *,
         derivatives: bool = True) -> OkadaResult:
    """Displacement and its gradient due to a rectangular dislocation (Okada 1992, DC3D).

    All arguments broadcast together. Returns :class:`OkadaResult` with ``u`` (..., 3), ``grad`` (..., 3, 3)
    (``grad[..., i, j] = dU_i/dx_j``) and ``iret`` (...). ``derivatives=False`` skips the 9 derivative
    outputs (``grad`` is then None), about 2x cheaper. Without autograd the native kernel evaluates it
    (:mod:`sciml.okada.native`; same values to rounding).
    """
    # a mode whose dislocation is the plain number 0 (not a tensor: no derivative to carry) is not evaluated
    modes = tuple(m for m, v in enumerate((disl1, disl2, disl3)) if not _is_zero_number(v)) or (0,)
    raw = (alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3)
    if _native_eligible(raw):  # no autograd needed: the C kernel (same formulas, sciml.okada.native)
        return _result(*native.dc3d(*raw[:10], raw[10:], derivatives=derivatives, modes=modes, per_mode=False))
    static, z_arg = _static_dip(dip), z
    names = ("alpha", "x", "y", "z", "depth", "dip", "al1", "al2", "aw1", "aw2", "disl1", "disl2", "disl3")
    (alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3) = as_tensors(
        alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3, names=names)
    g, iret, bad = _dc3d_core(alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, derivatives, modes, static,
                              _at_surface(z_arg, z))
    disl = (disl1, disl2, disl3)
    return _pack(g, torch.stack([disl[m] for m in modes], dim=-1) / PI2, iret, bad)


def _is_zero_number(v) -> bool:
    """True for a plain Python/NumPy number equal to 0 (never for a tensor)."""
    return not isinstance(v, torch.Tensor) and isinstance(v, (int, float, np.integer, np.floating)) and v == 0


def dc3d_unit(alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, *, derivatives: bool = False,
              modes: tuple[int, ...] = (0, 1, 2)) -> OkadaResult:
    """:func:`dc3d` for a unit dislocation of each of ``modes`` (0 strike, 1 dip, 2 tensile) in one evaluation
    (Green's functions): ``u`` (..., M, 3) with ``u[..., m, i]`` the displacement i for a unit ``modes[m]``,
    ``grad`` (..., M, 3, 3) likewise (None unless ``derivatives``); no dearer than one :func:`dc3d` call."""
    if not modes or any(m not in (0, 1, 2) for m in modes) or len(set(modes)) != len(modes):
        raise bad_value("okada", "modes", modes, "expected distinct values among 0, 1, 2")
    raw = (alpha, x, y, z, depth, dip, al1, al2, aw1, aw2)
    if _native_eligible(raw):  # no autograd needed: the C kernel (same formulas, sciml.okada.native)
        out, iret = native.dc3d(*raw, (1.0, 1.0, 1.0), derivatives=derivatives, modes=modes, per_mode=True)
        return _result(out[..., list(modes), :], iret)
    names = ("alpha", "x", "y", "z", "depth", "dip", "al1", "al2", "aw1", "aw2")
    static, z_arg = _static_dip(dip), z
    (alpha, x, y, z, depth, dip, al1, al2, aw1, aw2) = as_tensors(
        alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, names=names)
    g, iret, bad = _dc3d_core(alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, derivatives, tuple(sorted(modes)),
                              static, _at_surface(z_arg, z))
    g = g[[sorted(modes).index(m) for m in modes]] if list(modes) != sorted(modes) else g
    out = g.movedim((0, 1), (-2, -1)) / PI2  # (..., 3 modes, 12 | 3)
    return _result(torch.where(bad[..., None, None], torch.zeros_like(out), out), iret)


def _static_dip(dip):
    """(mirror, regime) known before tracing when ``dip`` is a plain number or NumPy array (no tensor: nothing
    traced): ``mirror`` True/False when every dip is above/at most 90 deg (None: mixed or unknown), ``regime`` "v" /
    "g" when every (mirrored) dip is near-vertical / not (None: mixed or unknown); see :func:`_dc3d_core`."""
    if isinstance(dip, (int, float)):  # math, not numpy: constant-folded by torch.compile
        d = float(dip)
        return d > 90.0, ("v" if math.cos(math.radians(180.0 - d if d > 90.0 else d)) < C0 else "g")
    if isinstance(dip, (np.ndarray, np.generic)) and not torch.compiler.is_compiling():
        d = np.asarray(dip, dtype=float)
        m = d > 90.0
        near = np.cos(np.radians(np.where(m, 180.0 - d, d))) < C0
        return ((True if m.all() else False if not m.any() else None),
                ("v" if near.all() else "g" if not near.any() else None))
    return None, None


def _at_surface(z_arg, z: torch.Tensor) -> bool:
    """True when every station is at the free surface: ``z_arg`` is the number 0, or (plain eager CPU, no autograd
    through z) the tensor ``z`` is all zeros. Under ``torch.compile``/``torch.func`` only the number counts."""
    if _is_zero_number(z_arg):
        return True
    return not z.requires_grad and _plain_eager_cpu(z) and not bool(z.any())


def _mirror_signs(modes, derivatives, ref: torch.Tensor) -> torch.Tensor:
    """Signs (M, 12 | 3) taking the responses of the mirrored fault back (see :func:`_dc3d_core`): dip slip changes
    sign; a component along x or y changes sign, and so does a derivative along x or y."""
    p = (-1.0, -1.0, 1.0)
    comp = [p[o % 3] * (p[o // 3 - 1] if o >= 3 else 1.0) for o in range(12 if derivatives else 3)]
    rows = [[(-1.0 if m == 1 else 1.0) * v for v in comp] for m in modes]
    return torch.tensor(rows, dtype=ref.dtype, device=ref.device).view(len(modes), len(comp), *(1,) * ref.dim())


def _dc3d_core(alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, derivatives, modes=(0, 1, 2), static=(None, None),
               surface=False):
    """Singular-case handling of DC3D, then the per-mode responses (M, 12 | 3, ...) (times 2 pi), iret, bad.

    A fault dipping more than 90 deg is evaluated as the same fault seen from the other side (rotated by 180 deg
    about the vertical: x, y -> -x, -y, [al1, al2] -> [-al2, -al1], dip -> 180 - dip, dip slip -> -dip slip), an
    exact identity, so that every formula below sees dips in [0, 90]. ``static`` (see :func:`_static_dip`) fixes the
    mirror and the part-B regime before tracing where it can (plain eager CPU calls decide from the values);
    ``surface`` (see :func:`_at_surface`) leaves out the image-source duplicate and the z-weighted part-C derivatives
    (the placeholder z = -1 of singular stations is then wrong, but their outputs are zeroed)."""
    mirror, regime = static
    flip = None
    if mirror is None:
        flip = dip > 90.0
        mirror = _maybe_any(flip)
        if mirror and _plain_eager_cpu(flip) and bool(flip.all()):
            flip = None  # all mirrored
    if mirror:
        if flip is None:
            x, y, al1, al2, dip = -x, -y, -al2, -al1, 180.0 - dip
        else:
            x, y = torch.where(flip, -x, x), torch.where(flip, -y, y)
            al1, al2 = torch.where(flip, -al2, al1), torch.where(flip, -al1, al2)
            dip = torch.where(flip, 180.0 - dip, dip)
    rad = dip * (math.pi / 180.0)
    sd, cd = torch.sin(rad), torch.cos(rad)
    if regime is None and _plain_eager_cpu(cd):
        near = cd < C0
        regime = "v" if bool(near.all()) else "g" if not bool(near.any()) else None

    # singular cases, from the raw (snapped) geometry
    with torch.no_grad():
        xi1, xi2 = _snap(x - al1), _snap(x - al2)
        sing = torch.zeros_like(x, dtype=torch.bool)
        for sgn in (1.0, -1.0):
            e1, e2, q = _geometry(y, sgn, z, depth, sd, cd, aw1, aw2, snap=True)
            sing = sing | _edge_singular(xi1, xi2, e1, e2, q)
        above = z > 0
        iret = torch.where(above, 2, torch.where(sing, 1, 0)).to(torch.int64)
        bad = above | sing
    # safe station where iret != 0 (outputs are zeroed there): beyond the xi2 end, below the surface
    x = torch.where(bad, al2 + (al2 - al1).abs() + 1.0, x)
    z = torch.where(bad, -torch.ones_like(z), z)
    g = _dc3d_modes(alpha, x, y, z, depth, sd, cd, regime, al1, al2, aw1, aw2, derivatives, modes, surface)
    if mirror:
        sgn = _mirror_signs(modes, derivatives, x)
        g = g * (sgn if flip is None else torch.where(flip, sgn, torch.ones_like(sgn)))
    return g, iret, bad


def _rot(v: torch.Tensor, sd, cd) -> torch.Tensor:
    """(v_x, v_y cd - v_z sd, v_y sd + v_z cd) on axis 2 of (M, G, 3, ...)."""
    v0, v1, v2 = v.unbind(2)
    return torch.stack([v0, v1 * cd - v2 * sd, v1 * sd + v2 * cd], dim=2)


def _dc3d_modes(alpha, x, y, z, depth, sd, cd, regime, al1, al2, aw1, aw2, derivatives, modes=(0, 1, 2),
                surface=False):
    """Responses (M, 12 | 3, ...) times 2 pi, per unit dislocation of each of ``modes`` (0 strike, 1 dip, 2 tensile).
    ``surface``: every station has z = 0 (see :func:`_at_surface`).

    Corner quantities have shape (2, 2, ...) (K = eta corner, J = xi corner leading), so that every component is
    a contiguous block and the corner sum works on contiguous slices."""
    alp = _alpha_constants(alpha)
    alp1, alp2, alp3, alp4, alp5 = alp
    xi = torch.stack([x - al1, x - al2], dim=0)[None]  # (1, 2, ...)  J
    regx = xi[:, :1] < 0  # (1, 1, ...): both xi < 0 -> reflect the xi terms of the pair
    ngroup = 4 if derivatives else 1
    trail = (1,) * x.dim()
    flip = torch.tensor([1.0, 1.0, -1.0], dtype=xi.dtype, device=xi.device).view(3, *trail)
    if surface:
        return _surface_modes(alp, y, z, depth, sd, cd, regime, xi, regx, aw1, aw2, derivatives, modes, flip)
    parts = []
    for real in (True, False):
        e1, e2, q = _geometry(y, 1.0 if real else -1.0, z, depth, sd, cd, aw1, aw2)
        et = torch.stack([e1, e2], dim=0)[:, None]  # (2, 1, ...)  K
        rege = et[:1] < 0
        c = _Corner(xi, et, q, sd, cd, regx, rege)
        if real:
            parts.append(_corner_sum(_ua(c, sd, cd, alp1, alp2, derivatives, modes)))
        else:
            parts.append(_corner_sum(_ua(c, sd, cd, alp1, alp2, derivatives, modes))
                         + _corner_sum(_ub(c, sd, cd, regime, alp3, derivatives, modes)))
            parts.append(_corner_sum(_uc(c, z, sd, cd, alp4, alp5, derivatives, modes)))
    dua, dab, duc = (v.unflatten(1, (ngroup, 3)) for v in parts)  # (modes, groups, 3, ...)
    sgn = torch.tensor([1.0, 1.0, 1.0, -1.0][:ngroup], dtype=dua.dtype, device=dua.device).view(ngroup, 1, *trail)
    # back to the Okada frame (R = _rot): real source -sgn R(A), image R(A + B) + z F R(C) with F = diag(1, 1, -1);
    # d/dz also gets F R(C) of the displacement group
    w = _rot(duc, sd, cd) * flip
    tot = _rot(dab - sgn * dua, sd, cd) + z * w
    if derivatives:
        tot = torch.cat([tot[:, :3], tot[:, 3:] + w[:, :1]], dim=1)
    return tot.flatten(1, 2)


def _surface_modes(alp, y, z, depth, sd, cd, regime, xi, regx, aw1, aw2, derivatives, modes, flip):
    """:func:`_dc3d_modes` for stations at z = 0, where the real and image sources coincide: the part-A terms cancel
    in the displacement and its x, y derivatives and double in d/dz, and part C enters only through its
    displacement group (F R(C) in d/dz; the rest is multiplied by z = 0). One corner set; part A only for d/dz.
    ``alp``: :func:`_alpha_constants`."""
    alp1, alp2, alp3, alp4, alp5 = alp
    e1, e2, q = _geometry(y, -1.0, z, depth, sd, cd, aw1, aw2)
    et = torch.stack([e1, e2], dim=0)[:, None]  # (2, 1, ...)  K
    c = _Corner(xi, et, q, sd, cd, regx, et[:1] < 0)
    tot = _corner_sum(_ub(c, sd, cd, regime, alp3, derivatives, modes)).unflatten(1, (-1, 3))  # (M, G, 3, ...)
    if derivatives:
        a_dz = _corner_sum([m[9:] for m in _ua(c, sd, cd, alp1, alp2, True, modes)])  # (M, 3, ...)
        c_u = _corner_sum(_uc(c, z, sd, cd, alp4, alp5, False, modes))
        tot = torch.cat([tot[:, :3], (tot[:, 3] + 2.0 * a_dz)[:, None]], dim=1)
        tot = _rot(tot, sd, cd)
        tot = torch.cat([tot[:, :3], tot[:, 3:] + _rot(c_u[:, None], sd, cd) * flip], dim=1)
    else:
        tot = _rot(tot, sd, cd)
    return tot.flatten(1, 2)


# --------------------------------------------------------------------------------------- point source (DC3D0)
class _Point:
    """Quantities of DCCON1 (point source)."""

    def __init__(self, x, y, d, sd, cd):
        x, y, d = _snap(x), _snap(y), _snap(d)
        self.x, self.y, self.d = x, y, d
        p = y * cd + d * sd
        q = y * sd - d * cd
        self.p, self.q = p, q
        self.s = p * sd + q * cd
        self.t = p * cd - q * sd
        self.xy = x * y
        self.x2, self.y2, self.d2 = x * x, y * y, d * d
        r2 = self.x2 + self.y2 + self.d2
        r = torch.sqrt(r2)
        self.r, self.r2 = r, r2
        self.r3 = r * r2
        self.r5 = self.r3 * r2
        self.r7 = self.r5 * r2
        ir = 1.0 / r  # reciprocals once: multiplications are much cheaper than divisions
        self.ir, self.ir2 = ir, ir * ir
        self.ir3 = ir * self.ir2
        self.ir5 = self.ir3 * self.ir2
        self.ir7 = self.ir5 * self.ir2
        ir2 = self.ir2
        self.a3 = 1.0 - 3.0 * self.x2 * ir2
        self.a5 = 1.0 - 5.0 * self.x2 * ir2
        self.b3 = 1.0 - 3.0 * self.y2 * ir2
        self.c3 = 1.0 - 3.0 * self.d2 * ir2
        self.qr = 3.0 * q * self.ir5
        self.qrx = 5.0 * self.qr * x * ir2
        self.uy = sd - 5.0 * y * q * ir2
        self.uz = cd + 5.0 * d * q * ir2
        self.vy = self.s - 5.0 * y * p * q * ir2
        self.vz = self.t + 5.0 * d * p * q * ir2
        self.wy = self.uy + sd
        self.wz = self.uz + cd


def _ua0(c: _Point, sd, cd, alp1, alp2):
    ir3, ir5 = c.ir3, c.ir5
    x, y, d, q, s, t = c.x, c.y, c.d, c.q, c.s, c.t
    x2, xy, r3, r5 = c.x2, c.xy, c.r3, c.r5
    a3, a5, b3, c3, qr, qrx = c.a3, c.a5, c.b3, c.c3, c.qr, c.qrx
    p = c.p
    s2d, c2d = 2.0 * sd * cd, cd * cd - sd * sd
    m1 = [
        alp1 * q * ir3 + alp2 * x2 * qr,
        alp1 * x * ir3 * sd + alp2 * xy * qr,
        -alp1 * x * ir3 * cd + alp2 * x * d * qr,
        x * qr * (-alp1 + alp2 * (1.0 + a5)),
        alp1 * a3 * ir3 * sd + alp2 * y * qr * a5,
        -alp1 * a3 * ir3 * cd + alp2 * d * qr * a5,
        alp1 * (sd * ir3 - y * qr) + alp2 * 3.0 * x2 * ir5 * c.uy,
        3.0 * x * ir5 * (-alp1 * y * sd + alp2 * (y * c.uy + q)),
        3.0 * x * ir5 * (alp1 * y * cd + alp2 * d * c.uy),
        alp1 * (cd * ir3 + d * qr) + alp2 * 3.0 * x2 * ir5 * c.uz,
        3.0 * x * ir5 * (alp1 * d * sd + alp2 * y * c.uz),
        3.0 * x * ir5 * (-alp1 * d * cd + alp2 * (d * c.uz - q)),
    ]
    m2 = [
        alp2 * x * p * qr,
        alp1 * s * ir3 + alp2 * y * p * qr,
        -alp1 * t * ir3 + alp2 * d * p * qr,
        alp2 * p * qr * a5,
        -alp1 * 3.0 * x * s * ir5 - alp2 * y * p * qrx,
        alp1 * 3.0 * x * t * ir5 - alp2 * d * p * qrx,
        alp2 * 3.0 * x * ir5 * c.vy,
        alp1 * (s2d * ir3 - 3.0 * y * s * ir5) + alp2 * (3.0 * y * ir5 * c.vy + p * qr),
        -alp1 * (c2d * ir3 - 3.0 * y * t * ir5) + alp2 * 3.0 * d * ir5 * c.vy,
        alp2 * 3.0 * x * ir5 * c.vz,
        alp1 * (c2d * ir3 + 3.0 * d * s * ir5) + alp2 * 3.0 * y * ir5 * c.vz,
        alp1 * (s2d * ir3 - 3.0 * d * t * ir5) + alp2 * (3.0 * d * ir5 * c.vz - p * qr),
    ]
    m3 = [
        alp1 * x * ir3 - alp2 * x * q * qr,
        alp1 * t * ir3 - alp2 * y * q * qr,
        alp1 * s * ir3 - alp2 * d * q * qr,
        alp1 * a3 * ir3 - alp2 * q * qr * a5,
        -alp1 * 3.0 * x * t * ir5 + alp2 * y * q * qrx,
        -alp1 * 3.0 * x * s * ir5 + alp2 * d * q * qrx,
        -alp1 * 3.0 * xy * ir5 - alp2 * x * qr * c.wy,
        alp1 * (c2d * ir3 - 3.0 * y * t * ir5) - alp2 * (y * c.wy + q) * qr,
        alp1 * (s2d * ir3 - 3.0 * y * s * ir5) - alp2 * d * qr * c.wy,
        alp1 * 3.0 * x * d * ir5 - alp2 * x * qr * c.wz,
        -alp1 * (s2d * ir3 - 3.0 * d * t * ir5) - alp2 * y * qr * c.wz,
        alp1 * (c2d * ir3 + 3.0 * d * s * ir5) - alp2 * (d * c.wz - q) * qr,
    ]
    f5 = alp1 * 3.0 * xy * ir5
    f6 = alp1 * 3.0 * x * d * ir5
    f9 = alp1 * 3.0 * y * d * ir5
    m4 = [
        -alp1 * x * ir3, -alp1 * y * ir3, -alp1 * d * ir3,
        -alp1 * a3 * ir3, f5, f6,
        f5, -alp1 * b3 * ir3, f9,
        -f6, -f9, alp1 * c3 * ir3,
    ]
    return _stack_modes((m1, m2, m3, m4))


def _ub0(c: _Point, z, sd, cd, alp3):
    ir2, ir3, ir5 = c.ir2, c.ir3, c.ir5
    x, y, d, q, r, r2, r3, r5 = c.x, c.y, c.d, c.q, c.r, c.r2, c.r3, c.r5
    x2, y2, d2, xy = c.x2, c.y2, c.d2, c.xy
    a3, a5, b3, c3, qr, qrx, p = c.a3, c.a5, c.b3, c.c3, c.qr, c.qrx, c.p
    sdsd, sdcd = sd * sd, sd * cd
    cc = d + z
    rd = r + d
    d12 = 1.0 / (r * rd * rd)
    d32 = d12 * (2.0 * r + d) * ir2
    d33 = d12 * (3.0 * r + d) / (r2 * rd)
    d53 = d12 * (8.0 * r2 + 9.0 * r * d + 3.0 * d2) / (r2 * r2 * rd)
    d54 = d12 * (5.0 * r2 + 4.0 * r * d + d2) * ir3 * d12
    fi1 = y * (d12 - x2 * d33)
    fi2 = x * (d12 - y2 * d33)
    fi3 = x * ir3 - fi2
    fi4 = -xy * d32
    fi5 = 1.0 / (r * rd) - x2 * d32
    fj1 = -3.0 * xy * (d33 - x2 * d54)
    fj2 = ir3 - 3.0 * d12 + 3.0 * x2 * y2 * d54
    fj3 = a3 * ir3 - fj2
    fj4 = -3.0 * xy * ir5 - fj1
    fk1 = -y * (d32 - x2 * d53)
    fk2 = -x * (d32 - y2 * d53)
    fk3 = -3.0 * x * d * ir5 - fk2
    m1 = [
        -x2 * qr - alp3 * fi1 * sd,
        -xy * qr - alp3 * fi2 * sd,
        -cc * x * qr - alp3 * fi4 * sd,
        -x * qr * (1.0 + a5) - alp3 * fj1 * sd,
        -y * qr * a5 - alp3 * fj2 * sd,
        -cc * qr * a5 - alp3 * fk1 * sd,
        -3.0 * x2 * ir5 * c.uy - alp3 * fj2 * sd,
        -3.0 * xy * ir5 * c.uy - x * qr - alp3 * fj4 * sd,
        -3.0 * cc * x * ir5 * c.uy - alp3 * fk2 * sd,
        -3.0 * x2 * ir5 * c.uz + alp3 * fk1 * sd,
        -3.0 * xy * ir5 * c.uz + alp3 * fk2 * sd,
        3.0 * x * ir5 * (-cc * c.uz + alp3 * y * sd),
    ]
    m2 = [
        -x * p * qr + alp3 * fi3 * sdcd,
        -y * p * qr + alp3 * fi1 * sdcd,
        -cc * p * qr + alp3 * fi5 * sdcd,
        -p * qr * a5 + alp3 * fj3 * sdcd,
        y * p * qrx + alp3 * fj1 * sdcd,
        cc * p * qrx + alp3 * fk3 * sdcd,
        -3.0 * x * ir5 * c.vy + alp3 * fj1 * sdcd,
        -3.0 * y * ir5 * c.vy - p * qr + alp3 * fj2 * sdcd,
        -3.0 * cc * ir5 * c.vy + alp3 * fk1 * sdcd,
        -3.0 * x * ir5 * c.vz - alp3 * fk3 * sdcd,
        -3.0 * y * ir5 * c.vz - alp3 * fk1 * sdcd,
        -3.0 * cc * ir5 * c.vz + alp3 * a3 * ir3 * sdcd,
    ]
    m3 = [
        x * q * qr - alp3 * fi3 * sdsd,
        y * q * qr - alp3 * fi1 * sdsd,
        cc * q * qr - alp3 * fi5 * sdsd,
        q * qr * a5 - alp3 * fj3 * sdsd,
        -y * q * qrx - alp3 * fj1 * sdsd,
        -cc * q * qrx - alp3 * fk3 * sdsd,
        x * qr * c.wy - alp3 * fj1 * sdsd,
        qr * (y * c.wy + q) - alp3 * fj2 * sdsd,
        cc * qr * c.wy - alp3 * fk1 * sdsd,
        x * qr * c.wz + alp3 * fk3 * sdsd,
        y * qr * c.wz + alp3 * fk1 * sdsd,
        cc * qr * c.wz - alp3 * a3 * ir3 * sdsd,
    ]
    g5 = -alp3 * 3.0 * xy * ir5
    g6 = -alp3 * 3.0 * x * d * ir5
    g9 = -alp3 * 3.0 * y * d * ir5
    m4 = [
        alp3 * x * ir3, alp3 * y * ir3, alp3 * d * ir3,
        alp3 * a3 * ir3, g5, g6,
        g5, alp3 * b3 * ir3, g9,
        -g6, -g9, -alp3 * c3 * ir3,
    ]
    return _stack_modes((m1, m2, m3, m4))


def _uc0(c: _Point, z, sd, cd, alp4, alp5):
    ir2, ir3, ir5, ir7 = c.ir2, c.ir3, c.ir5, c.ir7
    x, y, d, q, r2, r3, r5, r7 = c.x, c.y, c.d, c.q, c.r2, c.r3, c.r5, c.r7
    xy, s, t = c.xy, c.s, c.t
    a3, a5, qr, qrx, p = c.a3, c.a5, c.qr, c.qrx, c.p
    c3 = c.c3
    sdsd, sdcd = sd * sd, sd * cd
    s2d, c2d = 2.0 * sdcd, cd * cd - sdsd
    cc = d + z
    q2 = q * q
    a7 = 1.0 - 7.0 * c.x2 * ir2
    b5 = 1.0 - 5.0 * c.y2 * ir2
    b7 = 1.0 - 7.0 * c.y2 * ir2
    c5 = 1.0 - 5.0 * c.d2 * ir2
    c7 = 1.0 - 7.0 * c.d2 * ir2
    d7 = 2.0 - 7.0 * q2 * ir2
    qr5 = 5.0 * q * ir2
    qr7 = 7.0 * q * ir2
    dr5 = 5.0 * d * ir2
    e5 = 3.0 * ir5 * (alp4 * y * a5 * cd + alp5 * cc * (a5 * sd - y * qr5 * a7))
    m1 = [
        -alp4 * a3 * ir3 * cd + alp5 * cc * qr * a5,
        3.0 * x * ir5 * (alp4 * y * cd + alp5 * cc * (sd - y * qr5)),
        3.0 * x * ir5 * (-alp4 * y * sd + alp5 * cc * (cd + d * qr5)),
        alp4 * 3.0 * x * ir5 * (2.0 + a5) * cd - alp5 * cc * qrx * (2.0 + a7),
        e5,
        3.0 * ir5 * (-alp4 * y * a5 * sd + alp5 * cc * (a5 * cd + d * qr5 * a7)),
        e5,
        3.0 * x * ir5 * (alp4 * b5 * cd - alp5 * 5.0 * cc * ir2 * (2.0 * y * sd + q * b7)),
        3.0 * x * ir5 * (-alp4 * b5 * sd + alp5 * 5.0 * cc * ir2 * (d * b7 * sd - y * c7 * cd)),
        3.0 * ir5 * (-alp4 * d * a5 * cd + alp5 * cc * (a5 * cd + d * qr5 * a7)),
        15.0 * x * ir7 * (alp4 * y * d * cd + alp5 * cc * (d * b7 * sd - y * c7 * cd)),
        15.0 * x * ir7 * (-alp4 * y * d * sd + alp5 * cc * (2.0 * d * cd - q * c7)),
    ]
    e5 = 3.0 * x * ir5 * (alp4 * (c2d - 5.0 * y * t * ir2) - alp5 * 5.0 * cc * ir2 * (s - y * p * qr7))
    m2 = [
        alp4 * 3.0 * x * t * ir5 - alp5 * cc * p * qrx,
        -alp4 * ir3 * (c2d - 3.0 * y * t * ir2) + alp5 * 3.0 * cc * ir5 * (s - y * p * qr5),
        -alp4 * a3 * ir3 * sdcd + alp5 * 3.0 * cc * ir5 * (t + d * p * qr5),
        alp4 * 3.0 * t * ir5 * a5 - alp5 * 5.0 * cc * p * qr * ir2 * a7,
        e5,
        3.0 * x * ir5 * (alp4 * (2.0 + a5) * sdcd - alp5 * 5.0 * cc * ir2 * (t + d * p * qr7)),
        e5,
        3.0 * ir5 * (alp4 * (2.0 * y * c2d + t * b5) + alp5 * cc * (s2d - 10.0 * y * s * ir2 - p * qr5 * b7)),
        3.0 * ir5 * (alp4 * y * a5 * sdcd - alp5 * cc * ((3.0 + a5) * c2d + y * p * dr5 * qr7)),
        3.0 * x * ir5 * (-alp4 * (s2d - t * dr5) - alp5 * 5.0 * cc * ir2 * (t + d * p * qr7)),
        3.0 * ir5 * (-alp4 * (d * b5 * c2d + y * c5 * s2d) - alp5 * cc * ((3.0 + a5) * c2d + y * p * dr5 * qr7)),
        3.0 * ir5 * (-alp4 * d * a5 * sdcd - alp5 * cc * (s2d - 10.0 * d * t * ir2 + p * qr5 * c7)),
    ]
    e5 = 3.0 * x * ir5 * (-alp4 * (s2d - 5.0 * y * s * ir2) - alp5 * 5.0 * ir2 * (cc * (t - y + y * q * qr7) - y * z))
    m3 = [
        3.0 * x * ir5 * (-alp4 * s + alp5 * (cc * q * qr5 - z)),
        alp4 * ir3 * (s2d - 3.0 * y * s * ir2) + alp5 * 3.0 * ir5 * (cc * (t - y + y * q * qr5) - y * z),
        -alp4 * ir3 * (1.0 - a3 * sdsd) - alp5 * 3.0 * ir5 * (cc * (s - d + d * q * qr5) - d * z),
        -alp4 * 3.0 * s * ir5 * a5 + alp5 * (cc * qr * qr5 * a7 - 3.0 * z * ir5 * a5),
        e5,
        3.0 * x * ir5 * (alp4 * (1.0 - (2.0 + a5) * sdsd) + alp5 * 5.0 * ir2 * (cc * (s - d + d * q * qr7) - d * z)),
        e5,
        3.0 * ir5 * (-alp4 * (2.0 * y * s2d + s * b5)
                    - alp5 * (cc * (2.0 * sdsd + 10.0 * y * (t - y) * ir2 - q * qr5 * b7) + z * b5)),
        3.0 * ir5 * (alp4 * y * (1.0 - a5 * sdsd) + alp5 * (cc * (3.0 + a5) * s2d - y * dr5 * (cc * d7 + z))),
        3.0 * x * ir5 * (-alp4 * (c2d + s * dr5) + alp5 * (5.0 * cc * ir2 * (s - d + d * q * qr7) - 1.0 - z * dr5)),
        3.0 * ir5 * (alp4 * (d * b5 * s2d - y * c5 * c2d) + alp5 * (cc * ((3.0 + a5) * s2d - y * dr5 * d7)
                                                                   - y * (1.0 + z * dr5))),
        3.0 * ir5 * (-alp4 * d * (1.0 - a5 * sdsd)
                    - alp5 * (cc * (c2d + 10.0 * d * (s - d) * ir2 - q * qr5 * c7) + z * (1.0 + c5))),
    ]
    h5 = -alp4 * 15.0 * xy * d * ir7
    h6 = -alp4 * 3.0 * x * ir5 * c5
    h9 = -alp4 * 3.0 * y * ir5 * c5
    m4 = [
        alp4 * 3.0 * x * d * ir5, alp4 * 3.0 * y * d * ir5, alp4 * c3 * ir3,
        alp4 * 3.0 * d * ir5 * a5, h5, h6,
        h5, alp4 * 3.0 * d * ir5 * b5, h9,
        h6, h9, alp4 * 3.0 * d * ir5 * (2.0 + c5),
    ]
    return _stack_modes((m1, m2, m3, m4))


def dc3d0(alpha, x, y, z, depth, dip, pot1, pot2, pot3, pot4) -> OkadaResult:
    """Displacement and its gradient due to a point source (Okada 1992, DC3D0).

    ``pot1..pot4``: strike, dip, tensile and inflation potencies (moment / mu for 1, 2 and 4, intensity /
    lambda for 3). All arguments broadcast together; outputs as :func:`dc3d`.
    """
    names = ("alpha", "x", "y", "z", "depth", "dip", "pot1", "pot2", "pot3", "pot4")
    (alpha, x, y, z, depth, dip, pot1, pot2, pot3, pot4) = as_tensors(
        alpha, x, y, z, depth, dip, pot1, pot2, pot3, pot4, names=names)
    alp1, alp2, alp3, alp4, alp5 = _alpha_constants(alpha)
    sd, cd, _ = _dip_trig(dip)
    with torch.no_grad():
        r_real = torch.sqrt(_snap(x) ** 2 + _snap(y) ** 2 + _snap(depth + z) ** 2)
        r_img = torch.sqrt(_snap(x) ** 2 + _snap(y) ** 2 + _snap(depth - z) ** 2)
        above = z > 0
        sing = (r_real == 0) | (r_img == 0)
        iret = torch.where(above, 2, torch.where(sing, 1, 0)).to(torch.int64)
        bad = above | sing
    x = torch.where(bad, torch.ones_like(x), x)
    z = torch.where(bad, -torch.ones_like(z), z)
    pot = (pot1, pot2, pot3, pot4)

    c = _Point(x, y, depth + z, sd, cd)
    dua = _ua0(c, sd, cd, alp1, alp2).unflatten(0, (4, 12))
    c = _Point(x, y, depth - z, sd, cd)
    img = (_ua0(c, sd, cd, alp1, alp2) + _ub0(c, z, sd, cd, alp3)).unflatten(0, (4, 12))
    duc = _uc0(c, z, sd, cd, alp4, alp5).unflatten(0, (4, 12))
    sgn = torch.tensor([1.0] * 9 + [-1.0] * 3, dtype=x.dtype, device=x.device).view(12, *(1,) * x.dim())
    g = img - sgn * dua + z * duc
    g = torch.cat([g[:, :9], g[:, 9:] + duc[:, :3]], dim=1)
    return _pack(g, torch.stack(pot, dim=-1) / PI2, iret, bad)
