"""The native C DC3D kernel (``sciml/okada/_dc3d.c`` via ``sciml.okada.native``) against the PyTorch path of the same
formulas (itself checked against pyrocko, cutde and mpmath: test_okada_oracles.py, test_okada_kernel_limits.py,
which now run through the native kernel wherever they call without autograd), and its dispatch rules."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sciml.okada import dc3d, dc3d_unit, native

F64 = torch.float64
SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
DIPS = [0.0, 1e-7, 0.5, 30.0, 72.54, 89.0, 89.9999, 90.0, 90.0001, 91.0, 135.0, 179.5, 180.0]


def test_native_kernel_is_built():
    """``pip install -e .`` builds the extension (needs a C compiler: ``make setup`` installs gcc)."""
    if os.environ.get("SCIML_OKADA_NATIVE") == "0":
        pytest.skip("native kernel switched off by SCIML_OKADA_NATIVE=0")
    assert native.available(), "sciml.okada._dc3d is not built: install gcc and rerun `pip install -e .`"


def _both(fn, *args, **kw):
    """(native, PyTorch path) results of ``fn``."""
    old = os.environ.get("SCIML_OKADA_NATIVE")
    try:
        os.environ["SCIML_OKADA_NATIVE"] = "1"
        a = fn(*args, **kw)
        os.environ["SCIML_OKADA_NATIVE"] = "0"
        b = fn(*args, **kw)
    finally:
        if old is None:
            os.environ.pop("SCIML_OKADA_NATIVE", None)
        else:
            os.environ["SCIML_OKADA_NATIVE"] = old
    return a, b


def _close(a, b, rel=1e-11):
    """Equal iret; u and grad equal to ``rel`` (a number or one per station) of each station's largest |u| (resp.
    |grad|) on the PyTorch path."""
    assert torch.equal(a.iret, b.iret)
    rel = torch.as_tensor(rel, dtype=F64)
    for p, q in ((a.u, b.u), (a.grad, b.grad)):
        if q is None:
            assert p is None
            continue
        assert p.shape == q.shape and p.dtype == q.dtype
        scale = q.abs().flatten(a.iret.dim()).amax(-1).clamp_min(1e-300)
        err = (p - q).abs().flatten(a.iret.dim()).amax(-1) / scale
        assert bool((err < rel).all()), float((err / rel).max())


@st.composite
def _case(draw):
    """A fault (any dip in [0, 180], incl. the special dips) and stations incl. those above fault ends and corners,
    on the strike line, on edge extensions, on the fault's edges (iret 1), above the surface (iret 2), at z = 0 and
    buried."""
    dip = draw(st.one_of(st.sampled_from(DIPS), st.floats(0.0, 180.0)))
    depth = draw(st.floats(0.5, 10.0))
    al1 = draw(st.floats(-5.0, 0.0))
    al2 = al1 + draw(st.floats(0.1, 6.0))
    aw1 = draw(st.floats(-4.0, 0.0))
    aw2 = aw1 + draw(st.floats(0.1, 5.0))
    buried = draw(st.booleans())
    rng = np.random.default_rng(draw(st.integers(0, 2**31)))
    n = 40
    x, y = rng.uniform(-8, 8, n), rng.uniform(-8, 8, n)
    z = -rng.uniform(0, 6, n) if buried else np.zeros(n)
    x[:6] = [al1, al2, al1, al2, al1, 0.5 * (al1 + al2)]  # above the ends / corners, edge extensions
    y[:6] = [0.0, 0.0, 1.0, -1.5, 2.0, 0.0]
    z[6], z[7] = 0.5, 0.0  # above the surface; one surface station among buried ones
    sd, cd = np.sin(np.radians(dip)), np.cos(np.radians(dip))
    x[8], y[8], z[8] = al1, aw2 * cd, -depth + aw2 * sd  # a fault corner (iret 1 when below the surface)
    disl = [draw(st.floats(-2.0, 2.0)) for _ in range(3)]
    return (draw(st.floats(0.3, 0.9)), x, y, z, depth, dip, al1, al2, aw1, aw2, *disl)


@SETTINGS
@given(_case())
def test_property_native_equals_torch_path(case):
    """hypothesis: u, grad and iret of the native kernel equal the PyTorch path (to rounding, see ``rel``)
    for tensor and number arguments, with and without derivatives, and per unit mode (``dc3d_unit``)."""
    alpha, x, y, z, *rest = case
    tx, ty, tz = (torch.tensor(v, dtype=F64) for v in (x, y, z))
    # rounding differs between the two codes and is amplified by the cancellation of the corner sum, ~(r / L)^2 for
    # a station at distance r from a fault of least side L: tolerance 1e-12 (1 + r / L)^2 (a bound, not a fit)
    depth, dip, al1, al2, aw1, aw2 = rest[:6]
    ec = 0.5 * (aw1 + aw2)
    centre = torch.tensor([0.5 * (al1 + al2), ec * np.cos(np.radians(dip)), -depth + ec * np.sin(np.radians(dip))])
    r = (torch.stack([tx, ty, tz], -1) - centre).norm(dim=-1)
    rel = 1e-12 * (1.0 + r / min(al2 - al1, aw2 - aw1)) ** 2
    for derivatives in (True, False):
        _close(*_both(dc3d, alpha, tx, ty, tz, *rest, derivatives=derivatives), rel)
    _close(*_both(dc3d, alpha, tx, ty, tz, *[torch.tensor(v, dtype=F64) for v in rest]), rel)
    _close(*_both(dc3d_unit, alpha, tx, ty, tz, *rest[:6], derivatives=True, modes=(2, 0)), rel)


def test_per_station_fault_parameters_broadcast():
    """(stations, 1) x (1, sources): per-element fault parameters (native) equal single-source native calls and the
    PyTorch path's broadcast evaluation."""
    rng = np.random.default_rng(3)
    m = 6
    dip = torch.tensor(rng.uniform(0, 180, m), dtype=F64)
    depth = torch.tensor(rng.uniform(3, 8, m), dtype=F64)
    xs = torch.linspace(-6, 6, 9, dtype=F64)[:, None]
    args = (2 / 3, xs, 1.5, -0.3, depth[None], dip[None], -2.0, 3.0, -2.5, 1.0, 1.0, 0.5, 0.2)
    a, b = _both(dc3d, *args)
    assert a.u.shape == (9, m, 3)
    _close(a, b)
    for j in range(m):
        s = dc3d(2 / 3, xs[:, 0], 1.5, -0.3, depth[j], dip[j], -2.0, 3.0, -2.5, 1.0, 1.0, 0.5, 0.2)
        assert torch.equal(s.u, a.u[:, j]) and torch.equal(s.grad, a.grad[:, j])


