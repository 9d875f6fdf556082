/* Native DC3D (Okada 1992, finite rectangle): the formulas of sciml/okada/kernels.py, one station at a time.
 *
 * A line-by-line transcription of kernels.py's value path (same corner layout, same cancellation-free forms:
 * R + s via rho^2 / (R - s), reflected log terms for a corner pair behind a fault end, I4 per pair of eta corners,
 * the near-vertical forms below cos(dip) = C0 with the generated pair forms of _pairs.h, the surface shortcut at
 * z = 0), so values agree with the torch path to rounding (tests/test_okada_native.py). No derivatives with respect
 * to the arguments: sciml.okada.native uses it only where no autograd is needed. Fault parameters are one value or
 * one per station (broadcast by the caller). Stations are split into chunks
 * taken by `nthreads` POSIX threads from a shared counter (dynamic: a core shared with another process just takes
 * fewer chunks), with the GIL released.
 *
 * Output order per mode: UX, UY, UZ, UXX, UYX, UZX, UXY, UYY, UZY, UXZ, UYZ, UZZ (groups u, d/dx, d/dy, d/dz).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "_pairs.h"

#define EPS 1e-6
#define C0 0.3
#define CHUNK 512
#define MAXTHREADS 256

typedef struct {
    double alp1, alp2, alp3, alp4, alp5;
    double depth, sd, cd, al1, al2, aw1, aw2;
    int near, mirror, ncomp, modes; /* modes: bit m set -> evaluate mode m (0 strike, 1 dip, 2 tensile) */
} Src;

/* DCCON2 quantities at one corner (kernels._Corner) */
typedef struct {
    double xi, et, q, xi2, et2, q2, r, r2, r3, r5, ir, ir2, ir3, ir5, y, d, tt;
    double alx, x11, x32, x53, ale, y11, y32, y53;
    double ey, ez, fy, fz, gy, gz, hy, hz;
} Cq;

typedef double Modes[3][12];

static inline double snap(double v) { return fabs(v) < EPS ? 0.0 : v; }

/* R + s without cancellation (kernels._r_plus) */
static inline double r_plus(double r, double s, double rho2) { return s < 0 ? rho2 / (r - s) : r + s; }

/* kernels._log_terms: (log, 1/(R (R + v)), X32-like, X53-like) reflected as -f(-v) when `reflect` */
static inline void log_terms(double r, double ir, double ir2, double v, double rho2, int reflect, int full,
                             double *al, double *x11, double *x32, double *x53) {
    const double sgn = reflect ? -1.0 : 1.0, s = reflect ? -v : v;
    const double rp = r_plus(r, s, rho2), b11 = ir / rp, sb11 = sgn * b11;
    *al = sgn * log(rp);
    *x11 = sb11;
    *x32 = sb11 * (r + rp) * b11 * ir;
    *x53 = full ? sgn * (8.0 * r * r + 9.0 * r * s + 3.0 * s * s) * b11 * b11 * b11 * ir2 : 0.0;
}

static void corner(Cq *c, double xi, double et, double q, double sd, double cd, int regx, int rege, int full) {
    c->xi = xi; c->et = et; c->q = q;
    c->xi2 = xi * xi; c->et2 = et * et; c->q2 = q * q;
    c->r2 = c->xi2 + c->et2 + c->q2;
    c->r = sqrt(c->r2);
    c->r3 = c->r * c->r2;
    c->r5 = c->r3 * c->r2;
    c->ir = 1.0 / c->r;
    c->ir2 = c->ir * c->ir;
    c->ir3 = c->ir * c->ir2;
    c->ir5 = c->ir3 * c->ir2;
    c->y = et * cd + q * sd;
    c->d = et * sd - q * cd;
    c->tt = q == 0.0 ? 0.0 : atan(xi * et / (q * c->r)); /* corner sums equal those of kernels._tt */
    log_terms(c->r, c->ir, c->ir2, xi, c->et2 + c->q2, regx, full, &c->alx, &c->x11, &c->x32, &c->x53);
    log_terms(c->r, c->ir, c->ir2, et, c->xi2 + c->q2, rege, full, &c->ale, &c->y11, &c->y32, &c->y53);
    if (full) {
        c->ey = sd * c->ir - c->y * q * c->ir3;
        c->ez = cd * c->ir + c->d * q * c->ir3;
        c->fy = c->d * c->ir3 + c->xi2 * c->y32 * sd;
        c->fz = c->y * c->ir3 + c->xi2 * c->y32 * cd;
        c->gy = 2.0 * c->x11 * sd - c->y * q * c->x32;
        c->gz = 2.0 * c->x11 * cd + c->d * q * c->x32;
        c->hy = c->d * q * c->x32 + xi * q * c->y32 * sd;
        c->hz = c->y * q * c->x32 + xi * q * c->y32 * cd;
    }
}

/* groups: bit g set -> fill components 3g .. 3g + 2 */
#define G(g) (groups & (1 << (g)))

