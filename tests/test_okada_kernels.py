"""Okada DC3D/DC3D0 kernels: published values, identities, special cases and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.func import jacrev, vmap

from sciml.errors import InputError
from sciml.okada import dc3d, dc3d0, dc3d_unit

F64 = torch.float64

# Okada (1985) Table 2 (METHODS.md section 1): ux uy uz dux/dx dux/dy duy/dx duy/dy duz/dx duz/dy
CHECKLIST = [
    ("rect", (2, 3, 4, 70), 0, [-8.689E-3, -4.298E-3, -2.747E-3, -1.220E-3, +2.470E-4, -8.191E-3, -5.814E-4, -5.175E-3, +2.945E-4]),
    ("rect", (2, 3, 4, 70), 1, [-4.682E-3, -3.527E-2, -3.564E-2, -8.867E-3, -1.519E-4, +4.057E-3, -1.035E-2, +4.088E-3, +2.626E-3]),
    ("rect", (2, 3, 4, 70), 2, [-2.660E-4, +1.056E-2, +3.214E-3, -5.655E-4, +1.993E-3, -1.066E-3, +1.230E-2, -3.730E-4, +1.040E-2]),
    ("rect", (0, 0, 4, 90), 0, [0, +5.253E-3, 0, 0, -1.864E-2, -2.325E-3, 0, 0, +2.289E-2]),
    ("rect", (0, 0, 4, 90), 1, [0, 0, 0, 0, +2.748E-2, 0, 0, 0, -7.166E-2]),
    ("rect", (0, 0, 4, 90), 2, [+1.223E-2, 0, -1.606E-2, -4.182E-3, 0, 0, -2.325E-3, -9.146E-3, 0]),
    ("point", (2, 3, 4, 70), 0, [-9.447E-4, -1.023E-3, -7.420E-4, -2.286E-4, -1.425E-4, -2.051E-4, -3.007E-4, -6.259E-5, -1.693E-4]),
    ("point", (2, 3, 4, 70), 1, [-1.172E-3, -2.082E-3, -2.532E-3, -1.526E-4, -3.544E-4, +6.983E-4, -1.154E-3, +8.707E-4, -6.345E-4]),
    ("point", (2, 3, 4, 70), 2, [-3.572E-4, +3.531E-4, -2.007E-4, -1.360E-4, +5.073E-4, -6.773E-5, +6.811E-4, +7.541E-5, +8.104E-4]),
]


def _table_values(res):
    u, g = res.u, res.grad
    return [u[0], u[1], u[2], g[0, 0], g[0, 1], g[1, 0], g[1, 1], g[2, 0], g[2, 1]]


@pytest.mark.parametrize("kind,geom,mode,expected", CHECKLIST)
def test_okada1985_table2_published_values(kind, geom, mode, expected):
    """Okada (1985) Table 2 at z = 0, lambda = mu, unit dislocation, to the printed 4 significant digits."""
    x, y, d, dip = geom
    disl = [0.0, 0.0, 0.0]
    disl[mode] = 1.0
    if kind == "rect":
        res = dc3d(2 / 3, x, y, 0.0, d, dip, 0.0, 3.0, 0.0, 2.0, *disl)
    else:
        res = dc3d0(2 / 3, x, y, 0.0, d, dip, *disl, 0.0)
    assert int(res.iret) == 0
    for got, want in zip(_table_values(res), expected):
        tol = 0.5001 * 10 ** (math.floor(math.log10(abs(want))) - 3) if want != 0 else 1e-12
        assert abs(float(got) - want) <= tol, (got, want)


def _random_rect(n, seed, z_zero_frac=0.3):
    g = torch.Generator().manual_seed(seed)
    u = lambda a, b: a + (b - a) * torch.rand(n, generator=g, dtype=F64)  # noqa: E731
    dip = u(1.0, 88.0)
    depth = u(1.0, 10.0)
    al1 = u(-5, 0)
    al2 = al1 + u(0.5, 8)
    aw2 = torch.minimum(u(-3, 3), depth / torch.sin(torch.deg2rad(dip)) - 0.05)
    aw1 = aw2 - u(0.5, 6)
    x, y = u(-10, 10), u(-10, 10)
    z = torch.where(torch.rand(n, generator=g, dtype=F64) < z_zero_frac, torch.zeros(n, dtype=F64), -u(0, 8))
    disl = torch.randn(3, n, generator=g, dtype=F64)
    return dict(alpha=2 / 3, x=x, y=y, z=z, depth=depth, dip=dip, al1=al1, al2=al2, aw1=aw1, aw2=aw2,
                disl1=disl[0], disl2=disl[1], disl3=disl[2])


def _call(p, **over):
    q = dict(p)
    q.update(over)
    return dc3d(q["alpha"], q["x"], q["y"], q["z"], q["depth"], q["dip"], q["al1"], q["al2"], q["aw1"], q["aw2"],
                q["disl1"], q["disl2"], q["disl3"])


def test_free_surface_traction_free_identities():
    """At z = 0 the shear tractions vanish: dux/dz = -duz/dx and duy/dz = -duz/dy; and sigma_zz = 0."""
    p = _random_rect(500, 1, z_zero_frac=1.0)
    r = _call(p)
    g = r.grad
    scale = g.abs().amax((-1, -2))
    assert torch.all((g[:, 0, 2] + g[:, 2, 0]).abs() <= 1e-11 * scale)
    assert torch.all((g[:, 1, 2] + g[:, 2, 1]).abs() <= 1e-11 * scale)
    # sigma_zz = lam * div u + 2 mu duz/dz = 0 with lam = mu
    div = g.diagonal(dim1=-2, dim2=-1).sum(-1)
    assert torch.all((div + 2 * g[:, 2, 2]).abs() <= 1e-11 * scale)


def test_point_source_free_surface_and_mogi():
    """DC3D0 at z = 0: traction-free; inflation source equals Mogi's u_z = (1 - nu) dV d / (pi R^3)."""
    g = torch.Generator().manual_seed(2)
    x, y = (torch.rand(200, generator=g, dtype=F64) * 20 - 10 for _ in range(2))
    r = dc3d0(2 / 3, x, y, 0.0, 3.0, 37.0, 0.3, -0.7, 0.5, 1.1)
    gr = r.grad
    scale = gr.abs().amax((-1, -2))
    assert torch.all((gr[:, 0, 2] + gr[:, 2, 0]).abs() <= 1e-11 * scale)
    assert torch.all((gr[:, 1, 2] + gr[:, 2, 1]).abs() <= 1e-11 * scale)
    nu, dv, d = 0.25, 2.0, 3.0
    pot4 = dv * 2 * (1 - nu) / (1 - 2 * nu)
    m = dc3d0(2 / 3, x, y, 0.0, d, 90.0, 0.0, 0.0, 0.0, pot4)
    r3 = (x**2 + y**2 + d**2) ** 1.5
    torch.testing.assert_close(m.u[:, 2], (1 - nu) * dv * d / (math.pi * r3), rtol=1e-12, atol=0)
    torch.testing.assert_close(m.u[:, 0], (1 - nu) * dv * x / (math.pi * r3), rtol=1e-12, atol=0)


