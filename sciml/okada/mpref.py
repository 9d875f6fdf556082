"""Extended-precision reference for DC3D (Okada 1992) in ``mpmath``: the original's formulas, for validation only.

A scalar transcription of DCCON0/DCCON2/UA/UB/UC/DC3D evaluated at ``mpmath`` working precision (set by the caller
with ``mpmath.workdps``): no snapping of small values, the limit formulas only at cos(dip) = 0 exactly (dip given as
exactly 90). Two exact identities keep it accurate where single terms of the original diverge: corner pairs on the
negative extension of a fault edge use the reflection ``f(v) -> -f(-v)`` of the log terms (``xi1 < 0`` or
``eta1 < 0``; the dropped parts cancel within the pair), as the original does on the extension line itself.

The value at a station on one of the sets where single terms are singular (the fault plane, edge extensions, the
plane ``x = al_j``) is the mean of the values at two stations ``delta`` away on either side
(:func:`dc3d_mp`, error O(delta^2)); derivatives are central differences of that function at high precision
(:func:`jacobian_mp`, :func:`hessian_mp`). Outputs are ordered as the original's
(ux, uy, uz, uxx, uyx, uzx, uxy, uyy, uzy, uxz, uyz, uzz).
"""

from __future__ import annotations

from collections.abc import Sequence

import mpmath as mp

ARGS = ("alpha", "x", "y", "z", "depth", "dip", "al1", "al2", "aw1", "aw2", "disl1", "disl2", "disl3")


def _corner(xi, et, q, sd, cd, rx: bool, re: bool):
    """DCCON2 at one corner; ``rx``/``re``: reflected xi / eta log terms."""
    c = {}
    xi2, et2, q2 = xi * xi, et * et, q * q
    r2 = xi2 + et2 + q2
    r = mp.sqrt(r2)
    c.update(xi=xi, et=et, q=q, xi2=xi2, et2=et2, q2=q2, r=r, r2=r2, r3=r * r2, r5=r * r2 * r2)
    c["y"] = et * cd + q * sd
    c["d"] = et * sd - q * cd
    c["tt"] = mp.atan(xi * et / (q * r)) if q != 0 else mp.mpf(0)

    def logs(v, refl):
        s, sg = (-v, -1) if refl else (v, 1)
        rp = r + s
        b = 1 / (r * rp)
        return sg * mp.log(rp), sg * b, sg * (r + rp) * b * b / r, sg * (8 * r2 + 9 * r * s + 3 * s * s) * b**3 / r2

    c["alx"], c["x11"], c["x32"], c["x53"] = logs(xi, rx)
    c["ale"], c["y11"], c["y32"], c["y53"] = logs(et, re)
    y, d = c["y"], c["d"]
    r3 = c["r3"]
    c["ey"] = sd / r - y * q / r3
    c["ez"] = cd / r + d * q / r3
    c["fy"] = d / r3 + xi2 * c["y32"] * sd
    c["fz"] = y / r3 + xi2 * c["y32"] * cd
    c["gy"] = 2 * c["x11"] * sd - y * q * c["x32"]
    c["gz"] = 2 * c["x11"] * cd + d * q * c["x32"]
    c["hy"] = d * q * c["x32"] + xi * q * c["y32"] * sd
    c["hz"] = y * q * c["x32"] + xi * q * c["y32"] * cd
    return c


