"""PILM model comparison (issue 16): Bayes factor invariant to the velocity unit, prior rank from the operator's
known null-space dimension on real networks, robust (Student-t) noise, and 2-sigma coverage at high-strain nodes
of a locked-fault synthetic built from sciml's Okada model (exact strain known)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from sciml.gnss.strain import (
    fit_velocity_field,
    polynomial_null_dim,
    project,
    regularizer_ops,
    strain_at,
    strain_fields,
)
from sciml.gnss.synthetic import locked_fault_stations, locked_faults, synthetic_stations


def test_known_null_dimensions_of_the_operators():
    """Exact counts of polynomial solutions (bidegree <= 3): curvature 6 (linear fields), elastic 14."""
    assert polynomial_null_dim(regularizer_ops("smoothness")) == 6
    assert polynomial_null_dim(regularizer_ops("elastic", 0.25)) == 14


def test_log_bayes_factor_is_invariant_to_the_velocity_unit():
    """Velocities and sigmas in m/yr instead of mm/yr (x 1e-3): each log evidence shifts by the same
    -2 n ln(1e-3) (density of the data in their unit) and the log Bayes factor elastic - smoothness moves by
    < 0.5 (the flat null-space prior moved it by (14 - 6) ln c = 55 for c = 1e-3). CV differences likewise."""
    df = synthetic_stations(60, 100.0, sigma=0.5, seed=5, lon0=-121.0, lat0=37.0)
    si = df.copy()
    for k in ("ve", "vn", "se", "sn"):
        si[k] = df[k] * 1e-3
    kw = {"knot_spacing_km": 25.0, "lon0": -121.0, "lat0": 37.0, "hyper_nodes": 1, "cv_folds": 5}
    out = {}
    for name, d in (("mm", df), ("m", si)):
        f = {r: fit_velocity_field(d, r, **kw).summary for r in ("elastic", "smoothness")}
        out[name] = (f["elastic"]["log_evidence"] - f["smoothness"]["log_evidence"],
                     f["elastic"]["cv_log_density"] - f["smoothness"]["cv_log_density"],
                     f["elastic"]["log_evidence"])
    assert abs(out["mm"][0] - out["m"][0]) < 0.5, out
    assert abs(out["mm"][1] - out["m"][1]) < 0.5, out
    shift = -2 * len(df) * np.log(1e-3)  # 2n data in a unit 1000 x larger: density x 1000^(2n)
    assert out["m"][2] - out["mm"][2] == pytest.approx(shift, abs=0.5)


@pytest.mark.parametrize("name,path,fmt,region", [
    ("norcal", "gnss/norcal_stationvels.txt", "norcal", None),
    ("japan", "gnss/midas_igs14_japan_geonet.vel", "midas",
     {"lon_min": 129.0, "lon_max": 146.0, "lat_min": 30.0, "lat_max": 46.0}),
])
def test_prior_rank_from_the_spectrum_matches_the_known_null_dimension(name, path, fmt, region):
    """Real networks (NorCal 284 stations at 25 km; GEONET Japan at 30 km, the paper config): the largest gap
    of the Rayleigh-Ritz-refined spectrum of R'R gives exactly the known null dimension (14 elastic, 6
    curvature), with a gap of >= 6 decades (a fixed 1e-10 relative cut counted 26 on Japan)."""
    from conftest import shared_file

    from sciml.gnss import strain as S
    from sciml.gnss.ingest import ingest

    p = shared_file(path)
    df, _ = ingest([{"path": path, "format": fmt, "columns": None, "units": "mm/yr", "plate_rotation": None}],
                   duplicates="mean", bad_rows="error", region=region, paths=[str(p)])
    ks = {"norcal": 25.0, "japan": 30.0}[name]
    xy, _, _ = project(df)
    lo, hi = xy.min(axis=0) - 25.0, xy.max(axis=0) + 25.0
    n_int = tuple(int(np.ceil((hi[i] - lo[i]) / ks)) for i in range(2))
    dom = (lo[0], lo[0] + n_int[0] * ks, lo[1], lo[1] + n_int[1] * ks)
    for reg, known in (("elastic", 14), ("smoothness", 6)):
        spec = S._problem(df, xy, dom, n_int, [], reg, 0.25, "curvature", 4).spectrum
        assert spec.known_null_dim == known
        assert spec.gap_null_dim == spec.null_dim == known, (name, reg, spec.gap_null_dim)
        assert spec.gap_decades >= 6.0, (name, reg, spec.gap_decades)


def test_student_t_noise_downweights_outliers_and_is_preferred():
    """Screw-dislocation field with 6 stations offset by 15 mm/yr (30 sigma): Student-t noise (nu = 4) gives
    those stations robust weights < 0.5 (and no more than 3 others), a higher evidence and CV density than
    Gaussian noise, and a smaller noise scale; the velocity field error drops."""
    df = synthetic_stations(100, 120.0, sigma=0.5, seed=7, lon0=-121.0, lat0=37.0)
    bad = np.arange(0, 60, 10)
    df.loc[bad, "ve"] += 15.0
    fit = fit_velocity_field(df, "smoothness", knot_spacing_km=25.0, lon0=-121.0, lat0=37.0, noise="student_t",
                             hyper_nodes=1, cv_folds=5)
    s = fit.summary
    low = np.flatnonzero(fit.station_weight < 0.5)
    assert set(bad) <= set(low) and len(low) <= len(bad) + 3, low
    assert s["log_evidence"] > s["log_evidence_gaussian"] + 20, s
    assert s["cv_log_density"] > s["cv_log_density_gaussian"], s
    assert s["sigma2"] < 0.5 * s["sigma2_gaussian"], s


def test_coverage_at_high_strain_nodes_of_a_locked_fault_synthetic():
    """Okada locked strike-slip fault + locked dipping thrust (sciml.okada.rectangle), 300 irregular stations,
    noise 0.5 mm/yr. Curvature smoothness, weight and noise scale integrated (5 x 5 grid): 2-sigma coverage
    of max shear at nodes within 25 km of a station where the exact max shear > 100 nanostrain/yr is >= 0.85
    with one level of local refinement (measured 0.89), where the uniform 25 km basis gives 0.68."""
    st = locked_fault_stations(300, 150.0, sigma=0.5, seed=0, lon0=-121.0, lat0=37.0)
    xy, _, _ = project(st, -121.0, 37.0)
    g = np.linspace(-140.0, 140.0, 29)
    X, Y = np.meshgrid(g, g)
    pts = np.column_stack([X.ravel(), Y.ravel()])
    pts = pts[cKDTree(xy).query(pts)[0] < 25.0]
    exact = strain_fields({k: 1000.0 * v for k, v in locked_faults(pts[:, 0], pts[:, 1]).items()
                           if k.startswith("d")})
    high = exact["max_shear"] > 100.0
    assert high.sum() > 100
    cover = {}
    for levels in (0, 1):
        fit = fit_velocity_field(st, "smoothness", knot_spacing_km=25.0, lon0=-121.0, lat0=37.0,
                                 refine_levels=levels, hyper_nodes=5, cv_folds=0)
        m, s = strain_at(fit, pts, n_samples=200, seed=1)
        z = np.abs(m["max_shear"] - exact["max_shear"]) / s["max_shear"]
        cover[levels] = (float(np.mean(z[high] < 2.0)), float(np.mean(z < 2.0)))
    assert cover[1][0] >= 0.85 and cover[1][1] >= 0.9, cover
    assert cover[0][0] < cover[1][0], cover


@pytest.mark.parametrize("nu", [0.25, 0.5])
def test_gpsgridder_verde_greens_functions_solve_the_pilm_elastic_operator(nu):
    """Sandwell & Wessel (2016) point-force Green's functions, as Verde's VectorSpline2D computes them (the ones
    gpsgridder uses), are null under PILM's elastic operator with the same Poisson ratio (central differences,
    h = 1e-3 at r ~ 1-3): so the gpsgridder/Verde baseline shares PILM's physics only when -S equals
    pilm.strain.poisson (default 0.25 for both)."""
    vector = pytest.importorskip("verde.vector")
    ops = regularizer_ops("elastic", nu)
    h = 1e-3
    pts = np.array([[1.3, 0.7], [-2.0, 1.1], [0.4, -2.5]])

    def field(p, force):  # (ve, vn) of a unit point force along east (0) or north (1) at the origin
        ee, nn, ne = vector.greens_func_2d(p[:, 0], p[:, 1], 0.0, nu)
        return (ee, ne) if force == 0 else (ne, nn)

    def deriv(p, force, comp, i, j):
        if i + j == 0:
            return field(p, force)[comp]
        if i > 0:
            d = np.array([h, 0.0])
            return (deriv(p + d, force, comp, i - 1, j) - deriv(p - d, force, comp, i - 1, j)) / (2 * h)
        d = np.array([0.0, h])
        return (deriv(p + d, force, comp, i, j - 1) - deriv(p - d, force, comp, i, j - 1)) / (2 * h)

    for force in (0, 1):
        for op in ops:
            val = sum(float(np.asarray(c)) * deriv(pts, force, f, *pq) for c, f, pq in op.terms)
            scale = sum(abs(float(np.asarray(c))) * np.abs(deriv(pts, force, f, *pq)) for c, f, pq in op.terms)
            assert np.all(np.abs(val) < 1e-5 * scale), (nu, force, val / scale)
    # the mismatch of the workflow's old pairing (gpsgridder -S0.5 under PILM's 0.25) is not null
    if nu == 0.5:
        other = regularizer_ops("elastic", 0.25)[0]
        val = sum(float(np.asarray(c)) * deriv(pts, 0, f, *pq) for c, f, pq in other.terms)
        assert np.max(np.abs(val)) > 1e-2