def test_point_source_is_limit_of_small_rectangle():
    """DC3D0 potency P equals the limit of DC3D with slip P / a^2 on an a x a square: Richardson extrapolation of
    a = 4e-3, 2e-3 (error O(a^4)). Dips <= 80 deg (DC3D's B-part loses ~1/cos^2(dip) digits near vertical)."""
    p = _random_rect(400, 3)
    dist = torch.sqrt(p["x"] ** 2 + p["y"] ** 2 + (p["z"] + p["depth"]) ** 2)
    keep = (dist > 2.0) & (p["dip"] <= 80.0)
    p = {k: (v[keep] if torch.is_tensor(v) else v) for k, v in p.items()}
    for k in range(3):
        pot = [0.0, 0.0, 0.0, 0.0]
        pot[k] = 1.0
        pt = dc3d0(2 / 3, p["x"], p["y"], p["z"], p["depth"], p["dip"], *pot)
        est = []
        for a in (4e-3, 2e-3):
            disl = [0.0, 0.0, 0.0]
            disl[k] = 1.0 / (a * a)
            est.append(dc3d(2 / 3, p["x"], p["y"], p["z"], p["depth"], p["dip"], -a / 2, a / 2, -a / 2, a / 2, *disl))
        for name in ("u", "grad"):
            got = (4 * getattr(est[1], name) - getattr(est[0], name)) / 3
            want = getattr(pt, name)
            err = (got - want).abs().flatten(1).amax(1) / want.abs().flatten(1).amax(1)
            assert float(err.max()) < 5e-6  # roundoff-limited (rectangle cancels to O(a^2))