def _ua(c, sd, cd, alp1, alp2):
    xi, et, q, r, r3 = c["xi"], c["et"], c["q"], c["r"], c["r3"]
    xi2, q2, y, d, tt = c["xi2"], c["q2"], c["y"], c["d"], c["tt"]
    x11, y11, y32 = c["x11"], c["y11"], c["y32"]
    xy, qx, qy = xi * y11, q * x11, q * y11
    fy, fz, gy, gz, hy, hz, ey, ez = (c[k] for k in ("fy", "fz", "gy", "gz", "hy", "hz", "ey", "ez"))
    m1 = [tt / 2 + alp2 * xi * qy, alp2 * q / r, alp1 * c["ale"] - alp2 * q * qy,
          -alp1 * qy - alp2 * xi2 * q * y32, -alp2 * xi * q / r3, alp1 * xy + alp2 * xi * q2 * y32,
          alp1 * xy * sd + alp2 * xi * fy + d / 2 * x11, alp2 * ey, alp1 * (cd / r + qy * sd) - alp2 * q * fy,
          alp1 * xy * cd + alp2 * xi * fz + y / 2 * x11, alp2 * ez, -alp1 * (sd / r - qy * cd) - alp2 * q * fz]
    m2 = [alp2 * q / r, tt / 2 + alp2 * et * qx, alp1 * c["alx"] - alp2 * q * qx,
          -alp2 * xi * q / r3, -qy / 2 - alp2 * et * q / r3, alp1 / r + alp2 * q2 / r3,
          alp2 * ey, alp1 * d * x11 + xy / 2 * sd + alp2 * et * gy, alp1 * y * x11 - alp2 * q * gy,
          alp2 * ez, alp1 * y * x11 + xy / 2 * cd + alp2 * et * gz, -alp1 * d * x11 - alp2 * q * gz]
    m3 = [-alp1 * c["ale"] - alp2 * q * qy, -alp1 * c["alx"] - alp2 * q * qx, tt / 2 - alp2 * (et * qx + xi * qy),
          -alp1 * xy + alp2 * xi * q2 * y32, -alp1 / r + alp2 * q2 / r3, -alp1 * qy - alp2 * q * q2 * y32,
          -alp1 * (cd / r + qy * sd) - alp2 * q * fy, -alp1 * y * x11 - alp2 * q * gy,
          alp1 * (d * x11 + xy * sd) + alp2 * q * hy,
          alp1 * (sd / r - qy * cd) - alp2 * q * fz, alp1 * d * x11 - alp2 * q * gz,
          alp1 * (y * x11 + xy * cd) + alp2 * q * hz]
    return [m1, m2, m3]


def _ub(c, sd, cd, alp3):
    xi, et, q, r, r3 = c["xi"], c["et"], c["q"], c["r"], c["r3"]
    xi2, q2, y, d, tt = c["xi2"], c["q2"], c["y"], c["d"], c["tt"]
    x11, y11, y32 = c["x11"], c["y11"], c["y32"]
    fy, fz, gy, gz, hy, hz, ey, ez = (c[k] for k in ("fy", "fz", "gy", "gz", "hy", "hz", "ey", "ez"))
    rd = r + d
    d11 = 1 / (r * rd)
    aj2 = xi * y / rd * d11
    aj5 = -(d + y * y / rd) * d11
    if cd != 0:
        if xi == 0:
            ai4 = mp.mpf(0)
        else:
            x = mp.sqrt(xi2 + q2)
            ai4 = (xi / rd * sd * cd + 2 * mp.atan((et * (x + q * cd) + x * (r + x) * sd) / (xi * (r + x) * cd))) / cd**2
        ai3 = (y * cd / rd - c["ale"] + sd * mp.log(rd)) / cd**2
        ak1 = xi * (d11 - y11 * sd) / cd
        ak3 = (q * y11 - y * d11) / cd
        aj3 = (ak1 - aj2 * sd) / cd
        aj6 = (ak3 - aj5 * sd) / cd
    else:
        rd2 = rd * rd
        ai3 = (et / rd + y * q / rd2 - c["ale"]) / 2
        ai4 = xi * y / rd2 / 2
        ak1 = xi * q / rd * d11
        ak3 = sd / rd * (xi2 * d11 - 1)
        aj3 = -xi / rd2 * (q2 * d11 - mp.mpf(1) / 2)
        aj6 = -y / rd2 * (xi2 * d11 - mp.mpf(1) / 2)
    xy = xi * y11
    ai1 = -xi / rd * cd - ai4 * sd
    ai2 = mp.log(rd) + ai3 * sd
    ak2 = 1 / r + ak3 * sd
    ak4 = xy * cd - ak1 * sd
    aj1 = aj5 * cd - aj6 * sd
    aj4 = -xy - aj2 * cd + aj3 * sd
    qx, qy = q * x11, q * y11
    sdcd, sdsd = sd * cd, sd * sd
    m1 = [-xi * qy - tt - alp3 * ai1 * sd, -q / r + alp3 * y / rd * sd, q * qy - alp3 * ai2 * sd,
          xi2 * q * y32 - alp3 * aj1 * sd, xi * q / r3 - alp3 * aj2 * sd, -xi * q2 * y32 - alp3 * aj3 * sd,
          -xi * fy - d * x11 + alp3 * (xy + aj4) * sd, -ey + alp3 * (1 / r + aj5) * sd, q * fy - alp3 * (qy - aj6) * sd,
          -xi * fz - y * x11 + alp3 * ak1 * sd, -ez + alp3 * y * d11 * sd, q * fz + alp3 * ak2 * sd]
    m2 = [-q / r + alp3 * ai3 * sdcd, -et * qx - tt - alp3 * xi / rd * sdcd, q * qx + alp3 * ai4 * sdcd,
          xi * q / r3 + alp3 * aj4 * sdcd, et * q / r3 + qy + alp3 * aj5 * sdcd, -q2 / r3 + alp3 * aj6 * sdcd,
          -ey + alp3 * aj1 * sdcd, -et * gy - xy * sd + alp3 * aj2 * sdcd, q * gy + alp3 * aj3 * sdcd,
          -ez - alp3 * ak3 * sdcd, -et * gz - xy * cd - alp3 * xi * d11 * sdcd, q * gz - alp3 * ak4 * sdcd]
    m3 = [q * qy - alp3 * ai3 * sdsd, q * qx + alp3 * xi / rd * sdsd, et * qx + xi * qy - tt - alp3 * ai4 * sdsd,
          -xi * q2 * y32 - alp3 * aj4 * sdsd, -q2 / r3 - alp3 * aj5 * sdsd, q * q2 * y32 - alp3 * aj6 * sdsd,
          q * fy - alp3 * aj1 * sdsd, q * gy - alp3 * aj2 * sdsd, -q * hy - alp3 * aj3 * sdsd,
          q * fz + alp3 * ak3 * sdsd, q * gz + alp3 * xi * d11 * sdsd, -q * hz + alp3 * ak4 * sdsd]
    return [m1, m2, m3]


