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

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import integrate

from sciml.errors import InputError, bad_value
from sciml.progress import track

_log = logging.getLogger(__name__)

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
    flat = v.reshape((-1, nz, nx))
    rec = np.array(receivers, dtype=int).reshape(-1, 2)
    traces = np.zeros((flat.shape[0], len(rec), nt + 1))
    snaps = np.zeros((flat.shape[0], len(steps), nz, nx))
    damp = _sponge(nz, nx, pml, dx, vmax, reflection) * dt / 2.0
    for b, model in enumerate(flat):  # one model at a time: its fields stay in cache (several x faster)
        _leapfrog(model, damp, dx, dt, nt, source, np.asarray(wavelet[:nt + 1], dtype=np.float64), pml, steps, rec,
                  snaps[b], traces[b])
    return AcousticResult(
        snapshots=snaps.reshape(batch + snaps.shape[1:]),
        snapshot_times=np.array(steps, dtype=np.float64) * dt,
        traces=traces.reshape(batch + traces.shape[1:]),
        times=np.arange(nt + 1) * dt,
    )


def _leapfrog(v: np.ndarray, damp: np.ndarray, dx: float, dt: float, nt: int, source: tuple[int, int],
              wavelet: np.ndarray, pml: int, steps: Sequence[int], rec: np.ndarray, snaps: np.ndarray,
              traces: np.ndarray) -> None:
    """Time loop for one model ``v`` ``(nz, nx)`` (float64 torch tensors, in-place updates on one thread's
    cache-sized arrays); fills ``snaps`` ``(nsnap, nz, nx)`` and ``traces`` ``(nrec, nt + 1)``."""
    import torch

    nz, nx = v.shape
    h = 2  # halo of the 4th-order stencil, held at p = 0 (outside the sponge)
    pad = pml + h
    f64 = torch.float64
    vp = torch.as_tensor(np.pad(v, pad, mode="edge"), dtype=f64)
    c2 = (vp * (dt / dx)) ** 2  # squared Courant number per node
    dmp = torch.as_tensor(np.pad(damp, h, mode="edge"), dtype=f64)
    a_plus = 1.0 / (1.0 + dmp)
    a_minus_neg = -(1.0 - dmp)
    c2a = c2 * a_plus  # (2 p - a_minus p_old + c2 lap) * a_plus
    two_a = 2.0 * a_plus
    am_a = a_minus_neg * a_plus
    p_old = torch.zeros(vp.shape, dtype=f64)
    p = torch.zeros(vp.shape, dtype=f64)
    lap = torch.zeros(vp.shape, dtype=f64)
    iz, ix = source[0] + pad, source[1] + pad
    src_scale = dt**2 / dx**2 * float(a_plus[iz, ix])  # source enters as s / dx^2 (no c^2 factor)
    c0, c1, c2s = _LAP4
    li = lap[h:-h, h:-h]
    inner = (slice(pad, pad + nz), slice(pad, pad + nx))
    rz, rx = torch.as_tensor(rec[:, 0] + pad), torch.as_tensor(rec[:, 1] + pad)
    snap_at = {k: i for i, k in enumerate(steps)}
    tr = torch.zeros((len(rec), nt + 1), dtype=f64)

    def views(q: torch.Tensor) -> tuple[torch.Tensor, list[tuple[torch.Tensor, float]]]:
        """The centre and the eight shifted neighbours (with their stencil weights) of field ``q``."""
        nb = [(q[h + 1:-h + 1 or None, h:-h], c1), (q[h - 1:-h - 1, h:-h], c1), (q[h:-h, h + 1:-h + 1 or None], c1),
              (q[h:-h, h - 1:-h - 1], c1), (q[h + 2:, h:-h], c2s), (q[h - 2:-h - 2, h:-h], c2s),
              (q[h:-h, h + 2:], c2s), (q[h:-h, h - 2:-h - 2], c2s)]
        return q[h:-h, h:-h], nb

    stencil = {id(p): views(p), id(p_old): views(p_old)}
    flush = torch.set_flush_denormal(True)  # subnormal values ahead of the wavefront slow arithmetic ~2x
    try:
        with torch.no_grad():
            for k in range(nt + 1):
                if len(rec):
                    tr[:, k] = p[rz, rx]
                if k in snap_at:
                    snaps[snap_at[k]] = p[inner].numpy()
                if k == nt:
                    break
                centre, nb = stencil[id(p)]
                torch.mul(centre, 2.0 * c0, out=li)
                for q, w in nb:
                    li.add_(q, alpha=w)
                p_old.mul_(am_a).addcmul_(p, two_a).addcmul_(c2a, lap)  # p_old now holds p_new
                p_old[iz, ix] += src_scale * wavelet[k]
                p_old, p = p, p_old
    finally:
        if flush:
            torch.set_flush_denormal(False)  # torch's default
    traces[:] = tr.numpy()


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
