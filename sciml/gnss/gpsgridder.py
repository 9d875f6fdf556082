"""Baseline: GMT ``gpsgridder`` (Sandwell & Wessel 2016, elastic Green's functions) on projected km coordinates.

Runs ``gmt gpsgridder`` (Debian package ``gmt``) on the stations' tangent-plane coordinates with the
velocity sigmas (-W, used with the SVD truncation -Cn<percent>%), evaluates at the output grid nodes
and at the stations (-N), and derives strain rates from the gridded velocities by second-order finite
differences (numpy.gradient), in the same units as :mod:`sciml.gnss.strain`.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sciml.errors import bad_value
from sciml.gnss.strain import NANOSTRAIN_PER_MM_YR_KM, strain_fields

__all__ = ["gmt_available", "run_gpsgridder", "gridded_strain"]


def gmt_available() -> bool:
    """True when the ``gmt`` executable is on PATH."""
    return shutil.which("gmt") is not None


def run_gpsgridder(xy_km: np.ndarray, df: pd.DataFrame, nodes_km: np.ndarray, *, poisson: float = 0.5,
                   fudge_km: float = 8.0, eigen_percent: float = 25.0, timeout: float = 3600.0) -> np.ndarray:
    """Velocities (n_nodes, 2) = (ve, vn) in mm/yr predicted by gpsgridder at nodes_km (km)."""
    if not gmt_available():
        raise bad_value("gpsgridder", "executable", "gmt", "not found on PATH (install Debian package gmt)")
    with tempfile.TemporaryDirectory(prefix="gpsgridder_") as tmp:
        tmp = Path(tmp)
        data = np.column_stack([xy_km, df["ve"], df["vn"], df["se"], df["sn"]])
        np.savetxt(tmp / "data.txt", data, fmt="%.6f")
        np.savetxt(tmp / "nodes.txt", nodes_km, fmt="%.6f")
        cmd = ["gmt", "gpsgridder", str(tmp / "data.txt"), f"-N{tmp / 'nodes.txt'}", f"-G{tmp / 'out.txt'}",
               f"-Fd{fudge_km}", f"-S{poisson}", f"-Cn{eigen_percent}%", "-W+s", "-Vq"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0 or not (tmp / "out.txt").exists():
            raise RuntimeError(f"gpsgridder failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
        out = np.loadtxt(tmp / "out.txt", ndmin=2)
    if out.shape != (len(nodes_km), 4):
        raise RuntimeError(f"gpsgridder returned {out.shape}, expected ({len(nodes_km)}, 4)")
    return out[:, 2:4]


def gridded_strain(gx: np.ndarray, gy: np.ndarray, ve: np.ndarray, vn: np.ndarray) -> dict[str, np.ndarray]:
    """Strain rates (1e-9 /yr) from velocities (mm/yr) on a regular (ny, nx) km grid by central differences."""
    dve_dy, dve_dx = np.gradient(ve, gy, gx)
    dvn_dy, dvn_dx = np.gradient(vn, gy, gx)
    s = NANOSTRAIN_PER_MM_YR_KM
    return strain_fields({"dve_dx": s * dve_dx, "dve_dy": s * dve_dy, "dvn_dx": s * dvn_dx, "dvn_dy": s * dvn_dy})