def test_ad_spatial_derivatives_equal_analytic_gradient():
    """d u / d(x, y, z) by autograd equals the analytic ``grad`` output (rectangles and point sources)."""
    p = _random_rect(300, 4)

    def u_of(xyz, prm):
        return _call({**prm, "alpha": 2 / 3}, x=xyz[0], y=xyz[1], z=xyz[2]).u

    keys = [k for k in p if k not in ("x", "y", "z", "alpha")]
    xyz = torch.stack([p["x"], p["y"], p["z"]], -1)
    prm = {k: p[k] for k in keys}
    jac = vmap(jacrev(u_of), in_dims=(0, {k: 0 for k in keys}))(xyz, {**prm})
    ref = _call(p).grad
    torch.testing.assert_close(jac, ref, rtol=1e-9, atol=1e-12 * float(ref.abs().max()))

    def u0(xyz):
        return dc3d0(2 / 3, xyz[0], xyz[1], xyz[2], 4.0, 55.0, 0.4, -1.0, 0.7, 0.2).u

    pts = xyz[:50]
    torch.testing.assert_close(vmap(jacrev(u0))(pts),
                               dc3d0(2 / 3, pts[:, 0], pts[:, 1], pts[:, 2], 4.0, 55.0, 0.4, -1.0, 0.7, 0.2).grad,
                               rtol=1e-9, atol=1e-15)


def test_gradcheck_parameters():
    """torch.autograd.gradcheck of all rectangle parameters (float64 finite differences)."""
    p = _random_rect(4, 5)
    names = ["x", "y", "z", "depth", "dip", "al1", "al2", "aw1", "aw2", "disl1", "disl2", "disl3"]
    p["z"] = p["z"] - 0.1  # keep z < 0 under the finite-difference perturbation
    inputs = tuple(p[k].clone().requires_grad_(True) for k in names)

    def f(*args):
        r = dc3d(2 / 3, *args)
        return r.u, r.grad

    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


def test_iret_cases_and_zero_outputs():
    """IRET 2 above the surface, IRET 1 on a fault edge / at the point source; outputs 0, gradients 0."""
    z = torch.tensor([0.5, 0.0, -1.0], dtype=F64, requires_grad=True)
    # fault reaching the surface: top edge at z = 0 (depth 2, dip 90, aw2 = 2); station 1 on the trace
    r = dc3d(2 / 3, torch.tensor([0.0, 0.5, 0.5], dtype=F64), 0.0, z, 2.0, 90.0, -1.0, 1.0, 0.0, 2.0, 1.0, 1.0, 1.0)
    assert r.iret.tolist() == [2, 1, 0]
    assert torch.all(r.u[:2] == 0) and torch.all(r.grad[:2] == 0)
    (g,) = torch.autograd.grad(r.u.sum() + r.grad.sum(), z)
    assert torch.isfinite(g).all() and g[0] == 0 and g[1] == 0
    p = dc3d0(2 / 3, torch.tensor([0.0, 1.0], dtype=F64), 0.0, torch.tensor([-3.0, -3.0], dtype=F64), 3.0, 45.0,
              1.0, 1.0, 1.0, 1.0)
    assert p.iret.tolist() == [1, 0] and torch.all(p.u[0] == 0)


