"""Tohoku-grade slip inversion: the triangulated-interface reader and re-meshing (sciml.okada.mesh), triangular
dislocation Green's functions (sciml.okada.tde, cutde) against sciml's Okada, station local east/north/up
(pyproj meridian convergence), positivity and the truncated-Gaussian sampler (sciml.okada.slip), ABIC against
sciml.linear_inverse, the model-prediction covariance, coverage calibration, and the Tohoku steps on the shared
data (okada.slip_tohoku, okada.slip_resolution, figures)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from conftest import shared_file
from sciml.errors import InputError
from sciml.geo import lonlat_to_enu
from sciml.linear_inverse import abic_profile
from sciml.okada import greens_matrix, patch_grid
from sciml.okada.greens import laplacian_blocks
from sciml.okada.mesh import MapFrame, grid_laplacian, interface_patches, oriented_triangles, read_trimesh
from sciml.okada.slip import (SlipProblem, abic_curve, coefficient_design, coefficients_to_slip, gaussian_coverage,
                              prediction_covariance, rake_window, sample_truncated_gaussian, smoothing_operator)
from sciml.okada.tde import patch_matrix, tde_matrix

F64 = torch.float64
NODES, FACES = "slabs/japan_trench/japan_mesh_nodes.dat", "slabs/japan_trench/japan_mesh_faces.dat"


def _mesh():
    return read_trimesh(shared_file(NODES), shared_file(FACES))


# ------------------------------------------------------------------------------------------------------ mesh
def test_mesh_reader_and_remeshing_of_the_shared_slab_mesh():
    """The Slab 2.0 Japan Trench mesh as its SOURCE.txt describes it (1173 nodes, 2176 triangles, 0-55 km deep,
    34.3-42.2 N; the nodes reach 140.0 E, not the 140.4 E that SOURCE.txt states, up to 144.7 E); every triangle oriented with an upward normal; the 40 x 30 km re-meshing keeps
    every triangle in exactly one patch (areas add up) with a few hundred unknowns, and its Laplacian is full rank."""
    mesh = _mesh()
    assert (mesh.n_nodes, mesh.n_faces) == (1173, 2176)
    assert mesh.depth.min() == 0.0 and mesh.depth.max() == pytest.approx(55000.0)
    assert 139.9 < mesh.lon.min() < 140.5 and 144.6 < mesh.lon.max() < 144.8
    assert 34.2 < mesh.lat.min() < 34.4 and 42.1 < mesh.lat.max() < 42.3
    frame = MapFrame(142.5, 38.3)
    tris = oriented_triangles(mesh, frame)
    nz = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])[:, 2]
    assert np.all(nz > 0)
    P = interface_patches(mesh, frame, strike=200.0, cell_along_m=40e3, cell_down_m=30e3)
    area = 0.5 * np.linalg.norm(np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0]), axis=1)
    assert P.patch_of.min() == 0 and P.patch_of.max() == P.n - 1
    np.testing.assert_allclose(P.area.sum(), area.sum(), rtol=1e-12)
    assert 100 <= 2 * P.n <= 400  # "a few hundred parameters"
    assert np.all(P.depth > 0) and np.all((P.dip > 0) & (P.dip < 40))
    lap = P.laplacian(trench="free")
    assert np.linalg.matrix_rank(lap) == P.n


def test_mesh_reader_errors_name_file_line_and_field(tmp_path):
    nodes, faces = tmp_path / "nodes.dat", tmp_path / "faces.dat"
    nodes.write_text("1 142.0 38.0 -1000.0\n2 142.1 38.0 -2000.0\n3 142.0 38.1 x\n")
    faces.write_text("1 1 2 3\n")
    with pytest.raises(InputError, match=r"nodes.dat: line 3: field 'z' = 'x': not a number"):
        read_trimesh(nodes, faces)
    nodes.write_text("1 142.0 38.0 -1000.0\n2 142.1 38.0 -2000.0\n3 142.0 38.1 500.0\n")
    with pytest.raises(InputError, match=r"nodes.dat: line 3: field 'z' = 500.0: depth must be <= 0"):
        read_trimesh(nodes, faces)
    nodes.write_text("1 142.0 38.0 -1000.0\n2 142.1 38.0 -2000.0\n3 142.0 38.1 -3000.0\n")
    faces.write_text("1 1 2 4\n")
    with pytest.raises(InputError, match=r"faces.dat: line 1: field 'n3' = 4.0: not a node index in 1..3"):
        read_trimesh(nodes, faces)
    faces.write_text("1 1 2 2\n")
    with pytest.raises(InputError, match=r"faces.dat: line 1: .*three distinct nodes"):
        read_trimesh(nodes, faces)


def test_grid_laplacian_is_exact_for_a_quadratic_field():
    """Independent reference: on a uniform grid the 5-point Laplacian of x^2 is 2 (times the cell area) at
    interior patches, and equals sciml.okada.greens' planar Laplacian (zero-slip ghosts on every edge)."""
    grid = patch_grid(depth=1000.0, strike=10.0, dip=40.0, length=8000.0, width=5000.0, n_strike=6, n_dip=4)
    cen = grid.centroids().numpy()
    cell = (float(grid.length[0]), float(grid.width[0]))
    lap = grid_laplacian(grid.i_strike.numpy(), grid.i_dip.numpy(), cen, cell, trench="zero")
    ref = laplacian_blocks(grid)[: grid.n, : grid.n]
    np.testing.assert_allclose(lap, ref, rtol=1e-10, atol=1e-12)
    free = grid_laplacian(grid.i_strike.numpy(), grid.i_dip.numpy(), cen, cell, trench="free")
    top = grid.i_dip.numpy() == 0
    assert np.all(np.diag(free)[top] > np.diag(lap)[top]) and np.allclose(np.diag(free)[~top], np.diag(lap)[~top])