/* ------------------------------------------------------------------------------------------ part A (kernels._ua) */
static void ua(const Cq *c, const Src *s, int groups, Modes o) {
    const double sd = s->sd, cd = s->cd, alp1 = s->alp1, alp2 = s->alp2;
    const double ir = c->ir, ir3 = c->ir3, xi = c->xi, et = c->et, q = c->q, xi2 = c->xi2, q2 = c->q2;
    const double xy = xi * c->y11, qx = q * c->x11, qy = q * c->y11, y = c->y, d = c->d, tt = c->tt;
    if (s->modes & 1) {
        double *v = o[0];
        if (G(0)) {
            v[0] = tt / 2.0 + alp2 * xi * qy;
            v[1] = alp2 * q * ir;
            v[2] = alp1 * c->ale - alp2 * q * qy;
        }
        if (G(1)) {
            v[3] = -alp1 * qy - alp2 * xi2 * q * c->y32;
            v[4] = -alp2 * xi * q * ir3;
            v[5] = alp1 * xy + alp2 * xi * q2 * c->y32;
        }
        if (G(2)) {
            v[6] = alp1 * xy * sd + alp2 * xi * c->fy + d / 2.0 * c->x11;
            v[7] = alp2 * c->ey;
            v[8] = alp1 * (cd * ir + qy * sd) - alp2 * q * c->fy;
        }
        if (G(3)) {
            v[9] = alp1 * xy * cd + alp2 * xi * c->fz + y / 2.0 * c->x11;
            v[10] = alp2 * c->ez;
            v[11] = -alp1 * (sd * ir - qy * cd) - alp2 * q * c->fz;
        }
    }
    if (s->modes & 2) {
        double *v = o[1];
        if (G(0)) {
            v[0] = alp2 * q * ir;
            v[1] = tt / 2.0 + alp2 * et * qx;
            v[2] = alp1 * c->alx - alp2 * q * qx;
        }
        if (G(1)) {
            v[3] = -alp2 * xi * q * ir3;
            v[4] = -qy / 2.0 - alp2 * et * q * ir3;
            v[5] = alp1 * ir + alp2 * q2 * ir3;
        }
        if (G(2)) {
            v[6] = alp2 * c->ey;
            v[7] = alp1 * d * c->x11 + xy / 2.0 * sd + alp2 * et * c->gy;
            v[8] = alp1 * y * c->x11 - alp2 * q * c->gy;
        }
        if (G(3)) {
            v[9] = alp2 * c->ez;
            v[10] = alp1 * y * c->x11 + xy / 2.0 * cd + alp2 * et * c->gz;
            v[11] = -alp1 * d * c->x11 - alp2 * q * c->gz;
        }
    }
    if (s->modes & 4) {
        double *v = o[2];
        if (G(0)) {
            v[0] = -alp1 * c->ale - alp2 * q * qy;
            v[1] = -alp1 * c->alx - alp2 * q * qx;
            v[2] = tt / 2.0 - alp2 * (et * qx + xi * qy);
        }
        if (G(1)) {
            v[3] = -alp1 * xy + alp2 * xi * q2 * c->y32;
            v[4] = -alp1 * ir + alp2 * q2 * ir3;
            v[5] = -alp1 * qy - alp2 * q * q2 * c->y32;
        }
        if (G(2)) {
            v[6] = -alp1 * (cd * ir + qy * sd) - alp2 * q * c->fy;
            v[7] = -alp1 * y * c->x11 - alp2 * q * c->gy;
            v[8] = alp1 * (d * c->x11 + xy * sd) + alp2 * q * c->hy;
        }
        if (G(3)) {
            v[9] = alp1 * (sd * ir - qy * cd) - alp2 * q * c->fz;
            v[10] = alp1 * d * c->x11 - alp2 * q * c->gz;
            v[11] = alp1 * (y * c->x11 + xy * cd) + alp2 * q * c->hz;
        }
    }
}

/* ------------------------------------------------------------------------- part B integrals (kernels._ub_integrals) */
static inline double atan_rem(double t) { /* (atan t - t) / t^3 */
    if (fabs(t) >= 0.1) return (atan(t) - t) / (t * t * t);
    const double t2 = t * t;
    double ser = 0.0;
    for (int k = 9; k >= 0; --k) ser = ser * t2 + ((k + 1) % 2 ? -1.0 : 1.0) / (2 * k + 3);
    return ser;
}

static inline double log1p_rem(double u) { /* (log1p u - u) / u^2 */
    if (fabs(u) >= 0.1) return (log1p(u) - u) / (u * u);
    double ser = 0.0;
    for (int k = 16; k >= 0; --k) ser = ser * u + ((k + 1) % 2 ? -1.0 : 1.0) / (k + 2);
    return ser;
}

typedef struct { double ird, lrd, d11, aj2, aj5, ai3, ai4, ak1, ak3, aj3, aj6; } Ib;