def test_threads_give_identical_results():
    """Chunks taken by 1 or 2 threads: bitwise the same outputs (each station is computed independently)."""
    rng = np.random.default_rng(4)
    x, y = (torch.tensor(rng.uniform(-9, 9, 5000), dtype=F64) for _ in range(2))
    old = torch.get_num_threads()
    try:
        res = []
        for th in (1, 2):
            torch.set_num_threads(th)
            res.append(dc3d(2 / 3, x, y, 0.0, 4.0, 60.0, -2.0, 3.0, -2.5, 1.0, 1.0, 0.5, 0.2))
    finally:
        torch.set_num_threads(old)
    assert torch.equal(res[0].u, res[1].u) and torch.equal(res[0].grad, res[1].grad)


def test_dispatch_keeps_autograd_dtype_and_transforms(monkeypatch):
    """The native kernel runs only where nothing needs the PyTorch graph: with requires_grad, float32, under
    ``torch.func`` the PyTorch path runs (gradients, dtype kept); a plain float64 call runs natively."""
    calls = []
    real = native._dc3d.dc3d if native._dc3d is not None else None
    if real is None:
        pytest.skip("native kernel not built")
    monkeypatch.setattr(native._dc3d, "dc3d", lambda *a: (calls.append(1), real(*a))[1])
    x = torch.tensor([1.0, -2.0, 3.5], dtype=F64)
    dip = torch.tensor(70.0, dtype=F64, requires_grad=True)
    r = dc3d(2 / 3, x, 1.0, -0.5, 4.0, dip, -2.0, 3.0, -1.0, 1.0, 1.0, 0.0, 0.0)
    (g,) = torch.autograd.grad(r.u.sum(), dip)
    assert not calls and torch.isfinite(g)
    with torch.no_grad():
        ref = dc3d(2 / 3, x, 1.0, -0.5, 4.0, dip, -2.0, 3.0, -1.0, 1.0, 1.0, 0.0, 0.0)
    assert len(calls) == 1
    torch.testing.assert_close(ref.u, r.u.detach(), rtol=1e-12, atol=1e-300)
    r32 = dc3d(2 / 3, x.float(), 1.0, -0.5, 4.0, 70.0, -2.0, 3.0, -1.0, 1.0, 1.0, 0.0, 0.0)
    assert r32.u.dtype == torch.float32 and len(calls) == 1
    jac = torch.func.jacrev(lambda d: dc3d(2 / 3, x, 1.0, -0.5, 4.0, d, -2.0, 3.0, -1.0, 1.0, 1.0, 0.0, 0.0).u)(
        torch.tensor(70.0, dtype=F64))
    assert jac.shape == (3, 3) and len(calls) == 1


def test_c_pair_forms_are_generated_from_the_python_ones():
    """``_pairs.h`` (C) is ``derive.c_header`` of ``_pairs.py``: the two kernels use the same generated pair forms."""
    from sciml.okada import derive
    assert (derive.HERE / "_pairs.h").read_text() == derive.c_header((derive.HERE / "_pairs.py").read_text())