def _fd_check(fun, x0: torch.Tensor, h: float, rtol: float):
    jac = torch.func.jacfwd(fun)(x0)  # forward-mode AD
    fd = (fun(x0 + h).flatten() - fun(x0 - h).flatten()) / (2 * h)
    assert torch.isfinite(jac).all()
    scale = float(fd.abs().max())
    assert float((jac.flatten() - fd).abs().max()) <= rtol * scale, (jac.flatten(), fd)


def _all_outputs(r):
    return torch.cat([r.u.flatten(), r.grad.flatten()])


def test_gradients_on_strike_line_of_vertical_fault_are_finite_and_true():
    """Station on the strike line (y = 0) of a vertical fault, and on the positive/negative extension of the
    top edge of a surface-breaking fault: AD derivatives finite and equal to central differences."""
    # vertical fault (dip 90), station on its strike line at the surface, outside the fault's span
    for x0 in (-4.0, 0.3, 5.0):
        _fd_check(lambda yy: _all_outputs(dc3d(2 / 3, x0, yy, 0.0, 4.0, 90.0, -1.0, 2.0, -2.0, 1.0, 1.0, 0.0, 0.0)),
                  torch.tensor(0.0, dtype=F64), 1e-4, 1e-6)
        _fd_check(lambda xx: _all_outputs(dc3d(2 / 3, xx, 0.0, 0.0, 4.0, 90.0, -1.0, 2.0, -2.0, 1.0, 0.0, 1.0, 0.0)),
                  torch.tensor(x0, dtype=F64), 1e-4, 1e-6)
    # surface-breaking dipping fault (top edge at z = 0): stations on the trace line beyond both ends
    for x0 in (-3.0, 4.0):
        y0 = 2.0 * math.cos(math.radians(60.0))  # trace at y = aw2 cos(dip), depth - aw2 sin(dip) = 0
        depth = 2.0 * math.sin(math.radians(60.0))
        for k in range(3):
            disl = [0.0, 0.0, 0.0]
            disl[k] = 1.0
            f_y = lambda yy: _all_outputs(dc3d(2 / 3, x0, yy, 0.0, depth, 60.0, -1.0, 2.0, -1.0, 2.0, *disl))  # noqa
            _fd_check(f_y, torch.tensor(y0, dtype=F64), 1e-4, 1e-6)
            f_z = lambda zz: _all_outputs(dc3d(2 / 3, x0, y0, zz, depth, 60.0, -1.0, 2.0, -1.0, 2.0, *disl))  # noqa
            _fd_check(f_z, torch.tensor(-0.5, dtype=F64), 1e-4, 1e-6)


def test_dip_derivative_at_exactly_90_degrees():
    """d/d(dip) at dip = 90 exactly: finite, non-zero and equal to central differences over 90 +- 0.05 deg."""
    g = torch.Generator().manual_seed(6)
    for _ in range(6):
        x, y = (float(v) for v in torch.rand(2, generator=g) * 16 - 8)
        z = -float(torch.rand(1, generator=g)) * 2
        for k in range(3):
            disl = [0.0, 0.0, 0.0]
            disl[k] = 1.0
            f = lambda d: _all_outputs(dc3d(2 / 3, x, y, z, 4.0, d, -2.0, 3.0, -2.5, 1.0, *disl))  # noqa: E731
            _fd_check(f, torch.tensor(90.0, dtype=F64), 0.05, 1e-4)