/* I, J, K terms at the four corners c[k][j]; I4 per pair of eta corners, on corner k = 0 */
static void ub_integrals(const Cq c[2][2], const Src *s, Ib ib[2][2]) {
    const double sd = s->sd, cd = s->cd, q = c[0][0].q, q2 = q * q;
    for (int k = 0; k < 2; ++k)
        for (int j = 0; j < 2; ++j) {
            const Cq *e = &c[k][j];
            Ib *b = &ib[k][j];
            const double rd = e->r + e->d;
            b->ird = 1.0 / rd;
            b->lrd = log(rd);
            b->d11 = b->ird * e->ir;
            b->aj2 = e->xi * e->y * b->ird * b->d11;
            b->aj5 = -(e->d + e->y * e->y * b->ird) * b->d11;
            if (!s->near) {
                const double cdcd = cd * cd;
                b->ai4 = e->xi * b->ird * sd * cd / cdcd; /* + the pair term on k = 0 below */
                b->ai3 = (e->y * cd * b->ird - e->ale + sd * b->lrd) / cdcd;
                b->ak1 = e->xi * (b->d11 - e->y11 * sd) / cd;
                b->ak3 = (q * e->y11 - e->y * b->d11) / cd;
                b->aj3 = (b->ak1 - b->aj2 * sd) / cd;
                b->aj6 = (b->ak3 - b->aj5 * sd) / cd;
            } else {
                const double r = e->r, et = e->et, xi = e->xi, xi2 = e->xi2;
                const double rpe = r_plus(r, et, xi2 + q2), w1 = 1.0 + sd, rho2 = et * et + q2;
                const double den = r * rpe * rd, m3 = r * (q * cd / w1 - et) - rho2;
                b->ak1 = xi * (cd * (r / w1 + et) + sd * q) / den;
                b->ak3 = m3 / den;
                b->aj3 = xi * ((r / w1 + et) * rd + sd * m3) / (den * rd);
                b->aj6 = (q * (r * (rd + r * cd * cd) / w1 - xi2) - r * cd * ((rho2 + et * e->d) / w1 + r * et))
                         / (den * rd);
                const double w0 = et * cd / w1 + q, u = -cd * w0 / rpe, wr = w0 / rpe;
                b->ai3 = (et * (rpe - sd * rd / w1) + q * sd * w0) / (rd * rpe) + sd * wr * wr * log1p_rem(u)
                         - e->ale / w1;
                b->ai4 = 0.0;
            }
        }
    /* I4 pair term per xi corner j (kernels._pair_quantities) */
    for (int j = 0; j < 2; ++j) {
        const double xi = c[0][j].xi, xi2 = c[0][j].xi2, e1 = c[0][j].et, e2 = c[1][j].et;
        const double r1 = c[0][j].r, r2 = c[1][j].r;
        const int same = e1 * e2 > 0;
        const double x2 = xi2 + q2, qc = q * cd;
        const double w1 = 1.0 + sd, rd1 = c[0][j].r + c[0][j].d, rd2 = c[1][j].r + c[1][j].d;
        double num, den, p = 0.0;
        if (same) {
            const double aa = r1 * e2 + r2 * e1, cc = r1 * r2 + e1 * e2;
            const double f = 1.0 - qc * (e1 + e2) / aa + sd * (e1 + e2) / (r1 + r2);
            const double g = (2.0 * (cc - (r1 + r2) * qc + sd * aa - qc * sd * (e1 + e2)) + cd * cd * (2.0 * q2 + xi2)
                              - cd * cd * (2.0 * e1 * e2 + xi2 * (e1 * e1 + e2 * e2 + x2) / cc));
            num = cd * xi * (e1 - e2) * f;
            den = g;
            if (s->near) {
                double ms, ls, gd0;
                pairs_same(xi, q, e1, e2, cd, sd, r1, r2, &ms, &ls, &gd0);
                const double wv = xi * (e1 - e2) * f / g, t = cd * wv;
                p = xi * (e1 - e2) * (ms - cd * ls / w1) / (gd0 * rd1 * rd2) + 2.0 * t * wv * wv * atan_rem(t);
            }
        } else {
            const double xb = sqrt(x2), w = xi2 + q2 * sd * sd;
            const double xp = qc < 0 ? w / (xb - qc) : xb + qc, xm = qc > 0 ? w / (xb + qc) : xb - qc;
            const double h = e1 * (r2 + xb) - e2 * (r1 + xb);
            const double pd = (r1 + xb) * (r2 + xb) * xm + e1 * e2 * xp + xb * sd * (e1 * (r2 + xb) + e2 * (r1 + xb));
            num = xi * cd * h;
            den = pd;
            if (s->near) {
                double mb, lb;
                pairs_band(xi, q, e1, e2, cd, sd, xb, r1, r2, &mb, &lb);
                const double wv = xi * h / pd, t = cd * wv;
                p = xi * (mb - cd * lb / w1) / (pd * rd1 * rd2) + 2.0 * t * wv * wv * atan_rem(t);
            }
        }
        if (s->near)
            ib[0][j].ai4 = p;
        else
            ib[0][j].ai4 += 2.0 * atan2(num, den) / (cd * cd);
    }
}