# ------------------------------------------------------------------------------------------------------- TDE
def test_tde_patches_equal_okada_on_rectangles_split_into_two_triangles():
    """cutde's half-space triangular dislocations, two per rectangle and summed per patch (sciml.okada.tde), equal
    sciml's Okada Green's functions (sciml.okada.greens_matrix) of the same patch grid for strike and dip slip,
    at surface stations, for shallow, moderate and steep dips: 1e-9 relative."""
    rng = np.random.default_rng(5)
    st = np.column_stack([rng.uniform(-60e3, 60e3, (40, 2)), np.zeros(40)])
    for strike, dip in ((200.0, 8.0), (30.0, 45.0), (120.0, 80.0)):
        grid = patch_grid(east=3000.0, north=-2000.0, depth=4000.0, strike=strike, dip=dip, length=40e3,
                          width=20e3, n_strike=3, n_dip=2)
        ref = greens_matrix(torch.tensor(st, dtype=F64), grid).numpy()
        phi, dl = math.radians(strike), math.radians(dip)
        s_hat = np.array([math.sin(phi), math.cos(phi), 0.0])
        d_hat = np.array([math.cos(phi) * math.cos(dl), -math.sin(phi) * math.cos(dl), -math.sin(dl)])
        top = np.stack([grid.east.numpy(), grid.north.numpy(), -grid.depth.numpy()], -1)
        L, W = grid.length.numpy()[:, None], grid.width.numpy()[:, None]
        a, b = top - 0.5 * L * s_hat, top + 0.5 * L * s_hat
        c, d = b + W * d_hat, a + W * d_hat
        tris = np.concatenate([np.stack([a, c, b], 1), np.stack([a, d, c], 1)])  # upward normals
        assert np.all(np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])[:, 2] > 0)
        got = patch_matrix(st, tris, np.tile(np.arange(grid.n), 2), grid.n)
        assert np.abs(got - ref).max() / np.abs(ref).max() < 1e-9, (strike, dip)
    # the raw triangle matrix has both slip modes
    assert tde_matrix(st[:3], tris[:1]).shape == (3, 3, 1, 2)


