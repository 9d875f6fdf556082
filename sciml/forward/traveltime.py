"""First-arrival traveltimes in 1-D (flat-layered) velocity models by ray-parameter quadrature.

A model is a stack of constant-velocity layers: ``tops`` (km, increasing, first = model top) and
``velocities`` (km/s); the last layer is a half-space. For a source at depth ``z_s`` and a
receiver at depth ``z_r <= z_s`` and horizontal offset ``x`` (km), the first arrival (s) is the
minimum of

* the direct ray: ``x(p) = sum_i h_i p v_i / sqrt(1 - p^2 v_i^2)`` over the layers between the
  receiver and the source, solved for the ray parameter ``p`` (s/km), with
  ``T = sum_i h_i / (v_i sqrt(1 - p^2 v_i^2))``;
* head waves along the top of every deeper layer ``k`` faster than all layers above it:
  ``T = x / v_k + sum_i (h_up,i + h_down,i) sqrt(1/v_i^2 - 1/v_k^2)``, where they exist (``x`` beyond
  the critical distance).

Smooth models are handled by resampling into thin layers (:func:`resample`); the layered sums
converge to the continuous integrals (checked against the analytic linear-gradient solution).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq

from sciml.errors import bad_value


def _check(tops: np.ndarray, v: np.ndarray, source: str = "layered model") -> tuple[np.ndarray, np.ndarray]:
    tops, v = np.asarray(tops, float).ravel(), np.asarray(v, float).ravel()
    if tops.size != v.size or tops.size == 0:
        raise bad_value(source, "tops/velocities sizes", (tops.size, v.size), "must match and be > 0")
    if np.any(np.diff(tops) <= 0):
        raise bad_value(source, "tops", tops.tolist(), "must increase strictly")
    if np.any(~np.isfinite(v)) or np.any(v <= 0):
        raise bad_value(source, "velocities", v.tolist(), "must be finite and > 0")
    return tops, v


def resample(v_of_z: Callable[[np.ndarray], np.ndarray], z_top: float, z_bottom: float, h: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """Thin constant-velocity layers of thickness ``h`` (velocity at mid-layer) approximating ``v(z)``."""
    n = max(1, int(np.ceil((z_bottom - z_top) / h)))
    tops = z_top + (z_bottom - z_top) * np.arange(n) / n
    mids = tops + 0.5 * (z_bottom - z_top) / n
    return tops, np.asarray(v_of_z(mids), float)


def velocity_at(tops: np.ndarray, velocities: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Velocity of the layer containing each depth ``z`` (above the first top: first layer)."""
    tops, v = _check(tops, velocities)
    idx = np.clip(np.searchsorted(tops, np.asarray(z, float), side="right") - 1, 0, v.size - 1)
    return v[idx]


def _thicknesses(tops: np.ndarray, z_from: float, z_to: float) -> np.ndarray:
    """Thickness of each layer's portion inside ``[z_from, z_to]``; half-space has infinite bottom."""
    bottoms = np.append(tops[1:], np.inf)
    return np.clip(np.minimum(bottoms, z_to) - np.maximum(tops, z_from), 0.0, None)


def traveltime(tops: np.ndarray, velocities: np.ndarray, source_depth: float, offsets: np.ndarray,
               receiver_depth: float = 0.0) -> np.ndarray:
    """First-arrival traveltimes (s) at horizontal ``offsets`` (km) for one source depth (km)."""
    return traveltime_lengths(tops, velocities, source_depth, offsets, receiver_depth)[0]