/* ------------------------------------------------------------------------------------------ part B (kernels._ub) */
static void ub(const Cq *c, const Ib *b, const Src *s, int groups, Modes o) {
    const double sd = s->sd, cd = s->cd, alp3 = s->alp3;
    const double ir = c->ir, ir3 = c->ir3, xi = c->xi, et = c->et, q = c->q, xi2 = c->xi2, q2 = c->q2;
    const double y = c->y, d = c->d, tt = c->tt;
    const double ird = b->ird, d11 = b->d11, ai3 = b->ai3, ai4 = b->ai4, ak1 = b->ak1, ak3 = b->ak3;
    const double aj2 = b->aj2, aj3 = b->aj3, aj5 = b->aj5, aj6 = b->aj6;
    const double xy = xi * c->y11;
    const double ai1 = -xi * ird * cd - ai4 * sd, ai2 = b->lrd + ai3 * sd, ak2 = ir + ak3 * sd;
    const double ak4 = xy * cd - ak1 * sd, aj1 = aj5 * cd - aj6 * sd, aj4 = -xy - aj2 * cd + aj3 * sd;
    const double qx = q * c->x11, qy = q * c->y11, sdcd = sd * cd, sdsd = sd * sd;
    if (s->modes & 1) {
        double *v = o[0];
        if (G(0)) {
            v[0] = -xi * qy - tt - alp3 * ai1 * sd;
            v[1] = -q * ir + alp3 * y * ird * sd;
            v[2] = q * qy - alp3 * ai2 * sd;
        }
        if (G(1)) {
            v[3] = xi2 * q * c->y32 - alp3 * aj1 * sd;
            v[4] = xi * q * ir3 - alp3 * aj2 * sd;
            v[5] = -xi * q2 * c->y32 - alp3 * aj3 * sd;
        }
        if (G(2)) {
            v[6] = -xi * c->fy - d * c->x11 + alp3 * (xy + aj4) * sd;
            v[7] = -c->ey + alp3 * (ir + aj5) * sd;
            v[8] = q * c->fy - alp3 * (qy - aj6) * sd;
        }
        if (G(3)) {
            v[9] = -xi * c->fz - y * c->x11 + alp3 * ak1 * sd;
            v[10] = -c->ez + alp3 * y * d11 * sd;
            v[11] = q * c->fz + alp3 * ak2 * sd;
        }
    }
    if (s->modes & 2) {
        double *v = o[1];
        if (G(0)) {
            v[0] = -q * ir + alp3 * ai3 * sdcd;
            v[1] = -et * qx - tt - alp3 * xi * ird * sdcd;
            v[2] = q * qx + alp3 * ai4 * sdcd;
        }
        if (G(1)) {
            v[3] = xi * q * ir3 + alp3 * aj4 * sdcd;
            v[4] = et * q * ir3 + qy + alp3 * aj5 * sdcd;
            v[5] = -q2 * ir3 + alp3 * aj6 * sdcd;
        }
        if (G(2)) {
            v[6] = -c->ey + alp3 * aj1 * sdcd;
            v[7] = -et * c->gy - xy * sd + alp3 * aj2 * sdcd;
            v[8] = q * c->gy + alp3 * aj3 * sdcd;
        }
        if (G(3)) {
            v[9] = -c->ez - alp3 * ak3 * sdcd;
            v[10] = -et * c->gz - xy * cd - alp3 * xi * d11 * sdcd;
            v[11] = q * c->gz - alp3 * ak4 * sdcd;
        }
    }
    if (s->modes & 4) {
        double *v = o[2];
        if (G(0)) {
            v[0] = q * qy - alp3 * ai3 * sdsd;
            v[1] = q * qx + alp3 * xi * ird * sdsd;
            v[2] = et * qx + xi * qy - tt - alp3 * ai4 * sdsd;
        }
        if (G(1)) {
            v[3] = -xi * q2 * c->y32 - alp3 * aj4 * sdsd;
            v[4] = -q2 * ir3 - alp3 * aj5 * sdsd;
            v[5] = q * q2 * c->y32 - alp3 * aj6 * sdsd;
        }
        if (G(2)) {
            v[6] = q * c->fy - alp3 * aj1 * sdsd;
            v[7] = q * c->gy - alp3 * aj2 * sdsd;
            v[8] = -q * c->hy - alp3 * aj3 * sdsd;
        }
        if (G(3)) {
            v[9] = q * c->fz + alp3 * ak3 * sdsd;
            v[10] = q * c->gz + alp3 * xi * d11 * sdsd;
            v[11] = -q * c->hz + alp3 * ak4 * sdsd;
        }
    }
}

