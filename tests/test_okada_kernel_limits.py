"""DC3D derivatives at every IRET = 0 point (fault ends, corners, strike lines, edge extensions, any dip in
[0, 180]) and accuracy near vertical / flat dips, against an independent mpmath evaluation of Okada's formulas
(``sciml.okada.mpref``, 30-45 digits) and property-based tests (hypothesis, derandomized: reproducible in CI)."""

from __future__ import annotations

import math

import mpmath as mp
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sciml.okada import dc3d, mpref

F64 = torch.float64
PARAMS = ("depth", "dip", "al1", "al2", "aw1", "aw2")
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _outputs(r) -> torch.Tensor:
    """u and grad u in the original's order (ux, uy, uz, uxx, uyx, uzx, uxy, ...)."""
    return torch.cat([r.u, r.grad.T.reshape(-1)])


def _f(vals):
    """Function of (depth, dip, al1, al2, aw1, aw2, x, y, z) -> 12 outputs, other arguments from ``vals``."""
    base = torch.tensor(vals, dtype=F64)

    def f(p):
        a = list(base.unbind())
        for k, name in enumerate(PARAMS + ("x", "y", "z")):
            a[mpref.ARGS.index(name)] = p[k]
        r = dc3d(*a)
        return torch.cat([r.u.movedim(-1, 0), r.grad.transpose(-1, -2).flatten(-2).movedim(-1, 0)])  # (12, ...)

    p0 = torch.stack([base[mpref.ARGS.index(n)] for n in PARAMS + ("x", "y", "z")])
    return f, p0


def _rel(a, b) -> float:
    return float((a - b).norm() / b.norm())


# the issue's case: depth 4, al1 -2, al2 3, aw1 -1, aw2 1; stations above the fault ends on the strike line, above
# a corner's edge extension, and a buried station on the plane x = al1
SPECIAL = [(-2.0, 0.0, 0.0), (3.0, 0.0, 0.0), (-2.0, 1.0, 0.0), (-2.0, 0.3, -2.5)]


@pytest.mark.parametrize("dip", [0.5, 60.0, 89.9999, 90.0, 90.0001, 120.0])
def test_values_at_special_points_equal_mpmath_limit(dip):
    """Values (u, grad u) at the special points equal the 30-digit limit (mpref: mean over +-1e-15) to 1e-12."""
    for x, y, z in SPECIAL:
        vals = [2 / 3, x, y, z, 4.0, dip, -2.0, 3.0, -1.0, 1.0, 1.0, 0.5, 0.2]
        r = dc3d(*[torch.tensor(v, dtype=F64) for v in vals])
        assert int(r.iret) == 0
        with mp.workdps(30):
            ref = torch.tensor([float(v) for v in mpref.dc3d_mp(*vals)], dtype=F64)
        assert _rel(_outputs(r), ref) < 1e-12, (dip, x, y, z)


@pytest.mark.parametrize("dip", [89.9999, 90.0])
def test_parameter_jacobian_at_special_points_equals_mpmath(dip):
    """d(u, grad u)/d(depth, dip, al1, al2) at stations above the fault ends (the issue's non-finite gradients)
    and near vertical (the issue's factor-30 errors) equal 45-digit mpmath central differences of the limit to 1e-12."""
    for x, y, z in SPECIAL[:2] + SPECIAL[3:]:
        vals = [2 / 3, x, y, z, 4.0, dip, -2.0, 3.0, -1.0, 1.0, 1.0, 0.5, 0.2]
        f, p0 = _f(vals)
        jac = torch.autograd.functional.jacobian(f, p0)[:, :4]
        assert bool(torch.isfinite(jac).all())
        with mp.workdps(45):  # 30 digits are not enough: the general formula loses 1/cos^2 near 90 deg
            jm = mpref.jacobian_mp(vals, PARAMS[:4])
        ref = torch.tensor([[float(v) for v in row] for row in jm], dtype=F64).T
        assert _rel(jac, ref) < 1e-12, (dip, x, y, z)


def test_issue_grid_loss_gradients_finite_at_dip_90():
    """The issue's report: 21 x 21 surface grid over [-5, 5]^2, dip 90, strike slip; loss sum(|u|^2 + |grad|^2)
    over iret = 0 stations: gradients w.r.t. all fault parameters finite, first and second order (Hessian rows)."""
    g = torch.linspace(-5, 5, 21, dtype=F64)
    xx, yy = (v.reshape(-1) for v in torch.meshgrid(g, g, indexing="ij"))
    p = torch.tensor([4.0, 90.0, -2.0, 3.0, -1.0, 1.0], dtype=F64, requires_grad=True)
    r = dc3d(2 / 3, xx, yy, torch.zeros_like(xx), *p.unbind(), 1.0, 0.0, 0.0)
    ok = r.iret == 0
    assert int(ok.sum()) == 441
    loss = ((r.u ** 2).sum(-1) + (r.grad ** 2).sum((-1, -2)))[ok].sum()
    (gr,) = torch.autograd.grad(loss, p, create_graph=True)
    assert bool(torch.isfinite(gr).all())
    for k in range(6):
        (h,) = torch.autograd.grad(gr[k], p, retain_graph=True)
        assert bool(torch.isfinite(h).all()), k