def traveltime_lengths(tops: np.ndarray, velocities: np.ndarray, source_depth: float, offsets: np.ndarray,
                       receiver_depth: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """First-arrival traveltimes (s) and the ray length in every layer (km), ``(n,)`` and ``(n, n_layers)``.

    The lengths are the Frechet derivatives ``dT / d(slowness_i)`` (Fermat: to first order a slowness change
    alters the time along the unperturbed ray), the sensitivities of a linearised resolution analysis."""
    tops, v = _check(tops, velocities)
    x = np.abs(np.asarray(offsets, float))
    zs, zr = float(source_depth), float(receiver_depth)
    if zr > zs:
        zs, zr = zr, zs  # reciprocity
    if zr < tops[0] - 1e-9:
        raise bad_value("layered model", "receiver_depth", zr, f"above the model top {float(tops[0])}")
    h = _thicknesses(tops, zr, zs)
    used = h > 0
    hv, vv = h[used], v[used]
    lengths = np.zeros((x.size, v.size))
    if hv.size:
        t, q = _direct(hv, vv, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            lengths[:, used] = np.where(q < 1, hv / np.sqrt(1.0 - np.minimum(q, 1 - 1e-15) ** 2), 0.0)
        graze = q[:, 0] < 0                       # grazing along the fastest layer: x / vmax there
        if graze.any():
            k = np.flatnonzero(used)[np.argmax(vv)]
            lengths[graze] = 0.0
            lengths[graze, k] = x[graze]
    else:
        t = x / velocity_at(tops, v, zs)
        lengths[:, min(int(np.searchsorted(tops, zs, side="right")) - 1, v.size - 1)] = x
    # head waves along the top of each layer k below the source, faster than every layer crossed
    for k in range(int(np.searchsorted(tops, zs, side="right")), v.size):
        h_tot = (h + 2.0 * _thicknesses(tops, zs, tops[k]))[:k]  # receiver->layer k and source->layer k legs
        crossed = h_tot > 0
        vk = v[k]
        if not crossed.any() or np.any(v[:k][crossed] >= vk):
            continue
        q = v[:k][crossed] / vk                                   # p * v_i with p = 1 / v_k
        x_crit = float(np.sum(h_tot[crossed] * q / np.sqrt(1.0 - q * q)))
        t_head = x / vk + float(np.sum(h_tot[crossed] * np.sqrt(1.0 / v[:k][crossed] ** 2 - 1.0 / vk**2)))
        better = (x >= x_crit) & (t_head < t)
        if better.any():
            legs = np.zeros(v.size)
            legs[:k][crossed] = h_tot[crossed] / np.sqrt(1.0 - q * q)
            lengths[better] = legs
            lengths[better, k] = x[better] - x_crit
        t = np.where(better, t_head, t)
    return t, lengths


def _direct(h: np.ndarray, v: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Direct-ray times through layers ``h`` (km) of velocity ``v`` for offsets ``x`` by solving x(p) = x, and
    ``q = p v`` per layer ``(n, layers)`` (row of -1 where the ray grazes along the fastest layer)."""
    vmax = v.max()
    out = np.empty_like(x)
    qs = np.zeros((x.size, v.size))
    for i, xi in enumerate(x):
        if xi == 0:
            out[i] = float(np.sum(h / v))
            continue
        # parametrise p = sin(theta)/vmax, theta in [0, pi/2): x(theta) increases monotonically to infinity
        def xoff(th: float) -> float:
            q = np.sin(th) * v / vmax
            with np.errstate(divide="ignore"):
                return float(np.sum(h * q / np.sqrt(1.0 - q * q))) - xi

        hi = np.pi / 2 - 1e-9
        if xoff(hi) < 0:   # grazing along the fastest layer: time ~ x / vmax
            out[i] = xi / vmax
            qs[i] = -1.0
            continue
        th = brentq(xoff, 0.0, hi, xtol=1e-15, rtol=1e-15, maxiter=500)
        q = np.sin(th) * v / vmax
        qs[i] = q
        out[i] = float(np.sum(h / (v * np.sqrt(1.0 - q * q))))
    return out, qs


def lengths_table(tops: np.ndarray, velocities: np.ndarray, source_depths: np.ndarray, offsets: np.ndarray,
                  receiver_depth: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`traveltime_lengths` for every ``(source_depth, offset)``: times ``(nd, no)``, lengths ``(nd, no, layers)``."""
    res = [traveltime_lengths(tops, velocities, zs, offsets, receiver_depth) for zs in np.ravel(source_depths)]
    return np.stack([r[0] for r in res]), np.stack([r[1] for r in res])


def traveltime_table(tops: np.ndarray, velocities: np.ndarray, source_depths: np.ndarray, offsets: np.ndarray,
                     receiver_depth: float = 0.0) -> np.ndarray:
    """Traveltimes (s) for every ``(source_depth, offset)`` pair: shape ``(len(source_depths), len(offsets))``."""
    return np.stack([traveltime(tops, velocities, zs, offsets, receiver_depth) for zs in np.ravel(source_depths)])