/* ------------------------------------------------------------------------------------------ part C (kernels._uc) */
static void uc(const Cq *c, double z, const Src *s, int groups, Modes o) {
    const double sd = s->sd, cd = s->cd, alp4 = s->alp4, alp5 = s->alp5;
    const double ir = c->ir, ir2 = c->ir2, ir3 = c->ir3, ir5 = c->ir5, xi = c->xi, et = c->et, q = c->q;
    const double xi2 = c->xi2, q2 = c->q2, y = c->y, d = c->d;
    const double cc = d + z, x11 = c->x11, x32 = c->x32, x53 = c->x53, y11 = c->y11, y32 = c->y32, y53 = c->y53;
    const double h = q * cd - z, z32 = sd * ir3 - h * y32, z53 = 3.0 * sd * ir5 - h * y53;
    const double y0 = y11 - xi2 * y32, z0 = z32 - xi2 * z53;
    const double ppy = cd * ir3 + q * y32 * sd, ppz = sd * ir3 - q * y32 * cd;
    const double qq = z * y32 + z32 + z0, qqy = 3.0 * cc * d * ir5 - qq * sd, qqz = 3.0 * cc * y * ir5 - qq * cd + q * y32;
    const double xy = xi * y11, qy = q * y11, qr = 3.0 * q * ir5, cdr = (cc + d) * ir3, yy0 = y * ir3 - y0 * cd;
    const double sdsd = sd * sd, sdcd = sd * cd, cdcd = cd * cd;
    if (s->modes & 1) {
        double *v = o[0];
        if (G(0)) {
            v[0] = alp4 * xy * cd - alp5 * xi * q * z32;
            v[1] = alp4 * (cd * ir + 2.0 * qy * sd) - alp5 * cc * q * ir3;
            v[2] = alp4 * qy * cd - alp5 * (cc * et * ir3 - z * y11 + xi2 * z32);
        }
        if (G(1)) {
            v[3] = alp4 * y0 * cd - alp5 * q * z0;
            v[4] = -alp4 * xi * (cd * ir3 + 2.0 * q * y32 * sd) + alp5 * cc * xi * qr;
            v[5] = -alp4 * xi * q * y32 * cd + alp5 * xi * (3.0 * cc * et * ir5 - qq);
        }
        if (G(2)) {
            v[6] = -alp4 * xi * ppy * cd - alp5 * xi * qqy;
            v[7] = alp4 * 2.0 * (d * ir3 - y0 * sd) * sd - y * ir3 * cd - alp5 * (cdr * sd - et * ir3 - cc * y * qr);
            v[8] = -alp4 * q * ir3 + yy0 * sd + alp5 * (cdr * cd + cc * d * qr - (y0 * cd + q * z0) * sd);
        }
        if (G(3)) {
            v[9] = alp4 * xi * ppz * cd - alp5 * xi * qqz;
            v[10] = alp4 * 2.0 * (y * ir3 - y0 * cd) * sd + d * ir3 * cd - alp5 * (cdr * cd + cc * d * qr);
            v[11] = yy0 * cd - alp5 * (cdr * sd - cc * y * qr - y0 * sdsd + q * z0 * cd);
        }
    }
    if (s->modes & 2) {
        double *v = o[1];
        if (G(0)) {
            v[0] = alp4 * cd * ir - qy * sd - alp5 * cc * q * ir3;
            v[1] = alp4 * y * x11 - alp5 * cc * et * q * x32;
            v[2] = -d * x11 - xy * sd - alp5 * cc * (x11 - q2 * x32);
        }
        if (G(1)) {
            v[3] = -alp4 * xi * ir3 * cd + alp5 * cc * xi * qr + xi * q * y32 * sd;
            v[4] = -alp4 * y * ir3 + alp5 * cc * et * qr;
            v[5] = d * ir3 - y0 * sd + alp5 * cc * ir3 * (1.0 - 3.0 * q2 * ir2);
        }
        if (G(2)) {
            v[6] = -alp4 * et * ir3 + y0 * sdsd - alp5 * (cdr * sd - cc * y * qr);
            v[7] = alp4 * (x11 - y * y * x32) - alp5 * cc * ((d + 2.0 * q * cd) * x32 - y * et * q * x53);
            v[8] = xi * ppy * sd + y * d * x32 + alp5 * cc * ((y + 2.0 * q * sd) * x32 - y * q2 * x53);
        }
        if (G(3)) {
            v[9] = -q * ir3 + y0 * sdcd - alp5 * (cdr * cd + cc * d * qr);
            v[10] = alp4 * y * d * x32 - alp5 * cc * ((y - 2.0 * q * sd) * x32 + d * et * q * x53);
            v[11] = -xi * ppz * sd + x11 - d * d * x32 - alp5 * cc * ((d - 2.0 * q * cd) * x32 - d * q2 * x53);
        }
    }
    if (s->modes & 4) {
        double *v = o[2];
        if (G(0)) {
            v[0] = -alp4 * (sd * ir + qy * cd) - alp5 * (z * y11 - q2 * z32);
            v[1] = alp4 * 2.0 * xy * sd + d * x11 - alp5 * cc * (x11 - q2 * x32);
            v[2] = alp4 * (y * x11 + xy * cd) + alp5 * q * (cc * et * x32 + xi * z32);
        }
        if (G(1)) {
            v[3] = alp4 * xi * ir3 * sd + xi * q * y32 * cd + alp5 * xi * (3.0 * cc * et * ir5 - 2.0 * z32 - z0);
            v[4] = alp4 * 2.0 * y0 * sd - d * ir3 + alp5 * cc * ir3 * (1.0 - 3.0 * q2 * ir2);
            v[5] = -alp4 * yy0 - alp5 * (cc * et * qr - q * z0);
        }
        if (G(2)) {
            v[6] = alp4 * (q * ir3 + y0 * sdcd) + alp5 * (z * ir3 * cd + cc * d * qr - q * z0 * sd);
            v[7] = -alp4 * 2.0 * xi * ppy * sd - y * d * x32 + alp5 * cc * ((y + 2.0 * q * sd) * x32 - y * q2 * x53);
            v[8] = -alp4 * (xi * ppy * cd - x11 + y * y * x32)
                   + alp5 * (cc * ((d + 2.0 * q * cd) * x32 - y * et * q * x53) + xi * qqy);
        }
        if (G(3)) {
            v[9] = -et * ir3 + y0 * cdcd - alp5 * (z * ir3 * sd - cc * y * qr - y0 * sdsd + q * z0 * cd);
            v[10] = alp4 * 2.0 * xi * ppz * sd - x11 + d * d * x32 - alp5 * cc * ((d - 2.0 * q * cd) * x32 - d * q2 * x53);
            v[11] = alp4 * (xi * ppz * cd + y * d * x32)
                    + alp5 * (cc * ((y - 2.0 * q * sd) * x32 + d * et * q * x53) + xi * qqz);
        }
    }
}

