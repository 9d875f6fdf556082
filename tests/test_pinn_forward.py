"""Reference solvers (fast marching, layered-model quadrature) vs analytic traveltimes; hypoDD reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sciml.errors import InputError
from sciml.forward.eikonal import Grid2D, factored_fast_marching, fast_marching, linear_gradient_traveltime, sample
from sciml.forward.traveltime import resample, traveltime, velocity_at
from sciml.picks.hypodd import pick_table, read_phase_file, read_stations, read_velocity_model

CALAVERAS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "picks" / "calaveras"


def test_fast_marching_converges_to_linear_gradient_analytic():
    """scikit-fmm traveltimes for v = 2 + 0.5 z converge (first order) to arccosh solution."""
    errs = []
    for h in (0.2, 0.1, 0.05):
        g = Grid2D.from_extent((0, 10), (0, 5), h)
        X, Z = g.mesh()
        t = fast_marching(1.0 / (2 + 0.5 * Z), g, (3.0, 1.0))
        errs.append(np.abs(t - linear_gradient_traveltime(X, Z, (3.0, 1.0), 2.0, 0.5)).max())
    assert errs[-1] < 5e-3
    assert errs[0] / errs[1] > 1.7 and errs[1] / errs[2] > 1.7


def test_factored_fast_marching_is_second_order_vs_linear_gradient_analytic():
    """The eikonal study's reference (eikonalfm, factored, 2nd order) vs the arccosh solution for v = 2 + 0.4 z on
    the study's box and source, sampled off the nodes: rel. L2 4.2e-5, 1.1e-5, 3.2e-6 at h = 0.1, 0.05, 0.025 km
    (ratio ~3.8 per halving: second order; scikit-fmm at h = 0.025: 8e-4)."""
    src = (3.0, 1.0)
    X, Z = np.meshgrid(np.linspace(0, 10, 101), np.linspace(0, 5, 51))
    ref = linear_gradient_traveltime(X, Z, src, 2.0, 0.4)
    errs = [np.linalg.norm(factored_fast_marching(lambda x, z: 2.0 + 0.4 * z, (0, 10), (0, 5), h, src)(X, Z) - ref)
            / np.linalg.norm(ref) for h in (0.1, 0.05, 0.025)]
    assert errs[-1] < 1e-5
    assert errs[0] / errs[1] > 3.0 and errs[1] / errs[2] > 3.0
    with pytest.raises(InputError, match="source"):
        factored_fast_marching(lambda x, z: 2.0 + 0 * x, (0, 10), (0, 5), 0.1, (11.0, 1.0))
    with pytest.raises(InputError, match="velocity"):
        factored_fast_marching(lambda x, z: 0 * x, (0, 10), (0, 5), 0.1, src)


def test_fast_marching_constant_velocity_and_bad_input():
    g = Grid2D.from_extent((0, 4), (0, 2), 0.02)
    X, Z = g.mesh()
    t = fast_marching(np.full(X.shape, 0.25), g, (1.0, 1.0))
    assert np.abs(t - 0.25 * np.hypot(X - 1, Z - 1)).max() < 2e-3
    assert abs(sample(t, g, np.array([3.0]), np.array([1.0]))[0] - 0.5) < 2e-3
    with pytest.raises(InputError, match="slowness"):
        fast_marching(np.zeros(X.shape), g, (1.0, 1.0))
    with pytest.raises(InputError, match="source"):
        fast_marching(np.ones(X.shape), g, (9.0, 1.0))


def test_layered_quadrature_converges_to_linear_gradient_analytic():
    """Thin-layer ray-parameter quadrature converges to the analytic v = 3 + 0.1 z traveltimes (with diving rays)."""
    x = np.linspace(0, 60, 13)
    ref = linear_gradient_traveltime(x, np.zeros_like(x), (0, 8.0), 3.0, 0.1)
    errs = [np.abs(traveltime(*resample(lambda z: 3 + 0.1 * z, 0, 60, h), 8.0, x) - ref).max() for h in (0.4, 0.1)]
    assert errs[1] < 1e-3 and errs[0] / errs[1] > 3


def test_two_layer_head_wave_textbook():
    """Surface source over a 5 km layer (4 km/s) on a 6 km/s half-space: direct, then head wave."""
    x = np.array([10.0, 20.0, 40.0, 80.0])
    t = traveltime(np.array([0.0, 5.0]), np.array([4.0, 6.0]), 0.0, x)
    head = x / 6 + 2 * 5 * np.sqrt(1 / 16 - 1 / 36)
    np.testing.assert_allclose(t, np.minimum(x / 4, head), rtol=1e-12)
    assert velocity_at(np.array([0.0, 5.0]), np.array([4.0, 6.0]), np.array([1.0, 7.0])).tolist() == [4.0, 6.0]


def test_hypodd_reader_errors(tmp_path):
    bad = tmp_path / "bad.pha"
    bad.write_text("# 1984 4 24 21 20 23.48 37.28 -121.66 6.30 3.57 0.12 0.24 0.04 16484\nNCCCO 1.73 1.0 X\n")
    with pytest.raises(InputError, match=r"bad.pha: line 2: field 'phase' = 'X'"):
        read_phase_file(bad)
    bad.write_text("NCCCO 1.73 1.0 P\n")
    with pytest.raises(InputError, match="before any"):
        read_phase_file(bad)
    bad.write_text("# 1984 4 24 21 20 23.48 37.28 -121.66 six 3.57 0.12 0.24 0.04 16484\n")
    with pytest.raises(InputError, match="depth_km"):
        read_phase_file(bad)
    with pytest.raises(InputError, match="not found"):
        read_stations(tmp_path / "none.sel")


@pytest.mark.skipif(not (CALAVERAS / "Calaveras.pha").exists(), reason="shared Calaveras picks absent")
def test_calaveras_files_parse_and_match_source_description():
    """Counts stated in SOURCE.txt: 308 events, 13,769 picks, 270 stations, 21 model layers."""
    cat = read_phase_file(CALAVERAS / "Calaveras.pha")
    st = read_stations(CALAVERAS / "station.sel")
    tops, vp = read_velocity_model(CALAVERAS / "velocity_model_1d.txt")
    assert len(cat.events) == 308 and len(cat.picks) == 13769 and len(st) == 270
    assert len(tops) == 21 and vp[0] == 2.5
    p = pick_table(cat, st, max_offset_km=40)
    assert len(p) > 5000 and p.offset_km.max() <= 40 and (p.weight > 0).all()
    c = p.attrs["counts"]  # every pick accounted for in exactly one count (issue 20; none silently dropped)
    assert c["picks"] == 13769 and c["used"] == len(p) and c["unknown_station"] == 210
    assert c["picks"] == sum(v for k, v in c.items() if k != "picks")


@pytest.mark.skipif(not (CALAVERAS / "Calaveras.pha").exists(), reason="shared Calaveras picks absent")
def test_calaveras_picks_do_not_single_out_the_published_model():
    """Why the issue-17 Calaveras goal (PINN v(z) within 5 % of the published model) is data-limited: the events
    are one tight cluster (each station sees it at one offset), so a static delay per station absorbs almost any
    change of v(z). Independent of the PINN (layered-model quadrature, statics = mean residual per station, all
    P picks within 40 km): the published model is not the best fit, a model 6 % faster below 2.4 km fits better,
    and a +-6 % change moves the station-corrected RMS by well under 1 ms."""
    from sciml.pinn.velocity1d import table_traveltimes

    p = pick_table(read_phase_file(CALAVERAS / "Calaveras.pha"), read_stations(CALAVERAS / "station.sel"),
                   phase="P", max_offset_km=40)
    tops, vp = read_velocity_model(CALAVERAS / "velocity_model_1d.txt")
    assert p.groupby("station").offset_km.std().median() < 0.5      # km: one offset per station
    codes = p.station.factorize()[0]

    def rms_with_statics(scale: float) -> float:
        v = np.where(tops >= 2.4, vp * scale, vp)
        res = p.traveltime_s.to_numpy() - table_traveltimes(tops, v, p.offset_km.to_numpy(), p.depth_km.to_numpy())
        statics = (np.bincount(codes, res) / np.bincount(codes))[codes]
        return float(np.sqrt(np.mean((res - statics) ** 2)))

    rms = {s: rms_with_statics(s) for s in (0.94, 1.0, 1.06)}
    assert rms[1.06] < rms[1.0] < rms[0.94]
    assert rms[0.94] - rms[1.06] < 1e-3                              # s