# ------------------------------------------------------------------------------------------------- local ENU
def test_local_enu_rotation_by_meridian_convergence():
    """Frame at the issue's planar-fault centre (143.85 E, 38.3 N): the meridian convergence at Oshika (141.50 E,
    38.30 N) is (lon - lon0) sin(lat) = 1.46 deg (spherical formula, to 0.01 deg), ~1.5 deg along the coast, and
    rotating Oshika's ~5.3 m eastward offset into local ENU moves 13 cm into north (the issue: up to 12.7 cm north
    at Oshika). Independent check of the rotation: a grid-frame displacement mapped back to lon/lat by pyproj
    and into local ENU by sciml.geo's ECEF tangent plane agrees with to_local_enu to the projection's scale."""
    frame = MapFrame(143.85, 38.3)
    g = math.degrees(float(frame.true_north_angle(141.50, 38.30)))
    assert abs(g) == pytest.approx((143.85 - 141.50) * math.sin(math.radians(38.30)), abs=0.01)
    lon_c = np.array([141.0, 141.5, 141.9, 141.8])  # Fukushima, Oshika, Miyako, Kuji coast
    lat_c = np.array([37.5, 38.3, 39.6, 40.2])
    conv = np.degrees(np.abs(frame.true_north_angle(lon_c, lat_c)))
    assert np.all((conv > 1.1) & (conv < 1.9))
    u = np.array([[5.3, -1.0, -1.0]])
    enu = frame.to_local_enu(np.array([141.5]), np.array([38.3]), u)
    assert abs(enu[0, 1] - u[0, 1]) == pytest.approx(0.13, abs=0.01)
    np.testing.assert_allclose(np.linalg.norm(enu[0, :2]), np.linalg.norm(u[0, :2]), rtol=1e-12)
    # independent path: move the station by the grid vector, back to lon/lat, local ENU by the ECEF tangent plane
    rng = np.random.default_rng(0)
    lon, lat = rng.uniform(139.5, 142.5, 20), rng.uniform(35.5, 41.0, 20)
    vec = np.column_stack([rng.normal(size=(20, 2)), np.zeros(20)])  # metres
    x, y = frame.xy(lon, lat)
    lon2, lat2 = frame.lonlat(x + vec[:, 0], y + vec[:, 1])
    ref = np.array([lonlat_to_enu(lon2[i], lat2[i], lon[i], lat[i]) for i in range(20)])
    k = frame.scale(lon, lat)[:, None]
    np.testing.assert_allclose(frame.to_local_enu(lon, lat, vec)[:, :2], ref * k, atol=1e-6)
    assert np.all(np.abs(k - 1) < 2e-3)  # within ~370 km of lon0: |k - 1| = x^2 / 2R^2 < 0.2 %


# ------------------------------------------------------------------------------------------ positivity, sampler
def test_truncated_gaussian_hmc_against_scipy_and_rejection_sampling():
    """Exact HMC for x >= 0 (Pakman & Paninski 2014): 1-D moments equal scipy.stats.truncnorm's; a correlated 2-D
    case equals plain rejection sampling of the untruncated Gaussian (independent reference); no draw is
    negative. Tolerances: 4 Monte-Carlo standard errors."""
    rng = np.random.default_rng(1)
    x, _ = sample_truncated_gaussian(np.array([-1.0]), np.array([[4.0]]), 4000, rng)
    ref = stats.truncnorm(0.5, np.inf, loc=-1.0, scale=2.0)
    se = ref.std() / math.sqrt(4000)
    assert abs(x.mean() - ref.mean()) < 4 * se and abs(x.std() - ref.std()) < 4 * se * 1.5
    assert x.min() >= 0.0
    mean, cov = np.array([0.5, -0.8]), np.array([[1.0, 0.7], [0.7, 1.5]])
    x, nb = sample_truncated_gaussian(mean, cov, 4000, rng, chains=16)
    z = rng.multivariate_normal(mean, cov, 400_000)
    z = z[(z >= 0).all(1)]
    se = z.std(0) / math.sqrt(4000)
    assert np.all(np.abs(x.mean(0) - z.mean(0)) < 4 * se) and np.all(x >= 0.0) and nb > 0
    assert np.all(np.abs(x.std(0) - z.std(0)) < 6 * se)