/* ----------------------------------------------------------------------------------------------- one station */
/* corners of the real (zs = 1) or image (zs = -1) source */
static void corners(Cq c[2][2], double x, double y, double z, double zs, const Src *s, int full) {
    const double d = s->depth + zs * z, p = y * s->cd + d * s->sd, q = y * s->sd - d * s->cd;
    const double xi[2] = {x - s->al1, x - s->al2}, et[2] = {p - s->aw1, p - s->aw2};
    for (int k = 0; k < 2; ++k)
        for (int j = 0; j < 2; ++j) corner(&c[k][j], xi[j], et[k], q, s->sd, s->cd, xi[0] < 0, et[0] < 0, full);
}

/* signed corner sum (+1 where j == k) of part `f` into acc (modes x 12), groups as in the parts */
#define CORNER_SUM(acc, call)                                                                 \
    do {                                                                                      \
        for (int k = 0; k < 2; ++k)                                                           \
            for (int j = 0; j < 2; ++j) {                                                     \
                Modes tmp;                                                                    \
                const double sg = (j == k) ? 1.0 : -1.0;                                      \
                call;                                                                         \
                for (int m = 0; m < 3; ++m)                                                   \
                    if (s->modes & (1 << m))                                                  \
                        for (int g = 0; g < 4; ++g)                                           \
                            if (groups & (1 << g))                                            \
                                for (int i = 3 * g; i < 3 * g + 3; ++i) acc[m][i] += sg * tmp[m][i]; \
            }                                                                                 \
    } while (0)

static inline void rot(const double *v, double sd, double cd, double *o) {
    o[0] = v[0];
    o[1] = v[1] * cd - v[2] * sd;
    o[2] = v[1] * sd + v[2] * cd;
}

static int iret_of(double x, double y, double z, const Src *s) {
    if (z > 0) return 2;
    const double xx = snap(x - s->al1) * snap(x - s->al2);
    for (int zs = 1; zs >= -1; zs -= 2) {
        const double d = s->depth + zs * z, p = y * s->cd + d * s->sd;
        const double ee = snap(p - s->aw1) * snap(p - s->aw2), q = snap(y * s->sd - d * s->cd);
        if (q == 0 && ((xx <= 0 && ee == 0) || (ee <= 0 && xx == 0))) return 1;
    }
    return 0;
}

