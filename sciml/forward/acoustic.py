"""2-D constant-density acoustic wave equation by finite differences (numpy, float64, SI units).

Equation: ``p_tt + d(x) p_t = c(x)^2 lap(p) + s(t) delta(x - x_s)`` with pressure-like field ``p``,
velocity ``c`` (m/s), grid spacing ``dx`` (m, equal in x and z), time step ``dt`` (s). The source term
``s`` is injected at one grid node as ``s / dx^2``; with this convention the homogeneous-medium solution is
the 2-D Green's function convolved with ``s`` (:func:`greens_pressure_2d`).

Scheme: 2nd order in time (leapfrog), 4th order in space. Absorbing boundaries: a damping sponge of
``pml`` cells around the model with a quadratic profile ``d = d0 (distance / width)^2``; the velocity is
extended into the sponge by edge values. Arrays are ``(nz, nx)`` (axis 0 = depth z, axis 1 = x), with an
optional leading batch axis of models simulated together.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import integrate

from sciml.errors import InputError, bad_value

__all__ = [
    "ricker",
    "stable_dt",
    "AcousticResult",
    "simulate_acoustic",
    "greens_pressure_2d",
    "CFL_LIMIT",
]

# 4th-order second-derivative stencil; 2-D leapfrog stability: c dt / dx <= sqrt(3/8)
_LAP4 = (-5.0 / 2.0, 4.0 / 3.0, -1.0 / 12.0)
CFL_LIMIT = float(np.sqrt(3.0 / 8.0))


def ricker(t: np.ndarray, f0: float, t0: float | None = None) -> np.ndarray:
    """Ricker wavelet of peak frequency ``f0`` (Hz) delayed by ``t0`` (s, default ``1.5 / f0``), unit peak."""
    if f0 <= 0:
        raise bad_value("ricker", "f0", f0, "must be positive (Hz)")
    t0 = 1.5 / f0 if t0 is None else t0
    a = (np.pi * f0 * (np.asarray(t, dtype=np.float64) - t0)) ** 2
    return (1.0 - 2.0 * a) * np.exp(-a)


def stable_dt(vmax: float, dx: float, cfl: float = 0.5) -> float:
    """Time step (s) giving Courant number ``cfl`` (< ``CFL_LIMIT``) for velocity ``vmax`` (m/s)."""
    if not 0 < cfl < CFL_LIMIT:
        raise bad_value("stable_dt", "cfl", cfl, f"must lie in (0, {CFL_LIMIT:.3f})")
    return cfl * dx / vmax


@dataclass
class AcousticResult:
    """Output of :func:`simulate_acoustic`: snapshots ``(..., nsnap, nz, nx)`` at ``snapshot_times`` (s) and
    receiver traces ``(..., nrec, nt + 1)`` sampled at ``times`` = ``k dt``, k = 0..nt."""

    snapshots: np.ndarray
    snapshot_times: np.ndarray
    traces: np.ndarray
    times: np.ndarray


def _sponge(nz: int, nx: int, pml: int, dx: float, vmax: float, reflection: float) -> np.ndarray:
    if pml == 0:
        return np.zeros((nz, nx))
    width = pml * dx
    d0 = 3.0 * vmax * np.log(1.0 / reflection) / (2.0 * width)

    def profile(n: int) -> np.ndarray:
        i = np.arange(n + 2 * pml, dtype=np.float64)
        dist = np.maximum(np.maximum(pml - i, i - (n + pml - 1)), 0.0) / pml
        return d0 * dist**2

    return np.maximum(profile(nz)[:, None], profile(nx)[None, :])


def simulate_acoustic(
    velocity: np.ndarray,
    dx: float,
    dt: float,
    nt: int,
    source: tuple[int, int],
    wavelet: np.ndarray,
    *,
    snapshot_steps: Sequence[int] = (),
    receivers: Sequence[tuple[int, int]] = (),
    pml: int = 40,
    reflection: float = 1e-3,
) -> AcousticResult:
    """Simulate ``nt`` time steps from rest.

    ``velocity``: (nz, nx) or (batch, nz, nx) in m/s; ``source``: grid indices (iz, ix); ``wavelet``: source
    time function sampled at ``k dt`` (length >= nt); ``snapshot_steps``: steps k (0..nt) to store;
    ``receivers``: grid indices (iz, ix). Raises :class:`InputError` if the Courant number exceeds the limit.
    """
    v = np.asarray(velocity)
    if v.dtype != np.float64:
        raise InputError(f"simulate_acoustic: velocity must be float64, got {v.dtype}")
    if v.ndim not in (2, 3) or min(v.shape[-2:]) < 5:
        raise InputError(f"simulate_acoustic: velocity must be (nz, nx) or (batch, nz, nx), got {v.shape}")
    if not np.all(np.isfinite(v)) or v.min() <= 0:
        raise InputError("simulate_acoustic: velocity must be finite and positive (m/s)")
    vmax = float(v.max())
    if vmax * dt / dx > CFL_LIMIT:
        raise InputError(
            f"simulate_acoustic: Courant number c dt/dx = {vmax * dt / dx:.3f} exceeds the stability limit "
            f"{CFL_LIMIT:.3f} (vmax={vmax} m/s, dt={dt} s, dx={dx} m)"
        )
    wavelet = np.asarray(wavelet, dtype=np.float64)
    if wavelet.shape[0] < nt:
        raise InputError(f"simulate_acoustic: wavelet has {wavelet.shape[0]} samples, need nt={nt}")
    nz, nx = v.shape[-2:]
    for name, (iz, ix) in [("source", source), *(("receiver", r) for r in receivers)]:
        if not (0 <= iz < nz and 0 <= ix < nx):
            raise InputError(f"simulate_acoustic: {name} index ({iz}, {ix}) outside the grid ({nz}, {nx})")
    steps = sorted(set(int(s) for s in snapshot_steps))
    if steps and (steps[0] < 0 or steps[-1] > nt):
        raise InputError(f"simulate_acoustic: snapshot steps must lie in [0, {nt}], got {steps}")

    batch = v.shape[:-2]
    h = 2  # halo of the 4th-order stencil, held at p = 0 (outside the sponge)
    pad = pml + h
    vp = np.pad(v, [(0, 0)] * len(batch) + [(pad, pad), (pad, pad)], mode="edge")
    c2 = (vp * dt / dx) ** 2  # squared Courant number per node
    damp = np.pad(_sponge(nz, nx, pml, dx, vmax, reflection), h, mode="edge") * dt / 2.0
    a_plus, a_minus = 1.0 / (1.0 + damp), 1.0 - damp
    p_old = np.zeros(vp.shape)
    p = np.zeros(vp.shape)
    lap = np.zeros(vp.shape)
    src = (..., source[0] + pad, source[1] + pad)
    src_scale = dt**2 / dx**2  # source enters as s / dx^2 (no c^2 factor)
    rec_idx = tuple(np.array([r[k] + pad for r in receivers], dtype=int) for k in (0, 1))
    traces = np.zeros(batch + (len(receivers), nt + 1))
    snaps = np.zeros(batch + (len(steps), nz, nx))
    interior = (..., slice(h, -h), slice(h, -h))
    c0, c1, c2s = _LAP4
    inner = (..., slice(pad, pad + nz), slice(pad, pad + nx))
    for k in range(nt + 1):
        if len(receivers):
            traces[..., k] = p[(...,) + rec_idx]
        if k in steps:
            snaps[..., steps.index(k), :, :] = p[inner]
        if k == nt:
            break
        lap[interior] = 2 * c0 * p[interior]
        lap[interior] += c1 * (p[..., h + 1 : -h + 1 or None, h:-h] + p[..., h - 1 : -h - 1, h:-h])
        lap[interior] += c1 * (p[..., h:-h, h + 1 : -h + 1 or None] + p[..., h:-h, h - 1 : -h - 1])
        lap[interior] += c2s * (p[..., h + 2 :, h:-h] + p[..., h - 2 : -h - 2, h:-h])
        lap[interior] += c2s * (p[..., h:-h, h + 2 :] + p[..., h:-h, h - 2 : -h - 2])
        p_new = (2.0 * p - a_minus * p_old + c2 * lap) * a_plus
        p_new[src] += src_scale * wavelet[k] * a_plus[source[0] + pad, source[1] + pad]
        p_old, p = p, p_new
    return AcousticResult(
        snapshots=snaps,
        snapshot_times=np.array(steps, dtype=np.float64) * dt,
        traces=traces,
        times=np.arange(nt + 1) * dt,
    )


def greens_pressure_2d(
    r: float, t: np.ndarray, c: float, f0: float, t0: float | None = None
) -> np.ndarray:
    """Analytic pressure at distance ``r`` (m) in a homogeneous 2-D medium of velocity ``c`` (m/s) for a
    Ricker source (:func:`ricker`) and the source convention of :func:`simulate_acoustic`.

    ``p(r, t) = 1/(2 pi c^2) * integral_0^inf s(t - (r/c) cosh(eta)) d eta`` (the 2-D Green's function
    ``H(t - r/c) / (2 pi c^2 sqrt(t^2 - r^2/c^2))`` convolved with ``s``, substituted ``tau = (r/c) cosh eta``).
    """
    if r <= 0:
        raise bad_value("greens_pressure_2d", "r", r, "must be positive (m)")
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    t0 = 1.5 / f0 if t0 is None else t0
    t_end = t0 + 4.0 / f0  # Ricker is negligible (< 1e-30) beyond this delay
    out = np.zeros_like(t)
    for i, ti in enumerate(t):
        lo = ti - t_end  # s(t - tau) ~ 0 for tau < ti - t_end
        if ti <= r / c:
            continue
        eta_max = np.arccosh(ti * c / r)
        eta_min = np.arccosh(max(lo * c / r, 1.0))
        val, _ = integrate.quad(
            lambda e: ricker(ti - (r / c) * np.cosh(e), f0, t0), eta_min, eta_max, limit=200, epsabs=1e-13
        )
        out[i] = val / (2.0 * np.pi * c**2)
    return out