def test_nnls_slip_is_non_negative_and_optimal():
    """Positivity: the NNLS solution of the regularised problem is >= 0, reproduces scipy's bounded least squares
    (lsq_linear, an independent solver) and keeps the rake inside the window; the unconstrained mean of the same
    problem has negative coefficients (the oscillating null space positivity removes)."""
    from scipy.optimize import lsq_linear

    rng = np.random.default_rng(2)
    grid = patch_grid(depth=2000.0, strike=0.0, dip=20.0, length=60e3, width=30e3, n_strike=6, n_dip=3)
    st = torch.tensor(np.column_stack([rng.uniform(-50e3, 50e3, (30, 2)), np.zeros(30)]), dtype=F64)
    T = rake_window(90.0, 45.0)
    A = coefficient_design(greens_matrix(st, grid).numpy(), T)
    R = smoothing_operator(laplacian_blocks(grid)[: grid.n, : grid.n], T)
    truth = np.zeros(A.shape[1])
    truth[[3, 4, 21, 22]] = 2.0
    d = A @ truth + 0.01 * rng.standard_normal(A.shape[0])
    prob = SlipProblem(A / 0.01, d / 0.01, R)
    w = 10.0 ** -3
    a = prob.nnls(w)
    ref = lsq_linear(np.vstack([prob.G, math.sqrt(w) * R]), np.concatenate([prob.d, np.zeros(R.shape[0])]),
                     bounds=(0, np.inf), method="bvls", tol=1e-12)
    assert a.min() >= 0 and prob.objective(a, w) == pytest.approx(prob.objective(ref.x, w), rel=1e-8)
    ss, ds = coefficients_to_slip(a, T)
    rake = np.degrees(np.arctan2(ds, ss))[np.hypot(ss, ds) > 1e-6]
    assert np.all((rake >= 45 - 1e-6) & (rake <= 135 + 1e-6))
    assert prob.gaussian(w)[0].min() < 0


def test_abic_curve_matches_linear_inverse_and_has_interior_minimum():
    """The unconstrained ABIC of sciml.okada.slip equals sciml.linear_inverse.abic_profile (independent
    implementation: QR/generalised eigen of the PILM module) at every grid weight; the constrained ABIC is never
    below it at its own minimum (positivity costs misfit) and the synthetic case's minimum is interior."""
    rng = np.random.default_rng(3)
    grid = patch_grid(depth=2000.0, strike=0.0, dip=25.0, length=60e3, width=30e3, n_strike=6, n_dip=3)
    st = torch.tensor(np.column_stack([rng.uniform(-50e3, 50e3, (25, 2)), np.zeros(25)]), dtype=F64)
    T = rake_window(90.0, 45.0)
    A = coefficient_design(greens_matrix(st, grid).numpy(), T)
    R = smoothing_operator(laplacian_blocks(grid)[: grid.n, : grid.n], T)
    r2 = (grid.along.numpy() / 15e3) ** 2 + ((grid.down.numpy() - 15e3) / 10e3) ** 2
    s = 3.0 * np.exp(-r2)
    truth = np.concatenate([s, s]) / math.sqrt(2)
    d = A @ truth + 0.005 * rng.standard_normal(A.shape[0])
    prob = SlipProblem(A / 0.005, d / 0.005, R)
    curve = abic_curve(prob, (-6.0, 6.0), 25)
    ref = abic_profile(prob.G, prob.d, R, curve.log10_w)
    np.testing.assert_allclose(curve.abic_unconstrained, ref, rtol=1e-9)
    assert curve.interior and np.all(curve.abic >= curve.abic_unconstrained - 1e-6)
    assert curve.posterior.sum() == pytest.approx(1.0)


def test_prediction_covariance_matches_monte_carlo_of_a_depth_perturbation():
    """Duputel et al. (2014) C_p = sigma^2 (K a)(K a)^T from the finite-difference sensitivity K = dG/dz of a
    triangular-dislocation fault equals the sample covariance of the predictions of 400 faults shifted by
    z ~ N(0, 300 m) (independent: direct cutde evaluations): the leading eigenvalue to 10 %, the direction to
    cos > 0.99; plus the diagonal relative term (eps G a)^2."""
    rng = np.random.default_rng(4)
    st = np.column_stack([rng.uniform(-40e3, 40e3, (12, 2)), np.zeros(12)])
    tri0 = np.array([[[-10e3, -10e3, -8e3], [10e3, -10e3, -8e3], [0.0, 10e3, -4e3]]])
    a = np.array([1.0, 2.0])

    def pred(shift):
        t = tri0.copy()
        t[..., 2] -= shift
        return np.einsum("nkpm,m->nk", patch_matrix(st, t, np.array([0]), 1), a).reshape(-1)

    h, sig = 1.0, 300.0
    K = (pred(h) - pred(0.0)) / h
    Cp = prediction_covariance(np.zeros((K.size, 2)), [(K[:, None] * np.array([[1.0, 0.0]]) / a[0], sig)], a)
    mc = np.cov(np.array([pred(z) for z in rng.normal(0.0, sig, 400)]).T)
    lam, vec = np.linalg.eigh(Cp)
    lam_mc, vec_mc = np.linalg.eigh(mc)
    assert lam[-1] == pytest.approx(lam_mc[-1], rel=0.1) and abs(vec[:, -1] @ vec_mc[:, -1]) > 0.99
    G = rng.normal(size=(5, 2))
    np.testing.assert_allclose(np.diag(prediction_covariance(G, [], a, relative=0.1)), (0.1 * G @ a) ** 2)