/* responses (modes x ncomp) per unit dislocation, times 2 pi, in the (possibly mirrored) frame */
static void station(double x, double y, double z, const Src *s, Modes tot) {
    const int full = s->ncomp == 12, all = full ? 15 : 1;
    Cq c[2][2];
    Ib ib[2][2];
    const double flip[3] = {1.0, 1.0, -1.0};
    memset(tot, 0, sizeof(Modes));
    if (z == 0.0) { /* kernels._surface_modes: one corner set, A only in d/dz, C only through its u group */
        Modes b = {{0}}, a = {{0}}, cu = {{0}};
        corners(c, x, y, z, -1.0, s, full);
        ub_integrals(c, s, ib);
        int groups = all;
        CORNER_SUM(b, ub(&c[k][j], &ib[k][j], s, groups, tmp));
        if (full) {
            groups = 8;
            CORNER_SUM(a, ua(&c[k][j], s, groups, tmp));
            groups = 1;
            CORNER_SUM(cu, uc(&c[k][j], z, s, groups, tmp));
        }
        for (int m = 0; m < 3; ++m) {
            if (!(s->modes & (1 << m))) continue;
            for (int g = 0; g < (full ? 4 : 1); ++g) {
                double v[3];
                for (int i = 0; i < 3; ++i) v[i] = b[m][3 * g + i] + (g == 3 ? 2.0 * a[m][9 + i] : 0.0);
                rot(v, s->sd, s->cd, &tot[m][3 * g]);
            }
            if (full) {
                double w[3];
                rot(cu[m], s->sd, s->cd, w);
                for (int i = 0; i < 3; ++i) tot[m][9 + i] += w[i] * flip[i];
            }
        }
        return;
    }
    Modes dua = {{0}}, dab = {{0}}, duc = {{0}};
    const int groups = all;
    corners(c, x, y, z, 1.0, s, full);
    CORNER_SUM(dua, ua(&c[k][j], s, groups, tmp));
    corners(c, x, y, z, -1.0, s, full);
    ub_integrals(c, s, ib);
    CORNER_SUM(dab, ua(&c[k][j], s, groups, tmp));
    CORNER_SUM(dab, ub(&c[k][j], &ib[k][j], s, groups, tmp));
    CORNER_SUM(duc, uc(&c[k][j], z, s, groups, tmp));
    for (int m = 0; m < 3; ++m) {
        if (!(s->modes & (1 << m))) continue;
        double w0[3];
        for (int g = 0; g < (full ? 4 : 1); ++g) {
            double v[3], w[3], rw[3];
            const double sgn = g == 3 ? -1.0 : 1.0;
            for (int i = 0; i < 3; ++i) v[i] = dab[m][3 * g + i] - sgn * dua[m][3 * g + i];
            rot(v, s->sd, s->cd, &tot[m][3 * g]);
            rot(&duc[m][3 * g], s->sd, s->cd, rw);
            for (int i = 0; i < 3; ++i) {
                w[i] = rw[i] * flip[i];
                tot[m][3 * g + i] += z * w[i];
                if (g == 0) w0[i] = w[i];
            }
        }
        if (full)
            for (int i = 0; i < 3; ++i) tot[m][9 + i] += w0[i];
    }
}

/* ------------------------------------------------------------------------------------------------ driver */
/* parameters: alpha, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3; each one value or one per station */
#define NPAR 10

typedef struct {
    const double *x, *y, *z, *par[NPAR];
    int scalar[NPAR];
    double *out;
    long long *iret;
    Py_ssize_t n;
    int ncomp, per_mode, modes;
    atomic_long next;
} Job;

static void make_src(Src *s, const double *p, int ncomp, int modes) {
    double dip = p[2], al1 = p[3], al2 = p[4];
    const double alpha = p[0];
    s->mirror = dip > 90.0; /* the same fault seen from the other side (kernels._dc3d_core) */
    if (s->mirror) {
        al1 = -p[4];
        al2 = -p[3];
        dip = 180.0 - dip;
    }
    const double rad = dip * (M_PI / 180.0);
    s->sd = sin(rad);
    s->cd = cos(rad);
    s->near = s->cd < C0;
    s->alp1 = (1.0 - alpha) / 2.0;
    s->alp2 = alpha / 2.0;
    s->alp3 = (1.0 - alpha) / alpha;
    s->alp4 = 1.0 - alpha;
    s->alp5 = alpha;
    s->depth = p[1]; s->al1 = al1; s->al2 = al2; s->aw1 = p[5]; s->aw2 = p[6];
    s->ncomp = ncomp;
    s->modes = modes;
}