def test_gradient_wrt_zero_dislocation_component():
    """d u / d disl_k is the unit-dislocation field even when disl_k = 0 (no branching on zero components)."""
    d3 = torch.tensor(0.0, dtype=F64, requires_grad=True)
    r = dc3d(2 / 3, 1.0, 2.0, -0.5, 4.0, 50.0, -2.0, 2.0, -1.0, 1.0, 1.0, 0.0, d3)
    (g,) = torch.autograd.grad(r.u[2], d3)
    ref = dc3d(2 / 3, 1.0, 2.0, -0.5, 4.0, 50.0, -2.0, 2.0, -1.0, 1.0, 0.0, 0.0, 1.0).u[2]
    assert float(g) == pytest.approx(float(ref), rel=1e-12) and float(g) != 0.0


def test_broadcasting_many_stations_many_sources():
    """(stations, 1) x (1, sources) broadcast equals a loop of single evaluations."""
    p = _random_rect(5, 7)
    xs = torch.linspace(-6, 6, 7, dtype=F64)[:, None]
    r = dc3d(2 / 3, xs, 1.5, -0.3, p["depth"][None], p["dip"][None], p["al1"][None], p["al2"][None],
             p["aw1"][None], p["aw2"][None], 1.0, 0.5, 0.0)
    assert r.u.shape == (7, 5, 3) and r.grad.shape == (7, 5, 3, 3)
    for j in range(5):
        s = dc3d(2 / 3, xs[:, 0], 1.5, -0.3, p["depth"][j], p["dip"][j], p["al1"][j], p["al2"][j], p["aw1"][j],
                 p["aw2"][j], 1.0, 0.5, 0.0)
        torch.testing.assert_close(r.u[:, j], s.u, rtol=1e-13, atol=0)


def test_mixed_dtypes_are_an_error_and_float32_is_kept():
    with pytest.raises(InputError, match="mixed dtypes"):
        dc3d(2 / 3, torch.tensor([1.0], dtype=torch.float32), torch.tensor([1.0], dtype=F64), 0.0, 4.0, 70.0,
             0.0, 3.0, 0.0, 2.0, 1.0, 0.0, 0.0)
    r = dc3d(2 / 3, torch.tensor([2.0], dtype=torch.float32), 3.0, 0.0, 4.0, 70.0, 0.0, 3.0, 0.0, 2.0, 1.0, 0.0, 0.0)
    assert r.u.dtype == torch.float32
    assert dc3d(2 / 3, 2.0, 3.0, 0.0, 4.0, 70.0, 0.0, 3.0, 0.0, 2.0, 1.0, 0.0, 0.0).u.dtype == F64


def test_derivatives_false_matches_displacement():
    p = _random_rect(100, 8)
    full = _call(p)
    q = dict(p)
    fast = dc3d(*[q[k] for k in ("alpha", "x", "y", "z", "depth", "dip", "al1", "al2", "aw1", "aw2", "disl1",
                                 "disl2", "disl3")], derivatives=False)
    assert fast.grad is None
    torch.testing.assert_close(fast.u, full.u, rtol=0, atol=0)


def test_numpy_free_of_nans_over_random_configs():
    """No NaN in values or parameter gradients over random valid configurations (incl. z = 0)."""
    p = _random_rect(2000, 9)
    for k in ("depth", "dip", "al1", "al2", "aw1", "aw2", "x", "y"):
        p[k] = p[k].clone().requires_grad_(True)
    r = _call(p)
    assert torch.isfinite(r.u).all() and torch.isfinite(r.grad).all()
    grads = torch.autograd.grad(r.u.sum() + r.grad.sum(), [p[k] for k in ("depth", "dip", "al1", "x", "y")])
    assert all(torch.isfinite(g).all() for g in grads)
    assert np.all(r.iret.numpy() == 0)