def _uc(c, z, sd, cd, alp4, alp5):
    xi, et, q, r, r2, r3, r5 = (c[k] for k in ("xi", "et", "q", "r", "r2", "r3", "r5"))
    xi2, q2, y, d = c["xi2"], c["q2"], c["y"], c["d"]
    x11, x32, x53, y11, y32, y53 = (c[k] for k in ("x11", "x32", "x53", "y11", "y32", "y53"))
    cc = d + z
    h = q * cd - z
    z32 = sd / r3 - h * y32
    z53 = 3 * sd / r5 - h * y53
    y0 = y11 - xi2 * y32
    z0 = z32 - xi2 * z53
    ppy = cd / r3 + q * y32 * sd
    ppz = sd / r3 - q * y32 * cd
    qq = z * y32 + z32 + z0
    qqy = 3 * cc * d / r5 - qq * sd
    qqz = 3 * cc * y / r5 - qq * cd + q * y32
    xy, qy, qr = xi * y11, q * y11, 3 * q / r5
    cdr = (cc + d) / r3
    yy0 = y / r3 - y0 * cd
    sdsd, sdcd, cdcd = sd * sd, sd * cd, cd * cd
    m1 = [alp4 * xy * cd - alp5 * xi * q * z32,
          alp4 * (cd / r + 2 * qy * sd) - alp5 * cc * q / r3,
          alp4 * qy * cd - alp5 * (cc * et / r3 - z * y11 + xi2 * z32),
          alp4 * y0 * cd - alp5 * q * z0,
          -alp4 * xi * (cd / r3 + 2 * q * y32 * sd) + alp5 * cc * xi * qr,
          -alp4 * xi * q * y32 * cd + alp5 * xi * (3 * cc * et / r5 - qq),
          -alp4 * xi * ppy * cd - alp5 * xi * qqy,
          alp4 * 2 * (d / r3 - y0 * sd) * sd - y / r3 * cd - alp5 * (cdr * sd - et / r3 - cc * y * qr),
          -alp4 * q / r3 + yy0 * sd + alp5 * (cdr * cd + cc * d * qr - (y0 * cd + q * z0) * sd),
          alp4 * xi * ppz * cd - alp5 * xi * qqz,
          alp4 * 2 * (y / r3 - y0 * cd) * sd + d / r3 * cd - alp5 * (cdr * cd + cc * d * qr),
          yy0 * cd - alp5 * (cdr * sd - cc * y * qr - y0 * sdsd + q * z0 * cd)]
    m2 = [alp4 * cd / r - qy * sd - alp5 * cc * q / r3,
          alp4 * y * x11 - alp5 * cc * et * q * x32,
          -d * x11 - xy * sd - alp5 * cc * (x11 - q2 * x32),
          -alp4 * xi / r3 * cd + alp5 * cc * xi * qr + xi * q * y32 * sd,
          -alp4 * y / r3 + alp5 * cc * et * qr,
          d / r3 - y0 * sd + alp5 * cc / r3 * (1 - 3 * q2 / r2),
          -alp4 * et / r3 + y0 * sdsd - alp5 * (cdr * sd - cc * y * qr),
          alp4 * (x11 - y * y * x32) - alp5 * cc * ((d + 2 * q * cd) * x32 - y * et * q * x53),
          xi * ppy * sd + y * d * x32 + alp5 * cc * ((y + 2 * q * sd) * x32 - y * q2 * x53),
          -q / r3 + y0 * sdcd - alp5 * (cdr * cd + cc * d * qr),
          alp4 * y * d * x32 - alp5 * cc * ((y - 2 * q * sd) * x32 + d * et * q * x53),
          -xi * ppz * sd + x11 - d * d * x32 - alp5 * cc * ((d - 2 * q * cd) * x32 - d * q2 * x53)]
    m3 = [-alp4 * (sd / r + qy * cd) - alp5 * (z * y11 - q2 * z32),
          alp4 * 2 * xy * sd + d * x11 - alp5 * cc * (x11 - q2 * x32),
          alp4 * (y * x11 + xy * cd) + alp5 * q * (cc * et * x32 + xi * z32),
          alp4 * xi / r3 * sd + xi * q * y32 * cd + alp5 * xi * (3 * cc * et / r5 - 2 * z32 - z0),
          alp4 * 2 * y0 * sd - d / r3 + alp5 * cc / r3 * (1 - 3 * q2 / r2),
          -alp4 * yy0 - alp5 * (cc * et * qr - q * z0),
          alp4 * (q / r3 + y0 * sdcd) + alp5 * (z / r3 * cd + cc * d * qr - q * z0 * sd),
          -alp4 * 2 * xi * ppy * sd - y * d * x32 + alp5 * cc * ((y + 2 * q * sd) * x32 - y * q2 * x53),
          -alp4 * (xi * ppy * cd - x11 + y * y * x32)
          + alp5 * (cc * ((d + 2 * q * cd) * x32 - y * et * q * x53) + xi * qqy),
          -et / r3 + y0 * cdcd - alp5 * (z / r3 * sd - cc * y * qr - y0 * sdsd + q * z0 * cd),
          alp4 * 2 * xi * ppz * sd - x11 + d * d * x32 - alp5 * cc * ((d - 2 * q * cd) * x32 - d * q2 * x53),
          alp4 * (xi * ppz * cd + y * d * x32) + alp5 * (cc * ((y - 2 * q * sd) * x32 + d * et * q * x53) + xi * qqz)]
    return [m1, m2, m3]


