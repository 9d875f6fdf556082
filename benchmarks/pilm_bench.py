"""Benchmark: PILM strain rates (fit + ABIC search + 100x100 grid with uncertainties) vs GMT gpsgridder.

Same PBO NAM08 stations and the same output grid in the same run. PILM returns velocities, strain rates,
their posterior standard deviations and the evidence; gpsgridder returns velocities (strain by finite
differences). Run:  .venv/bin/python benchmarks/pilm_bench.py [--region conus|wus] [--knot-km K] [--grid N]
Single-threaded BLAS (set below) so that the timing compares algorithms, not thread counts.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from sciml.gnss.gpsgridder import gmt_available, run_gpsgridder  # noqa: E402
from sciml.gnss.ingest import ingest  # noqa: E402
from sciml.gnss.strain import fit_velocity_field, output_grid, project, strain_on_grid  # noqa: E402
from sciml.pilm.model import D  # noqa: E402

REGIONS = {"conus": dict(lon_min=-130.0, lon_max=-60.0, lat_min=20.0, lat_max=52.0),
           "wus": dict(lon_min=-125.0, lon_max=-103.0, lat_min=31.0, lat_max=49.5)}
DATA = Path(os.environ.get("SCIML_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--region", choices=sorted(REGIONS), default="conus")
    ap.add_argument("--knot-km", type=float, default=None, help="B-spline knot spacing (default: ~2000 unknowns)")
    ap.add_argument("--grid", type=int, default=100, help="output nodes along the shorter side (>= this)")
    ap.add_argument("--reg", default="smoothness", choices=["smoothness", "elastic"])
    args = ap.parse_args()
    path = DATA / "gnss" / "pbo_nam08_feb2018.vel"
    if not path.exists():
        print(f"skip: {path} not present")
        return 0
    source = {"path": path, "format": "pbo", "columns": None, "units": "mm/yr", "plate_rotation": None}
    df, counts = ingest([source], duplicates="mean", region=REGIONS[args.region])
    xy0, _, _ = project(df)
    box = xy0.max(axis=0) - xy0.min(axis=0)
    spacing = float(box.min()) / (args.grid - 1)  # at least args.grid nodes along the shorter side
    lon0, lat0, extent, nx, ny = output_grid(df, 0.0, spacing)
    xy, _, _ = project(df, lon0, lat0)
    span = xy.max(axis=0) - xy.min(axis=0) + 2 * 25.0
    knot = args.knot_km or float(np.sqrt(span[0] * span[1] / 900.0))  # ~900 B-splines per component
    print(f"PBO NAM08 {args.region}: {len(df)} stations, grid {nx} x {ny}, knot spacing {knot:.0f} km")

    t0 = time.perf_counter()
    fit = fit_velocity_field(df, args.reg, knot_spacing_km=knot, margin_km=25.0, lon0=lon0, lat0=lat0)
    t1 = time.perf_counter()
    ds = strain_on_grid(fit, nx, ny, extent=extent, n_samples=100, seed=0)
    t2 = time.perf_counter()
    res = df["ve"].to_numpy() - fit.posterior.predict(fit.model.matrix(D((0, 0), 0), xy))[0]
    s = fit.summary
    rows = [("PILM " + args.reg, fit.model.n_coef, t1 - t0, t2 - t1, float(np.sqrt(np.mean(res**2))))]
    print(f"  PILM: log evidence {s['log_evidence']:.1f}, weight {s['weight']:.3g}, "
          f"sigma2 {s['sigma2']:.3g}; strain std median {np.nanmedian(ds['max_shear_std']):.1f} 1e-9/yr")
    if gmt_available():
        X, Y = np.meshgrid(np.linspace(extent[0], extent[1], nx), np.linspace(extent[2], extent[3], ny))
        nodes = np.vstack([np.column_stack([X.ravel(), Y.ravel()]), xy])
        t3 = time.perf_counter()
        v = run_gpsgridder(xy, df, nodes, poisson=0.25, fudge_km=8.0, eigen_percent=25.0)  # = PILM's poisson
        t4 = time.perf_counter()
        res_g = df["ve"].to_numpy() - v[nx * ny:, 0]
        rows.append(("gpsgridder", 2 * len(df), t4 - t3, 0.0, float(np.sqrt(np.mean(res_g**2)))))
    else:
        print("  gmt not installed: gpsgridder skipped")
    print(f"{'method':<18}{'unknowns':>9}{'fit+ABIC s':>12}{'grid+std s':>12}{'total s':>10}{'rms ve res':>12}")
    for name, m, tf, tg, r in rows:
        print(f"{name:<18}{m:>9d}{tf:>12.2f}{tg:>12.2f}{tf + tg:>10.2f}{r:>12.3f}")
    if len(rows) == 2:
        print(f"speed ratio gpsgridder / PILM (total): {(rows[1][2]) / (rows[0][2] + rows[0][3]):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