def test_dc3d_unit_equals_dc3d_per_mode():
    """The one-pass unit-mode kernel (Green's functions) equals dc3d with a unit dislocation of each mode."""
    g = torch.Generator().manual_seed(3)
    x, y = (torch.rand(50, generator=g, dtype=F64) * 20 - 10 for _ in range(2))
    z = -torch.rand(50, generator=g, dtype=F64) * 3
    geo = (0.6, x, y, z, 4.0, torch.tensor([30.0, 90.0], dtype=F64)[:, None], -2.0, 3.0, -2.5, 1.0)
    res = dc3d_unit(*geo, derivatives=True)
    assert res.u.shape == (2, 50, 3, 3) and res.grad.shape == (2, 50, 3, 3, 3)
    for m in range(3):
        ref = dc3d(*geo, *[1.0 if k == m else 0.0 for k in range(3)])
        torch.testing.assert_close(res.u[..., m, :], ref.u, rtol=1e-12, atol=1e-18)
        torch.testing.assert_close(res.grad[..., m, :, :], ref.grad, rtol=1e-12, atol=1e-18)


def test_non_vertical_fast_path_matches_mixed_batch():
    """Calls without a vertical fault skip the cos(dip) = 0 branch: values and dip gradients equal those of the same
    sources in a batch that contains a vertical fault (which evaluates every branch)."""
    x, y, z = torch.tensor([1.5, -2.0, 0.3], dtype=F64), torch.tensor([2.5, 0.7, -1.1], dtype=F64), -0.2
    outs = []
    for dips in ([65.0], [65.0, 90.0]):
        dip = torch.tensor(dips, dtype=F64, requires_grad=True)[:, None]
        res = dc3d(0.6, x, y, z, 3.0, dip, -2.0, 3.0, -2.5, 1.0, 0.4, 1.0, 0.3)
        (gd,) = torch.autograd.grad(res.u.sum() + res.grad.sum(), dip)
        outs.append((res.u[0], res.grad[0], gd[0]))
    for a, b in zip(*outs):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-18)


def test_dc3d_unit_mode_subsets_and_bad_modes():
    """A subset of modes (any order) equals the corresponding slices of the all-mode evaluation."""
    x, y = torch.tensor([1.0, -3.0, 4.0], dtype=F64), torch.tensor([2.0, 0.5, -1.0], dtype=F64)
    geo = (0.6, x, y, -0.5, 4.0, 50.0, -2.0, 3.0, -2.5, 1.0)
    full = dc3d_unit(*geo, derivatives=True)
    for modes in ((0, 1), (2,), (1, 0)):
        sub = dc3d_unit(*geo, derivatives=True, modes=modes)
        torch.testing.assert_close(sub.u, full.u[..., list(modes), :], rtol=1e-14, atol=0)
        torch.testing.assert_close(sub.grad, full.grad[..., list(modes), :, :], rtol=1e-14, atol=0)
    with pytest.raises(InputError, match="modes"):
        dc3d_unit(*geo, modes=(0, 3))


def test_plain_zero_dislocation_skips_mode_with_same_values():
    """A dislocation given as the number 0 skips its mode; values equal those with a tensor 0 (whose derivative is
    still carried, see test_gradient_wrt_zero_dislocation_component)."""
    x, y = torch.tensor([1.0, -3.0, 4.0], dtype=F64), torch.tensor([2.0, 0.5, -1.0], dtype=F64)
    geo = (0.6, x, y, -0.5, 4.0, 50.0, -2.0, 3.0, -2.5, 1.0)
    zero = torch.zeros((), dtype=F64)
    for disl in ((0.7, -0.4, 0), (0, 0.3, 0.0), (0, 0, 0)):
        a = dc3d(*geo, *disl)
        b = dc3d(*geo, *[zero if v == 0 else v for v in disl])
        torch.testing.assert_close(a.u, b.u, rtol=1e-14, atol=1e-300)
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-14, atol=1e-300)