def _rot(v, sd, cd):
    return [v[0], v[1] * cd - v[2] * sd, v[1] * sd + v[2] * cd]


def dc3d_raw(alpha, x, y, z, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3) -> list:
    """The 12 outputs at one station (no averaging): valid off the sets where single terms are singular."""
    f = mp.mpf
    alpha, x, y, z, depth, al1, al2, aw1, aw2 = map(f, (alpha, x, y, z, depth, al1, al2, aw1, aw2))
    disl = [f(disl1), f(disl2), f(disl3)]
    alp1, alp2, alp3, alp4, alp5 = (1 - alpha) / 2, alpha / 2, (1 - alpha) / alpha, 1 - alpha, alpha
    if mp.mpf(dip) == 90:
        sd, cd = f(1), f(0)
    else:
        rad = mp.mpf(dip) * mp.pi / 180
        sd, cd = mp.sin(rad), mp.cos(rad)
    xis = [x - al1, x - al2]
    out = [f(0)] * 12
    for real in (True, False):
        d = depth + z if real else depth - z
        p = y * cd + d * sd
        q = y * sd - d * cd
        ets = [p - aw1, p - aw2]
        rx, re = xis[0] < 0, ets[0] < 0
        for k in range(2):
            for j in range(2):
                c = _corner(xis[j], ets[k], q, sd, cd, rx, re)
                sgn = 1 if j + k != 1 else -1
                ua = _ua(c, sd, cd, alp1, alp2)
                if real:
                    for m in range(3):
                        for g in range(4):
                            r = _rot(ua[m][3 * g:3 * g + 3], sd, cd)
                            s = 1 if g == 3 else -1
                            for i in range(3):
                                out[3 * g + i] += sgn * disl[m] * s * r[i]
                else:
                    ub = _ub(c, sd, cd, alp3)
                    uc = _uc(c, z, sd, cd, alp4, alp5)
                    for m in range(3):
                        for g in range(4):
                            ab = [ua[m][3 * g + i] + ub[m][3 * g + i] for i in range(3)]
                            r = _rot(ab, sd, cd)
                            rc = _rot(uc[m][3 * g:3 * g + 3], sd, cd)
                            rc[2] = -rc[2]
                            for i in range(3):
                                out[3 * g + i] += sgn * disl[m] * (r[i] + z * rc[i])
                        rc0 = _rot(uc[m][0:3], sd, cd)
                        rc0[2] = -rc0[2]
                        for i in range(3):
                            out[9 + i] += sgn * disl[m] * rc0[i]
    return [v / (2 * mp.pi) for v in out]


