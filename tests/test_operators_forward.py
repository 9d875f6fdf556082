"""Reference simulators of the operators study checked against manufactured / analytic solutions."""
from __future__ import annotations

import numpy as np
import pytest

from sciml.errors import InputError
from sciml.forward.acoustic import greens_pressure_2d, ricker, simulate_acoustic, stable_dt
from sciml.forward.darcy import cell_centres, darcy_residual, solve_darcy


def _darcy_mms(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Manufactured solution u = sin(pi x) sin(pi y), m = 0.6 cos(2 pi x) sin(pi y) + 0.5 x; f = -div(e^m grad u)."""
    c = cell_centres(n)
    y, x = np.meshgrid(c, c, indexing="ij")  # axis 0 = y, axis 1 = x
    pi = np.pi
    m = 0.6 * np.cos(2 * pi * x) * np.sin(pi * y) + 0.5 * x
    mx = -1.2 * pi * np.sin(2 * pi * x) * np.sin(pi * y) + 0.5
    my = 0.6 * pi * np.cos(2 * pi * x) * np.cos(pi * y)
    u = np.sin(pi * x) * np.sin(pi * y)
    ux, uy = pi * np.cos(pi * x) * np.sin(pi * y), pi * np.sin(pi * x) * np.cos(pi * y)
    lap = -2 * pi**2 * u
    f = -np.exp(m) * (mx * ux + my * uy + lap)
    return m, f, u


def test_darcy_converges_second_order_to_manufactured_solution():
    """FV Darcy solver vs the manufactured solution: error falls ~4x per grid halving (order >= 1.8)."""
    errs = []
    for n in (16, 32, 64):
        m, f, u = _darcy_mms(n)
        errs.append(np.sqrt(np.mean((solve_darcy(m, f) - u) ** 2)))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    assert errs[-1] < 2e-3, errs
    assert np.all(orders > 1.8), (errs, orders)


def test_darcy_constant_coefficient_matches_series_solution():
    """k = 1, f = 1: compare with the classical double-sine series of the Poisson problem on the unit square."""
    n = 64
    u = solve_darcy(np.zeros((n, n)), 1.0)
    c = cell_centres(n)
    y, x = np.meshgrid(c, c, indexing="ij")
    ref = np.zeros_like(x)
    for p in range(1, 200, 2):
        for q in range(1, 200, 2):
            ref += 16 / (np.pi**4 * p * q * (p**2 + q**2)) * np.sin(p * np.pi * x) * np.sin(q * np.pi * y)
    assert abs(u.max() - 0.07367135) < 2e-4  # known centre value of the unit-square torsion problem
    assert np.max(np.abs(u - ref)) < 3e-4


def test_darcy_residual_vanishes_on_solution_and_rejects_bad_input():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(12, 12))
    u = solve_darcy(m, 1.0)
    assert np.max(np.abs(darcy_residual(m, u, 1.0))) < 1e-9
    with pytest.raises(InputError, match="square"):
        solve_darcy(np.zeros((4, 5)))
    with pytest.raises(InputError, match="float64"):
        solve_darcy(np.zeros((4, 4), dtype=np.float32))


# --------------------------------------------------------------------------------------------- acoustic


def _homogeneous_traces(dx: float, *, half: float, pml: int, t_max: float, offsets_m: list[tuple[float, float]]):
    c, f0 = 2000.0, 10.0
    n = int(round(2 * half / dx)) + 1
    dt = stable_dt(c, dx, 0.4)
    nt = int(round(t_max / dt))
    s = (n // 2, n // 2)
    recs = [(s[0] + int(round(oz / dx)), s[1] + int(round(ox / dx))) for oz, ox in offsets_m]
    res = simulate_acoustic(np.full((n, n), c), dx, dt, nt, s, ricker(np.arange(nt + 1) * dt, f0),
                            receivers=recs, pml=pml)
    errs = []
    for k, (oz, ox) in enumerate(offsets_m):
        ref = greens_pressure_2d(float(np.hypot(oz, ox)), res.times, c, f0)
        errs.append(np.linalg.norm(res.traces[k] - ref) / np.linalg.norm(ref))
    return np.array(errs)


def test_acoustic_converges_to_2d_greens_function():
    """FD traces vs the analytic 2-D Green's function (Ricker, c = 2 km/s) before any boundary reflection:
    relative L2 error < 0.6 % at dx = 5 m and falling at least ~3x per grid halving (2nd order in time)."""
    offsets = [(0.0, 400.0), (400.0, 400.0)]
    e10 = _homogeneous_traces(10.0, half=800.0, pml=10, t_max=0.5, offsets_m=offsets)
    e5 = _homogeneous_traces(5.0, half=800.0, pml=20, t_max=0.5, offsets_m=offsets)
    assert np.all(e5 < 6e-3), e5
    assert np.all(e10 / e5 > 3.0), (e10, e5)


def test_acoustic_sponge_absorbs_boundary_reflections():
    """Receivers 100 m from the model edge, 0.8 s of signal (edge reflections included): with the default
    40-cell sponge the trace stays within 6 % of the unbounded-medium Green's function; without it
    (rigid p = 0 edge) the error exceeds 100 %."""
    offsets = [(0.0, 300.0), (300.0, 300.0)]
    assert np.all(_homogeneous_traces(10.0, half=400.0, pml=40, t_max=0.8, offsets_m=offsets) < 0.06)
    assert np.all(_homogeneous_traces(10.0, half=400.0, pml=0, t_max=0.8, offsets_m=offsets) > 1.0)


def test_acoustic_rejects_unstable_time_step_and_bad_source():
    v = np.full((20, 20), 3000.0)
    with pytest.raises(InputError, match="Courant"):
        simulate_acoustic(v, 10.0, 0.003, 10, (10, 10), np.zeros(10))
    with pytest.raises(InputError, match="outside the grid"):
        simulate_acoustic(v, 10.0, 0.001, 10, (30, 10), np.zeros(10))