def test_coverage_is_calibrated_on_truths_drawn_from_the_prior():
    """The Gaussian slip posterior (ABIC weight re-chosen per draw) covers truths drawn from its own prior at the
    nominal rates: pooled over 30 draws of a 10 x 5 patch problem, 0.683 and 0.954 within 1 and 2 sd to +-0.05
    and +-0.03 (tolerances from the spread of the draws, ~3 standard errors)."""
    rng = np.random.default_rng(6)
    grid = patch_grid(depth=1000.0, strike=0.0, dip=30.0, length=40e3, width=20e3, n_strike=10, n_dip=5)
    st = torch.tensor(np.column_stack([rng.uniform(-40e3, 40e3, (100, 2)), np.zeros(100)]), dtype=F64)
    G = greens_matrix(st, grid).numpy()
    Gm = np.concatenate([G[..., 0].reshape(300, -1), G[..., 1].reshape(300, -1)], 1)
    sig = np.tile([0.003, 0.003, 0.008], 100)
    cov = gaussian_coverage(Gm, sig, laplacian_blocks(grid), 0.5, 30, rng, log10_bounds=(-8.0, 8.0))
    assert abs(cov[:, 0].mean() - 0.683) < 0.05 and abs(cov[:, 1].mean() - 0.954) < 0.03


# ---------------------------------------------------------------------------------------------- Tohoku steps
def test_tohoku_slab_steps_on_the_shared_data(tmp_path):
    """okada.slip_tohoku at the default configuration on the Ozawa et al. (2011) offsets and the Slab 2.0 mesh,
    then okada.slip_resolution and both figures. Bar of issue 15: the ABIC minimum is inside the search range
    (no tailored bound) for the slab and the plane; the slab is favoured by ABIC; MAP peak slip off Miyagi
    (37.5-39 N, 142.5-143.6 E) with Mw within 0.15 of 9.0. Measured (default config): log10 w -2.05, peak 39.1 m at
    143.09 E 38.31 N, Mw 9.01 (90 %: 9.02-9.06), dABIC(plane - slab) 1248. Thresholds are bounds around those."""
    from sciml.io.netcdf import metrics_of, read_dataset
    from sciml.studies import get_step
    from sciml.config import defaults
    from sciml.studies.run import run_step

    cfg = get_step("okada.slip_tohoku").slice(defaults())
    cfg["posterior"]["samples"] = 64
    inputs = {"gps": shared_file("coseismic/tohoku_2011/ozawa2011_geonet_coseismic_tableS1.txt"),
              "mesh_nodes": shared_file(NODES), "mesh_faces": shared_file(FACES)}
    out = tmp_path / "slip_tohoku.nc"
    run_step("okada.slip_tohoku", cfg, seed=20261126, inputs=inputs, outputs={"nc": out})
    ds = read_dataset(out)
    m = {k: v[0] for k, v in metrics_of(ds).items()}
    assert m["weight_interior"] == 1 and m["other_weight_interior"] == 1
    assert "inside the search range" in ds.attrs["weight_choice"] and ds.attrs["weight_decided_by_bound"] == 0
    assert m["delta_abic_plane_minus_slab"] > 100
    assert 37.5 < m["peak_lat"] < 39.0 and 142.5 < m["peak_lon"] < 143.6
    assert 20.0 < m["peak_slip"] < 50.0 and abs(m["mw"] - 9.0) < 0.15
    assert m["mw_p05"] <= m["mw_p95"] and np.all(ds["sample_slip"].values >= 0)
    assert ds["slip_p05"].min() >= 0 and 0.01 < m["enu_rotation_max"] < 0.3
    res = tmp_path / "resolution.nc"
    run_step("okada.slip_resolution", get_step("okada.slip_resolution").slice(defaults()), seed=1,
             inputs={"nc": out}, outputs={"nc": res})
    r = {k: v[0] for k, v in metrics_of(read_dataset(res)).items()}
    assert r["checker_weight_interior"] == 1 and r["checker_correlation"] > 0.2 and r["spike_correlation"] > 0.2
    # Why the peak lies above the published onshore-GNSS range (issue 15: "or the difference is explained with
    # evidence"): the same MAP without C_p. Its row "default" must equal okada.slip_tohoku's MAP (one code path).
    # Published reference: okada.slip.tohoku.published_peak_slip_m (24-35 m; Ozawa et al. 2011, Hashimoto et al.
    # 2012, Iinuma et al. 2011). Measured (default config): C_d only 30.4 m, ABIC 540 above the default's.
    sens_cfg = get_step("okada.slip_sensitivity").slice(defaults())
    sens_cfg["variants"] = {k: v for k, v in sens_cfg["variants"].items() if k == "cd_only"}
    sens = tmp_path / "sensitivity.nc"
    run_step("okada.slip_sensitivity", sens_cfg, seed=1, inputs=inputs, outputs={"nc": sens})
    sv = read_dataset(sens).set_index(variant="variant")
    lo, hi = ds.attrs["published_peak_slip_m"]
    assert list(sv["variant"].values) == ["default", "cd_only"]
    assert sv["peak_slip"].sel(variant="default") == pytest.approx(m["peak_slip"], rel=1e-9)
    assert sv["abic"].sel(variant="default") == pytest.approx(m["abic"], rel=1e-9)
    assert not lo <= m["peak_slip"] <= hi  # the default misses the published range (documented, not hidden) ...
    cd = {k: float(sv[k].sel(variant="cd_only")) for k in ("peak_slip", "delta_abic", "mw", "weight_interior")}
    assert lo <= cd["peak_slip"] <= hi and cd["peak_slip"] < m["peak_slip"] - 5.0  # ... C_d alone lands inside it
    assert cd["delta_abic"] > 100 and cd["weight_interior"] == 1 and abs(cd["mw"] - 9.0) < 0.15
    assert read_dataset(sens).attrs["abic_best_variant"] == "default"
    for step, src in (("okada.figure_slip", out), ("okada.figure_slip_resolution", res),
                      ("okada.figure_slip_sensitivity", sens)):
        png = tmp_path / f"{step}.png"
        run_step(step, {}, seed=0, inputs={"nc": src}, outputs={"png": png})
        assert png.stat().st_size > 20_000