static void run_range(Job *jb, Py_ssize_t lo, Py_ssize_t hi) {
    const int nc = jb->ncomp, width = jb->per_mode ? 3 * nc : nc;
    static const double pc[3] = {-1.0, -1.0, 1.0};
    double comp[12]; /* mirrored fault back (kernels._mirror_signs); dip slip also changes sign */
    for (int o = 0; o < nc; ++o) comp[o] = pc[o % 3] * (o >= 3 ? pc[o / 3 - 1] : 1.0);
    int all_scalar = 1;
    for (int k = 0; k < NPAR; ++k) all_scalar &= jb->scalar[k];
    double p[NPAR];
    Src s;
    if (all_scalar) {
        for (int k = 0; k < NPAR; ++k) p[k] = jb->par[k][0];
        make_src(&s, p, nc, jb->modes);
    }
    for (Py_ssize_t i = lo; i < hi; ++i) {
        if (!all_scalar) {
            for (int k = 0; k < NPAR; ++k) p[k] = jb->par[k][jb->scalar[k] ? 0 : i];
            make_src(&s, p, nc, jb->modes);
        }
        double x = jb->x[i], y = jb->y[i];
        const double z = jb->z[i];
        double *o = jb->out + i * width;
        if (s.mirror) { x = -x; y = -y; }
        const int ir = iret_of(x, y, z, &s);
        jb->iret[i] = ir;
        if (ir) {
            memset(o, 0, sizeof(double) * width);
            continue;
        }
        Modes tot;
        station(x, y, z, &s, tot);
        if (s.mirror) /* modes not evaluated stay 0 (station() clears tot) */
            for (int m = 0; m < 3; ++m)
                for (int c = 0; c < nc; ++c) tot[m][c] *= (m == 1 ? -1.0 : 1.0) * comp[c];
        if (jb->per_mode) {
            for (int m = 0; m < 3; ++m)
                for (int c = 0; c < nc; ++c) o[m * nc + c] = tot[m][c] / (2.0 * M_PI);
        } else {
            const double w[3] = {p[7] / (2.0 * M_PI), p[8] / (2.0 * M_PI), p[9] / (2.0 * M_PI)};
            for (int c = 0; c < nc; ++c) o[c] = w[0] * tot[0][c] + w[1] * tot[1][c] + w[2] * tot[2][c];
        }
    }
}

static void *worker(void *arg) {
    Job *jb = (Job *)arg;
    for (;;) {
        const Py_ssize_t lo = (Py_ssize_t)atomic_fetch_add(&jb->next, CHUNK);
        if (lo >= jb->n) break;
        run_range(jb, lo, lo + CHUNK < jb->n ? lo + CHUNK : jb->n);
    }
    return NULL;
}

static PyObject *py_dc3d(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer b[3 + NPAR + 2];
    int derivs, per_mode, modes, nthreads;
    memset(b, 0, sizeof(b));
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*y*y*y*w*w*iiii", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                          &b[6], &b[7], &b[8], &b[9], &b[10], &b[11], &b[12], &b[13], &b[14], &derivs, &per_mode,
                          &modes, &nthreads))
        return NULL;
    PyObject *ret = NULL;
    const Py_ssize_t n = b[0].len / (Py_ssize_t)sizeof(double), dsz = (Py_ssize_t)sizeof(double);
    const int nc = derivs ? 12 : 3;
    Job jb;
    memset(&jb, 0, sizeof(jb));
    int ok = b[1].len == b[0].len && b[2].len == b[0].len && b[14].len == n * (Py_ssize_t)sizeof(long long)
             && b[13].len == n * (per_mode ? 3 : 1) * nc * dsz;
    for (int k = 0; k < NPAR; ++k) {
        const Py_ssize_t len = b[3 + k].len;
        ok &= len == dsz || len == n * dsz;
        jb.par[k] = b[3 + k].buf;
        jb.scalar[k] = len == dsz;
    }
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "_dc3d.dc3d: buffer sizes do not match");
        goto done;
    }
    jb.x = b[0].buf; jb.y = b[1].buf; jb.z = b[2].buf;
    jb.out = b[13].buf;
    jb.iret = b[14].buf;
    jb.n = n;
    jb.ncomp = nc;
    jb.per_mode = per_mode;
    jb.modes = modes & 7;
    atomic_init(&jb.next, 0);
    if (nthreads > MAXTHREADS) nthreads = MAXTHREADS;
    if (nthreads < 1 || n < 2 * CHUNK) nthreads = 1;
    Py_BEGIN_ALLOW_THREADS
    if (nthreads == 1) {
        run_range(&jb, 0, n);
    } else {
        pthread_t th[MAXTHREADS];
        int started = 0;
        for (; started < nthreads - 1; ++started)
            if (pthread_create(&th[started], NULL, worker, &jb)) break;
        worker(&jb);
        for (int t = 0; t < started; ++t) pthread_join(th[t], NULL);
    }
    Py_END_ALLOW_THREADS
    ret = Py_None;
    Py_INCREF(ret);
done:
    for (int k = 0; k < 3 + NPAR + 2; ++k)
        if (b[k].obj) PyBuffer_Release(&b[k]);
    return ret;
}

static PyMethodDef methods[] = {
    {"dc3d", py_dc3d, METH_VARARGS,
     "dc3d(x, y, z, alpha, depth, dip, al1, al2, aw1, aw2, disl1, disl2, disl3, out, iret, derivatives, per_mode, "
     "modes, nthreads): float64 buffers, x, y, z of n stations, each parameter 1 or n values; fills out (n x 3|12, "
     "or n x 3 x 3|12 per unit mode) and iret (n, int64) in place."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_dc3d", "Native DC3D kernel (see sciml.okada.native).",
                                    -1, methods};

PyMODINIT_FUNC PyInit__dc3d(void) { return PyModule_Create(&module); }