def test_number_dip_static_path_equals_tensor_dip():
    """A dip given as a number (no cos(dip) = 0) leaves the vertical branch out statically; values equal those of the
    same dip as a tensor (which evaluates it), and a number dip of exactly 90 still takes the vertical formulas
    (checked against the published vertical-fault check list values in test_okada1985_table2_published_values)."""
    x, y = torch.tensor([1.0, -3.0, 4.0, 0.0], dtype=F64), torch.tensor([2.0, 0.5, -1.0, 0.0], dtype=F64)
    for dip in (70.0, 90.0, np.float64(35.0)):
        a = dc3d(0.6, x, y, -0.5, 4.0, dip, -2.0, 3.0, -2.5, 1.0, 0.4, 1.0, 0.3)
        b = dc3d(0.6, x, y, -0.5, 4.0, torch.tensor(float(dip), dtype=F64), -2.0, 3.0, -2.5, 1.0, 0.4, 1.0, 0.3)
        torch.testing.assert_close(a.u, b.u, rtol=1e-14, atol=1e-300)
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-14, atol=1e-300)


def test_dc3d_traces_as_one_graph_for_torch_compile(torch_okada_path):
    """``torch.compile(..., fullgraph=True)`` traces dc3d (tensor and number dips) without a graph break, and the
    traced function equals eager dc3d on the PyTorch path (dynamo tracing only, backend 'eager': the inductor build
    is benchmarked in benchmarks/okada_bench.py)."""
    torch._dynamo.reset()
    x, y = torch.tensor([1.0, -3.0, 4.0], dtype=F64), torch.tensor([2.0, 0.5, -1.0], dtype=F64)
    dip_t = torch.tensor([60.0, 90.0], dtype=F64)[:, None]
    for dip in (dip_t, 60.0):
        def f(x, y, dip=dip):
            r = dc3d(0.6, x, y, -0.5, 4.0, dip, -2.0, 3.0, -2.5, 1.0, 0.4, 1.0, 0.3)
            return r.u, r.grad, r.iret
        got = torch.compile(f, fullgraph=True, backend="eager")(x, y)
        for a, b in zip(got, f(x, y)):
            torch.testing.assert_close(a, b, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("native", ["1", "0"], ids=["native", "torch"])
def test_surface_shortcut_equals_general_evaluation(native, monkeypatch):
    """Stations at z = 0 (the number, or a zero tensor) use one corner set and the displacement group of part C only
    (both in the native kernel and on the PyTorch path); values equal the general evaluation (forced by a z that
    requires grad), including singular stations (iret 1)."""
    monkeypatch.setenv("SCIML_OKADA_NATIVE", native)
    x = torch.tensor([1.0, -3.0, 4.0, -2.0, 0.5], dtype=F64)
    y = torch.tensor([2.0, 0.5, -1.0, 0.0, 0.0], dtype=F64)
    geo = (4.0, 50.0, -2.0, 3.0, -2.5, 1.0)
    z_general = torch.zeros(5, dtype=F64, requires_grad=True)
    ref = dc3d(0.6, x, y, z_general, *geo, 0.4, 1.0, 0.3)
    (dz,) = torch.autograd.grad(ref.u.sum(), z_general)
    for z in (0, 0.0, torch.zeros(5, dtype=F64)):
        got = dc3d(0.6, x, y, z, *geo, 0.4, 1.0, 0.3)
        torch.testing.assert_close(got.u, ref.u.detach(), rtol=1e-13, atol=1e-300)
        torch.testing.assert_close(got.grad, ref.grad.detach(), rtol=1e-13, atol=1e-300)
        assert torch.equal(got.iret, ref.iret)
    # the analytic d/dz at the surface equals the AD derivative of the general evaluation
    torch.testing.assert_close(got.grad[..., 2].sum(-1), dz, rtol=1e-10, atol=1e-15)
    unit = dc3d_unit(0.6, x, y, 0.0, *geo, derivatives=True)
    unit_ref = dc3d_unit(0.6, x, y, z_general, *geo, derivatives=True)
    torch.testing.assert_close(unit.grad, unit_ref.grad.detach(), rtol=1e-13, atol=1e-300)