def test_sensitivity_variants_are_checked_against_the_tohoku_schema_before_any_work(tmp_path):
    """An override with an unknown or invalid okada.slip.tohoku key, or a variant named 'default', stops the step
    with the variant's config key before any file is read (the inputs here do not exist)."""
    from sciml.config import ConfigError, defaults
    from sciml.studies import get_step
    from sciml.studies.run import run_step

    cfg = get_step("okada.slip_sensitivity").slice(defaults())
    missing = {k: str(tmp_path / f"{k}.txt") for k in ("gps", "mesh_nodes", "mesh_faces")}
    for variants, expect in (
            ({"typo": {"description": "x", "overrides": {"prediction_eror": {"relative": 0.1}}}},
             ["okada.slip.sensitivity.variants.typo.overrides", "prediction_eror", "prediction_error"]),
            ({"neg": {"description": "x", "overrides": {"prediction_error": {"relative": -1}}}},
             ["okada.slip.sensitivity.variants.neg.overrides", "okada.slip.tohoku.prediction_error.relative", "-1"]),
            ({"default": {"description": "x", "overrides": {}}}, ["okada.slip.sensitivity.variants.default", "reserved"])):
        with pytest.raises((ConfigError, InputError)) as err:
            run_step("okada.slip_sensitivity", {**cfg, "variants": variants}, seed=0, inputs=missing,
                     outputs={"nc": tmp_path / "s.nc"})
        for text in expect:
            assert text in str(err.value), (text, str(err.value))
        assert not (tmp_path / "s.nc").exists()


def test_acceptance_check_of_the_tohoku_peak_uses_the_published_range():
    """config.yaml's tohoku_peak_slip check and the figures' band are the same range (one published value)."""
    from sciml.config import defaults, lookup

    cfg = defaults()
    check = cfg["acceptance"]["tohoku_peak_slip"]
    assert [check["min"], check["max"]] == lookup(cfg, "okada.slip.tohoku.published_peak_slip_m")