# ---------------------------------------------------------------------------------------- property-based tests
SPECIAL_DIPS = [0.0, 1e-6, 0.5, 45.0, 89.0, 89.9999, 90.0, 90.0001, 91.0, 135.0, 179.9999, 180.0]


@st.composite
def _case(draw, special: bool):
    """Fault (depth, dip, al1, al2, aw1, aw2) and one station; with ``special`` the station is drawn on the sets
    where single terms are singular: planes x = al1 / al2, the strike line y = 0, edge extensions at the surface."""
    dip = draw(st.sampled_from(SPECIAL_DIPS) | st.floats(0.0, 180.0))
    depth = draw(st.floats(0.5, 10.0))
    al1 = draw(st.floats(-5.0, 0.0))
    al2 = al1 + draw(st.floats(0.5, 8.0))
    sd = math.sin(math.radians(dip))
    aw2 = draw(st.floats(-3.0, 3.0))
    if sd > 1e-9:
        aw2 = min(aw2, (depth - 0.05) / sd)  # top edge below the surface
    aw1 = aw2 - draw(st.floats(0.5, 6.0))
    x = draw(st.floats(-8.0, 8.0))
    y = draw(st.floats(-8.0, 8.0))
    z = draw(st.sampled_from([0.0]) | st.floats(-8.0, -0.01))
    if special:
        x = draw(st.sampled_from([al1, al2, x]))
        cd = math.cos(math.radians(dip))
        edges = [0.0] + ([(aw - depth * sd) / cd for aw in (aw1, aw2)] if abs(cd) > 1e-3 else [])
        y = draw(st.sampled_from(edges + [y]))
    return [2 / 3, x, y, z, depth, dip, al1, al2, aw1, aw2, 1.0, 0.5, 0.2]


@SETTINGS
@given(_case(special=True))
def test_property_first_and_second_derivatives_finite_at_every_iret0_point(vals):
    """At every drawn point with iret = 0 (including the special sets): outputs, their first derivatives with
    respect to the 6 fault parameters and x, y, z, and a Hessian-vector product of a scalar of them, all finite."""
    f, p0 = _f(vals)
    p = p0.clone().requires_grad_(True)
    r = dc3d(*[torch.tensor(v, dtype=F64) for v in vals])
    if int(r.iret) != 0:
        return
    out = f(p)
    assert bool(torch.isfinite(out).all())
    w = torch.linspace(0.3, 1.4, 12, dtype=F64)
    (g,) = torch.autograd.grad((out * w).sum(), p, create_graph=True)
    assert bool(torch.isfinite(g).all()), vals
    (hv,) = torch.autograd.grad(g @ torch.linspace(-1.0, 1.0, 9, dtype=F64), p)
    assert bool(torch.isfinite(hv).all()), vals


def _smooth_margin(vals) -> float:
    """Distance of the station from the sets where DC3D is not smooth (fault edges and their surface images)."""
    _, x, y, z, depth, dip, al1, al2, aw1, aw2 = vals[:10]
    sd, cd = math.sin(math.radians(dip)), math.cos(math.radians(dip))
    m = []
    for zs in (1.0, -1.0):
        d = depth + zs * z
        p, q = y * cd + d * sd, y * sd - d * cd
        m.append(abs(q))
        # distance to the fault rectangle's boundary within its plane (the derivatives jump across the plane)
        m.append(min(abs(x - al1), abs(x - al2), abs(p - aw1), abs(p - aw2)))
    return min(m)


@SETTINGS
@given(_case(special=False))
def test_property_autograd_equals_finite_differences_where_smooth(vals):
    """Away from the fault plane and its edges (margin > 0.2), the Jacobian of (u, grad u) with respect to the 6
    fault parameters and x, y, z (z only below the surface) equals 4th-order central differences (step 1e-3) to
    1e-6 normwise."""
    r = dc3d(*[torch.tensor(v, dtype=F64) for v in vals])
    if int(r.iret) != 0 or _smooth_margin(vals) < 0.2 or vals[5] < 0.01 or vals[5] > 179.99:
        return
    f, p0 = _f(vals)
    ncol = 9 if vals[3] < -0.01 else 8
    jac = torch.autograd.functional.jacobian(f, p0)[:, :ncol]
    h = 1e-3
    steps = torch.tensor([h, -h, 2 * h, -2 * h], dtype=F64)
    pb = p0[:, None, None].repeat(1, ncol, 4)  # (9, column, step): all perturbed points in one call
    pb[torch.arange(ncol), torch.arange(ncol)] += steps
    vb = f(pb.reshape(9, -1)).reshape(12, ncol, 4)
    fd = (8 * (vb[..., 0] - vb[..., 1]) - (vb[..., 2] - vb[..., 3])) / (12 * h)
    assert _rel(jac, fd) < 1e-6, vals