def dc3d_mp(*args, delta=None) -> list:
    """The 12 outputs at one station (arguments as :data:`ARGS`): the mean of :func:`dc3d_raw` at stations moved by
    +-delta (default 10^(-dps/2)) in a fixed generic horizontal direction, so that stations on the special sets of
    single terms get the limit of the function there (error O(delta^2))."""
    args = [mp.mpf(a) if not isinstance(a, mp.mpf) else a for a in args]
    delta = mp.mpf(10) ** (-(mp.mp.dps // 2)) if delta is None else delta
    ex, ey = mp.mpf("0.6180339887498949") * delta, mp.mpf("0.7861513777574233") * delta
    a1, a2 = list(args), list(args)
    a1[1] += ex
    a1[2] += ey
    a2[1] -= ex
    a2[2] -= ey
    v1, v2 = dc3d_raw(*a1), dc3d_raw(*a2)
    return [(p + q) / 2 for p, q in zip(v1, v2)]


def jacobian_mp(args: Sequence, wrt: Sequence[str], h=None) -> list:
    """d output / d args[wrt] by 4th-order central differences of :func:`dc3d_mp`: list over ``wrt`` of 12 values."""
    h = mp.mpf(10) ** (-(mp.mp.dps // 5)) if h is None else mp.mpf(h)
    out = []
    for name in wrt:
        i = ARGS.index(name)

        def at(t, i=i):
            a = list(map(mp.mpf, args))
            a[i] += t
            return dc3d_mp(*a)

        f1, f_1, f2, f_2 = at(h), at(-h), at(2 * h), at(-2 * h)
        out.append([(8 * (a - b) - (c - d)) / (12 * h) for a, b, c, d in zip(f1, f_1, f2, f_2)])
    return out


def hessian_mp(args: Sequence, wrt: Sequence[str], h=None) -> list:
    """Second derivatives d2 output / d a_i d a_j (central differences of :func:`dc3d_mp`): [i][j] -> 12 values."""
    h = mp.mpf(10) ** (-(mp.mp.dps // 8)) if h is None else mp.mpf(h)
    idx = [ARGS.index(n) for n in wrt]

    def at(di, dj):
        a = list(map(mp.mpf, args))
        if di is not None:
            a[di[0]] += di[1]
        if dj is not None:
            a[dj[0]] += dj[1]
        return dc3d_mp(*a)

    f0 = at(None, None)
    n = len(idx)
    hes = [[None] * n for _ in range(n)]
    for a in range(n):
        for b in range(a, n):
            i, j = idx[a], idx[b]
            if a == b:
                fp, fm = at((i, h), None), at((i, -h), None)
                v = [(p - 2 * c + m) / h**2 for p, c, m in zip(fp, f0, fm)]
            else:
                pp, pm, mp_, mm = at((i, h), (j, h)), at((i, h), (j, -h)), at((i, -h), (j, h)), at((i, -h), (j, -h))
                v = [(w - x - y + z) / (4 * h * h) for w, x, y, z in zip(pp, pm, mp_, mm)]
            hes[a][b] = hes[b][a] = v
    return hes
